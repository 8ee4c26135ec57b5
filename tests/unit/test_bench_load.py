"""The caller-mix plan, its injection file and its scenario."""

from __future__ import annotations

import struct

from ivr_engine.bench.heard import is_audible
from ivr_engine.bench.load import (
    BYE_WAIT_MS,
    MIX,
    injection_csv,
    mix_counts,
    path_pcaps,
    plan_mix,
    render_mix_scenario,
)
from ivr_engine.bench.sniff import TELEPHONE_EVENT_PT


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


def _packets(pcap: bytes) -> list[tuple[int, bytes]]:
    """``(microseconds from the pcap's start, RTP packet)`` of an Ethernet/IPv4/UDP pcap."""
    out, offset = [], 24
    while offset < len(pcap):
        seconds, micros, length, _ = struct.unpack("<IIII", pcap[offset : offset + 16])
        frame = pcap[offset + 16 : offset + 16 + length]
        offset += 16 + length
        out.append((seconds * 1_000_000 + micros, frame[14 + 20 + 8 :]))
    return out


def test_callers_send_a_phones_rtp_all_through_the_call() -> None:
    """Silent PCMU every 20 ms from the answer to past the last key, keys as RFC 4733 events in the same
    stream, each pcap played when the one before has covered its pause."""
    xml = render_mix_scenario()
    for path in MIX:
        pcaps = path_pcaps(path)
        assert f'play_pcap_audio="{pcaps[0][0]}"' in xml  # the lead-in plays from the answer
        starts = [0, path.initial_wait_ms]
        for step in path.steps()[:-1]:
            starts.append(starts[-1] + step.pause_after_ms)
        slots: list[tuple[int, int, int, bytes]] = []  # (call time ms, seq, payload type, payload)
        for (name, data), start in zip(pcaps, starts, strict=True):
            packets = _packets(data)
            assert [at for at, _ in packets] == [n * 20_000 for n in range(len(packets))], name
            slots += [(start + at // 1000, *struct.unpack("!H", rtp[2:4]), rtp[1] & 0x7F, rtp[12:])
                      for at, rtp in packets]  # fmt: skip
            if name != pcaps[0][0]:
                assert packets[0][1][1] == 0x80 | TELEPHONE_EVENT_PT, name  # the key comes first, marked
        end = starts[-1] + path.steps()[-1].pause_after_ms + BYE_WAIT_MS
        assert [ms for ms, *_ in slots] == list(range(0, slots[-1][0] + 1, 20))  # no gap, no overlap
        assert slots[-1][0] >= end
        assert [seq for _, seq, *_ in slots] == [(slots[0][1] + n) & 0xFFFF for n in range(len(slots))]
        audio = [payload for _, _, pt, payload in slots if pt == 0]
        events = [ms for ms, _, pt, _ in slots if pt == TELEPHONE_EVENT_PT]
        assert len(audio) + len(events) == len(slots)
        assert all(len(payload) == 160 and not is_audible(payload) for payload in audio)
        assert len(audio) > 0.9 * len(slots)
        assert sum(1 for ms in events if ms - 20 not in events) == len(path.digits)  # one event per key
