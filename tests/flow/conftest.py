from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from textwrap import dedent

import pytest

from ivr_engine.flow.loader import load_flow
from ivr_engine.flow.model import Flow

from .fakes import Harness

FlowMaker = Callable[..., Flow]


@pytest.fixture
def harness() -> Harness:
    return Harness()


@pytest.fixture
def write_flow(tmp_path: Path) -> Callable[..., Path]:
    def write(text: str, name: str = "t") -> Path:
        path = tmp_path / f"{name}.yaml"
        path.write_text(dedent(text))
        return path

    return write


@pytest.fixture
def make_flow(write_flow: Callable[..., Path]) -> FlowMaker:
    def make(text: str, name: str = "t") -> Flow:
        return load_flow(write_flow(text, name))

    return make
