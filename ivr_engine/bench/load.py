"""The benchmark's caller mix: menu paths with DTMF timing, the injection CSV and the SIPp scenario.

One scenario serves every path: the injection file (``-inf``, read SEQUENTIAL) names the path and the
caller id of each call, so a seeded shuffle decides the mix and the run is reproducible. Pauses are
planned from the prompt lengths so each key lands while both our flow and the dialplan baseline are
listening (menus barge in; read-outs are waited out).

Callers send RTP as phones do, all through the call (``ivr_engine.lab.phone_rtp``): PCMU silence every
20 ms from the answer on, each key an RFC 4733 event in the same stream. A path's pcaps are its lead-in
(the silence until the first key) and one per key (the event, then silence until the next key; after
the last key, until the far end's BYE).
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import jinja2

from ivr_engine.channel import DtmfKey
from ivr_engine.config import PROJECT_ROOT
from ivr_engine.lab.errors import SippError
from ivr_engine.lab.phone_rtp import RtpClock, phone_rtp
from ivr_engine.lab.sipp import MIN_DIGIT_PAUSE_MS, MIN_SAME_DIGIT_PAUSE_MS, PCAP_DIR, DigitStep, system_pcaps

__all__ = [
    "LOAD_DIR",
    "MIX",
    "CallerPath",
    "Keys",
    "injection_csv",
    "path_pcaps",
    "plan_mix",
    "render_mix_scenario",
    "write_mix",
]

LOAD_DIR = PROJECT_ROOT / "sip-lab" / "load"
BYE_WAIT_MS = 15000
TAIL_MS = BYE_WAIT_MS + 5000
"""How long the last key's silence runs on: past the BYE wait (the call's end stops it)."""


@dataclass(frozen=True)
class Keys:
    """Keys typed together (an entry or a menu choice), then a wait before the next group."""

    digits: str
    wait_after_ms: int


@dataclass(frozen=True)
class CallerPath:
    """One way through the main menu: the keys a caller sends and the pauses between them."""

    name: str
    initial_wait_ms: int
    keys: tuple[Keys, ...]

    @property
    def digits(self) -> str:
        return "".join(group.digits for group in self.keys)

    def steps(self) -> tuple[DigitStep, ...]:
        """One step per key: entries typed at the minimum safe spacing, groups followed by their wait."""
        steps: list[DigitStep] = []
        for group in self.keys:
            for i, char in enumerate(group.digits):
                if i + 1 == len(group.digits):
                    pause = group.wait_after_ms
                elif group.digits[i + 1] == char:
                    pause = MIN_SAME_DIGIT_PAUSE_MS
                else:
                    pause = MIN_DIGIT_PAUSE_MS
                steps.append(DigitStep(key=DtmfKey(char), pause_after_ms=pause))
        return tuple(steps)


# Main menu choice, entry, read-out wait, "9" to finish the sub-menu, "9" at "anything else".
# Each key must land while BOTH IVRs are in a menu or entry: our flows keep keys typed during a read-out
# (type-ahead), the dialplan's Playback/SayNumber drop them, after which the baseline's sub-menu takes the
# "anything else" key and the call goes round "anything else" on timeouts. So:
# - the first key waits out the welcome (4.9 s + answer) and lands in the main menu prompt (13 s);
# - the wait after the entry outlasts the longer read-out, ours (node log: balance lookup + say_balance
#   about 11.2 s, order say_status + say_delivery 11.6 s, points greet_member + say_points 9.9 s; the
#   dialplan's omits the runtime TTS words and is shorter), by about 2.5 s, and stays well inside the
#   sub-menu prompt (about 7 s) + its 5 s timeout on both.
MIX: tuple[CallerPath, ...] = (
    CallerPath("balance", 7000, (Keys("1", 1000), Keys("100200#", 1000), Keys("4321#", 14000),
                                 Keys("9", 1500), Keys("9", 1000))),
    CallerPath("order", 7000, (Keys("2", 1000), Keys("1001#", 14000), Keys("9", 1500), Keys("9", 1000))),
    CallerPath("points", 7000, (Keys("3", 1000), Keys("88001234#", 12500), Keys("9", 1500),
                                Keys("9", 1000))),
)  # fmt: skip


def plan_mix(calls: int, seed: int, paths: Sequence[CallerPath] = MIX) -> list[int]:
    """Path index per call: as even a share as ``calls`` allows, in a seeded random order."""
    plan = [i % len(paths) for i in range(calls)]
    random.Random(seed).shuffle(plan)
    return plan


def injection_csv(plan: Sequence[int], caller_base: int = 5559000000) -> str:
    """SIPp's injection file: ``path;caller id`` per call, read in order (unknown callers)."""
    rows = [f"{path};{caller_base + i}" for i, path in enumerate(plan)]
    return "SEQUENTIAL\n" + "\n".join(rows) + "\n"


