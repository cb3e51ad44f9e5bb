"""Gemini CLI ``BeforeTool`` hooks: the payload in, the decision out.

Gemini CLI runs each matching command hook with the event as JSON on stdin, in the
session's working directory, with ``GEMINI_PROJECT_DIR`` (and ``CLAUDE_PROJECT_DIR``)
set to it.

Input (stdin JSON): ``session_id``, ``transcript_path``, ``cwd``, ``hook_event_name``
(``"BeforeTool"``), ``timestamp`` (ISO 8601), ``tool_name``, ``tool_input`` (the
arguments the model chose) and, for a tool of an MCP server, ``mcp_context``
(``server_name``, ``tool_name`` as the server calls it, and how the server is reached).

Output (stdout JSON, exit 0)::

    {"decision": "allow" | "deny", "reason": "..."}

``deny`` blocks the call and sends ``reason`` to the model as the tool's error (the turn
goes on); ``allow`` lets the call go on to Gemini CLI's own confirmation rules. Gemini CLI
has no answer that asks the person at the terminal (it reads ``ask`` as "not blocked"),
so a require_approval verdict is always a deny that names the approval request.

What Gemini CLI does with anything else is why this module is strict: stdout that is
not JSON counts as **allow** (it is shown as a message), an exit code other than 0 and 2
is a warning and the tool runs, and a hook that times out lets the tool run. The hook
therefore answers every payload — an off-contract one included — with exactly one JSON
line on stdout and exit 0, and never lets an exception escape.

``AfterTool`` payloads (the tool already ran; ringfence is not wired there, but someone
may wire it) get ``{}``: nothing to decide, so nothing is denied.
"""

from __future__ import annotations

import os
import posixpath
from collections.abc import Mapping, Sequence
from typing import Any

from ringfence.adapters import base
from ringfence.errors import PayloadError
from ringfence.model import Action, Decision, Principal

__all__ = ["ADAPTER", "EVENT", "INERT_TOOLS", "action_for", "handle", "parse", "render"]

RUNTIME = "gemini"
EVENT = "BeforeTool"
AFTER_EVENT = "AfterTool"
#: What the hook prints for an AfterTool payload: no opinion (the tool already ran).
AFTER_OUTPUT = "{}"

SHELL_TOOL = "run_shell_command"
WRITE_TOOLS = ("write_file", "replace")
READ_TOOL = "read_file"
READ_MANY_TOOL = "read_many_files"
LIST_TOOL = "list_directory"
GLOB_TOOL = "glob"
GREP_TOOLS = ("grep_search", "search_file_content")  # search_file_content: the name before 0.2x
MEMORY_TOOL = "save_memory"

#: Tools that only touch Gemini CLI's own state, ask the user, or read the web: nothing
#: for the gate to judge.
INERT_TOOLS = frozenset(
    {
        "web_fetch",
        "google_web_search",
        "write_todos",
        "ask_user",
        "activate_skill",
        "enter_plan_mode",
        "exit_plan_mode",
        "get_internal_docs",
        "update_topic",
        "codebase_investigator",
        "cli_help",
        "delegate_to_agent",
        "tracker_create_task",
        "tracker_update_task",
        "tracker_get_task",
        "tracker_list_tasks",
        "tracker_add_dependency",
        "tracker_visualize",
    }
)


def parse(raw: bytes, *, env: Mapping[str, str] | None = None) -> tuple[Action, Principal]:
    """The :class:`Action` and :class:`Principal` of a ``BeforeTool`` payload.

    Raises :class:`PayloadError` with a precise message for anything off-contract.
    """
    env = os.environ if env is None else env
    doc = base.read_object(raw)
    base.event_name(doc, EVENT)
    tool = base.required_str(doc, "tool_name")
    tool_input = base.required_object(doc, "tool_input")
    cwd = base.absolute_dir(doc.get("cwd") or env.get("GEMINI_PROJECT_DIR") or None)
    principal = base.agent(
        RUNTIME,
        env,
        session=doc.get("session_id"),
        model=env.get("GEMINI_MODEL"),
    )
    mcp_context = doc.get("mcp_context")
    if mcp_context is not None and not isinstance(mcp_context, dict):
        raise PayloadError("mcp_context must be a JSON object")
    return action_for(tool, tool_input, cwd, env=env, mcp_context=mcp_context), principal


