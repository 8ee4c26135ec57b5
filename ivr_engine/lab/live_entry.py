"""How a live flow test case reaches a sub-flow without a service number (``ivr flows test --live``).

A sub-flow such as ``agent`` ("0 for an agent") only ever runs from another flow's ``call`` node, so its
live caller dials a flow that has a service number and first presses the keys that lead from there into
the sub-flow. ``find_entry`` picks that route: the shortest chain of sub-flow calls
(``flow.graph.call_chain``) from a numbered flow, and in each flow of the chain the fewest menu keys from
its start to the ``call`` node of the next flow. Only menu choices are crossed by a key; nodes whose
exits depend on something else the caller gives (gather, record, survey), on an agent (transfer) or on
another sub-flow's walk are not crossed. Ties go to the lower service number.

``split_path`` cuts a node path of such a call into the part before the sub-flow (named as in the dialled
flow: ``node``, ``flow/node``), the sub-flow's own part (named as the case names it: ``node`` in the
sub-flow, ``flow/node`` in the flows it calls) and what follows once it returned.
"""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ivr_engine.flow.graph import call_chain, call_graph
from ivr_engine.flow.library import FlowLibrary
from ivr_engine.flow.model import Flow
from ivr_engine.flow.nodes.call import CallNode
from ivr_engine.flow.nodes.menu import MenuNode

__all__ = ["Entry", "PathParts", "find_entry", "keys_to_call", "split_path"]


@dataclass(frozen=True)
class Entry:
    """The live route into sub-flow ``chain[-1]``: dial ``number`` (flow ``chain[0]``), press ``keys``."""

    number: str
    keys: str
    chain: tuple[str, ...]

    @property
    def dialled_flow(self) -> str:
        return self.chain[0]

    @property
    def sub_flow(self) -> str:
        return self.chain[-1]

    def describe(self) -> str:
        return f"dialling {self.number} ({self.dialled_flow}) and pressing {self.keys or 'nothing'}"


def keys_to_call(flow: Flow, callee: str) -> str | None:
    """The fewest menu keys that lead from ``flow``'s start to a ``call`` node running ``callee``, or None."""
    best: dict[str, str] = {flow.start: ""}
    todo: deque[str] = deque([flow.start])
    while todo:  # 0-1 breadth-first: keyless steps go to the front
        current = todo.popleft()
        keys = best[current]
        node = flow.nodes.get(current)
        if node is None:
            continue
        if isinstance(node, CallNode):
            if node.flow == callee:
                return keys
            continue  # the other sub-flow's walk would need keys of its own
        if isinstance(node, MenuNode):
            steps = [(target, keys + key.value) for key, target in node.choices.items()]
        elif node.takes_input or node.type_name == "transfer":
            continue
        else:
            steps = [(target, keys) for _, target in node.targets()]
        for target, pressed in steps:
            if target in best and len(best[target]) <= len(pressed):
                continue
            best[target] = pressed
            if len(pressed) == len(keys):
                todo.appendleft(target)
            else:
                todo.append(target)
    return None


def find_entry(sub_flow: str, flows: FlowLibrary, numbers: Mapping[str, str]) -> Entry | None:
    """How a caller reaches ``sub_flow`` from a service number (``numbers``: number -> flow name)."""
    known = {name: flow for name in flows.names() if (flow := flows.get(name)) is not None}
    graph = call_graph(known)
    found: list[tuple[int, int, str, Entry]] = []
    for number, name in sorted(numbers.items()):
        chain = call_chain(graph, name, sub_flow) if name in known else []
        if len(chain) < 2:
            continue
        keys = ""
        for caller, callee in itertools.pairwise(chain):
            step = keys_to_call(known[caller], callee)
            if step is None:
                break
            keys += step
        else:
            found.append((len(chain), len(keys), number, Entry(number, keys, tuple(chain))))
    return min(found, key=lambda f: f[:3])[3] if found else None


@dataclass(frozen=True)
class PathParts:
    before: tuple[str, ...]  # up to the call node that runs the sub-flow, as the dialled flow names it
    sub: tuple[str, ...]  # the sub-flow's nodes and those of the flows it calls, as its case names them
    after: tuple[str, ...]  # once it returned, as the dialled flow names it


def split_path(steps: Sequence[tuple[str, str]], entry: Entry) -> PathParts:
    """Cut ``(flow, node)`` steps of a call that entered ``entry.sub_flow`` (see the module doc)."""
    top, sub, callers = entry.dialled_flow, entry.sub_flow, set(entry.chain[:-1])

    def named(flow: str, node: str, home: str) -> str:
        return node if flow == home else f"{flow}/{node}"

    start = next((i for i, (flow, _) in enumerate(steps) if flow == sub), len(steps))
    end = next((i for i in range(start, len(steps)) if steps[i][0] in callers), len(steps))
    return PathParts(
        before=tuple(named(f, n, top) for f, n in steps[:start]),
        sub=tuple(named(f, n, sub) for f, n in steps[start:end]),
        after=tuple(named(f, n, top) for f, n in steps[end:]),
    )
