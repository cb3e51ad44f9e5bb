"""Claude Code's PreToolUse payloads and answers."""

from __future__ import annotations

import json
from typing import Any

RUNTIME = "claude-code"


def _payload(tool: str, tool_input: dict[str, Any], cwd: str) -> dict[str, Any]:
    return {
        "session_id": "sess-1",
        "transcript_path": "/tmp/transcript.jsonl",
        "cwd": cwd,
        "permission_mode": "default",
        "hook_event_name": "PreToolUse",
        "tool_name": tool,
        "tool_input": tool_input,
        "tool_use_id": "toolu_01",
    }


def shell(command: str, cwd: str) -> dict[str, Any]:
    return _payload("Bash", {"command": command}, cwd)


def write(path: str, content: str, cwd: str) -> dict[str, Any]:
    return _payload("Write", {"file_path": path, "content": content}, cwd)


def read(path: str, cwd: str) -> dict[str, Any]:
    return _payload("Read", {"file_path": path}, cwd)


def mcp(server: str, tool: str, arguments: dict[str, Any], cwd: str) -> dict[str, Any]:
    return _payload(f"mcp__{server}__{tool}", arguments, cwd)


def answer(stdout: str) -> tuple[str, str]:
    out = json.loads(stdout)["hookSpecificOutput"]
    assert out["hookEventName"] == "PreToolUse"
    assert out["permissionDecision"] in ("allow", "deny", "ask")
    return out["permissionDecision"], out["permissionDecisionReason"]
