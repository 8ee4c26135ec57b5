"""PIN hashing under the installation's key: the key file, checks, the upgrade of older scrypt hashes
(by hand and through the ``account_auth`` lookup), and the clear errors when the key is unusable."""

from __future__ import annotations

import hashlib
import logging
import os
import re
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select, update

from cli import main
from ivr_engine.config import Settings, load_settings
from ivr_engine.flow.ports import LookupStatus
from ivr_engine.storage import Database, open_stores
from ivr_engine.storage.lookups import SqlLookups
from ivr_engine.storage.models import Account
from ivr_engine.storage.pins import PinCheck, PinKey, PinKeyError, PinKeyFile, Pins


def _scrypt_hash(pin: str, salt: bytes = b"s" * 16) -> str:
    """A hash of the older form, as ``pins.py`` used to make them (small n: the cost is read from it)."""
    n, r, p = 2**4, 8, 1
    key = hashlib.scrypt(pin.encode(), salt=salt, n=n, r=r, p=p, dklen=32)
    return f"scrypt${n}${r}${p}${salt.hex()}${key.hex()}"


def test_the_key_file_is_created_0600_once_and_reused_after_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "state" / "pin.key"
    first = Pins(PinKeyFile(path))
    stored = first.hash("4321")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in path.parent.iterdir()] == ["pin.key"]  # no temporary file left
    text = path.read_text()
    assert len(bytes.fromhex(text.strip())) == 32
    restarted = Pins(PinKeyFile(path))  # a new process: reads the same key, makes no new one
    assert restarted.check("4321", stored) == PinCheck(True)
    assert path.read_text() == text
    assert restarted.key_file.key().key_id == first.key_file.key().key_id


def test_when_another_process_makes_the_key_first_its_key_is_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "pin.key"
    theirs = PinKey.generate()
    real_link = os.link

    def racing_link(source: Path, target: Path) -> None:
        path.write_text(theirs.secret.hex() + "\n")  # the other process linked its file a moment ago
        real_link(source, target)

    monkeypatch.setattr(os, "link", racing_link)
    assert PinKeyFile(path).key().key_id == theirs.key_id
    assert [p.name for p in tmp_path.iterdir()] == ["pin.key"]


def test_check_matches_only_the_right_pin_and_never_a_malformed_hash(tmp_path: Path) -> None:
    pins = Pins(PinKeyFile(tmp_path / "pin.key"))
    stored = pins.hash("123456")
    assert "123456" not in stored
    assert pins.hash("123456") != stored  # salted: equal PINs do not look equal
    assert pins.check("123456", stored) == PinCheck(True)
    for wrong in ("123457", "12345", "1234567", ""):
        assert pins.check(wrong, stored) == PinCheck(False)
    key_id = pins.key_file.key().key_id
    for malformed in ("not-a-hash", "", "md5$1$2$3$00$00", f"hmac-sha256${key_id}$zz$00",
                      f"hmac-sha256${key_id}$00", "scrypt$16$8$1$00"):  # fmt: skip
        assert pins.check("123456", malformed) == PinCheck(False)
    pins.check_nothing("123456")  # the unknown account's work: no error, no answer


def test_the_same_pin_under_another_key_hashes_differently(tmp_path: Path) -> None:
    salt = b"\1" * 16
    one = Pins(PinKeyFile(tmp_path / "one.key")).hash("4321", salt=salt)
    two = Pins(PinKeyFile(tmp_path / "two.key")).hash("4321", salt=salt)
    assert one.split("$")[3] != two.split("$")[3]


def test_an_older_scrypt_hash_verifies_and_comes_back_in_the_current_form(tmp_path: Path) -> None:
    pins = Pins(PinKeyFile(tmp_path / "pin.key"))
    legacy = _scrypt_hash("4321")
    assert pins.check("4322", legacy) == PinCheck(False)  # a wrong PIN is not upgraded
    check = pins.check("4321", legacy)
    assert check.matched
    assert check.rehashed is not None
    assert check.rehashed.startswith(f"hmac-sha256${pins.key_file.key().key_id}$")
    assert pins.check("4321", check.rehashed) == PinCheck(True)
    assert not pins.check("4322", check.rehashed).matched


def test_an_unreadable_or_malformed_key_file_is_a_clear_error_and_left_alone(tmp_path: Path) -> None:
    folder = tmp_path / "pin.key"
    folder.mkdir()  # unreadable as a file, also for root
    unreadable = rf"cannot read PIN key file {re.escape(str(folder))}: Is a directory"
    with pytest.raises(PinKeyError, match=unreadable):
        Pins(PinKeyFile(folder)).hash("4321")
    for content in ("", "zz" * 32, "ab" * 16, "\xff\xfe"):
        bad = tmp_path / "bad.key"
        bad.write_bytes(content.encode("latin-1"))
        expected = rf"PIN key file {re.escape(str(bad))} is malformed: expected 64 hex digits"
        with pytest.raises(PinKeyError, match=expected):
            Pins(PinKeyFile(bad)).check("4321", "hmac-sha256$00000000$00$00")
        assert bad.read_bytes() == content.encode("latin-1")  # never replaced: hashes depend on it


