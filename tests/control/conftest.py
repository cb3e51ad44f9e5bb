"""Fixtures for control state tests: a store location on each real backend."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.pg import pg_schema


@pytest.fixture(params=["sqlite", "postgres"])
def state_location(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Where fresh control state lives: a SQLite file, or a PostgreSQL schema of its own."""
    if request.param == "sqlite":
        yield str(tmp_path / "control.db")
        return
    with pg_schema() as url:
        yield url
