"""The state the ACD shares (agents, waiting calls, offers, a few counters) behind one Protocol.

Routing code only talks to ``AcdStore``. ``MemoryStore`` is the in-process implementation;
``acd.sql_store.SqlStore`` keeps the same state in SQLite or PostgreSQL. The methods are query-shaped
(ready agents by skill, queue heads, counts of a skill pool per reason) so that a database answers each
with one indexed query (see docs/design.md, "Sharing ACD state"). ``transaction`` groups the calls of one
engine operation into one atomic unit.
"""

from __future__ import annotations

import bisect
import functools
import heapq
from collections import Counter, OrderedDict, defaultdict, deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, nullcontext
from typing import Concatenate, ParamSpec, Protocol, TypeVar

from acd.model import Agent, AgentState, Offer, PassReason, PoolCounts, Skills, WaitingCall
from acd.routing import NEAREST_FIRST, eligible, holds_any, pass_reason

__all__ = ["EVERY_QUEUE", "AcdStore", "MemoryStore", "in_transaction", "locking_every_queue"]

EVERY_QUEUE = "*"
"""The queue name that means every queue in ``AcdStore.transaction``: a shared store then locks the
whole ACD (one lock) instead of each queue; it excludes every other operation, a transaction naming
queues excludes only those that name the same queue or ``EVERY_QUEUE``."""

_HANDLE_TIMES_KEPT = 50
_POOL_VIEWS_KEPT = 256

_GroupKey = tuple[tuple[tuple[str, int], ...], tuple[int, int]]
_Entry = tuple[float, int, str]
_Since = tuple[float, str]
_NeedKey = tuple[tuple[str, int], ...]


class AcdStore(Protocol):
    """Shared ACD state. Lists of agents come sorted by id; waiting calls in service order."""

    def transaction(self, *queues: str) -> AbstractContextManager[None]:
        """Everything inside is one atomic unit (re-entrant); a shared store locks ``queues`` first
        (``EVERY_QUEUE``: all of them). A transaction holding some queues' locks must not then ask for
        ``EVERY_QUEUE``: lock every queue from the start instead."""
        ...

    def agent(self, agent_id: str) -> Agent | None: ...
    def agents(self) -> list[Agent]: ...
    def agent_count(self) -> int: ...
    def agents_in_state(self, state: AgentState) -> list[Agent]: ...
    def agents_with_skill(self, skill: str) -> list[Agent]: ...
    def ready_agents(self, skill: str | None) -> list[Agent]:
        """Ready agents holding ``skill`` (any level); all ready agents when ``None``."""
        ...
    def ready_count(self, skill: str | None) -> int:
        """``len(ready_agents(skill))`` without listing them."""
        ...
    def pool_counts(self, required: Skills) -> PoolCounts:
        """Agents holding a needed skill (everyone when none is needed): eligible, or why not."""
        ...
    def track_pools(self, requirements: Iterable[Skills]) -> None:
        """The pools ``pool_counts`` will be asked about most (each queue's needed skills at each
        escalation stage): an indexing store keeps their counts from now on instead of counting."""
        ...
    def nearest_passed(self, required: Skills, limit: int) -> list[Agent]:
        """Up to ``limit`` agents holding a needed skill but not eligible, by ``routing.nearest_key``."""
        ...
    def routing_reads(self, rarest: str | None, required: Skills,
                      limit: int) -> tuple[list[Agent], PoolCounts, list[Agent]]:
        """``ready_agents(rarest)``, ``pool_counts(required)``, ``nearest_passed(required, limit)``: what
        routing a call reads, at once (a database store asks in one round trip)."""
        ...
    def save_agent(self, agent: Agent) -> None: ...

    def call(self, call_id: str) -> WaitingCall | None: ...
    def save_call(self, call: WaitingCall) -> None:
        """Insert, or update a call in place (its queue and order never change)."""
        ...
    def remove_call(self, call_id: str) -> None: ...
    def waiting(self, queue: str) -> list[WaitingCall]: ...
    def heads(self, queue: str) -> list[WaitingCall]:
        """The first call not being offered of each (needed skills, priority band) group of ``queue``."""
        ...
    def heads_of(self, queues: Sequence[str]) -> list[WaitingCall]:
        """``heads`` of each of ``queues``, all together in service order (one query on a database)."""
        ...
    def will_route(self, queues: Sequence[str]) -> None:
        """The operation may soon ask ``heads_of(queues)`` (an agent may become ready): a database store
        may read them with its next read instead of in a round trip of their own."""
        ...
    def enqueued_before(self, queue: str, at: float) -> list[WaitingCall]:
        """Calls of ``queue`` enqueued at or before ``at`` (for max-wait overflow)."""
        ...
    def position(self, call_id: str) -> int:
        """1-based place of the call in its queue's service order."""
        ...

    def offer(self, agent_id: str) -> Offer | None: ...
    def offers(self) -> list[Offer]: ...
    def save_offer(self, offer: Offer) -> None: ...
    def remove_offer(self, agent_id: str) -> None: ...

    def next_seq(self) -> int: ...
    def rr_cursor(self, queue: str) -> str | None: ...
    def set_rr_cursor(self, queue: str, agent_id: str) -> None: ...
    def handle_times(self, queue: str) -> list[float]: ...
    def record_handle_time(self, queue: str, seconds: float) -> None: ...


