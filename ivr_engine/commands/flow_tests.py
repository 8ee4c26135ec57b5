"""``ivr flows test``: run the flow test cases (``flows/tests/*.yaml``) in the simulator."""

from __future__ import annotations

import asyncio
import logging
import tempfile
from collections.abc import Sequence
from pathlib import Path

import click

from ivr_engine.config import Settings
from ivr_engine.flow.case_run import CaseEnvironment, CaseResult, failure_lines, run_case_file
from ivr_engine.flow.cases import read_cases
from ivr_engine.flow.errors import Problem
from ivr_engine.flow.library import FlowLibrary
from ivr_engine.prompts.catalogue import load_catalogue
from ivr_engine.prompts.errors import CatalogueError

__all__ = ["test_command"]


def _case_files(paths: Sequence[Path], settings: Settings) -> list[Path]:
    files: list[Path] = []
    for path in list(paths) or [settings.flows_dir / "tests"]:
        files.extend(sorted(path.glob("*.yaml")) if path.is_dir() else [path])
    return files


def _demo_database(folder: Path) -> str:
    """A SQLite file in ``folder`` with the schema and the demo data (`ivr db seed`): cases run on
    the same customers whatever the live database holds."""
    if logging.getLogger("alembic").level == logging.NOTSET:  # its INFO chatter (logged on import) is noise
        logging.getLogger("alembic").setLevel(logging.WARNING)
    from ivr_engine.storage import Database
    from ivr_engine.storage.migrate import upgrade
    from ivr_engine.storage.seed import seed

    url = f"sqlite:///{folder / 'cases.db'}"
    database = Database(url)
    try:
        upgrade(database)
        database.call(seed)
    finally:
        database.dispose()
    return url


async def _run(
    files: Sequence[Path], settings: Settings, database_url: str
) -> tuple[list[Problem], list[CaseResult]]:
    from ivr_engine.centre import centre_time
    from ivr_engine.storage import Database
    from ivr_engine.storage.lookups import SqlLookups

    try:
        catalogue = load_catalogue(settings.sounds_dir / "prompts.yaml", settings.sounds_dir)
    except CatalogueError as exc:
        raise click.ClickException(str(exc)) from None
    database = Database(database_url, read_only=True)
    try:
        env = CaseEnvironment(
            lookups=SqlLookups(database),
            catalogue=catalogue,
            zone=centre_time(settings, FlowLibrary.lenient([settings.flows_dir])).zone,
            flows_dir=settings.flows_dir,
            numbers={name: number for number, name in settings.service_numbers.items()},
        )
        problems: list[Problem] = []
        results: list[CaseResult] = []
        for file in files:
            cases = read_cases(file)
            problems.extend(cases.problems)
            results.extend(await run_case_file(cases, env))
        return problems, results
    finally:
        database.dispose()


@click.command("test")
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
@click.option(
    "--live-data",
    is_flag=True,
    help="Read customers from the service's database (read-only) instead of fresh demo data.",
)
@click.option("-v", "--verbose", is_flag=True, help="List passing cases too.")
@click.pass_obj
def test_command(settings: Settings, paths: tuple[Path, ...], live_data: bool, verbose: bool) -> None:
    """Run flow test cases (default: <flows_dir>/tests/*.yaml) in the simulator; exit 1 on a failure.

    Each case gives a caller, a clock, the keys pressed, the node path expected and fragments of what
    the caller must hear (docs/flows.md). Lookups read fresh demo data (`ivr db seed`) unless
    --live-data. A failure shows the expected and the actual path side by side.
    """
    from ivr_engine.storage import StorageError

    files = _case_files(paths, settings)
    if not files:
        raise click.ClickException(
            f"no test files (*.yaml) in {', '.join(map(str, paths)) or settings.flows_dir}"
        )
    try:
        with tempfile.TemporaryDirectory(prefix="ivr-cases-") as folder:
            url = settings.db_url if live_data else _demo_database(Path(folder))
            problems, results = asyncio.run(_run(files, settings, url))
    except StorageError as exc:
        raise click.ClickException(f"{exc} (have you run `ivr db init` and `ivr db seed`?)") from None
    for problem in problems:
        click.echo(f"{problem}", err=True)
    failed = 0
    for result in results:
        where = f"{result.file}:{result.case.line}"
        if result.passed:
            if verbose:
                click.echo(f"PASS  {where}  {result.case.name}")
            continue
        failed += 1
        click.echo(click.style(f"FAIL  {where}  {result.case.name}", fg="red"))
        for line in failure_lines(result):
            click.echo(line)
    summary = f"{len(results)} cases in {len(files)} files: {len(results) - failed} passed, {failed} failed"
    if problems:
        summary += f", {len(problems)} problems in the test files"
    bad = failed > 0 or bool(problems)
    click.echo(click.style(summary, fg="red") if bad else summary)
    if bad:
        raise click.exceptions.Exit(1)
