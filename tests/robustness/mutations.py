"""Hypothesis strategies for hostile flow files: random YAML, and the shipped flows broken on purpose.

Every strategy draws ``bytes`` (what lands on disk), so binary junk and bad UTF-8 are in reach.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml
from hypothesis import strategies as st

__all__ = ["FLOW_DOCS", "flow_files_bytes", "mutated_flow", "random_document", "registry_flow"]

FLOWS = Path(__file__).parents[2] / "flows"
FLOW_DOCS: dict[str, Any] = {p.stem: yaml.safe_load(p.read_text()) for p in sorted(FLOWS.glob("*.yaml"))}

_ODD_TEXT = ["", "'; DROP TABLE calls; --", '"quoted"', "ünïcødé ☎", "\t", "{{ x", "{% for %}", "a" * 300]
_text = st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=40) | st.sampled_from(_ODD_TEXT)
_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.sampled_from([10**100, -1, 0, 2**63, math.inf, -math.inf, math.nan, 1e308, 1e-308])
    | st.floats()
    | _text
)
yaml_values = st.recursive(
    _scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(_text, children, max_size=4),
    max_leaves=20,
)


def _dump(value: Any) -> str:
    return yaml.safe_dump(value, sort_keys=False, allow_unicode=True, width=10_000)


@st.composite
def random_document(draw: st.DrawFn) -> bytes:
    """Any YAML document, raw text, or raw bytes."""
    choice = draw(st.sampled_from(["value", "flowish", "text", "bytes"]))
    if choice == "value":
        return _dump(draw(yaml_values)).encode()
    if choice == "flowish":
        nodes = draw(st.dictionaries(_text, yaml_values, max_size=4))
        top = {"flow": draw(_scalars), "start": draw(_scalars), "nodes": nodes}
        return _dump(top).encode()
    if choice == "text":
        return draw(st.text(max_size=300)).encode("utf-8", "surrogatepass")
    return draw(st.binary(max_size=300))


def _slots(value: Any, depth: int = 0) -> Iterator[tuple[Any, Any]]:
    """Every (container, key-or-index) in a document, so a mutation can hit any of them."""
    if isinstance(value, dict):
        for key in list(value):
            yield value, key
            yield from _slots(value[key], depth + 1)
    elif isinstance(value, list):
        for index in range(len(value)):
            yield value, index
            yield from _slots(value[index], depth + 1)


def _nested(levels: int) -> Any:
    value: Any = "deep"
    for _ in range(levels):
        value = [value]
    return value


_BAD_VALUES = st.sampled_from(
    [
        None, "", "no_such_node", "1bad", "ünïcødé", "has space", 10**100, -1, 0, 1e308, math.inf,
        math.nan, True, [], {}, ["a", "b"], {"type": "play"}, "x" * 5000, "{{ broken", "((((",
    ]
)  # fmt: skip


@st.composite
def _mutate_document(draw: st.DrawFn, doc: Any) -> None:
    slots = list(_slots(doc))
    container, key = draw(st.sampled_from(slots))
    action = draw(st.sampled_from(["delete", "junk", "bad", "type", "rename", "nest", "huge"]))
    if action == "delete":
        del container[key]
    elif action == "junk":
        container[key] = draw(yaml_values)
    elif action == "bad":
        container[key] = draw(_BAD_VALUES)
    elif action == "type":
        container[key] = draw(st.sampled_from(["teleport", "", "PLAY", "menu ", "__class__", "goto"]))
    elif action == "rename" and isinstance(container, dict):
        container[draw(_text)] = container.pop(key)
    elif action == "nest":
        container[key] = _nested(draw(st.sampled_from([3, 50, 150])))
    else:
        container[key] = draw(st.sampled_from([10**400, 2**64, 1e300, -(10**20)]))


def _lines_op(text: str, draw: st.DrawFn) -> bytes:
    lines = text.splitlines(keepends=True) or [""]
    where = draw(st.integers(0, len(lines) - 1))
    action = draw(
        st.sampled_from(["none", "duplicate", "tab", "anchor", "alias", "junk", "truncate", "control"])
    )
    if action == "duplicate":  # a repeated mapping key (or list item) right below the original
        lines.insert(where, lines[where])
    elif action == "tab":
        lines[where] = "\t" + lines[where].lstrip(" ")
    elif action == "anchor":
        lines.append("extra: &shared {type: goto, goto: nowhere}\nmore: *shared\n")
    elif action == "alias":
        lines[where] = lines[where].rstrip("\n") + " *undefined_alias\n"
    elif action == "junk":
        head = "".join(lines[:where]).encode()
        return head + draw(st.binary(min_size=1, max_size=20)) + "".join(lines[where:]).encode()
    elif action == "truncate":
        return text.encode()[: draw(st.integers(0, len(text.encode())))]
    elif action == "control":
        lines[where] = draw(st.sampled_from(["\x00", "\x07", "\ufeff", "\u2028", "\x1b[31m"])) + lines[where]
    return "".join(lines).encode()


@st.composite
def mutated_flow(draw: st.DrawFn) -> bytes:
    """A shipped flow with one to three structural mutations, then maybe one textual one."""
    name = draw(st.sampled_from(sorted(FLOW_DOCS)))
    doc = copy.deepcopy(FLOW_DOCS[name])
    for _ in range(draw(st.integers(1, 3))):
        if not list(_slots(doc)):
            break
        draw(_mutate_document(doc))
    return _lines_op(_dump(doc), draw)


def flow_files_bytes() -> st.SearchStrategy[bytes]:
    return random_document() | mutated_flow()


_IDS = ["a", "b", "c", "menu", "x\x1b[31m", "d\ne", "1bad"]
_HOSTILE = [10**400, -(10**400), 2**64, 1e308, "(\\d+)+x", "(12|1)+", "{{ broken", "\x1b[2J", "", None, []]


def _field_value(schema: dict[str, Any], draw: st.DrawFn) -> Any:
    """A value for a field: usually of the kind its JSON Schema asks for, sometimes hostile."""
    if draw(st.integers(0, 5)) == 0:
        return draw(st.sampled_from(_HOSTILE))
    kinds = schema.get("type")
    if "pattern" in schema and kinds == "string":
        return draw(st.sampled_from(_IDS))
    if "enum" in schema:
        return draw(st.sampled_from([v for v in schema["enum"] if v is not None]))
    if kinds in ("integer", "number"):
        return draw(st.integers(int(schema.get("minimum", 0)) - 1, int(schema.get("maximum", 100)) + 1))
    if kinds == "boolean":
        return draw(st.booleans())
    if kinds == "object":
        return draw(
            st.dictionaries(
                st.sampled_from(["1", "0", "billing", "phone", *_IDS]), st.sampled_from(_IDS), max_size=3
            )
        )
    if kinds == "array":
        return draw(st.lists(st.sampled_from(_IDS), max_size=3))
    return draw(st.sampled_from(["hello", "a", "{{ caller_id }}", "[0-9]+", "America/New_York", *_IDS]))


@st.composite
def registry_flow(draw: st.DrawFn) -> tuple[bytes, frozenset[str]]:
    """A flow drawn from the node registry's declared fields (with hostile values now and then),
    and the ids of the nodes given an unknown field on purpose (each must be named in the errors)."""
    from ivr_engine.flow.registry import NODE_SPECS

    nodes: dict[str, Any] = {}
    marked: set[str] = set()
    for index in range(draw(st.integers(1, 6))):
        name = draw(st.sampled_from(sorted(NODE_SPECS)))
        spec = NODE_SPECS[name]
        node_id = draw(st.sampled_from(_IDS)) if draw(st.integers(0, 4)) == 0 else f"n{index}"
        fields = draw(st.lists(st.sampled_from(sorted(spec.fields) or ["next"]), max_size=6, unique=True))
        node: dict[str, Any] = {"type": name}
        for field in {*spec.required, *fields}:
            node[field] = _field_value(spec.fields.get(field, {}), draw)
        if draw(st.booleans()) and node_id.startswith("n"):
            node["zzz_unknown"] = 1
            marked.add(node_id)
        nodes[node_id] = node
    text = _dump({"nodes": nodes})
    if draw(st.integers(0, 4)) == 0:  # an anchor and an alias or two
        text = text.replace("nodes:", "shared: &s {type: hangup}\nnodes:", 1) + "  alias_node: *s\n"
    return text.encode(), frozenset(marked)
