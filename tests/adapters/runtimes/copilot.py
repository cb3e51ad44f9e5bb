"""GitHub Copilot CLI's preToolUse payloads (toolArgs is a JSON-encoded string) and answers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

RUNTIME = "copilot"


def payload(tool: str, args: dict[str, Any] | str, cwd: Path | str, **extra: Any) -> dict[str, Any]:
    """A preToolUse event shaped as Copilot CLI sends it: toolArgs is a JSON string."""
    return {
        "sessionId": "5f2b9c1e-0d4a-4e8b-b7a3-6c1d2e3f4a5b",
        "timestamp": 1704614600000,
        "cwd": str(cwd),
        "toolName": tool,
        "toolArgs": args if isinstance(args, str) else json.dumps(args),
        **extra,
    }


def shell(command: str, cwd: str) -> dict[str, Any]:
    return payload("bash", {"command": command, "description": "run it"}, cwd)


def write(path: str, content: str, cwd: str) -> dict[str, Any]:
    return payload("create", {"path": path, "file_text": content}, cwd)


def read(path: str, cwd: str) -> dict[str, Any]:
    return payload("view", {"path": path}, cwd)


def mcp(server: str, tool: str, arguments: dict[str, Any], cwd: str) -> dict[str, Any] | None:
    # Copilot CLI names MCP tools <server>-<tool>; an unconfigured server other than its
    # built-in github-mcp-server cannot be told from a built-in tool, so only GitHub's
    # server is sent this way here (the configured case is in test_copilot_hook.py).
    if server != "github":
        return None
    return payload(f"github-mcp-server-{tool}", arguments, cwd)


def answer(stdout: str) -> tuple[str, str]:
    out = json.loads(stdout)
    assert set(out) == {"permissionDecision", "permissionDecisionReason"}, out
    assert out["permissionDecision"] in ("allow", "deny")  # ask can be approved without a person
    assert isinstance(out["permissionDecisionReason"], str) and out["permissionDecisionReason"]
    return out["permissionDecision"], out["permissionDecisionReason"]
