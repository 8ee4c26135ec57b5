"""Node statistics and the funnel on the hand-built log in conftest.py, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from ivr_engine.reports import NodeFilter, NodeStat, TimeWindow, query_funnel, query_node_stats
from ivr_engine.reports.funnel import main_path
from ivr_engine.reports.source import read
from ivr_engine.storage import Database
from ivr_engine.storage.models import IN_PROGRESS, Call, NodeEventRow


def _stats(database: Database) -> dict[tuple[str, str], NodeStat]:
    return {(s.flow, s.node): s for s in read(database, lambda conn: query_node_stats(conn, NodeFilter()))}


def test_visits_exits_hangups_timeouts_invalid(node_log_db: Database) -> None:
    stats = _stats(node_log_db)
    menu = stats[("main", "menu")]
    assert (menu.node_type, menu.visits, menu.hangups, menu.timeouts, menu.invalid) == ("menu", 4, 0, 1, 1)
    assert {(e.outcome, e.count) for e in menu.exits} == {("1", 2), ("timeout", 1), ("invalid", 1)}
    welcome = stats[("main", "welcome")]
    assert (welcome.visits, welcome.hangups) == (5, 1)
    assert [(e.outcome, e.count) for e in welcome.exits] == [("next", 4), ("hangup", 1)]
    account = stats[("main", "account")]
    assert (account.visits, account.hangups, account.timeouts) == (2, 1, 0)
    assert set(stats) == {
        ("main", "welcome"),
        ("main", "menu"),
        ("main", "account"),
        ("main", "goodbye"),
        ("survey", "q1"),
    }


def test_median_and_p90_time_spent(node_log_db: Database) -> None:
    stats = _stats(node_log_db)
    # menu spent 4, 6, 8, 10 s: median of an even count averages the middle two; p90 = rank ceil(3.6) = 4.
    assert (stats[("main", "menu")].median_s, stats[("main", "menu")].p90_s) == (7.0, 10.0)
    # welcome spent 1, 2, 2, 2, 3 s.
    assert (stats[("main", "welcome")].median_s, stats[("main", "welcome")].p90_s) == (2.0, 3.0)
    assert (stats[("main", "account")].median_s, stats[("main", "account")].p90_s) == (15.0, 20.0)


def test_flow_and_time_window_filters(node_log_db: Database) -> None:
    only_main = read(node_log_db, lambda conn: query_node_stats(conn, NodeFilter(flow="main")))
    assert {s.flow for s in only_main} == {"main"}
    window = TimeWindow(until=datetime(2026, 3, 3, tzinfo=UTC))  # the late call c5 is on 3 March
    early = read(node_log_db, lambda conn: query_node_stats(conn, NodeFilter(window=window)))
    welcome = next(s for s in early if s.node == "welcome")
    assert (welcome.visits, welcome.hangups) == (4, 0)


def test_funnel_follows_the_main_path(node_log_db: Database) -> None:
    funnel = read(node_log_db, lambda conn: query_funnel(conn, "main", TimeWindow()))
    assert [(s.node, s.reached, s.continued, s.ended_here) for s in funnel] == [
        ("welcome", 5, 4, 1),
        ("menu", 4, 2, 1),
        ("account", 2, 1, 1),
        ("goodbye", 2, 0, 2),
    ]
    assert funnel[1].reached_share == 4 / 5
    assert funnel[2].drop_off_share == 1 / 2


def test_a_call_still_in_progress_has_not_dropped_off_at_its_last_logged_node(node_log_db: Database) -> None:
    """c3's last logged node is the menu; while the call is still in progress (queued, say) it reached
    the menu but has not ended there."""

    def still_running(session: Session) -> None:
        call = session.get(Call, "c3")
        assert call is not None
        call.disposition = IN_PROGRESS

    node_log_db.call(still_running)
    funnel = read(node_log_db, lambda conn: query_funnel(conn, "main", TimeWindow()))
    assert [(s.node, s.reached, s.continued, s.ended_here) for s in funnel] == [
        ("welcome", 5, 4, 1),
        ("menu", 4, 2, 0),
        ("account", 2, 1, 1),
        ("goodbye", 2, 0, 2),
    ]


def test_funnel_of_a_flow_without_calls_is_empty(node_log_db: Database) -> None:
    assert read(node_log_db, lambda conn: query_funnel(conn, "nothing", TimeWindow())) == ()


def test_main_path_prefers_the_busiest_edge_and_never_loops() -> None:
    a, b, c = ("f", "a"), ("f", "b"), ("f", "c")
    successors = {a: {b: 3, c: 3}, b: {a: 9, c: 1}, c: {}}
    assert main_path(a, successors) == (a, b, c)


def test_funnel_counts_a_looping_call_once(database: Database) -> None:
    # l1 loops welcome -> menu -> account -> menu -> account -> goodbye; l2 goes welcome -> menu and ends.
    at = datetime(2026, 4, 1, 9, 0, tzinfo=UTC)
    paths = {"l1": ["welcome", "menu", "account", "menu", "account", "goodbye"], "l2": ["welcome", "menu"]}

    def work(session: Session) -> None:
        for call_id, nodes in paths.items():
            for seq, node in enumerate(nodes, start=1):
                entered = at + timedelta(seconds=10 * seq)
                session.add(
                    NodeEventRow(
                        call_id=call_id,
                        seq=seq,
                        flow="main",
                        node=node,
                        node_type="menu",
                        entered=entered,
                        left=entered + timedelta(seconds=seq),
                        input=None,
                        outcome="next",
                    )
                )

    database.call(work)
    funnel = read(database, lambda conn: query_funnel(conn, "main", TimeWindow()))
    assert [(s.node, s.reached, s.continued, s.ended_here) for s in funnel] == [
        ("welcome", 2, 2, 0),
        ("menu", 2, 1, 1),
        ("account", 1, 1, 0),
        ("goodbye", 1, 0, 1),
    ]
    menu = _stats(database)[("main", "menu")]
    # menu spent 2 and 4 s (l1) and 2 s (l2): median 2, p90 = rank ceil(2.7) = 3 -> 4.
    assert (menu.visits, menu.median_s, menu.p90_s) == (3, 2.0, 4.0)
