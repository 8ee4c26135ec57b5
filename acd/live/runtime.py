"""``AcdRuntime``: the pure ``acd.Acd`` driven live over ARI, composed of parts with one job each.

- ``TransferDesk`` (acd.live.transfer): the caller's side, the flows' ``Transferrer``;
- ``HoldPlayer`` (acd.live.hold_player): announcements and music on hold while the caller waits;
- ``AgentLegs`` (acd.live.legs): ringing agents, their answer, no answer, hanging up;
- ``Bridger`` (acd.live.bridge): caller and agent bridged until one hangs up;
- ``CallControls`` (acd.live.controls): the agent's hold, resume, hang-up, transfer, wrap-up time;
- ``Consults`` (acd.live.consult): consult transfers (talk to the target first, then complete or cancel);
- ``CallbackBooking`` (acd.live.callbacks): the callback key;
- ``CallbackDialer`` (acd.live.dialer) and ``CustomerLegs`` (acd.live.customer_legs): placing booked
  callbacks (only with a ``CallbackBook``: the service's database);
- ``OperatorFront`` (acd.live.operator): ``AcdControl`` for the control API, the CLI and the web;
- ``AriTap`` and ``Ticker`` (acd.live.tap): Asterisk's events and the tick loop;
- ``Reactions`` (acd.live.reactions): every ACD event published, stored and acted on;
- ``Recovery`` (acd.live.recovery): after a restart, the stored state against Asterisk's channels;
- ``EngineWorker`` (acd.live.worker): the one thread every engine call runs on, and the operators' view;
- ``NodeBus`` (acd.live.node_bus, several nodes): the runtime events of every node on every node;
- ``EventHub`` (acd.live.hub), ``FactWriter`` (acd.live.facts), ``TaskSet`` (acd.live.tasks).

This class only builds them and hands each method to the part that does it. Times in the ACD are epoch
seconds from the service's clock. ``close`` stops the worker thread.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from collections.abc import Set as AbstractSet

import acd
from acd.live.answered import AnsweredBy
from acd.live.api import RuntimeEvent
from acd.live.bridge import Bridger
from acd.live.callbacks import CallbackBooking
from acd.live.consult import Consults
from acd.live.controls import CallControls
from acd.live.customer_legs import CustomerLegs
from acd.live.dialer import CallbackBook, CallbackDialer
from acd.live.facts import AcdFactSink, FactWriter
from acd.live.hold_player import HoldPlayer
from acd.live.hub import EventHub, Subscription
from acd.live.inflight import HandOver, Waiters
from acd.live.lease import NodeAddress, NodeLease, NodeLost
from acd.live.legs import AgentLegs
from acd.live.monitor import MonitorMode, Monitors, MonitorSession
from acd.live.node_bus import NodeBus
from acd.live.operator import OperatorFront
from acd.live.options import RuntimeOptions
from acd.live.reactions import Reactions
from acd.live.recording import CallRecorder, RecordingSink
from acd.live.recovery import Recovery
from acd.live.tap import AriTap, Chore, Ticker
from acd.live.tasks import TaskSet
from acd.live.transfer import TransferDesk
from acd.live.worker import Applied, EngineWorker
from acd.sql_store import SqlStore
from ivr_engine.ari.client import AriClient
from ivr_engine.ari.events import AriEvent, ChannelDestroyed
from ivr_engine.calls import CallInfo, Resynced
from ivr_engine.channel import Channel
from ivr_engine.flow.ports import TransferOutcome, TransferRequest
from ivr_engine.numbers import outbound_caller_id

__all__ = ["AcdRuntime", "RuntimeOptions"]


class AcdRuntime:
    """Implements ``Transferrer`` (flows) and ``AcdControl`` (operators) by delegation."""

    def __init__(
        self,
        engine: acd.Acd,
        client: AriClient,
        *,
        facts: AcdFactSink | None = None,
        options: RuntimeOptions | None = None,
        clock: Callable[[], float] = time.time,
        node: str | None = None,
        recover: bool = False,
        node_lost: NodeLost | None = None,
        recordings: RecordingSink | None = None,
        callbacks: CallbackBook | None = None,
    ) -> None:
        """``recover``: this run may follow another over the same store (``ivr serve`` on ``SqlStore``):
        the tick loop waits for the first resync (``resynced``), which settles what the store kept.
        ``node`` is the node whose waiting calls this runtime adopts (``None``: one node); with a node
        on ``SqlStore`` the ACD is shared with other nodes: only the caller's node rings and bridges
        (``AgentLegs.follow``), and a heartbeat lease is kept (``NodeLease``; ``node_lost`` closes the
        call rows of a node released after its lease expired). ``recordings`` stores the rows of kept
        call recordings (queues with ``record: true``; see ``RuntimeOptions.recording_spool``).
        ``callbacks``: place the booked callbacks (``acd.live.dialer``); None: they wait for a person."""
        options = options or RuntimeOptions()
        shared = node is not None
        self._tasks = TaskSet()
        self._worker = EngineWorker(engine, self._apply, clock)
        worker = self._worker
        hub = EventHub()
        self.hub = hub
        """Every runtime event of this node (and, with a ``NodeBus``, the other nodes')."""
        self.bus: NodeBus | None = None
        """Several nodes on PostgreSQL: this node's events to the others, theirs to ``hub`` (wiring)."""
        waiters = Waiters()
        answered_by = AnsweredBy(clock)
        fact_writer = FactWriter(facts, self._tasks)
        self._legs = AgentLegs(worker, client, waiters=waiters, answered_by=answered_by, tasks=self._tasks,
                               clock=clock, options=options, shared=shared)
        self._reactions = Reactions(hub=hub, facts=fact_writer, waiters=waiters, legs=self._legs,
                                    tasks=self._tasks)
        recorder = None
        if options.recording_spool is not None and options.recordings_dir is not None:
            recorder = CallRecorder(client, spool=options.recording_spool, store_dir=options.recordings_dir,
                                    sink=recordings, tasks=self._tasks, clock=clock)
        self.calls = CallControls(worker, client, clock=clock, music_class=options.hold.music_class, hub=hub)
        """The agent's call controls (the web desktop's buttons)."""
        self.consults = Consults(self.calls, worker, client, self._legs, hub=hub, answered_by=answered_by,
                                 tasks=self._tasks, clock=clock)
        """Consult transfers from the desk (``acd.live.consult``)."""
        self._handover = HandOver()
        self._waiters = waiters
        self._recoverable = recover
        bridger = Bridger(client, self._legs, self.calls, recorder, handover=self._handover)
        hold = HoldPlayer(worker, client, clock, options.hold, handover=self._handover)
        self._desk = TransferDesk(
            worker, waiters=waiters, legs=self._legs, hold=hold,
            bridger=bridger, facts=fact_writer, hub=hub, clock=clock, handover=self._handover,
            callbacks=CallbackBooking(worker, fact_writer, clock=clock,
                                      confirmation=options.hold.callback_confirmed),
        )
        self._front = OperatorFront(worker, hub=hub, answered_by=answered_by, clock=clock)
        self._customers = CustomerLegs(client, caller_id=outbound_caller_id(options.outbound_caller_id),
                                       ring_seconds=options.callback_ring_seconds)
        self._tap = AriTap(self._legs, bridger, self._customers)
        self._monitors = Monitors(client, self._legs)
        chores: list[Chore] = [self._legs.follow] if shared else []
        if callbacks is not None:
            dialer = CallbackDialer(worker, callbacks, waiters=waiters, legs=self._legs,
                                    customers=self._customers, bridger=bridger, hub=hub, tasks=self._tasks,
                                    clock=clock, policy=options.callback_policy)
            chores.append(dialer.chore)
        store = engine.store
        self._lease: NodeLease | None = None
        if node is not None and isinstance(store, SqlStore):
            self._lease = NodeLease(worker, store, node=node, lease_seconds=options.lease_seconds,
                                    clock=clock, on_lost=node_lost, web_url=options.node_url or None)
            chores.append(self._lease.beat)
        # Several nodes hear of each other's changes only on PostgreSQL (``acd.live.notify``): elsewhere
        # the tick is how a node learns of them, quiet or not.
        told = not shared or (isinstance(store, SqlStore) and store.engine.dialect.name == "postgresql")
        self._ticker = Ticker(worker, clock=clock, tasks=self._tasks, tick_seconds=options.tick_seconds,
                              shutdown_timeout=options.shutdown_timeout, chores=chores,
                              quiet_tick_seconds=options.quiet_tick_seconds if told else None)
        self._recovery = Recovery(worker, client, legs=self._legs, desk=self._desk, bridger=bridger,
                                  clock=clock, node=node)
        if not recover:
            self._recovery.done = True
            self._ticker.started.set()

    @property
    def engine(self) -> acd.Acd:
        """The engine (tests read it between operations; the runtime only calls it on its worker)."""
        return self._worker.engine

    def _apply(self, applied: Applied) -> None:
        self._reactions.apply(applied)

    async def start(self) -> None:
        """Read the view the operators see before the first operation; renew this node's lease (several
        nodes), so that no survivor releases what this run is about to recover."""
        await self._worker.refresh()
        if self._lease is not None:
            await self._lease.renew()

    def hand_over(self) -> frozenset[str]:
        """The service stops (SIGTERM) and a later run over the same store will take its ACD calls back
        (``recover``): the channels it may leave in Asterisk for that (callers waiting, ringing an agent
        or bridged to one, and the agents' legs); from now on cancelled calls skip ending themselves
        (``HandOver``). Without ``recover`` (a store only this run sees) nothing is handed over. Nor is
        a callback being placed: its agent's and customer's legs end as before, and the dialer's
        claim goes back in line for the next run (``acd.live.dialer``)."""
        if not self._recoverable:
            return frozenset()
        waiters = [w for w in map(self._waiters.get, self._waiters.ids()) if w is not None]
        bridged = self.calls.bridged()
        calls = {w.request.call_id for w in waiters} | set(bridged)
        self._handover.calls = frozenset(c for c in calls if acd.callback_of(c) is None)
        kept = self._handover.keeps
        channels = {w.channel.id for w in waiters if kept(w.request.call_id)}
        channels |= {c for call_id, pair in bridged.items() if kept(call_id) for c in pair}
        return frozenset(channels | self._legs.channel_ids(kept))

    def close(self) -> None:
        """Stop the worker thread (after the jobs handed in so far)."""
        self._worker.close()

    # -- AcdControl -------------------------------------------------------------------------------

    def agents(self) -> list[acd.Agent]:
        return self._front.agents()

    def queue_statuses(self) -> list[acd.QueueStatus]:
        return self._front.queue_statuses()

    def waiting_calls(self) -> list[acd.WaitingCall]:
        return self._front.waiting_calls()

    async def login(self, agent_id: str) -> None:
        await self._front.login(agent_id)

    async def logout(self, agent_id: str) -> None:
        await self._front.logout(agent_id)

    async def pause(self, agent_id: str, reason: str) -> None:
        await self._front.pause(agent_id, reason)

    async def ready(self, agent_id: str) -> None:
        await self._front.ready(agent_id)

    def subscribe(self) -> Subscription:
        return self._front.subscribe()

    def agent_of(self, call_id: str) -> str | None:
        return self._front.agent_of(call_id)

    def share(self, event: RuntimeEvent) -> None:
        """Several nodes: send one of this node's events to the others now (an event of a kind
        ``NodeBus.relayed`` names: its sender calls this once it has done its share); else nothing."""
        if self.bus is not None and event.node is None:
            self.bus.share(event)

    async def holder_of(self, agent_id: str) -> NodeAddress | None:
        """Several nodes: the other node holding ``agent_id``'s call (None: this one, or no call)."""
        return None if self._lease is None else await self._lease.holder_of(agent_id)

    # -- Transferrer ------------------------------------------------------------------------------

    async def transfer(self, channel: Channel, request: TransferRequest) -> TransferOutcome:
        return await self._desk.transfer(channel, request)

    # -- the service's hooks: agent legs and the event tap ---------------------------------------

    async def originated_hook(self, channel: Channel, call: CallInfo) -> None:
        """An agent or a customer called back answered (the StasisStart of a leg we originated), or a
        supervisor's phone or snoop channel of a monitoring session entered our app."""
        if self._monitors.handles(call):
            await self._monitors.answered(channel, call)
        elif self._customers.owns(channel.id):
            await self._customers.answered(channel, call)
        else:
            await self._legs.answered(channel, call)

    # -- supervisors ------------------------------------------------------------------------------

    async def monitor(self, agent_id: str, supervisor: str, mode: MonitorMode) -> MonitorSession:
        """Ring ``supervisor`` (an endpoint) to listen to, whisper to or barge into ``agent_id``'s call
        (``acd.live.monitor``); ``MonitorError`` when the agent is not on a call here."""
        return await self._monitors.start(agent_id, supervisor, mode)

    def monitor_sessions(self) -> list[MonitorSession]:
        """The monitoring sessions running now (rung or connected)."""
        return self._monitors.sessions()

    def on_ari_event(self, event: AriEvent) -> None:
        self._tap.on_event(event)
        if isinstance(event, ChannelDestroyed) and (gone := self._monitors.channel_gone(event.channel.id)):
            self._tasks.spawn(self._monitors.end(gone), f"monitor-end-{gone.id}")

    async def resynced(
        self, existing: AbstractSet[str], bridges: Mapping[str, Sequence[str]]
    ) -> Resynced:
        """The service listed Asterisk's channels and bridges (after a (re)connect): the first time,
        settle what the store kept from an earlier run, then let the tick loop run. Says which agent
        legs still ring (no orphans: their answer comes as a StasisStart of its own) and which orphans
        are the ACD's to take back (waiting and bridged callers of the earlier run)."""
        try:
            await self._recovery.reconcile(existing, bridges)
        finally:
            self._ticker.started.set()
        return Resynced(looked_after=self._legs.ringing() & existing,
                        claimed=self._recovery.claimed() & existing)

    async def adopt(self, channel: Channel, call: CallInfo) -> bool:
        """The service's orphan hook: serve a channel an earlier run left in our app (True) if the ACD
        had it (waiting, ringing an agent, bridged), else False at once."""
        return await self._recovery.adopt(channel, call)

    # -- the tick loop ----------------------------------------------------------------------------

    async def run(self) -> None:
        """Tick the ACD until cancelled; then cancel and await the runtime's tasks (bounded)."""
        await self._ticker.run()

    def wake(self) -> None:
        """Another node changed the ACD (``acd.live.notify``): tick now."""
        self._ticker.wake()

    async def tick(self) -> None:
        """One tick now (tests)."""
        await self._ticker.tick()

    async def drain(self) -> None:
        """Wait for the runtime's own tasks (originates, stored facts) to finish (tests)."""
        await self._tasks.drain()
