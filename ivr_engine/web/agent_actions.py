"""Which state buttons the agent desktop offers in each ACD state, derived from the ACD's state machine.

A desk action moves the agent to a target state (``ready`` and ``login`` to ready, ``pause`` to paused,
``logout`` to logged out). It is offered when the ACD's transition table (``acd.agent_state.TRANSITIONS``)
allows that move from the agent's state, with the engine's own refusals on top: ``login`` only when logged
out and every other action only when logged in. While a call rings the desk offers nothing: the agent
answers or rejects at the phone (the engine would take a pause or a logout as a refusal of the offer, which
a misclick on the page must not do to a ringing caller).

Call controls (``CallControl``, carried out by ``acd.live.controls``) follow the same table: the controls
that end the agent's call (hang up, transfer) and hold/resume are offered in the state whose only way out
is wrap-up (on a call: ``TRANSITIONS[ON_CALL] == {WRAP_UP}``), hold or resume as the call stands; more
wrap-up time is offered in wrap-up. During a consult transfer the agent who started it has complete (once
the target answered), cancel and hang-up; the target, whose call is the consult, has none (their phone).
"""

from __future__ import annotations

from enum import StrEnum

from acd.agent_state import TRANSITIONS
from acd.model import AgentState

__all__ = ["ACTIONS_BY_STATE", "CallControl", "DeskAction", "offered_actions", "offered_call_controls"]


class DeskAction(StrEnum):
    LOGIN = "login"
    READY = "ready"
    PAUSE = "pause"
    LOGOUT = "logout"


TARGET: dict[DeskAction, AgentState] = {
    DeskAction.LOGIN: AgentState.READY,
    DeskAction.READY: AgentState.READY,
    DeskAction.PAUSE: AgentState.PAUSED,
    DeskAction.LOGOUT: AgentState.LOGGED_OUT,
}


def offered_actions(state: AgentState) -> tuple[DeskAction, ...]:
    """The actions the page enables for an agent in ``state``, in button order."""
    if state is AgentState.RINGING:
        return ()
    if state is AgentState.LOGGED_OUT:
        return (DeskAction.LOGIN,) if TARGET[DeskAction.LOGIN] in TRANSITIONS[state] else ()
    return tuple(a for a in DeskAction if a is not DeskAction.LOGIN and TARGET[a] in TRANSITIONS[state])


ACTIONS_BY_STATE: dict[AgentState, tuple[DeskAction, ...]] = {s: offered_actions(s) for s in AgentState}
"""Every ACD state and what the desk offers in it (the page reads it from the agent JSON's ``actions``)."""


class CallControl(StrEnum):
    HOLD = "hold"
    RESUME = "resume"
    HANGUP = "hangup"
    TRANSFER = "transfer"
    CONSULT = "consult"
    COMPLETE_CONSULT = "complete_consult"
    CANCEL_CONSULT = "cancel_consult"
    EXTEND_WRAP_UP = "extend_wrap_up"


def _on_a_call(state: AgentState) -> bool:
    """The agent's call can only end in wrap-up from here (a bridged call)."""
    return TRANSITIONS[state] == frozenset({AgentState.WRAP_UP})


def offered_call_controls(
    state: AgentState, *, held: bool = False, consult: str | None = None, consulted: bool = False
) -> tuple[CallControl, ...]:
    """The call controls the page enables for an agent in ``state`` (``held``: their call is on hold;
    ``consult``: the state of the consult they started, ``"ringing"`` or ``"talking"``; ``consulted``:
    they are the target of a consult, which they end at their phone)."""
    if _on_a_call(state) and consulted:
        return ()
    if _on_a_call(state) and consult is not None:
        complete = (CallControl.COMPLETE_CONSULT,) if consult == "talking" else ()
        return (*complete, CallControl.CANCEL_CONSULT, CallControl.HANGUP)
    if _on_a_call(state):
        return (CallControl.RESUME if held else CallControl.HOLD, CallControl.HANGUP, CallControl.TRANSFER,
                CallControl.CONSULT)
    if state is AgentState.WRAP_UP:
        return (CallControl.EXTEND_WRAP_UP,)
    return ()
