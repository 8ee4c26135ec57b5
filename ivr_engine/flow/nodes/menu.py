"""``menu``: one key chooses the next node; a bad or no key re-prompts ``retries`` times, then ``on_fail``."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from ivr_engine.channel import DtmfKey
from ivr_engine.flow.checks import NodeChecks
from ivr_engine.flow.fields import IDENT, Fields
from ivr_engine.flow.model import NO_SPEECH, Flow, FlowDefaults, NodeBase, Speech
from ivr_engine.flow.nodes.base import (
    SPEECH_FIELDS,
    NodeSpec,
    Where,
    schema_name,
    schema_number,
    schema_speech,
)
from ivr_engine.flow.nodes.keys import ask_one_key, failure
from ivr_engine.flow.runtime import CallState
from ivr_engine.flow.steps import Step

__all__ = ["RETRIES", "SPEC", "TIMEOUT", "MenuNode"]

RETRIES = schema_number("re-prompts after the first try", 0, 20, integer=True)
TIMEOUT = schema_number("seconds to wait for a key", 0.5, 600)


@dataclass(frozen=True, kw_only=True)
class MenuNode(NodeBase):
    type_name = "menu"
    speech: Speech
    choices: Mapping[DtmfKey, str]
    retries: int
    timeout: float
    invalid_speech: Speech = NO_SPEECH
    no_input_speech: Speech = NO_SPEECH
    on_fail: str

    def targets(self) -> Iterator[tuple[str, str]]:
        for key, target in self.choices.items():
            yield key.value, target
        yield "fail", self.on_fail

    @property
    def takes_input(self) -> bool:
        return True

    def speeches(self) -> Iterator[Speech]:
        yield from (self.speech, self.invalid_speech, self.no_input_speech)


def read(f: Fields, where: Where, defaults: FlowDefaults) -> MenuNode:
    choices: dict[DtmfKey, str] = {}
    for digit, target in f.mapping("choices", required=True, what="menu digit").items():
        try:
            key = DtmfKey(digit)
        except ValueError:
            f.error(target.line, f"menu choice {digit!r} is not one DTMF key (0-9 * #)")
            continue
        if not isinstance(target.value, str) or not IDENT.match(target.value):
            f.error(target.line, f"menu choice {digit!r} must name a node")
            continue
        choices[key] = target.value
    return MenuNode(
        id=where.id,
        source=where.source,
        speech=f.speech_fields(),
        choices=choices,
        retries=f.number("retries", defaults.retries, int, 0, 20),
        timeout=f.number("timeout", defaults.timeout, float, 0.5, 600),
        invalid_speech=f.speech("invalid"),
        no_input_speech=f.speech("no_input"),
        on_fail=f.target("on_fail"),
    )


async def run(node: MenuNode, call: CallState, flow: Flow) -> Step:
    digits, chosen = await ask_one_key(
        call,
        node.speech,
        retries=node.retries,
        key_timeout=node.timeout,
        accepted=lambda keys: bool(keys.keys) and keys.keys[0] in node.choices,
        invalid=node.invalid_speech,
        no_input=node.no_input_speech,
    )
    if chosen:
        target = node.choices[digits.keys[0]]
        return Step(target, target, digits.text)
    return Step(failure(digits), node.on_fail, digits.text or None)


def check(node: MenuNode, checks: NodeChecks) -> None:
    if node.choices and DtmfKey("0") not in node.choices:
        checks.warn(node, "menu has no '0' choice: callers expect 0 to reach an agent")


SPEC = NodeSpec(
    cls=MenuNode,
    fields={
        **SPEECH_FIELDS,
        "choices": {
            "type": "object",
            "propertyNames": {"enum": [*"0123456789*#"]},
            "additionalProperties": schema_name("the node this key leads to"),
            "description": "key -> node",
        },
        "retries": RETRIES,
        "timeout": TIMEOUT,
        "invalid": schema_speech("said after a key that is no choice"),
        "no_input": schema_speech("said after silence"),
        "on_fail": schema_name("the node after the last failed try"),
    },
    required=("choices", "on_fail"),
    read=read,
    run=run,
    check=check,
    description="One key chooses the next node.",
)
