"""Codex CLI's PreToolUse payloads and answers (``{}`` is "no opinion", which lets the call go on)."""

from __future__ import annotations

import json
from typing import Any

RUNTIME = "codex"


def _payload(tool: str, tool_input: dict[str, Any], cwd: str) -> dict[str, Any]:
    return {
        "session_id": "019a5c1e-codex-sess-1",
        "turn_id": "turn-1",
        "transcript_path": None,
        "cwd": cwd,
        "hook_event_name": "PreToolUse",
        "model": "gpt-5-codex",
        "permission_mode": "default",
        "tool_name": tool,
        "tool_input": tool_input,
        "tool_use_id": "call_01",
    }


def shell(command: str, cwd: str) -> dict[str, Any]:
    return _payload("Bash", {"command": command}, cwd)


def write(path: str, content: str, cwd: str) -> dict[str, Any]:
    lines = "".join(f"+{line}\n" for line in content.splitlines())
    return _payload("apply_patch", {"command": f"*** Begin Patch\n*** Add File: {path}\n{lines}*** End Patch\n"}, cwd)


def read(path: str, cwd: str) -> None:
    return None  # Codex's hooks never see a file read


def mcp(server: str, tool: str, arguments: dict[str, Any], cwd: str) -> dict[str, Any]:
    return _payload(f"mcp__{server}__{tool}", arguments, cwd)


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
