"""Claude Code's PreToolUse payloads and answers."""

from __future__ import annotations

import json
from typing import Any

from tests.helpers import payload as _payload

RUNTIME = "claude-code"


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
