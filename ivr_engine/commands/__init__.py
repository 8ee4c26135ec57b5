"""CLI command groups, one module per group; ``cli.py`` adds what ``all_groups`` returns."""

from __future__ import annotations

import importlib

import click

__all__ = ["all_groups"]

# Module name -> attribute holding its click command or group. Add a line when adding a group.
_GROUPS: dict[str, str] = {
    "flows": "validate_command",
    "simulate": "simulate_command",
    "lab": "lab_group",
    "dialplan": "dialplan_group",
    "prompts": "prompts_group",
    "db": "db_group",
    "calls": "calls_group",
    "stats": "stats_group",
    "serve": "serve",
    "agent": "agent_group",
    "queue": "queue_group",
    "web": "web_group",
    "sipp": "sipp_group",
    "bench": "bench_command",
}


def all_groups() -> list[click.Command]:
    commands: list[click.Command] = []
    for module_name, attr in _GROUPS.items():
        module = importlib.import_module(f"ivr_engine.commands.{module_name}")
        command = getattr(module, attr)
        assert isinstance(command, click.Command)
        commands.append(command)
    return commands