class _HasStore(Protocol):
    @property
    def store(self) -> AcdStore: ...


_Owner = TypeVar("_Owner", bound=_HasStore)
_P = ParamSpec("_P")
_R = TypeVar("_R")


def in_transaction(method: Callable[Concatenate[_Owner, _P], _R]) -> Callable[Concatenate[_Owner, _P], _R]:
    """Decorate a method of an object with a ``store``: the call runs in one store transaction, so all
    of it is stored or, on an exception, none of it."""

    def run(self: _Owner, /, *args: _P.args, **kwargs: _P.kwargs) -> _R:
        with self.store.transaction():
            return method(self, *args, **kwargs)

    functools.update_wrapper(run, method)
    return run


def locking_every_queue(
    method: Callable[Concatenate[_Owner, _P], _R],
) -> Callable[Concatenate[_Owner, _P], _R]:
    """As ``in_transaction``, the transaction locking every queue (``EVERY_QUEUE``) first."""

    def run(self: _Owner, /, *args: _P.args, **kwargs: _P.kwargs) -> _R:
        with self.store.transaction(EVERY_QUEUE):
            return method(self, *args, **kwargs)

    functools.update_wrapper(run, method)
    return run


def _group_key(call: WaitingCall) -> _GroupKey:
    return (tuple(sorted(call.skills.items())), call.band)


class _PoolView:
    """Counts of one set of needed skills' pool per reason, kept up to date on every agent change."""

    def __init__(self, required: Skills, agents: Iterator[Agent]) -> None:
        self.required = dict(required)
        self.eligible = 0
        self.passed: Counter[PassReason] = Counter()
        for agent in agents:
            self.count(agent, 1)

    def count(self, agent: Agent, delta: int) -> None:
        if not holds_any(agent, self.required):
            return
        reason = pass_reason(agent, self.required)
        if reason is None:
            self.eligible += delta
        else:
            self.passed[reason[0]] += delta

    def snapshot(self) -> PoolCounts:
        return PoolCounts(self.eligible, {r: n for r, n in self.passed.items() if n})


