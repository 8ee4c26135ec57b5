"""DTMF-to-command latency from serve log lines, and the caller-mix plan."""

from __future__ import annotations

from ivr_engine.bench.latency import dtmf_to_command_ms
from ivr_engine.bench.load import MIX, injection_csv, mix_counts, plan_mix, render_mix_scenario

_EV = "INFO ivr_engine.service.app call.event"
_RQ = "INFO ivr_engine.ari.client ari.request"


def test_pairs_a_key_with_the_next_command_for_its_channel() -> None:
    lines = [
        f"2026-11-25 01:00:00,000 {_RQ} method=POST path=/channels/c1/play/pb-1",
        f"2026-11-25 01:00:01,000 {_EV} type=ChannelDtmfReceived channel=c1 digit=1",
        f"2026-11-25 01:00:01,002 {_RQ} method=POST path=/channels/c2/play/pb-2",  # other channel
        f"2026-11-25 01:00:01,004 {_RQ} method=DELETE path=/playbacks/pb-1",  # c1's playback: 4 ms
        f"2026-11-25 01:00:02,000 {_EV} type=ChannelDtmfReceived channel=c1 digit=2",  # mid-entry key
        f"2026-11-25 01:00:02,500 {_EV} type=ChannelDtmfReceived channel=c1 digit=#",
        f"2026-11-25 01:00:02,510 {_RQ} method=POST path=/channels/c1/play/pb-3",  # 10 ms after '#'
        "2026-11-25 01:00:02,600 INFO ivr_engine.service.app call.started call=c3",
    ]
    assert dtmf_to_command_ms(lines) == [4.0, 10.0]


def test_a_command_after_another_event_or_a_long_gap_is_no_sample() -> None:
    lines = [
        f"2026-11-25 01:00:01,000 {_EV} type=ChannelDtmfReceived channel=c1 digit=1",
        f"2026-11-25 01:00:01,100 {_EV} type=PlaybackFinished channel=c1",
        f"2026-11-25 01:00:01,101 {_RQ} method=POST path=/channels/c1/play/pb-9",
        f"2026-11-25 01:00:05,000 {_EV} type=ChannelDtmfReceived channel=c1 digit=2",
        f"2026-11-25 01:00:08,000 {_RQ} method=POST path=/channels/c1/play/pb-10",  # a timer, 3 s later
    ]
    assert dtmf_to_command_ms(lines) == []


def test_monotonic_t_gives_microsecond_samples_and_is_never_mixed_with_log_stamps() -> None:
    lines = [
        f"2026-11-25 01:00:01,000 {_EV} type=ChannelDtmfReceived channel=c1 digit=1 t=5000.123456",
        f"2026-11-25 01:00:01,000 {_RQ} method=POST path=/channels/c1/play/pb-1 t=5000.123789",  # 0.333 ms
        f"2026-11-25 01:00:02,000 {_EV} type=ChannelDtmfReceived channel=c1 digit=2 t=5001.000000",
        f"2026-11-25 01:00:02,007 {_RQ} method=DELETE path=/playbacks/pb-1",  # no t=: other clock
        f"2026-11-25 01:00:03,000 {_EV} type=ChannelDtmfReceived channel=c2 digit=3",
        f"2026-11-25 01:00:03,002 {_RQ} method=POST path=/channels/c2/answer",  # both stamps: 2 ms
    ]
    assert dtmf_to_command_ms(lines) == [0.333, 2.0]


def test_plan_is_even_seeded_and_injected_in_order() -> None:
    plan = plan_mix(7, seed=3)
    assert plan == plan_mix(7, seed=3)
    assert sorted(mix_counts(plan).values()) == [2, 2, 3]
    csv = injection_csv(plan).splitlines()
    assert csv[0] == "SEQUENTIAL"
    assert [int(row.split(";")[0]) for row in csv[1:]] == plan


def test_scenario_branches_to_every_path_with_its_keys() -> None:
    xml = render_mix_scenario()
    for index, path in enumerate(MIX):
        assert f'<test assign_to="is_{path.name}" variable="path" compare="equal" value="{index}"/>' in xml
        assert xml.count(f'play_pcap_audio="{path.name}_dtmf_') == len(path.digits)
    balance = next(p for p in MIX if p.name == "balance")
    pauses = [s.pause_after_ms for s in balance.steps()]
    assert pauses[:3] == [1000, 500, 600]  # "1", then "100200#": 1 -> 0 at 500 ms, 0 -> 0 at 600 ms
