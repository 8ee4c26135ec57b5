"""Settings: one source for the service, the lab and the CLI.

Values come from, in rising precedence: built-in defaults, a YAML file (``ivr.yaml`` in the working
directory, or the path in ``IVR_CONFIG``), then ``IVR_*`` environment variables. Secrets have no default:
the ARI password is taken from ``IVR_ARI_PASSWORD`` or the YAML file, otherwise one is generated once
into ``<state_dir>/secrets.yaml`` (never committed; the state folder is git-ignored).
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import yaml

__all__ = ["DEFAULT_SERVICE_NUMBERS", "ConfigError", "Settings", "load_settings"]

DEFAULT_SERVICE_NUMBERS: dict[str, str] = {
    "100": "main",
    "101": "balance",
    "102": "order_status",
    "103": "points",
    "104": "voicemail",
    "105": "survey",
    "199": "demo",
}

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class ConfigError(Exception):
    """A setting is missing or malformed; the message names it."""


@dataclass(frozen=True)
class Settings:
    """Everything the service, the lab and the CLI need to know about their surroundings."""

    state_dir: Path = Path(".lab")
    sip_host: str = "127.0.0.1"
    sip_port: int = 5060
    agent_base_port: int = 5080
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
    clock_start: str = ""
    """Lab and testing only: ISO time with zone the service's clock starts at (then runs on)."""

    @property
    def ari_url(self) -> str:
        return f"http://{self.ari_host}:{self.ari_port}/ari"

    @property
    def db_url(self) -> str:
        """The SQLAlchemy URL: the configured one, else a SQLite file in the state folder."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.state_dir / 'ivr.db').resolve()}"

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
            self.state_dir.mkdir(parents=True, exist_ok=True)
            self.secrets_file.write_text(yaml.safe_dump(stored))
            self.secrets_file.chmod(0o600)
        return replace(self, ari_password=password)


def _read_yaml(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {}
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping of settings")
    return data


def _coerce(name: str, kind: Any, value: Any) -> Any:
    try:
        if kind in ("Path", Path):
            return Path(value)
        if kind in ("int", int):
            return int(value)
        if kind in ("dict[str, str]",):
            if isinstance(value, str):
                value = yaml.safe_load(value)
            if not isinstance(value, dict):
                raise TypeError("expected a mapping")
            return {str(k): str(v) for k, v in value.items()}
        return str(value)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"setting {name!r}: {exc}") from exc


def load_settings(config_file: Path | None = None, **overrides: Any) -> Settings:
    """Build Settings from defaults, the YAML file, ``IVR_*`` env vars and explicit overrides."""
    path = config_file or Path(os.environ.get("IVR_CONFIG", "ivr.yaml"))
    values: dict[str, Any] = {}
    from_file = _read_yaml(path) if path.exists() or "IVR_CONFIG" in os.environ else {}
    if "IVR_CONFIG" in os.environ and not path.exists():
        raise ConfigError(f"IVR_CONFIG names {path}, which does not exist")
    known = {f.name: f.type for f in fields(Settings)}
    for key, value in from_file.items():
        if key not in known:
            raise ConfigError(f"{path}: unknown setting {key!r} (known: {', '.join(sorted(known))})")
        values[key] = _coerce(key, known[key], value)
    for key, kind in known.items():
        env = os.environ.get(f"IVR_{key.upper()}")
        if env is not None and env != "":
            values[key] = _coerce(key, kind, env)
    for key, value in overrides.items():
        if value is not None:
            values[key] = _coerce(key, known[key], value)
    return Settings(**values)
