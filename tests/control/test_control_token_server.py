"""The control token in the state folder, and serving the app on loopback only."""

from __future__ import annotations

import stat
from pathlib import Path

import aiohttp
import pytest
import yaml

from ivr_engine.config import ConfigError, Settings
from ivr_engine.control import TOKEN_ENV, ControlError, control_token, make_control_app, start_control_server
from ivr_engine.lab.ports import free_tcp_port
from ivr_engine.screenpop import ScreenPopService
from ivr_engine.storage import Database
from tests.acd_control_fakes import FakeControl

from .control_fakes import TOKEN


@pytest.fixture(autouse=True)
def _no_env_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(TOKEN_ENV, raising=False)


def test_token_is_generated_once_next_to_the_ari_password(tmp_path: Path) -> None:
    settings = Settings(state_dir=tmp_path / "state").with_secrets()

    token = control_token(settings)

    assert len(token) >= 24
    assert control_token(settings) == token
    stored = yaml.safe_load(settings.secrets_file.read_text())
    assert stored == {"ari_password": settings.ari_password, "control_token": token}
    assert stat.S_IMODE(settings.secrets_file.stat().st_mode) == 0o600


def test_env_token_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(TOKEN_ENV, "from-env")
    settings = Settings(state_dir=tmp_path / "state")
    assert control_token(settings) == "from-env"
    assert not settings.secrets_file.exists()


def test_missing_token_without_create_says_why(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no control token in"):
        control_token(Settings(state_dir=tmp_path / "state"), create=False)


def test_app_refuses_an_empty_token(tmp_path: Path) -> None:
    database = Database(f"sqlite:///{tmp_path / 'unused.db'}")
    with pytest.raises(ValueError, match="non-empty bearer token"):
        make_control_app(FakeControl(), ScreenPopService(database), "")
    database.dispose()



async def test_serves_on_the_configured_loopback_port(tmp_path: Path) -> None:
    database = Database(f"sqlite:///{tmp_path / 'unused.db'}")
    settings = Settings(state_dir=tmp_path, http_port=free_tcp_port())
    url = f"http://127.0.0.1:{settings.http_port}/api/health"
    runner = await start_control_server(
        make_control_app(FakeControl(), ScreenPopService(database), TOKEN), settings
    )
    try:
        async with aiohttp.ClientSession() as session, session.get(url) as response:
            assert response.status == 200
            assert (await response.json())["status"] == "ok"
        second = make_control_app(FakeControl(), ScreenPopService(database), TOKEN)
        with pytest.raises(ControlError, match=f"on 127.0.0.1:{settings.http_port}: "):
            await start_control_server(second, settings)
    finally:
        await runner.cleanup()
        database.dispose()


async def test_refuses_a_non_loopback_host(tmp_path: Path) -> None:
    database = Database(f"sqlite:///{tmp_path / 'unused.db'}")
    app = make_control_app(FakeControl(), ScreenPopService(database), TOKEN)
    with pytest.raises(ControlError, match="loopback only"):
        await start_control_server(app, Settings(state_dir=tmp_path, http_host="0.0.0.0"))
    database.dispose()
