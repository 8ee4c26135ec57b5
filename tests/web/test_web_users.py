"""Web users: hashed in a 0600 file, `ivr web user` commands, lab users, and signed session cookies."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner, Result

from cli import main
from ivr_engine.web import LAB_PASSWORDS_FILE, Role, UserError, UserFile, WebUser, create_lab_users
from ivr_engine.web.session import SessionSigner


def _ivr(state: Path, *args: str, stdin: str | None = None) -> Result:
    return CliRunner().invoke(main, ["--state-dir", str(state), *args], input=stdin,
                              env={"IVR_CONFIG": None}, catch_exceptions=False)


def test_passwords_are_stored_as_hashes_in_a_private_file(tmp_path: Path) -> None:
    store = UserFile.in_state_dir(tmp_path)
    store.add(WebUser("ann", Role.AGENT, "1001"), "correct horse")
    text = store.path.read_text()
    assert "correct horse" not in text
    assert "scrypt$" in text
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600
    fresh = UserFile.in_state_dir(tmp_path)
    assert fresh.authenticate("ann", "correct horse") == WebUser("ann", Role.AGENT, "1001")
    assert fresh.authenticate("ann", "wrong horse") is None
    assert fresh.authenticate("bob", "correct horse") is None


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: WebUser("Ann Lee", Role.AGENT, "1001"), "must be 1-32 lowercase"),
        (lambda: WebUser("ann", Role.AGENT), "needs an agent id"),
        (lambda: WebUser("ann", Role.AGENT, "10 01"), "agent id"),
    ],
)
def test_bad_users_are_refused(make: object, message: str) -> None:
    with pytest.raises(UserError, match=message):
        make()  # type: ignore[operator]


def test_duplicates_and_short_passwords_are_refused(tmp_path: Path) -> None:
    store = UserFile.in_state_dir(tmp_path)
    store.add(WebUser("boss", Role.SUPERVISOR), "long enough")
    with pytest.raises(UserError, match="already exists"):
        store.add(WebUser("boss", Role.SUPERVISOR), "long enough")
    with pytest.raises(UserError, match="at least 8"):
        store.add(WebUser("eve", Role.SUPERVISOR), "short")


def test_cli_adds_lists_and_removes_users(tmp_path: Path) -> None:
    added = _ivr(tmp_path, "web", "user", "add", "ann", "--role", "agent", "--agent-id", "1001",
                 stdin="s3cret-pass\ns3cret-pass\n")
    assert added.exit_code == 0, added.output
    generated = _ivr(tmp_path, "web", "user", "add", "boss", "--role", "supervisor", "--generate")
    password = generated.output.split("password: ")[1].strip()
    store = UserFile.in_state_dir(tmp_path)
    assert store.authenticate("ann", "s3cret-pass") is not None
    assert store.authenticate("boss", password) is not None
    listing = _ivr(tmp_path, "web", "user", "list").output
    assert "ann" in listing
    assert "1001" in listing
    assert "s3cret" not in listing
    refused = _ivr(tmp_path, "web", "user", "add", "x", "--role", "agent", "--generate")
    assert refused.exit_code == 1
    assert "needs an agent id" in refused.output
    assert "Traceback" not in refused.output
    assert _ivr(tmp_path, "web", "user", "remove", "ann").exit_code == 0
    assert UserFile.in_state_dir(tmp_path).get("ann") is None


def test_lab_users_get_fresh_passwords_written_privately(tmp_path: Path) -> None:
    path = create_lab_users(tmp_path)
    assert path == tmp_path / LAB_PASSWORDS_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    plain = yaml.safe_load(path.read_text())["users"]
    assert sorted(plain) == ["agent1001", "agent1002", "agent1003", "supervisor"]
    store = UserFile.in_state_dir(tmp_path)
    for name, entry in plain.items():
        user = store.authenticate(name, entry["password"])
        assert user is not None
        assert user.agent_id == entry["agent_id"]
    again = yaml.safe_load(create_lab_users(tmp_path).read_text())["users"]
    assert again["supervisor"]["password"] != plain["supervisor"]["password"]


def test_session_cookie_expires_and_resists_tampering() -> None:
    now = [1_000.0]
    signer = SessionSigner(lambda: b"k" * 32, clock=lambda: now[0], lifetime=60)
    cookie = signer.sign("ann")
    assert signer.verify(cookie) == "ann"
    other = SessionSigner(lambda: b"x" * 32, clock=lambda: now[0])
    assert other.verify(cookie) is None
    now[0] += 61
    assert signer.verify(cookie) is None
