"""SIPp scenario generation, DTMF pcap restamping and result parsing (no SIPp process needed)."""

from __future__ import annotations

import struct
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from ivr_engine.channel import DtmfKey
from ivr_engine.lab import SippError
from ivr_engine.lab.agent_phone import render_agent_scenario
from ivr_engine.lab.dtmf_pcap import restamp_rtp
from ivr_engine.lab.sipp import (
    MIN_DIGIT_PAUSE_MS,
    MIN_SAME_DIGIT_PAUSE_MS,
    CallerScript,
    HangupBy,
    SipTarget,
    read_result,
    render_caller_scenario,
    sipp_command,
)


def _pcap(packets: list[tuple[int, int, bool]]) -> bytes:
    """A little-endian Ethernet pcap of RTP event packets: (seq, timestamp, end bit)."""
    out = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)
    for seq, ts, end in packets:
        rtp = struct.pack("!BBHII", 0x80, 101, seq, ts, 0x1234) + bytes([5, 0x8A if end else 0x0A, 0, 160])
        udp = struct.pack("!HHHH", 4000, 5000, 8 + len(rtp), 0xBEEF) + rtp
        ip = bytes([0x45, 0]) + struct.pack("!H", 20 + len(udp)) + bytes(5) + bytes([17]) + bytes(10)
        frame = bytes(12) + b"\x08\x00" + ip + udp
        out += struct.pack("<IIII", 0, 0, len(frame), len(frame)) + frame
    return out


def _rtp_fields(pcap: bytes) -> list[tuple[int, int, bool, int]]:
    fields, offset = [], 24
    while offset < len(pcap):
        length = struct.unpack("<I", pcap[offset + 8 : offset + 12])[0]
        frame = pcap[offset + 16 : offset + 16 + length]
        udp = frame[34:]
        seq, ts = struct.unpack("!HI", udp[10:16])
        fields.append((seq, ts, bool(udp[21] & 0x80), struct.unpack("!H", udp[6:8])[0]))
        offset += 16 + length
    return fields


def test_restamp_makes_one_increasing_stream_with_a_single_end() -> None:
    original = _pcap([(7000, 900, False), (7001, 900, False), (7002, 900, True), (7003, 900, True)])
    fields = _rtp_fields(restamp_rtp(original, first_seq=1200, timestamp=48000))
    assert [(seq, ts, end) for seq, ts, end, _ in fields] == [
        (1200, 48000, False), (1201, 48000, False), (1202, 48000, True),
    ]  # fmt: skip
    assert all(checksum == 0 for *_, checksum in fields)


def test_restamp_rejects_non_pcap() -> None:
    with pytest.raises(SippError, match="not a pcap"):
        restamp_rtp(b"hello, this is not a capture file", 1, 1)


def test_real_sipp_pcaps_restamp_when_installed() -> None:
    source = Path("/usr/share/sip-tester/dtmf_2833_5.pcap")
    if not source.exists():
        pytest.skip("SIPp's DTMF pcaps are not installed (sip-lab/install)")
    fields = _rtp_fields(restamp_rtp(source.read_bytes(), first_seq=10, timestamp=16000))
    assert [f[0] for f in fields] == list(range(10, 10 + len(fields)))
    assert sum(1 for f in fields if f[2]) == 1


def test_steps_keep_equal_digits_apart() -> None:
    steps = CallerScript(number="100", digits="1223#", digit_pause_ms=100, same_digit_pause_ms=100).steps()
    assert [s.key for s in steps] == [DtmfKey("1"), DtmfKey("2"), DtmfKey("2"), DtmfKey("3"), DtmfKey.POUND]
    assert steps[1].pause_after_ms == MIN_SAME_DIGIT_PAUSE_MS
    assert all(s.pause_after_ms >= MIN_DIGIT_PAUSE_MS for s in steps)
    assert steps[-1].pcap_name == "pound"


def test_steps_reject_keys_without_pcap() -> None:
    with pytest.raises(SippError, match="no RFC 4733 pcap"):
        CallerScript(number="100", digits="1A").steps()
    with pytest.raises(SippError, match="digits"):
        CallerScript(number="100", digits="1x").steps()