def _path(ti: Mapping[str, Any], keys: Sequence[str], tool: str, *, default: str | None = None) -> str:
    """The first of ``keys`` present in ``ti`` (a non-empty string), else ``default``."""
    for key in keys:
        value = ti.get(key)
        if value is None or (value == "" and default is not None):
            continue  # Gemini CLI reads an empty directory as the project directory
        return base.required_str(ti, key, f"{tool} tool_input")
    if default is None:
        raise PayloadError(f"{tool} tool_input.{keys[0]} is missing or not a string")
    return default


def _under(cwd: str, path: str) -> str:
    """``path`` resolved against ``cwd`` (Gemini CLI resolves relative paths against the
    project directory), normalised."""
    expanded = os.path.expanduser(path) if path.startswith("~") else path
    return posixpath.normpath(posixpath.join(cwd, expanded))


def _strings(value: Any, name: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v and "\x00" not in v for v in value):
        raise PayloadError(f"{name} must be a list of non-empty strings")
    return list(value)


def action_for(
    tool: str,
    ti: Mapping[str, Any],
    cwd: str,
    *,
    env: Mapping[str, str] | None = None,
    mcp_context: Mapping[str, Any] | None = None,
) -> Action:
    """The action Gemini CLI's ``tool`` with arguments ``ti`` takes."""
    if mcp_context is not None:
        server = base.required_str(mcp_context, "server_name", "mcp_context")
        name = base.required_str(mcp_context, "tool_name", "mcp_context")
        return base.mcp(server, name, dict(ti), cwd, tool, env)
    if tool == SHELL_TOOL:
        where = _path(ti, ("dir_path", "directory"), tool, default=cwd)
        return base.shell(ti.get("command"), _under(cwd, where), tool, env, where=f"{tool} tool_input.command")
    if tool in WRITE_TOOLS:
        path = _path(ti, ("file_path",), tool)
        key = "content" if tool == "write_file" else "new_string"
        if key not in ti:
            raise PayloadError(f"{tool} tool_input.{key} is missing")
        return base.file_write(path, ti[key], cwd, tool, env)
    if tool == READ_TOOL:
        return base.file_read(_path(ti, ("file_path", "absolute_path"), tool), cwd, tool, env)
    if tool == READ_MANY_TOOL:
        key = "include" if "include" in ti else "paths"
        paths = _strings(ti.get(key), f"{tool} tool_input.{key}")
        if not paths:
            raise PayloadError(f"{tool} tool_input.{key} names no file")
        return base.file_reads(paths, cwd, tool, env, listing=False)
    if tool == LIST_TOOL:
        return base.file_reads([_path(ti, ("dir_path", "path"), tool)], cwd, tool, env, listing=True)
    if tool == GLOB_TOOL:
        pattern = base.required_str(ti, "pattern", f"{tool} tool_input")
        return base.glob_read(pattern, _path(ti, ("dir_path", "path"), tool, default=cwd), cwd, tool, env)
    if tool in GREP_TOOLS:
        return base.file_reads([_path(ti, ("dir_path", "path"), tool, default=cwd)], cwd, tool, env, listing=False)
    if tool == MEMORY_TOOL:
        fact = ti.get("fact")
        if not isinstance(fact, str):
            raise PayloadError(f"{tool} tool_input.fact is missing or not a string")
        home = (env or {}).get("HOME") or os.path.expanduser("~")
        return base.file_write(posixpath.join(home, ".gemini", "GEMINI.md"), fact, cwd, tool, env)
    if tool in INERT_TOOLS:
        return base.inert(tool, cwd, env)
    server_tool = _mcp_name(tool, cwd)
    if server_tool is not None:
        return base.mcp(server_tool[0], server_tool[1], dict(ti), cwd, tool, env)
    raise base.unknown_tool(tool)


def _mcp_name(tool: str, cwd: str) -> tuple[str, str] | None:
    """``(server, tool)`` of an MCP tool name without ``mcp_context`` (Gemini CLI leaves it
    out when the server's configuration cannot be found): ``mcp_<server>_<tool>``, or
    ``<server>__<tool>`` from versions before 0.2x; a configured server name wins."""
    if not (tool.startswith("mcp_") or "__" in tool):
        return None
    return base.mcp_name(tool, cwd)


def render(decision: Decision, *, runtime_prompt: bool = False) -> str:
    """The exact stdout line for a decision (``runtime_prompt`` is unused: Gemini CLI
    has no prompt a hook can hand an approval to)."""
    return base.answer(RUNTIME, decision)


ADAPTER = base.HookAdapter(RUNTIME, render, parse, after_events=frozenset({AFTER_EVENT}), after_line=AFTER_OUTPUT)
handle = ADAPTER.handle
