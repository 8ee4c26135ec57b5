"""Render the Asterisk configs in ``dialplans/*.j2`` from Settings (pure apart from ``write_configs``)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import jinja2

from ivr_engine.config import PROJECT_ROOT, Settings
from ivr_engine.lab.errors import RenderError
from ivr_engine.lab.paths import LabPaths
from ivr_engine.privatefiles import write_private

__all__ = [
    "AGENT_IDS",
    "MOH_DIRECTORY",
    "TEMPLATES_DIR",
    "AgentPhone",
    "agent_phones",
    "render_configs",
    "write_configs",
]

TEMPLATES_DIR = PROJECT_ROOT / "dialplans"
AGENT_IDS: tuple[str, ...] = ("1001", "1002", "1003")
WEBSOCKET_WRITE_TIMEOUT_MS = 1000
QUALIFY_FREQUENCY_S = 5
RTP_RANGE = (10000, 20000)
SECRET_CONFIGS = frozenset({"ari.conf"})
"""Configs holding a password: created 0600."""
MOH_DIRECTORY = Path("/usr/share/asterisk/moh")
"""Hold music of musiconhold.conf's ``default`` class: Debian's asterisk-moh-opsound-wav (sip-lab/install)."""


@dataclass(frozen=True)
class AgentPhone:
    """An agent's SIP endpoint and the loopback port its phone listens on."""

    id: str
    port: int


def agent_phones(settings: Settings) -> tuple[AgentPhone, ...]:
    """Agent 100N's phone listens on ``agent_base_port + N``."""
    return tuple(AgentPhone(id=a, port=settings.agent_base_port + int(a) - 1000) for a in AGENT_IDS)


def _environment(templates_dir: Path) -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(templates_dir),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,
    )


def render_configs(
    settings: Settings,
    paths: LabPaths,
    templates_dir: Path = TEMPLATES_DIR,
    rtp: tuple[int, int] = RTP_RANGE,
) -> dict[str, str]:
    """Return ``{file name: text}`` for every Asterisk template (the ``*.j2`` directly in
    ``templates_dir``; sub-folders such as ``kamailio/`` hold other programs' configs); ``settings``
    must carry the ARI password. ``rtp`` is Asterisk's RTP port range (a node's share of it)."""
    if not settings.ari_password:
        raise RenderError("the ARI password is unset: call settings.with_secrets() before rendering")
    env = _environment(templates_dir)
    names = sorted(n for n in env.list_templates() if n.endswith(".j2") and "/" not in n)
    if not names:
        raise RenderError(f"no config templates (*.j2) in {templates_dir}")
    context = {
        "settings": settings,
        "paths": paths,
        "agents": agent_phones(settings),
        "service_numbers": sorted(settings.service_numbers.items()),
        "websocket_write_timeout_ms": WEBSOCKET_WRITE_TIMEOUT_MS,
        "qualify_frequency_s": QUALIFY_FREQUENCY_S,
        "rtp_start": rtp[0],
        "rtp_end": rtp[1],
        "moh_directory": MOH_DIRECTORY,
    }
    rendered: dict[str, str] = {}
    for name in names:
        try:
            rendered[name.removesuffix(".j2")] = env.get_template(name).render(context)
        except jinja2.TemplateError as exc:
            raise RenderError(f"{templates_dir / name}: {exc}") from exc
    return rendered


def write_configs(
    settings: Settings,
    out_dir: Path,
    paths: LabPaths | None = None,
    templates_dir: Path = TEMPLATES_DIR,
    rtp: tuple[int, int] = RTP_RANGE,
) -> list[Path]:
    """Render into ``out_dir`` (created if needed); directories point into ``paths`` (default: state dir)."""
    lab_paths = paths or LabPaths.for_state_dir(settings.state_dir)
    rendered = render_configs(settings, lab_paths, templates_dir, rtp)
    out_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for name, text in rendered.items():
        target = out_dir / name
        if name in SECRET_CONFIGS:
            write_private(target, text)
        else:
            target.write_text(text)
        written.append(target)
    return written
