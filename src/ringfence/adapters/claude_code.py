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

import json
import os
from collections.abc import Callable, Mapping
from typing import Any

from ringfence.errors import PayloadError
from ringfence.model import Action, ActionKind, Decision, Outcome, Principal, PrincipalType

RUNTIME = "claude-code"
MAX_PAYLOAD_BYTES = 4 * 1024 * 1024
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
    if len(raw) > MAX_PAYLOAD_BYTES:
        raise PayloadError(f"hook payload is {len(raw)} bytes; the limit is {MAX_PAYLOAD_BYTES}")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise PayloadError(f"hook payload is not UTF-8 (byte {exc.start})") from None
    try:
        doc = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as exc:
        where = f" at line {exc.lineno} column {exc.colno}" if isinstance(exc, json.JSONDecodeError) else ""
        raise PayloadError(f"hook payload is not valid JSON{where}") from None
    if not isinstance(doc, dict):
        raise PayloadError("hook payload must be a JSON object")
    event = doc.get("hook_event_name", "PreToolUse")
    if event not in EVENTS:
        raise PayloadError(f"hook_event_name is {event!r}; ringfence handles {' and '.join(EVENTS)}")
    tool = doc.get("tool_name")
    if not isinstance(tool, str) or not tool:
        raise PayloadError("tool_name is missing or not a string")
    tool_input = doc.get("tool_input", {})
    if not isinstance(tool_input, dict):
        raise PayloadError("tool_input must be a JSON object")
    cwd = doc.get("cwd") or env.get("CLAUDE_PROJECT_DIR") or os.getcwd()
    if not isinstance(cwd, str) or not cwd.startswith("/"):
        raise PayloadError("cwd must be an absolute path")
    session = doc.get("session_id")
    principal = Principal(
        type=PrincipalType.AGENT,
        id=env.get("RINGFENCE_AGENT_ID") or RUNTIME,
        runtime=RUNTIME,
        model=_str(doc.get("model")) or env.get("ANTHROPIC_MODEL") or None,
        session=session if isinstance(session, str) else None,
        owner=env.get("RINGFENCE_AGENT_OWNER") or None,  # else the gate fills in agent.owner or $USER
        attributes={"permission_mode": str(doc.get("permission_mode", ""))},
    )
    return str(event), action_for(tool, tool_input, cwd, env=env), principal


def action_for(tool: str, ti: Mapping[str, Any], cwd: str, *, env: Mapping[str, str] | None = None) -> Action:
    environment = (env or {}).get("RINGFENCE_ENV") or None
    if tool == "Bash":
        command = ti.get("command")
        if not isinstance(command, str):
            raise PayloadError("Bash tool_input.command is missing or not a string")
        return Action(ActionKind.SHELL, {"command": command}, cwd=cwd, tool=tool, environment=environment)
    if tool in ("Write", "Edit", "MultiEdit"):
        path = _required_path(ti, "file_path", tool)
        if tool == "Write":
            content = ti.get("content", "")
        elif tool == "Edit":
            content = ti.get("new_string", "")
        else:
            edits = ti.get("edits")
            if not isinstance(edits, list):
                raise PayloadError("MultiEdit tool_input.edits must be a list")
            content = "\n".join(str(e.get("new_string", "")) for e in edits if isinstance(e, dict))
        if not isinstance(content, str):
            raise PayloadError(f"{tool} content must be a string")
        return Action(
            ActionKind.FILE_WRITE,
            {"path": path, "content": content},
            cwd=cwd,
            tool=tool,
            environment=environment,
        )
    if tool == "NotebookEdit":
        path = _required_path(ti, "notebook_path", tool)
        source = ti.get("new_source", "")
        return Action(
            ActionKind.FILE_WRITE,
            {"path": path, "content": source if isinstance(source, str) else ""},
            cwd=cwd,
            tool=tool,
            environment=environment,
        )
    if tool == "Read":
        path = _required_path(ti, "file_path", tool)
        return Action(ActionKind.FILE_READ, {"path": path}, cwd=cwd, tool=tool, environment=environment)
    if tool in ("Grep", "Glob", "LS"):
        path = ti.get("path") or cwd
        if not isinstance(path, str):
            raise PayloadError(f"{tool} tool_input.path must be a string")
        return Action(
            ActionKind.FILE_READ,
            {"path": path, "listing": tool != "Grep"},
            cwd=cwd,
            tool=tool,
            environment=environment,
        )
    if tool.startswith("mcp__"):
        parts = tool.split("__", 2)
        if len(parts) != 3 or not parts[1] or not parts[2]:
            raise PayloadError(f"MCP tool name {tool!r} is not mcp__<server>__<tool>")
        return Action(
            ActionKind.MCP_CALL,
            {"server": parts[1], "tool": parts[2], "arguments": dict(ti)},
            cwd=cwd,
            tool=tool,
            environment=environment,
        )
    if tool in INERT_TOOLS or tool == "WebFetch":
        return Action(ActionKind.OTHER, {"tool": tool}, cwd=cwd, tool=tool, environment=environment)
    raise PayloadError(f"unknown tool {tool!r}: ringfence does not know what it does, so it is not allowed")


