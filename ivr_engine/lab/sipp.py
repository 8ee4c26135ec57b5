"""SIPp callers and agent phones for the lab and its tests.

Scenarios are rendered from ``sip-lab/scenarios/*.xml.j2``. Every run gets its own folder (scenario,
statistics, logs), its own SIP port and its own media port (``-mp``), so several can run at once.
DTMF is RFC 4733, replayed from the pcaps SIPp ships (``/usr/share/sip-tester/dtmf_2833_*.pcap``).
"""

from __future__ import annotations

import asyncio
import csv
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import jinja2

from ivr_engine.channel import DtmfKey
from ivr_engine.config import PROJECT_ROOT, Settings
from ivr_engine.lab.dtmf_pcap import restamp_rtp
from ivr_engine.lab.errors import SippError, SippMissing
from ivr_engine.lab.paths import LabPaths
from ivr_engine.lab.ports import free_udp_port

__all__ = [
    "MIN_DIGIT_PAUSE_MS",
    "MIN_SAME_DIGIT_PAUSE_MS",
    "PCAP_DIR",
    "SCENARIOS_DIR",
    "AudioCue",
    "CallerScript",
    "DigitStep",
    "HangupBy",
    "SipTarget",
    "SippResult",
    "read_result",
    "read_scenario_log",
    "render_caller_scenario",
    "restamped_dtmf",
    "run_caller",
    "run_folder",
    "run_scenario_file",
    "scenario_environment",
    "sipp_command",
    "spawn_sipp",
    "system_pcaps",
    "write_dtmf_pcaps",
]

SCENARIOS_DIR = PROJECT_ROOT / "sip-lab" / "scenarios"
PCAP_DIR = Path("/usr/share/sip-tester")
# Each pcap plays for 140 ms but announces a 280 ms event; while a prompt plays, Asterisk emulates the
# key for that duration, and a key arriving before the emulation ends is delivered twice.
MIN_DIGIT_PAUSE_MS = 500
MIN_SAME_DIGIT_PAUSE_MS = 600
_PCAP_NAMES = {DtmfKey.STAR: "star", DtmfKey.POUND: "pound"} | {DtmfKey(str(d)): str(d) for d in range(10)}


class HangupBy(StrEnum):
    """Who ended an answered call, as the caller's scenario logged it."""

    FAR_END = "far-end"
    CALLER = "caller"
    NOBODY = "nobody"


@dataclass(frozen=True)
class SipTarget:
    """Where SIPp sends its INVITE (the lab's PJSIP UDP transport)."""

    host: str
    port: int

    @classmethod
    def of(cls, settings: Settings) -> SipTarget:
        return cls(host=settings.sip_host, port=settings.sip_port)


@dataclass(frozen=True)
class DigitStep:
    """One DTMF key and the pause after it (the pcap plays asynchronously during that pause)."""

    key: DtmfKey
    pause_after_ms: int

    @property
    def pcap_name(self) -> str:
        return _PCAP_NAMES[self.key]


@dataclass(frozen=True)
class AudioCue:
    """RTP audio (a pcap, e.g. speech for a voicemail) the caller sends before the key at ``before_key``
    (``len(digits)``: after the last key), waiting ``seconds`` while it plays."""

    before_key: int
    pcap: Path
    seconds: float


