from __future__ import annotations

import asyncio
import ssl
import subprocess
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from ivr_engine.ari.channel import AriChannel
from ivr_engine.ari.client import AriClient
from ivr_engine.ari.dispatch import CallRouter
from ivr_engine.ari.events import ChannelSnapshot
from ivr_engine.ari.fake import FakeAri
from ivr_engine.ari.media import default_resolver
from ivr_engine.ari.stream import Backoff, EventStream


@pytest.fixture
async def fake() -> AsyncIterator[FakeAri]:
    server = FakeAri()
    await server.start()
    yield server
    await server.close()


@pytest.fixture
async def client(fake: FakeAri) -> AsyncIterator[AriClient]:
    ari = AriClient.open(fake.config)
    yield ari
    await ari.close()


@dataclass
class Live:
    fake: FakeAri
    client: AriClient
    router: CallRouter
    stream: EventStream

    def channel(self, channel_id: str = "c1", recordings_dir: Path = Path("/spool/rec")) -> AriChannel:
        """A caller in Stasis, as the service would hand it to a handler."""
        self.fake.add_channel(channel_id, caller="555")
        queue = self.router.open(channel_id)
        resolver = default_resolver(Path("/nonexistent-sounds"))
        snapshot = ChannelSnapshot(channel_id, caller_number="555")
        return AriChannel(
            self.client, snapshot, queue, resolver, dialled="100", recordings_dir=recordings_dir
        )


@pytest.fixture
async def live(fake: FakeAri, client: AriClient) -> AsyncIterator[Live]:
    """A connected event stream whose events go through a CallRouter, as in the service."""
    router = CallRouter()
    backoff = Backoff(0.01, 2, 0.05)
    stream = EventStream(fake.config, client.session, on_event=router.deliver, backoff=backoff)
    reader = asyncio.create_task(stream.run())
    await fake.connected()
    yield Live(fake, client, router, stream)
    reader.cancel()
    await asyncio.gather(reader, return_exceptions=True)


@dataclass(frozen=True)
class SelfSigned:
    """A certificate for 127.0.0.1 signed by itself (what a lab's or a small centre's Asterisk serves):
    ``cert`` is the PEM file a client trusts it by (``SSL_CERT_FILE``), ``server`` a TLS server's context."""

    cert: str
    server: ssl.SSLContext


@pytest.fixture(scope="module")
def self_signed(tmp_path_factory: pytest.TempPathFactory) -> SelfSigned:
    folder = tmp_path_factory.mktemp("tls")
    cert, key = str(folder / "cert.pem"), str(folder / "key.pem")
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", key, "-out", cert],
        check=True, capture_output=True,
    )
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(cert, key)
    return SelfSigned(cert, server)
