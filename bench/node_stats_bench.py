"""Benchmark: ``ivr stats nodes`` (SQL aggregates) against a naive baseline, on a million node events.

    python bench/node_stats_bench.py [--events 1000000] [--db FILE | --url POSTGRES_URL] [--repeat 3]

Builds a SQLite file of synthetic calls walking a small IVR (bulk insert, with progress), then times, in
the same run and on the same file: the report queries (per-node figures + funnel, as the command runs
them) and a naive baseline that loads every row into Python and aggregates there. Prints both timings,
the ratio, and whether both give the same figures. No assertions on time. ``--url`` runs the same on
PostgreSQL, in a throwaway schema that is dropped afterwards.
"""

from __future__ import annotations

import argparse
import itertools
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Connection, create_engine, insert, select, text
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ivr_engine.reports import NodeFilter, TimeWindow, query_funnel, query_node_stats
from ivr_engine.reports.funnel import main_path
from ivr_engine.storage import Database
from ivr_engine.storage.migrate import upgrade
from ivr_engine.storage.models import NodeEventRow

START = datetime(2026, 1, 1, tzinfo=UTC)
BATCH = 50_000

# node -> (type, [(probability, outcome, next node or None)]); a walk ends at None.
FLOW: dict[str, tuple[str, list[tuple[float, str, str | None]]]] = {
    "welcome": ("play", [(0.97, "next", "menu"), (0.03, "hangup", None)]),
    "menu": (
        "menu",
        [
            (0.35, "1", "account"),
            (0.25, "2", "order"),
            (0.15, "3", "points"),
            (0.10, "0", "transfer"),
            (0.08, "timeout", "goodbye"),
            (0.04, "invalid", "goodbye"),
            (0.03, "hangup", None),
        ],
    ),
    "account": ("gather", [(0.8, "found", "balance"), (0.15, "invalid", "goodbye"), (0.05, "hangup", None)]),
    "balance": ("say", [(0.95, "next", "goodbye"), (0.05, "hangup", None)]),
    "order": ("gather", [(0.85, "found", "order_status"), (0.15, "not_found", "goodbye")]),
    "order_status": ("say", [(1.0, "next", "goodbye")]),
    "points": ("gather", [(0.9, "found", "points_say"), (0.1, "timeout", "goodbye")]),
    "points_say": ("say", [(1.0, "next", "goodbye")]),
    "transfer": ("transfer", [(0.7, "completed", None), (0.3, "no_agents", "goodbye")]),
    "goodbye": ("play", [(1.0, "next", None)]),
}


def _walk(rng: random.Random) -> Iterator[tuple[str, str, str]]:
    node: str | None = "welcome"
    while node is not None:
        node_type, edges = FLOW[node]
        pick, acc = rng.random(), 0.0
        chosen = edges[-1]
        for edge in edges:
            acc += edge[0]
            if pick <= acc:
                chosen = edge
                break
        yield node, node_type, chosen[1]
        node = chosen[2]


