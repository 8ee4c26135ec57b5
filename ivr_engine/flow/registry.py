"""The one registry of node types (each a module of ``ivr_engine.flow.nodes``) the flow package uses.

To add a node type: write its module (dataclass, ``read``, ``run``, optional ``check``, ``FIELDS`` in
its ``SPEC``) and list the module in ``_MODULES`` here. ``tests/flow/test_registry.py`` fails until every
node class of ``ivr_engine.flow.nodes`` is listed and docs/flows.md has an example of the type.
"""

from __future__ import annotations

from collections.abc import Mapping

from ivr_engine.flow.model import NodeBase
from ivr_engine.flow.nodes import (
    branch,
    call,
    gather,
    goto,
    hangup,
    hours,
    lookup,
    menu,
    play,
    record,
    return_,
    say,
    survey,
    transfer,
)
from ivr_engine.flow.nodes import set as set_
from ivr_engine.flow.nodes.base import NodeSpec

__all__ = ["NODE_SPECS", "NODE_TYPES", "spec_of"]

_MODULES = (
    play,
    menu,
    gather,
    lookup,
    branch,
    set_,
    say,
    goto,
    call,
    return_,
    transfer,
    record,
    survey,
    hours,
    hangup,
)

NODE_SPECS: Mapping[str, NodeSpec] = {module.SPEC.name: module.SPEC for module in _MODULES}
NODE_TYPES: frozenset[str] = frozenset(NODE_SPECS)
_BY_CLASS: Mapping[type[NodeBase], NodeSpec] = {spec.cls: spec for spec in NODE_SPECS.values()}


def spec_of(node: NodeBase) -> NodeSpec:
    """The spec of ``node``'s type."""
    return _BY_CLASS[type(node)]
