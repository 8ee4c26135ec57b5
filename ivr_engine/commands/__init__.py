"""CLI command groups, one module per group, loaded only when their command runs.

``COMMANDS`` is the table ``ivr --help`` is printed from: a command's module (and the SQLAlchemy, aiohttp,
openpyxl ... it imports) is imported only when that command is invoked or its own help is asked for, so
``ivr --help`` stays fast. Add a line here when adding a group; ``tests/unit/test_cli_lazy.py`` checks
that every line resolves and that its short help is the command's own.
"""

from __future__ import annotations

import importlib
import inspect
from dataclasses import dataclass
from typing import Any

import click

__all__ = ["COMMANDS", "LazyCommand", "LazyGroup", "first_paragraph"]


@dataclass(frozen=True)
class LazyCommand:
    """Where a top-level command lives, and what ``ivr --help`` says about it."""

    module: str
    """Module under ``ivr_engine.commands``."""
    attr: str
    """The attribute holding its click command or group."""
    summary: str
    """The first paragraph of the command's help (``--help`` shortens it as click would)."""

    def load(self) -> click.Command:
        module = importlib.import_module(f"ivr_engine.commands.{self.module}")
        command = getattr(module, self.attr)
        if not isinstance(command, click.Command):
            raise TypeError(f"ivr_engine.commands.{self.module}.{self.attr} is not a click command")
        return command


COMMANDS: dict[str, LazyCommand] = {
    "agent": LazyCommand(
        "agent", "agent_group", "Agent control on the running service (see `ivr serve`)."
    ),
    "bench": LazyCommand(
        "bench",
        "bench_command",
        "Run the caller mix through ivr-engine (100) and the dialplan IVR (9100); print the figures.",
    ),
    "callbacks": LazyCommand("callbacks", "callbacks_group", "Booked callbacks: list, cancel, retry."),
    "calls": LazyCommand("calls", "calls_group", "Call history and node-traversal log."),
    "db": LazyCommand(
        "db",
        "db_group",
        "Database schema (alembic migrations) and demo data. URL: settings database_url, else SQLite.",
    ),
    "dialplan": LazyCommand(
        "dialplan", "dialplan_group", "Asterisk configuration rendered from dialplans/*.j2."
    ),
    "flows": LazyCommand(
        "flows", "flows_group", "Flow designer tools: the flow format's JSON Schema, flow test cases."
    ),
    "lab": LazyCommand(
        "lab",
        "lab_group",
        "Run Asterisk and the service on loopback, in the state folder (--state-dir).",
    ),
    "prompts": LazyCommand(
        "prompts",
        "prompts_group",
        "Prompt audio: synthesise sounds/prompts.yaml into 8 kHz wavs, list what is built.",
    ),
    "queue": LazyCommand(
        "queue", "queue_group", "Queues of the running service (see `ivr serve`)."
    ),
    "serve": LazyCommand(
        "serve",
        "serve",
        "Connect to ARI and answer calls (reconnects on its own; stop with Ctrl-C or SIGTERM).",
    ),
    "simulate": LazyCommand(
        "simulate",
        "simulate_command",
        "Run FLOW (a file or a flow name) with scripted digits, reading the database's customers.",
    ),
    "sipp": LazyCommand("sipp", "sipp_group", "SIPp scenarios for flows."),
    "stats": LazyCommand(
        "stats", "stats_group", "Supervisor statistics: IVR nodes, the ACD, and the service loop."
    ),
    "ticket": LazyCommand(
        "tickets", "ticket_group", "Work orders: log, list, show, assign, comment, close, return visit."
    ),
    "validate": LazyCommand(
        "flows",
        "validate_command",
        "Check flow files (default: the flows folder); exit status 1 on any error.",
    ),
    "voicemail": LazyCommand(
        "voicemail", "voicemail_group", "The voicemail inbox: list, show, play, close, callback, ticket."
    ),
    "web": LazyCommand(
        "web",
        "web_group",
        "The agent desktop and wallboard served by `ivr serve` (http://127.0.0.1:8090/login).",
    ),
}


def first_paragraph(help_text: str | None) -> str:
    """The first paragraph of a command's help, on one line (what ``COMMANDS`` keeps as ``summary``)."""
    paragraph = inspect.cleandoc(help_text or "").split("\n\n")[0]
    return " ".join(paragraph.split())


class LazyGroup(click.Group):
    """A group whose subcommands are imported from a table the first time they are needed."""

    def __init__(self, *args: Any, lazy: dict[str, LazyCommand], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy = lazy

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        command = super().get_command(ctx, cmd_name)
        if command is None and cmd_name in self.lazy:
            command = self.lazy[cmd_name].load()
            self.add_command(command, cmd_name)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The ``Commands`` section of ``--help``, from the table: no command module is imported."""
        names = self.list_commands(ctx)
        if not names:
            return
        limit = formatter.width - 6 - max(len(name) for name in names)
        rows = []
        for name in names:
            # Not loaded yet: a stand-in with the table's summary shortens it exactly as click would.
            shown = self.commands.get(name) or click.Command(name, help=self.lazy[name].summary)
            rows.append((name, shown.get_short_help_str(limit)))
        with formatter.section("Commands"):
            formatter.write_dl(rows)