@dataclass(frozen=True)
class CallerScript:
    """What one SIPp caller does: dial, wait, press keys, then wait for BYE or hang up.

    ``hangup_after_s=None`` waits for the far end's BYE (bounded by ``timeout_s``); a number hangs up
    that many seconds after the last digit unless the far end hangs up first. ``pauses_ms``, when
    given, is the pause after each key (never shorter than the DTMF minimums); ``audio`` adds speech.
    """

    number: str
    caller_id: str = "5550100"
    digits: str = ""
    initial_wait_ms: int = 1500
    digit_pause_ms: int = MIN_DIGIT_PAUSE_MS
    same_digit_pause_ms: int = MIN_SAME_DIGIT_PAUSE_MS
    hangup_after_s: float | None = None
    timeout_s: float = 60.0
    pauses_ms: tuple[int, ...] = ()
    audio: tuple[AudioCue, ...] = ()

    def steps(self) -> tuple[DigitStep, ...]:
        """The digits with their pauses: at least ``MIN_DIGIT_PAUSE_MS``, and ``MIN_SAME_DIGIT_PAUSE_MS``
        between equal neighbours (shorter pauses merge or double keys in Asterisk)."""
        try:
            keys = [DtmfKey(ch) for ch in self.digits]
        except ValueError as exc:
            raise SippError(f"digits {self.digits!r}: {exc}") from exc
        unsupported = [k for k in keys if k not in _PCAP_NAMES]
        if unsupported:
            raise SippError(f"no RFC 4733 pcap for key(s) {''.join(unsupported)}: use 0-9, * and #")
        if self.pauses_ms and len(self.pauses_ms) != len(keys):
            raise SippError(f"{len(keys)} digits but {len(self.pauses_ms)} pauses")
        base = max(self.digit_pause_ms, MIN_DIGIT_PAUSE_MS)
        same = max(self.same_digit_pause_ms, MIN_SAME_DIGIT_PAUSE_MS, base)
        steps: list[DigitStep] = []
        for i, key in enumerate(keys):
            follows_equal = i + 1 < len(keys) and keys[i + 1] == key
            least = same if follows_equal else base
            pause = max(self.pauses_ms[i], least) if self.pauses_ms else least
            steps.append(DigitStep(key=key, pause_after_ms=pause))
        return tuple(steps)


@dataclass(frozen=True)
class SippResult:
    """The outcome of one SIPp run; the paths are kept for a human to read."""

    exit_code: int
    calls_succeeded: int
    calls_failed: int
    answered: int
    digits_sent: str
    hangup_by: HangupBy
    run_dir: Path

    @property
    def ok(self) -> bool:
        return self.exit_code == 0 and self.calls_failed == 0 and self.calls_succeeded > 0

    @property
    def screen_log(self) -> Path:
        return self.run_dir / "screen.log"

    @property
    def error_log(self) -> Path:
        return self.run_dir / "errors.log"

    @property
    def message_log(self) -> Path:
        return self.run_dir / "messages.log"

    def describe(self) -> str:
        return (
            f"sipp exit {self.exit_code}: {self.calls_succeeded} succeeded, {self.calls_failed} failed, "
            f"answered {self.answered}, digits {self.digits_sent!r}, hangup by {self.hangup_by}; "
            f"logs in {self.run_dir}"
        )


def scenario_environment(scenarios_dir: Path) -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(scenarios_dir),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=True,
    )


@dataclass(frozen=True)
class _PlayedStep:
    log: str
    pcap: Path
    pause_after_ms: int


def system_pcaps(steps: Sequence[DigitStep], pcap_dir: Path = PCAP_DIR) -> list[Path]:
    """SIPp's own DTMF pcaps for ``steps`` (fine while no key repeats; see ``write_dtmf_pcaps``)."""
    return [pcap_dir / f"dtmf_2833_{step.pcap_name}.pcap" for step in steps]


def restamped_dtmf(steps: Sequence[DigitStep], pcap_dir: Path = PCAP_DIR) -> list[tuple[str, bytes]]:
    """``(file name, pcap)`` per step, each with its own RTP sequence numbers and timestamps."""
    captures: list[tuple[str, bytes]] = []
    for index, (step, source) in enumerate(zip(steps, system_pcaps(steps, pcap_dir), strict=True)):
        try:
            data = source.read_bytes()
        except OSError as exc:
            raise SippError(f"cannot read {source}: {exc.strerror} (run sip-lab/install)") from exc
        # 100 sequence numbers and 2 s of RTP time per press: far more than one capture holds.
        restamped = restamp_rtp(data, first_seq=1000 + index * 100, timestamp=(index + 1) * 16000)
        captures.append((f"dtmf_{index:02d}_{step.pcap_name}.pcap", restamped))
    return captures


