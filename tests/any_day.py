"""Run the clock-sensitive tests with the machine's clock shifted to other days and hours.

``python -m tests.any_day`` (part of ``make test``) runs the clock unit tests, the web tests and the lab's
web-desktop test (a real call through Asterisk, shown on the agent desktop and the wallboard) under
Debian's ``faketime``, once per moment below. Every process of the run (pytest, ``ivr serve``, Asterisk,
SIPp) sees the same shifted clocks (wall and monotonic move by one constant offset, so durations and
timeouts stay real). A test that read the real date or hour anywhere instead of the service's clock
would fail on one of them.

The moments are in the centre's zone (New York, the business hours' zone): a Saturday afternoon, 03:00
on a weekday night, and 23:30 on New Year's Eve (a holiday follows, and the local day turns while the
UTC day has turned already).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

CENTRE = ZoneInfo("America/New_York")
MOMENTS = (
    datetime(2026, 12, 5, 14, 0, tzinfo=CENTRE),  # Saturday afternoon
    datetime(2026, 12, 8, 3, 0, tzinfo=CENTRE),  # Tuesday, 03:00
    datetime(2026, 12, 31, 23, 30, tzinfo=CENTRE),  # New Year's Eve, 23:30 (04:30 UTC on 1 January)
)
TESTS = ("tests/unit/test_clock.py", "tests/web", "tests/lab/test_web_desktop.py")
ROOT = Path(__file__).resolve().parent.parent


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def start_at(moment: datetime, base: str) -> subprocess.Popen[bytes]:
    """pytest over TESTS with the wall clock shifted so that it reads ``moment`` now, started; its output
    goes to ``base``/out.txt."""
    offset = round(moment.timestamp() - time.time())
    # Monotonic time moves by the same offset (libfaketime's default): with it left alone, Python's
    # time.sleep (clock_nanosleep on an absolute monotonic deadline) fails with EINVAL.
    env = {**os.environ, "FAKETIME_NO_CACHE": "1"}
    command = ["faketime", "-f", f"{offset:+d}", sys.executable, "-m", "pytest", "-q",
               "-p", "no:cacheprovider", f"--basetemp={base}/t", *TESTS]  # fmt: skip
    with open(Path(base) / "out.txt", "wb") as out:
        return subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)


def _title(moment: datetime) -> str:
    return f"{moment:%a %Y-%m-%d %H:%M %Z} ({moment.astimezone(UTC):%H:%M UTC})"


def main() -> int:
    """Every moment's run at once (each its own private lab on free ports, its own temporary folder);
    their outputs printed one after the other as they end. Most of a run is waiting on a real call, so
    side by side they take little longer than one."""
    if shutil.which("faketime") is None:
        message = "any-day: faketime is not installed (sip-lab/install installs it)"
        print(message, file=sys.stderr)
        return 1 if _in_ci() else 0
    failed: list[datetime] = []
    with contextlib.ExitStack() as stack:
        runs = []
        for moment in MOMENTS:
            base = stack.enter_context(tempfile.TemporaryDirectory(prefix="ivr-any-day-"))
            runs.append((moment, base, start_at(moment, base)))
            print(f"any-day: started with the clock at {_title(moment)}", flush=True)
        for moment, base, process in runs:
            status = process.wait()
            print(f"any-day: {_title(moment)}: exit {status}", flush=True)
            sys.stdout.write((Path(base) / "out.txt").read_text(errors="replace"))
            sys.stdout.flush()
            if status != 0:
                failed.append(moment)
    for moment in failed:
        print(f"any-day: FAILED with the clock at {_title(moment)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
