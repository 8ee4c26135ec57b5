"""``ivr calls``: recent calls and the path one call took through the IVR."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import TypeVar

import click
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from ivr_engine.commands.guards import require_database
from ivr_engine.commands.tables import print_table
from ivr_engine.config import Settings
from ivr_engine.recordings.store import RecordingItem, recordings_of_call
from ivr_engine.storage import Database, StorageError
from ivr_engine.storage.database import describe_error, is_outage
from ivr_engine.storage.queries import CallDetail, CallSummary, PathStep, call_detail, recent_calls

__all__ = ["calls_group"]

T = TypeVar("T")


@click.group("calls")
def calls_group() -> None:
    """Call history and node-traversal log."""


@calls_group.command("list")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(min=1), help="How many calls.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.pass_obj
def list_command(settings: Settings, limit: int, as_json: bool) -> None:
    """The latest calls, newest first."""
    calls = _query(settings, lambda session: recent_calls(session, limit))
    if as_json:
        click.echo(json.dumps([_call_json(call) for call in calls], indent=2))
        return
    if not calls:
        click.echo("no calls recorded")
        return
    rows = [
        [
            c.call_id,
            c.caller,
            c.dialled,
            _time(c.started),
            "-" if c.duration is None else f"{c.duration:.1f}s",
            c.disposition,
            str(c.nodes),
        ]
        for c in calls
    ]
    headers = ["ID", "CALLER", "DIALLED", "STARTED", "DURATION", "DISPOSITION", "NODES"]
    print_table(headers, rows, right={4, 6})


@calls_group.command("show")
@click.argument("call_id")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.pass_obj
def show_command(settings: Settings, call_id: str, as_json: bool) -> None:
    """One call and the path it took: each node with its input, outcome and time spent; then its
    recordings (queues with record: true), each with the file that holds both parties."""
    detail, recordings = _query(
        settings, lambda session: (call_detail(session, call_id), recordings_of_call(session, call_id))
    )
    if detail is None:
        raise click.ClickException(f"no call {call_id!r} (see `ivr calls list`)")
    if as_json:
        click.echo(json.dumps(_detail_json(detail) | {"recordings": [r.to_json() for r in recordings]},
                              indent=2))
        return
    call = detail.call
    duration = "in progress" if call.duration is None else f"{call.duration:.1f}s"
    where = f" (handled by {call.handled_by})" if call.handled_by else ""
    click.echo(f"call {call.call_id}: {call.caller or '?'} -> {call.dialled or '?'}{where}")
    click.echo(f"started {_time(call.started)}, {duration}, {call.disposition}, {call.nodes} node(s)")
    if not detail.path:
        _print_recordings(recordings)
        return
    click.echo("")
    rows = [
        [str(s.seq), s.flow, s.node, s.node_type, s.input or "", s.outcome, f"{s.seconds:.1f}s"]
        for s in detail.path
    ]
    print_table(["SEQ", "FLOW", "NODE", "TYPE", "INPUT", "OUTCOME", "TIME"], rows, right={0, 6})
    _print_recordings(recordings)


def _print_recordings(recordings: list[RecordingItem]) -> None:
    if not recordings:
        return
    click.echo("")
    rows = [[str(r.id), r.agent_id, r.queue, _time(r.started), f"{r.duration:.1f}s", r.file_path]
            for r in recordings]
    print_table(["RECORDING", "AGENT", "QUEUE", "STARTED", "LENGTH", "FILE"], rows, right={0, 4})


def _query(settings: Settings, work: Callable[[Session], T]) -> T:
    require_database(settings)
    database: Database | None = None
    try:
        database = Database(settings.db_url)
        return database.call(work)
    except StorageError as exc:
        raise click.ClickException(str(exc)) from exc
    except SQLAlchemyError as exc:
        hint = " (has `ivr db init` been run?)" if is_outage(exc) else ""
        raise click.ClickException(f"cannot read calls: {describe_error(exc)}{hint}") from exc
    finally:
        if database is not None:
            database.dispose()


def _time(value: datetime) -> str:
    return value.astimezone().strftime("%Y-%m-%d %H:%M:%S")


def _call_json(call: CallSummary) -> dict[str, object]:
    return {
        "call_id": call.call_id,
        "caller": call.caller,
        "dialled": call.dialled,
        "started": call.started.isoformat(),
        "ended": call.ended.isoformat() if call.ended else None,
        "duration": call.duration,
        "disposition": call.disposition,
        "nodes": call.nodes,
        "handled_by": call.handled_by,
    }


def _step_json(step: PathStep) -> dict[str, object]:
    return {
        "seq": step.seq,
        "flow": step.flow,
        "node": step.node,
        "node_type": step.node_type,
        "entered": step.entered.isoformat(),
        "left": step.left.isoformat(),
        "seconds": step.seconds,
        "input": step.input,
        "outcome": step.outcome,
    }


def _detail_json(detail: CallDetail) -> dict[str, object]:
    return {**_call_json(detail.call), "path": [_step_json(step) for step in detail.path]}
