"""The GitHub composite action and the GitLab template run ``ringfence ci gate`` with flags
the CLI really has: their scripts are executed (with a stub ``ringfence`` that records its
argv) and the argv is parsed by the command's own argparse parser, so they cannot drift."""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from ringfence.commands import ci

ROOT = Path(__file__).parents[2] / "integrations"
ACTION = ROOT / "github-action" / "action.yml"
GITLAB = ROOT / "gitlab" / "ringfence.gitlab-ci.yml"
ARTIFACT = "sha256:" + "0f" * 32

STUB = """#!/bin/sh
{python} -c 'import json, sys; json.dump(sys.argv[1:], open("{argv}", "w"))' "$@"
echo '{{"result": "approved", "request": "AR-7K2Q9XMB"}}'
exit {code}
"""


def parse(argv: list[str]) -> argparse.Namespace:
    """``argv`` parsed by the real ``ringfence`` parser for ``ci`` (exits on any unknown flag)."""
    parser = argparse.ArgumentParser(prog="ringfence", exit_on_error=False)
    sub = parser.add_subparsers()
    ci.add_parser(sub)
    try:
        return parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits on unknown arguments even with exit_on_error=False
        raise AssertionError(f"ringfence does not accept {argv}") from exc


def stub(path: Path, argv_file: Path, code: int = 0) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(STUB.format(python=sys.executable, argv=argv_file, code=code))
    path.chmod(path.stat().st_mode | stat.S_IXUSR)


def run_script(script: str, env: dict[str, str], cwd: Path, shell: str = "bash") -> subprocess.CompletedProcess[str]:
    exe = shutil.which(shell)
    assert exe is not None
    return subprocess.run([exe, "-e", "-c", script], env=env, cwd=cwd, capture_output=True, text=True, check=False)


# --- GitHub ----------------------------------------------------------------------------------


def _action() -> dict[str, Any]:
    doc: dict[str, Any] = yaml.safe_load(ACTION.read_text())
    return doc


def test_the_action_declares_what_it_uses_and_never_splices_inputs_into_scripts() -> None:
    doc = _action()
    assert doc["runs"]["using"] == "composite"
    declared = set(doc["inputs"])
    assert {"action", "environment", "artifact", "timeout", "server", "token", "ringfence-spec"} <= declared
    used: set[str] = set()
    for step in doc["runs"]["steps"]:
        assert "${{" not in step["run"], f"step {step['name']!r} splices an expression into its script"
        for value in (step.get("env") or {}).values():
            used |= set(re.findall(r"\$\{\{\s*inputs\.([a-z-]+)\s*\}\}", str(value)))
    assert used == declared, f"declared but unused: {declared - used}; used but undeclared: {used - declared}"
    install = doc["runs"]["steps"][0]
    assert "pip install" in install["run"] and "$RINGFENCE_SPEC" in install["run"]


@pytest.mark.parametrize(
    ("inputs", "expect"),
    [
        (
            {"action": "deploy", "environment": "production", "service": "web", "no-wait": "false"},
            {"action": "deploy", "environment": "production", "service": "web", "no_wait": False},
        ),
        (
            {"action": "merge", "target-branch": "main", "no-wait": "true", "description": "auto-merge #12"},
            {"action": "merge", "target_branch": "main", "no_wait": True, "description": "auto-merge #12"},
        ),
        ({"action": "migration", "environment": "staging"}, {"action": "migration", "environment": "staging"}),
    ],
)
def test_the_action_runs_ci_gate_with_real_flags(
    tmp_path: Path, inputs: dict[str, str], expect: dict[str, Any]
) -> None:
    doc = _action()
    step = next(s for s in doc["runs"]["steps"] if s.get("id") == "gate")
    values = {name: spec.get("default", "") for name, spec in doc["inputs"].items()}
    values.update({"artifact": ARTIFACT, "server": "https://rf.example", "token": "rf1.t", **inputs})
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RINGFENCE_", "INPUT_"))}
    for key, value in step["env"].items():
        m = re.fullmatch(r"\$\{\{\s*inputs\.([a-z-]+)\s*\}\}", value)
        assert m, value
        env[key] = values[m.group(1)]
    runner_temp = tmp_path / "runner"
    argv_file = tmp_path / "argv.json"
    stub(runner_temp / "ringfence-venv" / "bin" / "ringfence", argv_file)
    (runner_temp / "ringfence-venv" / "bin" / "python").symlink_to(sys.executable)
    env.update(RUNNER_TEMP=str(runner_temp), GITHUB_OUTPUT=str(tmp_path / "output"))
    done = run_script(step["run"], env, tmp_path)
    assert done.returncode == 0, done.stderr
    argv = json.loads(argv_file.read_text())
    ns = parse(argv)
    assert ns.run is ci.run_gate and ns.json is True
    assert ns.artifact == ARTIFACT and ns.timeout == "30m"
    for key, value in expect.items():
        assert getattr(ns, key) == value, (key, argv)
    assert (tmp_path / "output").read_text().splitlines() == ["result=approved", "request=AR-7K2Q9XMB"]


