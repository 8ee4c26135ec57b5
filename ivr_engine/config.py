"""Settings: one source for the service, the lab and the CLI.

Values come from, in rising precedence: built-in defaults, a YAML file (``--config FILE``, else the path
in ``IVR_CONFIG``, else ``ivr.yaml`` in the project root if there is one), then ``IVR_*`` environment
variables, then command-line options. Nothing depends on the working directory: the default state folder
is ``<project root>/.lab``, a relative path in the YAML file is read from the file's folder, and a relative
path in an ``IVR_*`` variable or an option is made absolute once, at load. A bad value is a
``ConfigError`` naming where it came from (``IVR_SIP_PORT: 'abc' is not an integer``).

Secrets have no default: the ARI password is taken from ``IVR_ARI_PASSWORD`` or the YAML file, otherwise
one is generated once into ``<state_dir>/secrets.yaml`` (never committed; the state folder is git-ignored).
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import yaml

from ivr_engine.privatefiles import write_private

__all__ = ["ACD_STORES", "DEFAULT_SERVICE_NUMBERS", "EVENT_LOOPS", "ConfigError", "Settings", "load_settings"]

DEFAULT_SERVICE_NUMBERS: dict[str, str] = {
    "100": "main",
    "101": "balance",
    "102": "order_status",
    "103": "points",
    "104": "voicemail",
    "105": "survey",
    "199": "demo",
    "200": "main_zh",
}

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG_FILE = PROJECT_ROOT / "ivr.yaml"
"""Read when neither ``--config`` nor ``IVR_CONFIG`` names a file (and only if it exists)."""


class ConfigError(Exception):
    """A setting is missing or malformed; the message names it."""


@dataclass(frozen=True)
class Settings:
    """Everything the service, the lab and the CLI need to know about their surroundings."""

    state_dir: Path = PROJECT_ROOT / ".lab"
    sip_host: str = "127.0.0.1"
    sip_port: int = 5060
    agent_base_port: int = 5080
    pstn_port: int = 5090
    """Where the lab's "PSTN" listens: customer numbers are dialled as ``sip:NUMBER@sip_host:pstn_port``
    (the ``pstn`` endpoint of pjsip.conf); a test's SIPp UAS there is the customer's phone."""
    ari_scheme: str = "http"
    """``https`` when Asterisk's ARI is served over TLS (http.conf ``tlsenable``): REST over HTTPS and the
    events over WSS, the server's certificate checked against the system's CAs, or the PEM file the
    standard ``SSL_CERT_FILE`` variable names (a centre's own CA, a self-signed Asterisk)."""
    ari_host: str = "127.0.0.1"
    ari_port: int = 8088
    ari_user: str = "ivr"
    ari_password: str = ""
    app_name: str = "ivr-engine"
    http_host: str = "127.0.0.1"
    http_port: int = 8090
    http_allowed_hosts: str = ""
    """Comma-separated extra names (``name`` or ``name:port``) the HTTP ``Host`` header may carry."""
    database_url: str = ""
    flows_dir: Path = PROJECT_ROOT / "flows"
    sounds_dir: Path = PROJECT_ROOT / "sounds"
    language: str = "en"
    service_numbers: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_SERVICE_NUMBERS))
    agents_file: Path = PROJECT_ROOT / "acd.yaml"
    workorders_file: Path = PROJECT_ROOT / "workorders.yaml"
    """Work-order types, departments, deadlines per step, repeat window, return visits (``ivr ticket``)."""
    acd_store: str = "sql"
    """Where the ACD keeps its state: ``sql`` (the service's database: survives a restart) or ``memory``
    (in the process: tests and benchmarks)."""
    event_loop: str = "uvloop"
    """The event loop ``ivr serve`` runs on: ``uvloop`` (libuv; asyncio's own where uvloop is not
    installed) or ``asyncio`` (see ``ivr_engine.eventloop``)."""
    log_max_bytes: int = 10_000_000
    """``ivr serve --log-file`` and ``events.jsonl`` rotate when they would grow past this size..."""
    log_backups: int = 5
    """...keeping this many rotated files (``serve.log.1`` ... ``serve.log.5``)."""
    clock_start: str = ""
    """Lab and testing only: ISO time with zone the service's clock starts at (then runs on)."""
    clock_anchor: str = ""
    """Lab and testing only: the real (wall) time at which the clock read ``clock_start`` (ISO with zone);
    empty: when the process starts. ``ivr lab up`` sets it, so restarts and nodes share one timeline."""
    timezone: str = ""
    """The centre's IANA time zone ("today" in the wallboard and reports, times typed in the CLI);
    empty: the zone of the flows' business hours (``hours`` nodes), else UTC."""
    service_level_target: float = 0.8
    """The wallboard shows a queue's service level green at or above this fraction..."""
    service_level_warning: float = 0.6
    """...amber at or above this one, red below it."""
    recording_retention_days: int = 90
    """Call recordings (queues with ``record: true`` in acd.yaml) are deleted, file and row, this many
    days after the call (``ivr serve`` sweeps hourly); 0 keeps them for ever."""
    callback_attempts: int = 3
    """Callbacks: how many times a customer is dialled before the callback is given up (``failed``)."""
    callback_retry_seconds: float = 300.0
    """...how long after an unanswered or busy attempt the callback is back in line."""
    callback_ring_seconds: int = 30
    """...how long the customer's phone rings (the agent, already on the line, waits no longer)."""
    outbound_caller_id: str = "100"
    """The number customers see when the centre calls them back."""
    pin_key_file: Path | None = None
    """The secret key PIN hashes are made with (``ivr_engine.storage.pins``; created 0600 on first use);
    none: ``<state_dir>/pin.key``. Every service sharing one database must use the same key file."""
    node_id: str = ""
    """Which node of a multi-node centre this ``ivr serve`` is (e.g. ``node2``): stored on each call row it
    handles (``calls.node``) and on the calls it queues in the ACD. ``ivr lab up --nodes N`` sets it per
    node; empty on a single node."""
    node_url: str = ""
    """Several nodes: where the other nodes reach this node's HTTP app (web desktop and control API),
    e.g. ``http://10.0.0.12:8090``. A desk control for a call this node holds, sent to another node, is
    forwarded here. Empty: ``http://<http_host>:<http_port>`` (loopback when ``http_host`` is a wildcard)."""

    @property
    def ari_url(self) -> str:
        host = f"[{self.ari_host}]" if ":" in self.ari_host else self.ari_host
        return f"{self.ari_scheme}://{host}:{self.ari_port}/ari"

    @property
    def web_url(self) -> str:
        """``node_url``, else this node's HTTP app on ``http_host`` (a wildcard address: loopback)."""
        if self.node_url:
            return self.node_url.rstrip("/")
        host = "127.0.0.1" if self.http_host in ("", "0.0.0.0", "::") else self.http_host
        host = f"[{host}]" if ":" in host else host
        return f"http://{host}:{self.http_port}"

    @property
    def db_url(self) -> str:
        """The SQLAlchemy URL: the configured one, else a SQLite file in the state folder."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.state_dir / 'ivr.db').resolve()}"

    @property
    def recordings_dir(self) -> Path:
        """Where the lab's Asterisk writes named recordings (astspooldir = <state_dir>/spool)."""
        return (self.state_dir / "spool" / "recording").resolve()

    @property
    def call_recordings_dir(self) -> Path:
        """Where kept call recordings live (0700; files 0600), moved there from Asterisk's spool."""
        return (self.state_dir / "call-recordings").resolve()

    @property
    def pin_key_path(self) -> Path:
        return self.pin_key_file if self.pin_key_file is not None else self.state_dir / "pin.key"

    @property
    def secrets_file(self) -> Path:
        return self.state_dir / "secrets.yaml"

    def with_secrets(self) -> Settings:
        """Return settings whose ARI password is set, generating and storing one if needed."""
        if self.ari_password:
            return self
        stored = _read_yaml(self.secrets_file)
        password = stored.get("ari_password")
        if not isinstance(password, str) or not password:
            password = secrets.token_urlsafe(18)
            stored["ari_password"] = password
            write_private(self.secrets_file, yaml.safe_dump(stored))
        return replace(self, ari_password=password)


