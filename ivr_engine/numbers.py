"""Telephone numbers in one place: how a number typed or received is normalised, whether it can be dialled,
what Asterisk dials for it, and the caller id the centre shows when it calls out.

- ``digits_of``: the digits of a number as received (``+1 (555) 000-1001`` -> ``15550001001``); the key
  customers are found by (``storage.lookups.normalise_phone``) and what the screen-pop shows;
- ``dialable``: a number the centre may call back: the digits, checked (E.164 length, not withheld);
- ``dial_string``: the Asterisk endpoint for it, through the outbound trunk (the lab's ``pstn`` endpoint);
- ``outbound_caller_id``: the caller id presented to the customer (``"Name" <number>``).
"""

from __future__ import annotations

import re

__all__ = [
    "MAX_DIGITS",
    "MIN_DIGITS",
    "OUTBOUND_TRUNK",
    "NotDialable",
    "dial_string",
    "dialable",
    "digits_of",
    "outbound_caller_id",
]

OUTBOUND_TRUNK = "pstn"
"""The pjsip endpoint outbound calls leave through (dialplans/pjsip.conf.j2)."""
MIN_DIGITS = 3
"""Shorter is no number (a lab's service numbers are three digits)."""
MAX_DIGITS = 15
"""E.164's longest number."""
_WITHHELD = frozenset({"anonymous", "unknown", "restricted", "private", "unavailable"})
_NOT_DIGIT = re.compile(r"\D")
_ALLOWED = re.compile(r"^\+?[\d\s().\-/]*$")
_QUOTED = re.compile(r'["\\<>\r\n]')


class NotDialable(ValueError):
    """A number the centre cannot call back; the message says why (without repeating the number)."""


def digits_of(number: str) -> str:
    """Digits only: ``+1 (555) 000-1001`` and ``15550001001`` are the same caller; '' for none."""
    return _NOT_DIGIT.sub("", number)


def dialable(number: str) -> str:
    """The digits to dial for ``number`` as a caller gave it, or ``NotDialable``: a withheld caller id,
    letters (a SIP user name), fewer than ``MIN_DIGITS`` or more than ``MAX_DIGITS`` digits. A leading
    international ``00`` is the same as ``+``."""
    text = number.strip()
    if not text or text.lower() in _WITHHELD:
        raise NotDialable("the caller's number was withheld")
    if not _ALLOWED.match(text):
        raise NotDialable("not a telephone number (letters or symbols in it)")
    digits = digits_of(text)
    if not text.startswith("+") and digits.startswith("00"):
        digits = digits[2:]
    if len(digits) < MIN_DIGITS:
        raise NotDialable(f"too short (fewer than {MIN_DIGITS} digits)")
    if len(digits) > MAX_DIGITS:
        raise NotDialable(f"too long (more than {MAX_DIGITS} digits)")
    return digits


def dial_string(number: str, trunk: str = OUTBOUND_TRUNK) -> str:
    """What Asterisk originates for ``number``: ``PJSIP/<digits>@<trunk>`` (the trunk's contact with the
    digits as the user part); ``NotDialable`` as ``dialable``."""
    return f"PJSIP/{dialable(number)}@{trunk}"


def outbound_caller_id(number: str, name: str = "") -> str:
    """The caller id the customer sees: ``"name" <digits>`` (quotes and angle brackets dropped from the
    name), or the digits alone without a name."""
    digits = digits_of(number)
    clean = _QUOTED.sub("", name).strip()
    return f'"{clean}" <{digits}>' if clean else digits
