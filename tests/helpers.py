"""Helpers shared by tests: an isolated environment and a fake git workspace."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from ringfence.policy.load import Policy

RINGFENCE = str(Path(sys.executable).parent / "ringfence")


def isolated_env(root: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RINGFENCE_")}
    env.update(
        HOME=str(root / "home"),
        XDG_CONFIG_HOME=str(root / "home" / ".config"),
        XDG_STATE_HOME=str(root / "home" / ".local" / "state"),
        XDG_RUNTIME_DIR=str(root / "run"),
        RINGFENCE_DAEMON="0",
    )
    (root / "home").mkdir(parents=True, exist_ok=True)
    (root / "run").mkdir(mode=0o700, parents=True, exist_ok=True)
    env.update(extra)
    return env


def make_workspace(root: Path) -> Path:
    ws = root / "repo"
    (ws / ".git").mkdir(parents=True, exist_ok=True)
    (ws / "src").mkdir(exist_ok=True)
    return ws


def payload(tool: str, tool_input: dict[str, Any], cwd: Path | str, mode: str = "default") -> dict[str, Any]:
    return {
        "session_id": "sess-1",
        "transcript_path": "/tmp/transcript.jsonl",
        "cwd": str(cwd),
        "permission_mode": mode,
        "hook_event_name": "PreToolUse",
        "tool_name": tool,
        "tool_input": tool_input,
        "tool_use_id": "toolu_01",
    }


def run_hook(data: bytes, env: dict[str, str], cwd: Path, timeout: float = 60) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [RINGFENCE, "hook", "claude-code"],
        input=data,
        capture_output=True,
        env=env,
        cwd=cwd,
        timeout=timeout,
        check=False,
    )


def hook_answer(proc: subprocess.CompletedProcess[bytes]) -> dict[str, Any]:
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.decode().splitlines()
    assert len(lines) == 1, f"stdout must be exactly one JSON line, got {proc.stdout!r}"
    doc: dict[str, Any] = json.loads(lines[0])
    assert set(doc) == {"hookSpecificOutput"}
    out: dict[str, Any] = doc["hookSpecificOutput"]
    assert out["hookEventName"] == "PreToolUse"
    assert out["permissionDecision"] in ("allow", "deny", "ask")
    assert isinstance(out["permissionDecisionReason"], str) and out["permissionDecisionReason"]
    return out


def pack_policy(*names: str) -> Policy:
    """A policy of just the named built-in packs (to test packs in isolation)."""
    from importlib import resources

    from ringfence.policy.load import parse_pack

    sources = [(resources.files("ringfence.policy") / "packs" / f"{n}.yaml").read_bytes() for n in names]
    return Policy.from_rules([r for n, src in zip(names, sources, strict=True) for r in parse_pack(src, n)], sources)
