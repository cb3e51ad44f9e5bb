"""Codex CLI ``PreToolUse`` hooks: the payload in, the decision out.

The contract, as Codex's own source defines it (``openai/codex``:
``codex-rs/hooks/src/events/pre_tool_use.rs``, ``codex-rs/hooks/src/engine/output_parser.rs``,
the generated ``codex-rs/hooks/schema/generated/pre-tool-use.command.{input,output}.schema.json``,
``codex-rs/core/src/tools/hook_names.rs``) and its documentation
(https://developers.openai.com/codex/hooks):

Input (stdin JSON, one object): ``session_id``, ``turn_id``, ``transcript_path`` (string or
null), ``cwd`` (absolute), ``hook_event_name`` (``"PreToolUse"``), ``model`` (the model
slug), ``permission_mode`` (``default``, ``acceptEdits``, ``plan``, ``dontAsk``,
``bypassPermissions``), ``tool_name``, ``tool_input``, ``tool_use_id``, and for a
sub-agent ``agent_id``/``agent_type``. Tool names:

- ``Bash`` for every shell-like tool (``shell``, ``shell_command``, ``exec_command``,
  ``local_shell`` and unified exec all report ``Bash``), ``tool_input`` ``{"command": "<script>"}``;
- ``apply_patch`` (matcher aliases ``Write`` and ``Edit``), ``tool_input``
  ``{"command": "<the patch text>"}`` for both the freeform and the JSON form of the tool;
- ``mcp__<server>__<tool>`` with the call's JSON arguments as ``tool_input``.

Output (stdout, exit 0): a deny is
``{"hookSpecificOutput": {"hookEventName": "PreToolUse", "permissionDecision": "deny",
"permissionDecisionReason": "..."}}`` (a non-empty reason is required). Codex **rejects**
``permissionDecision: "allow"`` without ``updatedInput`` and ``"ask"`` as unsupported: the hook
is then recorded as *failed* and the tool runs — so ringfence never sends either. "No
opinion" is ``{}`` (or empty stdout), which Codex accepts and lets its own approval rules
decide. A require_approval verdict is therefore a deny that names the approval request
(``AR-…``): approve it out of band and the agent retries the identical call. Codex also
blocks on exit 2 with a reason on stderr, and treats any other exit code, a timeout,
stdout that looks like JSON but is not a valid answer, ``continue: false``,
``stopReason`` and ``suppressOutput`` as a failed hook — fail open — so this module
answers every payload, off-contract ones included, with exactly one valid JSON line.

``apply_patch``: the patch is parsed as Codex parses it (:mod:`ringfence.adapters.patch`)
and judged as ONE file-write action whose effects are the union of its files: each added
or updated file is a write of its new text (so secrets, gate, CI-configuration and
migration analysis apply), a moved file is a write of its destination and a deletion of
its source, and a deleted file is judged exactly as ``rm -f -- <path>`` is (the same
effects and rules as the shell command). A patch Codex would reject is denied with the
parser's reason. Codex also runs ``apply_patch`` given to its shell tool (``apply_patch
<<'EOF' …``, optionally after ``cd <dir> &&``) without a shell, and ships an
``apply_patch`` program on the session's PATH: a ``Bash`` command that runs it is judged
as the patch it applies, and denied when the patch cannot be read from the command or is
mixed with other commands.

``PostToolUse`` payloads (ringfence is not wired there; nothing to decide) get ``{}``.
"""

from __future__ import annotations

import os
import shlex
from collections.abc import Mapping, Sequence
from typing import Any

from ringfence.adapters import base
from ringfence.adapters.patch import APPLY_PATCH_COMMANDS, patch_action
from ringfence.errors import PayloadError
from ringfence.model import Action, Decision, Principal

__all__ = ["ADAPTER", "EVENT", "handle", "parse", "patch_action", "render"]

RUNTIME = "codex"
EVENT = "PreToolUse"
AFTER_EVENTS = frozenset({"PostToolUse"})
#: What the hook prints when it has no objection (an allow) and for after-the-fact events.
NO_OPINION = "{}"

SHELL_TOOLS = frozenset({"Bash", "shell", "shell_command", "exec_command", "local_shell", "container.exec"})
PATCH_TOOL = "apply_patch"
#: Codex's own function tools that read (reported by name when a hook is wired with a
#: catch-all matcher): judged as the reads they are.
READ_TOOLS = {"read_file": "file_path", "view_image": "path"}
LISTING_TOOLS = {"list_dir": "dir_path", "grep_files": "path"}
#: Tools that only touch Codex's own state, ask the user or search the web.
INERT_TOOLS = frozenset(
    {
        "update_plan",
        "web_search",
        "request_user_input",
        "list_mcp_resources",
        "list_mcp_resource_templates",
        "read_mcp_resource",
        "spawn_agent",
        "send_input",
        "wait",
        "close_agent",
        "resume_agent",
        "get_goal",
        "create_goal",
        "update_goal",
    }
)


