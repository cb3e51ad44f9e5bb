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
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

from ringfence.wiring.base import Found, Probe, RuntimeWiring, Scope, first_line
from ringfence.wiring.jsonfile import Plan, SettingsFileError, dump_like, format_pointer, json_type, load, locate

RUNTIME = "gemini"
EVENT = "BeforeTool"
HOOK_NAME = "ringfence"
HOOK_MARKER = f" hook {RUNTIME}"
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
    if scope == "user":
        return (home if home is not None else Path.home()) / ".gemini" / "settings.json"
    return (project_dir if project_dir is not None else Path.cwd()) / ".gemini" / "settings.json"


def is_ringfence_command(command: object) -> bool:
    """Whether a hook ``command`` is ringfence's Gemini CLI hook."""
    return isinstance(command, str) and "ringfence" in command and HOOK_MARKER in command


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


@dataclass(frozen=True)
class HookEntry:
    """One ringfence hook found in a settings file."""

    group_index: int
    hook_index: int
    matcher: str | None
    command: str
    name: str | None


def _type_error(path: Path, text: str | None, pointer: tuple[str | int, ...], value: Any, expected: str) -> NoReturn:
    where = locate(text, pointer) if text is not None else None
    line, column = where if where is not None else (None, None)
    raise SettingsFileError(
        path,
        f"{format_pointer(pointer)} is a JSON {json_type(value)}, but Gemini CLI expects {expected}; "
        "fix it (or move the file away) and run again — nothing was changed",
        line,
        column,
    )


def _groups(data: dict[str, Any], path: Path, text: str | None) -> list[Any] | None:
    """The ``hooks.BeforeTool`` array (``None`` if absent), after checking the types."""
    if "hooks" not in data:
        return None
    hooks = data["hooks"]
    if not isinstance(hooks, dict):
        _type_error(path, text, ("hooks",), hooks, 'an object of hook events ({"BeforeTool": [...]})')
    if EVENT not in hooks:
        return None
    groups = hooks[EVENT]
    if not isinstance(groups, list):
        _type_error(
            path, text, ("hooks", EVENT), groups, 'an array of hook definitions ([{"matcher": ..., "hooks": [...]}])'
        )
    for gi, group in enumerate(groups):
        if not isinstance(group, dict):
            _type_error(path, text, ("hooks", EVENT, gi), group, 'a hook definition ({"matcher": ..., "hooks": [...]})')
        if not isinstance(group.get("hooks"), list):
            _type_error(path, text, ("hooks", EVENT, gi, "hooks"), group.get("hooks"), "an array of hooks")
    return groups


def _entries(groups: list[Any]) -> list[HookEntry]:
    found: list[HookEntry] = []
    for gi, group in enumerate(groups):
        for hi, hook in enumerate(group["hooks"]):
            if isinstance(hook, dict) and is_ringfence_command(hook.get("command")):
                matcher = group.get("matcher")
                name = hook.get("name")
                found.append(
                    HookEntry(
                        gi,
                        hi,
                        matcher if isinstance(matcher, str) else None,
                        hook["command"],
                        name if isinstance(name, str) else None,
                    )
                )
    return found


def switched_off(data: dict[str, Any], entry: HookEntry) -> str | None:
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


def read_hooks(path: Path) -> list[HookEntry]:
    """Load ``path`` and return its ringfence hooks (a missing file has none)."""
    data, text = load(path)
    groups = _groups(data, path, text)
    return [] if groups is None else _entries(groups)


