"""``ivr bench``: the same SIPp caller mix through our service (100) and the dialplan baseline (9100).

I/O lives here: the lab (an existing one, or a private one on free loopback ports), SIPp processes,
``/proc`` CPU readings and the service log. Figures are computed by ``ivr_engine.bench.figures``.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from ivr_engine.bench.errors import BenchError
from ivr_engine.bench.figures import BenchReport, CpuTimes, RunFigures
from ivr_engine.bench.heard import HeardMeter
from ivr_engine.bench.load import MIX, mix_counts, plan_mix, write_mix
from ivr_engine.bench.procstat import TICKS_PER_S, read_cpu
from ivr_engine.bench.rounds import BenchRounds
from ivr_engine.bench.sniff import RtpSniffer
from ivr_engine.config import Settings
from ivr_engine.lab import control
from ivr_engine.lab.errors import LabError
from ivr_engine.lab.paths import LabPaths
from ivr_engine.lab.ports import free_udp_port, port_env, private_lab_settings
from ivr_engine.lab.render import render_configs
from ivr_engine.lab.sipp import SipTarget, sipp_command, spawn_sipp

__all__ = [
    "BASELINE_NUMBER",
    "SERVICE_NUMBER",
    "BenchOptions",
    "bench",
    "bench_lab",
    "ensure_baseline",
    "run_bench",
]

SERVICE_NUMBER = "100"
BASELINE_NUMBER = "9100"
Echo = Callable[[str], None]


@dataclass(frozen=True)
class BenchOptions:
    rate: float
    calls: int
    concurrency: int
    seed: int = 7
    call_timeout_s: float = 90.0
    rounds: int = 1
    """Rounds of both runs (ivr-engine, then the dialplan); the report gives each figure's median."""

    def deadline_s(self) -> float:
        """How long one run may take: every call placed, then the last one's full length."""
        return self.calls / self.rate + self.call_timeout_s + 30


def _ivr_base() -> list[str]:
    script = Path(sys.executable).with_name("ivr")
    return [str(script)] if script.exists() else [sys.executable, "-m", "cli"]



def _prepare_own_lab(state_dir: Path, echo: Echo) -> Settings:
    settings = private_lab_settings(state_dir)
    env = {**os.environ, **port_env(settings)}
    for step in (("db", "init"), ("db", "seed")):
        done = subprocess.run(
            [*_ivr_base(), "--state-dir", str(state_dir), *step], env=env, capture_output=True, text=True,
            timeout=120, check=False,
        )  # fmt: skip
        if done.returncode != 0:
            raise BenchError(f"ivr {' '.join(step)} failed for the bench lab: {done.stderr.strip()[-300:]}")
    echo(f"bench lab in {state_dir} (SIP {settings.sip_port}, ARI {settings.ari_port})")
    return settings


@contextlib.contextmanager
def bench_lab(settings: Settings, echo: Echo) -> Iterator[Settings]:
    """The lab at ``settings.state_dir`` if it runs; else a private one, brought down afterwards."""
    if control.status(settings).running:
        yield settings.with_secrets()
        return
    state_dir = Path(tempfile.mkdtemp(prefix="ivr-bench-"))
    own = _prepare_own_lab(state_dir, echo)
    try:
        control.up(own, echo=echo)
        yield own.with_secrets()
    finally:
        control.down(own, echo=echo)


def _asterisk_rx(paths: LabPaths, command: str) -> str:
    done = subprocess.run(
        [shutil.which("asterisk") or "asterisk", "-C", str(paths.asterisk_conf), "-rx", command],
        capture_output=True, text=True, timeout=20, check=False,
    )  # fmt: skip
    return done.stdout


def ensure_baseline(settings: Settings, echo: Echo) -> None:
    """Render the current dialplan (baseline included) into a lab started before it, and reload it."""
    paths = LabPaths.for_state_dir(settings.state_dir)
    text = render_configs(settings, paths)["extensions.conf"]
    conf = paths.etc / "extensions.conf"
    loaded = BASELINE_NUMBER in _asterisk_rx(paths, f"dialplan show {BASELINE_NUMBER}@ivr-inbound")
    if loaded and conf.exists() and conf.read_text() == text:
        return
    conf.write_text(text)
    _asterisk_rx(paths, "dialplan reload")
    if "9100" not in _asterisk_rx(paths, f"dialplan show {BASELINE_NUMBER}@ivr-inbound"):
        raise BenchError(
            f"the baseline number {BASELINE_NUMBER} is not in the lab's dialplan; see {paths.full_log}"
        )
    echo("baseline dialplan rendered into the running lab")


@dataclass(frozen=True)
class _Progress:
    attempted: int
    succeeded: int
    failed: int
    current: int


def _read_stats(path: Path) -> list[_Progress]:
    if not path.exists():
        return []
    rows = list(csv.reader(path.read_text().splitlines(), delimiter=";"))
    if len(rows) < 2:
        return []
    header = rows[0]
    try:
        cols = [
            header.index(c) for c in ("OutgoingCall(C)", "SuccessfulCall(C)", "FailedCall(C)", "CurrentCall")
        ]
    except ValueError as exc:
        raise BenchError(f"{path}: unexpected SIPp statistics header ({exc})") from exc
    progress = []
    for row in rows[1:]:
        try:
            progress.append(_Progress(*(int(row[c]) for c in cols)))
        except (ValueError, IndexError):
            continue
    return progress


def _completed(log_file: Path) -> int:
    if not log_file.exists():
        return 0
    return sum(1 for line in log_file.read_text().splitlines() if line.startswith("completed "))