def test_caller_scenario_plays_digits_in_order_as_from_user() -> None:
    script = CallerScript(number="101", caller_id="5557777", digits="90*")
    pcaps = [Path(f"/tmp/p{i}.pcap") for i in range(3)]
    root = ET.fromstring(render_caller_scenario(script, pcaps).encode())
    plays = [e.get("play_pcap_audio") for e in root.iter("exec")]
    assert plays == ["/tmp/p0.pcap", "/tmp/p1.pcap", "/tmp/p2.pcap"]
    invite = root.find("send").text or ""
    assert "INVITE sip:101@" in invite
    assert "<sip:5557777@[local_ip]:[local_port]>" in invite
    assert "telephone-event/8000" in invite
    byes = [e for e in root.iter("recv") if e.get("request") == "BYE"]
    assert byes[-1].get("timeout") is None  # waits for the far end's BYE


def test_caller_scenario_can_offer_another_rtp_port_and_a_display_name() -> None:
    """``ivr flows test --live``: our own RTP endpoint listens on the offered port, and the From name
    is a token by which the call's channel is found."""
    script = CallerScript(number="100", caller_id="5557777")
    default = render_caller_scenario(script)
    assert "m=audio [media_port] RTP/AVP 0 101" in default
    assert 'From: "5557777" <sip:5557777@' in default
    own = render_caller_scenario(script, [], sdp_port=41234, display_name="case-abc")
    assert "m=audio 41234 RTP/AVP 0 101" in own
    assert own.count('From: "case-abc" <sip:5557777@') == 3  # INVITE, ACK and the caller's BYE


def test_caller_scenario_hangs_up_after_given_time() -> None:
    script = CallerScript(number="100", digits="1", hangup_after_s=2.5)
    root = ET.fromstring(render_caller_scenario(script).encode())
    last_wait = [e for e in root.iter("recv") if e.get("request") == "BYE"][-1]
    assert (last_wait.get("timeout"), last_wait.get("ontimeout")) == ("2500", "caller_hangs_up")
    assert any("BYE sip:100@" in (e.text or "") for e in root.iter("send"))
    assert "/usr/share/sip-tester/dtmf_2833_1.pcap" in [e.get("play_pcap_audio") for e in root.iter("exec")]


def test_agent_scenario_answers_options_and_invite() -> None:
    root = ET.fromstring(render_agent_scenario(ring_ms=250).encode())
    requests = [e.get("request") for e in root.iter("recv")]
    assert requests[:2] == ["OPTIONS", "INVITE"]
    assert "BYE" in requests
    assert root.find("pause").get("milliseconds") == "250"


def test_command_has_own_ports_and_traces(tmp_path: Path) -> None:
    cmd = sipp_command(tmp_path / "s.xml", tmp_path, "127.0.0.1", 40000, 40010,
                       SipTarget("127.0.0.1", 5160), calls=1, timeout_s=30)  # fmt: skip
    assert cmd[1] == "127.0.0.1:5160"
    assert cmd[cmd.index("-p") + 1] == "40000"
    assert cmd[cmd.index("-mp") + 1] == "40010"
    assert cmd[cmd.index("-m") + 1] == "1"
    assert cmd[cmd.index("-stf") + 1] == str(tmp_path / "stats.csv")
    assert "-timeout_error" in cmd


def test_result_reads_statistics_and_log(tmp_path: Path) -> None:
    (tmp_path / "stats.csv").write_text(
        "StartTime;SuccessfulCall(P);SuccessfulCall(C);FailedCall(P);FailedCall(C);\nx;0;0;0;0;\ny;1;3;0;1;\n"
    )
    (tmp_path / "logs.log").write_text("answered\ndigit 4\ndigit 2\ndigit #\nfar-end-bye\n")
    result = read_result(1, tmp_path)
    assert (result.calls_succeeded, result.calls_failed, result.answered) == (3, 1, 1)
    assert result.digits_sent == "42#"
    assert result.hangup_by == HangupBy.FAR_END
    assert not result.ok


def test_result_without_files_is_not_ok(tmp_path: Path) -> None:
    result = read_result(255, tmp_path)
    assert (result.calls_succeeded, result.hangup_by, result.ok) == (0, HangupBy.NOBODY, False)
