"""What ``ivr flows test`` does: find the test files, make the demo data, run the cases in the simulator."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import click

from ivr_engine.config import Settings
from ivr_engine.flow.case_run import CaseEnvironment, CaseResult, run_case_file
from ivr_engine.flow.cases import read_cases
from ivr_engine.flow.errors import Problem
from ivr_engine.flow.library import FlowLibrary
from ivr_engine.prompts.catalogue import load_catalogue
from ivr_engine.prompts.errors import CatalogueError

__all__ = ["case_files", "demo_database", "run_cases"]


def case_files(paths: Sequence[Path], settings: Settings) -> list[Path]:
    files: list[Path] = []
    for path in list(paths) or [settings.flows_dir / "tests"]:
        files.extend(sorted(path.glob("*.yaml")) if path.is_dir() else [path])
    return files


def demo_database(folder: Path) -> str:
    """A SQLite file in ``folder`` with the schema and the demo data (`ivr db seed`): cases run on
    the same customers whatever the live database holds. Its PINs are hashed under the key file
    ``folder``/pin.key (``Settings(state_dir=folder).pin_key_path``)."""
    if logging.getLogger("alembic").level == logging.NOTSET:  # its INFO chatter (logged on import) is noise
        logging.getLogger("alembic").setLevel(logging.WARNING)
    from ivr_engine.storage import Database
    from ivr_engine.storage.migrate import upgrade
    from ivr_engine.storage.pins import PinKeyFile, Pins
    from ivr_engine.storage.seed import seed

    url = f"sqlite:///{folder / 'cases.db'}"
    pins = Pins(PinKeyFile(Settings(state_dir=folder).pin_key_path))
    database = Database(url)
    try:
        upgrade(database)
        database.call(lambda session: seed(session, pins))
    finally:
        database.dispose()
    return url


async def run_cases(
    files: Sequence[Path], settings: Settings, database_url: str
) -> tuple[list[Problem], list[CaseResult]]:
    from ivr_engine.centre import centre_time
    from ivr_engine.storage import Database
    from ivr_engine.storage.lookups import SqlLookups
    from ivr_engine.storage.pins import PinKeyFile, Pins

    try:
        catalogue = load_catalogue(settings.sounds_dir / "prompts.yaml", settings.sounds_dir)
    except CatalogueError as exc:
        raise click.ClickException(str(exc)) from None
    database = Database(database_url, read_only=True)
    try:
        env = CaseEnvironment(
            lookups=SqlLookups(database, Pins(PinKeyFile(settings.pin_key_path))),
            catalogue=catalogue,
            zone=centre_time(settings, FlowLibrary.lenient([settings.flows_dir])).zone,
            flows_dir=settings.flows_dir,
            numbers={name: number for number, name in settings.service_numbers.items()},
            language=settings.language,
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
