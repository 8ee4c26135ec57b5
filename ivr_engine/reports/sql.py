"""SQL pieces the reports share that SQLite and PostgreSQL spell differently, and the time window.

``seconds_between(a, b)`` is ``b - a`` in seconds; ``time_bucket(col, unit, zone)`` is the hour or day a
UTC timestamp falls in, in the centre's zone, as text ``YYYY-MM-DD HH:00`` / ``YYYY-MM-DD``;
``call_path(seq, flow, node)`` is the aggregate that strings a call's node events together
(``split_call_path`` reads it back). Timestamps are stored as UTC (see
``ivr_engine.storage.models.UTCDateTime``); buckets are the centre's local hours and days (SQLite gets the
zone rules from a Python function the storage layer registers on connect).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, Float, String, and_, literal, true
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from ivr_engine.reports.errors import ReportError
from ivr_engine.storage.database import LOCAL_TIME_FUNCTION

__all__ = ["Bucket", "TimeWindow", "call_path", "seconds_between", "split_call_path", "time_bucket"]


class Bucket(StrEnum):
    HOUR = "hour"
    DAY = "day"


@dataclass(frozen=True)
class TimeWindow:
    """``since`` inclusive, ``until`` exclusive; either may be open. Naive datetimes are taken as UTC."""

    since: datetime | None = None
    until: datetime | None = None

    def __post_init__(self) -> None:
        if self.since and self.until and _utc(self.since) >= _utc(self.until):
            raise ReportError(
                f"--since {self.since.isoformat()} is not before --until {self.until.isoformat()}"
            )

    def clause(self, column: ColumnElement[datetime]) -> ColumnElement[bool]:
        parts: list[ColumnElement[bool]] = []
        if self.since is not None:
            parts.append(column >= _utc(self.since))
        if self.until is not None:
            parts.append(column < _utc(self.until))
        return and_(true(), *parts)

    def describe(self) -> str:
        since = _utc(self.since).isoformat(" ", "minutes") if self.since else "the beginning"
        until = _utc(self.until).isoformat(" ", "minutes") if self.until else "now"
        return f"from {since} until {until} (UTC)"


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class seconds_between(FunctionElement[float]):
    """``end - start`` in (fractional) seconds."""

    type = Float()
    inherit_cache = True
    name = "seconds_between"


class _bucket(FunctionElement[str]):
    """``(column, zone)``: the local hour or day of a UTC timestamp in the IANA ``zone``."""

    type = String()
    inherit_cache = True
    unit: Bucket


class _hour(_bucket):
    inherit_cache = True
    name = "hour_bucket"
    unit = Bucket.HOUR


class _day(_bucket):
    inherit_cache = True
    name = "day_bucket"
    unit = Bucket.DAY


def time_bucket(column: ColumnElement[datetime], unit: Bucket, zone: str = "UTC") -> ColumnElement[str]:
    """The hour or day of a timestamp in the centre's IANA ``zone``, as sortable text."""
    kind = _hour if unit is Bucket.HOUR else _day
    return kind(column, literal(zone, String()))


@compiles(seconds_between, "sqlite")
def _seconds_sqlite(element: seconds_between, compiler: SQLCompiler, **kw: Any) -> str:
    start, end = (compiler.process(arg, **kw) for arg in element.clauses)
    return f"((julianday({end}) - julianday({start})) * 86400.0)"


@compiles(seconds_between, "postgresql")
def _seconds_postgresql(element: seconds_between, compiler: SQLCompiler, **kw: Any) -> str:
    start, end = (compiler.process(arg, **kw) for arg in element.clauses)
    return f"EXTRACT(EPOCH FROM ({end} - {start}))::float8"


class call_path(FunctionElement[str]):
    """Aggregate: a group's ``(seq, flow, node)`` rows as one text, steps joined by ``STEP_SEPARATOR``.

    PostgreSQL orders the steps by ``seq``; SQLite's ``group_concat`` takes them in scan order, so
    :func:`split_call_path` sorts by ``seq`` whatever order they come in.
    """

    type = String()
    inherit_cache = True
    name = "call_path"


FIELD_SEPARATOR = "\x1f"
STEP_SEPARATOR = "\x1e"


def split_call_path(text: str) -> tuple[tuple[str, str], ...]:
    """The ``(flow, node)`` steps of a :class:`call_path` value, in ``seq`` order."""
    steps = []
    for step in text.split(STEP_SEPARATOR):
        seq, flow, node = step.split(FIELD_SEPARATOR, 2)
        steps.append((int(seq), flow, node))
    steps.sort()
    return tuple((flow, node) for _, flow, node in steps)


@compiles(call_path, "sqlite")
def _call_path_sqlite(element: call_path, compiler: SQLCompiler, **kw: Any) -> str:
    seq, flow, node = (compiler.process(arg, **kw) for arg in element.clauses)
    return f"group_concat({seq} || char(31) || {flow} || char(31) || {node}, char(30))"


@compiles(call_path, "postgresql")
def _call_path_postgresql(element: call_path, compiler: SQLCompiler, **kw: Any) -> str:
    seq, flow, node = (compiler.process(arg, **kw) for arg in element.clauses)
    return f"string_agg({seq}::text || chr(31) || {flow} || chr(31) || {node}, chr(30) ORDER BY {seq})"


_SQLITE_FORMATS = {Bucket.HOUR: "%Y-%m-%d %H:00", Bucket.DAY: "%Y-%m-%d"}
_POSTGRES_FORMATS = {Bucket.HOUR: "YYYY-MM-DD HH24:00", Bucket.DAY: "YYYY-MM-DD"}


@compiles(_bucket, "sqlite")
def _bucket_sqlite(element: _bucket, compiler: SQLCompiler, **kw: Any) -> str:
    column, zone = (compiler.process(arg, **kw) for arg in element.clauses)
    return f"{LOCAL_TIME_FUNCTION}({column}, {zone}, '{_SQLITE_FORMATS[element.unit]}')"


@compiles(_bucket, "postgresql")
def _bucket_postgresql(element: _bucket, compiler: SQLCompiler, **kw: Any) -> str:
    column, zone = (compiler.process(arg, **kw) for arg in element.clauses)
    return f"to_char({column} AT TIME ZONE {zone}, '{_POSTGRES_FORMATS[element.unit]}')"