def test_a_lost_key_file_is_named_when_a_hash_needs_it(tmp_path: Path) -> None:
    path = tmp_path / "pin.key"
    stored = Pins(PinKeyFile(path)).hash("4321")
    old_id = stored.split("$")[1]
    path.unlink()  # restored from a backup without it, say: the next use makes a new key
    pins = Pins(PinKeyFile(path))
    new_id = pins.key_file.key().key_id
    with pytest.raises(PinKeyError) as caught:
        pins.check("4321", stored)
    message = str(caught.value)
    assert f"made with PIN key {old_id}" in message
    assert f"{path} holds key {new_id}" in message
    assert "4321" not in message


def test_a_key_never_shows_its_secret() -> None:
    key = PinKey.generate()
    assert key.secret.hex() not in repr(key)
    assert key.secret.hex()[:8] != key.key_id


def test_settings_name_the_key_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings(state_dir=tmp_path).pin_key_path == tmp_path / "pin.key"
    monkeypatch.delenv("IVR_CONFIG", raising=False)
    monkeypatch.setenv("IVR_PIN_KEY_FILE", str(tmp_path / "shared" / "pin.key"))
    assert load_settings(state_dir=tmp_path / "state").pin_key_path == tmp_path / "shared" / "pin.key"


async def _set_alice_hash(settings: Settings, value: str) -> None:
    database = Database(settings.db_url)
    try:
        alice = Account.number == "100200"
        database.call(lambda s: s.execute(update(Account).where(alice).values(pin_hash=value)))
    finally:
        database.dispose()


def _alice_hash(settings: Settings) -> str:
    database = Database(settings.db_url)
    try:
        found = database.call(lambda s: s.scalar(select(Account.pin_hash).where(Account.number == "100200")))
    finally:
        database.dispose()
    assert found is not None
    return found


async def test_account_auth_upgrades_an_older_hash_on_the_first_right_pin(seeded_settings: Settings) -> None:
    legacy = _scrypt_hash("4321")
    await _set_alice_hash(seeded_settings, legacy)
    async with open_stores(seeded_settings) as stores:
        wrong = await stores.lookups.run("account_auth", {"account": "100200", "pin": "1234"})
        assert wrong.status is LookupStatus.NOT_FOUND
        assert _alice_hash(seeded_settings) == legacy
        right = await stores.lookups.run("account_auth", {"account": "100200", "pin": "4321"})
        assert right.status is LookupStatus.FOUND
        upgraded = _alice_hash(seeded_settings)
        assert upgraded.startswith(f"hmac-sha256${stores.lookups.pins.key_file.key().key_id}$")
        again = await stores.lookups.run("account_auth", {"account": "100200", "pin": "4321"})
        still_wrong = await stores.lookups.run("account_auth", {"account": "100200", "pin": "1234"})
    assert (again.status, still_wrong.status) == (LookupStatus.FOUND, LookupStatus.NOT_FOUND)
    assert _alice_hash(seeded_settings) == upgraded


async def test_a_read_only_database_checks_an_older_hash_without_storing_it(
    seeded_settings: Settings, pins: Pins
) -> None:
    legacy = _scrypt_hash("4321")
    await _set_alice_hash(seeded_settings, legacy)
    database = Database(seeded_settings.db_url, read_only=True)
    try:
        answer = await SqlLookups(database, pins).run("account_auth", {"account": "100200", "pin": "4321"})
    finally:
        database.dispose()
    assert answer.status is LookupStatus.FOUND
    assert _alice_hash(seeded_settings) == legacy


async def test_account_auth_with_the_wrong_key_is_an_error_logged_without_the_pin(
    seeded_settings: Settings, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    seeded_settings.pin_key_path.unlink()  # the key the demo PINs were hashed with is gone
    caplog.set_level(logging.DEBUG)
    async with open_stores(seeded_settings) as stores:
        answer = await stores.lookups.run("account_auth", {"account": "100200", "pin": "4321"})
    assert answer.status is LookupStatus.ERROR
    assert "restore the installation's key file" in answer.error
    assert "4321" not in caplog.text
    assert str(seeded_settings.pin_key_path) in caplog.text


def test_db_seed_with_a_malformed_key_file_is_a_clear_error(db_settings: Settings) -> None:
    env = {"IVR_DATABASE_URL": db_settings.database_url, "IVR_CONFIG": None, "IVR_PIN_KEY_FILE": None}
    runner = CliRunner()
    state = ["--state-dir", str(db_settings.state_dir)]
    assert runner.invoke(main, [*state, "db", "init"], env=env).exit_code == 0
    db_settings.pin_key_path.parent.mkdir(parents=True, exist_ok=True)
    db_settings.pin_key_path.write_text("not a key\n")
    result = runner.invoke(main, [*state, "db", "seed"], env=env)
    assert result.exit_code == 1
    assert f"PIN key file {db_settings.pin_key_path} is malformed" in result.output
    assert "Traceback" not in result.output
