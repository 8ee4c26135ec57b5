"""The Asterisk configs rendered from Settings say what the lab contract needs."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli import main
from ivr_engine.ari.client import AriConfig
from ivr_engine.config import Settings
from ivr_engine.lab import LabPaths, RenderError
from ivr_engine.lab.render import MOH_DIRECTORY, agent_phones, render_configs


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        state_dir=tmp_path / "state",
        sip_port=5999,
        ari_port=8999,
        agent_base_port=6100,
        pstn_port=6190,
        ari_password="s3cret",
        service_numbers={"100": "main", "205": "points"},
    )


@pytest.fixture
def configs(settings: Settings) -> dict[str, str]:
    return render_configs(settings, LabPaths.for_state_dir(settings.state_dir))


def _sections(text: str) -> list[tuple[str, dict[str, str]]]:
    """Asterisk allows repeated section names ([1001] aor and endpoint): parse them in order."""
    sections: list[tuple[str, dict[str, str]]] = []
    for raw in text.splitlines():
        line = raw.split(";", 1)[0].strip()
        if line.startswith("["):
            sections.append((line[1 : line.index("]")], {}))
        elif "=" in line and sections:
            key, value = (part.strip() for part in line.split("=", 1))
            sections[-1][1][key] = value.lstrip(">").strip()
    return sections


def test_every_config_the_lab_needs_is_rendered(configs: dict[str, str]) -> None:
    needed = {"asterisk.conf", "modules.conf", "http.conf", "ari.conf", "pjsip.conf", "extensions.conf",
              "logger.conf", "rtp.conf", "musiconhold.conf"}  # fmt: skip
    assert needed <= set(configs)


def test_asterisk_conf_points_into_state_folder(settings: Settings, configs: dict[str, str]) -> None:
    dirs = dict(_sections(configs["asterisk.conf"]))["directories"]
    state = str(settings.state_dir.resolve())
    assert dirs["astmoddir"] == "/usr/lib/asterisk/modules"
    assert dirs["astdatadir"] == "/usr/share/asterisk"
    for key in ("astetcdir", "astvarlibdir", "astdbdir", "astspooldir", "astrundir", "astlogdir"):
        assert dirs[key].startswith(state + "/"), key
    options = dict(_sections(configs["asterisk.conf"]))["options"]
    assert (options["runuser"], options["rungroup"]) == ("root", "root")


def test_http_and_ari_use_settings(settings: Settings, configs: dict[str, str]) -> None:
    http = dict(_sections(configs["http.conf"]))["general"]
    assert (http["bindaddr"], http["bindport"]) == ("127.0.0.1", "8999")
    # Asterisk closes connections beyond its sessionlimit: the service's REST pool and WebSocket fit in it
    assert int(http["sessionlimit"]) > AriConfig.connections + 1
    ari = dict(_sections(configs["ari.conf"]))
    assert int(ari["general"]["websocket_write_timeout"]) >= 1000
    assert ari[settings.ari_user] == {
        "type": "user", "read_only": "no", "password": "s3cret", "password_format": "plain",
    }  # fmt: skip


def test_pjsip_has_transport_anonymous_and_agents(configs: dict[str, str]) -> None:
    sections = _sections(configs["pjsip.conf"])
    transport = dict(sections)["transport-udp"]
    assert (transport["protocol"], transport["bind"]) == ("udp", "127.0.0.1:5999")
    anonymous = dict(sections)["anonymous"]
    assert anonymous["context"] == "ivr-inbound"
    assert anonymous["allow"] == "ulaw"
    assert anonymous["dtmf_mode"] == "rfc4733"
    aors = {name: body for name, body in sections if body.get("type") == "aor"}
    assert aors["1001"]["contact"] == "sip:1001@127.0.0.1:6101"
    assert aors["1003"]["contact"] == "sip:1003@127.0.0.1:6103"
    assert all(int(body["qualify_frequency"]) > 0 for name, body in aors.items() if name != "pstn")
    endpoints = {name for name, body in sections if body.get("type") == "endpoint"}
    assert endpoints == {"anonymous", "1001", "1002", "1003", "pstn"}


def test_customers_are_dialled_through_the_pstn_endpoint_on_its_port(configs: dict[str, str]) -> None:
    sections = _sections(configs["pjsip.conf"])
    aor = next(body for name, body in sections if name == "pstn" and body.get("type") == "aor")
    assert aor["contact"] == "sip:127.0.0.1:6190"
    assert "qualify_frequency" not in aor  # a number nobody answers rings out; it is not "unreachable"
    endpoint = next(body for name, body in sections if name == "pstn" and body.get("type") == "endpoint")
    assert (endpoint["aors"], endpoint["context"], endpoint["allow"]) == ("pstn", "pstn", "ulaw")
    pstn = configs["extensions.conf"].split("\n[pstn]", 1)[1].split("\n[", 1)[0]
    assert "Hangup(21)" in pstn  # nothing comes in from the PSTN endpoint


def test_each_service_number_enters_stasis_unanswered(configs: dict[str, str]) -> None:
    text = configs["extensions.conf"]
    assert "exten => 100,1,Stasis(ivr-engine,100)" in text
    assert "exten => 205,1,Stasis(ivr-engine,205)" in text
    assert "Answer" not in text
    inbound = text.split("[ivr-inbound]", 1)[1].split("\n[", 1)[0]
    assert inbound.count("Stasis(") == 2


def test_agent_ports_follow_base_port(settings: Settings) -> None:
    assert [(a.id, a.port) for a in agent_phones(settings)] == [
        ("1001", 6101),
        ("1002", 6102),
        ("1003", 6103),
    ]


def _log_levels(logger_conf: str) -> dict[str, set[str]]:
    files = logger_conf.split("[logfiles]", 1)[1]
    return {
        name.strip(): {level.strip() for level in levels.split(",")}
        for name, levels in (line.split("=>", 1) for line in files.splitlines() if "=>" in line)
    }


def test_logger_writes_full_log_without_dtmf_keys(configs: dict[str, str]) -> None:
    """The ``dtmf`` level would log each key a caller presses (a PIN) in clear; verbose stays for
    the ``> Playing '...'`` lines the lab tests read."""
    levels = _log_levels(configs["logger.conf"])
    assert "verbose(3)" in levels["full"]
    assert all("dtmf" not in found and "debug" not in found for found in levels.values()), levels
    assert "rotatestrategy = rotate" in configs["logger.conf"]


def test_default_moh_class_plays_the_installed_hold_music(configs: dict[str, str]) -> None:
    """The ACD's hold music (ARI's mohClass ``default``) is the wav files sip-lab/install provides."""
    moh = dict(_sections(configs["musiconhold.conf"]))["default"]
    assert moh["mode"] == "files"
    assert moh["directory"] == str(MOH_DIRECTORY) == "/usr/share/asterisk/moh"


def test_modules_conf_is_lean(configs: dict[str, str]) -> None:
    noload = [line.split("=", 1)[1].strip() for line in configs["modules.conf"].splitlines()
              if line.startswith("noload")]  # fmt: skip
    assert {"chan_sip.so", "chan_iax2.so", "chan_skinny.so", "chan_mgcp.so", "chan_dahdi.so"} <= set(noload)
    assert "autoload = yes" in configs["modules.conf"]


def test_render_refuses_without_password(settings: Settings) -> None:
    with pytest.raises(RenderError, match="password"):
        render_configs(replace(settings, ari_password=""), LabPaths.for_state_dir(settings.state_dir))


def test_cli_render_writes_configs_with_generated_secret(tmp_path: Path) -> None:
    out = tmp_path / "out"
    state = tmp_path / "state"
    result = CliRunner().invoke(main, ["--state-dir", str(state), "dialplan", "render", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert (out / "pjsip.conf").exists()
    secret = (state / "secrets.yaml").read_text().split(":", 1)[1].strip()
    assert f"password = {secret}" in (out / "ari.conf").read_text()
    assert (out / "ari.conf").stat().st_mode & 0o077 == 0
