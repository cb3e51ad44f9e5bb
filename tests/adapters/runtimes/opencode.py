"""OpenCode's tool.execute.before calls, as ringfence's plugin sends them, and answers."""

from __future__ import annotations

import json
from typing import Any

RUNTIME = "opencode"


def _payload(tool: str, args: dict[str, Any], cwd: str) -> dict[str, Any]:
    return {
        "hook_event_name": "tool.execute.before",
        "tool": tool,
        "sessionID": "ses_4a1b2c3d4e5fX9yZ0aB1cD2eF3",
        "callID": "call_01JD8X2Q5K7M9N3P4R6S8T0V2W",
        "args": args,
        "directory": cwd,
        "worktree": cwd,
        "agent": "build",
    }


def shell(command: str, cwd: str) -> dict[str, Any]:
    return _payload("bash", {"command": command, "description": "Runs the command"}, cwd)


def write(path: str, content: str, cwd: str) -> dict[str, Any]:
    return _payload("write", {"filePath": path, "content": content}, cwd)


def read(path: str, cwd: str) -> dict[str, Any]:
    return _payload("read", {"filePath": path}, cwd)


def mcp(server: str, tool: str, arguments: dict[str, Any], cwd: str) -> dict[str, Any]:
    return _payload(f"{server}_{tool}", arguments, cwd)


def answer(stdout: str) -> tuple[str, str]:
    doc = json.loads(stdout)
    assert set(doc) == {"decision", "reason"}
    assert doc["decision"] in ("allow", "deny")
    assert isinstance(doc["reason"], str) and doc["reason"]
    return doc["decision"], doc["reason"]
