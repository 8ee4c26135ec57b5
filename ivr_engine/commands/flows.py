"""``ivr validate`` and ``ivr flows``: check flow files before they reach a phone (file:line, node,
message, every problem in one pass), print the flow format's JSON Schema, run flow test cases."""

from __future__ import annotations

import asyncio
import json
import tempfile
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import click

from ivr_engine.config import Settings
from ivr_engine.flow.checks import AcdNames
from ivr_engine.flow.errors import Problem, Severity
from ivr_engine.flow.hints import printable
from ivr_engine.flow.validator import CatalogueView, ValidationReport, validate_paths
from ivr_engine.prompts.catalogue import load_catalogue
from ivr_engine.prompts.errors import CatalogueError

__all__ = ["acd_names", "flows_group", "format_problems", "report_json", "shown_path", "validate_command"]


def shown_path(path: Path) -> str:
    """``path`` relative to the working directory when it is inside it (shorter messages)."""
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def format_problems(problems: Sequence[Problem]) -> list[str]:
    """Aligned lines: location, severity, node, message (control characters escaped)."""
    rows = [
        (
            printable(f"{p.file}:{p.line}" if p.line else p.file),
            p.severity.value,
            printable(f"node '{p.node}'", 80) if p.node else "",
            printable(p.message, 600),
        )
        for p in problems
    ]
    if not rows:
        return []
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    return [
        f"{where:<{widths[0]}}  {severity:<{widths[1]}}  {node:<{widths[2]}}  {message}".rstrip()
        for where, severity, node, message in rows
    ]


def report_json(report: ValidationReport) -> str:
    """The report for CI: every problem with file, line, node, severity and message."""
    data = {
        "ok": report.ok,
        "files": list(report.files),
        "errors": len(report.errors),
        "warnings": len(report.warnings),
        "problems": [
            {
                "file": p.file,
                "line": p.line,
                "node": p.node,
                "severity": p.severity.value,
                "message": p.message,
            }
            for p in report.problems
        ],
    }
    return json.dumps(data, indent=2)


def acd_names(settings: Settings) -> tuple[AcdNames | None, Problem | None]:
    """The queue and skill names of ``settings.agents_file``, or why they cannot be checked (a warning)."""
    import acd

    file = shown_path(settings.agents_file)
    try:
        config = acd.load_acd_config(settings.agents_file)
    except acd.AcdConfigError as exc:
        return None, Problem(file, 0, "", f"queues and skills not checked: {exc}", Severity.WARNING)
    skills = {skill for agent in config.agents for skill in agent.skills}
    skills |= {skill for queue in config.queues for skill in queue.skills}
    return AcdNames(file, frozenset(q.name for q in config.queues), frozenset(skills)), None


@click.command("validate")
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
@click.option(
    "--catalogue",
    "catalogue_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Prompt catalogue. Default: <sounds_dir>/prompts.yaml",
)
@click.option("--strict", is_flag=True, help="Treat warnings as errors.")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="json: one document with every problem (for CI).",
)
@click.pass_obj
def validate_command(
    settings: Settings, paths: tuple[Path, ...], catalogue_path: Path | None, strict: bool, output_format: str
) -> None:
    """Check flow files (default: the flows folder); exit status 1 on any error.

    Every problem of every file is reported at once: schema, exits, unreachable nodes, loops without
    caller input, sub-flows (resolved among the files, their folders, then the shipped flows), lookups,
    prompts, and the queues and skills of transfers against acd.yaml (setting agents_file).
    """
    targets = list(paths) or [settings.flows_dir]
    catalogue_file = catalogue_path or settings.sounds_dir / "prompts.yaml"
    catalogue: CatalogueView | None
    try:
        catalogue = load_catalogue(catalogue_file, settings.sounds_dir)
    except CatalogueError as exc:
        raise click.ClickException(f"cannot check prompts: {exc}") from None
    acd, acd_problem = acd_names(settings)
    cwd_targets = [Path(shown_path(t)) for t in targets]
    report = validate_paths(
        cwd_targets,
        catalogue=catalogue,
        catalogue_file=shown_path(catalogue_file),
        library=[Path(shown_path(settings.flows_dir))] if settings.flows_dir.is_dir() else [],
        acd=acd,
        language=settings.language,
    )
    if acd_problem is not None:
        report = ValidationReport(report.files, (*report.problems, acd_problem))
    count = len(report.files)
    if count == 0:
        raise click.ClickException(f"no flow files (*.yaml) in {', '.join(map(str, targets))}")
    errors = len(report.errors) + (len(report.warnings) if strict else 0)
    if output_format == "json":
        click.echo(report_json(report))
    else:
        for line in format_problems(report.problems):
            click.echo(line)
        warnings = len(report.warnings)
        summary = (
            f"{count} flow{'s' if count != 1 else ''} checked: "
            f"{len(report.errors)} error{'s' if len(report.errors) != 1 else ''}, "
            f"{warnings} warning{'s' if warnings != 1 else ''}"
        )
        click.echo(summary if errors == 0 else click.style(summary, fg="red"), err=errors > 0)
    if errors:
        raise click.exceptions.Exit(1)


