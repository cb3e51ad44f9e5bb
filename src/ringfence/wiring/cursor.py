"""Wiring ringfence into Cursor's ``hooks.json`` as a command hook on every pre-action event.

Cursor reads hooks from ``<project>/.cursor/hooks.json`` (project scope, runs in a
trusted workspace), ``~/.cursor/hooks.json`` (user scope) and an enterprise file
(``/etc/cursor/hooks.json`` on Linux, managed by an administrator; ringfence never writes
it). Every file that exists is used. The shape::

    {"version": 1, "hooks": {
        "beforeShellExecution": [{"command": "/abs/bin/ringfence hook cursor",
                                  "timeout": 30, "failClosed": true}],
        "preToolUse": [{"command": "...", "matcher": "Write|StrReplace|...", ...}],
        ...
    }}

ringfence wires :data:`DECIDE_EVENTS` (each with ``failClosed``, so a hook that crashes
or times out blocks the action instead of letting it run) and :data:`RECORD_EVENTS`
(the tool ran: record what the person answered at Cursor's own prompt). A ringfence
entry is one whose ``command`` contains ``ringfence`` and `` hook cursor``;
:func:`plan_install` adds one per event (or updates the existing one in place) and
:func:`plan_uninstall` removes them, leaving every other hook, key and key order alone.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ringfence.wiring.base import Found, Probe, RuntimeWiring, Scope, first_line, scope_dir
from ringfence.wiring.claude_code import matcher_covers
from ringfence.wiring.hookfile import NOTHING_TO_REMOVE, Hook, HookFile, planned
from ringfence.wiring.jsonfile import Plan, load

RUNTIME = "cursor"
DEFAULT_TIMEOUT = 30  # seconds, as Cursor reads ``timeout``
VERSION = 1
#: The tools ``preToolUse`` sends to ringfence: file writes, deletes and searches (shell,
#: MCP and reads have events of their own, so they are not decided twice).
WRITE_MATCHER = "Write|StrReplace|Edit|MultiEdit|Delete|EditNotebook|NotebookEdit|Grep|Glob"
#: Pre-action events ringfence decides on, with the matcher each is wired with.
DECIDE_EVENTS: dict[str, str | None] = {
    "beforeShellExecution": None,
    "beforeMCPExecution": None,
    "beforeReadFile": None,
    "preToolUse": WRITE_MATCHER,
}
#: After-the-fact events: they only record the answer given at Cursor's prompt.
RECORD_EVENTS: dict[str, str | None] = {"afterShellExecution": None, "afterMCPExecution": None}
EVENTS: dict[str, str | None] = {**DECIDE_EVENTS, **RECORD_EVENTS}

SCOPES: tuple[Scope, ...] = ("project", "user")

#: What the doctor requires to be gated: label → (event, tool name tested against its matcher).
PROTECTED: dict[str, tuple[str, str | None]] = {
    "Shell": ("beforeShellExecution", None),
    "MCP": ("beforeMCPExecution", None),
    "Read": ("beforeReadFile", None),
    "Write": ("preToolUse", "Write"),
    "StrReplace": ("preToolUse", "StrReplace"),
    "Delete": ("preToolUse", "Delete"),
}


def settings_path(scope: Scope, project_dir: Path | None = None, home: Path | None = None) -> Path:
    """``<project>/.cursor/hooks.json`` or ``~/.cursor/hooks.json``."""
    return scope_dir(scope, project_dir, home) / ".cursor" / "hooks.json"


HOOKS = HookFile(
    RUNTIME,
    "Cursor",
    example_event="beforeShellExecution",
    items='an array of hooks ([{"command": ...}])',
    item='a hook ({"command": ...})',
    grouped=False,
)


def covers(entry: Hook) -> dict[str, bool]:
    """For each of :data:`PROTECTED`, whether the hook ``entry`` gates it."""
    return {
        label: event == entry.event and (tool is None or matcher_covers(entry.matcher, tool))
        for label, (event, tool) in PROTECTED.items()
    }


def find_hooks(data: dict[str, Any], path: Path, text: str | None = None) -> list[Hook]:
    """Every ringfence hook in parsed hooks ``data`` (read from ``path``)."""
    return HOOKS.find(data, path, text, EVENTS)


def read_hooks(path: Path) -> list[Hook]:
    """Load ``path`` and return its ringfence hooks (a missing file has none)."""
    data, text = load(path)
    return find_hooks(data, path, text)


def _wanted(command: str, matcher: str | None, timeout: int, decides: bool) -> dict[str, Any]:
    entry: dict[str, Any] = {"command": command}
    if matcher is not None:
        entry["matcher"] = matcher
    entry["timeout"] = timeout
    if decides:
        entry["failClosed"] = True
    return entry


def plan_install(path: Path, command: str, *, timeout: int = DEFAULT_TIMEOUT) -> Plan:
    """Plan wiring ``command`` into every event of :data:`EVENTS` in ``path``.

    Idempotent: an existing ringfence hook is updated in place (command, matcher,
    ``failClosed``; a missing ``timeout`` is added, a present one kept) and further
    ringfence hooks for the same event are removed. A new hook goes last in its event's
    list, after the hooks already there. Everything else is left as it is.
    """
    data, text = load(path)
    changes: list[str] = []
    notes: list[str] = []
    version = data.get("version")
    if "version" not in data:
        data = {"version": VERSION, **data}
        changes.append(f"set version to {VERSION}")
    elif version != VERSION:
        notes.append(f"the file declares version {version!r}; Cursor reads version {VERSION}")
    for event, matcher in EVENTS.items():
        decides = event in DECIDE_EVENTS
        entries = HOOKS.event_items(data, path, text, event)
        ours = [] if entries is None else HOOKS.ours(entries, event)
        if entries is None:
            entries = data.setdefault("hooks", {}).setdefault(event, [])
        if not ours:
            entries.append(_wanted(command, matcher, timeout, decides))
            changes.append(f"add a {event} hook{f' for {matcher!r}' if matcher else ''}: {command}")
            continue
        first, *duplicates = ours
        entry = entries[first.index]
        if entry.get("command") != command:
            changes.append(f"update the {event} hook command: {entry.get('command')} → {command}")
            entry["command"] = command
        if matcher is not None and entry.get("matcher") != matcher:
            changes.append(f"set the {event} matcher: {entry.get('matcher')!r} → {matcher!r}")
            entry["matcher"] = matcher
        if matcher is None and "matcher" in entry:
            changes.append(f"remove the {event} matcher {entry['matcher']!r} (ringfence sees every call)")
            del entry["matcher"]
        if "timeout" not in entry:
            entry["timeout"] = timeout
            changes.append(f"set the {event} hook timeout to {timeout} s")
        if decides and entry.get("failClosed") is not True:
            entry["failClosed"] = True
            changes.append(f"set failClosed on the {event} hook (a failing hook blocks)")
        for dup in reversed(duplicates):
            del entries[dup.index]
            changes.append(f"remove a duplicate ringfence {event} hook: {dup.command}")
    return planned(path, text, data, changes, notes)


def plan_uninstall(path: Path) -> Plan:
    """Plan removing every ringfence hook from ``path``, with the event lists and the
    ``hooks`` object this leaves empty. Everything else stays."""
    data, text = load(path)
    return planned(path, text, data, HOOKS.remove_all(data, path, text, EVENTS), unchanged=NOTHING_TO_REMOVE)


# --- the runtime wiring the commands use ------------------------------------------------------


def shell_payload(command: str, cwd: Path, tag: str) -> dict[str, Any]:
    """A ``beforeShellExecution`` event shaped exactly like the one Cursor sends on stdin."""
    return {
        "conversation_id": f"ringfence-doctor-{uuid.uuid4()}",
        "generation_id": f"ringfence-doctor-{tag}",
        "model": "ringfence-doctor",
        "hook_event_name": "beforeShellExecution",
        "cursor_version": "2.0.0",
        "workspace_roots": [str(cwd)],
        "user_email": None,
        "command": command,
        "cwd": str(cwd),
    }


def read_decision(stdout: str) -> tuple[str | None, str]:
    """The ``permission`` Cursor reads from a hook's stdout (exit 0), or ``(None, what is wrong)``."""
    if not stdout.strip():
        return None, "exit 0 with empty stdout (Cursor treats that as no decision and runs the action)"
    try:
        answer = json.loads(stdout)
    except ValueError:
        return None, f"stdout is not a single JSON document: {first_line(stdout)!r}"
    if not isinstance(answer, dict):
        return None, f"stdout is not a JSON object: {first_line(stdout)!r}"
    permission = answer.get("permission")
    if permission not in ("allow", "deny", "ask"):
        return None, f"permission is {permission!r}, not allow, deny or ask"
    message = answer.get("user_message") or answer.get("userMessage")
    text = str(permission)
    if isinstance(message, str) and message.strip():
        text += f": {first_line(message)}"
    return str(permission), text


