"""Loading flow files: typed nodes with their source lines, and one FlowError listing every problem."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from ivr_engine.channel import DtmfKey
from ivr_engine.flow.errors import FlowError
from ivr_engine.flow.loader import load_flow
from ivr_engine.flow.model import Speech
from ivr_engine.flow.nodes.gather import GatherNode
from ivr_engine.flow.nodes.menu import MenuNode

from .conftest import FlowMaker


def test_nodes_are_typed_and_remember_their_line(make_flow: FlowMaker) -> None:
    flow = make_flow(
        """
        flow: demo
        defaults: {retries: 4, timeout: 7}
        nodes:
          menu:
            type: menu
            prompt: [a, b]
            text: "Hi {{ caller_id }}"
            choices: {1: pin, "#": menu}
            on_fail: pin
          pin:
            type: gather
            into: pin
            sensitive: true
            terminator: none
            next: menu
            on_fail: menu
        """
    )
    menu, pin = flow.nodes["menu"], flow.nodes["pin"]
    assert isinstance(menu, MenuNode)
    assert isinstance(pin, GatherNode)
    assert (flow.name, flow.start) == ("demo", "menu")
    assert menu.source.line == 5
    assert pin.source.line == 11
    assert menu.speech == Speech(("a", "b"), "Hi {{ caller_id }}")
    assert dict(menu.choices) == {DtmfKey.ONE: "pin", DtmfKey.POUND: "menu"}
    assert (menu.retries, menu.timeout) == (4, 7.0)
    assert pin.terminator is None
    assert pin.sensitive


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "t.yaml:1: the file is empty"),
        ("nodes: [\n", "t.yaml:2: not valid YAML"),
        ("- a\n- b\n", "t.yaml:1: a flow file is a mapping with 'nodes'"),
        ("flow: x\n", "t.yaml:1: missing required field 'nodes'"),
        ("nodes:\n  a: {type: play, next: a, volume: 3}\n", "t.yaml:2: node 'a': unknown field 'volume'"),
        ("nodes:\n  a: {type: dance}\n", "t.yaml:2: node 'a': unknown node type 'dance'"),
        ("nodes:\n  a: {type: play}\n", "t.yaml:2: node 'a': missing required field 'next'"),
        (
            "nodes:\n  a:\n    type: play\n    next: b\n",
            "t.yaml:2: node 'a': exit 'next' goes to node 'b', which does not exist",
        ),
        (
            "nodes:\n  a:\n    type: menu\n    choices:\n      1: a\n      1: a\n    on_fail: a\n",
            "t.yaml:6: node 'a': duplicate menu digit '1' (first at line 5)",
        ),
        (
            "nodes:\n  a:\n    type: gather\n    into: x\n    max_digits: many\n"
            "    next: a\n    on_fail: a\n",
            "t.yaml:5: node 'a': 'max_digits' must be a number",
        ),
        (
            "nodes:\n  a:\n    type: branch\n    when:\n      - if: x ==\n        goto: a\n    else: a\n",
            "t.yaml:5: node 'a': condition 'x ==':",
        ),
        (
            "nodes:\n  a:\n    type: play\n    text: '{{ x'\n    next: a\n",
            "t.yaml:4: node 'a': template error",
        ),
        (
            "nodes:\n  a:\n    type: hours\n    timezone: Mars/Olympus\n    weekly: {mon: 9-5}\n"
            "    open: a\n    closed: a\n",
            "t.yaml:4: node 'a': unknown time zone 'Mars/Olympus'",
        ),
        (
            "nodes:\n  a:\n    type: transfer\n    queue: q\n    completed: a\n",
            "t.yaml:2: node 'a': transfer needs 'next' or an exit for every outcome",
        ),
        ("start: z\nnodes:\n  a: {type: hangup}\n", "t.yaml:1: start node 'z' does not exist"),
        (
            "nodes:\n  a:\n    type: branch\n    when: []\n    else: a\n",
            "t.yaml:4: node 'a': 'when' must be a list of {if: CONDITION, goto: NODE}",
        ),
        (
            "nodes:\n  a:\n    type: branch\n    when:\n      - 5\n    else: a\n",
            "t.yaml:5: node 'a': each 'when' entry is {if: CONDITION, goto: NODE}",
        ),
        (
            "nodes:\n  a:\n    type: branch\n    when:\n      - {if: x, goto: a, then: a}\n    else: a\n",
            "t.yaml:5: node 'a': unknown field 'then' in a 'when' entry",
        ),
        (
            "nodes:\n  a:\n    type: survey\n    survey: s\n    questions: nope\n    next: a\n",
            "t.yaml:5: node 'a': 'questions' must be a list of {id: NAME, prompt: PROMPT_ID}",
        ),
        (
            "nodes:\n  a:\n    type: survey\n    survey: s\n    questions:\n      - q1\n    next: a\n",
            "t.yaml:6: node 'a': each question is {id: NAME, prompt: PROMPT_ID}",
        ),
        (
            "nodes:\n  a:\n    type: survey\n    survey: s\n    questions:\n"
            "      - {id: q1, prompt: p, weight: 2}\n    next: a\n",
            "t.yaml:6: node 'a': unknown field 'weight' in a survey question",
        ),
    ],
)
def test_broken_flows_raise_one_flow_error_with_file_and_line(
    write_flow: Callable[..., Path], text: str, expected: str
) -> None:
    path = write_flow(text)
    with pytest.raises(FlowError) as caught:
        load_flow(path)
    messages = [str(p).replace(str(path.parent) + "/", "") for p in caught.value.problems]
    assert any(m.startswith(expected) for m in messages), messages


def test_every_problem_is_listed_not_just_the_first(write_flow: Callable[..., Path]) -> None:
    path = write_flow("nodes:\n  a: {type: dance}\n  b: {type: play}\n  c: {type: play, next: a, x: 1}\n")
    with pytest.raises(FlowError) as caught:
        load_flow(path)
    assert [p.line for p in caught.value.problems] == [2, 3, 4]
    assert str(caught.value).startswith("3 problems in flow:")


def test_unreadable_file_is_a_flow_error(tmp_path: Path) -> None:
    with pytest.raises(FlowError, match="cannot read flow"):
        load_flow(tmp_path / "missing.yaml")


def test_the_shipped_flows_load(tmp_path: Path) -> None:
    from ivr_engine.flow.library import FlowLibrary

    library = FlowLibrary.from_paths([Path(__file__).parents[2] / "flows"])
    assert {"main", "balance", "order_status", "points", "voicemail", "survey"} <= set(library.names())
