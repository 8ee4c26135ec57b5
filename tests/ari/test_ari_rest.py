"""REST calls reach ARI as documented, and every failure becomes one of our AriError types."""

from __future__ import annotations

import asyncio

import pytest

from ivr_engine.ari.client import RETRY_PAUSES, AriClient, AriConfig
from ivr_engine.ari.errors import (
    AriAuthError,
    AriConflict,
    AriConnectionError,
    AriHttpError,
    AriNotFound,
)
from ivr_engine.ari.fake import FakeAri


async def test_missing_channel_is_not_found_with_aris_message(client: AriClient) -> None:
    with pytest.raises(AriNotFound) as info:
        await client.answer("nope")
    assert info.value.status == 404
    assert info.value.message == "Channel not found"
    assert "POST /channels/nope/answer" in str(info.value)


async def test_wrong_password_is_auth_error(fake: FakeAri) -> None:
    config = AriConfig(fake.config.base_url, "ivr", "wrong", "ivr-engine")
    bad = AriClient.open(config)
    try:
        with pytest.raises(AriAuthError) as info:
            await bad.list_channels()
        assert info.value.status == 401
    finally:
        await bad.close()


async def test_conflict_and_other_statuses_keep_status(fake: FakeAri, client: AriClient) -> None:
    fake.add_channel("c1")
    fake.errors[("POST", "/channels/c1/answer")] = (409, "Channel not in Stasis application")
    fake.errors[("GET", "/bridges")] = (500, "Internal Server Error")
    with pytest.raises(AriConflict, match="not in Stasis"):
        await client.answer("c1")
    with pytest.raises(AriHttpError) as info:
        await client.list_bridges()
    assert info.value.status == 500
    assert type(info.value) is AriHttpError


async def test_unreachable_asterisk_is_connection_error() -> None:
    client = AriClient.open(AriConfig("http://127.0.0.1:9/ari", "u", "p", "app"))
    try:
        with pytest.raises(AriConnectionError, match="GET /asterisk/info"):
            await client.asterisk_info()
    finally:
        await client.close()


async def test_channel_operations_send_our_ids_and_params(fake: FakeAri, client: AriClient) -> None:
    fake.add_channel("c1")
    await client.answer("c1")
    await client.play("c1", ["sound:hello-world", "digits:42"], "pb-1")
    await client.set_variable("c1", "ACCOUNT", "7")
    assert await client.get_variable("c1", "ACCOUNT") == "7"
    agent = await client.originate(
        "PJSIP/1001", channel_id="agent-1", app_args=["agent", "q1"], caller_id="100"
    )
    assert agent.id == "agent-1"
    (originate,) = fake.calls("POST", "/channels/agent-1")
    assert originate.params["app"] == "ivr-engine"
    assert originate.params["appArgs"] == "agent,q1"
    (play,) = fake.calls("POST", "/channels/c1/play/pb-1")
    assert play.params["media"] == "sound:hello-world,digits:42"
    await client.hangup("c1", reason="busy")
    assert fake.calls("DELETE", "/channels/c1")[0].params == {"reason": "busy"}
    assert {c.id for c in await client.list_channels()} == {"agent-1"}


async def test_bridges_and_application(fake: FakeAri, client: AriClient) -> None:
    fake.add_channel("a")
    fake.add_channel("b")
    bridge = await client.create_bridge("br-1")
    assert bridge.id == "br-1"
    await client.add_channel("br-1", ["a", "b"])
    assert (await client.list_bridges())[0].channels == ("a", "b")
    await client.remove_channel("br-1", ["a"])
    app = await client.get_application()
    assert app.bridge_ids == {"br-1"}
    assert app.channel_ids == {"a", "b"}
    await client.destroy_bridge("br-1")
    with pytest.raises(AriNotFound):
        await client.destroy_bridge("br-1")
    assert (await client.asterisk_info()).version.startswith("16.28")


async def test_music_on_hold_starts_with_its_class_and_stops(fake: FakeAri, client: AriClient) -> None:
    fake.add_channel("c1")
    await client.start_moh("c1")
    assert fake.moh == {"c1": "default"}
    (start,) = fake.calls("POST", "/channels/c1/moh")
    assert start.params == {"mohClass": "default"}
    await client.stop_moh("c1")
    assert fake.moh == {}
    assert [r.path for r in fake.calls("DELETE", "/channels/c1/moh")] == ["/channels/c1/moh"]
    await client.start_moh("c1", moh_class="jazz")
    assert fake.moh == {"c1": "jazz"}
    await client.hangup("c1")
    assert fake.moh == {}  # a channel that goes takes its music with it


