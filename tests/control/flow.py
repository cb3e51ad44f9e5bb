"""Helpers for end-to-end approval tests: approver keys, a configuration, the CLI."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import yaml

from tests.helpers import RINGFENCE, hook_answer, payload, run_hook

EXAMPLE_POLICY = Path(__file__).parents[2] / "docs" / "examples" / "deploy-two-approvers" / "policy.yaml"
REQUEST_ID = re.compile(r"\bAR-[0-9A-Z]{8}\b")


def cli(
    env: dict[str, str], cwd: Path, *args: str, extra_env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [RINGFENCE, *args],
        env={**env, **(extra_env or {}), "COLUMNS": "200"},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def create_keys(env: dict[str, str], cwd: Path, *names: str) -> dict[str, str]:
    """Create approver keys; returns name -> public key text."""
    out = {}
    for name in names:
        proc = cli(env, cwd, "keys", "create", name)
        assert proc.returncode == 0, proc.stderr
        shown = cli(env, cwd, "keys", "show", name)
        assert shown.returncode == 0, shown.stderr
        out[name] = shown.stdout.strip()
    return out


def write_config(env: dict[str, str], doc: dict[str, Any]) -> Path:
    path = Path(env["XDG_CONFIG_HOME"]) / "ringfence" / "config.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(doc))
    return path


def release_config(keys: dict[str, str], **extra: Any) -> dict[str, Any]:
    """Two-of-release-managers policy; carol owns the agent deploy-bot."""
    return {
        "agent": {"id": "deploy-bot", "owner": "carol"},
        "policy": [str(EXAMPLE_POLICY)],
        "approvers": {name: {"groups": ["release-managers"], "key": key} for name, key in keys.items()},
        **extra,
    }


def deploy(env: dict[str, str], ws: Path, command: str = "vercel deploy --prod") -> dict[str, Any]:
    """The Claude Code hook's answer for an unattended Bash call."""
    data = json.dumps(payload("Bash", {"command": command}, ws, "bypassPermissions")).encode()
    return hook_answer(run_hook(data, env, ws))


def request_id(answer: dict[str, Any]) -> str:
    m = REQUEST_ID.search(str(answer["permissionDecisionReason"]))
    assert m, answer
    return m.group(0)
