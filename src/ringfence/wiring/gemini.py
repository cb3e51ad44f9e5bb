"""Wiring ringfence into Gemini CLI's settings as a ``BeforeTool`` command hook.

Gemini CLI reads hooks from ``<project>/.gemini/settings.json`` (project scope),
``~/.gemini/settings.json`` (user scope) and ``/etc/gemini-cli/settings.json`` (system),
in this shape::

    {"hooks": {"BeforeTool": [
        {"matcher": "^(run_shell_command|write_file|...)$|^mcp_|__", "hooks": [
            {"name": "ringfence", "type": "command",
             "command": "/abs/bin/ringfence hook gemini", "timeout": 30000}
        ]}
    ]}}

``timeout`` is in milliseconds. A matcher is a regular expression tested against the
tool name (an empty or ``*`` matcher selects every tool; one that is not a valid
expression must equal the name). ``hooks`` may also hold ``enabled`` and ``disabled``
(older versions; newer ones keep them under ``hooksConfig``): a hook whose name or
command is listed in ``disabled`` does not run, and ``enabled: false`` turns every hook
off — the doctor reports both.

A ringfence entry is a hook whose ``command`` contains ``ringfence`` and `` hook gemini``.
:func:`plan_install` adds one (or updates the existing one in place) and
:func:`plan_uninstall` removes them; both leave every other setting, hook, key and key
order alone, and only *plan*: :func:`ringfence.wiring.jsonfile.apply` carries a plan out.
"""

from __future__ import annotations

import json
import re
import tempfile
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ringfence.jsontype import json_type
from ringfence.wiring.base import Found, Probe, RuntimeWiring, Scope, first_line, scope_dir
from ringfence.wiring.hookfile import NOTHING_TO_REMOVE, Hook, HookFile, planned
from ringfence.wiring.jsonfile import Plan, load

RUNTIME = "gemini"
EVENT = "BeforeTool"
HOOK_NAME = "ringfence"
DEFAULT_TIMEOUT_MS = 30_000
#: The tools ringfence judges, and every MCP tool (``mcp_<server>_<tool>``; older
#: versions named them ``<server>__<tool>``).
MATCHER = (
    "^(run_shell_command|write_file|replace|read_file|read_many_files|list_directory|glob|grep_search"
    "|search_file_content|save_memory)$|^mcp_|__"
)
SCOPES: tuple[Scope, ...] = ("project", "user")

#: The tools ringfence must see, each with the tool name used to test a matcher.
PROTECTED_TOOLS: dict[str, str] = {
    "run_shell_command": "run_shell_command",
    "write_file": "write_file",
    "replace": "replace",
    "read_file": "read_file",
    "read_many_files": "read_many_files",
    "mcp": "mcp_any_server_any_tool",
}


def settings_path(scope: Scope, project_dir: Path | None = None, home: Path | None = None) -> Path:
    """``<project>/.gemini/settings.json`` or ``~/.gemini/settings.json``."""
    return scope_dir(scope, project_dir, home) / ".gemini" / "settings.json"


def matcher_covers(matcher: object, tool_name: str) -> bool:
    """Whether a ``BeforeTool`` matcher selects ``tool_name`` as Gemini CLI decides it: no
    matcher, an empty one or ``*`` select every tool; otherwise the matcher is a regular
    expression searched in the name, or (when it is not a valid expression) the exact name."""
    if matcher is None:
        return True
    if not isinstance(matcher, str):
        return False
    matcher = matcher.strip()
    if matcher in ("", "*"):
        return True
    try:
        return re.search(matcher, tool_name) is not None
    except re.error:
        return matcher == tool_name


def coverage(matcher: object) -> dict[str, bool]:
    """For each of :data:`PROTECTED_TOOLS`, whether ``matcher`` selects it."""
    return {label: matcher_covers(matcher, name) for label, name in PROTECTED_TOOLS.items()}


HOOKS = HookFile(
    RUNTIME,
    "Gemini CLI",
    example_event=EVENT,
    items='an array of hook definitions ([{"matcher": ..., "hooks": [...]}])',
    item='a hook definition ({"matcher": ..., "hooks": [...]})',
    grouped=True,
    group_needs_hooks=True,
    coverage=coverage,
)


def switched_off(data: dict[str, Any], entry: Hook) -> str | None:
    """Why the settings in ``data`` keep ``entry`` from running, or None."""
    for key in ("hooksConfig", "hooks"):
        section = data.get(key)
        if not isinstance(section, dict):
            continue
        if section.get("enabled") is False:
            return f"{key}.enabled is false"
        disabled = section.get("disabled")
        if isinstance(disabled, list) and (entry.name or entry.command) in disabled:
            return f"listed in {key}.disabled"
    return None


def read_hooks(path: Path) -> list[Hook]:
    """Load ``path`` and return its ringfence hooks (a missing file has none)."""
    data, text = load(path)
    return HOOKS.find(data, path, text, (EVENT,))