@click.group("flows")
def flows_group() -> None:
    """Flow designer tools: the flow format's JSON Schema, flow test cases."""


@flows_group.command("schema")
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Write to this file instead of standard output.",
)
def schema_command(output: Path | None) -> None:
    """Print the JSON Schema of flow files (for yaml-language-server and other editors)."""
    from ivr_engine.flow.schema import flow_schema

    text = json.dumps(flow_schema(), indent=2) + "\n"
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        click.echo(f"wrote {output}", err=True)


@flows_group.command("test")
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
@click.option(
    "--live-data",
    is_flag=True,
    help="Simulator: read customers from the service's database (read-only) instead of fresh demo data.",
)
@click.option(
    "--live",
    is_flag=True,
    help="Play the cases as real calls into the running lab (`ivr lab up`) instead of the simulator.",
)
@click.option(
    "--state-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="With --live: the lab's state folder (as `ivr --state-dir`).",
)
@click.option(
    "--concurrency",
    type=click.IntRange(1, 20),
    default=3,
    show_default=True,
    help="With --live: how many calls run at once.",
)
@click.option(
    "--max-wait",
    "max_wait_s",
    type=click.FloatRange(1, 600),
    default=15.0,
    show_default=True,
    help="With --live: the queues' max_wait at most, in seconds, while the cases play (a copy of the "
    "lab's acd.yaml, <state folder>/live-acd.yaml), so overflow cases do not wait minutes.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the results as JSON (progress goes to stderr).")
@click.option("-v", "--verbose", is_flag=True, help="Simulator: list passing cases too.")
@click.pass_obj
def test_command(
    settings: Settings,
    paths: tuple[Path, ...],
    live_data: bool,
    live: bool,
    state_dir: Path | None,
    concurrency: int,
    max_wait_s: float,
    as_json: bool,
    verbose: bool,
) -> None:
    """Run flow test cases (default: <flows_dir>/tests/*.yaml) in the simulator; exit 1 on a failure.

    Each case gives a caller, a clock, the keys pressed, the node path expected and fragments of what
    the caller must hear (docs/flows.md). Lookups read fresh demo data (`ivr db seed`) unless
    --live-data. A failure shows the expected and the actual path side by side.

    --live plays the same cases as real calls into the running lab (SIPp for SIP, our own RTP endpoint
    for the caller's ears and RFC 4733 keys): each case must be answered, leave the expected node path
    in the node log, end as expected, have no silence over 2 s while the caller waits for the flow and
    an audible answer within 1 s of each input. Fragments of speech are not checked live. Transfers
    end as the case says because the command sets the lab's agents up for it: none logged in
    (no_agents), ready agents whose SIPp phones answer and hang up after 3 s (completed), or paused
    agents, so the caller waits on hold and presses the callback key (callback) or reaches the queue's
    max_wait (overflow, see --max-wait). The lab must have no agent logged in. A sub-flow without a
    service number (such as agent) is reached from a flow that has one by its menu keys (main, 0);
    its part of the node path is compared. Cases are grouped by clock: the lab's `ivr serve` is
    restarted on each group's clock (with live-acd.yaml), then on its own clock and acd.yaml again.
    In a group at most --concurrency calls run at once; cases that need the agents in one state run
    in blocks, one after the other (none logged in, ready with at most one call per agent, paused),
    and the cases that reach no transfer fill in. Progress (PASS/FAIL/SKIP per case) is printed.
    Skipped (SKIP, not a failure): transfer failed, and a caller who hangs up after talking to an
    agent.
    """
    from ivr_engine.commands.flow_tests import case_files

    if state_dir is not None:
        settings = replace(settings, state_dir=state_dir)
    files = case_files(paths, settings)
    if not files:
        raise click.ClickException(
            f"no test files (*.yaml) in {', '.join(map(str, paths)) or settings.flows_dir}"
        )
    if live:
        _live_tests(settings, files, concurrency, max_wait_s, as_json)
    else:
        _simulated_tests(settings, files, live_data, as_json, verbose)


