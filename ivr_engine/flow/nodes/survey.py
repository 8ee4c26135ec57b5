"""``survey``: questions answered with a key from 1 to 5, each answer stored (with the agent, if any)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from ivr_engine.flow.fields import Fields
from ivr_engine.flow.model import NO_SPEECH, Flow, FlowDefaults, NodeBase, Speech
from ivr_engine.flow.nodes.base import SPEECH_FIELDS, NodeSpec, Where, schema_name, schema_speech
from ivr_engine.flow.nodes.keys import ask_one_key
from ivr_engine.flow.nodes.menu import RETRIES, TIMEOUT
from ivr_engine.flow.runtime import CallState
from ivr_engine.flow.steps import Step

__all__ = ["SPEC", "SurveyNode", "SurveyQuestion"]


@dataclass(frozen=True)
class SurveyQuestion:
    id: str
    speech: Speech


@dataclass(frozen=True, kw_only=True)
class SurveyNode(NodeBase):
    type_name = "survey"
    survey: str
    questions: tuple[SurveyQuestion, ...]
    retries: int
    timeout: float
    invalid_speech: Speech = NO_SPEECH
    no_input_speech: Speech = NO_SPEECH
    next: str

    def targets(self) -> Iterator[tuple[str, str]]:
        yield "next", self.next

    @property
    def takes_input(self) -> bool:
        return True

    def speeches(self) -> Iterator[Speech]:
        yield from (self.invalid_speech, self.no_input_speech)
        for question in self.questions:
            yield question.speech

    def assigned(self, lookup_values: Mapping[str, frozenset[str]]) -> set[str]:
        return {f"{self.survey}_{q.id}" for q in self.questions}


def read(f: Fields, where: Where, defaults: FlowDefaults) -> SurveyNode:
    def question(entry: Fields) -> SurveyQuestion:
        return SurveyQuestion(entry.name("id") or "", entry.speech_fields())

    shape = "{id: NAME, prompt: PROMPT_ID}"
    questions = f.entries("questions", shape, "question", "a survey question", question)
    return SurveyNode(
        id=where.id,
        source=where.source,
        survey=f.name("survey", required=False, default=f.node) or f.node,
        questions=tuple(questions),
        retries=f.number("retries", defaults.retries, int, 0, 20),
        timeout=f.number("timeout", defaults.timeout, float, 0.5, 600),
        invalid_speech=f.speech("invalid"),
        no_input_speech=f.speech("no_input"),
        next=f.target("next"),
    )


async def run(node: SurveyNode, call: CallState, flow: Flow) -> Step:
    answers: list[str] = []
    for question in node.questions:
        digits, scored = await ask_one_key(
            call,
            question.speech,
            retries=node.retries,
            key_timeout=node.timeout,
            accepted=lambda keys: keys.text in ("1", "2", "3", "4", "5"),
            invalid=node.invalid_speech,
            no_input=node.no_input_speech,
        )
        if scored:
            await call.services.surveys.save_answer(
                call_id=call.call_id,
                survey=node.survey,
                question=question.id,
                score=int(digits.text),
                agent_id=call.variables.get("agent_id") or None,
            )
            call.variables[f"{node.survey}_{question.id}"] = digits.text
            answers.append(f"{question.id}={digits.text}")
    complete = len(answers) == len(node.questions)
    return Step("answered" if complete else "incomplete", node.next, ",".join(answers) or None)


SPEC = NodeSpec(
    cls=SurveyNode,
    fields={
        "survey": schema_name("the survey's name in the statistics (default: the node id)"),
        "questions": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "properties": {"id": schema_name("the question's name"), **SPEECH_FIELDS},
                "required": ["id"],
                "additionalProperties": False,
            },
            "description": "questions, each answered 1-5",
        },
        "retries": RETRIES,
        "timeout": TIMEOUT,
        "invalid": schema_speech("said after a key that is not 1-5"),
        "no_input": schema_speech("said after silence"),
        "next": schema_name("the node after the last question"),
    },
    required=("questions", "next"),
    read=read,
    run=run,
    description="Ask questions answered 1 to 5.",
)
