"""``ivr web``: the web desktop's users (agents and supervisors who sign in at /login)."""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from typing import TypeVar

import click

from ivr_engine.config import Settings
from ivr_engine.web import Role, UserFile, WebError, WebUser, create_lab_users

__all__ = ["web_group"]

T = TypeVar("T")


def _guard(work: Callable[[], T]) -> T:
    try:
        return work()
    except WebError as exc:
        raise click.ClickException(str(exc)) from None


@click.group("web")
def web_group() -> None:
    """The agent desktop and wallboard served by `ivr serve` (http://127.0.0.1:8090/login)."""


@web_group.group("user")
def user_group() -> None:
    """Web users, stored as password hashes in <state_dir>/web-accounts.yaml."""


@user_group.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
@click.option("--agent-id", help="The ACD agent this user is (required for --role agent).")
@click.option("--generate", is_flag=True, help="Generate a password and print it, instead of prompting.")
@click.option("--replace", is_flag=True, help="Replace an existing user of that name (new password).")
@click.pass_obj
def add_user(settings: Settings, name: str, role: str, agent_id: str | None, generate: bool,
             replace: bool) -> None:
    """Add user NAME who signs in to the web desktop."""
    user = _guard(lambda: WebUser(name, Role(role), agent_id))
    if generate:
        password = secrets.token_urlsafe(12)
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    store = UserFile.in_state_dir(settings.state_dir)
    _guard(lambda: store.add(user, password, replace=replace))
    agent = f" (agent {user.agent_id})" if user.agent_id else ""
    click.echo(f"web user {user.name}: {user.role.value}{agent}, stored in {store.path}")
    if generate:
        click.echo(f"password: {password}")


@user_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.pass_obj
def list_users(settings: Settings, as_json: bool) -> None:
    """List the web users (never their passwords)."""
    store = UserFile.in_state_dir(settings.state_dir)
    users = _guard(store.users)
    if as_json:
        data = [{"name": u.name, "role": u.role.value, "agent_id": u.agent_id} for u in users]
        click.echo(json.dumps(data, indent=2))
        return
    if not users:
        click.echo(f"no web users in {store.path}; add one with `ivr web user add`")
    for user in users:
        click.echo(f"{user.name:<20} {user.role.value:<11} {user.agent_id or ''}")


@user_group.command("remove")
@click.argument("name")
@click.pass_obj
def remove_user(settings: Settings, name: str) -> None:
    """Remove user NAME (their open sessions end at once)."""
    _guard(lambda: UserFile.in_state_dir(settings.state_dir).remove(name))
    click.echo(f"web user {name} removed")


@user_group.command("lab")
@click.pass_obj
def lab_users(settings: Settings) -> None:
    """Create the lab's users (supervisor, agent1001-agent1003) with fresh random passwords."""
    path = _guard(lambda: create_lab_users(settings.state_dir))
    click.echo(f"lab web users created; their passwords are in {path}")