def parse(raw: bytes, *, env: Mapping[str, str] | None = None) -> tuple[Action, Principal]:
    """The :class:`Action` and :class:`Principal` of a ``PreToolUse`` payload.

    Raises :class:`PayloadError` with a precise message for anything off-contract.
    """
    env = os.environ if env is None else env
    doc = base.read_object(raw)
    base.event_name(doc, EVENT)
    tool = base.required_str(doc, "tool_name")
    cwd = base.absolute_dir(doc.get("cwd"))
    ti = doc.get("tool_input")
    if ti is None and tool.startswith("mcp__"):
        ti = {}  # an MCP call without arguments
    if not isinstance(ti, dict):
        raise PayloadError("tool_input must be a JSON object")
    attributes = {
        "permission_mode": str(doc.get("permission_mode") or ""),
        **base.texts(doc, {"turn_id": "turn_id", "agent_id": "codex_agent_id", "agent_type": "codex_agent_type"}),
    }
    principal = base.agent(
        RUNTIME,
        env,
        session=doc.get("session_id"),
        model=base.optional_text(doc.get("model")),
        attributes=attributes,
    )
    return action_for(tool, ti, cwd, env=env), principal


def action_for(tool: str, ti: Mapping[str, Any], cwd: str, *, env: Mapping[str, str] | None = None) -> Action:
    """The action Codex's ``tool`` with input ``ti`` takes."""
    if tool in SHELL_TOOLS:
        command = _shell_command(ti, tool)
        return _shell_or_patch(command, base.workdir(ti.get("workdir"), cwd, f"{tool} tool_input.workdir"), tool, env)
    if tool == PATCH_TOOL:
        text = next((ti[k] for k in ("command", "input", "patch") if k in ti), None)
        if not isinstance(text, str) or not text.strip():
            raise PayloadError("apply_patch tool_input.command (the patch text) is missing or not a string")
        return patch_action(text, cwd, tool, env, runtime="Codex")
    if tool.startswith("mcp__"):
        server_tool = base.mcp_name(tool, cwd)
        if server_tool is None:
            raise PayloadError(f"MCP tool name {tool!r} is not mcp__<server>__<tool>")
        return base.mcp(*server_tool, dict(ti), cwd, tool, env)
    if tool in READ_TOOLS:
        return base.file_read(base.required_str(ti, READ_TOOLS[tool], f"{tool} tool_input"), cwd, tool, env)
    if tool in LISTING_TOOLS:
        key = LISTING_TOOLS[tool]
        where = f"{tool} tool_input.{key}"
        return base.directory_read(ti.get(key), cwd, tool, env, where=where, listing=tool == "list_dir")
    if tool in INERT_TOOLS:
        return base.inert(tool, cwd, env)
    raise base.unknown_tool(tool)


def _shell_command(ti: Mapping[str, Any], tool: str) -> str:
    """The script of a shell tool: ``command`` (a string, or an argv list from the older
    ``local_shell`` payloads), or ``cmd``."""
    command = ti.get("command", ti.get("cmd"))
    if isinstance(command, list):
        if not command or not all(isinstance(w, str) for w in command):
            raise PayloadError(f"{tool} tool_input.command must be a string or a non-empty list of strings")
        return shlex.join(command)
    if not isinstance(command, str):
        raise PayloadError(f"{tool} tool_input.command is missing or not a string")
    return command


# --- patches ------------------------------------------------------------------------------------


def _shell_or_patch(command: str, cwd: str, tool: str, env: Mapping[str, str] | None) -> Action:
    """A shell command, unless it runs Codex's ``apply_patch``: then the patch it applies."""
    shell = base.shell(command, cwd, tool, env, where=f"{tool} tool_input.command")
    try:
        commands = _traced(command, cwd)
    except Exception:  # the gate's own analysis meets the same problem and denies with it
        return shell
    runs = [c for c in commands if c.name in APPLY_PATCH_COMMANDS]
    if not runs:
        return shell
    others = [c for c in commands if c.name not in APPLY_PATCH_COMMANDS and c.name != "cd"]
    run = runs[0]
    text = run.stdin if len(run.argv) == 1 else run.argv[1] if len(run.argv) == 2 and not run.dynamic else None
    if len(runs) > 1 or others or text is None or run.remote is not None:
        raise PayloadError(
            f"{tool}: this command runs Codex's {run.name} in a way ringfence cannot judge "
            "(the patch is not written out in the command, or other commands run with it); "
            "use the apply_patch tool, or run it alone as `apply_patch <<'EOF' … EOF`"
        )
    return patch_action(text, run.cwd or cwd, f"{tool}: {run.name}", env, runtime="Codex")


def _traced(command: str, cwd: str) -> Sequence[Any]:
    """The simple commands ``command`` runs, as the shell analysis finds them (variables,
    quotes and ``bash -c`` strings resolved, so no spelling of ``apply_patch`` slips by)."""
    from ringfence.analyze import Context, trace_shell

    return trace_shell(command, Context.for_cwd(cwd)).commands


# --- answers ------------------------------------------------------------------------------------


def render(decision: Decision, *, runtime_prompt: bool = False) -> str:
    """The exact stdout line for a decision: ``{}`` to let the call go on (Codex rejects a
    bare allow), else a deny (Codex rejects ask, so a held action is a deny naming its
    approval request). ``runtime_prompt`` is unused: no hook answer reaches Codex's prompt."""
    return base.answer(RUNTIME, decision)


ADAPTER = base.HookAdapter(RUNTIME, render, parse, after_events=AFTER_EVENTS, after_line=NO_OPINION)
handle = ADAPTER.handle
