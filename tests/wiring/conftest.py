"""Fixtures shared by the wiring tests."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture()
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A project directory (a git checkout); HOME and the XDG dirs inside tmp_path, no
    RINGFENCE_* (nor CODEX_HOME) leaking in."""
    for name in list(os.environ):
        if name.startswith("RINGFENCE_") or name == "CODEX_HOME":
            monkeypatch.delenv(name)
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("XDG_STATE_HOME", str(home / ".local" / "state"))
    monkeypatch.setenv("RINGFENCE_DAEMON", "0")
    project = tmp_path / "repo"
    (project / ".git").mkdir(parents=True)
    yield project
