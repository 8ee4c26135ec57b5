"""The branch condition language: what it accepts, how it evaluates, and what it refuses."""

from __future__ import annotations

import pytest

from ivr_engine.flow.expr import ExprSyntaxError, parse_expr


@pytest.mark.parametrize(
    ("text", "variables", "expected"),
    [
        ('vip == "1"', {"vip": "1"}, True),
        ('vip == "1"', {}, False),
        ("tries >= 3", {"tries": "3"}, True),
        ("tries >= 3", {"tries": "2"}, False),
        ("tries < 3", {"tries": "abc"}, False),
        ("balance > 1000.5", {"balance": "1234.56"}, True),
        ("code == 1", {"code": "01"}, True),
        ("a and not b", {"a": "yes", "b": "0"}, True),
        ("a or b", {"a": "", "b": ""}, False),
        ("(a or b) and c", {"a": "1", "c": "x"}, True),
        ('d in ["1", "2", 3]', {"d": "3"}, True),
        ('d not in ["1", "2"]', {"d": "1"}, False),
        ('"hip" in status', {"status": "shipped"}, True),
        ("flag == true", {"flag": "1"}, True),
        ("x != 'it\\'s'", {"x": "it's"}, False),
        ("name", {"name": "Alice"}, True),
    ],
)
def test_conditions_evaluate(text: str, variables: dict[str, str], expected: bool) -> None:
    assert parse_expr(text).evaluate(variables) is expected


def test_variables_are_listed() -> None:
    assert parse_expr('vip == "1" and (tries > 2 or x in [y, "z"])').variables() == {"vip", "tries", "x", "y"}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("__import__('os').system('true')", 'unexpected ".system'),
        ("caller_id.__class__", "unexpected '.__class__'"),
        ("1 + 1 == 2", "unexpected '+ 1 == 2' at column 3"),
        ("len(x) > 1", "expected end of condition"),
        ("a ==", "found end of condition"),
        ("(a == 1", "expected ')'"),
        ("x in [1, 2", "expected ','"),
        ("lambda: 1", "unexpected ':"),
        ("", "empty condition"),
        ("a" * 600, "longer than"),
    ],
)
def test_unsafe_or_malformed_conditions_are_rejected(text: str, message: str) -> None:
    with pytest.raises(ExprSyntaxError) as caught:
        parse_expr(text)
    assert message in str(caught.value)


@pytest.mark.parametrize(
    ("source", "variables", "ours"),
    [
        ("tries >= 3", {"tries": "3"}, True),
        ('n < "9"', {"n": "10"}, False),
        ("x == 1", {"x": "01"}, True),
        ('agent_queue == "billing"', {}, False),
    ],
)
def test_why_conditions_are_not_jinja_expressions(source: str, variables: dict[str, str], ours: bool) -> None:
    """docs/flows.md: on string variables Jinja2 raises or answers differently; this language does not."""
    import jinja2
    from jinja2.sandbox import SandboxedEnvironment

    assert parse_expr(source).evaluate(variables) is ours
    jinja = SandboxedEnvironment(undefined=jinja2.StrictUndefined).compile_expression(source)
    try:
        theirs = jinja(**variables)
    except (TypeError, jinja2.UndefinedError):
        return
    assert theirs is not ours
