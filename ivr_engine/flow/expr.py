"""The branch condition language: a tiny tokenizer, recursive-descent parser and evaluator.

Nothing here calls ``eval``; the grammar is all there is::

    expr    := or
    or      := and ("or" and)*
    and     := not ("and" not)*
    not     := "not" not | compare
    compare := operand (("==" | "!=" | "<" | "<=" | ">" | ">=" | "in" | "not in") operand)?
    operand := NAME | STRING | NUMBER | "true" | "false" | "[" operand ("," operand)* "]" | "(" expr ")"

Variables are strings; an unset variable is ``""``. Ordering compares numbers (both sides must read
as decimals, otherwise the comparison is false); ``==`` compares numerically when both sides are
numbers (``"01" == 1``), else as text. A bare value is true unless it is ``""``, ``"0"`` or ``false``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

__all__ = ["Expr", "ExprSyntaxError", "parse_expr"]

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<number>\d+(?:\.\d+)?)
      | (?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
      | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
      | (?P<op>==|!=|<=|>=|<|>|\(|\)|\[|\]|,)
    )""",
    re.VERBOSE,
)
_KEYWORDS = frozenset({"and", "or", "not", "in", "true", "false"})
_COMPARE = frozenset({"==", "!=", "<", "<=", ">", ">=", "in", "not in"})
_MAX_LENGTH = 500


class ExprSyntaxError(ValueError):
    """A condition that does not parse; the message says where."""


@dataclass(frozen=True)
class _Token:
    kind: str  # number | string | name | op | keyword | end
    text: str
    pos: int


@dataclass(frozen=True)
class _Literal:
    value: str | bool


@dataclass(frozen=True)
class _Var:
    name: str


@dataclass(frozen=True)
class _List:
    items: tuple[_Operand, ...]


@dataclass(frozen=True)
class _Not:
    operand: _Node


@dataclass(frozen=True)
class _Bool:
    op: str  # and | or
    left: _Node
    right: _Node


@dataclass(frozen=True)
class _Compare:
    op: str
    left: _Node
    right: _Node


_Operand = _Literal | _Var | _List
_Node = _Literal | _Var | _List | _Not | _Bool | _Compare
_Value = str | bool | tuple[str | bool, ...]


def _tokenize(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    pos = 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        match = _TOKEN.match(text, pos)
        if match is None or match.end() == pos:
            column = len(text) - len(text[pos:].lstrip()) + 1
            raise ExprSyntaxError(f"unexpected {text[pos:].strip()[:10]!r} at column {column}")
        kind = match.lastgroup or ""
        value = match.group(kind)
        start = match.start(kind)
        if kind == "name" and value in _KEYWORDS:
            kind = "keyword"
        tokens.append(_Token(kind, value, start))
        pos = match.end()
    tokens.append(_Token("end", "", len(text)))
    return tokens


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = _tokenize(text)
        self.index = 0

    @property
    def current(self) -> _Token:
        return self.tokens[self.index]

    def _take(self) -> _Token:
        token = self.current
        self.index += 1
        return token

    def _at(self, *texts: str) -> bool:
        token = self.current
        return token.kind in ("op", "keyword") and token.text in texts

    def _expect(self, text: str) -> None:
        if not self._at(text):
            self._fail(f"expected {text!r}")
        self.index += 1

    def _fail(self, message: str) -> None:
        token = self.current
        found = "end of condition" if token.kind == "end" else repr(token.text)
        raise ExprSyntaxError(f"{message}, found {found} at column {token.pos + 1}")

    def parse(self) -> _Node:
        node = self._or()
        if self.current.kind != "end":
            self._fail("expected end of condition")
        return node

    def _or(self) -> _Node:
        node = self._and()
        while self._at("or"):
            self.index += 1
            node = _Bool("or", node, self._and())
        return node

    def _and(self) -> _Node:
        node = self._not()
        while self._at("and"):
            self.index += 1
            node = _Bool("and", node, self._not())
        return node

    def _not(self) -> _Node:
        if self._at("not"):
            self.index += 1
            return _Not(self._not())
        return self._compare()

    def _compare(self) -> _Node:
        left = self._operand()
        op: str | None = None
        if self._at("==", "!=", "<", "<=", ">", ">=", "in"):
            op = self._take().text
        elif self._at("not") and self.tokens[self.index + 1].text == "in":
            self.index += 2
            op = "not in"
        if op is None:
            return left
        return _Compare(op, left, self._operand())

    def _operand(self) -> _Node:
        token = self.current
        if token.kind == "number":
            self.index += 1
            return _Literal(token.text)
        if token.kind == "string":
            self.index += 1
            return _Literal(_unquote(token.text))
        if token.kind == "name":
            self.index += 1
            return _Var(token.text)
        if self._at("true", "false"):
            self.index += 1
            return _Literal(token.text == "true")
        if self._at("("):
            self.index += 1
            node = self._or()
            self._expect(")")
            return node
        if self._at("["):
            self.index += 1
            items: list[_Operand] = []
            while not self._at("]"):
                item = self._operand()
                if not isinstance(item, _Literal | _Var):
                    self._fail("expected a value in the list")
                assert isinstance(item, _Literal | _Var)
                items.append(item)
                if not self._at("]"):
                    self._expect(",")
            self.index += 1
            return _List(tuple(items))
        self._fail("expected a value, a variable or '('")
        raise AssertionError("unreachable")  # pragma: no cover


def _unquote(text: str) -> str:
    body = text[1:-1]
    return re.sub(r"\\(.)", r"\1", body)


def _number(value: _Value) -> Decimal | None:
    if not isinstance(value, str):
        return None
    try:
        return Decimal(value) if re.fullmatch(r"-?\d+(\.\d+)?", value.strip()) else None
    except InvalidOperation:  # pragma: no cover - the regex admits only valid decimals
        return None


def _truthy(value: _Value) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, tuple):
        return bool(value)
    return value not in ("", "0", "false")


