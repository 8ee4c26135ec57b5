"""``POST /web/agents/{id}/monitor``: the wallboard's listen-in, under the web session (cookie, CSRF,
supervisor role), on the same code path as ``/api/agents/{id}/monitor`` (``tests/control``)."""

from __future__ import annotations

import pytest

from .conftest import Desk
from .test_call_controls import on_call


async def test_a_signed_in_supervisor_listens_in_on_an_agent_on_a_call(desk: Desk) -> None:
    await on_call(desk, "1002", "call-1")
    await desk.sign_in("boss")
    response = await desk.post("/web/agents/1002/monitor", {"supervisor": "1001", "mode": "whisper"})
    assert response.status == 200, await response.text()
    assert await response.json() == {"id": "m1", "agent_id": "1002", "call_id": "call-1",
                                     "supervisor": "PJSIP/1001", "mode": "whisper"}
    assert desk.monitor.started == ["1002 PJSIP/1001 whisper"]


async def test_an_agent_may_not_listen_in(desk: Desk) -> None:
    await on_call(desk, "1002", "call-1")
    await desk.sign_in("ann")
    response = await desk.post("/web/agents/1002/monitor", {"supervisor": "1001", "mode": "listen"})
    assert response.status == 403
    assert (await response.json())["error"] == "only supervisors may listen in; ann is an agent"
    assert desk.monitor.started == []


async def test_an_agent_not_on_a_call_is_a_conflict(desk: Desk) -> None:
    await desk.control.login("1002")
    await desk.sign_in("boss")
    response = await desk.post("/web/agents/1002/monitor", {"supervisor": "PJSIP/1001", "mode": "barge"})
    assert response.status == 409
    assert (await response.json())["error"] == "agent 1002 is not on a call answered on this node"


@pytest.mark.parametrize(("body", "message"), [
    ({"supervisor": "1001", "mode": "shout"}, "mode must be one of listen, whisper, barge"),
    ({"supervisor": "PJSIP/1001;x", "mode": "listen"}, '"supervisor"'),
    ({"mode": "listen"}, '"supervisor"'),
])
async def test_a_bad_mode_or_phone_is_refused_before_the_acd_is_asked(
    desk: Desk, body: dict[str, str], message: str
) -> None:
    await on_call(desk, "1002", "call-1")
    await desk.sign_in("boss")
    response = await desk.post("/web/agents/1002/monitor", body)
    assert response.status == 400
    assert message in (await response.json())["error"]
    assert desk.monitor.started == []


async def test_signed_out_and_cross_site_requests_are_refused(desk: Desk) -> None:
    await on_call(desk, "1002", "call-1")
    body = {"supervisor": "1001", "mode": "listen"}
    assert (await desk.post("/web/agents/1002/monitor", body)).status == 401
    await desk.sign_in("boss")
    cross = await desk.client.post("/web/agents/1002/monitor", json=body,
                                   headers={"Origin": "http://evil.example"})
    assert cross.status == 403
    assert "cross-site" in (await cross.json())["error"]
    assert desk.monitor.started == []


async def test_the_agent_actions_still_answer_beside_the_monitor_route(desk: Desk) -> None:
    await desk.sign_in("raj")
    assert (await desk.post("/web/agents/1002/login", {})).status == 200
    unknown = await desk.post("/web/agents/1002/monitors", {})
    assert unknown.status == 404
    assert "unknown agent action" in (await unknown.json())["error"]