def _cpu_s(before: CpuTimes | None, after: CpuTimes | None) -> float | None:
    if before is None or after is None:
        return None
    return after.seconds_since(before, TICKS_PER_S)


async def _run_one(
    settings: Settings, name: str, number: str, options: BenchOptions, run_dir: Path, echo: Echo
) -> RunFigures:
    plan = plan_mix(options.calls, options.seed)
    scenario = write_mix(run_dir, plan)
    paths = LabPaths.for_state_dir(settings.state_dir)
    lab = control.status(settings)
    ast_pid = lab.state_of(control.Component.ASTERISK).pid
    serve_pid = lab.state_of(control.Component.SERVE).pid
    media_port = free_udp_port(settings.sip_host)
    cmd = sipp_command(
        scenario, run_dir, settings.sip_host, free_udp_port(settings.sip_host),
        media_port, SipTarget.of(settings), calls=None, timeout_s=None,
    )  # fmt: skip
    cmd += ["-inf", str(run_dir / "callers.csv"), "-s", number, "-r", f"{options.rate:g}", "-rp", "1000",
            "-l", str(options.concurrency), "-m", str(options.calls), "-fd", "1"]  # fmt: skip
    meter = HeardMeter()
    ear = RtpSniffer(media_port, meter)
    ear.start()
    try:
        ast_before, serve_before, rig_before = read_cpu(ast_pid), read_cpu(serve_pid), _rig_cpu_s()
        started = time.monotonic()
        await _drive(cmd, run_dir, name, options, started, echo)
        wall = time.monotonic() - started
        ast_after, serve_after, rig_after = read_cpu(ast_pid), read_cpu(serve_pid), _rig_cpu_s()
    finally:
        sniffed = ear.stop()
    ast_cpu = _cpu_s(ast_before, ast_after)
    if ast_cpu is None:
        raise BenchError(f"cannot read Asterisk's CPU (pid {ast_pid}); is the lab at {paths.root} running?")
    rows = _read_stats(run_dir / "stats.csv")
    attempted = max((r.attempted for r in rows), default=0)
    succeeded = _completed(run_dir / "logs.log")
    service_cpu = _cpu_s(serve_before, serve_after) if number == SERVICE_NUMBER else None
    counts = meter.counts()
    return RunFigures(
        name=name, number=number, attempted=attempted, succeeded=succeeded, failed=attempted - succeeded,
        wall_s=wall, peak_concurrent=max((r.current for r in rows), default=0), asterisk_cpu_s=ast_cpu,
        service_cpu_s=service_cpu, heard_ms=tuple(meter.samples_ms), keys=counts.keys,
        quiet_keys=counts.quiet_keys, unanswered=counts.unanswered, rtp_dropped=sniffed.dropped,
        load_1m=os.getloadavg()[0], rig_cpu_s=rig_after - rig_before,
    )  # fmt: skip


def _rig_cpu_s() -> float:
    """CPU seconds of this process (the capture, the progress) and its ended children (SIPp: a run's
    SIPp has been waited for when its run ends; the lab's processes are not our children)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


async def _drive(
    cmd: list[str], run_dir: Path, name: str, options: BenchOptions, started: float, echo: Echo
) -> None:
    """Run SIPp to the end (or the run's bound), echoing progress every 2 s."""
    proc = await spawn_sipp(cmd, run_dir, run_dir)
    while proc.returncode is None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(proc.wait(), 2.0)
        rows = _read_stats(run_dir / "stats.csv")
        last = rows[-1] if rows else _Progress(0, 0, 0, 0)
        echo(
            f"  {name}: {last.attempted}/{options.calls} placed, {last.current} up, "
            f"{_completed(run_dir / 'logs.log')} completed, {time.monotonic() - started:.0f} s"
        )
        if time.monotonic() - started > options.deadline_s() and proc.returncode is None:
            proc.terminate()
            await proc.wait()
            echo(f"  {name}: stopped at the {options.deadline_s():.0f} s bound")


async def run_bench(settings: Settings, options: BenchOptions, echo: Echo = print) -> BenchRounds:
    """``options.rounds`` rounds on the lab in ``settings``, each the caller mix through our service, then
    through the baseline."""
    if shutil.which("sipp") is None:
        raise BenchError("sipp is not installed: run sip-lab/install")
    ensure_baseline(settings, echo)
    base = LabPaths.for_state_dir(settings.state_dir).sipp
    base.mkdir(parents=True, exist_ok=True)
    reports = []
    for round_number in range(1, options.rounds + 1):
        runs = []
        for name, number in (("ivr-engine", SERVICE_NUMBER), ("dialplan", BASELINE_NUMBER)):
            run_dir = Path(tempfile.mkdtemp(prefix=f"bench-{name}-", dir=base))
            of = f"round {round_number}/{options.rounds}: " if options.rounds > 1 else ""
            echo(
                f"{of}{name}: {options.calls} calls to {number} at {options.rate:g}/s, at most "
                f"{options.concurrency} at once (SIPp files in {run_dir})"
            )
            runs.append(await _run_one(settings, name, number, options, run_dir, echo))
        reports.append(BenchReport(
            ours=runs[0], baseline=runs[1], mix=mix_counts(plan_mix(options.calls, options.seed), MIX)
        ))  # fmt: skip
    return BenchRounds(tuple(reports))


def bench(settings: Settings, options: BenchOptions, echo: Echo = print) -> BenchRounds:
    """Blocking entry point for the CLI: lab, every round, report. Lab failures become ``BenchError``."""
    try:
        with bench_lab(settings, echo) as lab_settings:
            return asyncio.run(run_bench(lab_settings, options, echo))
    except LabError as exc:
        raise BenchError(str(exc)) from exc