def plan_install(path: Path, command: str, *, matcher: str = MATCHER, timeout: int = DEFAULT_TIMEOUT_MS) -> Plan:
    """Plan wiring ``command`` as a ``BeforeTool`` hook into ``path``.

    Idempotent: an existing ringfence hook is updated in place (command, ``type``; a
    missing ``name`` or ``timeout`` is added, a present one kept; the matcher of a
    definition that holds only ringfence hooks is reset to ``matcher``) and any further
    ringfence hooks are removed, so exactly one remains. Everything else stays as it is.
    """
    data, text = load(path)
    changes: list[str] = []
    notes: list[str] = []
    hook = {"name": HOOK_NAME, "type": "command", "command": command, "timeout": timeout}
    fill = {key: f"set the hook's {key} to {hook[key]!r}" for key in ("name", "timeout")}
    HOOKS.install_group(data, path, text, EVENT, hook, matcher, fill, changes, notes)
    for entry in HOOKS.find(data, path, text, (EVENT,)):
        why = switched_off(data, entry)
        if why:
            notes.append(f"the ringfence hook will not run: {why}; change that setting")
    return planned(path, text, data, changes, notes)


def plan_uninstall(path: Path) -> Plan:
    """Plan removing every ringfence hook from ``path``, with the definitions, the
    ``BeforeTool`` array and the ``hooks`` object this leaves empty."""
    data, text = load(path)
    return planned(path, text, data, HOOKS.remove_all(data, path, text, (EVENT,)), unchanged=NOTHING_TO_REMOVE)


# --- talking to the hook as Gemini CLI does ---------------------------------------------------


def hook_payload(tool_name: str, tool_input: dict[str, Any], cwd: Path) -> dict[str, Any]:
    """A ``BeforeTool`` event shaped exactly like the one Gemini CLI sends on stdin."""
    session = str(uuid.uuid4())
    return {
        "session_id": session,
        "transcript_path": str(Path(tempfile.gettempdir()) / "ringfence-doctor" / f"session-{session}.json"),
        "cwd": str(cwd),
        "hook_event_name": EVENT,
        "timestamp": "1970-01-01T00:00:00.000Z",
        "tool_name": tool_name,
        "tool_input": tool_input,
    }


def read_decision(stdout: str) -> tuple[str | None, str]:
    """What Gemini CLI does with a hook's stdout (exit 0): ``("deny" | "allow", what it
    read)``, or ``(None, what is wrong)`` when it is not a decision (Gemini CLI then lets
    the tool run)."""
    if not stdout.strip():
        return None, "exit 0 with empty stdout (Gemini CLI lets the tool run)"
    try:
        answer = json.loads(stdout.strip())
    except ValueError:
        return (
            None,
            f"stdout is not JSON, which Gemini CLI shows as a message and lets the tool run: {first_line(stdout)!r}",
        )
    if not isinstance(answer, dict):
        return None, f"stdout is a JSON {json_type(answer)}, not an object: {first_line(stdout)!r}"
    decision = answer.get("decision")
    reason = answer.get("reason")
    detail = f": {first_line(reason)}" if isinstance(reason, str) and reason.strip() else ""
    if decision in ("deny", "block"):
        return "deny", f"{decision}{detail}"
    if decision in (None, "allow", "approve"):
        return "allow", f"{decision or 'no decision'}{detail}"
    return "allow", f"decision {decision!r}, which Gemini CLI does not block on{detail}"


class GeminiWiring:
    runtime = RUNTIME
    title = "Gemini CLI"
    scopes = SCOPES
    protected = tuple(PROTECTED_TOOLS)
    restart = (
        "Gemini CLI reads hooks at start-up: restart running sessions (check with /hooks panel). Hooks run only in "
        "trusted folders, and versions where hooks are opt-in need them enabled in settings."
    )

    settings_path = staticmethod(settings_path)
    plan_install = staticmethod(plan_install)
    plan_uninstall = staticmethod(plan_uninstall)
    read_answer = staticmethod(read_decision)

    def read_paths(self, scopes: Sequence[Scope], project_dir: Path, home: Path | None = None) -> list[Path]:
        return [settings_path(scope, project_dir, home) for scope in ("project", "user") if scope in scopes]

    def find(self, path: Path) -> list[Found]:
        data, text = load(path)
        found: list[Found] = []
        for entry in HOOKS.find(data, path, text, (EVENT,)):
            why = switched_off(data, entry)
            where = f"{EVENT} matcher {entry.matcher!r}" + (f" (does not run: {why})" if why else "")
            covers = {tool: False for tool in PROTECTED_TOOLS} if why else entry.covers
            found.append(Found(path, entry.command, where, covers))
        return found

    def probe(self, shell_command: str, project_dir: Path, tag: str) -> Probe:
        tool_input = {"command": shell_command, "description": f"ringfence doctor probe ({tag})"}
        payload = hook_payload("run_shell_command", tool_input, project_dir)
        env = {"GEMINI_PROJECT_DIR": str(project_dir), "CLAUDE_PROJECT_DIR": str(project_dir)}
        return Probe(json.dumps(payload).encode(), env)


WIRING: RuntimeWiring = GeminiWiring()