def _read_yaml(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {}
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from exc
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping of settings")
    return data


def _coerce(key: str, where: str, kind: Any, value: Any, base: Path) -> Any:
    """``value`` as setting ``key`` of type ``kind``; ``where`` names its source in the error.

    Relative paths are read from ``base`` (the YAML file's folder, or the working directory).
    """
    if kind in ("Path", Path, "Path | None"):
        if not isinstance(value, str) or not value.strip():
            raise ConfigError(f"{where}: {value!r} is not a path")
        path = Path(value).expanduser()
        return path if path.is_absolute() else base / path
    if kind in ("int", int):
        number = _integer(value)
        if number is None:
            raise ConfigError(f"{where}: {value!r} is not an integer")
        if key.endswith("_port") and not 1 <= number <= 65535:
            raise ConfigError(f"{where}: {number} is not a port number (1-65535)")
        return number
    if kind in ("float", float):
        decimal = _decimal(value)
        if decimal is None:
            raise ConfigError(f"{where}: {value!r} is not a number")
        return decimal
    if kind in ("dict[str, str]",):
        if isinstance(value, str):
            try:
                value = yaml.safe_load(value)
            except yaml.YAMLError:
                raise ConfigError(f"{where}: not a YAML mapping such as '{{\"100\": main}}'") from None
        if not isinstance(value, dict) or not all(_is_scalar(v) for v in [*value, *value.values()]):
            raise ConfigError(f"{where}: {value!r} is not a mapping of number to flow name")
        return {str(k): str(v) for k, v in value.items()}
    if not _is_scalar(value):
        raise ConfigError(f"{where}: {value!r} is not a single value")
    if key in _CHOICES and str(value) not in _CHOICES[key]:
        raise ConfigError(f"{where}: {value!r} is not one of {', '.join(_CHOICES[key])}")
    return str(value)


ACD_STORES = ("sql", "memory")
"""Where the ACD keeps its state (``acd_store``)."""
EVENT_LOOPS = ("uvloop", "asyncio")
"""The event loops ``ivr serve`` can run on (``event_loop``)."""
_CHOICES: dict[str, tuple[str, ...]] = {
    "ari_scheme": ("http", "https"),
    "acd_store": ACD_STORES,
    "event_loop": EVENT_LOOPS,
}
"""Settings that take one of a few words (checked at load; the code that uses them checks again, for
settings made in code)."""


def _integer(value: Any) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            return None
    return None


def _decimal(value: Any) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def _is_scalar(value: Any) -> bool:
    return isinstance(value, str | int | float) and not isinstance(value, bool)


def _settings_file(config_file: Path | None) -> Path | None:
    """The YAML file to read, or None; a file named explicitly must exist."""
    if config_file is not None:
        if not config_file.is_file():
            raise ConfigError(f"--config names {config_file}, which does not exist or is not a file")
        return config_file
    named = os.environ.get("IVR_CONFIG", "")
    if named:
        path = Path(named)
        if not path.is_file():
            raise ConfigError(f"IVR_CONFIG names {path}, which does not exist or is not a file")
        return path
    return DEFAULT_CONFIG_FILE if DEFAULT_CONFIG_FILE.is_file() else None


def load_settings(config_file: Path | None = None, **overrides: Any) -> Settings:
    """Build Settings from defaults, the YAML file, ``IVR_*`` env vars and explicit overrides.

    ``config_file`` is the ``--config`` option: when given it must exist. Raises ``ConfigError``.
    """
    path = _settings_file(config_file)
    known = {f.name: f.type for f in fields(Settings)}
    values: dict[str, Any] = {}
    if path is not None:
        base = path.resolve().parent
        for key, value in _read_yaml(path).items():
            if key not in known:
                raise ConfigError(f"{path}: unknown setting {key!r} (known: {', '.join(sorted(known))})")
            if value is None:  # `key:` with no value keeps the default
                continue
            values[key] = _coerce(key, f"{path}: {key}", known[key], value, base)
    cwd = Path.cwd()
    for key, kind in known.items():
        env = os.environ.get(f"IVR_{key.upper()}")
        if env is not None and env != "":
            values[key] = _coerce(key, f"IVR_{key.upper()}", kind, env, cwd)
    for key, value in overrides.items():
        if value is not None:
            values[key] = _coerce(key, key, known[key], str(value) if isinstance(value, Path) else value, cwd)
    return Settings(**values)
