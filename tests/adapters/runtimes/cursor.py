"""Cursor's hook payloads (beforeShellExecution, preToolUse, beforeReadFile,
beforeMCPExecution) and answers."""

from __future__ import annotations

import json
from typing import Any

RUNTIME = "cursor"


def _common(event: str, cwd: str) -> dict[str, Any]:
    return {
        "conversation_id": "668320d2-2fd3-4c59-9e8b-7a1d1a2b3c4d",
        "generation_id": "490b90b7-5e6f-4a1b-8c9d-0e1f2a3b4c5d",
        "model": "claude-4-sonnet",
        "hook_event_name": event,
        "cursor_version": "2.1.46",
        "workspace_roots": [cwd],
        "user_email": "dev@example.com",
        "transcript_path": "/tmp/cursor-transcripts/668320d2.jsonl",
    }


def shell(command: str, cwd: str) -> dict[str, Any]:
    return {**_common("beforeShellExecution", cwd), "command": command, "cwd": cwd}


def write(path: str, content: str, cwd: str) -> dict[str, Any]:
    return {
        **_common("preToolUse", cwd),
        "tool_name": "Write",
        "tool_input": {"file_path": path, "content": content},
        "tool_use_id": "toolu_cursor_01",
        "cwd": cwd,
    }


def read(path: str, cwd: str) -> dict[str, Any]:
    return {**_common("beforeReadFile", cwd), "file_path": path, "content": "", "attachments": []}


def mcp(server: str, tool: str, arguments: dict[str, Any], cwd: str) -> dict[str, Any]:
    return {
        **_common("beforeMCPExecution", cwd),
        "tool_name": f"MCP:{server}:{tool}",
        "tool_input": json.dumps(arguments),
        "command": f"npx -y @example/{server}-mcp",
    }


def answer(stdout: str) -> tuple[str, str]:
    doc = json.loads(stdout)
    assert doc["permission"] in ("allow", "deny", "ask")
    for key in ("user_message", "agent_message", "userMessage", "agentMessage"):
        assert isinstance(doc[key], str) and doc[key], key
    assert doc["user_message"] == doc["userMessage"] == doc["agent_message"] == doc["agentMessage"]
    return doc["permission"], doc["user_message"]
