"""Flow files -> ``Flow``: schema checks with file:line, one ``FlowError`` listing every problem.

Layout of a flow file (see docs/flows.md)::

    flow: balance            # optional, defaults to the file name
    description: ...
    start: welcome           # optional, defaults to the first node
    defaults: {retries: 3, timeout: 5, inter_digit_timeout: 3, language: en}
    nodes:
      welcome: {type: play, prompt: balance_welcome, next: ask_account}
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, time
from pathlib import Path
from typing import TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ivr_engine.channel import DtmfKey, SayKind
from ivr_engine.flow.errors import FlowError, Problem
from ivr_engine.flow.expr import ExprSyntaxError, parse_expr
from ivr_engine.flow.model import (
    BranchNode,
    CallNode,
    Condition,
    Flow,
    FlowDefaults,
    GatherNode,
    GotoNode,
    HangupNode,
    HoursNode,
    LookupNode,
    MenuNode,
    Node,
    OpenRange,
    PlayNode,
    RecordNode,
    ReturnNode,
    SayNode,
    SetNode,
    Source,
    Speech,
    SurveyNode,
    SurveyQuestion,
    TransferNode,
)
from ivr_engine.flow.ports import TransferOutcome
from ivr_engine.flow.templates import template_error
from ivr_engine.flow.yamlsource import Located, parse_yaml

__all__ = ["NODE_TYPES", "ParsedFlow", "load_flow", "parse_flow"]

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_RANGE = re.compile(r"(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\Z")
_T = TypeVar("_T")


@dataclass(frozen=True)
class _Where:
    id: str
    source: Source


class _Invalid(Exception):
    """A field could not be read; the problem is already recorded."""


class _Fields:
    """Reads one YAML mapping field by field, recording problems against the node."""

    def __init__(self, item: Located, file: str, node: str, problems: list[Problem]) -> None:
        assert isinstance(item.value, dict)
        self.values: dict[str, Located] = item.value
        self.item = item
        self.file = file
        self.node = node
        self.problems = problems
        self.seen: set[str] = set()
        self.failed = False
        self.anchor_line = item.line  # where node-level problems point (the node's id line)
        self._report_duplicates(item, "field")

    def _report_duplicates(self, item: Located, what: str) -> None:
        for key, line in item.duplicates:
            first = item.key_lines.get(key, item.line)
            self.error(line, f"duplicate {what} {key!r} (first at line {first})")

    def line(self, key: str) -> int:
        return self.item.key_lines.get(key, self.anchor_line)

    def error(self, line: int, message: str) -> None:
        self.problems.append(Problem(self.file, line, self.node, message))
        self.failed = True

    def _get(self, key: str) -> Located | None:
        self.seen.add(key)
        return self.values.get(key)

    def _missing(self, key: str) -> _Invalid:
        self.error(self.anchor_line, f"missing required field '{key}'")
        return _Invalid()

    def has(self, key: str) -> bool:
        return key in self.values

    def raw(self, key: str) -> Located | None:
        return self._get(key)

    def text(self, key: str, default: str | None = None, *, required: bool = False) -> str | None:
        found = self._get(key)
        if found is None:
            if required:
                raise self._missing(key)
            return default
        if (
            isinstance(found.value, bool)
            or found.value is None
            or not isinstance(found.value, str | int | float)
        ):
            self.error(found.line, f"'{key}' must be text")
            raise _Invalid()
        return str(found.value)

    def required(self, key: str) -> str:
        value = self.text(key, required=True)
        assert value is not None
        return value

    def name(self, key: str, *, required: bool = True, default: str | None = None) -> str | None:
        value = self.text(key, default, required=required)
        if value is not None and not _IDENT.match(value):
            self.error(self.line(key), f"'{key}' must be a name (letters, digits, _), got {value!r}")
            raise _Invalid()
        return value

    def target(self, key: str) -> str:
        value = self.name(key)
        assert value is not None
        return value

    def optional_target(self, key: str) -> str | None:
        return self.name(key, required=False)

    def number(self, key: str, default: _T, kind: Callable[[float], _T], minimum: float = 0) -> _T:
        found = self._get(key)
        if found is None:
            return default
        if isinstance(found.value, bool) or not isinstance(found.value, int | float):
            self.error(found.line, f"'{key}' must be a number")
            raise _Invalid()
        if not math.isfinite(found.value):
            self.error(found.line, f"'{key}' must be a finite number")
            raise _Invalid()
        value = kind(found.value)
        if float(found.value) < minimum:
            self.error(found.line, f"'{key}' must be at least {minimum:g}")
            raise _Invalid()
        return value

    def flag(self, key: str, default: bool) -> bool:
        found = self._get(key)
        if found is None:
            return default
        if not isinstance(found.value, bool):
            self.error(found.line, f"'{key}' must be true or false")
            raise _Invalid()
        return found.value

    def mapping(self, key: str, *, required: bool = False, what: str = "key") -> dict[str, Located]:
        found = self._get(key)
        if found is None:
            if required:
                raise self._missing(key)
            return {}
        if not isinstance(found.value, dict):
            self.error(found.line, f"'{key}' must be a mapping")
            raise _Invalid()
        self._report_duplicates(found, what)
        return found.value

    def key(self, key: str) -> DtmfKey | None:
        found = self._get(key)
        if found is None:
            return DtmfKey.POUND
        if found.value is None or found.value == "none":
            return None
        try:
            return DtmfKey(str(found.value))
        except ValueError:
            self.error(found.line, f"'{key}' must be one DTMF key (# * 0-9) or none")
            raise _Invalid() from None

    def template(self, key: str, *, required: bool = False) -> str | None:
        value = self.text(key, required=required)
        if value is not None:
            self.check_template(self.line(key), value)
        return value

    def check_template(self, line: int, value: str) -> None:
        problem = template_error(value)
        if problem:
            self.error(line, problem)

    def speech_fields(self, prompt_key: str = "prompt", text_key: str = "text") -> Speech:
        prompts = self._prompt_ids(prompt_key)
        return Speech(prompts, self.template(text_key))

    def speech(self, key: str) -> Speech:
        found = self._get(key)
        if found is None:
            return Speech()
        return self.speech_value(found, key)

    def speech_value(self, found: Located, key: str) -> Speech:
        if isinstance(found.value, dict):
            nested = _Fields(found, self.file, self.node, self.problems)
            speech = nested.speech_fields()
            nested.finish(f"'{key}'")
            self.failed |= nested.failed
            return speech
        return Speech(self._ids(found, key))

    def _prompt_ids(self, key: str) -> tuple[str, ...]:
        found = self._get(key)
        return () if found is None else self._ids(found, key)

    def _ids(self, found: Located, key: str) -> tuple[str, ...]:
        items = found.value if isinstance(found.value, list) else [found]
        ids: list[str] = []
        for item in items:
            if not isinstance(item.value, str) or not re.fullmatch(r"[a-z0-9_]+", item.value):
                self.error(item.line, f"'{key}' must be prompt ids ([a-z0-9_]+), got {item.value!r}")
                raise _Invalid()
            ids.append(item.value)
        return tuple(ids)

    def finish(self, what: str) -> None:
        for key in self.values:
            if key not in self.seen:
                known = ", ".join(sorted(self.seen - {"type"}))
                self.error(self.line(key), f"unknown field '{key}' in {what} (known: {known})")

    def entries(
        self, key: str, shape: str, entry: str, what: str, read: Callable[[_Fields], _T | None]
    ) -> list[_T]:
        """Read each entry of the required non-empty list ``key`` (each a mapping ``shape``) with
        ``read``, which returns None when it recorded its own problem; ``entry`` and ``what`` name an
        entry in the problems (``each {entry} is {shape}``, ``unknown field ... in {what}``)."""
        found = self.raw(key)
        if found is None or not isinstance(found.value, list) or not found.value:
            self.error(self.line(key), f"'{key}' must be a list of {shape}")
            raise _Invalid()
        values: list[_T] = []
        for item in found.value:
            if not isinstance(item.value, dict):
                self.error(item.line, f"each {entry} is {shape}")
                continue
            fields = _Fields(item, self.file, self.node, self.problems)
            try:
                value = read(fields)
            except _Invalid:
                self.failed = True
                continue
            if value is not None:
                values.append(value)
            fields.finish(what)
            self.failed |= fields.failed
        return values


def _play(f: _Fields, b: _Where, d: FlowDefaults) -> Node:
    return PlayNode(
        id=b.id,
        source=b.source,
        speech=f.speech_fields(),
        barge_in=f.flag("barge_in", False),
        next=f.target("next"),
    )


def _menu(f: _Fields, b: _Where, d: FlowDefaults) -> Node:
    choices: dict[DtmfKey, str] = {}
    for digit, target in f.mapping("choices", required=True, what="menu digit").items():
        line = target.line
        try:
            key = DtmfKey(digit)
        except ValueError:
            f.error(line, f"menu choice {digit!r} is not one DTMF key (0-9 * #)")
            continue
        if not isinstance(target.value, str) or not _IDENT.match(target.value):
            f.error(line, f"menu choice {digit!r} must name a node")
            continue
        choices[key] = target.value
    return MenuNode(
        id=b.id,
        source=b.source,
        speech=f.speech_fields(),
        choices=choices,
        retries=f.number("retries", d.retries, int),
        timeout=f.number("timeout", d.timeout, float, 0.5),
        invalid_speech=f.speech("invalid"),
        no_input_speech=f.speech("no_input"),
        on_fail=f.target("on_fail"),
    )


def _gather(f: _Fields, b: _Where, d: FlowDefaults) -> Node:
    pattern = f.text("pattern")
    if pattern is not None:
        try:
            re.compile(pattern)
        except (re.error, OverflowError) as exc:
            f.error(f.line("pattern"), f"'pattern' is not a valid regular expression: {exc}")
        except RecursionError:
            f.error(f.line("pattern"), "'pattern' is not a valid regular expression: nested too deeply")
    min_digits = f.number("min_digits", 1, int, 1)
    max_digits = f.number("max_digits", 20, int, 1)
    if min_digits > max_digits:
        f.error(f.line("min_digits"), f"min_digits {min_digits} is more than max_digits {max_digits}")
    return GatherNode(
        id=b.id,
        source=b.source,
        speech=f.speech_fields(),
        into=f.target("into"),
        min_digits=min_digits,
        max_digits=max_digits,
        terminator=f.key("terminator"),
        timeout=f.number("timeout", d.timeout, float, 0.5),
        inter_digit_timeout=f.number("inter_digit_timeout", d.inter_digit_timeout, float, 0.5),
        pattern=pattern,
        sensitive=f.flag("sensitive", False),
        retries=f.number("retries", d.retries, int),
        invalid_speech=f.speech("invalid"),
        no_input_speech=f.speech("no_input"),
        next=f.target("next"),
        on_fail=f.target("on_fail"),
    )


def _lookup(f: _Fields, b: _Where, d: FlowDefaults) -> Node:
    params: dict[str, str] = {}
    for name, value in f.mapping("params").items():
        if not isinstance(value.value, str | int) or isinstance(value.value, bool):
            f.error(value.line, f"lookup parameter {name!r} must be text or a template")
            continue
        f.check_template(value.line, str(value.value))
        params[name] = str(value.value)
    into: dict[str, str] = {}
    for name, value in f.mapping("into").items():
        if not isinstance(value.value, str) or not _IDENT.match(value.value):
            f.error(value.line, f"'into' maps result field {name!r} to a variable name")
            continue
        into[name] = value.value
    return LookupNode(
        id=b.id,
        source=b.source,
        query=f.required("query"),
        params=params,
        into=into,
        found=f.target("found"),
        not_found=f.target("not_found"),
        error=f.target("error"),
    )


def _branch(f: _Fields, b: _Where, d: FlowDefaults) -> Node:
    def condition(entry: _Fields) -> Condition | None:
        source = entry.required("if")
        target = entry.target("goto")
        try:
            return Condition(parse_expr(source), target, entry.item.line)
        except ExprSyntaxError as exc:
            entry.error(entry.line("if"), f"condition {source!r}: {exc}")
            return None

    conditions = f.entries("when", "{if: CONDITION, goto: NODE}", "'when' entry", "a 'when' entry", condition)
    return BranchNode(id=b.id, source=b.source, conditions=tuple(conditions), otherwise=f.target("else"))


def _set(f: _Fields, b: _Where, d: FlowDefaults) -> Node:
    values: dict[str, str] = {}
    for name, value in f.mapping("values", required=True).items():
        line = value.line
        if not _IDENT.match(name):
            f.error(line, f"'{name}' is not a variable name")
            continue
        if isinstance(value.value, bool) or not isinstance(value.value, str | int | float):
            f.error(line, f"value of {name!r} must be text, a number or a template")
            continue
        f.check_template(line, str(value.value))
        values[name] = str(value.value)
    return SetNode(id=b.id, source=b.source, values=values, next=f.target("next"))


def _say(f: _Fields, b: _Where, d: FlowDefaults) -> Node:
    kind_text = f.required("kind")
    try:
        kind = SayKind(kind_text)
    except ValueError:
        f.error(f.line("kind"), f"'kind' must be one of {', '.join(k.value for k in SayKind)}")
        raise _Invalid() from None
    value = f.template("value", required=True)
    assert value is not None
    return SayNode(
        id=b.id,
        source=b.source,
        kind=kind,
        value=value,
        speech=f.speech_fields(),
        after=f.speech("after"),
        next=f.target("next"),
    )


def _goto(f: _Fields, b: _Where, d: FlowDefaults) -> Node:
    return GotoNode(id=b.id, source=b.source, target=f.target("goto"))


def _call(f: _Fields, b: _Where, d: FlowDefaults) -> Node:
    flow = f.name("flow")
    assert flow is not None
    return CallNode(id=b.id, source=b.source, flow=flow, next=f.target("next"))


def _return(f: _Fields, b: _Where, d: FlowDefaults) -> Node:
    return ReturnNode(id=b.id, source=b.source)


def _transfer(f: _Fields, b: _Where, d: FlowDefaults) -> Node:
    skills: dict[str, int] = {}
    for skill, level in f.mapping("skills").items():
        if isinstance(level.value, bool) or not isinstance(level.value, int) or not 1 <= level.value <= 10:
            f.error(level.line, f"skill {skill!r} needs a level from 1 to 10")
            continue
        skills[skill] = level.value
    priority = f.raw("priority")
    priority_text = "0"
    if priority is not None:
        if isinstance(priority.value, bool) or not isinstance(priority.value, int | str):
            f.error(priority.line, "'priority' must be a whole number or a template giving one")
        else:
            priority_text = str(priority.value)
            f.check_template(priority.line, priority_text)
    exits: dict[TransferOutcome, str] = {}
    for outcome in TransferOutcome:
        target = f.optional_target(outcome.value)
        if target is not None:
            exits[outcome] = target
    fallback = f.optional_target("next")
    missing = [o.value for o in TransferOutcome if o not in exits]
    if missing and fallback is None:
        f.error(
            f.anchor_line,
            f"transfer needs 'next' or an exit for every outcome (missing: {', '.join(missing)})",
        )
    return TransferNode(
        id=b.id,
        source=b.source,
        queue=f.required("queue"),
        skills=skills,
        priority=priority_text,
        speech=f.speech_fields(),
        exits=exits,
        next=fallback,
    )


def _record(f: _Fields, b: _Where, d: FlowDefaults) -> Node:
    return RecordNode(
        id=b.id,
        source=b.source,
        speech=f.speech_fields(),
        max_seconds=f.number("max_seconds", 120.0, float, 1),
        beep=f.flag("beep", True),
        terminator=f.key("terminator"),
        mailbox=f.template("mailbox"),
        next=f.target("next"),
        empty=f.optional_target("empty"),
    )


def _survey(f: _Fields, b: _Where, d: FlowDefaults) -> Node:
    def question(entry: _Fields) -> SurveyQuestion:
        question_id = entry.name("id")
        assert question_id is not None
        return SurveyQuestion(question_id, entry.speech_fields())

    shape = "{id: NAME, prompt: PROMPT_ID}"
    questions = f.entries("questions", shape, "question", "a survey question", question)
    return SurveyNode(
        id=b.id,
        source=b.source,
        survey=f.name("survey", required=False, default=f.node) or f.node,
        questions=tuple(questions),
        retries=f.number("retries", d.retries, int),
        timeout=f.number("timeout", d.timeout, float, 0.5),
        invalid_speech=f.speech("invalid"),
        no_input_speech=f.speech("no_input"),
        next=f.target("next"),
    )


def _ranges(f: _Fields, item: Located, day: str) -> tuple[OpenRange, ...]:
    raw = item.value if isinstance(item.value, list) else [item]
    ranges: list[OpenRange] = []
    for entry in raw:
        if entry.value == "closed":
            continue
        match = _RANGE.match(str(entry.value)) if isinstance(entry.value, str) else None
        if match is None:
            f.error(entry.line, f"hours for {day} must look like 09:00-17:30 (or 'closed')")
            continue
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        try:
            start, end = time(h1, m1), time(h2, m2) if (h2, m2) != (24, 0) else time.max
        except ValueError:
            f.error(entry.line, f"hours for {day}: {entry.value!r} is not a time of day")
            continue
        if end <= start:
            f.error(entry.line, f"hours for {day}: {entry.value!r} ends before it starts")
            continue
        ranges.append(OpenRange(start, end))
    return tuple(ranges)


def _hours(f: _Fields, b: _Where, d: FlowDefaults) -> Node:
    zone = f.required("timezone")
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        f.error(f.line("timezone"), f"unknown time zone {zone!r} (use an IANA name such as Europe/London)")
    weekly: dict[int, tuple[OpenRange, ...]] = {}
    for day, item in f.mapping("weekly", required=True).items():
        if day not in _WEEKDAYS:
            f.error(item.line, f"unknown weekday {day!r} (use {', '.join(_WEEKDAYS)})")
            continue
        weekly[_WEEKDAYS.index(day)] = _ranges(f, item, day)
    holidays: set[date] = set()
    found = f.raw("holidays")
    for entry in found.value if found is not None and isinstance(found.value, list) else []:
        value = entry.value
        try:
            holidays.add(value if isinstance(value, date) else date.fromisoformat(str(value)))
        except ValueError:
            f.error(entry.line, f"holiday {value!r} is not a date (YYYY-MM-DD)")
    if found is not None and not isinstance(found.value, list):
        f.error(found.line, "'holidays' must be a list of dates (YYYY-MM-DD)")
    return HoursNode(
        id=b.id,
        source=b.source,
        timezone=zone,
        weekly=weekly,
        holidays=frozenset(holidays),
        open=f.target("open"),
        closed=f.target("closed"),
    )


def _hangup(f: _Fields, b: _Where, d: FlowDefaults) -> Node:
    return HangupNode(id=b.id, source=b.source, speech=f.speech_fields())


_Builder = Callable[[_Fields, _Where, FlowDefaults], Node]
_BUILDERS: dict[str, _Builder] = {
    "play": _play,
    "menu": _menu,
    "gather": _gather,
    "lookup": _lookup,
    "branch": _branch,
    "set": _set,
    "say": _say,
    "goto": _goto,
    "call": _call,
    "return": _return,
    "transfer": _transfer,
    "record": _record,
    "survey": _survey,
    "hours": _hours,
    "hangup": _hangup,
}
NODE_TYPES: frozenset[str] = frozenset(_BUILDERS)


class ParsedFlow:
    """A flow file's parse: the flow (if the top level was readable), its problems, every node id."""

    def __init__(self, flow: Flow | None, problems: list[Problem], node_ids: frozenset[str]) -> None:
        self.flow = flow
        self.problems = problems
        self.node_ids = node_ids


