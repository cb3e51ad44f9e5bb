"""The analysis cache reuses only analyses that read nothing from disk."""

from __future__ import annotations

from pathlib import Path

import pytest

from ringfence.gate import Gate
from ringfence.model import Action, ActionKind, Outcome, Principal, PrincipalType

AGENT = Principal(PrincipalType.AGENT, "t")


@pytest.fixture()
def ws(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("RINGFENCE_ENV", raising=False)
    (tmp_path / "repo" / ".git").mkdir(parents=True)
    return tmp_path / "repo"


def _shell(cmd: str, cwd: Path) -> Action:
    return Action(ActionKind.SHELL, {"command": cmd}, cwd=str(cwd))


def test_pure_analysis_is_reused(ws: Path) -> None:
    gate = Gate()
    first = gate.evaluate(_shell("git status", ws), AGENT)
    second = gate.evaluate(_shell("git status", ws), AGENT)
    assert first.effects is second.effects  # the same tuple: reused, not recomputed
    assert second.outcome is Outcome.ALLOW


def test_a_script_the_command_runs_is_read_every_time(ws: Path) -> None:
    gate = Gate()
    script = ws / "build.sh"
    script.write_text("echo building\n")
    assert gate.evaluate(_shell("bash build.sh", ws), AGENT).outcome is Outcome.ALLOW
    script.write_text("rm -rf /\n")
    assert gate.evaluate(_shell("bash build.sh", ws), AGENT).outcome is Outcome.DENY


def test_context_is_part_of_the_key(ws: Path, tmp_path: Path) -> None:
    gate = Gate()
    other = tmp_path / "elsewhere"
    other.mkdir()
    inside = gate.evaluate(_shell("rm -rf build", ws), AGENT)
    outside = gate.evaluate(_shell("rm -rf build", other), AGENT)
    assert inside.outcome is Outcome.ALLOW
    assert inside.effects is not outside.effects


def test_cache_can_be_disabled(ws: Path) -> None:
    gate = Gate(cache=False)
    a = gate.evaluate(_shell("git status", ws), AGENT)
    b = gate.evaluate(_shell("git status", ws), AGENT)
    assert a.effects == b.effects and a.effects is not b.effects
