"""Shared fixtures: a deterministic sandbox (a fake home and workspace) and a gate."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from ringfence.analyze.context import AnalysisConfig, Context
from ringfence.config import Settings
from ringfence.gate import Gate
from ringfence.model import Action, ActionKind, Decision, Principal, PrincipalType

# The sandbox paths are fixed and need not exist. A workspace and home under /tmp would
# not do: the analysis treats everything under /tmp (and $TMPDIR) as scratch space, so
# `rm -rf ../sibling` or `rm -rf ~/project` next to a /tmp workspace are harmless there,
# while on a developer machine they are deletions outside the workspace.
SANDBOX_HOME = "/home/dev"
SANDBOX_WORKSPACE = "/home/dev/src/app"


@dataclass(frozen=True)
class Sandbox:
    """A workspace (configured as the git top level) and a fake home, and a gate."""

    workspace: Path
    home: Path
    gate: Gate = field(repr=False)

    def context(self) -> Context:
        return Context.for_cwd(str(self.workspace), self.gate.settings.analysis)

    def evaluate(self, command: str, cwd: Path | str | None = None) -> Decision:
        action = Action(ActionKind.SHELL, {"command": command}, cwd=str(cwd or self.workspace))
        return self.gate.evaluate(action, Principal(PrincipalType.AGENT, "test"))


@pytest.fixture(scope="session")
def sandbox() -> Iterator[Sandbox]:
    """The built-in policy with default settings except the workspace root; HOME is the
    sandbox home and no RINGFENCE_* variable leaks in, for the whole session."""
    settings = Settings(analysis=AnalysisConfig(workspace=SANDBOX_WORKSPACE))
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HOME", SANDBOX_HOME)
        for name in list(os.environ):
            if name.startswith("RINGFENCE_"):
                mp.delenv(name)
        yield Sandbox(Path(SANDBOX_WORKSPACE), Path(SANDBOX_HOME), Gate(settings=settings))


@pytest.fixture(params=["sqlite", "postgres"])
def state_location(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Where fresh control state lives: a SQLite file, or a PostgreSQL schema of its own."""
    from tests.pg import pg_schema

    if request.param == "sqlite":
        yield str(tmp_path / "control.db")
        return
    with pg_schema() as url:
        yield url
