from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from ivr_engine.commands.prompts import prompts_group
from ivr_engine.config import Settings
from ivr_engine.prompts import EspeakSynthesizer, inspect_wav

from .conftest import CatalogueWriter

CATALOGUE = """\
en:
  welcome: "Welcome."
  goodbye: "Goodbye."
"""


def run(sounds_dir: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(prompts_group, list(args), obj=Settings(sounds_dir=sounds_dir))
    return result.exit_code, result.stdout, result.stderr


def test_build_then_rebuild_then_stale(
    write_catalogue: CatalogueWriter, sounds_dir: Path, espeak: EspeakSynthesizer
) -> None:
    write_catalogue(CATALOGUE)
    code, out, _ = run(sounds_dir, "build")
    assert code == 0, out
    assert "en: 2 built, 0 unchanged, 0 failed" in out
    assert "Audio saved" not in out
    assert inspect_wav(sounds_dir / "en" / "welcome.wav").playable_by_asterisk

    code, out, _ = run(sounds_dir, "build")
    assert (code, out.strip()) == (0, "en: 0 built, 2 unchanged, 0 failed")

    write_catalogue('en:\n  welcome: "Welcome."\n')
    code, out, _ = run(sounds_dir, "build")
    assert out.strip() == "en: 0 built, 1 unchanged, 0 failed; removed 1 stale: goodbye"

    code, out, _ = run(sounds_dir, "build", "--force")
    assert "en: 1 built, 0 unchanged, 0 failed" in out


def test_list_shows_an_aligned_table_with_build_state(
    write_catalogue: CatalogueWriter, sounds_dir: Path, espeak: EspeakSynthesizer
) -> None:
    write_catalogue(CATALOGUE + 'es:\n  welcome: "Bienvenido."\n')
    run(sounds_dir, "build", "--lang", "en")
    write_catalogue(CATALOGUE.replace("Goodbye.", "Goodbye now.") + 'es:\n  welcome: "Bienvenido."\n')
    code, out, _ = run(sounds_dir, "list")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == ["ID", "LANG", "BUILT", "TEXT"]
    rows = [line.split(None, 3) for line in lines[1:]]
    assert rows == [
        ["welcome", "en", "yes", "Welcome."],
        ["goodbye", "en", "outdated", "Goodbye now."],
        ["welcome", "es", "no", "Bienvenido."],
    ]
    text_column = lines[0].index("TEXT")
    assert all(line[text_column - 2 : text_column] == "  " for line in lines)


@pytest.mark.parametrize(
    ("body", "args", "message"),
    [
        ("en:\n  Bad-Id: x\n", ["build"], "prompts.yaml:2: prompt id 'Bad-Id' may use only"),
        (CATALOGUE, ["build", "--lang", "fr"], "no language 'fr'"),
        ("en:\n  hi: [x]\n", ["list"], "prompts.yaml:2:"),
    ],
)
def test_errors_are_one_line_not_a_traceback(
    write_catalogue: CatalogueWriter, sounds_dir: Path, body: str, args: list[str], message: str
) -> None:
    write_catalogue(body)
    code, out, err = run(sounds_dir, *args)
    assert code == 1
    assert message in err
    assert "Traceback" not in out + err


def test_missing_catalogue_is_reported(sounds_dir: Path) -> None:
    code, _, err = run(sounds_dir, "list")
    assert code == 1
    assert "prompt catalogue not found" in err


def test_ivr_prompts_is_registered_on_the_cli(
    write_catalogue: CatalogueWriter,
    sounds_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    espeak: EspeakSynthesizer,
) -> None:
    import cli

    write_catalogue(CATALOGUE)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("IVR_CONFIG", raising=False)
    monkeypatch.setenv("IVR_SOUNDS_DIR", str(sounds_dir))
    result = CliRunner().invoke(cli.main, ["--state-dir", str(tmp_path / "state"), "prompts", "build"])
    assert result.exit_code == 0, result.output
    assert "en: 2 built" in result.output
    built = sorted(p.name for p in (sounds_dir / "en").iterdir())
    assert built == ["goodbye.wav", "manifest.json", "welcome.wav"]
