"""Telephone numbers in one place (``ivr_engine.numbers``): normalised, checked, dialled, presented."""

from __future__ import annotations

import pytest

from ivr_engine.numbers import NotDialable, dial_string, dialable, digits_of, outbound_caller_id
from ivr_engine.storage.lookups import normalise_phone


@pytest.mark.parametrize(("raw", "digits"), [
    ("+1 (555) 000-1001", "15550001001"),
    ("15550001001", "15550001001"),
    ("555.060.3000", "5550603000"),
    ("0044 20 7946 0000", "442079460000"),  # 00 is the international prefix, as +
    ("+86 10 1234 5678", "861012345678"),
    ("  5550603 ", "5550603"),
])
def test_a_number_is_dialled_as_its_digits(raw: str, digits: str) -> None:
    assert dialable(raw) == digits
    assert dial_string(raw) == f"PJSIP/{digits}@pstn"


@pytest.mark.parametrize(("raw", "why"), [
    ("", "withheld"),
    ("anonymous", "withheld"),
    ("Restricted", "withheld"),
    ("alice", "not a telephone number"),
    ("555;transport=tcp", "not a telephone number"),
    ("12", "too short"),
    ("+1234567890123456", "too long"),
])
def test_numbers_the_centre_cannot_call_back_say_why(raw: str, why: str) -> None:
    with pytest.raises(NotDialable, match=why):
        dialable(raw)
    with pytest.raises(NotDialable):
        dial_string(raw)


def test_screen_pop_lookups_and_dialling_normalise_alike() -> None:
    assert normalise_phone("+1 (555) 000-1001") == digits_of("+1 (555) 000-1001") == "15550001001"
    assert digits_of("anonymous") == ""


def test_the_caller_id_customers_see() -> None:
    assert outbound_caller_id("100") == "100"
    assert outbound_caller_id("+1 555 000 0100", "Call Centre") == '"Call Centre" <15550000100>'
    assert outbound_caller_id("100", 'Evil" <1> "x') == '"Evil 1 x" <100>'
