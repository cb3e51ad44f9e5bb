"""GitHub Copilot CLI ``preToolUse`` hooks: the payload in, the decision out.

Copilot CLI runs each ``preToolUse`` command hook (from ``.github/hooks/*.json`` and
``~/.copilot/hooks/*.json``) before every tool call, with the event as JSON on stdin.

Input (stdin JSON, the camelCase format of the ``preToolUse`` event name)::

    {"timestamp": 1704614600000, "cwd": "/path/to/project", "sessionId": "...",
     "toolName": "bash",
     "toolArgs": "{\\"command\\":\\"rm -rf dist\\",\\"description\\":\\"Clean\\"}"}

``toolArgs`` is the tool's arguments **as a JSON-encoded string**; it is decoded strictly
(a value that is not a string, a string that is not JSON, or JSON that is not an object
is off-contract and denied). ``sessionId`` is sent by current versions only.

Output (stdout JSON, exit 0)::

    {"permissionDecision": "allow" | "deny", "permissionDecisionReason": "..."}

``deny`` blocks the call and the reason is shown; ``allow`` leaves the call to Copilot
CLI's own permission rules. Copilot CLI's ``ask`` is never sent: versions before 1.0
ignore it (the tool runs), 1.0.53–1.0.56 approve it on their own, and ``--allow-all-tools``
/ ``--yolo`` approve it without a person, so a require_approval verdict is a deny that
names the approval request.

Copilot CLI logs and skips a hook that fails — a non-zero exit (2 included) or a timeout
lets the tool run — so this module answers every payload, an off-contract one included,
with one JSON line and exit 0, and never lets an exception escape.

Tools: ``bash`` and ``powershell`` (a shell command; PowerShell is analysed as
PowerShell), ``write_bash``/``write_powershell`` (text typed into a running shell: judged
as a command), ``view``/``show_file`` (reads), ``create``/``edit``/``str_replace``/``insert``/
``undo_edit`` and the older ``str_replace_editor`` (writes), ``glob``/``grep`` (reads of
a directory), MCP tools named ``<server>-<tool>`` (a configured server, or the built-in
``github-mcp-server``), and Copilot's own bookkeeping tools (nothing to judge).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from ringfence.adapters import base
from ringfence.errors import PayloadError
from ringfence.jsontype import json_type
from ringfence.model import Action, Decision, Principal

__all__ = ["ADAPTER", "EVENT", "INERT_TOOLS", "action_for", "decode_tool_args", "handle", "parse", "render"]

RUNTIME = "copilot"
EVENT = "preToolUse"

SHELLS = {"bash": "", "powershell": "powershell", "search_bash": ""}
SHELL_INPUT = {"write_bash": "", "write_powershell": "powershell"}
READ_TOOLS = ("view", "show_file")
WRITE_TOOLS = ("create", "edit", "str_replace", "insert", "undo_edit")
EDITOR = "str_replace_editor"
EDITOR_COMMANDS = ("view", *WRITE_TOOLS)

#: Tools that manage Copilot CLI's own state (shell sessions it already started, plans,
#: intents, sub-agents), ask the user, or read the web: nothing for the gate to judge.
INERT_TOOLS = frozenset(
    {
        "read_bash",
        "stop_bash",
        "list_bash",
        "read_powershell",
        "stop_powershell",
        "list_powershell",
        "web_fetch",
        "report_intent",
        "think",
        "update_todo",
        "task",
        "ask_user",
        "skill",
        "list_agents",
        "read_agent",
        "exit_plan_mode",
        "fetch_copilot_cli_documentation",
        "propose_work",
        "task_complete",
    }
)


def decode_tool_args(value: Any) -> dict[str, Any]:
    """``toolArgs``: a JSON-encoded string holding an object, decoded strictly."""
    if value is None:
        raise PayloadError("toolArgs is missing (Copilot CLI sends the tool's arguments as a JSON-encoded string)")
    if not isinstance(value, str):
        raise PayloadError(
            f"toolArgs is a JSON {json_type(value)}, but Copilot CLI sends a JSON-encoded string of an object"
        )
    decoded = base.decode_json(value, "toolArgs")
    if not isinstance(decoded, dict):
        raise PayloadError(f"toolArgs must encode a JSON object, not a JSON {json_type(decoded)}")
    return decoded


def parse(raw: bytes, *, env: Mapping[str, str] | None = None) -> tuple[Action, Principal]:
    """The :class:`Action` and :class:`Principal` of a ``preToolUse`` payload.

    Raises :class:`PayloadError` with a precise message for anything off-contract.
    """
    env = os.environ if env is None else env
    doc = base.read_object(raw)
    if "toolName" not in doc and ("tool_name" in doc or "hook_event_name" in doc):
        raise PayloadError(
            "this is the VS Code-compatible payload of the PascalCase PreToolUse event; ringfence reads the "
            f"camelCase {EVENT} event's payload: run `ringfence init --agent copilot`"
        )
    tool = base.required_str(doc, "toolName")
    args = decode_tool_args(doc.get("toolArgs"))
    cwd = base.absolute_dir(doc.get("cwd"))
    stamp = doc.get("timestamp")
    if stamp is not None and (isinstance(stamp, bool) or not isinstance(stamp, int | float)):
        raise PayloadError("timestamp must be a number (Unix time in milliseconds)")
    principal = base.agent(
        RUNTIME,
        env,
        session=doc.get("sessionId"),
        model=env.get("COPILOT_MODEL"),
    )
    return action_for(tool, args, cwd, env=env), principal


def _str(args: Mapping[str, Any], key: str, tool: str, *, default: str | None = None) -> str:
    value = args.get(key)
    if value is None and default is not None:
        return default
    if not isinstance(value, str) or (not value and default is None):
        raise PayloadError(f"{tool} toolArgs.{key} is missing or not a string")
    if "\x00" in value:
        raise PayloadError(f"{tool} toolArgs.{key} contains a NUL byte")
    return value


def _edit(command: str, args: Mapping[str, Any], cwd: str, tool: str, env: Mapping[str, str] | None) -> Action:
    path = _str(args, "path", tool)
    if command == "view":
        return base.file_read(path, cwd, tool, env)
    if command == "create":
        content: Any = args.get("file_text", "")
    elif command == "undo_edit":
        content = ""  # the file goes back to an earlier content ringfence cannot see: a write of the path
    else:
        content = args.get("new_str", "")
    if not isinstance(content, str):
        raise PayloadError(f"{tool} toolArgs.{'file_text' if command == 'create' else 'new_str'} must be a string")
    return base.file_write(path, content, cwd, tool, env)


def action_for(tool: str, args: Mapping[str, Any], cwd: str, *, env: Mapping[str, str] | None = None) -> Action:
    """The action Copilot CLI's ``tool`` with decoded ``toolArgs`` ``args`` takes."""
    if tool in SHELLS:
        return base.shell(args.get("command"), cwd, tool, env, where=f"{tool} toolArgs.command", dialect=SHELLS[tool])
    if tool in SHELL_INPUT:
        return base.shell(args.get("input"), cwd, tool, env, where=f"{tool} toolArgs.input", dialect=SHELL_INPUT[tool])
    if tool in READ_TOOLS:
        return base.file_read(_str(args, "path", tool), cwd, tool, env)
    if tool in WRITE_TOOLS:
        return _edit(tool, args, cwd, tool, env)
    if tool == EDITOR:
        command = _str(args, "command", tool)
        if command not in EDITOR_COMMANDS:
            raise PayloadError(f"{tool} toolArgs.command is {command!r}, not one of {', '.join(EDITOR_COMMANDS)}")
        return _edit(command, args, cwd, tool, env)
    if tool == "glob":
        return base.glob_read(_str(args, "pattern", tool), _str(args, "path", tool, default=cwd), cwd, tool, env)
    if tool == "grep":
        return base.file_reads([_str(args, "path", tool, default=cwd)], cwd, tool, env, listing=False)
    if tool in INERT_TOOLS:
        return base.inert(tool, cwd, env)
    server_tool = base.mcp_name(tool, cwd)  # <server>-<tool>: only a configured server or github-mcp-server
    if server_tool is not None:
        return base.mcp(server_tool[0], server_tool[1], dict(args), cwd, tool, env)
    raise base.unknown_tool(tool)


def render(decision: Decision, *, runtime_prompt: bool = False) -> str:
    """The exact stdout line for a decision (``runtime_prompt`` is unused: Copilot CLI's
    ``ask`` can be approved without a person, see the module documentation)."""
    return base.answer(RUNTIME, decision)


ADAPTER = base.HookAdapter(RUNTIME, render, parse)  # wired on preToolUse only: nothing after the fact
handle = ADAPTER.handle
