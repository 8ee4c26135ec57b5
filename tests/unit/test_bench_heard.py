"""Key -> answer heard from RTP packets: which keys are timed, and from when to when."""

from __future__ import annotations

import struct

from ivr_engine.bench.heard import HeardMeter, is_audible, mu_law_magnitude
from ivr_engine.bench.sniff import udp_port_filter

SILENCE = b"\xff" * 160
SPEECH = bytes([0x10, 0x90] * 80)  # loud samples of both signs


def test_mu_law_decodes_silence_and_full_scale() -> None:
    assert mu_law_magnitude(0xFF) == 0 == mu_law_magnitude(0x7F)
    assert mu_law_magnitude(0x00) == 32124 == mu_law_magnitude(0x80)


def test_a_packet_is_audible_only_with_enough_loud_samples() -> None:
    assert is_audible(SPEECH)
    assert not is_audible(SILENCE)
    assert not is_audible(b"\xfe\x7e" * 80)  # the quietest non-zero samples: noise
    assert not is_audible(SPEECH[:7] + SILENCE[7:])
    assert is_audible(SPEECH[:8] + SILENCE[8:])


def test_the_last_key_of_an_entry_on_a_quiet_line_is_timed_to_the_first_audible_packet() -> None:
    meter = HeardMeter()
    meter.audio_packet(10000, 1.00, SPEECH)  # the prompt, stopped by a barge-in key...
    meter.key_packet(10000, 1.05, 320)  # ...which is no sample (the prompt was still heard)
    meter.key_packet(10000, 1.10, 320)  # same event, later packet
    meter.key_packet(10000, 1.60, 640)  # entry digits on a quiet line
    meter.audio_packet(10000, 1.70, SILENCE)
    meter.key_packet(10000, 2.10, 960)  # '#'
    meter.audio_packet(10000, 2.20, SILENCE)  # digital silence is not the answer
    meter.audio_packet(10000, 2.35, SPEECH)  # the read-out: 250 ms after '#'
    meter.audio_packet(10000, 2.37, SPEECH)
    assert meter.samples_ms == [250.0]
    counts = meter.counts()
    assert (counts.keys, counts.quiet_keys, counts.unanswered) == (3, 2, 0)


def test_calls_are_told_apart_by_asterisk_port_and_a_late_or_missing_answer_is_no_sample() -> None:
    meter = HeardMeter()
    meter.key_packet(10000, 1.0, 320)
    meter.key_packet(10002, 1.0, 320)
    meter.audio_packet(10002, 1.1, SPEECH)  # answers the call on 10002 only
    meter.key_packet(10004, 1.0, 320)
    meter.audio_packet(10004, 17.0, SPEECH)  # 16 s later: not an answer to that key
    meter.key_packet(10006, 1.0, 320)
    meter.audio_packet(10006, 15.0, SPEECH)  # slow, but an answer
    assert meter.samples_ms == [100.0, 14000.0]
    meter.key_packet(10008, 1.0, 320)
    meter.key_packet(10008, 4.0, 640)  # the caller tried again: the first key went unanswered
    meter.audio_packet(10008, 4.2, SPEECH)
    assert meter.samples_ms == [100.0, 14000.0, 200.0]
    assert meter.counts().unanswered == 3  # 10004 too late, 10000 never, 10008's first key


def test_a_reused_port_starts_a_new_key_even_with_the_same_rtp_timestamp() -> None:
    meter = HeardMeter()
    meter.key_packet(10000, 1.0, 16000)
    meter.audio_packet(10000, 1.2, SPEECH)
    meter.key_packet(10000, 40.0, 16000)  # a later call on the same port, same restamped pcap
    meter.audio_packet(10000, 40.3, SPEECH)
    assert meter.samples_ms == [200.0, 300.0]


def _run_bpf(program: bytes, packet: bytes) -> bool:
    """A tiny classic-BPF interpreter for the opcodes ``udp_port_filter`` uses."""
    code = [struct.unpack("HBBI", program[i : i + 8]) for i in range(0, len(program), 8)]
    a = x = pc = 0
    while True:
        op, jt, jf, k = code[pc]
        pc += 1
        if op == 0x28:
            a = int.from_bytes(packet[k : k + 2], "big")
        elif op == 0x30:
            a = packet[k]
        elif op == 0xB1:
            x = (packet[k] & 0x0F) * 4
        elif op == 0x48:
            a = int.from_bytes(packet[x + k : x + k + 2], "big")
        elif op == 0x50:
            a = packet[x + k]
        elif op == 0x54:
            a &= k
        elif op == 0x15:
            pc += jt if a == k else jf
        elif op == 0x45:
            pc += jt if a & k else jf
        elif op == 0x06:
            return k > 0
        else:
            raise AssertionError(f"opcode {op:#x}")


def _udp(source: int, destination: int, proto: int = 17, fragment: int = 0, pt: int = 101) -> bytes:
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 40, 1, fragment, 64, proto, 0, b"\x7f\0\0\1", b"\x7f\0\0\1")
    rtp = bytes([0x80, 0x80 | pt]) + b"\x80" * 10
    return b"\0" * 12 + b"\x08\x00" + ip + struct.pack("!HHHH", source, destination, 20, 0) + rtp


def test_the_kernel_filter_keeps_keys_from_and_audio_to_the_media_port_only() -> None:
    program = udp_port_filter(31572)
    assert _run_bpf(program, _udp(31572, 15602))  # a key to Asterisk
    assert _run_bpf(program, _udp(15602, 31572, pt=0))  # audio to the caller
    assert not _run_bpf(program, _udp(31572, 15602, pt=0))  # the caller's own audio (silence)
    assert not _run_bpf(program, _udp(15602, 31574))  # another SIPp
    assert not _run_bpf(program, _udp(31573, 15603))  # RTCP
    assert not _run_bpf(program, _udp(31572, 15602, proto=6))  # TCP
    assert not _run_bpf(program, _udp(31572, 15602, fragment=0x0001))
