"""Secrets, logs, the SQLite file and the lab's log folder are *created* private (never chmod'ed after).

Every test runs with umask 000, so a mode narrower than 0666/0777 can only come from the create call,
and with ``chmod`` forbidden, so a file made world-readable and fixed afterwards fails.
"""

from __future__ import annotations

import os
import stat
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from ivr_engine.config import Settings
from ivr_engine.control.token import control_token
from ivr_engine.lab import control, process
from ivr_engine.lab.paths import LabPaths
from ivr_engine.lab.render import write_configs
from ivr_engine.privatefiles import create_private, make_private_dir, write_private
from ivr_engine.storage import Database
from ivr_engine.storage.spool import WriteJournal
from ivr_engine.storage.writer import CallEnded
from ivr_engine.web.users import Role, UserFile, WebUser, create_lab_users


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(autouse=True)
def open_umask_no_chmod(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """umask 000 (modes come from the create call alone) and no chmod at all."""

    def refuse(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("chmod after creation: the file was readable by others in between")

    monkeypatch.setattr(os, "chmod", refuse)
    monkeypatch.setattr(Path, "chmod", refuse)
    previous = os.umask(0)
    try:
        yield
    finally:
        os.umask(previous)


def test_create_private_makes_an_empty_0600_file_and_leaves_an_existing_one(tmp_path: Path) -> None:
    target = tmp_path / "deep" / "ivr.db"
    create_private(target)
    assert mode_of(target) == 0o600
    assert target.read_bytes() == b""
    target.write_bytes(b"data")
    create_private(target)
    assert target.read_bytes() == b"data"


def test_write_private_replaces_the_text_with_a_fresh_0600_file(tmp_path: Path) -> None:
    target = tmp_path / "secrets.yaml"
    stale = tmp_path / ".secrets.yaml.tmp"
    stale.write_text("left by a crash")
    assert mode_of(stale) == 0o666
    write_private(target, "one: 1\n")
    write_private(target, "two: 2\n")
    assert target.read_text() == "two: 2\n"
    assert mode_of(target) == 0o600
    assert not stale.exists()


def test_make_private_dir_is_0700(tmp_path: Path) -> None:
    folder = tmp_path / "state" / "log"
    make_private_dir(folder)
    assert mode_of(folder) == 0o700
    assert mode_of(folder.parent) == 0o777  # parents keep the default: only the last one is private


def test_secrets_file_with_the_ari_password_is_0600(tmp_path: Path) -> None:
    settings = Settings(state_dir=tmp_path / "state").with_secrets()
    stored = yaml.safe_load(settings.secrets_file.read_text())
    assert stored["ari_password"] == settings.ari_password
    assert mode_of(settings.secrets_file) == 0o600


def test_control_token_keeps_the_secrets_file_0600(tmp_path: Path) -> None:
    settings = Settings(state_dir=tmp_path)
    token = control_token(settings)
    assert yaml.safe_load(settings.secrets_file.read_text())["control_token"] == token
    assert mode_of(settings.secrets_file) == 0o600


def test_web_accounts_and_lab_passwords_are_0600(tmp_path: Path) -> None:
    passwords = create_lab_users(tmp_path, agent_ids=("1001",))
    store = UserFile.in_state_dir(tmp_path)
    assert mode_of(passwords) == 0o600
    assert mode_of(store.path) == 0o600
    store.add(WebUser("boss", Role.SUPERVISOR), "a long enough password")
    assert mode_of(store.path) == 0o600


def test_sqlite_database_and_its_wal_files_are_0600(tmp_path: Path) -> None:
    path = tmp_path / "state" / "ivr.db"
    database = Database(f"sqlite:///{path}")
    try:
        with database.engine.begin() as connection:
            connection.exec_driver_sql("CREATE TABLE t (x INTEGER)")
            connection.exec_driver_sql("INSERT INTO t VALUES (1)")
            files = sorted(p.name for p in path.parent.iterdir())
            assert files == ["ivr.db", "ivr.db-shm", "ivr.db-wal"]
            assert {name: mode_of(path.parent / name) for name in files} == dict.fromkeys(files, 0o600)
    finally:
        database.dispose()


def test_journalled_writes_are_0600(tmp_path: Path) -> None:
    journal = WriteJournal(tmp_path / "spool" / "writes.jsonl")
    journal.open()
    journal.append(CallEnded("c1", datetime(2026, 1, 5, 10, tzinfo=UTC), "completed"))
    assert mode_of(journal.path) == 0o600
    assert len(journal.load()) == 1
    journal.close()


def test_ari_conf_and_the_lab_settings_file_are_0600(tmp_path: Path) -> None:
    settings = Settings(state_dir=tmp_path, ari_password="pw", database_url="postgresql://u:secret@h/db")
    paths = LabPaths.for_state_dir(tmp_path)
    written = {p.name: p for p in write_configs(settings, paths.etc, paths)}
    assert mode_of(written["ari.conf"]) == 0o600
    assert "pw" in written["ari.conf"].read_text()
    assert mode_of(written["extensions.conf"]) == 0o666  # no secret in it
    control._write_settings_file(settings, paths)
    assert mode_of(paths.settings_file) == 0o600


def test_lab_log_folder_is_0700(tmp_path: Path) -> None:
    paths = LabPaths.for_state_dir(tmp_path)
    control.make_lab_dirs(paths)
    assert mode_of(paths.log) == 0o700
    assert paths.spool.is_dir()


def test_lab_process_output_is_0600_and_asterisk_files_follow_its_umask(tmp_path: Path) -> None:
    """What Asterisk creates (full log, messages) gets 0666 & ~umask: the lab starts it with umask 077."""
    out = tmp_path / "asterisk.out"
    made = tmp_path / "full"
    creates_as_default = [sys.executable, "-c", f"open({str(made)!r}, 'w').write('x'); print('started')"]
    proc = process.spawn(creates_as_default, out, tmp_path, tmp_path / "pid", umask=control.PRIVATE_UMASK)
    assert proc.wait(timeout=30) == 0
    assert out.read_text().strip() == "started"
    assert mode_of(out) == 0o600
    assert mode_of(made) == 0o600
