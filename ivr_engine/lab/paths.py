"""Where a lab keeps its files inside its state folder (all absolute, so Asterisk can use them)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

__all__ = ["LabPaths"]


@dataclass(frozen=True)
class LabPaths:
    """The layout of one lab's state folder."""

    root: Path

    @classmethod
    def for_state_dir(cls, state_dir: Path) -> LabPaths:
        return cls(root=state_dir.resolve())

    @property
    def etc(self) -> Path:
        """Rendered Asterisk configs."""
        return self.root / "asterisk"

    @property
    def asterisk_conf(self) -> Path:
        return self.etc / "asterisk.conf"

    @property
    def log(self) -> Path:
        """Asterisk's and the service's logs: a 0700 folder of 0600 files."""
        return self.root / "log"

    @property
    def full_log(self) -> Path:
        """Asterisk's full log (see logger.conf)."""
        return self.log / "full"

    @property
    def messages_log(self) -> Path:
        """Asterisk's notices, warnings and errors (see logger.conf)."""
        return self.log / "messages"

    @property
    def asterisk_out(self) -> Path:
        """Asterisk's own stdout/stderr (start-up failures land here)."""
        return self.log / "asterisk.out"

    @property
    def serve_log(self) -> Path:
        """``ivr serve``'s log (``--log-file``: 0600, rotated by size)."""
        return self.log / "serve.log"

    @property
    def serve_out(self) -> Path:
        """``ivr serve``'s own stdout/stderr (its start-up line, a failure to start)."""
        return self.log / "serve.out"

    @property
    def run(self) -> Path:
        return self.root / "run"

    @property
    def spool(self) -> Path:
        return self.root / "spool"

    @property
    def recordings(self) -> Path:
        """Where ARI recordings land (Asterisk fails with ENOENT if it is missing)."""
        return self.spool / "recording"

    @property
    def varlib(self) -> Path:
        return self.root / "lib"

    @property
    def sipp(self) -> Path:
        """Scenario files, statistics and logs of SIPp runs."""
        return self.root / "sipp"

    @property
    def settings_file(self) -> Path:
        """The effective settings the lab was started with, handed to ``ivr serve``."""
        return self.root / "lab-settings.yaml"

    @property
    def topology_file(self) -> Path:
        """A multi-node lab's nodes and their ports (``ivr lab up --nodes N``); absent for one node."""
        return self.root / "lab-nodes.yaml"

    def node(self, index: int) -> LabPaths:
        """The state folder of node ``index`` (1-based) of a multi-node lab."""
        return LabPaths(self.root / "nodes" / str(index))

    @property
    def kamailio(self) -> Path:
        """A multi-node lab's Kamailio: its rendered config, dispatcher list, sockets, pid and log."""
        return self.root / "kamailio"

    def pid_file(self, component: str) -> Path:
        """The pid the lab recorded for a process it started."""
        return self.run / f"{component}.lab.pid"

    def directories(self) -> tuple[Path, ...]:
        return (
            self.etc,
            self.log,
            self.run,
            self.spool,
            self.recordings,
            self.varlib,
            self.varlib / "agi-bin",
            self.varlib / "keys",
            self.sipp,
        )
