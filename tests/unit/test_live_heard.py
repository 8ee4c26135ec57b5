"""Judging what a live caller heard (``ivr flows test --live``): unplanned silences and slow answers."""

from __future__ import annotations

from ivr_engine.channel import DtmfKey
from ivr_engine.lab.heard import Window, check_heard
from ivr_engine.lab.rtp_ear import Heard, HeardPacket, rtp_packets
from ivr_engine.lab.sipp import DigitStep, restamped_dtmf

T0 = 1_000_000.0


def _audio(start: float, seconds: float, rms: float = 3000.0) -> list[HeardPacket]:
    return [HeardPacket(T0 + start + i * 0.02, rms) for i in range(round(seconds / 0.02))]


def _heard(*spans: tuple[float, float], keys: tuple[tuple[float, str], ...] = ()) -> Heard:
    packets = [p for start, seconds in spans for p in _audio(start, seconds)]
    return Heard(packets=packets, keys=[(T0 + at, key) for at, key in keys], first_audio=T0)


def test_a_call_that_keeps_talking_passes() -> None:
    check = check_heard(_heard((0, 3), (3.5, 2)), [], [])
    assert check.passed
    assert check.audio_s == 5.0


def test_a_long_silence_while_the_caller_waits_for_the_flow_fails() -> None:
    check = check_heard(_heard((0, 3), (6, 2)), [], [])
    assert not check.passed
    (silence,) = check.silences
    assert silence.at_s == 2.98
    assert 2.9 < silence.seconds < 3.1
    assert "silence" in check.problems()[0]


def test_silence_inside_a_node_waiting_for_the_caller_is_planned() -> None:
    waiting = [Window(T0 + 2.5, T0 + 6.5)]  # e.g. a menu waiting for its key
    assert check_heard(_heard((0, 3), (6, 2)), [], waiting).passed
    partly = [Window(T0 + 4.5, T0 + 6.5)]  # 1.5 s of it was not the caller's turn: still under 2 s
    assert check_heard(_heard((0, 3), (6, 2)), [], partly).passed
    too_little = [Window(T0 + 5.5, T0 + 6.5)]
    assert not check_heard(_heard((0, 3), (6, 2)), [], too_little).passed


def test_each_input_needs_an_audible_answer_within_a_second() -> None:
    prompt_then_answer = _heard((0, 3), (4.6, 2), keys=((4.0, "1"),))
    check = check_heard(prompt_then_answer, [0], [Window(T0 + 3, T0 + 4.2)])
    assert check.passed
    assert check.answers == (0.6,)
    slow = check_heard(_heard((0, 3), (5.5, 2), keys=((4.0, "1"),)), [0], [Window(T0 + 3, T0 + 5.5)])
    assert not slow.passed
    assert slow.slow[0].seconds == 1.5
    never = check_heard(_heard((0, 3), keys=((4.0, "#"),)), [0], [Window(T0 + 3, T0 + 5)])
    assert never.slow[0].seconds is None
    assert "no audio after it" in never.problems()[0]


def test_only_keys_completing_an_input_need_an_answer() -> None:
    typing = _heard((0, 3), (5.0, 2), keys=((3.5, "1"), (4.1, "2"), (4.7, "#")))
    assert check_heard(typing, [2], [Window(T0 + 3, T0 + 4.8)]).passed
    assert not check_heard(typing, [0, 2], [Window(T0 + 3, T0 + 4.8)]).passed


def test_quiet_packets_are_silence_and_nothing_heard_fails() -> None:
    hush = Heard(packets=_audio(0, 5, rms=20.0), first_audio=T0)
    check = check_heard(hush, [], [])
    assert not check.passed
    assert check.problems() == ["the caller heard nothing audible"]


def test_the_dtmf_pcaps_replay_as_rtp_packets_with_their_timing() -> None:
    (name, pcap), = restamped_dtmf([DigitStep(DtmfKey("5"), 500)])
    packets = rtp_packets(pcap)
    assert name.endswith("_5.pcap")
    assert packets[0][0] == 0.0
    assert [round(at, 2) for at, _ in packets] == sorted(round(at, 2) for at, _ in packets)
    events = {packet[12] for _, packet in packets}  # RFC 4733: the event code is the payload's 1st byte
    assert events == {5}
