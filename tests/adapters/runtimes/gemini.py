"""Gemini CLI's BeforeTool payloads and answers."""

from __future__ import annotations

import json
from typing import Any

RUNTIME = "gemini"


def _payload(tool: str, tool_input: dict[str, Any], cwd: str, **extra: Any) -> dict[str, Any]:
    return {
        "session_id": "gemini-sess-1",
        "transcript_path": "/tmp/gemini-transcript.json",
        "cwd": cwd,
        "hook_event_name": "BeforeTool",
        "timestamp": "2025-12-01T10:30:00.000Z",
        "tool_name": tool,
        "tool_input": tool_input,
        **extra,
    }


def shell(command: str, cwd: str) -> dict[str, Any]:
    return _payload("run_shell_command", {"command": command, "description": "run it"}, cwd)


def write(path: str, content: str, cwd: str) -> dict[str, Any]:
    return _payload("write_file", {"file_path": path, "content": content}, cwd)


def read(path: str, cwd: str) -> dict[str, Any]:
    return _payload("read_file", {"file_path": path}, cwd)


def mcp(server: str, tool: str, arguments: dict[str, Any], cwd: str) -> dict[str, Any]:
    context = {"server_name": server, "tool_name": tool, "command": "npx", "args": [f"{server}-mcp"]}
    return _payload(f"mcp_{server}_{tool}", arguments, cwd, mcp_context=context)


def answer(stdout: str) -> tuple[str, str]:
    out = json.loads(stdout)
    assert set(out) == {"decision", "reason"}, out
    assert out["decision"] in ("allow", "deny")  # Gemini CLI reads anything else as "not blocked"
    assert isinstance(out["reason"], str) and out["reason"]
    return out["decision"], out["reason"]