class CursorWiring:
    runtime = RUNTIME
    title = "Cursor"
    scopes = SCOPES
    protected = tuple(PROTECTED)
    restart = "Cursor reloads hooks.json when it changes; check the Hooks tab in Cursor Settings (restart if absent)."

    settings_path = staticmethod(settings_path)
    plan_install = staticmethod(plan_install)
    plan_uninstall = staticmethod(plan_uninstall)
    read_answer = staticmethod(read_decision)

    def read_paths(self, scopes: Sequence[Scope], project_dir: Path, home: Path | None = None) -> list[Path]:
        return [settings_path(scope, project_dir, home) for scope in ("project", "user") if scope in scopes]

    def find(self, path: Path) -> list[Found]:
        found = []
        for entry in read_hooks(path):
            where = entry.event + (f" matcher {entry.matcher!r}" if entry.matcher else "")
            if entry.event in DECIDE_EVENTS and entry.settings.get("failClosed") is not True:
                where += " (no failClosed: a failing hook lets the action run)"
            found.append(Found(path, entry.command, where, covers(entry)))
        return found

    def probe(self, shell_command: str, project_dir: Path, tag: str) -> Probe:
        payload = shell_payload(shell_command, project_dir, tag)
        return Probe(json.dumps(payload).encode(), {"CURSOR_PROJECT_DIR": str(project_dir)})


WIRING: RuntimeWiring = CursorWiring()
