"""The service under faults, on a fake ARI: a database that goes away mid-run, a schema behind the head,
calls whose channels vanish and call rows left open by a service that died."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import shutil
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy.engine import make_url

from cli import main
from ivr_engine.ari.fake import FakeAri
from ivr_engine.config import Settings
from ivr_engine.lab.ports import free_tcp_port
from ivr_engine.service.runner import run_service
from ivr_engine.storage import Database
from ivr_engine.storage.migrate import upgrade
from ivr_engine.storage.models import Call
from ivr_engine.storage.pins import Pins
from ivr_engine.storage.queries import CallDetail, call_detail
from ivr_engine.storage.seed import seed
from tests.tcp_proxy import TcpProxy, through

OPEN_HOURS = "2026-12-02T10:00:00-05:00"
"""A Wednesday morning in New York: agent.yaml routes to the queue, not to after-hours voicemail."""



class SpokenTexts:
    """A synthesiser that remembers what it was asked to say (the caller's side of TTS)."""

    def __init__(self, folder: Path) -> None:
        self._folder = folder
        self.texts: dict[str, str] = {}

    async def __call__(self, text: str) -> Path:
        path = self._folder / f"tts-{len(self.texts)}.wav"
        path.touch()
        self.texts[f"sound:{path.resolve().with_suffix('')}"] = text
        return path

    def heard(self, fake: FakeAri, channel_id: str) -> list[str]:
        """What ``channel_id`` was played, TTS as its text."""
        plays = [r.params["media"] for r in fake.calls("POST", f"/channels/{channel_id}/play/")]
        return [self.texts.get(uri, uri) for media in plays for uri in media.split(",")]


@dataclasses.dataclass
class Served:
    fake: FakeAri
    settings: Settings
    spoken: SpokenTexts


@contextlib.asynccontextmanager
async def serving(settings: Settings, tmp_path: Path) -> AsyncIterator[Served]:
    fake = FakeAri(playback_seconds=0.01)
    await fake.start()
    sounds = tmp_path / "sounds"  # nothing built: every prompt is spoken from its catalogue text
    sounds.mkdir()
    shutil.copy(settings.sounds_dir / "prompts.yaml", sounds / "prompts.yaml")
    settings = dataclasses.replace(
        settings, ari_port=fake.port, ari_user=fake.user, ari_password=fake.password,
        http_port=free_tcp_port(), sounds_dir=sounds,
    )  # fmt: skip
    spoken = SpokenTexts(tmp_path)
    stop = asyncio.Event()
    service = asyncio.create_task(run_service(settings, stop=stop, synthesiser=spoken))
    try:
        await fake.connected()
        yield Served(fake, settings, spoken)
    finally:
        stop.set()
        await asyncio.wait_for(service, 15)
        await fake.close()


async def until(condition: object, wait: float = 30.0) -> None:
    async with asyncio.timeout(wait):
        while not condition():  # type: ignore[operator]  # noqa: ASYNC110 - polling state
            await asyncio.sleep(0.05)


async def ended_call(url: str, call_id: str, wait: float = 30.0) -> CallDetail:
    database = Database(url)
    try:
        async with asyncio.timeout(wait):
            while True:
                detail = await database.run(lambda session: call_detail(session, call_id))
                if detail is not None and detail.call.ended is not None:
                    return detail
                await asyncio.sleep(0.1)
    finally:
        database.dispose()


@pytest.fixture
async def pg_proxy(postgres_url: str) -> AsyncIterator[TcpProxy]:
    target = make_url(postgres_url)
    proxy = TcpProxy(target.host or "127.0.0.1", target.port or 5432)
    await proxy.start()
    yield proxy
    await proxy.cut()


@pytest.mark.postgres
async def test_database_gone_caller_hears_fallback_and_agent_offer_node_log_written_later(
    postgres_url: str, pg_proxy: TcpProxy, tmp_path: Path, pins: Pins
) -> None:
    database = Database(postgres_url)
    try:
        upgrade(database)
        database.call(lambda session: seed(session, pins))
    finally:
        database.dispose()
    settings = Settings(
        state_dir=tmp_path / "state", database_url=through(pg_proxy, postgres_url), clock_start=OPEN_HOURS
    )
    async with serving(settings, tmp_path) as served:
        fake, spoken = served.fake, served.spoken
        await pg_proxy.cut()
        await fake.incoming("dbdown", "101", caller="15550001001")
        await until(lambda: fake.calls("POST", "/channels/dbdown/play/"))
        await fake.dtmf("dbdown", "100200#")
        await asyncio.sleep(0.3)
        await fake.dtmf("dbdown", "4321#")
        await until(lambda: any("connect you to an agent" in t for t in spoken.heard(fake, "dbdown")))
        await fake.caller_hangup("dbdown")
        heard = spoken.heard(fake, "dbdown")
        await asyncio.sleep(1.0)  # writes retried against the cut database meanwhile
        await pg_proxy.start()  # the database is back on the same address
        detail = await ended_call(postgres_url, "dbdown")

    assert any(text.startswith("Sorry, we cannot reach our records") for text in heard), heard
    after = heard[next(i for i, t in enumerate(heard) if t.startswith("Sorry, we cannot reach")) + 1 :]
    assert any("connect you to an agent" in text for text in after), heard
    steps = [(s.node, s.outcome) for s in detail.path]
    assert ("check_account", "error") in steps, steps
    assert ("records_unavailable", "next") in steps, steps
    assert detail.call.disposition == "caller_hangup"


def _migrated_to(settings: Settings, revision: str | None) -> None:
    database = Database(settings.db_url)
    try:
        if revision is not None:
            upgrade(database, revision)
    finally:
        database.dispose()


@pytest.mark.parametrize("revision", ["0002", None], ids=["behind", "empty"])
def test_serve_refuses_a_schema_behind_the_head_in_one_sentence(tmp_path: Path, revision: str | None) -> None:
    settings = Settings(state_dir=tmp_path / "state", ari_port=free_tcp_port(), http_port=free_tcp_port())
    _migrated_to(settings, revision)
    result = CliRunner().invoke(main, ["--state-dir", str(settings.state_dir), "serve"])

    assert result.exit_code == 1, result.output
    assert "run `ivr db upgrade`" in result.output
    assert "Traceback" not in result.output
    assert result.output.strip().splitlines()[-1].startswith("Error: the database sqlite:///")


async def test_resync_closes_call_rows_left_open_by_a_service_that_died(
    migrated_settings: Settings, tmp_path: Path
) -> None:
    started = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    database = Database(migrated_settings.db_url)
    try:
        database.call(lambda s: s.add_all([
            Call(id="ghost", caller="5550001", dialled="100", started=started),
            Call(id="stuck", caller="5550002", dialled="100", started=started),
        ]))  # fmt: skip
        async with serving(migrated_settings, tmp_path) as served:
            served.fake.add_channel("stuck")  # still up in Asterisk and in our app, nobody serving it
            ghost = await ended_call(migrated_settings.db_url, "ghost")
            stuck = await ended_call(migrated_settings.db_url, "stuck")
    finally:
        database.dispose()
    assert ghost.call.disposition == "lost"
    assert stuck.call.disposition == "orphan"
