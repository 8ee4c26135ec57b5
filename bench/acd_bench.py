"""ACD routing benchmark: prints figures, asserts nothing.

Run from the repo root: ``.venv/bin/python -m bench.acd_bench [--iterations N] [--sizes N ...]``

Steady state with N agents (all busy, every one holding ``general``) and N waiting calls over 5 skill
queues. One measured decision = an agent hangs up (zero wrap-up), becomes ready, and the engine picks
the most urgent call it can take and the best agent for it, with its explanation (counts per pass reason
over everyone holding a needed skill, every ready agent that ranked lower and the 10 nearest others by
name). The decision is answered and a new call queued, outside the timing, to keep N waiting.

The naive baseline decides the same thing (with the same explanation) on the same state by full
rescan: sort all waiting calls into service order, and for each call scan every agent until one fits,
then classify and count every agent (``acd.routing.choose_agent``). Its snapshot's garbage is
collected outside both timings.
"""

from __future__ import annotations

import argparse
import gc
import random
import statistics
import time
from collections.abc import Sequence
from dataclasses import replace

from acd import Acd, AcdStore, Agent, AgentState, EscalationStep, Queue, Strategy, WaitingCall
from acd.model import requirements_at
from acd.routing import RoutingInput, choose_agent, eligible

SKILLS = ["billing", "orders", "loyalty", "tech", "sales"]
STRATEGIES = list(Strategy)


def build(n: int, seed: int = 7, store: AcdStore | None = None) -> Acd:
    rng = random.Random(seed)
    queues = [
        Queue(skill, {skill: 3, "general": 1}, strategy=STRATEGIES[i % len(STRATEGIES)], wrap_up_seconds=0,
              max_wait=1e9, escalation=(EscalationStep(60, skill, 1),))
        for i, skill in enumerate(SKILLS)
    ]
    acd = Acd(queues, store=store)
    store = acd.store
    for i in range(n):
        skills = {"general": rng.randint(1, 10)}
        skills.update({s: rng.randint(1, 10) for s in rng.sample(SKILLS, 2)})
        store.save_agent(Agent(f"a{i:05d}", f"Agent {i}", f"PJSIP/a{i}", skills, state=AgentState.ON_CALL,
                               state_since=0.0, current_call=f"x{i}", current_queue=SKILLS[i % 5],
                               answered_at=0.0))
    for i in range(n):
        _add_call(acd, rng, f"c{i}", now=float(i) / n)
    return acd


def _add_call(acd: Acd, rng: random.Random, call_id: str, now: float) -> None:
    q = acd.queue(rng.choice(SKILLS))
    acd.store.save_call(WaitingCall(call_id, "caller", q.name, now, acd.store.next_seq(), dict(q.skills),
                                    priority=rng.choice([0, 0, 0, 1]), vip=rng.random() < 0.05))


def naive_decision(agents: Sequence[Agent], calls: Sequence[WaitingCall], acd: Acd, now: float) -> str | None:
    for call in sorted(calls, key=lambda c: c.order):
        if call.offered_to is not None:
            continue
        q = acd.queue(call.queue)
        needed = requirements_at(call.skills, q.escalation, now - call.enqueued_at)
        if any(eligible(a, needed) for a in agents):
            decision = choose_agent(RoutingInput(needed, agents, q.strategy, now))
            return decision.chosen if decision else None
    return None


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p * len(ordered)))]


def run(n: int, iterations: int, naive_iterations: int) -> dict[str, float]:
    rng = random.Random(n)
    acd = build(n)
    busy = [a.id for a in acd.store.agents()]
    fast: list[float] = []
    slow: list[float] = []
    now = 10.0
    for i in range(iterations):
        agent_id = busy[rng.randrange(len(busy))]
        if i < naive_iterations:
            snapshot_agents = [replace(a, state=AgentState.READY, state_since=now) if a.id == agent_id else a
                               for a in acd.store.agents()]
            snapshot_calls = [c for q in SKILLS for c in acd.store.waiting(q)]
            t0 = time.perf_counter()
            naive_decision(snapshot_agents, snapshot_calls, acd, now)
            slow.append(time.perf_counter() - t0)
            del snapshot_agents, snapshot_calls
            gc.collect()  # the baseline's garbage must not land a collection in the engine's timing
        t0 = time.perf_counter()
        acd.end_call(agent_id, now)
        fast.append(time.perf_counter() - t0)
        offer = acd.store.offer(agent_id)
        for ringing in acd.store.agents_in_state(AgentState.RINGING):
            acd.answer(ringing.id, now)
        if offer is None:  # nothing it could take: keep it busy for the next round
            idle = replace(acd.agent(agent_id), state=AgentState.ON_CALL, current_queue="billing",
                           answered_at=now)
            acd.store.save_agent(idle)
        _add_call(acd, rng, f"n{i}", now)
        now += 0.01
    mean_fast = statistics.fmean(fast)
    return {
        "n": n,
        "per_s": 1 / mean_fast,
        "p50": percentile(fast, 0.50) * 1e6,
        "p99": percentile(fast, 0.99) * 1e6,
        "naive_p50": percentile(slow, 0.50) * 1e6,
        "naive_p99": percentile(slow, 0.99) * 1e6,
        "ratio": statistics.fmean(slow) / mean_fast,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=1000)
    parser.add_argument("--sizes", type=int, nargs="*", default=[100, 300, 1000, 3000, 10000])
    args = parser.parse_args()
    print("agents=calls  decisions/s  p50 us  p99 us  naive p50 us  naive p99 us  naive/indexed (mean)")
    for n in args.sizes:
        naive_iterations = max(20, min(args.iterations, 200_000 // n))
        r = run(n, args.iterations, naive_iterations)
        print(f"{n:>12,}  {r['per_s']:>11,.0f}  {r['p50']:>6,.0f}  {r['p99']:>6,.0f}  "
              f"{r['naive_p50']:>12,.0f}  {r['naive_p99']:>12,.0f}  {r['ratio']:>8.1f}x")


if __name__ == "__main__":
    main()
