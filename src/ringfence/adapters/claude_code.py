"""Claude Code ``PreToolUse`` hooks: the payload in, the decision out.

``PostToolUse`` payloads (the tool already ran) only record, when Claude Code's own
prompt was shown for the action, that the person there allowed it; the hook prints
``{}`` for them and never blocks anything.

Input (stdin JSON): ``session_id``, ``transcript_path``, ``cwd``, ``permission_mode``,
``hook_event_name``, ``tool_name``, ``tool_input``, ``tool_use_id``.

Output (stdout JSON, exit 0)::

    {"hookSpecificOutput": {"hookEventName": "PreToolUse",
                            "permissionDecision": "allow" | "deny" | "ask",
                            "permissionDecisionReason": "..."}}

``allow`` skips Claude Code's own prompt (its deny/ask rules still apply); ``deny``
blocks the call and shows the reason to the model; ``ask`` shows Claude Code's prompt
to the person at the terminal. A require_approval verdict becomes ``ask`` only where
the rule lets the runtime's prompt answer it, the configuration allows runtime prompts,
and someone can answer (not in ``bypassPermissions``/``dontAsk`` mode); otherwise it is a
deny that names the approval needed. Any error becomes a deny: Claude Code treats a
crashed hook as "allow", so this module never lets an exception escape.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from ringfence.adapters import base
from ringfence.adapters.base import MAX_PAYLOAD_BYTES
from ringfence.adapters.contracts import answer_line
from ringfence.errors import PayloadError
from ringfence.model import Action, Decision, Outcome, Principal

__all__ = ["ADAPTER", "MAX_PAYLOAD_BYTES", "action_for", "handle", "parse", "parse_event", "render"]

RUNTIME = "claude-code"
UNATTENDED_MODES = frozenset({"bypassPermissions", "dontAsk"})
EVENTS = ("PreToolUse", "PostToolUse")
#: What the hook prints for PostToolUse: no decision (the tool already ran).
POST_TOOL_USE_OUTPUT = "{}"

# Tools that only touch Claude Code's own state or the web: nothing for the gate to judge.
INERT_TOOLS = frozenset(
    {
        "Task",
        "Agent",
        "TodoWrite",
        "TodoRead",
        "WebSearch",
        "ExitPlanMode",
        "BashOutput",
        "KillShell",
        "KillBash",
        "SlashCommand",
        "Skill",
        "AskUserQuestion",
        "ListMcpResourcesTool",
        "ReadMcpResourceTool",
        "EnterPlanMode",
        "TaskOutput",
        "TaskStop",
    }
)


def parse(raw: bytes, *, env: Mapping[str, str] | None = None) -> tuple[Action, Principal]:
    """The :class:`Action` and :class:`Principal` in a PreToolUse payload.

    Raises :class:`PayloadError` with a precise message for anything off-contract.
    """
    event, action, principal = parse_event(raw, env=env)
    if event != "PreToolUse":
        raise PayloadError(f"hook_event_name is {event!r}; ringfence decides on PreToolUse")
    return action, principal


def parse_event(raw: bytes, *, env: Mapping[str, str] | None = None) -> tuple[str, Action, Principal]:
    """The event name (``PreToolUse`` or ``PostToolUse``), action and principal of a payload."""
    env = os.environ if env is None else env
    doc = base.read_object(raw)
    event = doc.get("hook_event_name", "PreToolUse")
    if event not in EVENTS:
        raise PayloadError(f"hook_event_name is {event!r}; ringfence handles {' and '.join(EVENTS)}")
    tool = base.required_str(doc, "tool_name")
    tool_input = base.required_object(doc, "tool_input", default_empty=True)
    cwd = base.absolute_dir(doc.get("cwd") or env.get("CLAUDE_PROJECT_DIR") or os.getcwd())
    principal = base.agent(
        RUNTIME,
        env,
        session=doc.get("session_id"),
        model=base.optional_text(doc.get("model")) or env.get("ANTHROPIC_MODEL"),
        attributes={"permission_mode": str(doc.get("permission_mode", ""))},
    )
    return str(event), action_for(tool, tool_input, cwd, env=env), principal


def action_for(tool: str, ti: Mapping[str, Any], cwd: str, *, env: Mapping[str, str] | None = None) -> Action:
    """The action Claude Code's ``tool`` with input ``ti`` takes."""
    if tool == "Bash":
        return base.shell(ti.get("command"), cwd, tool, env, where="Bash tool_input.command")
    if tool in ("Write", "Edit", "MultiEdit"):
        path = base.required_str(ti, "file_path", f"{tool} tool_input")
        if tool == "Write":
            content = ti.get("content", "")
        elif tool == "Edit":
            content = ti.get("new_string", "")
        else:
            content = base.joined_edits(ti.get("edits"), "new_string", "MultiEdit tool_input.edits")
        return base.file_write(path, content, cwd, tool, env)
    if tool == "NotebookEdit":
        path = base.required_str(ti, "notebook_path", f"{tool} tool_input")
        source = ti.get("new_source", "")
        return base.file_write(path, source if isinstance(source, str) else "", cwd, tool, env)
    if tool == "Read":
        return base.file_read(base.required_str(ti, "file_path", f"{tool} tool_input"), cwd, tool, env)
    if tool in ("Grep", "Glob", "LS"):
        where = f"{tool} tool_input.path"
        return base.directory_read(ti.get("path"), cwd, tool, env, where=where, listing=tool != "Grep")
    if tool.startswith("mcp__"):
        parts = tool.split("__", 2)
        if len(parts) != 3 or not parts[1] or not parts[2]:
            raise PayloadError(f"MCP tool name {tool!r} is not mcp__<server>__<tool>")
        return base.mcp(parts[1], parts[2], dict(ti), cwd, tool, env)
    if tool in INERT_TOOLS or tool == "WebFetch":
        return base.inert(tool, cwd, env)
    raise base.unknown_tool(tool)


def render(decision: Decision, *, runtime_prompt: bool = True) -> str:
    """The exact stdout line for a decision."""
    mode = decision.principal.attributes.get("permission_mode", "")
    attended = mode not in UNATTENDED_MODES
    answer, reason = base.wording(decision, can_ask=runtime_prompt and attended)
    if decision.outcome is Outcome.REQUIRE_APPROVAL and not attended:
        reason += " Nobody can answer a prompt in this permission mode, so it is denied."
    return answer_line(RUNTIME, answer, reason)


ADAPTER = base.HookAdapter(
    RUNTIME,
    render,
    parse_event=parse_event,
    after_events=frozenset({"PostToolUse"}),
    after_line=POST_TOOL_USE_OUTPUT,
)
handle = ADAPTER.handle
