"""GitHub Copilot CLI's preToolUse payloads (toolArgs is a JSON-encoded string) and answers."""

from __future__ import annotations

import json
from typing import Any

RUNTIME = "copilot"


def _payload(tool: str, args: dict[str, Any], cwd: str) -> dict[str, Any]:
    return {
        "sessionId": "copilot-sess-1",
        "timestamp": 1704614600000,
        "cwd": cwd,
        "toolName": tool,
        "toolArgs": json.dumps(args),
    }


def shell(command: str, cwd: str) -> dict[str, Any]:
    return _payload("bash", {"command": command, "description": "run it"}, cwd)


def write(path: str, content: str, cwd: str) -> dict[str, Any]:
    return _payload("create", {"path": path, "file_text": content}, cwd)


def read(path: str, cwd: str) -> dict[str, Any]:
    return _payload("view", {"path": path}, cwd)


def mcp(server: str, tool: str, arguments: dict[str, Any], cwd: str) -> dict[str, Any] | None:
    # Copilot CLI names MCP tools <server>-<tool>; an unconfigured server other than its
    # built-in github-mcp-server cannot be told from a built-in tool, so only GitHub's
    # server is sent this way here (the configured case is in test_copilot_hook.py).
    if server != "github":
        return None
    return _payload(f"github-mcp-server-{tool}", arguments, cwd)


def answer(stdout: str) -> tuple[str, str]:
    out = json.loads(stdout)
    assert set(out) == {"permissionDecision", "permissionDecisionReason"}, out
    assert out["permissionDecision"] in ("allow", "deny")  # ask can be approved without a person
    assert isinstance(out["permissionDecisionReason"], str) and out["permissionDecisionReason"]
    return out["permissionDecision"], out["permissionDecisionReason"]