def write_dtmf_pcaps(steps: Sequence[DigitStep], out_dir: Path, pcap_dir: Path = PCAP_DIR) -> list[Path]:
    """Write ``restamped_dtmf`` into ``out_dir`` (so repeated and descending keys all count)."""
    paths: list[Path] = []
    for name, data in restamped_dtmf(steps, pcap_dir):
        (out_dir / name).write_bytes(data)
        paths.append(out_dir / name)
    return paths


def render_caller_scenario(
    script: CallerScript,
    pcaps: Sequence[Path] | None = None,
    scenarios_dir: Path = SCENARIOS_DIR,
    sdp_port: int | None = None,
    display_name: str | None = None,
) -> str:
    """The scenario XML for ``script`` (``number`` may be SIPp's ``[service]`` for hand-run files).

    ``pcaps`` gives one DTMF capture per digit; by default SIPp's own files are used. ``sdp_port``
    offers another RTP port than SIPp's own (``-mp``): a listener of ours hears the call there.
    ``display_name`` is the From header's name (Asterisk's caller name; default the caller id).
    """
    steps = script.steps()
    files = list(pcaps) if pcaps is not None else system_pcaps(steps)
    if len(files) != len(steps):
        raise SippError(f"{len(steps)} digits but {len(files)} DTMF pcaps")
    bad_cues = [cue for cue in script.audio if not 0 <= cue.before_key <= len(steps)]
    if bad_cues:
        raise SippError(f"audio cue before key {bad_cues[0].before_key}: there are {len(steps)} keys")
    played: list[_PlayedStep] = []
    for index in range(len(steps) + 1):
        played += [
            _PlayedStep(log=f"audio {cue.pcap.name}", pcap=cue.pcap, pause_after_ms=round(cue.seconds * 1000))
            for cue in script.audio
            if cue.before_key == index
        ]
        if index < len(steps):
            step = steps[index]
            played.append(
                _PlayedStep(log=f"digit {step.key}", pcap=files[index], pause_after_ms=step.pause_after_ms)
            )
    hangup_ms = None if script.hangup_after_s is None else round(script.hangup_after_s * 1000)
    return (
        scenario_environment(scenarios_dir)
        .get_template("caller.xml.j2")
        .render(
            number=script.number,
            caller_id=script.caller_id,
            digits_text=script.digits,
            steps=played,
            initial_wait_ms=script.initial_wait_ms,
            hangup_after_ms=hangup_ms,
            sdp_port="[media_port]" if sdp_port is None else str(sdp_port),
            display_name=script.caller_id if display_name is None else display_name,
        )
    )


def _sipp_binary() -> str:
    binary = shutil.which("sipp")
    if binary is None:
        raise SippMissing("sipp is not installed: run sip-lab/install")
    return binary


def run_folder(settings: Settings, prefix: str) -> Path:
    base = LabPaths.for_state_dir(settings.state_dir).sipp
    base.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=f"{prefix}-", dir=base))


def sipp_command(
    scenario: Path,
    run_dir: Path,
    local_host: str,
    sip_port: int,
    media_port: int,
    target: SipTarget | None,
    calls: int | None,
    timeout_s: float | None,
) -> list[str]:
    """The SIPp command line (pure; ``target=None`` runs as a UAS)."""
    cmd = [_sipp_binary()]
    if target is not None:
        cmd.append(f"{target.host}:{target.port}")
    cmd += [
        "-sf", str(scenario),
        "-i", local_host,
        "-p", str(sip_port),
        "-mp", str(media_port),
        "-nostdin",
        "-trace_stat", "-stf", str(run_dir / "stats.csv"),
        "-trace_logs", "-log_file", str(run_dir / "logs.log"),
        "-trace_err", "-error_file", str(run_dir / "errors.log"),
        "-trace_msg", "-message_file", str(run_dir / "messages.log"),
        "-trace_screen", "-screen_file", str(run_dir / "screen.log"),
    ]  # fmt: skip
    if calls is not None:
        cmd += ["-m", str(calls), "-l", str(calls)]
    if timeout_s is not None:
        cmd += ["-timeout", f"{round(timeout_s)}s", "-timeout_error"]
    return cmd


