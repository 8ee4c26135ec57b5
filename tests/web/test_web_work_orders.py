"""Work orders from the agent desktop: logged from the agent's own call, prefilled from the screen-pop,
numbered by the centre's day, refused clearly, and shown in the customer's next screen-pop."""

from __future__ import annotations

from dataclasses import replace

from ivr_engine.screenpop.build import Answered, build_screen_pop
from ivr_engine.screenpop.model import ScreenPop, VisitCard
from ivr_engine.storage.pins import Pins
from ivr_engine.storage.seed import seed
from ivr_engine.workorders import store
from ivr_engine.workorders.policy import DEFAULT_POLICY
from ivr_engine.workorders.screenpop import open_work_orders
from tests.acd_control_fakes import alice_pop

from .conftest import DESK_NOW, Desk

COMPLAINT = {"type": "complaint", "urgency": "high", "description": "parcel arrived broken"}


async def test_an_agent_logs_a_work_order_from_their_call(desk: Desk, pins: Pins) -> None:
    desk.database.call(lambda session: seed(session, pins))
    desk.screenpops.publish(alice_pop("1001", "call-1"))
    await desk.sign_in("ann")
    options = await (await desk.client.get("/web/workorders/options")).json()
    assert "complaint" in options["types"]
    assert options["urgencies"] == ["low", "normal", "high", "urgent"]

    response = await desk.post("/web/calls/call-1/workorders", COMPLAINT)
    assert response.status == 201, await response.text()
    order = await response.json()
    assert order["serial"] == "WO-20261204-0001"  # 22:00 on the 4th in the centre (already the 5th in UTC)
    assert (order["customer_id"], order["phone"], order["call_id"]) == (1, "15550001001", "call-1")
    assert (order["created_by"], order["state"], order["urgency"]) == ("ann", "open", "high")
    again = await (await desk.post("/web/calls/call-1/workorders", COMPLAINT)).json()
    assert again["repeat_of"] == "WO-20261204-0001"


async def test_work_orders_only_from_the_agents_own_call_and_valid(desk: Desk, pins: Pins) -> None:
    desk.database.call(lambda session: seed(session, pins))
    desk.screenpops.publish(alice_pop("1002", "call-9"))
    desk.screenpops.publish(alice_pop("1001", "call-1"))
    await desk.sign_in("ann")
    assert (await desk.post("/web/calls/call-9/workorders", COMPLAINT)).status == 403
    bad_type = await desk.post("/web/calls/call-1/workorders", {**COMPLAINT, "type": "praise"})
    assert bad_type.status == 400
    assert "unknown work order type 'praise'" in (await bad_type.json())["error"]
    no_text = await desk.post("/web/calls/call-1/workorders", {**COMPLAINT, "description": " "})
    assert no_text.status == 400
    bad_urgency = await desk.post("/web/calls/call-1/workorders", {**COMPLAINT, "urgency": "asap"})
    assert bad_urgency.status == 400
    await desk.client.post("/logout", json={}, headers={"Origin": desk.base})
    assert (await desk.client.get("/web/workorders/options")).status == 401


async def test_the_next_screen_pop_of_the_customer_shows_their_open_orders(desk: Desk, pins: Pins) -> None:
    desk.database.call(lambda session: seed(session, pins))
    desk.screenpops.publish(alice_pop("1001", "call-1"))
    await desk.sign_in("ann")
    serial = (await (await desk.post("/web/calls/call-1/workorders", COMPLAINT)).json())["serial"]
    answered = Answered("call-2", "1002", "15550001001", "general", DESK_NOW)
    pop = desk.database.call(lambda s: build_screen_pop(s, answered, work_orders=open_work_orders))
    assert [(w.serial, w.kind, w.state, w.overdue) for w in pop.customer.work_orders] == [
        (serial, "complaint", "open", False)]
    assert ScreenPop.from_json(pop.to_json()) == pop
    without = desk.database.call(lambda s: build_screen_pop(s, answered))
    assert without.customer.work_orders == ()


async def test_the_agent_placing_a_return_visit_records_its_outcome_from_the_desk(
    desk: Desk, pins: Pins
) -> None:
    desk.database.call(lambda session: seed(session, pins))
    desk.screenpops.publish(alice_pop("1001", "call-1"))
    await desk.sign_in("ann")
    serial = (await (await desk.post("/web/calls/call-1/workorders", COMPLAINT)).json())["serial"]
    desk.database.call(lambda s: store.close_order(s, DEFAULT_POLICY, serial, "replaced", "tom", DESK_NOW))
    assert (await desk.post(f"/web/workorders/{serial}/visit", {"outcome": "satisfied"})).status == 403
    visit = VisitCard(serial, "complaint", COMPLAINT["description"], "replaced")
    desk.screenpops.publish(replace(alice_pop("1001", "call-1"), reason="return visit", visit=visit))
    bad = await desk.post(f"/web/workorders/{serial}/visit", {"outcome": "happy"})
    assert bad.status == 400
    response = await desk.post(f"/web/workorders/{serial.lower()}/visit",
                               {"outcome": "unsatisfied", "note": "still broken"})
    assert response.status == 200, await response.text()
    order = await response.json()
    assert (order["serial"], order["visit_outcome"]) == (serial, "unsatisfied")
    _, history = desk.database.call(lambda s: store.show_order(s, serial))
    assert (history[-1].by, history[-1].detail) == ("ann", "unsatisfied: still broken")
    again = await desk.post(f"/web/workorders/{serial}/visit", {"outcome": "satisfied"})
    assert again.status == 409
    assert "already recorded" in (await again.json())["error"]
