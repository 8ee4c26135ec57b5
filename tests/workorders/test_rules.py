"""The work-order rules and policy file, pure."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from ivr_engine.workorders import rules
from ivr_engine.workorders.errors import PolicyError, WorkOrderError
from ivr_engine.workorders.model import Action, OrderState, Urgency, VisitOutcome, WorkOrder
from ivr_engine.workorders.policy import DEFAULT_POLICY, load_policy, parse_policy

NOW = datetime(2026, 12, 3, 15, 0, tzinfo=UTC)
ROOT = Path(__file__).resolve().parents[2]


def order(**changes: object) -> WorkOrder:
    base = WorkOrder(serial="WO-20261203-0001", kind="complaint", urgency=Urgency.NORMAL,
                     state=OrderState.OPEN, customer_id=7, customer_name="Ann", phone="15550001001",
                     call_id=None, description="broken", department=None, handler=None, created=NOW,
                     created_by="1001", deadline=NOW + timedelta(hours=24))
    return WorkOrder(**{**base.__dict__, **changes})  # type: ignore[arg-type]


def test_serial_numbers_are_the_day_and_a_four_digit_count() -> None:
    assert rules.serial_for(date(2026, 12, 3), 1) == "WO-20261203-0001"
    assert rules.serial_for(date(2027, 1, 9), 42) == "WO-20270109-0042"
    with pytest.raises(ValueError):
        rules.serial_for(date(2026, 12, 3), 0)


def test_each_urgency_gives_its_own_step_deadline() -> None:
    assert rules.step_deadline(DEFAULT_POLICY, Urgency.URGENT, NOW) == NOW + timedelta(hours=2)
    assert rules.step_deadline(DEFAULT_POLICY, Urgency.LOW, NOW) == NOW + timedelta(hours=72)
    assert rules.visit_due(DEFAULT_POLICY, NOW) == NOW + timedelta(hours=24)


def test_overdue_only_past_the_deadline_and_never_once_closed() -> None:
    due = order()
    assert not due.overdue(due.deadline)
    assert due.overdue(due.deadline + timedelta(seconds=1))
    assert not order(state=OrderState.CLOSED).overdue(NOW + timedelta(days=30))


def test_a_repeat_is_the_same_type_and_customer_inside_the_window() -> None:
    earlier = order()
    window = timedelta(days=DEFAULT_POLICY.repeat_window_days)
    assert rules.is_repeat(DEFAULT_POLICY, earlier, "complaint", 7, "", NOW + window)
    past = NOW + window + timedelta(seconds=1)
    assert not rules.is_repeat(DEFAULT_POLICY, earlier, "complaint", 7, "", past)
    assert not rules.is_repeat(DEFAULT_POLICY, earlier, "suggestion", 7, "", NOW)
    assert not rules.is_repeat(DEFAULT_POLICY, earlier, "complaint", 8, "15550001001", NOW)


def test_without_a_customer_record_the_number_decides() -> None:
    earlier = order(customer_id=None)
    soon = NOW + timedelta(hours=1)
    assert rules.is_repeat(DEFAULT_POLICY, earlier, "complaint", None, "15550001001", soon)
    assert not rules.is_repeat(DEFAULT_POLICY, earlier, "complaint", None, "15550009999", NOW)
    assert not rules.is_repeat(DEFAULT_POLICY, order(customer_id=None, phone=""), "complaint", None, "", NOW)


def test_every_action_but_creation_has_its_allowed_states() -> None:
    assert set(rules._ALLOWED) == set(Action) - {Action.CREATED}


@pytest.mark.parametrize(("state", "action", "allowed"), [
    (OrderState.OPEN, Action.DISPATCHED, True),
    (OrderState.CLOSED, Action.REASSIGNED, False),
    (OrderState.CLOSED, Action.CLOSED, False),
    (OrderState.CLOSED, Action.COMMENTED, True),
    (OrderState.DISPATCHED, Action.VISITED, False),
    (OrderState.CLOSED, Action.VISITED, True),
])  # fmt: skip
def test_what_each_state_allows(state: OrderState, action: Action, allowed: bool) -> None:
    if allowed:
        rules.check_allowed(order(state=state), action)
    else:
        with pytest.raises(WorkOrderError, match=f"is {state}"):
            rules.check_allowed(order(state=state), action)


def test_a_return_visit_is_recorded_once() -> None:
    with pytest.raises(WorkOrderError, match="already recorded"):
        rules.check_allowed(order(state=OrderState.CLOSED, visit_outcome=VisitOutcome.SATISFIED),
                            Action.VISITED)
    # a customer not reached may still answer a later visit
    rules.check_allowed(order(state=OrderState.CLOSED, visit_outcome=VisitOutcome.UNREACHED), Action.VISITED)


def test_the_shipped_policy_file_loads() -> None:
    policy = load_policy(ROOT / "workorders.yaml")
    assert "complaint" in policy.types
    assert policy.step_hours[Urgency.URGENT] < policy.step_hours[Urgency.LOW]


def test_a_missing_policy_file_means_the_defaults(tmp_path: Path) -> None:
    assert load_policy(tmp_path / "absent.yaml") == DEFAULT_POLICY


def test_the_policy_reads_its_values() -> None:
    policy = parse_policy("types: [repair]\ndepartments: [field]\nstep_hours: {urgent: 0.5}\n"
                          "repeat_window_days: 3\nreturn_visit_after_hours: 48\n"
                          "return_visit_queue: aftercare\n", "w.yaml")
    assert policy.types == ("repair",)
    assert policy.check_department("field") == "field"
    assert policy.step_hours[Urgency.URGENT] == 0.5
    assert policy.step_hours[Urgency.LOW] == 72.0  # the default kept
    assert (policy.repeat_window_days, policy.return_visit_after_hours) == (3.0, 48.0)
    assert policy.return_visit_queue == "aftercare"
    assert DEFAULT_POLICY.return_visit_queue is None  # the order's call's queue, else general


@pytest.mark.parametrize(("text", "message"), [
    ("types: [a]\nkinds: [b]\n", r"w\.yaml:2: unknown key 'kinds'"),
    ("step_hours:\n  soon: 3\n", r"w\.yaml:2: step_hours: unknown urgency 'soon'"),
    ("step_hours:\n  high: -1\n", r"w\.yaml:2: step_hours\.high must be a number above 0"),
    ("repeat_window_days: .nan\n", r"w\.yaml:1: repeat_window_days must be a number"),
    ("return_visit_after_hours: " + "9" * 400 + "\n", r"w\.yaml:1: return_visit_after_hours must be"),
    ("types:\n  - a\n  - a\n", r"w\.yaml:3: types: 'a' is listed twice"),
    ("return_visit_queue: [a, b]\n", r"w\.yaml:1: return_visit_queue must be a queue name"),
    ("departments: []\n", r"w\.yaml:1: departments must be a non-empty list"),
    ("types: [a\n", r"w\.yaml: not valid YAML"),
    ("- 1\n", r"w\.yaml:1: the file must be a mapping"),
])  # fmt: skip
def test_a_bad_policy_names_file_and_line(text: str, message: str) -> None:
    with pytest.raises(PolicyError, match=message):
        parse_policy(text, "w.yaml")


def test_unknown_types_and_departments_are_refused_with_the_choices() -> None:
    with pytest.raises(PolicyError, match="types: complaint, consultation"):
        DEFAULT_POLICY.check_type("praise")
    with pytest.raises(PolicyError, match="departments: customer-service"):
        DEFAULT_POLICY.check_department("sales")
