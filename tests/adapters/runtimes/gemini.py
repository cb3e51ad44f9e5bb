"""Gemini CLI's BeforeTool payloads and answers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

RUNTIME = "gemini"


def payload(tool: str, tool_input: dict[str, Any], cwd: Path | str, **extra: Any) -> dict[str, Any]:
    """A BeforeTool event shaped as Gemini CLI sends it (hookRunner writes JSON.stringify(input))."""
    return {
        "session_id": "8a3c1e52-7f0b-4d0e-9a51-2f3f4d5e6a7b",
        "transcript_path": "/home/me/.gemini/tmp/abc/chats/session-2025-12-01T10-30-8a3c1e52.json",
        "cwd": str(cwd),
        "hook_event_name": "BeforeTool",
        "timestamp": "2025-12-01T10:30:00.000Z",
        "tool_name": tool,
        "tool_input": tool_input,
        **extra,
    }


def shell(command: str, cwd: str) -> dict[str, Any]:
    return payload("run_shell_command", {"command": command, "description": "run it"}, cwd)


def write(path: str, content: str, cwd: str) -> dict[str, Any]:
    return payload("write_file", {"file_path": path, "content": content}, cwd)


def read(path: str, cwd: str) -> dict[str, Any]:
    return payload("read_file", {"file_path": path}, cwd)


def mcp(server: str, tool: str, arguments: dict[str, Any], cwd: str) -> dict[str, Any]:
    context = {"server_name": server, "tool_name": tool, "command": "npx", "args": [f"{server}-mcp"]}
    return payload(f"mcp_{server}_{tool}", arguments, cwd, mcp_context=context)


def answer(stdout: str) -> tuple[str, str]:
    out = json.loads(stdout)
    assert set(out) == {"decision", "reason"}, out
    assert out["decision"] in ("allow", "deny")  # Gemini CLI reads anything else as "not blocked"
    assert isinstance(out["reason"], str) and out["reason"]
    return out["decision"], out["reason"]
