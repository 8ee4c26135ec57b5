"""Values spoken the way of a language that Asterisk has no number sounds for: the text a ``Say`` is
synthesised from. Mandarin (``zh``) is the one such language today.

Mandarin reading, as espeak-ng's Mandarin voice then speaks the characters:

- number ``1234`` -> ``1234`` (read as 一千二百三十四), negative with 负;
- digits ``100#`` -> one digit at a time, ``*`` 星号, ``#`` 井号 (``1 0 0 井号``);
- money ``1234.56`` -> ``1234元5角6分`` (yuan, jiao, fen; zero parts left out, ``5元零5分``, ``0元``);
- date ``2026-12-01`` -> ``2 0 2 6年12月1日，星期二`` (the year digit by digit, as it is said);
- characters ``A1`` -> one character at a time.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation

from ivr_engine.channel import SayKind

__all__ = ["SPOKEN_BY_TTS", "spoken_text"]

SPOKEN_BY_TTS = frozenset({"zh"})  # languages whose values are synthesised, not Asterisk's sounds
_KEYS = {"*": "星号", "#": "井号"}
_WEEKDAYS = ("星期一", "星期二", "星期三", "星期四", "星期五", "星期六", "星期日")


def _base(lang: str) -> str:
    return lang.split("_")[0].split("-")[0].lower()


def _money(value: str) -> str:
    try:
        amount = Decimal(value).quantize(Decimal("0.01"))
    except InvalidOperation:
        raise ValueError(f"not an amount: {value!r}") from None
    sign = "负" if amount < 0 else ""
    fen_total = abs(int(amount * 100))
    yuan, jiao, fen = fen_total // 100, fen_total // 10 % 10, fen_total % 10
    text = f"{yuan}元" if yuan or not (jiao or fen) else ""
    if jiao:
        text += f"{jiao}角"
    if fen:
        text += f"{'零' if yuan and not jiao else ''}{fen}分"
    return sign + text


def spoken_text(kind: SayKind, value: str, lang: str) -> str | None:
    """The text to synthesise for ``value`` in ``lang``; None where Asterisk's sounds speak it."""
    if _base(lang) not in SPOKEN_BY_TTS:
        return None
    if kind is SayKind.NUMBER:
        return value.replace("-", "负", 1) if value.startswith("-") else value
    if kind in (SayKind.DIGITS, SayKind.CHARACTERS):
        return " ".join(_KEYS.get(ch, ch) for ch in value)
    if kind is SayKind.MONEY:
        return _money(value)
    when = date.fromisoformat(value)
    return f"{' '.join(str(when.year))}年{when.month}月{when.day}日，{_WEEKDAYS[when.weekday()]}"