def mix_counts(plan: Sequence[int], paths: Sequence[CallerPath] = MIX) -> dict[str, int]:
    counts = Counter(plan)
    return {path.name: counts.get(i, 0) for i, path in enumerate(paths)}


@dataclass(frozen=True)
class _PlayedStep:
    pcap: str
    pause_after_ms: int


@dataclass(frozen=True)
class _RenderedPath:
    name: str
    digits: str
    initial_wait_ms: int
    lead_in: str
    played: tuple[_PlayedStep, ...]


def path_pcaps(path: CallerPath, pcap_dir: Path = PCAP_DIR) -> list[tuple[str, bytes]]:
    """``(file name, pcap)``: the lead-in, then one per key; together one call's RTP stream, 20 ms
    packets without a gap from the answer to the last key's pause plus ``TAIL_MS``."""
    clock = RtpClock()
    pcaps = [(f"{path.name}_lead.pcap", phone_rtp(clock, 0, path.initial_wait_ms))]
    steps = path.steps()
    at = path.initial_wait_ms
    for index, (step, source) in enumerate(zip(steps, system_pcaps(steps, pcap_dir), strict=True)):
        try:
            event = source.read_bytes()
        except OSError as exc:
            raise SippError(f"cannot read {source}: {exc.strerror} (run sip-lab/install)") from exc
        length = step.pause_after_ms + (TAIL_MS if index + 1 == len(steps) else 0)
        name = f"{path.name}_dtmf_{index:02d}_{step.pcap_name}.pcap"
        pcaps.append((name, phone_rtp(clock, at, length, event)))
        at += step.pause_after_ms
    return pcaps


def render_mix_scenario(paths: Sequence[CallerPath] = MIX, load_dir: Path = LOAD_DIR) -> str:
    """The caller-mix scenario XML; DTMF pcaps are named relative to the folder SIPp runs in."""
    rendered = []
    for path in paths:
        lead_in, *names = [name for name, _ in path_pcaps(path)]
        played = tuple(
            _PlayedStep(pcap=name, pause_after_ms=step.pause_after_ms)
            for name, step in zip(names, path.steps(), strict=True)
        )
        rendered.append(_RenderedPath(path.name, path.digits, path.initial_wait_ms, lead_in, played))
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(load_dir), undefined=jinja2.StrictUndefined,
        trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True, autoescape=True,
    )  # fmt: skip
    return env.get_template("caller-mix.xml.j2").render(paths=rendered, bye_wait_ms=BYE_WAIT_MS)


def write_mix(out_dir: Path, plan: Sequence[int], paths: Sequence[CallerPath] = MIX) -> Path:
    """Write the scenario, its RTP pcaps and the injection CSV into ``out_dir``; return the scenario."""
    out_dir.mkdir(parents=True, exist_ok=True)
    for path in paths:
        for name, data in path_pcaps(path):
            (out_dir / name).write_bytes(data)
    (out_dir / "callers.csv").write_text(injection_csv(plan))
    scenario = out_dir / "caller-mix.xml"
    scenario.write_text(render_mix_scenario(paths))
    return scenario
