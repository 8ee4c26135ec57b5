"""Supervisor reports (IVR node statistics, ACD statistics over the ACD's records, ``acd.records``).

Queries (``node_stats``, ``funnel``, ``acd_stats``) compute figures with SQL aggregates and return typed
dataclasses; ``builders`` lays them out as a :class:`Report`; ``writers`` render it.
"""

from __future__ import annotations

from ivr_engine.reports.acd_stats import AcdFilter, AcdStats, query_acd_stats
from ivr_engine.reports.builders import acd_report, node_report
from ivr_engine.reports.errors import ExportError, ReportError, ReportSourceError
from ivr_engine.reports.funnel import FunnelStep, query_funnel
from ivr_engine.reports.model import Report
from ivr_engine.reports.node_stats import NodeFilter, NodeStat, query_node_stats
from ivr_engine.reports.sql import Bucket, TimeWindow

__all__ = [
    "AcdFilter",
    "AcdStats",
    "Bucket",
    "ExportError",
    "FunnelStep",
    "NodeFilter",
    "NodeStat",
    "Report",
    "ReportError",
    "ReportSourceError",
    "TimeWindow",
    "acd_report",
    "node_report",
    "query_acd_stats",
    "query_funnel",
    "query_node_stats",
]
