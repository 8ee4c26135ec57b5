"""The web routes over HTTP: sign-in, sessions, CSRF, per-agent access, state changes, wrap-up, survey,
wallboard figures, and clear 4xx errors for bad input."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from acd import AgentState, callback_entry
from acd.records import AcdRecorder
from acd.records.rows import CallbackRow, QueueOutcome, WrapUpRow
from ivr_engine.storage.models import NodeEventRow, SurveyResponse
from ivr_engine.web.session import COOKIE_NAME
from ivr_engine.web.wallboard import ServiceLevelBands
from tests.acd_control_fakes import alice_pop

from .conftest import Desk


async def test_pages_and_api_need_a_session(desk: Desk) -> None:
    for page in ("/agent", "/wallboard", "/"):
        response = await desk.client.get(page, allow_redirects=False)
        assert (response.status, response.headers["Location"]) == (302, "/login")
    response = await desk.client.get("/web/me")
    assert response.status == 401
    assert (await response.json())["error"] == "sign in first at /login"
    assert (await desk.client.get("/login")).status == 200


async def test_sign_in_sets_a_strict_http_only_cookie_and_lands_by_role(desk: Desk) -> None:
    response = await desk.post("/login", {"username": "ann", "password": "ann-secret-1"})
    assert (await response.json())["redirect"] == "/agent"
    cookie = response.cookies[COOKIE_NAME]
    assert cookie["httponly"]
    assert cookie["samesite"] == "Strict"
    me = await (await desk.client.get("/web/me")).json()
    assert (me["user"], me["role"], me["agent_id"]) == ("ann", "agent", "1001")
    assert me["agent"]["state"] == "logged_out"
    response = await desk.client.get("/wallboard", allow_redirects=False)
    assert response.headers["Location"] == "/agent"


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ({"username": "ann", "password": "wrong-password"}, 401, "wrong user name or password"),
        ({"username": "nobody", "password": "whatever-123"}, 401, "wrong user name or password"),
        ({"username": "ann"}, 400, "'password' is required"),
        ({"username": 7, "password": "x"}, 400, "'username' must be text"),
        ([1, 2], 400, "must be a JSON object"),
    ],
)
async def test_bad_sign_in_is_a_clear_4xx(desk: Desk, body: object, status: int, message: str) -> None:
    response = await desk.post("/login", body)
    assert response.status == status
    assert message in (await response.json())["error"]
    assert COOKIE_NAME not in response.cookies


async def test_post_needs_same_origin_and_json(desk: Desk) -> None:
    response = await desk.client.post("/login", json={"username": "ann", "password": "ann-secret-1"},
                                      headers={"Origin": "http://evil.example"})
    assert response.status == 403
    assert (await response.json())["error"] == "cross-site request refused"
    response = await desk.client.post("/login", data="username=ann&password=ann-secret-1",
                                      headers={"Origin": desk.base,
                                               "Content-Type": "application/x-www-form-urlencoded"})
    assert response.status == 415
    assert "Content-Type: application/json" in (await response.json())["error"]
    response = await desk.client.post("/login", data=b"{not json", headers={
        "Origin": desk.base, "Content-Type": "application/json"})
    assert response.status == 400
    assert "not valid JSON" in (await response.json())["error"]


async def test_forged_cookie_is_no_session(desk: Desk) -> None:
    await desk.sign_in("ann")
    good = desk.client.session.cookie_jar.filter_cookies(desk.client.make_url("/"))[COOKIE_NAME].value
    payload, _, mac = good.partition(".")
    desk.client.session.cookie_jar.clear()
    assert (await desk.client.get("/web/me", headers={"Cookie": f"{COOKIE_NAME}={good}"})).status == 200
    for forged in (f"{payload}.{mac[::-1]}", f"{payload}x.{mac}", "garbage", "a.b"):
        assert (await desk.client.get("/web/me", headers={"Cookie": f"{COOKIE_NAME}={forged}"})).status == 401


async def test_agent_cannot_see_or_drive_another_agent(desk: Desk) -> None:
    desk.screenpops.publish(alice_pop("1002", "call-9"))
    desk.screenpops.publish(alice_pop("1001", "call-1"))
    await desk.sign_in("ann")
    response = await desk.client.get("/web/agents/1002/screenpop")
    assert response.status == 403
    assert (await response.json())["error"] == "ann may not see or act for agent 1002"
    assert (await desk.client.get("/web/agents/1002/events")).status == 403
    assert (await desk.post("/web/agents/1002/login", {})).status == 403
    assert desk.control.state("1002") is AgentState.LOGGED_OUT
    own = await desk.client.get("/web/agents/1001/screenpop")
    assert (await own.json())["customer"]["name"] == "Alice Chen"


async def test_state_changes_drive_the_acd_and_refusals_say_why(desk: Desk) -> None:
    await desk.sign_in("ann")
    refused = await desk.post("/web/agents/1001/ready", {})
    assert refused.status == 409
    assert "logged_out" in (await refused.json())["error"]
    assert (await (await desk.post("/web/agents/1001/login", {})).json())["state"] == "ready"
    agent = await (await desk.post("/web/agents/1001/pause", {"reason": "lunch"})).json()
    assert (agent["state"], agent["pause_reason"]) == ("paused", "lunch")
    assert desk.control.state("1001") is AgentState.PAUSED
    for body, message in (({}, "'reason' is required"), ({"reason": "x" * 65}, "at most 64")):
        response = await desk.post("/web/agents/1001/pause", body)
        assert response.status == 400
        assert message in (await response.json())["error"]
    response = await desk.post("/web/agents/1001/explode", {})
    assert response.status == 404
    assert "unknown agent action" in (await response.json())["error"]


async def test_wrap_up_is_stored_only_for_the_agents_own_call(desk: Desk) -> None:
    desk.screenpops.publish(alice_pop("1001", "call-1"))
    desk.screenpops.publish(alice_pop("1002", "call-9"))
    await desk.sign_in("ann")
    body = {"disposition": "resolved", "note": "balance read"}
    response = await desk.post("/web/calls/call-1/wrapup", body)
    assert response.status == 200, await response.text()
    rows = desk.database.call(lambda s: [(r.call_id, r.agent_id, r.disposition, r.note)
                                         for r in s.scalars(select(WrapUpRow))])
    assert rows == [("call-1", "1001", "resolved", "balance read")]
    assert (await desk.post("/web/calls/call-9/wrapup", {"disposition": "resolved"})).status == 403
    bad = await desk.post("/web/calls/call-1/wrapup", {"disposition": "teleported"})
    assert bad.status == 400
    assert "unknown disposition" in (await bad.json())["error"]
    assert (await desk.post("/web/calls/bad%20id/wrapup", {"disposition": "resolved"})).status == 400


async def test_wrap_up_accepts_a_call_the_acd_recorded_as_answered_by_the_agent(desk: Desk) -> None:
    recorder = AcdRecorder(desk.database)
    at = desk.now
    await recorder.queue_call_enqueued(call_id="old-call", queue="general", caller="1555", priority=0,
                                       enqueued=at, predicted_wait_s=None)
    await recorder.queue_call_answered(call_id="old-call", agent_id="1001", answered=at)
    await desk.sign_in("ann")
    assert (await desk.post("/web/calls/old-call/wrapup", {"disposition": "sale"})).status == 200
    await desk.sign_in("raj")
    assert (await desk.post("/web/calls/old-call/wrapup", {"disposition": "sale"})).status == 403


async def test_survey_result_of_own_call(desk: Desk) -> None:
    desk.screenpops.publish(alice_pop("1001", "call-1"))
    await desk.sign_in("ann")
    assert (await desk.client.get("/web/calls/call-1/survey")).status == 404
    desk.database.call(lambda s: s.add_all([
        SurveyResponse(call_id="call-1", agent_id="1001", survey="csat", question="agent", score=5),
        SurveyResponse(call_id="call-1", agent_id="1001", survey="csat", question="overall", score=4),
    ]))
    result = await (await desk.client.get("/web/calls/call-1/survey")).json()
    assert result["average"] == 4.5
    assert [a["question"] for a in result["answers"]] == ["agent", "overall"]


async def test_wallboard_needs_a_supervisor_and_shows_the_centres_local_day(desk: Desk) -> None:
    await desk.sign_in("ann")
    response = await desk.client.get("/web/wallboard")
    assert response.status == 403
    assert "needs a supervisor account" in (await response.json())["error"]

    now = desk.now
    recorder = AcdRecorder(desk.database)
    calls = (  # (id, enqueued this long before now, wait, outcome): the desk's now is 22:00 in New York
        ("q1", timedelta(seconds=60), 5, None),
        ("q2", timedelta(seconds=60), 40, None),
        ("q3", timedelta(seconds=60), 12, QueueOutcome.ABANDONED),
        ("q4", timedelta(hours=4), 3, None),  # 18:00 local: today for the centre, yesterday in UTC
        ("q5", timedelta(hours=23), 3, None),  # 23:00 local the day before: not today
    )
    for call_id, ago, wait, outcome in calls:
        enqueued = now - ago
        await recorder.queue_call_enqueued(call_id=call_id, queue="general", caller="1", priority=0,
                                           enqueued=enqueued, predicted_wait_s=None)
        if outcome is None:
            await recorder.queue_call_answered(call_id=call_id, agent_id="1001",
                                               answered=enqueued + timedelta(seconds=wait))
        else:
            await recorder.queue_call_ended(call_id=call_id, outcome=outcome,
                                            ended=enqueued + timedelta(seconds=wait))
    desk.database.call(lambda s: s.add_all([
        NodeEventRow(call_id=c, seq=i, flow="main", node=node, node_type="menu", input=None, outcome=out,
                     entered=now - timedelta(seconds=30 - i), left=now - timedelta(seconds=29 - i))
        for c, steps in {"a": [("welcome", "next"), ("menu", "0")], "b": [("welcome", "hangup")]}.items()
        for i, (node, out) in enumerate(steps, start=1)
    ]))
    await desk.client.post("/logout", json={}, headers={"Origin": desk.base})
    await desk.sign_in("boss")
    board = await (await desk.client.get("/web/wallboard")).json()
    general = next(q for q in board["queues"] if q["name"] == "general")
    assert (general["offered"], general["answered"], general["abandoned"]) == (4, 3, 1)
    assert general["service_level"] == pytest.approx(2 / 4)
    assert general["abandon_rate"] == pytest.approx(1 / 4)
    steps = {s["node"]: (s["reached"], s["ended_here"]) for s in board["funnel"]["steps"]}
    assert steps == {"welcome": (2, 1), "menu": (1, 1)}
    assert board["agents_by_state"]["logged_out"] == 2
    assert general["asa_s"] == pytest.approx((5 + 40 + 3) / 3)
    assert general["service_band"] == "bad"  # 50 % against the default bands (80 % good, 60 % warning)
    assert (board["service_level_target"], board["service_level_warning"]) == (0.8, 0.6)


async def test_wallboard_tiles_count_ready_and_staffed_agents_and_pending_callbacks(desk: Desk) -> None:
    await desk.control.login("1001")
    await desk.control.login("1002")
    await desk.control.pause("1002", "lunch")
    desk.database.call(lambda s: s.add_all([
        CallbackRow(call_id=f"cb{n}", caller="1", number="1", queue="general", requested=desk.now,
                    status=status)
        for n, status in enumerate(("pending", "done"))
    ] + [  # return visits: one due, one booked for tomorrow (not counted until it is due)
        CallbackRow(call_id=f"visit:WO-{n}", caller="1", number="1", queue="general", kind="return_visit",
                    requested=desk.now + timedelta(hours=hours), due=desk.now + timedelta(hours=hours),
                    status="pending", work_order=f"WO-{n}")
        for n, hours in enumerate((-1, 24))
    ]))  # fmt: skip
    await desk.sign_in("boss")
    board = await (await desk.client.get("/web/wallboard")).json()
    general = next(q for q in board["queues"] if q["name"] == "general")
    assert (general["ready"], general["staffed"], general["callbacks_pending"]) == (1, 2, 2)
    assert general["service_band"] is None  # nothing offered today: no colour


async def test_wallboard_counts_a_callback_waiting_for_an_agent_as_pending_not_on_hold(desk: Desk) -> None:
    for agent_id in ("1001", "1002"):
        await desk.control.login(agent_id)
        await desk.control.pause(agent_id, "lunch")
    desk.database.call(lambda s: s.add_all([
        CallbackRow(call_id=f"cb{n}", caller="1", number="1", queue="general", requested=desk.now,
                    status=status)
        for n, status in enumerate(("pending", "done", "dialing"))
    ]))  # fmt: skip
    now = desk.control.now
    desk.control.acd.enqueue("caller", "555", "general", now - 20)
    desk.control.acd.enqueue(callback_entry("cb2"), "1", "general", now, enqueued_at=now - 3600)
    await desk.sign_in("boss")
    board = await (await desk.client.get("/web/wallboard")).json()
    general = next(q for q in board["queues"] if q["name"] == "general")
    # The claimed callback (``dialing``, in the ACD's line since its booking an hour ago) is a pending
    # callback, not a caller on hold: it does not make the longest wait an hour.
    assert (general["waiting"], general["longest_wait"], general["callbacks_pending"]) == (1, 20.0, 2)


@pytest.mark.parametrize(("level", "band"), [(0.95, "good"), (0.8, "good"), (0.7, "warning"), (0.59, "bad"),
                                             (None, None)])
def test_service_level_bands(level: float | None, band: str | None) -> None:
    assert ServiceLevelBands().band(level) == band
    with pytest.raises(ValueError, match="warning"):
        ServiceLevelBands(target=0.5, warning=0.7)


async def test_supervisor_may_drive_any_agent_but_unknown_agents_and_huge_bodies_are_4xx(desk: Desk) -> None:
    await desk.sign_in("boss")
    agent = await (await desk.post("/web/agents/1002/login", {})).json()
    assert agent["state"] == "ready"
    assert desk.control.state("1002") is AgentState.READY
    missing = await desk.post("/web/agents/9999/login", {})
    assert missing.status == 404
    assert (await missing.json())["error"] == "no agent 9999 in the ACD"
    huge = await desk.post("/web/agents/1002/pause", {"reason": "x" * 20_000})
    assert huge.status == 413
    assert "larger than" in (await huge.json())["error"]
    wrap = await desk.post("/web/calls/call-1/wrapup", {"disposition": "resolved"})
    assert wrap.status == 403
    assert (await wrap.json())["error"] == "this needs an agent account; boss is a supervisor"


async def test_the_agent_json_says_which_buttons_and_how_long_wrap_up_lasts(desk: Desk) -> None:
    await desk.sign_in("ann")
    me = await (await desk.client.get("/web/me")).json()
    assert (me["agent"]["actions"], me["agent"]["wrap_up_left"]) == (["login"], None)
    ready = await (await desk.post("/web/agents/1001/login", {})).json()
    assert ready["actions"] == ["pause", "logout"]
    engine, now = desk.control.acd, desk.control.now
    engine.enqueue("c1", "15550001001", "general", now - 30)
    engine.answer("1001", now - 20)
    engine.end_call("1001", now - 2)  # the general queue's 5 s of wrap-up, 2 s gone
    me = await (await desk.client.get("/web/me")).json()
    assert (me["agent"]["state"], me["agent"]["actions"]) == ("wrap_up", ["ready", "pause", "logout"])
    assert me["agent"]["wrap_up_left"] == pytest.approx(3.0)


async def test_the_screen_pop_route_carries_readable_call_references(desk: Desk) -> None:
    desk.screenpops.publish(alice_pop("1001", "1796287882.0"))
    await desk.sign_in("ann")
    pop = await (await desk.client.get("/web/agents/1001/screenpop")).json()
    assert pop["call_id"] == "1796287882.0"
    assert pop["call_ref"].startswith("2026-11-20 #")  # answered 09:00 UTC, 04:00 in New York
    assert pop["last_calls"][0]["call_ref"].startswith("2026-11-20 #")