def _defaults(top: _Fields) -> FlowDefaults:
    found = top.raw("defaults")
    if found is None:
        return FlowDefaults()
    if not isinstance(found.value, dict):
        top.error(found.line, "'defaults' must be a mapping")
        return FlowDefaults()
    f = _Fields(found, top.file, "", top.problems)
    try:
        defaults = FlowDefaults(
            retries=f.number("retries", 2, int),
            timeout=f.number("timeout", 5.0, float, 0.5),
            inter_digit_timeout=f.number("inter_digit_timeout", 3.0, float, 0.5),
            language=f.text("language", "en") or "en",
        )
    except _Invalid:
        return FlowDefaults()
    f.finish("'defaults'")
    return defaults


def _nodes(top: _Fields, defaults: FlowDefaults) -> Iterator[Node]:
    for node_id, item in top.mapping("nodes", required=True, what="node id").items():
        line = item.line if not isinstance(item.value, dict) else top.values["nodes"].key_lines[node_id]
        if not _IDENT.match(node_id):
            top.problems.append(Problem(top.file, line, node_id, "node ids are names (letters, digits, _)"))
            continue
        if not isinstance(item.value, dict):
            top.problems.append(Problem(top.file, line, node_id, "a node is a mapping with a 'type'"))
            continue
        f = _Fields(item, top.file, node_id, top.problems)
        f.anchor_line = line
        node_type = item.value.get("type")
        type_name = node_type.value if node_type is not None else None
        if not isinstance(type_name, str) or type_name not in _BUILDERS:
            f.error(line, f"unknown node type {type_name!r} (known: {', '.join(sorted(_BUILDERS))})")
            continue
        f.seen.add("type")
        where = _Where(node_id, Source(top.file, line))
        try:
            node = _BUILDERS[type_name](f, where, defaults)
        except _Invalid:
            continue  # fields after the bad one were never read: do not call them unknown
        f.finish(f"a {type_name} node")
        if not f.failed:
            yield node