def _read_stats(run_dir: Path) -> tuple[int, int]:
    """Cumulative successful and failed calls from the last row of SIPp's statistics CSV."""
    path = run_dir / "stats.csv"
    if not path.exists():
        return 0, 0
    rows = list(csv.reader(path.read_text().splitlines(), delimiter=";"))
    if len(rows) < 2:
        return 0, 0
    header, last = rows[0], rows[-1]
    try:
        return int(last[header.index("SuccessfulCall(C)")]), int(last[header.index("FailedCall(C)")])
    except (ValueError, IndexError) as exc:
        raise SippError(f"{path}: unreadable SIPp statistics ({exc})") from exc


def read_scenario_log(run_dir: Path) -> list[str]:
    path = run_dir / "logs.log"
    return [line.strip() for line in path.read_text().splitlines()] if path.exists() else []


def read_result(exit_code: int, run_dir: Path) -> SippResult:
    """Build the result of a finished run from its statistics CSV and scenario log."""
    succeeded, failed = _read_stats(run_dir)
    lines = read_scenario_log(run_dir)
    digits = "".join(line.removeprefix("digit ") for line in lines if line.startswith("digit "))
    if "far-end-bye" in lines:
        hangup_by = HangupBy.FAR_END
    elif "caller-bye" in lines:
        hangup_by = HangupBy.CALLER
    else:
        hangup_by = HangupBy.NOBODY
    return SippResult(
        exit_code=exit_code,
        calls_succeeded=succeeded,
        calls_failed=failed,
        answered=lines.count("answered"),
        digits_sent=digits,
        hangup_by=hangup_by,
        run_dir=run_dir,
    )


async def run_caller(settings: Settings, script: CallerScript) -> SippResult:
    """Place one call as ``script`` says and wait for SIPp to finish (at most ``timeout_s`` + 10 s)."""
    run_dir = run_folder(settings, f"caller-{script.number}")
    scenario = run_dir / "scenario.xml"
    scenario.write_text(render_caller_scenario(script, write_dtmf_pcaps(script.steps(), run_dir)))
    return await _run_one_call(settings, scenario, run_dir, run_dir, script.timeout_s)


async def run_scenario_file(settings: Settings, scenario: Path, timeout_s: float) -> SippResult:
    """Place one call with a ready scenario file (e.g. from ``ivr sipp generate``), run from its folder
    so relative pcap names resolve; SIPp's logs go to a fresh run folder of the lab."""
    path = _existing_file(scenario)
    run_dir = run_folder(settings, f"scenario-{path.stem}")
    return await _run_one_call(settings, path, run_dir, path.parent, timeout_s)


def _existing_file(path: Path) -> Path:
    if not path.is_file():
        raise SippError(f"no scenario file {path}")
    return path.resolve()


async def _run_one_call(
    settings: Settings, scenario: Path, run_dir: Path, cwd: Path, timeout_s: float
) -> SippResult:
    media_port = free_udp_port(settings.sip_host)
    sip_port = free_udp_port(settings.sip_host)
    cmd = sipp_command(
        scenario, run_dir, settings.sip_host, sip_port, media_port,
        SipTarget.of(settings), calls=1, timeout_s=timeout_s,
    )  # fmt: skip
    proc = await spawn_sipp(cmd, run_dir, cwd)
    try:
        exit_code = await asyncio.wait_for(proc.wait(), timeout_s + 10)
    except TimeoutError:
        proc.kill()
        exit_code = await proc.wait()
    except asyncio.CancelledError:  # the caller is no longer wanted: no SIPp left running
        proc.kill()
        await asyncio.shield(proc.wait())
        raise
    return read_result(exit_code, run_dir)


async def spawn_sipp(cmd: Sequence[str], run_dir: Path, cwd: Path) -> asyncio.subprocess.Process:
    """Start ``cmd`` (``sipp_command``) in ``cwd``, its output in ``run_dir``/stdout.log."""
    with (run_dir / "stdout.log").open("wb") as out:
        return await asyncio.create_subprocess_exec(
            *cmd, stdin=asyncio.subprocess.DEVNULL, stdout=out, stderr=asyncio.subprocess.STDOUT, cwd=cwd
        )
