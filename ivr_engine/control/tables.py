"""Plain-text tables of agents and queues for the terminal (``ivr agent list``, ``ivr queue status``)."""

from __future__ import annotations

from collections.abc import Sequence

from acd import AgentState
from ivr_engine.control.views import AgentView, QueueView

__all__ = ["agents_table", "align", "duration", "queues_text"]


def duration(seconds: float) -> str:
    """``42s``, ``3m05s``, ``2h07m``: short and sortable by eye."""
    whole = int(seconds)
    if whole < 60:
        return f"{whole}s"
    if whole < 3600:
        return f"{whole // 60}m{whole % 60:02d}s"
    return f"{whole // 3600}h{whole % 3600 // 60:02d}m"


def align(
    headers: Sequence[str], rows: Sequence[Sequence[str]], numeric: frozenset[int] = frozenset()
) -> str:
    """Columns padded to their widest cell; columns in ``numeric`` are right-aligned."""
    widths = [max([len(h)] + [len(row[i]) for row in rows]) for i, h in enumerate(headers)]

    def line(cells: Sequence[str]) -> str:
        padded = (
            c.rjust(w) if i in numeric else c.ljust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        )
        return "  ".join(padded).rstrip()

    return "\n".join([line(headers), line(["-" * w for w in widths]), *(line(row) for row in rows)])


def agents_table(agents: Sequence[AgentView]) -> str:
    if not agents:
        return "no agents configured"
    rows = [
        [
            a.id,
            a.name,
            a.state.value + (f" ({a.pause_reason})" if a.pause_reason else ""),
            "-" if a.in_state is None else duration(a.in_state),
            str(a.calls_taken),
            a.current_call or "-",
            ", ".join(f"{skill} {level}" for skill, level in sorted(a.skills.items())),
        ]
        for a in agents
    ]
    return align(["AGENT", "NAME", "STATE", "FOR", "CALLS", "CALL", "SKILLS"], rows, frozenset({3, 4}))


def queues_text(queues: Sequence[QueueView]) -> str:
    if not queues:
        return "no queues configured"
    blocks = []
    for q in queues:
        states = ", ".join(f"{state.value} {q.agents_by_state.get(state, 0)}" for state in AgentState)
        head = f"queue {q.name}: {len(q.waiting)} waiting, longest wait {duration(q.longest_wait)}"
        block = [head, f"  agents: {states}"]
        if q.waiting:
            rows = [
                [
                    str(w.position),
                    w.call_id,
                    w.caller or "withheld",
                    str(w.priority),
                    "yes" if w.vip else "",
                    duration(w.waited),
                    w.offered_to or "",
                ]
                for w in q.waiting
            ]
            table = align(["POS", "CALL", "CALLER", "PRIO", "VIP", "WAITED", "RINGING"], rows,
                          frozenset({0, 3, 5}))
            block.append("\n".join("  " + line for line in table.splitlines()))
        blocks.append("\n".join(block))
    return "\n\n".join(blocks)