def plan_install(path: Path, command: str, *, matcher: str = MATCHER, timeout: int = DEFAULT_TIMEOUT_MS) -> Plan:
    """Plan wiring ``command`` as a ``BeforeTool`` hook into ``path``.

    Idempotent: an existing ringfence hook is updated in place (command, ``type``; a
    missing ``name`` or ``timeout`` is added, a present one kept; the matcher of a
    definition that holds only ringfence hooks is reset to ``matcher``) and any further
    ringfence hooks are removed, so exactly one remains. Everything else stays as it is.
    """
    data, text = load(path)
    groups = _groups(data, path, text)
    entries = [] if groups is None else _entries(groups)
    changes: list[str] = []
    notes: list[str] = []
    if groups is None:
        groups = data.setdefault("hooks", {}).setdefault(EVENT, [])
    if not entries:
        hook = {"name": HOOK_NAME, "type": "command", "command": command, "timeout": timeout}
        groups.append({"matcher": matcher, "hooks": [hook]})
        changes.append(f"add a {EVENT} hook for {matcher!r}: {command}")
    else:
        first, *duplicates = entries
        group = groups[first.group_index]
        hook = group["hooks"][first.hook_index]
        if hook.get("type") != "command":
            hook["type"] = "command"
            changes.append('set the hook\'s type to "command"')
        if hook.get("command") != command:
            changes.append(f"update the hook command: {hook.get('command')} → {command}")
            hook["command"] = command
        for key, value in (("name", HOOK_NAME), ("timeout", timeout)):
            if key not in hook:
                hook[key] = value
                changes.append(f"set the hook's {key} to {value!r}")
        if group.get("matcher") != matcher:
            if all(isinstance(h, dict) and is_ringfence_command(h.get("command")) for h in group["hooks"]):
                changes.append(f"set the matcher: {group.get('matcher')!r} → {matcher!r}")
                group["matcher"] = matcher
            elif missing := [tool for tool, ok in coverage(group.get("matcher")).items() if not ok]:
                notes.append(
                    f"the ringfence hook shares the matcher {group.get('matcher')!r} with other hooks, "
                    f"which does not cover {', '.join(missing)}; left unchanged"
                )
        for entry in reversed(duplicates):
            dup_group = groups[entry.group_index]
            del dup_group["hooks"][entry.hook_index]
            if not dup_group["hooks"]:
                del groups[entry.group_index]
            changes.append(f"remove a duplicate ringfence hook: {entry.command}")
    for entry in _entries(groups):
        why = switched_off(data, entry)
        if why:
            notes.append(f"the ringfence hook will not run: {why}; change that setting")
    if not changes:
        return Plan(path, text, text, (), (*notes, "ringfence is already wired; nothing to change"))
    return Plan(path, text, dump_like(data, text), tuple(changes), tuple(notes))


def plan_uninstall(path: Path) -> Plan:
    """Plan removing every ringfence hook from ``path``, with the definitions, the
    ``BeforeTool`` array and the ``hooks`` object this leaves empty."""
    data, text = load(path)
    groups = _groups(data, path, text)
    entries = [] if groups is None else _entries(groups)
    if groups is None or not entries:
        return Plan(path, text, text, (), ("no ringfence hook found; nothing to change",))
    changes: list[str] = []
    for entry in reversed(entries):
        group = groups[entry.group_index]
        del group["hooks"][entry.hook_index]
        changes.append(f"remove the {EVENT} hook {entry.command}")
        if not group["hooks"]:
            del groups[entry.group_index]
    changes.reverse()
    if not groups:
        del data["hooks"][EVENT]
        changes.append(f"remove the now empty hooks.{EVENT}")
        if not data["hooks"]:
            del data["hooks"]
            changes.append("remove the now empty hooks")
    return Plan(path, text, dump_like(data, text), tuple(changes))


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

    def settings_path(self, scope: Scope, project_dir: Path, home: Path | None = None) -> Path:
        return settings_path(scope, project_dir, home)

    def read_paths(self, scopes: Sequence[Scope], project_dir: Path, home: Path | None = None) -> list[Path]:
        return [settings_path(scope, project_dir, home) for scope in ("project", "user") if scope in scopes]

    def plan_install(self, path: Path, command: str) -> Plan:
        return plan_install(path, command)

    def plan_uninstall(self, path: Path) -> Plan:
        return plan_uninstall(path)

    def find(self, path: Path) -> list[Found]:
        data, text = load(path)
        groups = _groups(data, path, text)
        found: list[Found] = []
        for entry in [] if groups is None else _entries(groups):
            why = switched_off(data, entry)
            where = f"{EVENT} matcher {entry.matcher!r}" + (f" (does not run: {why})" if why else "")
            covers = {tool: False for tool in PROTECTED_TOOLS} if why else coverage(entry.matcher)
            found.append(Found(path, entry.command, where, covers))
        return found

    def probe(self, shell_command: str, project_dir: Path, tag: str) -> Probe:
        tool_input = {"command": shell_command, "description": f"ringfence doctor probe ({tag})"}
        payload = hook_payload("run_shell_command", tool_input, project_dir)
        env = {"GEMINI_PROJECT_DIR": str(project_dir), "CLAUDE_PROJECT_DIR": str(project_dir)}
        return Probe(json.dumps(payload).encode(), env)

    def read_answer(self, stdout: str) -> tuple[str | None, str]:
        return read_decision(stdout)


WIRING: RuntimeWiring = GeminiWiring()