class MemoryStore:
    """In-process ``AcdStore`` with indexes by skill, by state and by queue group.

    Besides the id sets it keeps, per (skill, state) and per state, the agents sorted by
    ``(state_since, id)`` (for ``nearest_passed``), and a count view per recently used set of needed
    skills (for ``pool_counts``), updated on every ``save_agent``: at most ``_POOL_VIEWS_KEPT``, least
    recently used dropped first and rebuilt by one scan if needed again.
    """

    def __init__(self) -> None:
        self._agents: dict[str, Agent] = {}
        self._by_skill: dict[str, set[str]] = defaultdict(set)
        self._ready_by_skill: dict[str, set[str]] = defaultdict(set)
        self._ready: set[str] = set()
        self._by_state: dict[AgentState, set[str]] = defaultdict(set)
        self._since: dict[tuple[str | None, AgentState], list[_Since]] = defaultdict(list)
        self._views: OrderedDict[_NeedKey, _PoolView] = OrderedDict()
        self._calls: dict[str, WaitingCall] = {}
        self._groups: dict[str, dict[_GroupKey, list[_Entry]]] = defaultdict(dict)
        self._offers: dict[str, Offer] = {}
        self._seq = 0
        self._rr: dict[str, str] = {}
        self._handle: dict[str, deque[float]] = defaultdict(lambda: deque(maxlen=_HANDLE_TIMES_KEPT))

    def transaction(self, *queues: str) -> AbstractContextManager[None]:
        """Nothing to do in one process: the engine refuses an operation before it changes anything."""
        return nullcontext()

    # agents

    def agent(self, agent_id: str) -> Agent | None:
        return self._agents.get(agent_id)

    def _sorted(self, ids: set[str]) -> list[Agent]:
        return [self._agents[i] for i in sorted(ids)]

    def agents(self) -> list[Agent]:
        return self._sorted(set(self._agents))

    def agent_count(self) -> int:
        return len(self._agents)

    def agents_in_state(self, state: AgentState) -> list[Agent]:
        return self._sorted(self._by_state[state])

    def agents_with_skill(self, skill: str) -> list[Agent]:
        return self._sorted(self._by_skill.get(skill, set()))

    def ready_agents(self, skill: str | None) -> list[Agent]:
        ids = self._ready if skill is None else self._ready_by_skill.get(skill, set())
        return self._sorted(ids)

    def ready_count(self, skill: str | None) -> int:
        return len(self._ready if skill is None else self._ready_by_skill.get(skill, ()))

    def pool_counts(self, required: Skills) -> PoolCounts:
        key = tuple(sorted(required.items()))
        view = self._views.get(key)
        if view is None:
            view = self._views[key] = _PoolView(required, iter(self._agents.values()))
            if len(self._views) > _POOL_VIEWS_KEPT:
                self._views.popitem(last=False)
        else:
            self._views.move_to_end(key)
        return view.snapshot()

    def track_pools(self, requirements: Iterable[Skills]) -> None:
        for required in requirements:
            self.pool_counts(required)

    def routing_reads(self, rarest: str | None, required: Skills,
                      limit: int) -> tuple[list[Agent], PoolCounts, list[Agent]]:
        return self.ready_agents(rarest), self.pool_counts(required), self.nearest_passed(required, limit)

    def nearest_passed(self, required: Skills, limit: int) -> list[Agent]:
        found: list[Agent] = []
        seen: set[str] = set()
        skills: list[str | None] = list(required) if required else [None]
        for state in NEAREST_FIRST:
            lists = [self._since.get((skill, state), []) for skill in skills]
            for _, agent_id in lists[0] if len(lists) == 1 else heapq.merge(*lists):
                if agent_id in seen:
                    continue
                seen.add(agent_id)
                agent = self._agents[agent_id]
                if eligible(agent, required):
                    continue
                found.append(agent)
                if len(found) >= limit:
                    return found
        return found

    def save_agent(self, agent: Agent) -> None:
        old = self._agents.get(agent.id)
        if old is not None:
            self._by_state[old.state].discard(agent.id)
            for skill in old.skills:
                self._by_skill[skill].discard(agent.id)
                self._ready_by_skill[skill].discard(agent.id)
            self._ready.discard(agent.id)
            self._unsince(old)
            for view in self._views.values():
                view.count(old, -1)
        self._agents[agent.id] = agent
        self._by_state[agent.state].add(agent.id)
        for skill in agent.skills:
            self._by_skill[skill].add(agent.id)
            if agent.state is AgentState.READY:
                self._ready_by_skill[skill].add(agent.id)
        if agent.state is AgentState.READY:
            self._ready.add(agent.id)
        entry = (agent.state_since, agent.id)
        for held in (None, *agent.skills):
            bisect.insort(self._since[(held, agent.state)], entry)
        for view in self._views.values():
            view.count(agent, 1)

    def _unsince(self, agent: Agent) -> None:
        entry = (agent.state_since, agent.id)
        for skill in (None, *agent.skills):
            ordered = self._since[(skill, agent.state)]
            del ordered[bisect.bisect_left(ordered, entry)]

    # waiting calls

    def call(self, call_id: str) -> WaitingCall | None:
        return self._calls.get(call_id)

    def save_call(self, call: WaitingCall) -> None:
        if call.id not in self._calls:
            group = self._groups[call.queue].setdefault(_group_key(call), [])
            bisect.insort(group, (call.enqueued_at, call.seq, call.id))
        self._calls[call.id] = call

    def remove_call(self, call_id: str) -> None:
        call = self._calls.pop(call_id, None)
        if call is None:
            return
        groups = self._groups[call.queue]
        key = _group_key(call)
        group = groups[key]
        entry = (call.enqueued_at, call.seq, call.id)
        del group[bisect.bisect_left(group, entry)]
        if not group:
            del groups[key]

    def waiting(self, queue: str) -> list[WaitingCall]:
        calls = [self._calls[e[2]] for group in self._groups.get(queue, {}).values() for e in group]
        return sorted(calls, key=lambda c: c.order)

    def heads(self, queue: str) -> list[WaitingCall]:
        found: list[WaitingCall] = []
        for group in self._groups.get(queue, {}).values():
            for entry in group:
                call = self._calls[entry[2]]
                if call.offered_to is None:
                    found.append(call)
                    break
        return sorted(found, key=lambda c: c.order)

    def heads_of(self, queues: Sequence[str]) -> list[WaitingCall]:
        return sorted((call for queue in queues for call in self.heads(queue)), key=lambda c: c.order)

    def will_route(self, queues: Sequence[str]) -> None:
        """Nothing to read ahead in memory."""

    def enqueued_before(self, queue: str, at: float) -> list[WaitingCall]:
        found: list[WaitingCall] = []
        for group in self._groups.get(queue, {}).values():
            end = bisect.bisect_right(group, (at, float("inf"), ""))
            found.extend(self._calls[e[2]] for e in group[:end])
        return sorted(found, key=lambda c: c.order)

    def position(self, call_id: str) -> int:
        call = self._calls[call_id]
        ahead = 0
        entry = (call.enqueued_at, call.seq, call.id)
        for (_, band), group in self._groups[call.queue].items():
            if band < call.band:
                ahead += len(group)
            elif band == call.band:
                ahead += bisect.bisect_left(group, entry)
        return ahead + 1

    # offers

    def offer(self, agent_id: str) -> Offer | None:
        return self._offers.get(agent_id)

    def offers(self) -> list[Offer]:
        return [self._offers[a] for a in sorted(self._offers)]

    def save_offer(self, offer: Offer) -> None:
        self._offers[offer.agent_id] = offer

    def remove_offer(self, agent_id: str) -> None:
        self._offers.pop(agent_id, None)

    # counters

    def next_seq(self) -> int:
        self._seq += 1
        return self._seq

    def rr_cursor(self, queue: str) -> str | None:
        return self._rr.get(queue)

    def set_rr_cursor(self, queue: str, agent_id: str) -> None:
        self._rr[queue] = agent_id

    def handle_times(self, queue: str) -> list[float]:
        return list(self._handle[queue])

    def record_handle_time(self, queue: str, seconds: float) -> None:
        self._handle[queue].append(seconds)
