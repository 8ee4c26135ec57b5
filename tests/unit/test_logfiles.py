"""Service logs are private and size-bounded; a reader can follow a log across its rotations."""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from ivr_engine.config import ConfigError, Settings
from ivr_engine.lab import control
from ivr_engine.lab.paths import LabPaths
from ivr_engine.logfiles import (
    PrivateRotatingFileHandler,
    Rotation,
    SecondFormatter,
    lean_records,
    log_to_file,
    rotate_if_over,
)


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def open_umask() -> Iterator[None]:
    previous = os.umask(0)
    try:
        yield
    finally:
        os.umask(previous)


@pytest.fixture
def root_logger() -> Iterator[logging.Logger]:
    """The root logger, with its handlers and level put back afterwards."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield root
    for handler in list(root.handlers):
        root.removeHandler(handler)
        handler.close()
    for handler in handlers:
        root.addHandler(handler)
    root.setLevel(level)


def _emit(handler: logging.Handler, text: str) -> None:
    handler.handle(logging.makeLogRecord({"msg": text, "levelno": logging.INFO, "levelname": "INFO"}))


def test_handler_rotates_by_size_keeps_backups_and_every_file_is_0600(
    tmp_path: Path, open_umask: None
) -> None:
    path = tmp_path / "log" / "serve.log"
    handler = PrivateRotatingFileHandler(path, Rotation(max_bytes=100, backups=2))
    try:
        for number in range(40):
            _emit(handler, f"line {number:03d} " + "x" * 20)  # 30 bytes with the newline: 3 per file
    finally:
        handler.close()
    files = sorted(p.name for p in path.parent.iterdir())
    assert files == ["serve.log", "serve.log.1", "serve.log.2"]
    assert all(mode_of(path.parent / name) == 0o600 for name in files)
    assert all((path.parent / name).stat().st_size <= 100 for name in files)
    assert path.read_text().splitlines()[-1].startswith("line 039")
    assert (path.parent / "serve.log.2").read_text().splitlines()[0].startswith("line 033")


def test_handler_counts_what_the_file_held_before_it_opened_and_never_rotates_a_device(
    tmp_path: Path, open_umask: None
) -> None:
    path = tmp_path / "serve.log"
    path.write_text("x" * 89 + "\n")  # left by the previous run: 90 bytes
    handler = PrivateRotatingFileHandler(path, Rotation(max_bytes=100, backups=2))
    try:
        _emit(handler, "short")  # 6 bytes: 96, still fits
        _emit(handler, "ünï")  # 6 bytes as UTF-8 (4 characters with the newline): past 100, rotates
    finally:
        handler.close()
    assert (tmp_path / "serve.log.1").read_text() == "x" * 89 + "\nshort\n"
    assert path.read_text() == "ünï\n"
    device = PrivateRotatingFileHandler(Path("/dev/null"), Rotation(max_bytes=1, backups=1))
    try:
        for _ in range(3):
            _emit(device, "line")
    finally:
        device.close()
    assert not Path("/dev/null.1").exists()


def test_handler_with_raise_errors_raises_a_failed_write(tmp_path: Path) -> None:
    class Broken:
        def write(self, _text: str) -> None:
            raise OSError(28, "No space left on device")

        def seek(self, _offset: int, _whence: int = 0) -> int:
            return 0

        def tell(self) -> int:
            return 0

        def flush(self) -> None:
            pass

        def close(self) -> None:
            pass

    handler = PrivateRotatingFileHandler(tmp_path / "events.jsonl", raise_errors=True)
    assert handler.stream is not None
    handler.stream.close()
    handler.stream = Broken()  # type: ignore[assignment]
    with pytest.raises(OSError, match="No space left"):
        handler.emit(logging.makeLogRecord({"msg": "{}"}))
    quiet = PrivateRotatingFileHandler(tmp_path / "serve.log")  # the default: logging's own handling
    assert quiet.stream is not None
    quiet.stream.close()
    quiet.stream = Broken()  # type: ignore[assignment]
    raise_exceptions, logging.raiseExceptions = logging.raiseExceptions, False
    try:
        quiet.emit(logging.makeLogRecord({"msg": "{}"}))
    finally:
        logging.raiseExceptions = raise_exceptions


def test_log_to_file_moves_the_root_logger_to_a_private_rotating_file(
    tmp_path: Path, open_umask: None, root_logger: logging.Logger
) -> None:
    path = tmp_path / "serve.log"
    log_to_file(path, Rotation(max_bytes=1000, backups=1), logging.INFO)
    logging.getLogger("ivr_engine.test").info("service.starting app=ivr-engine")
    logging.getLogger("ivr_engine.test").debug("not at INFO")
    assert [type(h) for h in root_logger.handlers] == [PrivateRotatingFileHandler]
    root_logger.handlers[0].flush()
    text = path.read_text()
    assert text.endswith("INFO ivr_engine.test service.starting app=ivr-engine\n")
    assert "not at INFO" not in text
    assert mode_of(path) == 0o600


def test_rotation_from_settings_names_the_setting_when_unusable() -> None:
    assert Rotation.of(Settings(log_max_bytes=2048, log_backups=3)) == Rotation(2048, 3)
    with pytest.raises(ConfigError, match=r"'log_max_bytes' and 'log_backups'.*got 0 and 3"):
        Rotation.of(Settings(log_max_bytes=0, log_backups=3))


def test_rotate_if_over_uses_asterisk_names_and_drops_the_oldest(tmp_path: Path) -> None:
    full = tmp_path / "full"
    logs = {"full": "now" * 10, "full.0": "older", "full.1": "oldest", "full.7": "ancient"}
    for name, text in logs.items():
        (tmp_path / name).write_text(text)
    assert rotate_if_over(full, Rotation(max_bytes=30, backups=2), first=0)
    assert not full.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["full.0", "full.1"]
    assert (tmp_path / "full.0").read_text() == "now" * 10
    assert (tmp_path / "full.1").read_text() == "older"


def test_rotate_if_over_leaves_a_small_or_missing_log(tmp_path: Path) -> None:
    small = tmp_path / "full"
    small.write_text("x" * 29)
    assert not rotate_if_over(small, Rotation(max_bytes=30, backups=2), first=0)
    assert not rotate_if_over(tmp_path / "missing", Rotation(max_bytes=30, backups=2))
    assert [p.name for p in tmp_path.iterdir()] == ["full"]


def test_lab_rotates_asterisk_logs_past_the_bound_before_starting_it(tmp_path: Path) -> None:
    paths = LabPaths.for_state_dir(tmp_path)
    control.make_lab_dirs(paths)
    paths.full_log.write_text("x" * 50)
    paths.messages_log.write_text("small")
    control.rotate_asterisk_logs(paths, Rotation(max_bytes=40, backups=3))
    assert sorted(p.name for p in paths.log.iterdir()) == ["full.0", "messages"]


def test_lab_up_refuses_an_unusable_log_setting_before_starting_anything(tmp_path: Path) -> None:
    settings = Settings(state_dir=tmp_path, ari_password="pw", log_backups=0)
    with pytest.raises(ConfigError, match="'log_backups'"):
        control.up(settings, echo=lambda _: None)
    assert not LabPaths.for_state_dir(tmp_path).log.exists()


def test_the_second_formatter_writes_the_time_as_logging_does_across_seconds() -> None:
    form = "%(asctime)s %(levelname)s %(name)s %(message)s"
    ours, theirs = SecondFormatter(form), logging.Formatter(form)
    record = logging.LogRecord("ivr", logging.INFO, __file__, 1, "call.step call=c1", None, None)
    for created in (1796536689.0, 1796536689.2705, 1796536689.999, 1796536690.0005, 1796536689.5, 1.25):
        record.created, record.msecs = created, (created - int(created)) * 1000
        assert ours.format(record) == theirs.format(record)
    assert ours.formatTime(record, "%H:%M") == theirs.formatTime(record, "%H:%M")


@pytest.fixture
def logging_switches() -> Iterator[None]:
    """logging's process-wide record switches, put back afterwards."""
    saved = (logging._srcfile, logging.logThreads, logging.logProcesses, logging.logMultiprocessing)
    # logging's defaults (an in-process `ivr serve` of another test may have made records lean)
    logging._srcfile = os.path.normcase(logging.addLevelName.__code__.co_filename)
    logging.logThreads = logging.logProcesses = logging.logMultiprocessing = True
    yield
    logging._srcfile, logging.logThreads, logging.logProcesses, logging.logMultiprocessing = saved


class _Keep(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def test_lean_records_skip_the_callers_frame_thread_and_process_and_print_the_same_line(
    logging_switches: None,
) -> None:
    logger = logging.getLogger("ivr_engine.test.lean")
    keep = _Keep()
    logger.addHandler(keep)
    logger.setLevel(logging.INFO)
    try:
        logger.info("call.step call=c1 node=menu")
        lean_records()
        logger.info("call.step call=c1 node=menu")
    finally:
        logger.removeHandler(keep)
        logger.setLevel(logging.NOTSET)
    full, lean = keep.records
    assert (full.funcName, full.thread is None, full.process is None) == (
        "test_lean_records_skip_the_callers_frame_thread_and_process_and_print_the_same_line", False, False)
    assert (lean.funcName, lean.lineno) == ("(unknown function)", 0)
    assert (lean.thread, lean.process, lean.processName) == (None, None, None)
    form = SecondFormatter("%(asctime)s %(levelname)s %(name)s %(message)s")
    lean.created, lean.msecs = full.created, full.msecs
    assert form.format(lean) == form.format(full)
