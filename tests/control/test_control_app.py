"""The control API over a fake ACD: auth, agent commands, refusals, queues, screen-pops, streams."""

from __future__ import annotations

import asyncio
import json

import pytest
from aiohttp.test_utils import TestClient

from ivr_engine.screenpop import ScreenPop, ScreenPopService
from tests.acd_control_fakes import EPOCH, FakeControl, alice_pop
from tests.sse import Heard, sse_events

from .control_fakes import AUTH


async def test_health_needs_no_token(client: TestClient) -> None:
    response = await client.get("/api/health")
    assert response.status == 200
    assert await response.json() == {"status": "ok", "agents": 2, "queues": 2}


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic abc"}])
async def test_agents_refuse_a_missing_or_wrong_token(client: TestClient, headers: dict[str, str]) -> None:
    response = await client.get("/api/agents", headers=headers)
    assert response.status == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert "bearer token" in (await response.json())["error"]


async def test_list_agents(client: TestClient, fake: FakeControl) -> None:
    await fake.login("1002")
    fake.now += 42

    response = await client.get("/api/agents", headers=AUTH)

    assert response.status == 200
    agents = (await response.json())["agents"]
    assert [(a["id"], a["state"]) for a in agents] == [("1001", "logged_out"), ("1002", "ready")]
    assert agents[1]["in_state"] == pytest.approx(42.0)
    assert agents[0]["in_state"] is None  # never changed state since start-up
    assert agents[0]["skills"] == {"general": 5, "billing": 8}


async def test_login_pause_ready_logout_drive_the_state_machine(
    client: TestClient, fake: FakeControl
) -> None:
    response = await client.post("/api/agents/1001/login", headers=AUTH)
    assert response.status == 200
    assert (await response.json())["state"] == "ready"

    response = await client.post("/api/agents/1001/pause", headers=AUTH, json={"reason": "lunch"})
    body = await response.json()
    assert (response.status, body["state"], body["pause_reason"]) == (200, "paused", "lunch")
    assert fake.acd.agent("1001").pause_reason == "lunch"

    response = await client.post("/api/agents/1001/ready", headers=AUTH)
    assert (await response.json())["state"] == "ready"
    response = await client.post("/api/agents/1001/logout", headers=AUTH)
    assert (await response.json())["state"] == "logged_out"


async def test_refused_transition_is_409_with_the_reason(client: TestClient, fake: FakeControl) -> None:
    response = await client.post("/api/agents/1001/ready", headers=AUTH)  # logged out -> ready: not allowed

    assert response.status == 409
    error = (await response.json())["error"]
    assert "agent 1001" in error
    assert "logged_out" in error
    assert fake.acd.agent("1001").state.value == "logged_out"


async def test_unknown_agent_is_404(client: TestClient) -> None:
    for method, path in [("POST", "/api/agents/9999/login"), ("GET", "/api/agents/9999"),
                         ("GET", "/api/agents/9999/screenpop")]:
        response = await client.request(method, path, headers=AUTH)
        assert response.status == 404, path
        assert "9999" in (await response.json())["error"]


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ("{not json", "not valid JSON"),
        ("[1, 2]", "must be a JSON object"),
        ("{}", "non-empty reason"),
        ('{"reason": 5}', "non-empty reason"),
        ('{"reason": "   "}', "non-empty reason"),
        (json.dumps({"reason": "x" * 65}), "at most 64"),
    ],
)
async def test_bad_pause_input_is_400(client: TestClient, fake: FakeControl, body: str, needle: str) -> None:
    await fake.login("1001")
    headers = {**AUTH, "Content-Type": "application/json"}
    response = await client.post("/api/agents/1001/pause", headers=headers, data=body)
    assert response.status == 400
    assert needle in (await response.json())["error"]
    assert fake.acd.agent("1001").state.value == "ready"