def _live_tests(
    settings: Settings, files: list[Path], concurrency: int, max_wait_s: float, as_json: bool
) -> None:
    from ivr_engine.commands.live_flow_tests import live_failure_lines, run_live
    from ivr_engine.lab.errors import LabError
    from ivr_engine.storage import StorageError

    def progress(line: str) -> None:
        click.echo(line, err=as_json)

    try:
        problems, results = asyncio.run(run_live(files, settings, progress, concurrency, max_wait_s))
    except (LabError, StorageError) as exc:
        raise click.ClickException(str(exc)) from None
    for problem in problems:
        click.echo(f"{problem}", err=True)
    failed = [r for r in results if not r.passed]
    skipped = [r for r in results if r.skipped]
    if as_json:
        click.echo(json.dumps([r.as_json() for r in results], indent=2))
    else:
        for result in failed:
            click.echo(click.style(f"FAIL  {result.file}:{result.case.line}  {result.case.name}", fg="red"))
            for line in live_failure_lines(result):
                click.echo(line)
    passed = len(results) - len(failed) - len(skipped)
    summary = (
        f"live: {len(results)} cases in {len(files)} files: {passed} passed, {len(failed)} failed, "
        f"{len(skipped)} skipped"
    )
    _finish(summary, problems, bool(failed), as_json)


def _finish(summary: str, problems: Sequence[Problem], failed: bool, as_json: bool) -> None:
    if problems:
        summary += f", {len(problems)} problems in the test files"
    bad = failed or bool(problems)
    click.echo(click.style(summary, fg="red") if bad else summary, err=as_json)
    if bad:
        raise click.exceptions.Exit(1)


def _simulated_tests(
    settings: Settings, files: list[Path], live_data: bool, as_json: bool, verbose: bool
) -> None:
    from ivr_engine.commands.flow_tests import demo_database, run_cases
    from ivr_engine.flow.case_run import failure_lines
    from ivr_engine.storage import StorageError

    try:
        with tempfile.TemporaryDirectory(prefix="ivr-cases-") as folder:
            cases_settings = settings
            if not live_data:  # the demo data's PINs are hashed under a key in the same folder
                cases_settings = replace(settings, pin_key_file=Settings(state_dir=Path(folder)).pin_key_path)
            url = settings.db_url if live_data else demo_database(Path(folder))
            problems, results = asyncio.run(run_cases(files, cases_settings, url))
    except StorageError as exc:
        raise click.ClickException(f"{exc} (have you run `ivr db init` and `ivr db seed`?)") from None
    for problem in problems:
        click.echo(f"{problem}", err=True)
    failed = 0
    rows = []
    for result in results:
        where = f"{result.file}:{result.case.line}"
        rows.append({
            "file": str(result.file), "line": result.case.line, "name": result.case.name,
            "passed": result.passed, "expected_path": list(result.case.path), "path": list(result.path),
            "missing_heard": list(result.missing_heard), "broken": result.broken or None,
            "ended": None if result.reason is None else result.reason.value,
        })  # fmt: skip
        if result.passed:
            if verbose and not as_json:
                click.echo(f"PASS  {where}  {result.case.name}")
            continue
        failed += 1
        if not as_json:
            click.echo(click.style(f"FAIL  {where}  {result.case.name}", fg="red"))
            for line in failure_lines(result):
                click.echo(line)
    if as_json:
        click.echo(json.dumps(rows, indent=2))
    summary = f"{len(results)} cases in {len(files)} files: {len(results) - failed} passed, {failed} failed"
    _finish(summary, problems, failed > 0, as_json)
