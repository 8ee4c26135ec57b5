"""A live balance call (account 100200, PIN 4321) leaves no key of it in any log, and the logs, the
database and the secrets are private files."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from ivr_engine.lab.sipp import HangupBy
from tests.masking import keys_listed, shows_number

from .conftest import Lab
from .flow_calls import call_ids, finished_call, generate, node_path, place

pytestmark = pytest.mark.lab

CALLER = "15550001001"
NOT_LOGS = ("sipp", "spool")
"""The SIPp callers' own run folders (the caller's keypad: they record what they sent) and the spool
(recordings, and writes waiting for the database: rows, not logs)."""


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def log_files(state_dir: Path) -> list[Path]:
    """Every log in the lab's state folder: all of ``log/`` and any ``*.log*``/``*.jsonl*`` elsewhere."""
    found = []
    for path in sorted(state_dir.rglob("*")):
        relative = path.relative_to(state_dir)
        if not path.is_file() or relative.parts[0] in NOT_LOGS:
            continue
        if relative.parts[0] == "log" or ".log" in path.name or ".jsonl" in path.name:
            found.append(path)
    return found


def since(path: Path, offset: int) -> str:
    """What ``path`` holds past ``offset`` (all of it if it is shorter now: rotated meanwhile)."""
    with path.open("rb") as log:
        if path.stat().st_size >= offset:
            log.seek(offset)
        return log.read().decode(errors="replace")


async def test_balance_call_leaves_no_account_or_pin_key_in_any_log(lab: Lab, tmp_path: Path) -> None:
    plan = generate(lab, tmp_path, "balance", "ask_account=100200#/ask_pin=4321#/after_balance=9", CALLER)
    before, log_from = call_ids(lab), lab.full_log_size()
    # The lab is shared: earlier tests' calls (e.g. the benchmark's plain-dialplan twin on 9100, whose
    # Read() Asterisk logs as "User entered ...") are not this call's. Each log is read from here on.
    offsets = {path: path.stat().st_size for path in log_files(lab.settings.state_dir)}

    result = await place(lab, plan)

    assert result.ok, result.describe()
    assert result.digits_sent == "100200#4321#9"
    assert result.hangup_by == HangupBy.FAR_END, result.describe()
    call = await finished_call(lab, before, CALLER, "101")
    assert node_path(call) == node_path(plan, "expected")  # the keys reached the flow
    assert lab.played_since(log_from), "Asterisk's full log still lists the files it plays"

    paths, state = lab.paths, lab.settings.state_dir
    logs = log_files(state)
    names = {path.relative_to(state).as_posix() for path in logs}
    assert {"events.jsonl", "log/serve.log", "log/serve.out", "log/full", "log/messages"} <= names, names
    written = {path: since(path, offsets.get(path, 0)) for path in logs}
    keyed = [f"DTMF: {p.relative_to(state)}" for p in logs if "ChannelDtmfReceived" in written[p]]
    # events.jsonl records that keys came (serve.log has its per-event lines at DEBUG only)...
    assert keyed == ["DTMF: events.jsonl"]
    for path in logs:
        text = written[path]
        assert keys_listed(text) == "", f"{path} lists DTMF keys"  # ...never which
        for secret in ("4321", "100200", "100200#4321#"):
            assert not shows_number(text, secret), f"{path} shows {secret}"

    assert mode_of(paths.log) == 0o700
    assert {p.relative_to(state).as_posix(): oct(mode_of(p)) for p in logs if mode_of(p) != 0o600} == {}
    for private in (state / "ivr.db", lab.settings.secrets_file, paths.settings_file, paths.etc / "ari.conf"):
        assert mode_of(private) == 0o600, private
