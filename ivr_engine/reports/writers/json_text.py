"""JSON rendering: ``{title, notes, tables: [{name, title, columns, rows: [{key: value}]}]}``."""

from __future__ import annotations

import json

from ivr_engine.reports.model import Report

__all__ = ["render_json"]


def render_json(report: Report) -> str:
    document = {
        "title": report.title,
        "notes": list(report.notes),
        "tables": [
            {
                "name": table.name,
                "title": table.title,
                "columns": [{"key": c.key, "title": c.title, "kind": c.kind.value} for c in table.columns],
                "rows": [dict(zip(table.keys(), row, strict=True)) for row in table.rows],
            }
            for table in report.tables
        ],
    }
    return json.dumps(document, indent=2) + "\n"
