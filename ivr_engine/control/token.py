"""The control API's bearer token: ``IVR_CONTROL_TOKEN``, else generated once into the state folder.

It lives in ``<state_dir>/secrets.yaml`` next to the ARI password (mode 0600, never committed), so the
service and every ``ivr`` command run with the same state folder share it without configuration.
"""

from __future__ import annotations

import os
import secrets

import yaml

from ivr_engine.config import ConfigError, Settings
from ivr_engine.privatefiles import write_private

__all__ = ["TOKEN_ENV", "control_token"]

TOKEN_ENV = "IVR_CONTROL_TOKEN"
_KEY = "control_token"


def control_token(settings: Settings, *, create: bool = True) -> str:
    """The token for ``settings``' state folder; generated and stored when missing and ``create``.

    Raises ``ConfigError`` when there is none and ``create`` is False, or the secrets file is unusable.
    """
    from_env = os.environ.get(TOKEN_ENV, "")
    if from_env:
        return from_env
    path = settings.secrets_file
    stored: dict[str, object] = {}
    if path.exists():
        try:
            loaded = yaml.safe_load(path.read_text()) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise ConfigError(f"{path}: cannot read secrets: {exc}") from exc
        if not isinstance(loaded, dict):
            raise ConfigError(f"{path}: expected a mapping of secrets")
        stored = loaded
    token = stored.get(_KEY)
    if isinstance(token, str) and token:
        return token
    if not create:
        raise ConfigError(f"no control token in {path}: is the service running with this state folder?")
    token = secrets.token_urlsafe(24)
    stored[_KEY] = token
    try:
        write_private(path, yaml.safe_dump(stored))
    except OSError as exc:
        raise ConfigError(f"{path}: cannot store the control token: {exc}") from exc
    return token
