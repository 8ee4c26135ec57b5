"""What every node type shares: where it was written, what it says, its exits, and its ``NodeSpec``.

A node type is one module in this package: its frozen dataclass (a ``NodeBase``), ``read`` (YAML fields
-> node, through ``ivr_engine.flow.fields.Fields``), ``run`` (what it does on a call), an optional
``check`` (what ``ivr validate`` adds beyond the schema) and ``FIELDS`` (each field's JSON Schema, the
one list the reader, the unknown-field check and ``ivr flows schema`` share). ``nodes/__init__.py``
registers the modules; a test checks that the registry covers every type of the ``Node`` union.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ivr_engine.flow.templates import template_variables

if TYPE_CHECKING:
    from ivr_engine.flow.checks import NodeChecks
    from ivr_engine.flow.fields import Fields
    from ivr_engine.flow.model import Flow
    from ivr_engine.flow.runtime import CallState
    from ivr_engine.flow.steps import Step

__all__ = [
    "NO_SPEECH",
    "SPEECH_FIELDS",
    "FlowDefaults",
    "JsonSchema",
    "NodeBase",
    "NodeSpec",
    "Source",
    "Speech",
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
class Source:
    """Where a node (or flow) was written."""

    file: str
    line: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"


@dataclass(frozen=True)
class Speech:
    """What a node says: catalogue prompts in order, then an optional templated text (TTS)."""

    prompts: tuple[str, ...] = ()
    text: str | None = None

    def __bool__(self) -> bool:
        return bool(self.prompts) or self.text is not None


NO_SPEECH = Speech()


@dataclass(frozen=True)
class FlowDefaults:
    """Flow-wide defaults; ``retries`` counts the re-prompts after the first try."""

    retries: int = 2
    timeout: float = 5.0
    inter_digit_timeout: float = 3.0
    language: str | None = None  # None: the caller's language (the service's, or the calling flow's)


@dataclass(frozen=True)
class Where:
    """The node being read: its id and where it was written."""

    id: str
    source: Source


@dataclass(frozen=True, kw_only=True)
class NodeBase:
    id: str
    source: Source

    type_name = ""

    def targets(self) -> Iterator[tuple[str, str]]:
        """(exit name, target node id) for every exit this node can take."""
        return iter(())

    @property
    def takes_input(self) -> bool:
        """True when the node waits for the caller (a loop through it cannot spin)."""
        return False

    def speeches(self) -> Iterator[Speech]:
        """Everything the node can say (prompt ids are checked against the catalogue)."""
        return iter(())

    def templates(self) -> Iterator[str]:
        """Every template the node renders besides its speeches' texts."""
        return iter(())

    def variables_used(self) -> set[str]:
        """The variables the node's templates (and conditions) read."""
        used: set[str] = set()
        for speech in self.speeches():
            if speech.text is not None:
                used |= template_variables(speech.text)
        for template in self.templates():
            used |= template_variables(template)
        return used

    def assigned(self, lookup_values: Mapping[str, frozenset[str]]) -> set[str]:
        """The variables the node sets (``lookup_values``: what each named lookup gives)."""
        return set()


Reader = Callable[["Fields", Where, FlowDefaults], NodeBase]
Runner = Callable[[Any, "CallState", "Flow"], Awaitable["Step"]]
Checker = Callable[[Any, "NodeChecks"], None]


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
