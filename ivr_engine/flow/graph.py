"""Graph checks over flows, each linear in the size of the flows (no recursion, no path enumeration).

- ``cycles``: the strongly connected components with a cycle (Tarjan, iterative).
- ``waiting_flows``: the flows that can wait for the caller, directly or through their sub-flows.
- ``spin_loops``: loops through nodes none of which waits for the caller, wherever they are (also
  inside a larger loop that has a menu elsewhere).
- ``call_chain``: the shortest chain of sub-flow calls between two flows.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping

from ivr_engine.flow.model import Flow
from ivr_engine.flow.nodes.call import CallNode
from ivr_engine.flow.nodes.set import SetNode

__all__ = ["call_chain", "call_graph", "cycles", "languages", "spin_loops", "waiting_flows"]


def cycles(vertices: Iterable[str], edges: Callable[[str], list[str]]) -> list[set[str]]:
    """Strongly connected components that contain a cycle."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[set[str]] = []
    counter = 0
    for root in vertices:
        if root in index:
            continue
        work: list[tuple[str, Iterator[str]]] = [(root, iter(edges(root)))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            vertex, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(edges(child))))
                elif child in on_stack:
                    low[vertex] = min(low[vertex], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[vertex])
            if low[vertex] == index[vertex]:
                component: set[str] = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == vertex:
                        break
                if len(component) > 1 or vertex in edges(vertex):
                    found.append(component)
    return found


def call_graph(flows: Mapping[str, Flow]) -> dict[str, list[str]]:
    """Flow name -> the known flows its ``call`` nodes run."""
    return {
        name: sorted({n.flow for n in flow.nodes.values() if isinstance(n, CallNode) and n.flow in flows})
        for name, flow in flows.items()
    }


def waiting_flows(flows: Mapping[str, Flow]) -> set[str]:
    """Flows with a node that waits for the caller, or that call such a flow (worklist, linear)."""
    callers: dict[str, set[str]] = {name: set() for name in flows}
    for name, callees in call_graph(flows).items():
        for callee in callees:
            callers[callee].add(name)
    waiting = {name for name, flow in flows.items() if any(n.takes_input for n in flow.nodes.values())}
    todo = deque(waiting)
    while todo:
        for caller in callers[todo.popleft()]:
            if caller not in waiting:
                waiting.add(caller)
                todo.append(caller)
    return waiting


def languages(flows: Mapping[str, Flow], service: str) -> dict[str, set[str]]:
    """The languages each flow can speak in: its own (``defaults: {language}``), else the service's
    and those of every flow that calls it; plus any language a ``set`` node gives ``language``."""
    spoken: dict[str, set[str]] = {}
    for name, flow in flows.items():
        own = flow.defaults.language
        spoken[name] = {own} if own is not None else {service}
        for node in flow.nodes.values():
            value = node.values.get("language") if isinstance(node, SetNode) else None
            if value is not None and "{" not in value:
                spoken[name].add(value)
    graph = call_graph(flows)
    todo = deque(flows)
    while todo:
        caller = todo.popleft()
        for callee in graph[caller]:
            if flows[callee].defaults.language is None and not spoken[caller] <= spoken[callee]:
                spoken[callee] |= spoken[caller]
                todo.append(callee)
    return spoken


def spin_loops(flow: Flow, waiting: set[str]) -> list[list[str]]:
    """Loops of ``flow`` through nodes that never wait for the caller, each in written order."""

    def waits(node_id: str) -> bool:
        node = flow.nodes[node_id]
        return node.takes_input or (isinstance(node, CallNode) and node.flow in waiting)

    quiet = [node_id for node_id in flow.nodes if not waits(node_id)]
    quiet_set = set(quiet)

    def edges(node_id: str) -> list[str]:
        return [t for _, t in flow.nodes[node_id].targets() if t in quiet_set]

    return [
        sorted(component, key=lambda n: (flow.nodes[n].source.line, n)) for component in cycles(quiet, edges)
    ]


def call_chain(graph: Mapping[str, list[str]], start: str, goal: str) -> list[str]:
    """The shortest chain of calls from ``start`` to ``goal`` (both included), [] if none."""
    previous: dict[str, str] = {start: start}
    todo = deque([start])
    while todo:
        current = todo.popleft()
        if current == goal:
            chain = [current]
            while chain[-1] != start:
                chain.append(previous[chain[-1]])
            return chain[::-1]
        for callee in graph.get(current, ()):
            if callee not in previous:
                previous[callee] = current
                todo.append(callee)
    return []
