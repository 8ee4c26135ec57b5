"""``ivr prompts``: build the prompt catalogue into Asterisk audio and show what is built."""

from __future__ import annotations

import json
import shutil

import click

from ivr_engine.config import Settings
from ivr_engine.prompts import (
    BuildReport,
    EspeakSynthesizer,
    PromptBuilder,
    PromptCatalogue,
    PromptEntry,
    PromptError,
    Synthesizer,
    catalogue_path,
    load_catalogue,
)

__all__ = ["prompts_group"]


@click.group("prompts")
def prompts_group() -> None:
    """Prompt audio: synthesise sounds/prompts.yaml into 8 kHz wavs, list what is built."""


@prompts_group.command("build")
@click.option("--lang", help="Build only this language (default: every language in the catalogue).")
@click.option("--force", is_flag=True, help="Rebuild every prompt, changed or not.")
@click.pass_obj
def build_command(settings: Settings, lang: str | None, force: bool) -> None:
    """Synthesise changed prompts (pyttsx3/espeak-ng -> 8 kHz mono 16-bit wav); remove stale ones."""
    try:
        builder = PromptBuilder(_catalogue(settings), _synthesizer())
        langs = _languages(builder, lang)
        total = BuildReport()
        for code in langs:
            report = _build_language(builder, code, force)
            click.echo(f"{code}: {report.summary()}")
            total = total + report
    except PromptError as exc:
        raise click.ClickException(str(exc)) from exc
    for failure in total.failed:
        click.echo(f"failed {failure.lang}/{failure.prompt_id}: {failure.reason}", err=True)
    if total.failed:
        raise click.ClickException(f"{len(total.failed)} prompt(s) failed to build")


@prompts_group.command("list")
@click.option("--lang", help="Only this language.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.pass_obj
def list_command(settings: Settings, lang: str | None, as_json: bool) -> None:
    """Print every catalogue prompt: id, language, whether its audio is built and current, text."""
    try:
        builder = PromptBuilder(_catalogue(settings), _synthesizer())
        rows: list[tuple[str, str, str, str]] = []
        for code in _languages(builder, lang, include_removed=False):
            plan = builder.plan(code)
            current = set(plan.unchanged)
            for entry in builder.catalogue.entries(code):
                rows.append((entry.id, code, _built_state(builder.catalogue, entry, current), entry.text))
    except PromptError as exc:
        raise click.ClickException(str(exc)) from exc
    if as_json:
        keys = ("id", "lang", "built", "text")
        click.echo(json.dumps([dict(zip(keys, row, strict=True)) for row in rows], indent=2))
        return
    if not rows:
        click.echo("the catalogue has no prompts")
        return
    header = ("ID", "LANG", "BUILT", "TEXT")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(3)]
    room = max(20, shutil.get_terminal_size((120, 24)).columns - sum(widths) - 6)
    for row in [header, *rows]:
        text = row[3] if len(row[3]) <= room else row[3][: room - 1] + "…"
        click.echo("  ".join(cell.ljust(w) for cell, w in zip(row[:3], widths, strict=True)) + "  " + text)


def _catalogue(settings: Settings) -> PromptCatalogue:
    return load_catalogue(catalogue_path(settings.sounds_dir), settings.sounds_dir)


def _synthesizer() -> Synthesizer:
    return EspeakSynthesizer()


def _languages(builder: PromptBuilder, lang: str | None, include_removed: bool = True) -> list[str]:
    known = builder.catalogue.languages()
    if lang is None:
        return builder.languages() if include_removed else known
    if lang not in known:
        have = ", ".join(known) or "none"
        raise PromptError(f"no language {lang!r} in {builder.catalogue.path} (it has: {have})")
    return [lang]


def _build_language(builder: PromptBuilder, lang: str, force: bool) -> BuildReport:
    plan = builder.plan(lang, force=force)
    if not plan.to_build:
        return builder.execute(plan)
    with click.progressbar(
        plan.to_build,
        label=f"building {lang}",
        item_show_func=lambda entry: entry.id if entry is not None else None,
    ) as bar:

        def advance(entry: PromptEntry) -> None:
            bar.update(1, entry)

        return builder.execute(plan, advance)


def _built_state(catalogue: PromptCatalogue, entry: PromptEntry, current: set[str]) -> str:
    if entry.id in current:
        return "yes"
    return "outdated" if catalogue.wav_path(entry.id, entry.lang).is_file() else "no"
