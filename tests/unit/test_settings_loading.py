"""Settings from the YAML file, ``IVR_*`` variables and options: bad values name their source, no cwd."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli import main
from ivr_engine import config
from ivr_engine.config import ConfigError, load_settings


@pytest.fixture(autouse=True)
def clean_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No ``IVR_*`` variable from the caller's shell; the project's ivr.yaml is a file of this test;
    the working directory is an unrelated folder."""
    for name in list(os.environ):
        if name.startswith("IVR_"):
            monkeypatch.delenv(name)
    monkeypatch.setattr(config, "DEFAULT_CONFIG_FILE", tmp_path / "project" / "ivr.yaml")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    return elsewhere


def test_a_missing_config_option_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"--config names .*nope\.yaml, which does not exist"):
        load_settings(tmp_path / "nope.yaml")
    result = CliRunner().invoke(main, ["--config", str(tmp_path / "nope.yaml"), "db", "--help"])
    assert result.exit_code == 1
    assert f"Error: --config names {tmp_path / 'nope.yaml'}, which does not exist" in result.output
    assert "Traceback" not in result.output


def test_a_missing_ivr_config_and_an_empty_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IVR_CONFIG", str(tmp_path / "gone.yaml"))
    with pytest.raises(ConfigError, match=r"IVR_CONFIG names .*gone\.yaml, which does not exist"):
        load_settings()
    monkeypatch.setenv("IVR_CONFIG", "")  # empty means unset, as for every IVR_* variable
    assert load_settings().sip_port == 5060


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("IVR_SIP_PORT", "abc", "IVR_SIP_PORT: 'abc' is not an integer"),
        ("IVR_HTTP_PORT", "70000", "IVR_HTTP_PORT: 70000 is not a port number (1-65535)"),
        ("IVR_ARI_PORT", "0", "IVR_ARI_PORT: 0 is not a port number (1-65535)"),
        ("IVR_SERVICE_NUMBERS", "{100: [main", "IVR_SERVICE_NUMBERS: not a YAML mapping"),
        ("IVR_SERVICE_NUMBERS", "[100, main]", "IVR_SERVICE_NUMBERS: [100, 'main'] is not a mapping"),
        ("IVR_STATE_DIR", "   ", "IVR_STATE_DIR: '   ' is not a path"),
    ],
)
def test_a_bad_variable_is_named(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, message: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert str(caught.value).startswith(message)
    result = CliRunner().invoke(main, ["db", "--help"])
    assert result.exit_code == 1
    assert result.output.startswith(f"Error: {message}")


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("sip_port: abc", "sip_port: 'abc' is not an integer"),
        ("sip_port: true", "sip_port: True is not an integer"),
        ("http_port: 123456", "http_port: 123456 is not a port number"),
        ("service_level_target: high", "service_level_target: 'high' is not a number"),
        ("flows_dir: 42", "flows_dir: 42 is not a path"),
        ("ari_user: [a, b]", "ari_user: ['a', 'b'] is not a single value"),
        ("service_numbers: {100: [main]}", "service_numbers: {100: ['main']} is not a mapping"),
        ("colour: blue", "unknown setting 'colour'"),
        ("ari_scheme: wss", "ari_scheme: 'wss' is not one of http, https"),
        ("acd_store: redis", "acd_store: 'redis' is not one of sql, memory"),
        ("event_loop: trio", "event_loop: 'trio' is not one of uvloop, asyncio"),
    ],
)
def test_a_bad_value_in_the_file_names_file_and_key(tmp_path: Path, line: str, message: str) -> None:
    settings_file = tmp_path / "site.yaml"
    settings_file.write_text(f"language: en\n{line}\n")
    with pytest.raises(ConfigError) as caught:
        load_settings(settings_file)
    assert str(caught.value).startswith(f"{settings_file}: {message}")


def test_the_project_ivr_yaml_is_read_from_any_directory(tmp_path: Path) -> None:
    project_file = tmp_path / "project" / "ivr.yaml"
    project_file.parent.mkdir()
    project_file.write_text("sip_port: 5099\nstate_dir: run/state\n")
    (Path.cwd() / "ivr.yaml").write_text("sip_port: 1111\n")  # a file in the cwd is not read
    settings = load_settings()
    assert settings.sip_port == 5099
    assert settings.state_dir == tmp_path / "project" / "run" / "state"  # relative to the file, not cwd


def test_the_default_state_folder_is_the_project_roots(clean_env: Path) -> None:
    settings = load_settings()
    assert settings.state_dir == config.PROJECT_ROOT / ".lab"
    assert settings.db_url == f"sqlite:///{config.PROJECT_ROOT / '.lab' / 'ivr.db'}"


def test_relative_variables_and_options_are_made_absolute_at_load(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("IVR_FLOWS_DIR", "my-flows")
    settings = load_settings(state_dir=Path("state"))
    monkeypatch.chdir(clean_env.parent)
    assert settings.flows_dir == clean_env / "my-flows"
    assert settings.state_dir == clean_env / "state"


def test_variables_win_over_the_file_and_options_over_both(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings_file = tmp_path / "site.yaml"
    settings_file.write_text("sip_port: 5001\nhttp_port: 8001\nari_port: 9001\ndatabase_url:\n")
    monkeypatch.setenv("IVR_HTTP_PORT", "8002")
    monkeypatch.setenv("IVR_ARI_PORT", "9002")
    settings = load_settings(settings_file, ari_port=9003)
    assert (settings.sip_port, settings.http_port, settings.ari_port) == (5001, 8002, 9003)
    assert settings.database_url == ""  # `key:` without a value keeps the default


def test_a_decimal_setting_is_read_as_a_number_from_the_file_and_a_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings_file = tmp_path / "site.yaml"
    settings_file.write_text("service_level_target: 0.9\nservice_level_warning: 1\n")
    monkeypatch.setenv("IVR_SERVICE_LEVEL_WARNING", "0.7")
    settings = load_settings(settings_file)
    assert (settings.service_level_target, settings.service_level_warning) == (0.9, 0.7)
    assert isinstance(settings.service_level_target, float)


def test_ari_over_tls_gives_https_and_wss_urls(monkeypatch: pytest.MonkeyPatch) -> None:
    from ivr_engine.ari.client import AriConfig

    assert load_settings().ari_url == "http://127.0.0.1:8088/ari"
    monkeypatch.setenv("IVR_ARI_SCHEME", "https")
    monkeypatch.setenv("IVR_ARI_HOST", "::1")
    monkeypatch.setenv("IVR_ARI_PORT", "8089")
    settings = load_settings()
    assert settings.ari_url == "https://[::1]:8089/ari"
    assert AriConfig.from_settings(settings).events_url == "wss://[::1]:8089/ari/events"
