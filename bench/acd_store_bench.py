"""ACD store benchmark: one routing decision on the memory, SQLite and PostgreSQL stores. Prints figures,
asserts nothing.

Run from the repo root: ``.venv/bin/python -m bench.acd_store_bench [--agents 1000] [--iterations 500]
[--pg-url URL | --no-pg]``

The state is ``bench.acd_bench``'s steady state, built the same way on each store: N agents, all on a
call, every one holding ``general``, and N callers waiting over 5 skill queues. One measured decision =
an agent hangs up (zero wrap-up), becomes ready, and the engine picks the most urgent call it can take
and the best agent for it with its explanation, all in one store transaction (``Acd`` runs each
operation in one; on a database store that is one commit). Answering the offer and queueing a new call
to keep N waiting happen outside the timing.

SQLite is a fresh file in a temp folder; PostgreSQL a fresh database ``acd_bench_<random>`` on the
server of ``--pg-url`` (default ``IVR_BENCH_PG_URL`` or the local trust-auth server), dropped
afterwards, and skipped with a note when the server is unreachable. Both are created by the
migrations (what ``ivr db init`` does), and analysed after the bulk load (``ANALYZE``, as autovacuum
would soon do on a live server). The table also gives this process's own CPU time per decision (the
rest of a decision's time is waiting for the database), how many statements one decision sends and in
how many round trips (on PostgreSQL the store sends pipeline batches, ``acd.sql_batch``: ``BEGIN`` goes
with the first, uncounted, and the ``COMMIT`` with the last, counted as a statement; SQLite's ``BEGIN``
and ``COMMIT`` are not counted), and whether every store made the same decisions (it should: same seed,
same operations).
"""

from __future__ import annotations

import argparse
import os
import random
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from acd import AcdStore, AgentState, MemoryStore, OfferMade
from acd.sql_store import SqlStore
from bench.acd_bench import SKILLS, _add_call, build, percentile
from ivr_engine.storage import Database
from ivr_engine.storage.migrate import upgrade

DEFAULT_PG_URL = os.environ.get("IVR_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


@dataclass(frozen=True)
class Result:
    store: str
    times: list[float]
    statements: float
    round_trips: float
    cpu_ms: float
    decisions: list[tuple[str, str] | None]
    build_s: float

    def p(self, q: float) -> float:
        return percentile(self.times, q) * 1e3


def run(name: str, store: AcdStore, n: int, iterations: int, count: Callable[[], tuple[int, int]],
        built: Callable[[], None] = lambda: None) -> Result:
    began = time.perf_counter()
    with store.transaction():
        acd = build(n, store=store)
        busy = [a.id for a in store.agents()]
    built()
    build_s = time.perf_counter() - began
    rng = random.Random(n)
    times: list[float] = []
    decisions: list[tuple[str, str] | None] = []
    sent = trips = 0
    cpu = 0.0
    now = 10.0
    for i in range(iterations):
        agent_id = busy[rng.randrange(len(busy))]
        before = count()
        c0, t0 = time.process_time(), time.perf_counter()
        events = acd.end_call(agent_id, now)
        times.append(time.perf_counter() - t0)
        cpu += time.process_time() - c0
        after = count()
        sent += after[0] - before[0]
        trips += after[1] - before[1]
        offers = [(e.offer.agent_id, e.offer.call_id) for e in events if isinstance(e, OfferMade)]
        decisions.append(offers[0] if offers else None)
        with store.transaction():
            for ringing in store.agents_in_state(AgentState.RINGING):
                acd.answer(ringing.id, now)
            if not offers:  # nothing it could take: keep it busy for the next round
                store.save_agent(replace(acd.agent(agent_id), state=AgentState.ON_CALL,
                                         current_queue="billing", answered_at=now))
            _add_call(acd, rng, f"n{i}", now)
        now += 0.01
    return Result(name, times, sent / iterations, trips / iterations, cpu / iterations * 1e3, decisions,
                  build_s)


def sql_run(name: str, url: str, n: int, iterations: int) -> Result:
    database = Database(url)
    try:
        upgrade(database)
    finally:
        database.dispose()
    store = SqlStore(url)
    statements = [0]

    @event.listens_for(store.engine, "before_cursor_execute")
    def _count(*_: object) -> None:
        statements[0] += 1

    try:
        def count() -> tuple[int, int]:  # statements, round trips (a batch is one)
            batches, batched = store.batches
            return statements[0] + batched, statements[0] + batches

        return run(name, store, n, iterations, count, lambda: _analyze(store))
    finally:
        store.close()


def _analyze(store: SqlStore) -> None:
    """Table statistics, as autovacuum (PostgreSQL) or a running service would have them after a bulk
    load: without them the planner guesses the fresh tables hold a handful of rows."""
    with store.engine.begin() as conn:
        conn.exec_driver_sql("ANALYZE")


@contextmanager
def fresh_postgres(server_url: str) -> Iterator[str | None]:
    """A new database on the server (dropped afterwards), or ``None`` with a note if it cannot be made."""
    name = f"acd_bench_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3})
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except SQLAlchemyError as exc:
        print(f"PostgreSQL skipped: {str(exc.orig or exc).strip().splitlines()[0]}")
        admin.dispose()
        yield None
        return
    try:
        yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=1000, help="agents, and callers waiting")
    parser.add_argument("--iterations", type=int, default=500)
    parser.add_argument("--pg-url", default=DEFAULT_PG_URL, help="a PostgreSQL server to make a database on")
    parser.add_argument("--no-pg", action="store_true", help="memory and SQLite only")
    args = parser.parse_args()
    n, iterations = args.agents, args.iterations
    print(f"{n:,} agents x {n:,} waiting calls over {len(SKILLS)} queues, {iterations} decisions per store")
    results = [run("memory", MemoryStore(), n, iterations, lambda: (0, 0))]
    with tempfile.TemporaryDirectory(prefix="acd-store-bench-") as tmp:
        results.append(sql_run("SQLite", f"sqlite:///{Path(tmp) / 'acd.db'}", n, iterations))
    if not args.no_pg:
        with fresh_postgres(args.pg_url) as url:
            if url is not None:
                results.append(sql_run("PostgreSQL", url, n, iterations))
    memory = results[0]
    print("store        build s  decisions/s  p50 ms  p99 ms  p50 x memory  p99 x memory  own CPU ms"
          "  statements  round trips  same decisions")
    for r in results:
        per_s = len(r.times) / sum(r.times)
        same = "yes" if r.decisions == memory.decisions else "NO"
        print(f"{r.store:<11}  {r.build_s:>7.1f}  {per_s:>11,.0f}  {r.p(0.5):>6.2f}  {r.p(0.99):>6.2f}  "
              f"{r.p(0.5) / memory.p(0.5):>11.1f}x  {r.p(0.99) / memory.p(0.99):>11.1f}x  "
              f"{r.cpu_ms:>10.2f}  {r.statements:>10.1f}  {r.round_trips:>11.1f}  {same:>14}")


if __name__ == "__main__":
    main()
