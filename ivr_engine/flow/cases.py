"""Flow test cases: a small YAML format next to the flows (``flows/tests/*.yaml``).

One file tests one flow::

    flow: balance                    # a flow name (the flows folder) or a path relative to this file
    cases:
      - name: wrong PIN three times locks the caller out
        caller: "15550001001"        # default 15550000000
        at: "2026-12-02 10:00"       # the simulated clock, centre's zone (default: this one, a Wednesday)
        keys: "100200# 1111# ..."    # what the caller presses; T = no input there (as `ivr simulate`)
        transfer: no_agents          # how transfers to agents end (default no_agents)
        path: [ask_account, ask_pin, ...]   # every node entered, in order: `node` in this flow,
                                            # `flow/node` in a sub-flow
        heard: ["locked"]            # fragments of what the caller is told, in this order
        ends: completed              # completed, caller_hangup or error (default: not checked)

``read_cases`` reads a file with every problem at file:line (never raises for its content).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ivr_engine.flow.errors import Problem
from ivr_engine.flow.fields import Fields
from ivr_engine.flow.filesource import FileRefused, read_flow_text
from ivr_engine.flow.interpreter import EndReason
from ivr_engine.flow.ports import TransferOutcome
from ivr_engine.flow.simulator import parse_script
from ivr_engine.flow.yamlsource import Located, parse_yaml

__all__ = ["DEFAULT_AT", "CaseFile", "FlowCase", "read_cases"]

DEFAULT_AT = "2026-12-02 10:00"  # a Wednesday in business hours: cases never depend on today's date
_CASE_FIELDS = ("name", "caller", "dialled", "at", "keys", "transfer", "path", "heard", "ends")


@dataclass(frozen=True)
class FlowCase:
    name: str
    line: int
    caller: str
    dialled: str | None
    at: str
    keys: str
    transfer: TransferOutcome
    path: tuple[str, ...]
    heard: tuple[str, ...]
    ends: EndReason | None


@dataclass(frozen=True)
class CaseFile:
    file: Path
    flow: str  # a flow name or a path relative to the file
    cases: tuple[FlowCase, ...]
    problems: tuple[Problem, ...]


def _texts(f: Fields, key: str, *, required: bool = False) -> tuple[str, ...]:
    found = f.raw(key)
    if found is None:
        if required:
            f.error(f.anchor_line, f"missing required field '{key}'")
        return ()
    items = found.value if isinstance(found.value, list) else None
    if items is None or not all(
        isinstance(i.value, str | int) and not isinstance(i.value, bool) for i in items
    ):
        f.error(found.line, f"'{key}' must be a list of text")
        return ()
    return tuple(str(i.value) for i in items)


def _case(item: Located, file: str, problems: list[Problem]) -> FlowCase | None:
    if not isinstance(item.value, dict):
        problems.append(Problem(file, item.line, "", "each case is a mapping with 'name' and 'path'"))
        return None
    f = Fields(item, file, "", problems)
    name = f.required("name")
    f.node = name[:60]
    keys = f.text("keys", "") or ""
    try:
        parse_script(keys)
    except ValueError as exc:
        f.error(f.line("keys"), str(exc))
    transfer_text = f.text("transfer", TransferOutcome.NO_AGENTS.value) or ""
    ends_text = f.text("ends")
    transfer = TransferOutcome.NO_AGENTS
    ends: EndReason | None = None
    try:
        transfer = TransferOutcome(transfer_text)
    except ValueError:
        f.error(
            f.line("transfer"), f"'transfer' must be one of {', '.join(o.value for o in TransferOutcome)}"
        )
    if ends_text is not None:
        try:
            ends = EndReason(ends_text)
        except ValueError:
            f.error(f.line("ends"), f"'ends' must be one of {', '.join(r.value for r in EndReason)}")
    case = FlowCase(
        name=name,
        line=item.line,
        caller=f.text("caller", "15550000000") or "",
        dialled=f.text("dialled"),
        at=f.text("at", DEFAULT_AT) or DEFAULT_AT,
        keys=keys,
        transfer=transfer,
        path=_texts(f, "path", required=True),
        heard=_texts(f, "heard"),
        ends=ends,
    )
    f.finish("a test case", _CASE_FIELDS)
    return None if f.failed else case


def read_cases(path: Path) -> CaseFile:
    """The cases of one file, and every problem found in it."""
    file = str(path)
    try:
        root, yaml_problems = parse_yaml(read_flow_text(path))
    except FileRefused as exc:
        return CaseFile(path, "", (), (Problem(file, exc.line, "", str(exc)),))
    problems = [Problem(file, p.line, "", p.message) for p in yaml_problems]
    if root is None or not isinstance(root.value, dict):
        if root is not None:
            problems.append(Problem(file, root.line, "", "a test file is a mapping with 'flow' and 'cases'"))
        return CaseFile(path, "", (), tuple(problems))
    top = Fields(root, file, "", problems)
    flow = top.required("flow")
    found = top.raw("cases")
    cases: list[FlowCase] = []
    if found is None or not isinstance(found.value, list) or not found.value:
        top.error(found.line if found is not None else root.line, "'cases' must be a list of test cases")
    else:
        cases = [case for item in found.value if (case := _case(item, file, problems)) is not None]
    top.finish("a test file", ("flow", "cases"))
    names = [case.name for case in cases]
    for case in cases:
        if names.count(case.name) > 1 and names.index(case.name) != cases.index(case):
            problems.append(Problem(file, case.line, case.name, "another case has the same name"))
    return CaseFile(path, flow, tuple(cases), tuple(problems))
