"""``AcdRuntime``: the pure ``acd.Acd`` driven live over ARI.

Who does what:

- ``transfer`` runs in the caller's call task: it queues the call, plays hold audio and announcements,
  listens for the callback key and the hangup, and once an agent answers bridges the two legs and waits
  for either side to hang up.
- Offers are rung by originating the agent's endpoint with our channel id and app args
  ``["agent", call_id]``. The service hands that leg's StasisStart to ``originated_hook`` (the agent
  answered); ``on_ari_event`` (the service's event tap) sees a leg destroyed before answering.
- ``run`` ticks the ACD (ring timeouts, wrap-ups, max waits, escalation) until cancelled, then cancels
  and awaits the runtime's own tasks.

Every ACD event is applied in ``_apply``: stored through the fact sink, published to subscribers, and
acted on (originate, stop ringing, overflow a caller). Times in the ACD are epoch seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import acd
from acd.live.api import RuntimeEvent, RuntimeEventKind
from acd.live.facts import AcdFactSink, QueueOutcome
from acd.live.hold import HoldOptions, announcement, hold_cycle
from acd.live.hub import EventHub, Subscription
from acd.model import requirements_at
from ivr_engine.ari.client import AriClient
from ivr_engine.ari.errors import AriError, AriNotFound
from ivr_engine.ari.events import AriEvent, ChannelDestroyed, ChannelHangupRequest, ChannelLeftBridge
from ivr_engine.calls import ORIGINATED_MARKER, CallInfo
from ivr_engine.channel import CallerHungUp, Channel, ChannelError, Media
from ivr_engine.flow.ports import TransferOutcome, TransferRequest
from ivr_engine.logs import fields

__all__ = ["AcdRuntime", "RuntimeOptions"]

log = logging.getLogger(__name__)

_REMEMBERED_ANSWERS = 10_000
_REMEMBER_SECONDS = 3600.0
"""Who answered a call is kept for the post-call survey: the last 10,000 calls, none older than an hour."""
_LISTEN_SECONDS = 3600.0
_LEAVE_BRIDGE_SECONDS = 2.0
"""How long the caller's next prompt waits for Asterisk to take the caller out of the destroyed bridge: a
playback requested while the channel is still in it is lost with the bridge (the caller would hear nothing
and the flow would wait for a PlaybackFinished that never comes)."""
_AFTER_PROMPT_SECONDS = 0.05
"""How long a hold prompt waits for a key after it ends before the music starts."""


@dataclass(frozen=True)
class RuntimeOptions:
    tick_seconds: float = 0.5
    shutdown_timeout: float = 5.0
    ring_margin_seconds: int = 5
    """Asterisk's originate timeout is the queue's ring timeout plus this; the ACD's tick comes first."""
    hold: HoldOptions = field(default_factory=HoldOptions)
    caller_id: str = ""


@dataclass
class _Leg:
    """An agent's phone rung for one offer."""

    channel_id: str
    agent_id: str
    call_id: str
    answered: bool = False
    gone: asyncio.Event = field(default_factory=asyncio.Event)
    released: asyncio.Event = field(default_factory=asyncio.Event)


@dataclass
class _Waiter:
    """A caller inside ``transfer``; ``connected`` resolves with the answering leg or an overflow."""

    request: TransferRequest
    channel: Channel
    connected: asyncio.Future[_Leg | TransferOutcome]
    callback: bool = False