def parse_flow(path: Path, display: str | None = None) -> ParsedFlow:
    """Read and check one flow file's schema; never raises for the file's content."""
    file = display or str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        line = exc.object[: exc.start].count(b"\n") + 1
        problem = Problem(file, line, "", f"not UTF-8 text: {exc.reason} (byte {exc.object[exc.start]:#04x})")
        return ParsedFlow(None, [problem], frozenset())
    except OSError as exc:
        return ParsedFlow(None, [Problem(file, 0, "", f"cannot read flow: {exc}")], frozenset())
    root, yaml_problems = parse_yaml(text)
    problems = [Problem(file, p.line, "", p.message) for p in yaml_problems]
    if root is None:
        return ParsedFlow(None, problems, frozenset())
    if not isinstance(root.value, dict):
        problems.append(Problem(file, root.line, "", "a flow file is a mapping with 'nodes'"))
        return ParsedFlow(None, problems, frozenset())
    top = _Fields(root, file, "", problems)
    nodes: dict[str, Node] = {}
    defaults = _defaults(top)
    try:
        name = top.name("flow", required=False, default=path.stem) or path.stem
        description = top.text("description", "") or ""
        nodes = {node.id: node for node in _nodes(top, defaults)}
        start = top.name("start", required=False)
    except _Invalid:
        return ParsedFlow(None, problems, frozenset(nodes))
    top.finish("the flow file")
    raw_nodes = top.values.get("nodes")
    ordered_ids = list(raw_nodes.value) if raw_nodes is not None and isinstance(raw_nodes.value, dict) else []
    node_ids = frozenset(ordered_ids)
    if start is None:
        start = ordered_ids[0] if ordered_ids else ""
    if not node_ids:
        problems.append(Problem(file, root.line, "", "the flow has no nodes"))
    elif start not in node_ids:
        problems.append(Problem(file, top.line("start"), "", f"start node {start!r} does not exist"))
    flow = Flow(name=name, path=path, start=start, defaults=defaults, nodes=nodes, description=description)
    return ParsedFlow(flow, problems, node_ids)


def load_flow(path: Path) -> Flow:
    """Load a flow for running: schema problems and bad targets raise one ``FlowError``."""
    parsed = parse_flow(path)
    problems = list(parsed.problems)
    if parsed.flow is not None:
        for node in parsed.flow.nodes.values():
            for exit_name, target in node.targets():
                if target not in parsed.node_ids:
                    problems.append(
                        Problem(
                            str(path),
                            node.source.line,
                            node.id,
                            f"exit '{exit_name}' goes to unknown node {target!r}",
                        )
                    )
    if problems or parsed.flow is None:
        raise FlowError(problems)
    return parsed.flow
