"""Which state buttons the agent desktop offers in each ACD state, derived from the ACD's state machine.

A desk action moves the agent to a target state (``ready`` and ``login`` to ready, ``pause`` to paused,
``logout`` to logged out). It is offered when the ACD's transition table (``acd.agent_state.TRANSITIONS``)
allows that move from the agent's state, with the engine's own refusals on top: ``login`` only when logged
out and every other action only when logged in. While a call rings the desk offers nothing: the agent
answers or rejects at the phone (the engine would take a pause or a logout as a refusal of the offer, which
a misclick on the page must not do to a ringing caller).
"""

from __future__ import annotations

from enum import StrEnum

from acd.agent_state import TRANSITIONS
from acd.model import AgentState

__all__ = ["ACTIONS_BY_STATE", "DeskAction", "offered_actions"]


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