def _required_path(ti: Mapping[str, Any], key: str, tool: str) -> str:
    value = ti.get(key)
    if not isinstance(value, str) or not value:
        raise PayloadError(f"{tool} tool_input.{key} is missing or not a string")
    if "\x00" in value:
        raise PayloadError(f"{tool} tool_input.{key} contains a NUL byte")
    return value


def _str(v: Any) -> str | None:
    return v if isinstance(v, str) and v else None


def render(decision: Decision, *, runtime_prompt: bool = True) -> str:
    """The exact stdout line for a decision."""
    mode = decision.principal.attributes.get("permission_mode", "")
    outcome = decision.outcome
    if outcome is Outcome.ALLOW:
        answer, reason = "allow", f"ringfence: {decision.reason}"
    elif outcome is Outcome.REQUIRE_APPROVAL:
        approval = decision.verdict.approval
        allowed = (
            decision.runtime_prompt
            if decision.runtime_prompt is not None
            else approval is not None and approval.runtime_prompt
        )
        can_ask = allowed and runtime_prompt and mode not in UNATTENDED_MODES
        if can_ask:
            answer, reason = "ask", f"ringfence: approval needed — {decision.reason}"
        else:
            answer = "deny"
            reason = f"ringfence: blocked until approved — {decision.reason}"
            if mode in UNATTENDED_MODES:
                reason += " Nobody can answer a prompt in this permission mode, so it is denied."
    else:
        answer, reason = "deny", f"ringfence denied this: {decision.reason}"
    return json.dumps(
        {
            "hookSpecificOutput": {
                "hookEventName": "PreToolUse",
                "permissionDecision": answer,
                "permissionDecisionReason": reason,
            }
        },
        ensure_ascii=False,
    )


def handle(raw: bytes, gate_for: Callable[[str], Any], *, env: Mapping[str, str] | None = None) -> str:
    """Payload bytes → stdout line. Never raises; every failure is a deny."""
    from ringfence.gate import failure

    action: Action | None = None
    principal: Principal | None = None
    try:
        event, action, principal = parse_event(raw, env=env)
        if event == "PostToolUse":
            return _after(action, principal, gate_for)
    except PayloadError as exc:
        if _is_post_tool_use(raw):  # nothing to deny after the fact
            return POST_TOOL_USE_OUTPUT
        return render(failure(None, None, exc, what="could not read the hook payload"))
    except Exception as exc:
        return render(failure(None, None, exc))
    try:
        gate = gate_for(action.cwd)
    except Exception as exc:
        return render(failure(action, principal, exc, what="could not load its configuration"))
    try:
        decision = gate.decide(action, principal)
        return render(decision, runtime_prompt=gate.settings.runtime_prompt)
    except Exception as exc:
        on_error = getattr(getattr(gate, "settings", None), "on_error", "deny")
        return render(failure(action, principal, exc, on_error=on_error))


def _after(action: Action, principal: Principal, gate_for: Callable[[str], Any]) -> str:
    """PostToolUse: the tool ran. If Claude Code's own prompt was shown for it, the person
    there said yes: record that on the request. Nothing to decide, so nothing can be
    denied here; a failure only means the answer is not recorded."""
    try:
        gate_for(action.cwd).prompt_answered(action, principal)
    except Exception as exc:
        import sys

        sys.stderr.write(f"ringfence: could not record the prompt's answer: {exc}\n")
    return POST_TOOL_USE_OUTPUT


def _is_post_tool_use(raw: bytes) -> bool:
    try:
        doc = json.loads(raw)
    except (ValueError, RecursionError):
        return False
    return isinstance(doc, dict) and doc.get("hook_event_name") == "PostToolUse"
