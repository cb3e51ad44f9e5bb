"""Cursor agent hooks: the payload in, the decision out.

Cursor calls one command per hook event with a JSON object on stdin. Every event
carries ``conversation_id``, ``generation_id``, ``hook_event_name``, ``workspace_roots``
and, in current versions, ``model``, ``cursor_version`` and ``user_email``. ringfence
decides on four events:

=======================  ==========================================  ===================
event                    fields ringfence reads                      answers
=======================  ==========================================  ===================
``beforeShellExecution`` ``command``, ``cwd`` (may be empty)         allow / deny / ask
``beforeMCPExecution``   ``tool_name``, ``tool_input`` (a JSON       allow / deny / ask
                         string in most versions, an object in
                         some), ``url`` or ``command`` of the server
``beforeReadFile``       ``file_path`` (``content``, ``attachments``  allow / deny
                         are not needed)
``preToolUse``           ``tool_name``, ``tool_input``, ``cwd``,     allow / deny
                         ``tool_use_id``
=======================  ==========================================  ===================

``afterShellExecution`` and ``afterMCPExecution`` (the tool already ran) only record,
when Cursor's own prompt was shown for the action, that the person there allowed it;
the hook prints ``{}`` for them.

Output (stdout JSON, exit 0)::

    {"continue": true, "permission": "allow" | "deny" | "ask",
     "user_message": "...", "agent_message": "...",
     "userMessage": "...", "agentMessage": "..."}

Cursor 1.7 read the camelCase message fields and 2.x reads the snake_case ones; both are
sent so every version shows the reason to the person and to the agent. ``ask`` (Cursor's
own approval prompt) is sent only on the two events that honour it, and only where the
rule and the configuration let a runtime prompt answer the approval; ``beforeReadFile``
and ``preToolUse`` take allow or deny, so there a require_approval is a deny naming the
approval request. Any error becomes a deny: Cursor lets the action run when a hook fails
(unless the hook is marked ``failClosed``), so this module never lets an exception escape.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any

from ringfence.adapters import base
from ringfence.errors import PayloadError
from ringfence.model import Action, Decision, Principal

__all__ = ["ADAPTER", "EVENTS", "action_for", "handle", "parse", "render"]

RUNTIME = "cursor"
SHELL_EVENT = "beforeShellExecution"
MCP_EVENT = "beforeMCPExecution"
READ_EVENT = "beforeReadFile"
TOOL_EVENT = "preToolUse"
#: The events ringfence decides on.
EVENTS = (SHELL_EVENT, MCP_EVENT, READ_EVENT, TOOL_EVENT)
#: After-the-fact events: the tool ran; a prompt's answer is recorded, nothing is decided.
AFTER_EVENTS = ("afterShellExecution", "afterMCPExecution")
#: The events on which Cursor shows its own approval prompt for ``ask``.
ASK_EVENTS = frozenset({SHELL_EVENT, MCP_EVENT})
AFTER_OUTPUT = "{}"

#: ``preToolUse`` tool names (Cursor's agent tools) that write or delete a file.
WRITE_TOOLS = frozenset({"Write", "Edit", "StrReplace", "MultiEdit", "TabWrite"})
DELETE_TOOLS = frozenset({"Delete", "DeleteFile"})
NOTEBOOK_TOOLS = frozenset({"EditNotebook", "NotebookEdit"})
READ_TOOLS = frozenset({"Read", "ReadFile"})
LISTING_TOOLS = frozenset({"Grep", "Glob", "LS", "List"})
#: Tools that only touch Cursor's own state or the web: nothing for the gate to judge.
INERT_TOOLS = frozenset(
    {
        "Task",
        "TodoWrite",
        "TodoRead",
        "WebSearch",
        "WebFetch",
        "SemanticSearch",
        "CodebaseSearch",
        "ReadLints",
        "AskQuestion",
        "SwitchMode",
        "CreatePlan",
        "FetchRules",
        "ListMcpResources",
        "FetchMcpResource",
    }
)
_PATH_KEYS = ("file_path", "path", "target_file", "filePath")
_CONTENT_KEYS = ("content", "contents", "new_string", "code_edit", "new_source")


def _event(doc: Mapping[str, Any]) -> str:
    event = doc.get("hook_event_name")
    if not isinstance(event, str) or not event:
        raise PayloadError("hook_event_name is missing or not a string")
    if event not in EVENTS and event not in AFTER_EVENTS:
        raise PayloadError(
            f"hook_event_name is {event!r}; ringfence decides on {', '.join(EVENTS)} "
            "(wire it with `ringfence init --agent cursor`)"
        )
    return event


def _cwd(doc: Mapping[str, Any], env: Mapping[str, str]) -> str:
    """The directory the action runs in: ``cwd`` (Cursor sends an empty one for some
    commands), else the first workspace root, else ``$CURSOR_PROJECT_DIR``."""
    cwd = doc.get("cwd")
    if cwd not in (None, ""):
        return base.absolute_dir(cwd)
    roots = doc.get("workspace_roots")
    if roots is not None and not isinstance(roots, list):
        raise PayloadError("workspace_roots must be a list of paths")
    if roots:
        return base.absolute_dir(roots[0], "workspace_roots[0]")
    return base.absolute_dir(env.get("CURSOR_PROJECT_DIR") or os.getcwd())


def parse_event(raw: bytes, *, env: Mapping[str, str] | None = None) -> tuple[str, Action, Principal]:
    """The event name, action and principal of a Cursor hook payload. Raises
    :class:`PayloadError` with a precise message for anything off-contract."""
    env = os.environ if env is None else env
    doc = base.read_object(raw)
    event = _event(doc)
    cwd = _cwd(doc, env)
    principal = base.agent(
        RUNTIME,
        env,
        session=doc.get("conversation_id"),
        model=base.optional_text(doc.get("model")),
        attributes={"cursor_event": event, **base.texts(doc, {"cursor_version": "cursor_version"})},
    )
    if event in (SHELL_EVENT, "afterShellExecution"):
        action = base.shell(doc.get("command"), cwd, "Shell", env, where=f"{event} command")
    elif event in (MCP_EVENT, "afterMCPExecution"):
        action = _mcp_event(doc, cwd, env)
    elif event == READ_EVENT:
        action = base.file_read(base.required_str(doc, "file_path"), cwd, "Read", env)
    else:
        tool = base.required_str(doc, "tool_name")
        action = action_for(tool, _tool_input(doc, tool), cwd, env=env)
    return event, action, principal


def parse(raw: bytes, *, env: Mapping[str, str] | None = None) -> tuple[Action, Principal]:
    """The action and principal of a payload for one of :data:`EVENTS`."""
    event, action, principal = parse_event(raw, env=env)
    if event not in EVENTS:
        raise PayloadError(f"hook_event_name is {event!r}: the tool already ran, there is nothing to decide")
    return action, principal


def _tool_input(doc: Mapping[str, Any], tool: str) -> dict[str, Any]:
    """``tool_input``: an object, or a JSON string holding one (``beforeMCPExecution``)."""
    value = doc.get("tool_input", {})
    if isinstance(value, str):
        if not value.strip():
            return {}
        try:
            value = json.loads(value)
        except (ValueError, RecursionError):
            raise PayloadError(f"tool_input of {tool!r} is a string but not JSON") from None
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise PayloadError(f"tool_input of {tool!r} must be a JSON object (or a JSON string holding one)")
    return value


def split_mcp_name(name: str, doc: Mapping[str, Any] | None = None) -> tuple[str, str]:
    """``(server, tool)`` of an MCP tool as Cursor names it: ``MCP:<server>:<tool>``,
    ``MCP:<tool>``, ``mcp__<server>__<tool>``/``mcp_<server>_<tool>``, or a bare tool name
    (``beforeMCPExecution``). A server Cursor does not name is ``""`` (the heuristics then
    judge the call by its tool name and arguments alone)."""
    from ringfence.analyze.mcp_names import parse_mcp_tool

    rest = name[4:] if name[:4].upper() == "MCP:" else name
    server = ""
    if doc is not None:
        server = base.optional_text(doc.get("server_name")) or base.optional_text(doc.get("server")) or ""
    if not server and ":" in rest:
        head, _, tail = rest.partition(":")
        if head and tail:
            return head, tail
    if not server and rest.startswith("mcp_"):
        parsed = parse_mcp_tool(rest)
        if parsed is not None:
            return parsed
    if not rest:
        raise PayloadError(f"MCP tool name {name!r} names no tool")
    return server, rest


def _mcp_event(doc: Mapping[str, Any], cwd: str, env: Mapping[str, str]) -> Action:
    name = base.required_str(doc, "tool_name")
    server, tool = split_mcp_name(name, doc)
    return base.mcp(server, tool, _tool_input(doc, name), cwd, name, env)


def _first_str(ti: Mapping[str, Any], keys: tuple[str, ...], tool: str, what: str) -> str:
    for key in keys:
        value = ti.get(key)
        if value is None:
            continue
        if not isinstance(value, str) or not value:
            raise PayloadError(f"{tool} tool_input.{key} must be a non-empty string")
        if "\x00" in value:
            raise PayloadError(f"{tool} tool_input.{key} contains a NUL byte")
        return value
    raise PayloadError(f"{tool} tool_input has no {what} ({' or '.join(keys)})")


def _content(ti: Mapping[str, Any], tool: str) -> str:
    for key in _CONTENT_KEYS:
        value = ti.get(key)
        if value is None:
            continue
        if not isinstance(value, str):
            raise PayloadError(f"{tool} tool_input.{key} must be a string")
        return value
    edits = ti.get("edits")
    return "" if edits is None else base.joined_edits(edits, "new_string", f"{tool} tool_input.edits")


def action_for(tool: str, ti: Mapping[str, Any], cwd: str, *, env: Mapping[str, str] | None = None) -> Action:
    """The action Cursor's agent tool ``tool`` with input ``ti`` takes (``preToolUse``)."""
    if tool in ("Shell", "Terminal", "RunTerminalCommand"):
        where = base.workdir(ti.get("working_directory"), cwd, f"{tool} tool_input.working_directory")
        return base.shell(ti.get("command"), where, tool, env, where=f"{tool} command")
    if tool in WRITE_TOOLS or tool in NOTEBOOK_TOOLS:
        path = _first_str(ti, (*_PATH_KEYS, "notebook_path"), tool, "file path")
        return base.file_write(path, _content(ti, tool), cwd, tool, env)
    if tool in DELETE_TOOLS:
        path = _first_str(ti, _PATH_KEYS, tool, "file path")
        return base.shell(f"rm -f -- {_quote(path)}", cwd, tool, env, where=f"{tool} path")
    if tool in READ_TOOLS:
        return base.file_read(_first_str(ti, _PATH_KEYS, tool, "file path"), cwd, tool, env)
    if tool in LISTING_TOOLS:
        directory = ti.get("path") or ti.get("target_directory")
        where = f"{tool} tool_input.path"
        return base.directory_read(directory, cwd, tool, env, where=where, listing=tool != "Grep")
    if tool[:4].upper() == "MCP:" or tool.startswith("mcp_"):
        server, name = split_mcp_name(tool)
        return base.mcp(server, name, dict(ti), cwd, tool, env)
    if tool in INERT_TOOLS:
        return base.inert(tool, cwd, env)
    raise base.unknown_tool(tool)


def _quote(path: str) -> str:
    import shlex

    return shlex.quote(path)


def render(decision: Decision, *, runtime_prompt: bool = True) -> str:
    """The exact stdout line for a decision (the event is in the principal's attributes)."""
    event = decision.principal.attributes.get("cursor_event", "")
    return base.answer(RUNTIME, decision, can_ask=runtime_prompt and event in ASK_EVENTS)


ADAPTER = base.HookAdapter(
    RUNTIME, render, parse_event=parse_event, after_events=frozenset(AFTER_EVENTS), after_line=AFTER_OUTPUT
)
handle = ADAPTER.handle
