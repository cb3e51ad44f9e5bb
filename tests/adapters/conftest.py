"""Fixtures of the runtime hook tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import isolated_env, make_workspace


@pytest.fixture()
def env_ws(tmp_path: Path) -> tuple[dict[str, str], Path]:
    """An isolated environment (home, state, no daemon) and a workspace in it."""
    return isolated_env(tmp_path), make_workspace(tmp_path)
