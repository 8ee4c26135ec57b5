"""The typed JSON reads shared by the control API views and screen-pops, and the domain errors they feed."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from ivr_engine.control.errors import MalformedReply
from ivr_engine.control.views import AgentView
from ivr_engine.json_values import as_float, as_int, as_mappings, as_opt_int, as_str
from ivr_engine.screenpop import ScreenPop
from ivr_engine.screenpop.errors import MalformedScreenPop


def test_reads_return_the_value_as_its_type() -> None:
    assert as_str("x") == "x"
    assert as_int(3) == 3
    assert as_opt_int(None) is None
    assert as_float(2) == 2.0
    assert isinstance(as_float(2), float)
    assert as_mappings([{"a": 1}]) == [{"a": 1}]


@pytest.mark.parametrize(
    ("read", "value", "message"),
    [
        (as_int, True, "expected an integer, got bool"),
        (as_float, False, "expected a number, got bool"),
        (as_str, 1, "expected text, got int"),
        (as_mappings, {"a": 1}, "expected a list, got dict"),
        (as_mappings, [1], "expected an object, got int"),
    ],
)
def test_reads_refuse_the_wrong_type(read: Callable[[object], object], value: object, message: str) -> None:
    with pytest.raises(TypeError, match=message):
        read(value)


def test_a_wrong_field_is_the_domain_error() -> None:
    with pytest.raises(MalformedReply, match="malformed agent: expected text, got int"):
        AgentView.from_json({"id": 1})
    with pytest.raises(MalformedScreenPop, match="not a screen-pop: expected an object, got list"):
        ScreenPop.from_json([])