def _at(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


_LOGGED_IN_ELSEWHERE = (
    acd.PassReason.PAUSED, acd.PassReason.RINGING, acd.PassReason.BUSY, acd.PassReason.WRAP_UP
)
"""Pass reasons of agents who hold the skills and are logged in, just not free right now."""

class AcdRuntime:
    """Implements ``Transferrer`` (flows) and ``AcdControl`` (operators); see the module docstring."""

    def __init__(
        self,
        engine: acd.Acd,
        client: AriClient,
        *,
        facts: AcdFactSink | None = None,
        options: RuntimeOptions | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._acd = engine
        self._client = client
        self._facts = facts
        self._options = options or RuntimeOptions()
        self._clock = clock
        self._hub = EventHub()
        self._waiters: dict[str, _Waiter] = {}
        self._legs: dict[str, _Leg] = {}
        self._answered_by: OrderedDict[str, tuple[str, float]] = OrderedDict()  # call -> (agent, when)
        self._leaving: dict[str, asyncio.Event] = {}  # caller channel -> set once it left the ACD bridge
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def engine(self) -> acd.Acd:
        return self._acd

    # -- AcdControl -------------------------------------------------------------------------------

    def agents(self) -> list[acd.Agent]:
        return self._acd.store.agents()

    def queue_statuses(self) -> list[acd.QueueStatus]:
        now = self._clock()
        return [self._acd.queue_status(name, now) for name in sorted(self._acd.queues)]

    def waiting_calls(self) -> list[acd.WaitingCall]:
        return [c for name in sorted(self._acd.queues) for c in self._acd.store.waiting(name)]

    async def login(self, agent_id: str) -> None:
        self._apply(self._acd.login(agent_id, self._clock()))

    async def logout(self, agent_id: str) -> None:
        self._apply(self._acd.logout(agent_id, self._clock()))

    async def pause(self, agent_id: str, reason: str) -> None:
        self._apply(self._acd.pause(agent_id, reason, self._clock()))

    async def ready(self, agent_id: str) -> None:
        self._apply(self._acd.ready(agent_id, self._clock()))

    def subscribe(self) -> Subscription:
        return self._hub.subscribe()

    def agent_of(self, call_id: str) -> str | None:
        """The agent who answered ``call_id`` (kept after the call for the post-call survey: see
        ``_REMEMBER_SECONDS``)."""
        self._forget_old()
        answered = self._answered_by.get(call_id)
        return answered[0] if answered is not None else None

    # -- Transferrer ------------------------------------------------------------------------------

    async def transfer(self, channel: Channel, request: TransferRequest) -> TransferOutcome:
        """Queue the caller until an agent answers (COMPLETED once the agent hangs up), max wait
        (OVERFLOW), the callback key (CALLBACK) or nobody logged in (NO_AGENTS). A caller hangup
        raises ``CallerHungUp`` as every channel operation does."""
        try:
            queue = self._acd.queue(request.queue)
        except acd.UnknownQueue as exc:
            log.error(fields("acd.transfer.failed", call=request.call_id, error=str(exc)))
            return TransferOutcome.FAILED
        now = self._clock()
        if not self._staffed(queue, request):
            self._spawn(self._facts_enqueued(request, now, None), "facts")
            self._spawn(self._facts_ended(request.call_id, QueueOutcome.NO_AGENTS, now), "facts")
            return TransferOutcome.NO_AGENTS
        waiter = _Waiter(request, channel, asyncio.get_running_loop().create_future())
        self._waiters[request.call_id] = waiter
        try:
            self._apply(self._acd.enqueue(
                request.call_id, request.caller, queue.name, now, priority=request.priority,
                vip=request.variables.get("vip") == "1", skills=dict(request.skills) or None,
            ))
            result = await self._wait_for_agent(waiter, queue)
            if isinstance(result, TransferOutcome):
                return result
            return await self._talk(waiter, result)
        finally:
            self._waiters.pop(request.call_id, None)
            if self._acd.store.call(request.call_id) is not None:
                self._apply(self._acd.abandon(request.call_id, self._clock()))

    async def _wait_for_agent(self, waiter: _Waiter, queue: acd.Queue) -> _Leg | TransferOutcome:
        hold = asyncio.create_task(self._hold(waiter, queue), name=f"hold-{waiter.request.call_id}")
        try:
            either: list[asyncio.Future[Any]] = [hold, waiter.connected]
            await asyncio.wait(either, return_when=asyncio.FIRST_COMPLETED)
        finally:
            if not hold.done():
                hold.cancel()
            await asyncio.gather(hold, return_exceptions=True)
        if waiter.connected.done():
            result = waiter.connected.result()
            caller_gone = not hold.cancelled() and isinstance(hold.exception(), CallerHungUp)
            if isinstance(result, _Leg) and caller_gone:
                await self._hang_up_agent(result)
                self._finish_call(waiter, result)
                raise CallerHungUp(waiter.channel.id)
            return result
        error = hold.exception()
        if error is not None:
            raise error  # CallerHungUp: the finally of transfer() records the abandon
        return await self._book_callback(waiter)

    async def _hold(self, waiter: _Waiter, queue: acd.Queue) -> None:
        """Loop announcements (or the reassurance) and music on hold; returns when the callback key is
        pressed. Prompts or music that cannot be played are dropped (logged), down to silence, so they
        never cost the caller their place. The music is stopped before every prompt and whenever the
        loop ends (agent answered, overflow, callback key), except when the caller has hung up."""
        loop = asyncio.get_running_loop()
        next_announce = loop.time()
        call_id = waiter.request.call_id
        hold = self._options.hold
        prompts_ok = music_ok = True
        while True:
            if prompts_ok:
                announced: list[Media] = []
                if loop.time() >= next_announce and self._acd.store.call(call_id) is not None:
                    position = self._acd.position(call_id)
                    announced = announcement(position, self._acd.expected_wait(call_id, self._clock()))
                    next_announce = loop.time() + queue.announce_interval
                try:
                    if await self._listen(waiter, hold_cycle(hold, announced), _AFTER_PROMPT_SECONDS):
                        return
                except ChannelError as exc:
                    log.warning(fields("acd.hold.audio_failed", call=call_id, fallback="music",
                                       error=str(exc)))
                    prompts_ok = False  # e.g. an unbuilt prompt: the caller keeps their place, on music
            playing = False
            try:
                if music_ok:
                    playing = True  # a start cancelled in flight may still reach Asterisk: stop it too
                    music_ok = playing = await self._start_music(waiter)
                pressed = await self._listen(waiter, (), hold.music_seconds)
            except CallerHungUp:
                playing = False  # the music went with the channel
                raise
            finally:
                if playing:
                    await self._stop_music(waiter)
            if pressed:
                return

    async def _listen(self, waiter: _Waiter, prompt: Sequence[Media], seconds: float) -> bool:
        """Play ``prompt`` (a key stops it), then wait up to ``seconds``: True on the callback key;
        other keys are ignored."""
        key = self._options.hold.callback_key.value
        deadline = asyncio.get_running_loop().time() + seconds
        while True:
            digits = await waiter.channel.collect(
                prompt=prompt, max_digits=1, terminator=None, first_timeout=seconds, inter_timeout=0.05
            )
            if digits.text == key:
                return True
            prompt, seconds = (), deadline - asyncio.get_running_loop().time()
            if digits.timed_out or seconds <= 0:
                return False

    async def _start_music(self, waiter: _Waiter) -> bool:
        """Start music on hold; False (logged) when Asterisk refuses it: the caller waits on silence."""
        hold = self._options.hold
        try:
            await self._client.start_moh(waiter.channel.id, hold.music_class)
        except AriNotFound as exc:
            raise CallerHungUp(waiter.channel.id) from exc
        except AriError as exc:
            log.warning(fields("acd.hold.music_failed", call=waiter.request.call_id, fallback="silence",
                               error=str(exc)))
            return False
        return True

    async def _stop_music(self, waiter: _Waiter) -> None:
        """Stop music on hold before a prompt or a hand-on; a channel already gone has none."""
        try:
            await self._client.stop_moh(waiter.channel.id)
        except AriNotFound:
            return
        except AriError as exc:
            log.warning(fields("acd.hold.music_stop_failed", call=waiter.request.call_id, error=str(exc)))

    async def _book_callback(self, waiter: _Waiter) -> TransferOutcome:
        """The caller keeps their place in line: the request is stamped with the original enqueue time,
        and callbacks are served in that order. The confirmation plays once the request is stored."""
        request = waiter.request
        call = self._acd.store.call(request.call_id)
        enqueued = call.enqueued_at if call is not None else self._clock()
        waiter.callback = True
        if call is not None:
            self._apply(self._acd.abandon(request.call_id, self._clock()))
        if self._facts is not None:
            await self._facts.callback_requested(
                call_id=request.call_id, caller=request.caller, number=request.caller,
                queue=request.queue, requested=_at(enqueued),
            )
        try:
            await waiter.channel.play(self._options.hold.callback_confirmed)
        except ChannelError as exc:  # booked all the same; the flow goes on to its callback exit
            log.warning(fields("acd.callback.confirm_failed", call=request.call_id, error=str(exc)))
        return TransferOutcome.CALLBACK

    async def _talk(self, waiter: _Waiter, leg: _Leg) -> TransferOutcome:
        """Bridge caller and agent until one hangs up; COMPLETED when the agent hung up first."""
        bridge_id = f"acd-{waiter.request.call_id}"
        caller_gone = False
        left_bridge = self._leaving[waiter.channel.id] = asyncio.Event()
        try:
            await self._client.create_bridge(bridge_id, bridge_type="mixing", name=bridge_id)
            await self._client.add_channel(bridge_id, [waiter.channel.id, leg.channel_id])
            listen = asyncio.create_task(self._until_hangup(waiter.channel), name=f"talk-{bridge_id}")
            agent_gone = asyncio.create_task(leg.gone.wait(), name=f"agent-{bridge_id}")
            try:
                await asyncio.wait({listen, agent_gone}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for task in (listen, agent_gone):
                    task.cancel()
                await asyncio.gather(listen, agent_gone, return_exceptions=True)
            caller_gone = not leg.gone.is_set()
        except AriError as exc:
            log.warning(fields("acd.bridge.failed", call=waiter.request.call_id, error=str(exc)))
            caller_gone = True
        finally:
            with contextlib.suppress(AriError):
                await self._client.destroy_bridge(bridge_id)
            if not caller_gone:  # the flow's next prompt must not reach a channel still in the bridge
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(left_bridge.wait(), _LEAVE_BRIDGE_SECONDS)
            self._leaving.pop(waiter.channel.id, None)
            if not leg.gone.is_set():
                await self._hang_up_agent(leg)
            self._finish_call(waiter, leg)
        if caller_gone:
            raise CallerHungUp(waiter.channel.id)
        return TransferOutcome.COMPLETED

    @staticmethod
    async def _until_hangup(channel: Channel) -> None:
        """Consume the channel's events (keys are ignored) until it hangs up."""
        with contextlib.suppress(CallerHungUp, ChannelError):
            while True:
                await channel.collect(max_digits=1, terminator=None, first_timeout=_LISTEN_SECONDS)

    def _finish_call(self, waiter: _Waiter, leg: _Leg) -> None:
        now = self._clock()
        leg.released.set()
        self._legs.pop(leg.channel_id, None)
        with contextlib.suppress(acd.AcdError):
            self._apply(self._acd.end_call(leg.agent_id, now))
        self._spawn(self._facts_ended(leg.call_id, QueueOutcome.ANSWERED, now), "facts")
        self._publish(RuntimeEventKind.ENDED, now, leg.agent_id, leg.call_id, waiter.request.caller,
                      waiter.request.queue)

    def _staffed(self, queue: acd.Queue, request: TransferRequest) -> bool:
        """Is anyone logged in who could ever take this call (after every escalation step)? Read from
        the store's indexed pool counts: skills are judged before state, so an agent counted as paused,
        ringing, busy or in wrap-up holds the skills."""
        needed = requirements_at(dict(request.skills) or queue.skills, queue.escalation, float("inf"))
        counts = self._acd.store.pool_counts(needed)
        return counts.eligible > 0 or any(counts.passed.get(reason, 0) for reason in _LOGGED_IN_ELSEWHERE)

    # -- agent legs -------------------------------------------------------------------------------

    async def originated_hook(self, channel: Channel, call: CallInfo) -> None:
        """An agent answered: take the call, then keep the leg until either side hangs up."""
        leg = self._legs.get(channel.id)
        waiter = self._waiters.get(leg.call_id) if leg is not None else None
        offer = self._acd.store.offer(leg.agent_id) if leg is not None else None
        if leg is None or waiter is None or offer is None or offer.call_id != leg.call_id:
            log.info(fields("acd.leg.stale", channel=channel.id, args=",".join(call.args)))
            return  # the service hangs the leg up
        leg.answered = True
        try:
            self._apply(self._acd.answer(leg.agent_id, self._clock()))
        except acd.AcdError as exc:
            log.warning(fields("acd.answer.refused", agent=leg.agent_id, error=str(exc)))
            return
        self._remember(leg.call_id, leg.agent_id)
        waiter.connected.set_result(leg)
        listen = asyncio.create_task(self._until_hangup(channel), name=f"leg-{channel.id}")
        released = asyncio.create_task(leg.released.wait(), name=f"released-{channel.id}")
        try:
            await asyncio.wait({listen, released}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            leg.gone.set()
            for task in (listen, released):
                task.cancel()
            await asyncio.gather(listen, released, return_exceptions=True)

    def on_ari_event(self, event: AriEvent) -> None:
        """The service's event tap: an agent leg that ends before answering is a no-answer; a caller
        leaving the ACD bridge releases their next prompt (see ``_LEAVE_BRIDGE_SECONDS``)."""
        if isinstance(event, ChannelLeftBridge):
            if (leaving := self._leaving.get(event.channel.id)) is not None:
                leaving.set()
            return
        if not isinstance(event, ChannelDestroyed | ChannelHangupRequest):
            return
        leg = self._legs.get(event.channel.id)
        if leg is None or leg.answered:
            return
        self._legs.pop(leg.channel_id, None)
        offer = self._acd.store.offer(leg.agent_id)
        if offer is None or offer.call_id != leg.call_id:
            return
        log.info(fields("acd.leg.unanswered", agent=leg.agent_id, call=leg.call_id, cause=event.cause))
        self._apply(self._acd.reject(leg.agent_id, self._clock(), acd.NO_ANSWER))

    async def _ring(self, offer: acd.Offer) -> None:
        agent = self._acd.agent(offer.agent_id)
        leg = _Leg(f"agent-{uuid.uuid4().hex[:16]}", agent.id, offer.call_id)
        self._legs[leg.channel_id] = leg
        ring = round(offer.expires_at - offer.at) + self._options.ring_margin_seconds
        try:
            state = await self._client.endpoint_state(agent.endpoint)
            if state in ("offline", "unavailable"):
                raise ChannelError(f"endpoint {agent.endpoint} is {state}")
            await self._client.originate(
                agent.endpoint, channel_id=leg.channel_id, app_args=[ORIGINATED_MARKER, offer.call_id],
                caller_id=self._options.caller_id or self._caller_of(offer.call_id), ring_seconds=ring,
            )
        except (AriError, ChannelError) as exc:
            log.info(fields("acd.agent.unreachable", agent=agent.id, endpoint=agent.endpoint, error=str(exc)))
            if self._legs.pop(leg.channel_id, None) is None:
                return
            current = self._acd.store.offer(agent.id)
            if current is not None and current.call_id == offer.call_id:
                self._apply(self._acd.reject(agent.id, self._clock(), acd.NO_ANSWER))

    async def _hang_up_agent(self, leg: _Leg) -> None:
        with contextlib.suppress(AriNotFound):
            try:
                await self._client.hangup(leg.channel_id)
            except AriError as exc:
                log.warning(fields("acd.leg.hangup_failed", channel=leg.channel_id, error=str(exc)))

    def _stop_ringing(self, offer: acd.Offer) -> None:
        for leg in list(self._legs.values()):
            if leg.agent_id == offer.agent_id and leg.call_id == offer.call_id and not leg.answered:
                self._legs.pop(leg.channel_id, None)
                self._spawn(self._hang_up_agent(leg), f"stop-ring-{leg.channel_id}")

    # -- the tick loop ----------------------------------------------------------------------------

    async def run(self) -> None:
        """Tick the ACD until cancelled; then cancel and await the runtime's tasks (bounded)."""
        try:
            while True:
                self._apply(self._acd.tick(self._clock()))
                await asyncio.sleep(self._options.tick_seconds)
        finally:
            tasks = list(self._tasks)
            for task in tasks:
                task.cancel()
            if tasks:
                await asyncio.wait(tasks, timeout=self._options.shutdown_timeout)

    def tick(self) -> None:
        """One tick now (tests)."""
        self._apply(self._acd.tick(self._clock()))

    async def drain(self) -> None:
        """Wait for the runtime's own tasks (originates, stored facts) to finish (tests)."""
        while self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    # -- applying ACD events ----------------------------------------------------------------------

    def _apply(self, events: list[acd.AcdEvent]) -> None:
        for event in events:
            self._apply_one(event)

    def _apply_one(self, event: acd.AcdEvent) -> None:
        if isinstance(event, acd.StateChange):
            detail = f"{event.from_state.value} -> {event.to_state.value}: {event.reason}"
            agent = self._acd.agent(event.agent_id)
            self._publish(RuntimeEventKind.STATE_CHANGED, event.at, event.agent_id, agent.current_call,
                          None, agent.current_queue, detail)
            if self._facts is not None:
                self._spawn(self._facts.record_state_change(
                    agent_id=event.agent_id, from_state=event.from_state.value,
                    to_state=event.to_state.value, reason=event.reason, at=_at(event.at)), "facts")
        elif isinstance(event, acd.CallQueued):
            call = event.call
            self._publish(RuntimeEventKind.QUEUE_CHANGED, call.enqueued_at, None, call.id, call.caller,
                          call.queue, f"queued at position {event.position}")
            waiter = self._waiters.get(call.id)
            if waiter is not None:
                self._spawn(self._facts_enqueued(waiter.request, call.enqueued_at, call.predicted_wait),
                            "facts")
        elif isinstance(event, acd.OfferMade):
            offer = event.offer
            self._publish(RuntimeEventKind.OFFERED, offer.at, offer.agent_id, offer.call_id,
                          self._caller_of(offer.call_id), offer.queue, offer.decision.why)
            self._spawn(self._ring(offer), f"ring-{offer.agent_id}")
        elif isinstance(event, acd.OfferEnded):
            if event.result is not acd.OfferResult.ANSWERED:
                self._stop_ringing(event.offer)
        elif isinstance(event, acd.CallAnswered):
            call = event.call
            predicted = event.accuracy.predicted
            guess = "-" if predicted is None else f"{predicted:.1f}s"
            self._publish(RuntimeEventKind.ANSWERED, event.at, event.agent_id, call.id, call.caller,
                          call.queue, f"waited {event.accuracy.actual:.1f}s, predicted {guess}")
            if self._facts is not None:
                self._spawn(self._facts.queue_call_answered(
                    call_id=call.id, agent_id=event.agent_id, answered=_at(event.at)), "facts")
        elif isinstance(event, acd.CallAbandoned):
            waiter = self._waiters.get(event.call.id)
            callback = waiter is not None and waiter.callback
            outcome = QueueOutcome.CALLBACK if callback else QueueOutcome.ABANDONED
            self._publish(RuntimeEventKind.QUEUE_CHANGED, event.at, None, event.call.id, event.call.caller,
                          event.call.queue, outcome.value)
            self._spawn(self._facts_ended(event.call.id, outcome, event.at), "facts")
        elif isinstance(event, acd.CallOverflowed):
            self._publish(RuntimeEventKind.QUEUE_CHANGED, event.at, None, event.call.id, event.call.caller,
                          event.call.queue, f"overflow after {event.waited:.0f}s")
            self._spawn(self._facts_ended(event.call.id, QueueOutcome.OVERFLOW, event.at), "facts")
            waiter = self._waiters.get(event.call.id)
            if waiter is not None and not waiter.connected.done():
                waiter.connected.set_result(TransferOutcome.OVERFLOW)

    def _publish(self, kind: RuntimeEventKind, at: float, agent_id: str | None, call_id: str | None,
                 caller: str | None, queue: str | None, detail: str = "") -> None:
        self._hub.publish(RuntimeEvent(kind, _at(at), agent_id, call_id, caller, queue, detail))

    def _caller_of(self, call_id: str) -> str:
        waiter = self._waiters.get(call_id)
        return waiter.request.caller if waiter is not None else ""

    def _remember(self, call_id: str, agent_id: str) -> None:
        self._answered_by[call_id] = (agent_id, self._clock())
        self._answered_by.move_to_end(call_id)
        self._forget_old()

    def _forget_old(self) -> None:
        """Oldest first (insertion order is answer order): beyond the count, or older than the limit."""
        oldest = self._clock() - _REMEMBER_SECONDS
        while self._answered_by and (
            len(self._answered_by) > _REMEMBERED_ANSWERS or next(iter(self._answered_by.values()))[1] < oldest
        ):
            self._answered_by.popitem(last=False)

    async def _facts_enqueued(self, request: TransferRequest, at: float, predicted: float | None) -> None:
        if self._facts is not None:
            await self._facts.queue_call_enqueued(
                call_id=request.call_id, queue=request.queue, caller=request.caller,
                priority=request.priority, enqueued=_at(at), predicted_wait_s=predicted)

    async def _facts_ended(self, call_id: str, outcome: QueueOutcome, at: float) -> None:
        if self._facts is not None:
            await self._facts.queue_call_ended(call_id=call_id, outcome=outcome, ended=_at(at))

    def _spawn(self, coro: Coroutine[object, object, object], name: str) -> None:
        """A tracked task: awaited by ``drain``, cancelled by ``run`` on shutdown, failures logged."""
        task: asyncio.Task[None] = asyncio.create_task(_discard(coro), name=name)
        self._tasks.add(task)
        task.add_done_callback(self._reap)

    def _reap(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error(fields("acd.task_failed", task=task.get_name(), error=repr(task.exception())))


async def _discard(coro: Coroutine[object, object, object]) -> None:
    await coro
