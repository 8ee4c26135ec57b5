"""``ivr sipp generate`` and its planner, on a seeded SQLite database (no SIPp process needed)."""

from __future__ import annotations

import json
import struct
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from ivr_engine.lab.scenario_gen import PathSegment, ScenarioPathError, parse_path
from ivr_engine.lab.sipp import MIN_DIGIT_PAUSE_MS
from ivr_engine.lab.speech_pcap import speech_pcap
from tests.seeded_cli import invoke, seeded_cli

ROOT = Path(__file__).parents[2]


@pytest.fixture
def ivr(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.chdir(tmp_path)
    return seeded_cli(tmp_path, monkeypatch)


def _generate(runner: CliRunner, tmp_path: Path, flow: str, path: str, *extra: str) -> dict[str, Any]:
    out = tmp_path / f"{flow}.xml"
    result = invoke(
        runner, tmp_path, "sipp", "generate", flow, "--path", path, "--out", str(out), "--json", *extra
    )
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.output)
    return data


def _played(scenario: Path) -> list[tuple[str, str, int]]:
    """(log message, pcap, pause after in ms) for each pcap the scenario plays, in order."""
    root = ET.parse(scenario).getroot()
    elements = list(root)
    played = []
    for index, element in enumerate(elements):
        action = element.find("action")
        play = action.find("exec") if action is not None else None
        if play is None or play.get("play_pcap_audio") is None:
            continue
        log = action.find("log") if action is not None else None
        wait = next(e for e in elements[index + 1 :] if e.tag == "recv")
        message = log.get("message", "") if log is not None else ""
        played.append((message, play.get("play_pcap_audio", ""), int(wait.get("timeout", "0"))))
    return played


def test_parse_path_reads_keys_no_input_speech_and_node_names() -> None:
    assert parse_path("1/100200#/ask_pin=4321#/T/~2.5#") == (
        PathSegment(keys="1"),
        PathSegment(keys="100200#"),
        PathSegment(keys="4321#", node="ask_pin"),
        PathSegment(no_input=True),
        PathSegment(keys="#", speech_s=2.5),
    )
    assert [str(s) for s in parse_path("ask_pin=4321#/t/~3#")] == ["ask_pin=4321#", "T", "~3#"]


@pytest.mark.parametrize("bad", ["", "1//2", "12x", "~3", "~0#", "=1", "1/a b"])
def test_parse_path_rejects_bad_segments(bad: str) -> None:
    with pytest.raises(ScenarioPathError):
        parse_path(bad)


def test_balance_scenario_walks_account_pin_and_menu(ivr: CliRunner, tmp_path: Path) -> None:
    data = _generate(ivr, tmp_path, "balance", "100200#/4321#/9", "--caller", "15550001001")

    assert (data["number"], data["caller"], data["digits"]) == ("101", "15550001001", "100200#4321#9")
    assert [(p["node"], p["given"]) for p in data["inputs"]] == [
        ("ask_account", "100200#"), ("ask_pin", "4321#"), ("after_balance", "9"),
    ]  # fmt: skip
    expected = [(s["node"], s["outcome"]) for s in data["expected"]]
    assert expected[:4] == [
        ("start", "next"),
        ("ask_account", "next"),
        ("ask_pin", "next"),
        ("check_account", "found"),
    ]
    assert ("say_balance", "next") in expected
    assert expected[-1] == ("goodbye", "completed")
    pin = next(s for s in data["expected"] if s["node"] == "ask_pin")
    assert pin["input"] == "****"
    assert data["ended"] == "completed"
    assert data["hangup_after_s"] is None
    # The wait before the menu covers the balance being spoken: longer than the one before the PIN.
    waits = [p["wait_ms"] for p in data["inputs"]]
    assert waits[2] > waits[1] > 1000

    scenario = Path(data["scenario"])
    played = _played(scenario)
    assert [m for m, _, _ in played] == [f"digit {k}" for k in "100200#4321#9"]
    assert all((scenario.parent / pcap).is_file() for _, pcap, _ in played)
    assert played[6][2] == waits[1]
    assert played[11][2] == waits[2]
    assert all(pause >= MIN_DIGIT_PAUSE_MS for _, _, pause in played)
    first_wait = ET.parse(scenario).getroot().find("recv[@request='BYE']")
    assert first_wait is not None
    assert int(first_wait.get("timeout", "0")) == waits[0]


def test_generate_writes_nothing_to_the_database(ivr: CliRunner, tmp_path: Path) -> None:
    _generate(ivr, tmp_path, "survey", "5/4/3")
    listed = invoke(ivr, tmp_path, "calls", "list", "--json")
    assert listed.exit_code == 0, listed.output
    assert json.loads(listed.output) == []


