"""The caller-mix plan, its injection file and its scenario."""

from __future__ import annotations

from ivr_engine.bench.load import MIX, injection_csv, mix_counts, plan_mix, render_mix_scenario


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