def test_the_action_fails_the_job_with_the_gates_exit_code(tmp_path: Path) -> None:
    doc = _action()
    step = next(s for s in doc["runs"]["steps"] if s.get("id") == "gate")
    runner_temp = tmp_path / "runner"
    stub(runner_temp / "ringfence-venv" / "bin" / "ringfence", tmp_path / "argv.json", code=2)
    (runner_temp / "ringfence-venv" / "bin" / "python").symlink_to(sys.executable)
    env = {k: v for k, v in os.environ.items() if not k.startswith("RINGFENCE_")}
    env.update(
        INPUT_ACTION="deploy",
        INPUT_ARTIFACT=ARTIFACT,
        INPUT_ENVIRONMENT="production",
        INPUT_TIMEOUT="5m",
        RUNNER_TEMP=str(runner_temp),
        GITHUB_OUTPUT=str(tmp_path / "output"),
    )
    done = run_script(step["run"], env, tmp_path)
    assert done.returncode == 2
    assert "result=approved" in (tmp_path / "output").read_text()  # outputs are written before the exit


# --- GitLab ----------------------------------------------------------------------------------


def test_the_gitlab_template_is_a_hidden_job_that_runs_ci_gate_with_real_flags(tmp_path: Path) -> None:
    doc = yaml.safe_load(GITLAB.read_text())
    job = doc[".ringfence-gate"]
    assert [k for k in doc if not k.startswith(".")] == [], "the template defines only hidden jobs"
    assert "pip install" in job["before_script"][0] and "$RINGFENCE_GATE_PIP_SPEC" in job["before_script"][0]
    bindir = tmp_path / "bin"
    argv_file = tmp_path / "argv.json"
    stub(bindir / "ringfence", argv_file)
    env = {k: v for k, v in os.environ.items() if not k.startswith("RINGFENCE_")}
    env.update({k: str(v) for k, v in job["variables"].items()})
    env.update(
        RINGFENCE_GATE_ENV="production",
        RINGFENCE_GATE_ARTIFACT=ARTIFACT,
        RINGFENCE_GATE_SERVICE="api",
        RINGFENCE_GATE_NO_WAIT="true",
        PATH=f"{bindir}{os.pathsep}{os.environ['PATH']}",
    )
    done = run_script("\n".join(job["script"]), env, tmp_path, shell="sh")
    assert done.returncode == 0, done.stderr
    ns = parse(json.loads(argv_file.read_text()))
    assert ns.run is ci.run_gate
    assert (ns.action, ns.environment, ns.artifact, ns.service, ns.no_wait, ns.timeout) == (
        "deploy",
        "production",
        ARTIFACT,
        "api",
        True,
        "30m",
    )


def test_the_template_variables_do_not_collide_with_ringfences_own() -> None:
    job = yaml.safe_load(GITLAB.read_text())[".ringfence-gate"]
    own = {"RINGFENCE_ENV", "RINGFENCE_SERVER", "RINGFENCE_TOKEN", "RINGFENCE_AGENT_ID", "RINGFENCE_DAEMON"}
    assert not own & set(job["variables"])