def _equal(left: _Value, right: _Value) -> bool:
    ln, rn = _number(left), _number(right)
    if ln is not None and rn is not None:
        return ln == rn
    if isinstance(left, bool) or isinstance(right, bool):
        return _truthy(left) == _truthy(right)
    return left == right


def _compare(op: str, left: _Value, right: _Value) -> bool:
    if op == "==":
        return _equal(left, right)
    if op == "!=":
        return not _equal(left, right)
    if op in ("in", "not in"):
        if isinstance(right, tuple):
            found = any(_equal(left, item) for item in right)
        else:
            found = isinstance(left, str) and isinstance(right, str) and left in right
        return found if op == "in" else not found
    ln, rn = _number(left), _number(right)
    if ln is None or rn is None:
        return False
    return {"<": ln < rn, "<=": ln <= rn, ">": ln > rn, ">=": ln >= rn}[op]


def _evaluate(node: _Node, variables: Mapping[str, str]) -> _Value:
    if isinstance(node, _Literal):
        return node.value
    if isinstance(node, _Var):
        return variables.get(node.name, "")
    if isinstance(node, _List):
        items: list[str | bool] = []
        for item in node.items:
            value = _evaluate(item, variables)
            assert not isinstance(value, tuple)
            items.append(value)
        return tuple(items)
    if isinstance(node, _Not):
        return not _truthy(_evaluate(node.operand, variables))
    if isinstance(node, _Bool):
        left = _truthy(_evaluate(node.left, variables))
        if node.op == "and":
            return left and _truthy(_evaluate(node.right, variables))
        return left or _truthy(_evaluate(node.right, variables))
    return _compare(node.op, _evaluate(node.left, variables), _evaluate(node.right, variables))


def _names(node: _Node) -> set[str]:
    if isinstance(node, _Var):
        return {node.name}
    if isinstance(node, _List):
        return set().union(*(_names(item) for item in node.items)) if node.items else set()
    if isinstance(node, _Not):
        return _names(node.operand)
    if isinstance(node, _Bool | _Compare):
        return _names(node.left) | _names(node.right)
    return set()


@dataclass(frozen=True)
class Expr:
    """A parsed condition; ``evaluate`` never runs code, it walks the tree."""

    text: str
    tree: _Node

    def evaluate(self, variables: Mapping[str, str]) -> bool:
        return _truthy(_evaluate(self.tree, variables))

    def variables(self) -> frozenset[str]:
        return frozenset(_names(self.tree))


def parse_expr(text: str) -> Expr:
    """Parse a condition or raise ``ExprSyntaxError`` saying what and where."""
    if len(text) > _MAX_LENGTH:
        raise ExprSyntaxError(f"condition longer than {_MAX_LENGTH} characters")
    if not text.strip():
        raise ExprSyntaxError("empty condition")
    try:
        return Expr(text, _Parser(text).parse())
    except RecursionError:
        raise ExprSyntaxError("condition nested too deeply") from None
