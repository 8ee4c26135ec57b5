from __future__ import annotations

from pathlib import Path

import pytest

from ivr_engine.prompts import CatalogueError, UnknownPrompt, load_catalogue

from .conftest import CatalogueWriter

GOOD = """\
en:
  welcome: "Welcome to the service."
  main_menu: >
    For your balance, press 1.
    For an agent, press 0.
es:
  welcome: "Bienvenido."
"""


def test_loads_languages_ids_and_texts_in_file_order(write_catalogue: CatalogueWriter) -> None:
    catalogue = load_catalogue(write_catalogue(GOOD))
    assert catalogue.languages() == ["en", "es"]
    assert catalogue.ids("en") == ["welcome", "main_menu"]
    assert catalogue.text("welcome", "es") == "Bienvenido."
    assert catalogue.text("main_menu", "en") == "For your balance, press 1. For an agent, press 0."
    assert catalogue.has("welcome", "en")
    assert not catalogue.has("main_menu", "es")
    assert catalogue.ids("fr") == []
    assert catalogue.entry("main_menu", "en").line == 3


def test_unknown_prompt_is_a_clear_error(write_catalogue: CatalogueWriter) -> None:
    catalogue = load_catalogue(write_catalogue(GOOD))
    with pytest.raises(UnknownPrompt, match="no prompt 'goodbye' for language 'en'"):
        catalogue.text("goodbye", "en")


def test_wav_paths_and_missing_audio(write_catalogue: CatalogueWriter, sounds_dir: Path) -> None:
    catalogue = load_catalogue(write_catalogue(GOOD))
    assert catalogue.wav_path("welcome", "en") == sounds_dir / "en" / "welcome.wav"
    assert catalogue.missing_audio("en") == ["welcome", "main_menu"]
    (sounds_dir / "en").mkdir()
    (sounds_dir / "en" / "welcome.wav").write_bytes(b"")
    assert catalogue.missing_audio("en") == ["main_menu"]


def test_sounds_dir_can_differ_from_the_catalogue_folder(
    write_catalogue: CatalogueWriter, tmp_path: Path
) -> None:
    catalogue = load_catalogue(write_catalogue(GOOD), sounds_dir=tmp_path / "built")
    assert catalogue.wav_path("welcome", "es") == tmp_path / "built" / "es" / "welcome.wav"


def test_empty_file_is_an_empty_catalogue(write_catalogue: CatalogueWriter) -> None:
    catalogue = load_catalogue(write_catalogue("# nothing yet\n"))
    assert catalogue.languages() == []


@pytest.mark.parametrize(
    ("body", "line", "message"),
    [
        ("en:\n  Welcome: hi\n", 2, "may use only a-z, 0-9 and _"),
        ("en:\n  good-bye: hi\n", 2, "may use only a-z, 0-9 and _"),
        ("en:\n  hi: one\n  hi: two\n", 3, "'hi' appears twice"),
        ("en:\n  hi:\n", 2, "must be a single string"),
        ("en:\n  hi: ''\n", 2, "has no text"),
        ("en:\n  hi: [a, b]\n", 2, "must be a single string"),
        ("en:\n  - hi\n", 2, "expected a mapping of prompt_id -> text"),
        ("English:\n  hi: x\n", 1, "not a language code"),
        ("en:\n  a: x\nen:\n  b: y\n", 3, "language 'en' appears twice"),
        ("- en\n", 1, "expected a mapping of language"),
        ("en:\n  hi: x\n    bye: y\n", 3, "not valid YAML: mapping values are not allowed"),
    ],
)
def test_malformed_catalogue_names_file_and_line(
    write_catalogue: CatalogueWriter, body: str, line: int, message: str
) -> None:
    path = write_catalogue(body)
    with pytest.raises(CatalogueError, match=message) as caught:
        load_catalogue(path)
    assert caught.value.line == line
    assert str(caught.value).startswith(f"{path}:{line}: ")


def test_missing_catalogue_file(tmp_path: Path) -> None:
    with pytest.raises(CatalogueError, match="prompt catalogue not found"):
        load_catalogue(tmp_path / "prompts.yaml")


def test_the_project_catalogue_loads() -> None:
    path = Path(__file__).resolve().parents[2] / "sounds" / "prompts.yaml"
    catalogue = load_catalogue(path)
    assert "en" in catalogue.languages()
    assert catalogue.ids("en")