def test_main_menu_into_points_and_back(ivr: CliRunner, tmp_path: Path) -> None:
    data = _generate(ivr, tmp_path, "main", "3/88001234#/9/9", "--caller", "15550001001")
    path = [f"{s['flow']}/{s['node']}" for s in data["expected"]]
    assert path[:3] == ["main/identify", "main/greet_customer", "main/main_menu"]
    assert data["expected"][0]["outcome"] == "found"
    assert "points/find_member" in path
    assert path[-2:] == ["main/anything_else", "main/goodbye"]
    assert [p["flow"] for p in data["inputs"]] == ["main", "points", "points", "main"]


def test_no_input_segment_adds_its_wait_to_the_next_keys(ivr: CliRunner, tmp_path: Path) -> None:
    plain = _generate(ivr, tmp_path, "main", "3/88001234#/9/9")
    timed = _generate(ivr, tmp_path, "main", "T/3/88001234#/9/9")
    assert timed["inputs"][0]["given"] == "T"
    main_menu = [s for s in timed["expected"] if s["node"] == "main_menu"]
    assert main_menu[0]["outcome"] == "points"
    # The first key now waits for the first prompt, the 5 s menu timeout and the re-prompt.
    first = _played(Path(timed["scenario"]))[0]
    assert first[0] == "digit 3"
    first_wait = ET.parse(Path(timed["scenario"])).getroot().find("recv[@request='BYE']")
    assert first_wait is not None
    assert int(first_wait.get("timeout", "0")) > plain["inputs"][0]["wait_ms"] + 5000


def test_voicemail_speech_is_sent_before_the_terminator(ivr: CliRunner, tmp_path: Path) -> None:
    data = _generate(ivr, tmp_path, "voicemail", "~3#")
    assert [(p["node"], p["given"]) for p in data["inputs"]] == [("record_message", "~3#")]
    assert [s["node"] for s in data["expected"]][:3] == ["intro", "record_message", "saved"]
    played = _played(Path(data["scenario"]))
    assert [m for m, _, _ in played] == ["audio speech_3s.pcap", "digit #"]
    assert played[0][2] == 3000
    assert (Path(data["scenario"]).parent / played[0][1]).stat().st_size > 3 * 50 * 172


def test_path_that_does_not_fit_is_refused_with_the_asking_nodes(ivr: CliRunner, tmp_path: Path) -> None:
    result = invoke(ivr, tmp_path, "sipp", "generate", "balance", "--path", "100200#4321#/9")
    assert result.exit_code == 1
    assert "balance/ask_pin at key 7" in result.output
    assert "Traceback" not in result.output
    named = invoke(ivr, tmp_path, "sipp", "generate", "balance", "--path", "ask_pin=100200#/4321#/9")
    assert named.exit_code == 1
    assert "the node asking there is ask_account" in named.output
    speech = invoke(ivr, tmp_path, "sipp", "generate", "balance", "--path", "~2#")
    assert speech.exit_code == 1
    assert "does not record speech" in speech.output


def test_unknown_flow_and_bad_caller_are_usage_errors(ivr: CliRunner, tmp_path: Path) -> None:
    assert invoke(ivr, tmp_path, "sipp", "generate", "nope", "--path", "1").exit_code == 2
    bad = invoke(ivr, tmp_path, "sipp", "generate", "main", "--path", "1", "--caller", "a b<")
    assert bad.exit_code == 2
    assert "SIP user part" in bad.output


def test_speech_pcap_is_mu_law_rtp_every_20_ms_and_not_silent() -> None:
    pcap = speech_pcap(1.0)
    offset, packets = 24, []
    while offset < len(pcap):
        seconds, micros, length, _ = struct.unpack("<IIII", pcap[offset : offset + 16])
        frame = pcap[offset + 16 : offset + 16 + length]
        rtp = frame[14 + 20 + 8 :]
        packets.append(
            (seconds * 1_000_000 + micros, rtp[1] & 0x7F, struct.unpack("!H", rtp[2:4])[0], rtp[12:])
        )
        offset += 16 + length
    assert len(packets) == 50
    assert {pt for _, pt, _, _ in packets} == {0}
    assert [t for t, *_ in packets][:3] == [0, 20_000, 40_000]
    assert [seq for _, _, seq, _ in packets] == list(range(packets[0][2], packets[0][2] + 50))
    payload = b"".join(p for *_, p in packets)
    assert len(payload) == 8000
    assert len(set(payload)) > 50
