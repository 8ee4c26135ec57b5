"""One call's state while its flow runs: channel, ports, variables (and which are sensitive), counters."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from ivr_engine.channel import Channel, Media, Prompt, Tts
from ivr_engine.flow.model import Flow, Speech
from ivr_engine.flow.services import FlowServices
from ivr_engine.flow.steps import MASK, End
from ivr_engine.flow.templates import render, template_variables

__all__ = ["CallState"]


async def _no_walk(flow: Flow, call: CallState) -> End:  # pragma: no cover - the interpreter sets it
    raise AssertionError("CallState.walk was not set")


@dataclass
class CallState:
    channel: Channel
    services: FlowServices
    call_id: str
    variables: dict[str, str]
    sensitive: set[str] = field(default_factory=set)
    seq: int = 0
    steps: int = 0
    error: str = ""
    last: tuple[str, str] = ("", "")
    depth: int = 0  # sub-flow calls in progress
    walk: Callable[[Flow, CallState], Awaitable[End]] = _no_walk  # runs a sub-flow (the interpreter's)

    @property
    def language(self) -> str:
        """The caller's language: the variable ``language`` (set at the start of the call, by a flow's
        ``defaults: {language: ...}`` while it runs, or by a ``set`` node), else the service's."""
        return self.variables.get("language") or self.services.language

    def masked(self, name: str, value: str) -> str:
        return MASK if name in self.sensitive else value

    def masked_variables(self) -> dict[str, str]:
        return {name: self.masked(name, value) for name, value in self.variables.items()}

    def render(self, template: str) -> str:
        return render(template, self.variables)

    def is_sensitive(self, template: str) -> bool:
        return bool(template_variables(template) & self.sensitive)

    def media(self, speech: Speech) -> list[Media]:
        catalogue = self.services.catalogue
        lang = self.language
        items: list[Media] = [
            Prompt(pid, catalogue.text(pid, lang) if catalogue.has(pid, lang) else "", lang)
            for pid in speech.prompts
        ]
        if speech.text is not None:
            items.append(Tts(self.render(speech.text), lang))
        return items
