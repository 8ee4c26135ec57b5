"""What a node type module declares: its ``NodeSpec``, and the JSON Schema fragments its fields use.

A node type is one module in this package: its frozen dataclass (a ``ivr_engine.flow.model.NodeBase``),
``read`` (YAML fields -> node, through ``ivr_engine.flow.fields.Fields``), ``run`` (what it does on a
call), an optional ``check`` (what ``ivr validate`` adds beyond the schema) and ``FIELDS`` (each field's
JSON Schema, the one list the reader, the unknown-field check and ``ivr flows schema`` share).
``ivr_engine.flow.registry`` lists the modules; a test checks that it covers every node class of this
package.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ivr_engine.flow.checks import NodeChecks
from ivr_engine.flow.fields import Fields
from ivr_engine.flow.model import Flow, FlowDefaults, NodeBase, Source
from ivr_engine.flow.runtime import CallState
from ivr_engine.flow.steps import Step

__all__ = [
    "SPEECH_FIELDS",
    "JsonSchema",
    "NodeSpec",
    "Where",
    "schema_key",
    "schema_name",
    "schema_number",
    "schema_prompts",
    "schema_speech",
    "schema_text",
]

JsonSchema = dict[str, Any]


@dataclass(frozen=True)
class Where:
    """The node being read: its id and where it was written."""

    id: str
    source: Source


Reader = Callable[[Fields, Where, FlowDefaults], NodeBase]
Runner = Callable[[Any, CallState, Flow], Awaitable[Step]]
Checker = Callable[[Any, NodeChecks], None]


def _no_check(node: Any, checks: NodeChecks) -> None:
    return None


@dataclass(frozen=True)
class NodeSpec:
    """One node type: its class, YAML fields (name -> JSON Schema), required fields and behaviour."""

    cls: type[NodeBase]
    fields: Mapping[str, JsonSchema]
    required: tuple[str, ...]
    read: Reader
    run: Runner
    check: Checker = _no_check
    description: str = ""
    extra: Mapping[str, Any] = field(default_factory=dict)  # more JSON Schema for the node mapping

    @property
    def name(self) -> str:
        return self.cls.type_name


# JSON Schema fragments the node modules build their FIELDS from.


def schema_text(description: str) -> JsonSchema:
    return {"type": ["string", "number"], "description": description}


def schema_name(description: str) -> JsonSchema:
    return {"type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_]*$", "description": description}


def schema_number(description: str, minimum: float, maximum: float, *, integer: bool = False) -> JsonSchema:
    return {
        "type": "integer" if integer else "number",
        "minimum": minimum,
        "maximum": maximum,
        "description": description,
    }


def schema_key(description: str) -> JsonSchema:
    keys: list[Any] = [*"0123456789*#", "none", None, *range(10)]
    return {"enum": keys, "description": description}


_PROMPT_IDS: JsonSchema = {
    "anyOf": [
        {"type": "string", "pattern": "^[a-z0-9_]+$"},
        {"type": "array", "items": {"type": "string", "pattern": "^[a-z0-9_]+$"}},
    ]
}


def schema_prompts(description: str) -> JsonSchema:
    return {**_PROMPT_IDS, "description": description}


def schema_speech(description: str) -> JsonSchema:
    """A retry message: prompt id(s) or {prompt, text}."""
    nested = {
        "type": "object",
        "properties": {"prompt": _PROMPT_IDS, "text": {"type": "string"}},
        "additionalProperties": False,
    }
    return {"anyOf": [*_PROMPT_IDS["anyOf"], nested], "description": description}


SPEECH_FIELDS: Mapping[str, JsonSchema] = {
    "prompt": schema_prompts("catalogue prompt id, or a list of ids played in order"),
    "text": schema_text("a template spoken with text-to-speech after the prompts"),
}
