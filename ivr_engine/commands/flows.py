"""``ivr validate``: check flow files before they reach a phone (file:line, node, message)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import click

from ivr_engine.config import Settings
from ivr_engine.flow.errors import Problem
from ivr_engine.flow.validator import CatalogueView, validate_paths
from ivr_engine.prompts.catalogue import load_catalogue
from ivr_engine.prompts.errors import CatalogueError

__all__ = ["format_problems", "shown_path", "validate_command"]


def shown_path(path: Path) -> str:
    """``path`` relative to the working directory when it is inside it (shorter messages)."""
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def format_problems(problems: Sequence[Problem]) -> list[str]:
    """Aligned lines: location, severity, node, message."""
    rows = [
        (
            f"{p.file}:{p.line}" if p.line else p.file,
            p.severity.value,
            f"node '{p.node}'" if p.node else "",
            p.message,
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


@click.command("validate")
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
@click.option(
    "--catalogue",
    "catalogue_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Prompt catalogue. Default: <sounds_dir>/prompts.yaml",
)
@click.option("--strict", is_flag=True, help="Treat warnings as errors.")
@click.pass_obj
def validate_command(
    settings: Settings, paths: tuple[Path, ...], catalogue_path: Path | None, strict: bool
) -> None:
    """Check flow files (default: the flows folder); exit status 1 on any error."""
    targets = list(paths) or [settings.flows_dir]
    catalogue_file = catalogue_path or settings.sounds_dir / "prompts.yaml"
    catalogue: CatalogueView | None
    try:
        catalogue = load_catalogue(catalogue_file, settings.sounds_dir)
    except CatalogueError as exc:
        raise click.ClickException(f"cannot check prompts: {exc}") from None
    cwd_targets = [Path(shown_path(t)) for t in targets]
    report = validate_paths(cwd_targets, catalogue=catalogue, catalogue_file=shown_path(catalogue_file))
    for line in format_problems(report.problems):
        click.echo(line)
    errors = len(report.errors) + (len(report.warnings) if strict else 0)
    warnings = len(report.warnings)
    count = len(report.files)
    summary = (
        f"{count} flow{'s' if count != 1 else ''} checked: "
        f"{len(report.errors)} error{'s' if len(report.errors) != 1 else ''}, "
        f"{warnings} warning{'s' if warnings != 1 else ''}"
    )
    if count == 0:
        raise click.ClickException(f"no flow files (*.yaml) in {', '.join(map(str, targets))}")
    click.echo(summary if errors == 0 else click.style(summary, fg="red"), err=errors > 0)
    if errors:
        raise click.exceptions.Exit(1)