def build(database: Database, events: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    table = NodeEventRow.__table__
    written, call, batch = 0, 0, []
    began = time.perf_counter()
    with database.engine.begin() as connection:
        while written < events:
            call += 1
            at = START + timedelta(seconds=call * 3)
            for seq, (node, node_type, outcome) in enumerate(_walk(rng), start=1):
                left = at + timedelta(milliseconds=rng.randint(300, 20_000))
                batch.append(
                    {
                        "call_id": f"call-{call}",
                        "seq": seq,
                        "flow": "main",
                        "node": node,
                        "node_type": node_type,
                        "entered": at,
                        "left": left,
                        "input": None,
                        "outcome": outcome,
                    }
                )
                at = left
            if len(batch) >= BATCH:
                connection.execute(insert(table), batch)
                written += len(batch)
                batch = []
                rate = written / (time.perf_counter() - began)
                print(
                    f"\r  inserted {written:>9,} events ({rate:,.0f}/s)", end="", flush=True, file=sys.stderr
                )
        if batch:
            connection.execute(insert(table), batch)
            written += len(batch)
    print(f"\r  inserted {written:>9,} events in {call:,} calls, {time.perf_counter() - began:.1f} s")


Figures = dict[tuple[str, str], tuple[int, int, int, int, float, float]]


def sql_report(connection: Connection) -> tuple[Figures, list[tuple[str, int, int]]]:
    nodes = query_node_stats(connection, NodeFilter())
    funnel = query_funnel(connection, "main", TimeWindow())
    figures = {
        (n.flow, n.node): (n.visits, n.hangups, n.timeouts, n.invalid, n.median_s, n.p90_s) for n in nodes
    }
    return figures, [(s.node, s.reached, s.ended_here) for s in funnel]


def naive_report(connection: Connection) -> tuple[Figures, list[tuple[str, int, int]]]:
    """Load every event, then aggregate in Python: what one would write without SQL aggregates."""
    ev = NodeEventRow.__table__.c
    spent: dict[tuple[str, str], list[float]] = defaultdict(list)
    outcomes: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    paths: dict[str, list[tuple[int, tuple[str, str]]]] = defaultdict(list)
    rows = connection.execute(select(ev.call_id, ev.seq, ev.flow, ev.node, ev.entered, ev.left, ev.outcome))
    for call_id, seq, flow, node, entered, left, outcome in rows:
        key = (flow, node)
        spent[key].append((left - entered).total_seconds())
        outcomes[key][outcome] += 1
        paths[call_id].append((seq, key))
    figures: Figures = {}
    for key, values in spent.items():
        values.sort()
        n = len(values)
        p90 = values[(9 * n + 9) // 10 - 1]
        figures[key] = (
            n,
            outcomes[key]["hangup"],
            outcomes[key]["timeout"],
            outcomes[key]["invalid"],
            round(statistics.median(values), 3),
            round(p90, 3),
        )
    firsts: Counter[tuple[str, str]] = Counter()
    reached: dict[tuple[str, str], set[str]] = defaultdict(set)
    ended: Counter[tuple[str, str]] = Counter()
    edges: dict[tuple[str, str], dict[tuple[str, str], set[str]]] = defaultdict(lambda: defaultdict(set))
    for call_id, steps in paths.items():
        steps.sort()
        keys = [key for _, key in steps]
        main = [key for key in keys if key[0] == "main"]
        if main:
            firsts[main[0]] += 1
        ended[keys[-1]] += 1
        for key in keys:
            reached[key].add(call_id)
        for a, b in itertools.pairwise(keys):
            if a != b:
                edges[a][b].add(call_id)
    entry = min(firsts.items(), key=lambda item: (-item[1], item[0]))[0]
    successors = {a: {b: len(calls) for b, calls in targets.items()} for a, targets in edges.items()}
    path = main_path(entry, successors)
    return figures, [(key[1], len(reached[key]), ended[key]) for key in path]


def _best(repeat: int, work: object) -> tuple[float, object]:
    assert callable(work)
    best, result = float("inf"), None
    for _ in range(repeat):
        began = time.perf_counter()
        result = work()
        best = min(best, time.perf_counter() - began)
    return best, result


def _agree(a: object, b: object) -> bool:
    """Equal, except that times may differ by float rounding (SQLite computes them from julianday)."""
    if isinstance(a, float) and isinstance(b, float):
        return abs(a - b) <= 0.002
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_agree(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return len(a) == len(b) and all(_agree(x, y) for x, y in zip(a, b, strict=True))
    return a == b


@contextmanager
def _database(args: argparse.Namespace, tmp: Path) -> Iterator[tuple[Database, str]]:
    """The database to bench: a fresh SQLite file, or a fresh schema in ``--url`` (dropped afterwards)."""
    if not args.url:
        path: Path = args.db or tmp / "bench.db"
        path.unlink(missing_ok=True)
        database = Database(f"sqlite:///{path}")
        try:
            yield database, str(path)
        finally:
            database.dispose()
        return
    schema = f"ivr_bench_{uuid.uuid4().hex[:12]}"
    admin = create_engine(args.url)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(args.url).update_query_dict({"options": f"-csearch_path={schema}"})
    database = Database(url.render_as_string(hide_password=False))
    try:
        yield database, f"PostgreSQL schema {schema}"
    finally:
        database.dispose()
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--db", type=Path, help="SQLite file to build (default: a temporary one)")
    parser.add_argument("--url", help="a PostgreSQL URL to bench on instead (a throwaway schema in it)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per variant; the best is reported")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, _database(args, Path(tmp)) as (database, where):
        upgrade(database)
        print(f"building {args.events:,} node events in {where}")
        build(database, args.events)
        if database.engine.dialect.name == "postgresql":  # what autovacuum would do: stats, visibility map
            with database.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                connection.execute(text("VACUUM ANALYZE node_events"))
        with database.engine.connect() as connection:
            sql_s, sql_result = _best(args.repeat, lambda: sql_report(connection))
            naive_s, naive_result = _best(args.repeat, lambda: naive_report(connection))
    kind = "PostgreSQL" if args.url else "SQLite file"
    print(f"\nbest of {args.repeat} runs, {args.events:,} events ({kind}):")
    print(f"  {'stats nodes (SQL aggregates + funnel)':<42} {sql_s:8.2f} s")
    print(f"  {'naive baseline (load rows, aggregate in Python)':<42} {naive_s:8.2f} s")
    print(f"  {'ratio naive / SQL':<42} {naive_s / sql_s:8.2f} x")
    same = _agree(sql_result, naive_result)
    print(f"  {'same figures (times within 2 ms)':<42} {'yes' if same else 'NO'}")
    if not same:
        print(f"  SQL:   {sql_result}\n  naive: {naive_result}")


if __name__ == "__main__":
    main()
