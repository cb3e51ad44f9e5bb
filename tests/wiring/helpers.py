"""Helpers shared by the wiring tests: settings files, the CLI and the doctor."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ringfence.cli import main
from ringfence.commands.doctor import Report, diagnose
from ringfence.wiring.base import Scope


def write(path: Path, doc: Any, indent: int | str = 2) -> str:
    """Write ``doc`` as JSON (with a final newline) to ``path``, creating its directory;
    returns the text written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(doc, indent=indent, ensure_ascii=False) + "\n"
    path.write_text(text, encoding="utf-8")
    return text


def init(runtime: str, project: Path, *options: str) -> int:
    """``ringfence init --agent <runtime> --project-dir <project> <options>``: the exit code."""
    return main(["init", "--agent", runtime, "--project-dir", str(project), *options])


def uninstall(runtime: str, project: Path, *options: str) -> int:
    """``ringfence uninstall --agent <runtime> --project-dir <project> <options>``: the exit code."""
    return main(["uninstall", "--agent", runtime, "--project-dir", str(project), *options])


def doctor(runtime: str, project: Path, *scopes: Scope) -> Report:
    """The doctor's report on ``runtime`` for ``project`` (scope ``project`` unless given),
    with the home the ``isolated`` fixture makes."""
    return diagnose(list(scopes or ["project"]), project, home=project.parent / "home", runtime=runtime, remote=False)


def assert_ok(report: Report) -> None:
    assert report.ok, [(c.name, c.detail) for c in report.failures]