async def test_music_on_hold_errors_are_mapped(fake: FakeAri, client: AriClient) -> None:
    with pytest.raises(AriNotFound, match="POST /channels/gone/moh"):
        await client.start_moh("gone")
    with pytest.raises(AriNotFound, match="DELETE /channels/gone/moh"):
        await client.stop_moh("gone")
    fake.add_channel("c1")
    fake.errors[("POST", "/channels/c1/moh")] = (409, "Channel not in Stasis application")
    with pytest.raises(AriConflict, match="not in Stasis"):
        await client.start_moh("c1")
    assert fake.moh == {}


async def test_a_connection_reset_under_a_command_is_sent_again_a_bounded_number_of_times() -> None:
    """Asterisk drops its connections (e.g. with the events WebSocket) under a POST: it is sent again,
    and when every connection is dropped the request fails after 1 + len(RETRY_PAUSES) tries."""
    seen: list[bytes] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        seen.append(await reader.readuntil(b"\r\n\r\n"))
        if len(seen) != 2:  # only the 2nd is answered
            writer.transport.abort()
            return
        writer.write(b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    client = AriClient.open(AriConfig(f"http://127.0.0.1:{port}/ari", "ivr", "pw", "ivr-engine"))
    try:
        await client.answer("c1")
        assert len(seen) == 2
        assert all(request.startswith(b"POST /ari/channels/c1/answer") for request in seen)
        with pytest.raises(AriConnectionError):  # dropped every time: an error, not a loop
            await client.answer("c1")
        assert len(seen) == 2 + 1 + len(RETRY_PAUSES)
    finally:
        await client.close()
        server.close()
        await server.wait_closed()


class _LimitedHost:
    """Like Asterisk's HTTP server: at most ``limit`` connections; a further one is closed at once,
    unread (Asterisk: "HTTP session count exceeded"). Each answer takes ``delay`` seconds."""

    def __init__(self, limit: int, delay: float) -> None:
        self.limit, self.delay = limit, delay
        self.open = self.most_open = self.refused = self.answered = 0

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.open >= self.limit:
            self.refused += 1
            writer.transport.abort()
            return
        self.open += 1
        self.most_open = max(self.most_open, self.open)
        try:
            while True:
                await reader.readuntil(b"\r\n\r\n")
                await asyncio.sleep(self.delay)
                writer.write(b"HTTP/1.1 204 No Content\r\n\r\n")
                await writer.drain()
                self.answered += 1
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            self.open -= 1
            writer.close()


async def _burst(host: _LimitedHost, connections: int, requests: int, *, others: int = 0) -> None:
    """``requests`` answers at once through a client of ``connections``, while another client holds
    ``others`` of the host's sessions for the first 0.2 s."""
    server = await asyncio.start_server(host.serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    held = [await asyncio.open_connection("127.0.0.1", port) for _ in range(others)]
    config = AriConfig(f"http://127.0.0.1:{port}/ari", "ivr", "pw", "ivr-engine", connections=connections)
    client = AriClient.open(config)

    async def release() -> None:
        await asyncio.sleep(0.2)
        for _reader, writer in held:
            writer.close()

    try:
        await asyncio.gather(release(), *(client.answer(f"c{n}") for n in range(requests)))
    finally:
        await client.close()
        server.close()
        await server.wait_closed()


async def test_requests_stay_within_the_connections_asked_for() -> None:
    """A burst of requests opens at most ``AriConfig.connections`` connections: kept under Asterisk's
    sessionlimit, none is refused."""
    host = _LimitedHost(limit=4, delay=0.02)
    await _burst(host, connections=4, requests=40)
    assert (host.answered, host.refused, host.most_open) == (40, 0, 4)


async def test_a_host_at_its_session_limit_delays_requests_but_loses_none() -> None:
    """Another client holds all of Asterisk's sessions for 0.2 s: our requests are refused meanwhile,
    sent again after growing pauses, and all answered (on an idle connection of ours once one is free)."""
    host = _LimitedHost(limit=3, delay=0.02)
    await _burst(host, connections=5, requests=5, others=3)
    assert host.refused >= 5  # each request was refused at least once
    assert host.answered == 5
