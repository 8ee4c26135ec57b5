"""``gather``: digits into a variable, checked for count and ``pattern``; retries, then ``on_fail``."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from ivr_engine.channel import Digits, DtmfKey
from ivr_engine.flow.fields import Fields
from ivr_engine.flow.model import NO_SPEECH, Flow, FlowDefaults, NodeBase, Speech
from ivr_engine.flow.nodes.base import (
    SPEECH_FIELDS,
    NodeSpec,
    Where,
    schema_key,
    schema_name,
    schema_number,
    schema_speech,
)
from ivr_engine.flow.nodes.keys import failure, retry_prompt
from ivr_engine.flow.nodes.menu import RETRIES, TIMEOUT
from ivr_engine.flow.patterns import MAX_PATTERN_LENGTH, pattern_problem
from ivr_engine.flow.runtime import CallState
from ivr_engine.flow.steps import MASK, Step

__all__ = ["MAX_DIGITS", "SPEC", "GatherNode"]

MAX_DIGITS = 64


@dataclass(frozen=True, kw_only=True)
class GatherNode(NodeBase):
    type_name = "gather"
    speech: Speech
    into: str
    min_digits: int = 1
    max_digits: int = 20
    terminator: DtmfKey | None = DtmfKey.POUND
    timeout: float
    inter_digit_timeout: float
    pattern: str | None = None
    sensitive: bool = False
    retries: int
    invalid_speech: Speech = NO_SPEECH
    no_input_speech: Speech = NO_SPEECH
    next: str
    on_fail: str

    def targets(self) -> Iterator[tuple[str, str]]:
        yield "next", self.next
        yield "fail", self.on_fail

    @property
    def takes_input(self) -> bool:
        return True

    def speeches(self) -> Iterator[Speech]:
        yield from (self.speech, self.invalid_speech, self.no_input_speech)

    def assigned(self, lookup_values: Mapping[str, frozenset[str]]) -> set[str]:
        return {self.into}


def read(f: Fields, where: Where, defaults: FlowDefaults) -> GatherNode:
    pattern = f.text("pattern")
    if pattern is not None and (problem := pattern_problem(pattern)):
        f.error(f.line("pattern"), problem)
    min_digits = f.number("min_digits", 1, int, 1, MAX_DIGITS)
    max_digits = f.number("max_digits", 20, int, 1, MAX_DIGITS)
    if min_digits > max_digits:
        f.error(f.line("min_digits"), f"min_digits {min_digits} is more than max_digits {max_digits}")
    return GatherNode(
        id=where.id,
        source=where.source,
        speech=f.speech_fields(),
        into=f.target("into"),
        min_digits=min_digits,
        max_digits=max_digits,
        terminator=f.key("terminator"),
        timeout=f.number("timeout", defaults.timeout, float, 0.5, 600),
        inter_digit_timeout=f.number("inter_digit_timeout", defaults.inter_digit_timeout, float, 0.5, 600),
        pattern=pattern,
        sensitive=f.flag("sensitive", False),
        retries=f.number("retries", defaults.retries, int, 0, 20),
        invalid_speech=f.speech("invalid"),
        no_input_speech=f.speech("no_input"),
        next=f.target("next"),
        on_fail=f.target("on_fail"),
    )


def _valid(node: GatherNode, digits: Digits) -> bool:
    text = digits.text
    if not node.min_digits <= len(text) <= node.max_digits:
        return False
    # The pattern passed pattern_problem and the text is at most max_digits keys: this is quick.
    return node.pattern is None or re.fullmatch(node.pattern, text) is not None


async def run(node: GatherNode, call: CallState, flow: Flow) -> Step:
    digits = Digits(())

    def shown(d: Digits) -> str | None:
        return (MASK if node.sensitive else d.text) if d.keys else None

    for attempt in range(node.retries + 1):
        if attempt:
            await retry_prompt(call, digits, node.invalid_speech, node.no_input_speech)
        digits = await call.channel.collect(
            prompt=call.media(node.speech),
            max_digits=node.max_digits,
            terminator=node.terminator,
            first_timeout=node.timeout,
            inter_timeout=node.inter_digit_timeout,
        )
        if _valid(node, digits):
            call.variables[node.into] = digits.text
            if node.sensitive:
                call.sensitive.add(node.into)
            else:
                call.sensitive.discard(node.into)
            return Step("next", node.next, shown(digits))
    return Step(failure(digits), node.on_fail, shown(digits))


SPEC = NodeSpec(
    cls=GatherNode,
    fields={
        **SPEECH_FIELDS,
        "into": schema_name("the variable the digits go into"),
        "min_digits": schema_number("fewest digits accepted", 1, MAX_DIGITS, integer=True),
        "max_digits": schema_number("most digits accepted (input ends there)", 1, MAX_DIGITS, integer=True),
        "terminator": schema_key("the key that ends input (default #; none for no terminator)"),
        "timeout": TIMEOUT,
        "inter_digit_timeout": schema_number("seconds of silence between keys that end input", 0.5, 600),
        "pattern": {
            "type": "string",
            "maxLength": MAX_PATTERN_LENGTH,
            "description": "regular expression the whole input must match (no nested repetition)",
        },
        "sensitive": {"type": "boolean", "description": "mask the input as **** in logs and screen-pops"},
        "retries": RETRIES,
        "invalid": schema_speech("said after input that is not accepted"),
        "no_input": schema_speech("said after silence"),
        "next": schema_name("the node after accepted input"),
        "on_fail": schema_name("the node after the last failed try"),
    },
    required=("into", "next", "on_fail"),
    read=read,
    run=run,
    description="Digits into a variable.",
)