async def test_unknown_route_and_wrong_method_are_json(client: TestClient) -> None:
    response = await client.get("/api/nothing", headers=AUTH)
    assert response.status == 404
    assert (await response.json())["error"] == "no such endpoint: GET /api/nothing"
    response = await client.get("/api/agents/1001/login", headers=AUTH)
    assert response.status == 405
    assert "GET is not allowed" in (await response.json())["error"]


async def test_unexpected_failure_is_a_json_500_without_traceback(
    client: TestClient, fake: FakeControl, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken() -> list[object]:
        raise RuntimeError("secret internals")

    monkeypatch.setattr(fake, "queue_statuses", broken)
    response = await client.get("/api/queues", headers=AUTH)
    assert response.status == 500
    text = await response.text()
    assert "secret internals" not in text
    assert "Traceback" not in text
    assert json.loads(text)["error"].startswith("internal error")


async def test_queue_status_lists_waiting_calls_in_service_order(
    client: TestClient, fake: FakeControl
) -> None:
    await fake.login("1002")
    await fake.pause("1002", "meeting")
    fake.acd.enqueue("c-1", "15550001002", "general", EPOCH)
    fake.acd.enqueue("c-2", "15550001001", "general", EPOCH + 10, vip=True, priority=5)
    fake.now = EPOCH + 70

    response = await client.get("/api/queues", headers=AUTH)

    assert response.status == 200
    queues = {q["name"]: q for q in (await response.json())["queues"]}
    general = queues["general"]
    assert [(w["call_id"], w["position"], w["vip"], w["priority"]) for w in general["waiting"]] == [
        ("c-2", 1, True, 5),
        ("c-1", 2, False, 0),
    ]
    assert [w["waited"] for w in general["waiting"]] == [pytest.approx(60.0), pytest.approx(70.0)]
    assert general["longest_wait"] == pytest.approx(70.0)
    assert general["agents_by_state"]["paused"] == 1
    assert queues["billing"]["waiting"] == []
    assert queues["billing"]["longest_wait"] == 0


async def test_latest_screenpop(client: TestClient, screenpops: ScreenPopService) -> None:
    response = await client.get("/api/agents/1001/screenpop", headers=AUTH)
    assert response.status == 404
    assert (await response.json())["error"] == "no screen-pop yet for agent 1001"

    screenpops.publish(alice_pop("1001"))
    response = await client.get("/api/agents/1001/screenpop", headers=AUTH)
    assert response.status == 200
    assert ScreenPop.from_json(await response.json()) == alice_pop("1001")


async def _read_sse_event(response: object) -> Heard:
    from aiohttp import ClientResponse

    assert isinstance(response, ClientResponse)
    async for event in sse_events(response):
        return event
    raise AssertionError("stream ended")


async def _until(predicate: object) -> None:
    assert callable(predicate)
    for _ in range(200):
        if predicate():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("condition never became true")


async def test_screenpop_stream_delivers_only_that_agents_pops(
    client: TestClient, screenpops: ScreenPopService
) -> None:
    response = await client.get("/api/agents/1001/screenpops", headers=AUTH)
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("text/event-stream")
    await _until(lambda: screenpops.subscriber_count("1001") == 1)

    screenpops.publish(alice_pop("1002", "other-call"))
    screenpops.publish(alice_pop("1001", "my-call"))

    event, data = await asyncio.wait_for(_read_sse_event(response), 5)
    assert event == "screenpop"
    assert ScreenPop.from_json(data) == alice_pop("1001", "my-call")
    response.close()
    await _until(lambda: screenpops.subscriber_count("1001") == 0)


async def test_event_stream_carries_state_changes(client: TestClient, fake: FakeControl) -> None:
    response = await client.get("/api/events", headers=AUTH)
    assert response.status == 200
    await _until(lambda: fake.subscriber_count == 1)

    await fake.login("1001")

    event, data = await asyncio.wait_for(_read_sse_event(response), 5)
    assert event == "state_changed"
    assert data["agent_id"] == "1001"
    assert data["detail"] == "logged_out -> ready: login"
    response.close()
    await _until(lambda: fake.subscriber_count == 0)
