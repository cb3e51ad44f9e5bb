"""OpenCode: the ``tool.execute.before`` plugin's payload in, the decision out.

OpenCode has no command hooks; its plugins are JavaScript modules loaded into the
OpenCode process. ringfence ships a small plugin (``integrations/opencode/ringfence.js``,
installed by ``ringfence init --agent opencode``) whose ``tool.execute.before`` hook runs
``ringfence hook opencode`` with this payload on stdin and throws to block the tool:

Input (stdin JSON, built by the plugin from the hook's ``input`` and ``output``)::

    {"hook_event_name": "tool.execute.before",
     "tool": "bash",                 # input.tool: OpenCode's tool id
     "sessionID": "ses_...",         # input.sessionID
     "callID": "call_...",           # input.callID
     "args": {"command": "..."},     # output.args: the arguments the tool will run with
     "directory": "/abs/project",    # the plugin context's directory (the session's cwd)
     "worktree": "/abs/worktree",    # the plugin context's worktree (optional)
     "agent": "build", "model": "..."}  # when OpenCode tells the plugin (optional)

Output (stdout JSON, exit 0)::

    {"decision": "allow" | "deny", "reason": "..."}

The plugin lets the tool run only on ``allow`` and throws an ``Error`` with the reason
otherwise (OpenCode reports a thrown error as the tool's failure to the model). OpenCode
has no prompt a hook can hand an approval to, so require_approval is a deny that names
the approval request. Any error becomes a deny.

OpenCode's tools: ``bash`` (``command``, ``workdir``), ``write`` (``filePath``,
``content``), ``edit`` (``filePath``, ``oldString``, ``newString``), ``multiedit``
(``filePath``, ``edits``), ``patch``/``apply_patch`` (``patchText``), ``read``
(``filePath``), ``glob``/``grep``/``list`` (``path``), and inert ones (``todowrite``,
``webfetch``, ``task``, ...). An MCP tool is ``<server>_<tool>``. ``batch`` runs other tools
without calling plugin hooks for them, so it is refused.

A patch is in Codex's ``*** Begin Patch`` format and is judged as Codex's is
(:func:`ringfence.adapters.patch.patch_action`): each file it adds or updates by its own
new text, each file it deletes (or moves away) as ``rm -f -- <path>`` would be.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Any

from ringfence.adapters import base
from ringfence.adapters.patch import patch_action
from ringfence.errors import PayloadError
from ringfence.model import Action, Decision, Principal

__all__ = ["ADAPTER", "EVENT", "action_for", "handle", "parse", "render"]

RUNTIME = "opencode"
EVENT = "tool.execute.before"

WRITE_TOOLS = frozenset({"write", "edit", "multiedit"})
PATCH_TOOLS = frozenset({"patch", "apply_patch"})
LISTING_TOOLS = frozenset({"glob", "list", "ls"})
#: Tools that only touch OpenCode's own state, the web or a subagent (whose own tool
#: calls go through the plugin too): nothing for the gate to judge.
INERT_TOOLS = frozenset(
    {
        "todowrite",
        "todoread",
        "webfetch",
        "websearch",
        "codesearch",
        "task",
        "skill",
        "question",
        "lsp",
        "invalid",
        "plan_enter",
        "plan_exit",
    }
)
#: Tools refused outright, with the reason.
REFUSED_TOOLS = {
    "batch": "OpenCode's batch tool runs other tools without calling plugin hooks for them, so ringfence "
    "cannot see what it would do; call the tools one at a time",
}
_MCP_NAME = re.compile(r"^([A-Za-z0-9-]+)_([A-Za-z0-9_.-]+)$")


def parse(raw: bytes, *, env: Mapping[str, str] | None = None) -> tuple[Action, Principal]:
    """The :class:`Action` and :class:`Principal` of a plugin payload. Raises
    :class:`PayloadError` with a precise message for anything off-contract."""
    env = os.environ if env is None else env
    doc = base.read_object(raw)
    event = doc.get("hook_event_name", EVENT)
    if event != EVENT:
        raise PayloadError(f"hook_event_name is {event!r}; ringfence decides on {EVENT}")
    tool = base.required_str(doc, "tool")
    args = base.required_object(doc, "args", default_empty=True)
    directory = doc.get("directory")
    if directory is None:
        raise PayloadError("directory is missing (the plugin sends the session's directory)")
    cwd = base.absolute_dir(directory, "directory")
    principal = base.agent(
        RUNTIME,
        env,
        session=doc.get("sessionID"),
        model=base.optional_text(doc.get("model")),
        attributes=base.texts(doc, {"agent": "opencode_agent"}),
    )
    return action_for(tool, args, cwd, env=env), principal


def _file_path(args: Mapping[str, Any], tool: str) -> str:
    return base.required_str(args, "filePath", f"{tool} args")


def action_for(tool: str, args: Mapping[str, Any], cwd: str, *, env: Mapping[str, str] | None = None) -> Action:
    """The action OpenCode's ``tool`` with ``args`` takes."""
    if tool == "bash":
        workdir = base.workdir(args.get("workdir"), cwd, "bash args.workdir")
        return base.shell(args.get("command"), workdir, tool, env, where="bash args.command")
    if tool in WRITE_TOOLS:
        path = _file_path(args, tool)
        if tool == "write":
            content = args.get("content", "")
        elif tool == "edit":
            content = args.get("newString", "")
        else:
            content = base.joined_edits(args.get("edits"), "newString", "multiedit args.edits")
        return base.file_write(path, content, cwd, tool, env)
    if tool in PATCH_TOOLS:
        patch = args.get("patchText", args.get("patch"))
        if not isinstance(patch, str) or not patch.strip():
            raise PayloadError(f"{tool} args.patchText is missing or not a string")
        return patch_action(patch, cwd, tool, env, runtime="OpenCode")
    if tool == "read":
        return base.file_read(_file_path(args, tool), cwd, tool, env)
    if tool in LISTING_TOOLS or tool == "grep":
        return base.directory_read(args.get("path"), cwd, tool, env, where=f"{tool} args.path", listing=tool != "grep")
    if tool in INERT_TOOLS:
        return base.inert(tool, cwd, env)
    if tool in REFUSED_TOOLS:
        raise PayloadError(f"{tool}: {REFUSED_TOOLS[tool]}")
    match = _MCP_NAME.match(tool)
    if match:  # OpenCode names an MCP tool <server>_<tool>
        return base.mcp(match.group(1), match.group(2), dict(args), cwd, tool, env)
    raise base.unknown_tool(tool)


def render(decision: Decision, *, runtime_prompt: bool = False) -> str:
    """The exact stdout line for a decision (OpenCode has no prompt to hand an approval to)."""
    return base.answer(RUNTIME, decision)


ADAPTER = base.HookAdapter(RUNTIME, render, parse)  # the plugin hooks tool.execute.before only
handle = ADAPTER.handle
