"""Reading a report from the database: one read-only connection, database errors as ``ReportSourceError``."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from sqlalchemy import Connection
from sqlalchemy.exc import SQLAlchemyError

from ivr_engine.reports.acd_stats import AcdFilter, query_acd_stats
from ivr_engine.reports.builders import acd_report, node_report
from ivr_engine.reports.errors import ReportSourceError
from ivr_engine.reports.funnel import query_funnel
from ivr_engine.reports.model import Report
from ivr_engine.reports.node_stats import NodeFilter, query_node_stats
from ivr_engine.reports.service_builder import service_report
from ivr_engine.reports.service_stats import ServiceFilter, query_service_stats
from ivr_engine.storage.database import Database, describe_error, is_outage

__all__ = ["MAIN_FLOW", "acd_statistics", "node_statistics", "read", "service_statistics"]

MAIN_FLOW = "main"
"""The flow whose funnel ``ivr stats nodes`` shows unless ``--flow`` names another."""

T = TypeVar("T")


def read(database: Database, work: Callable[[Connection], T]) -> T:
    try:
        with database.engine.connect() as connection:
            return work(connection)
    except SQLAlchemyError as exc:
        hint = " (is the database up, and has `ivr db init` been run?)" if is_outage(exc) else ""
        raise ReportSourceError(f"cannot read statistics: {describe_error(exc)}{hint}") from exc


def node_statistics(database: Database, filters: NodeFilter) -> Report:
    def work(connection: Connection) -> Report:
        nodes = query_node_stats(connection, filters)
        funnel = query_funnel(connection, filters.flow or MAIN_FLOW, filters.window)
        return node_report(nodes, funnel, filters)

    return read(database, work)


def acd_statistics(database: Database, filters: AcdFilter) -> Report:
    return read(database, lambda connection: acd_report(query_acd_stats(connection, filters), filters))


def service_statistics(database: Database, filters: ServiceFilter) -> Report:
    def work(connection: Connection) -> Report:
        return service_report(query_service_stats(connection, filters), filters)

    return read(database, work)
