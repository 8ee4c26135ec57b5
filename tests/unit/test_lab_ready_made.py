"""The committed hand-runnable scenarios are what the templates render now, and SIPp-parsable XML."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from ivr_engine.lab.ready_made import READY_MADE, ReadyMade
from ivr_engine.lab.sipp import PCAP_DIR, SCENARIOS_DIR, restamped_dtmf


@pytest.mark.parametrize("scenario", READY_MADE, ids=lambda s: s.name)
def test_committed_scenario_matches_template(scenario: ReadyMade) -> None:
    folder = SCENARIOS_DIR / scenario.name
    committed = (folder / "scenario.xml").read_text()
    assert committed == scenario.render(), "stale: run `ivr lab scenarios`"
    assert ET.fromstring(committed.encode()).tag == "scenario"
    assert (folder / "README").read_text().startswith(scenario.summary)


@pytest.mark.parametrize("scenario", [s for s in READY_MADE if s.script], ids=lambda s: s.name)
def test_committed_pcaps_are_the_restamped_captures(scenario: ReadyMade) -> None:
    assert scenario.script is not None
    folder = SCENARIOS_DIR / scenario.name
    assert sorted(p.name for p in folder.glob("*.pcap")) == sorted(scenario.pcap_names())
    if not PCAP_DIR.exists():
        pytest.skip("SIPp's DTMF pcaps are not installed here (sip-lab/install); names checked only")
    for name, data in restamped_dtmf(scenario.script.steps()):
        assert (folder / name).read_bytes() == data, f"{name} stale: run `ivr lab scenarios`"
