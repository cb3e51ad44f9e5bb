"""Codex CLI's PreToolUse payloads and answers (``{}`` is "no opinion", which lets the call go on)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

RUNTIME = "codex"


def payload(tool: str, tool_input: Any, cwd: Path | str, **extra: Any) -> dict[str, Any]:
    """A PreToolUse event shaped as Codex sends it (``PreToolUseCommandInput``)."""
    return {
        "session_id": "019a5c1e-7d2f-7c31-9a0e-3b8f6c2d1e44",
        "turn_id": "3",
        "transcript_path": "/home/me/.codex/sessions/2025/12/01/rollout-2025-12-01T10-30-00-019a5c1e.jsonl",
        "cwd": str(cwd),
        "hook_event_name": "PreToolUse",
        "model": "gpt-5-codex",
        "permission_mode": "default",
        "tool_name": tool,
        "tool_input": tool_input,
        "tool_use_id": "call_Jd9wQb0x",
        **extra,
    }


def shell(command: str, cwd: str) -> dict[str, Any]:
    return payload("Bash", {"command": command}, cwd)


def write(path: str, content: str, cwd: str) -> dict[str, Any]:
    lines = "".join(f"+{line}\n" for line in content.splitlines())
    return payload("apply_patch", {"command": f"*** Begin Patch\n*** Add File: {path}\n{lines}*** End Patch\n"}, cwd)


def read(path: str, cwd: str) -> None:
    return None  # Codex's hooks never see a file read


def mcp(server: str, tool: str, arguments: dict[str, Any], cwd: str) -> dict[str, Any]:
    return payload(f"mcp__{server}__{tool}", arguments, cwd)


def answer(stdout: str) -> tuple[str, str]:
    """As Codex reads it: ``{}`` or empty is no objection; a deny needs a non-empty reason;
    allow (without updatedInput) and ask would be rejected as a failed hook, so they fail here."""
    if not stdout.strip():
        return "allow", ""
    doc = json.loads(stdout)
    assert isinstance(doc, dict)
    if doc == {}:
        return "allow", ""
    assert set(doc) == {"hookSpecificOutput"}, doc
    out = doc["hookSpecificOutput"]
    assert out["hookEventName"] == "PreToolUse"
    assert out["permissionDecision"] == "deny", out  # Codex rejects allow-without-updatedInput and ask
    assert isinstance(out["permissionDecisionReason"], str) and out["permissionDecisionReason"].strip()
    return "deny", out["permissionDecisionReason"]
