"""The JSON Schema of a flow file, generated from the node registry (``ivr flows schema``).

Editors with yaml-language-server complete and check flows against it as they are typed, e.g. with
``# yaml-language-server: $schema=flow.schema.json`` at the top of a flow.
"""

from __future__ import annotations

from typing import Any

from ivr_engine.flow.nodes.base import JsonSchema, schema_name, schema_number
from ivr_engine.flow.registry import NODE_SPECS

__all__ = ["flow_schema"]


def _node_schema(name: str) -> JsonSchema:
    spec = NODE_SPECS[name]
    return {
        "type": "object",
        "description": spec.description,
        "properties": {"type": {"const": name}, **spec.fields},
        "required": ["type", *spec.required],
        "additionalProperties": False,
    }


def flow_schema() -> dict[str, Any]:
    """A JSON Schema (draft 2020-12) for a flow file, one branch per node type."""
    names = sorted(NODE_SPECS)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://ivr-engine.local/flow.schema.json",
        "title": "ivr-engine flow",
        "type": "object",
        "properties": {
            "flow": schema_name("the flow's name (default: the file name)"),
            "description": {"type": "string"},
            "start": schema_name("the first node (default: the first node listed)"),
            "defaults": {
                "type": "object",
                "properties": {
                    "retries": schema_number("re-prompts after the first try", 0, 20, integer=True),
                    "timeout": schema_number("seconds to wait for the first key", 0.5, 600),
                    "inter_digit_timeout": schema_number("seconds between keys", 0.5, 600),
                    "language": {"type": "string", "description": "prompt catalogue language"},
                },
                "additionalProperties": False,
            },
            "nodes": {
                "type": "object",
                "minProperties": 1,
                "propertyNames": {"pattern": "^[A-Za-z_][A-Za-z0-9_]*$"},
                "additionalProperties": {"$ref": "#/$defs/node"},
            },
        },
        "required": ["nodes"],
        "additionalProperties": False,
        "$defs": {
            "node": {
                "type": "object",
                "required": ["type"],
                "properties": {"type": {"enum": names}},
                "allOf": [
                    {
                        "if": {"properties": {"type": {"const": name}}, "required": ["type"]},
                        "then": {"$ref": f"#/$defs/{name}"},
                    }
                    for name in names
                ],
            },
            **{name: _node_schema(name) for name in names},
        },
    }
