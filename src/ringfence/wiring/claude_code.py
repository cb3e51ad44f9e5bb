"""Wiring ringfence into Claude Code's settings files as a ``PreToolUse`` command hook.

Claude Code reads hooks from ``~/.claude/settings.json`` (user scope),
``<project>/.claude/settings.json`` (project scope, committed) and
``<project>/.claude/settings.local.json`` (local project scope, not committed), in this
shape::

    {"hooks": {"PreToolUse": [
        {"matcher": "Bash|Write|...", "hooks": [
            {"type": "command", "command": "/abs/bin/ringfence hook claude-code", "timeout": 30}
        ]}
    ]}}

A ringfence entry is a hook whose ``command`` contains ``ringfence`` and
`` hook claude-code``. :func:`plan_install` adds one (or updates the existing one in
place) and :func:`plan_uninstall` removes them; both leave every other setting, hook,
key and key order alone. Both only *plan*: :func:`ringfence.wiring.jsonfile.apply`
carries a plan out.
"""

from __future__ import annotations

import json
import re
import tempfile
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

from ringfence.wiring.base import Found, Probe, RuntimeWiring, Scope, first_line
from ringfence.wiring.jsonfile import (
    Plan,
    SettingsFileError,
    dump_like,
    format_pointer,
    json_type,
    load,
    locate,
)

RUNTIME = "claude-code"
EVENT = "PreToolUse"
POST_EVENT = "PostToolUse"  # records what the person answered at Claude Code's own prompt
EVENTS = (EVENT, POST_EVENT)
MATCHER = "Bash|Write|Edit|MultiEdit|Read|NotebookEdit|Grep|Glob|mcp__.*"
DEFAULT_TIMEOUT = 30
HOOK_MARKER = f" hook {RUNTIME}"

SCOPES: tuple[Scope, ...] = ("project", "user")

#: The tools ringfence must see, each with the tool name used to test a matcher.
PROTECTED_TOOLS: dict[str, str] = {
    "Bash": "Bash",
    "Write": "Write",
    "Edit": "Edit",
    "MultiEdit": "MultiEdit",
    "Read": "Read",
    "NotebookEdit": "NotebookEdit",
    "mcp": "mcp__any_server__any_tool",
}

_PLAIN_MATCHER = re.compile(r"[A-Za-z0-9_|]+")


def settings_path(scope: Scope, project_dir: Path | None = None, home: Path | None = None) -> Path:
    """The settings file Claude Code reads for ``scope``: ``<project>/.claude/settings.json``
    or ``~/.claude/settings.json``."""
    if scope == "user":
        return (home if home is not None else Path.home()) / ".claude" / "settings.json"
    return (project_dir if project_dir is not None else Path.cwd()) / ".claude" / "settings.json"


def local_settings_path(project_dir: Path) -> Path:
    """``<project>/.claude/settings.local.json``: read by Claude Code, never written by ringfence."""
    return project_dir / ".claude" / "settings.local.json"


def is_ringfence_command(command: object) -> bool:
    """Whether a hook ``command`` is ringfence's Claude Code hook."""
    return isinstance(command, str) and "ringfence" in command and HOOK_MARKER in command


def matcher_covers(matcher: object, tool_name: str) -> bool:
    """Whether a ``PreToolUse`` matcher selects ``tool_name``, as Claude Code decides it:
    a missing, empty or ``*`` matcher selects every tool; a matcher made only of letters,
    digits, ``_`` and ``|`` is a list of exact names; anything else is a regular
    expression searched in the tool name (case-sensitive)."""
    if matcher is None or matcher in ("", "*"):
        return True
    if not isinstance(matcher, str):
        return False
    if _PLAIN_MATCHER.fullmatch(matcher):
        return tool_name in matcher.split("|")
    try:
        return re.search(matcher, tool_name) is not None
    except re.error:
        return False


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
    timeout: float | None

    @property
    def covers(self) -> dict[str, bool]:
        return coverage(self.matcher)


def _type_error(path: Path, text: str | None, pointer: tuple[str | int, ...], value: Any, expected: str) -> NoReturn:
    where = locate(text, pointer) if text is not None else None
    line, column = where if where is not None else (None, None)
    raise SettingsFileError(
        path,
        f"{format_pointer(pointer)} is a JSON {json_type(value)}, but Claude Code expects {expected}; "
        "fix it (or move the file away) and run again — nothing was changed",
        line,
        column,
    )


def _pre_tool_use(data: dict[str, Any], path: Path, text: str | None, event: str = EVENT) -> list[Any] | None:
    """The ``hooks.<event>`` array (``None`` if absent), after checking the types."""
    if "hooks" not in data:
        return None
    hooks = data["hooks"]
    if not isinstance(hooks, dict):
        _type_error(path, text, ("hooks",), hooks, 'an object of hook events ({"PreToolUse": [...]})')
    if event not in hooks:
        return None
    groups = hooks[event]
    if not isinstance(groups, list):
        _type_error(
            path,
            text,
            ("hooks", event),
            groups,
            'an array of matcher groups ([{"matcher": ..., "hooks": [...]}])',
        )
    for gi, group in enumerate(groups):
        if not isinstance(group, dict):
            _type_error(path, text, ("hooks", event, gi), group, 'a matcher group ({"matcher": ..., "hooks": [...]})')
        if "hooks" in group and not isinstance(group["hooks"], list):
            _type_error(path, text, ("hooks", event, gi, "hooks"), group["hooks"], "an array of hooks")
    return groups


def _entries(groups: list[Any]) -> list[HookEntry]:
    found: list[HookEntry] = []
    for gi, group in enumerate(groups):
        for hi, hook in enumerate(group.get("hooks", [])):
            if isinstance(hook, dict) and is_ringfence_command(hook.get("command")):
                matcher = group.get("matcher")
                timeout = hook.get("timeout")
                found.append(
                    HookEntry(
                        group_index=gi,
                        hook_index=hi,
                        matcher=matcher if isinstance(matcher, str) else None,
                        command=hook["command"],
                        timeout=float(timeout)
                        if isinstance(timeout, int | float) and not isinstance(timeout, bool)
                        else None,
                    )
                )
    return found


def find_hooks(data: dict[str, Any], path: Path, text: str | None = None) -> list[HookEntry]:
    """Every ringfence ``PreToolUse`` hook in parsed settings ``data`` (read from ``path``,
    whose ``text`` locates type errors). Raises :class:`SettingsFileError` when
    ``hooks`` or ``hooks.PreToolUse`` has the wrong shape."""
    groups = _pre_tool_use(data, path, text)
    return [] if groups is None else _entries(groups)


def read_hooks(path: Path) -> list[HookEntry]:
    """Load ``path`` and return its ringfence hooks (a missing file has none)."""
    data, text = load(path)
    return find_hooks(data, path, text)


def plan_install(path: Path, command: str, *, matcher: str = MATCHER, timeout: int = DEFAULT_TIMEOUT) -> Plan:
    """Plan wiring ``command`` as a ``PreToolUse`` hook, and as a ``PostToolUse`` hook that
    records what the person answered at Claude Code's own prompt, into ``path``.

    Idempotent: an existing ringfence hook is updated in place (command, ``type``; a
    missing ``timeout`` is added, a present one kept; the matcher of a group that holds
    only ringfence hooks is reset to ``matcher``) and any further ringfence hooks are
    removed, so exactly one remains per event. Everything else is left as it is.
    """
    data, text = load(path)
    changes: list[str] = []
    notes: list[str] = []
    for event in EVENTS:
        _install_event(data, path, text, event, command, matcher, timeout, changes, notes)
    if not changes:
        return Plan(path, text, text, (), (*notes, "ringfence is already wired; nothing to change"))
    return Plan(path, text, dump_like(data, text), tuple(changes), tuple(notes))


def _install_event(
    data: dict[str, Any],
    path: Path,
    text: str | None,
    event: str,
    command: str,
    matcher: str,
    timeout: int,
    changes: list[str],
    notes: list[str],
) -> None:
    groups = _pre_tool_use(data, path, text, event)
    entries = [] if groups is None else _entries(groups)
    where = "" if event == EVENT else f" ({event})"
    if groups is None:
        hooks = data.setdefault("hooks", {})
        groups = hooks.setdefault(event, [])
    if not entries:
        groups.append({"matcher": matcher, "hooks": [{"type": "command", "command": command, "timeout": timeout}]})
        changes.append(f"add a {event} hook for {matcher!r}: {command}")
        return
    first, *duplicates = entries
    group = groups[first.group_index]
    hook = group["hooks"][first.hook_index]
    if hook.get("type") != "command":
        hook["type"] = "command"
        changes.append(f'set the hook\'s type to "command"{where}')
    if hook.get("command") != command:
        changes.append(f"update the hook command{where}: {hook.get('command')} → {command}")
        hook["command"] = command
    if "timeout" not in hook:
        hook["timeout"] = timeout
        changes.append(f"set the hook timeout to {timeout} s{where}")
    if group.get("matcher") != matcher:
        only_ours = all(isinstance(h, dict) and is_ringfence_command(h.get("command")) for h in group["hooks"])
        if only_ours:
            changes.append(f"set the matcher{where}: {group.get('matcher')!r} → {matcher!r}")
            group["matcher"] = matcher
        else:
            missing = [tool for tool, ok in coverage(group.get("matcher")).items() if not ok]
            if missing:
                notes.append(
                    f"the ringfence hook{where} shares the matcher {group.get('matcher')!r} with other hooks, "
                    f"which does not cover {', '.join(missing)}; left unchanged"
                )
    for entry in reversed(duplicates):
        dup_group = groups[entry.group_index]
        del dup_group["hooks"][entry.hook_index]
        if not dup_group["hooks"]:
            del groups[entry.group_index]
        changes.append(f"remove a duplicate ringfence hook{where}: {entry.command}")


def plan_uninstall(path: Path) -> Plan:
    """Plan removing every ringfence hook from the settings file ``path``, with the
    matcher groups, event arrays and ``hooks`` object that this leaves empty. Groups,
    events and keys that still hold anything else stay."""
    data, text = load(path)
    changes: list[str] = []
    for event in EVENTS:
        groups = _pre_tool_use(data, path, text, event)
        entries = [] if groups is None else _entries(groups)
        if groups is None or not entries:
            continue
        removed: list[str] = []
        for entry in reversed(entries):
            group = groups[entry.group_index]
            del group["hooks"][entry.hook_index]
            removed.append(f"remove the {event} hook {entry.command}")
            if not group["hooks"]:
                del groups[entry.group_index]
        changes.extend(reversed(removed))
        if not groups:
            del data["hooks"][event]
            changes.append(f"remove the now empty hooks.{event}")
    if not changes:
        return Plan(path, text, text, (), ("no ringfence hook found; nothing to change",))
    if "hooks" in data and not data["hooks"]:
        del data["hooks"]
        changes.append("remove the now empty hooks")
    return Plan(path, text, dump_like(data, text), tuple(changes))


# --- the runtime wiring the commands use ------------------------------------------------------


def hook_payload(tool_name: str, tool_input: Mapping[str, Any], cwd: Path, tag: str) -> dict[str, Any]:
    """A ``PreToolUse`` event shaped exactly like the one Claude Code sends on stdin."""
    session = f"ringfence-doctor-{uuid.uuid4()}"
    return {
        "session_id": session,
        "transcript_path": str(Path(tempfile.gettempdir()) / "ringfence-doctor" / f"{session}.jsonl"),
        "cwd": str(cwd),
        "permission_mode": "default",
        "hook_event_name": EVENT,
        "tool_name": tool_name,
        "tool_input": dict(tool_input),
        "tool_use_id": f"toolu_ringfence_doctor_{tag}",
    }


def read_decision(stdout: str) -> tuple[str | None, str]:
    """The ``permissionDecision`` Claude Code reads from a hook's stdout (exit 0), or
    ``(None, what is wrong)``."""
    if not stdout.strip():
        return None, "exit 0 with empty stdout (Claude Code treats that as no decision)"
    try:
        answer = json.loads(stdout)
    except ValueError:
        return None, f"stdout is not a single JSON document: {first_line(stdout)!r}"
    output = answer.get("hookSpecificOutput") if isinstance(answer, dict) else None
    if not isinstance(output, dict):
        return None, f"stdout has no hookSpecificOutput object: {first_line(stdout)!r}"
    if output.get("hookEventName") != EVENT:
        return None, f"hookSpecificOutput.hookEventName is {output.get('hookEventName')!r}, not {EVENT!r}"
    decision = output.get("permissionDecision")
    if decision not in ("allow", "deny", "ask"):
        return None, f"hookSpecificOutput.permissionDecision is {decision!r}, not allow, deny or ask"
    reason = output.get("permissionDecisionReason")
    text = str(decision)
    if isinstance(reason, str) and reason.strip():
        text += f": {first_line(reason)}"
    return str(decision), text


class ClaudeCodeWiring:
    runtime = RUNTIME
    title = "Claude Code"
    scopes = SCOPES
    protected = tuple(PROTECTED_TOOLS)
    restart = "Claude Code reads hooks at start-up: restart running sessions (or review the change in /hooks)."

    def settings_path(self, scope: Scope, project_dir: Path, home: Path | None = None) -> Path:
        return settings_path(scope, project_dir, home)

    def read_paths(self, scopes: Sequence[Scope], project_dir: Path, home: Path | None = None) -> list[Path]:
        files: list[Path] = []
        if "project" in scopes:
            files += [local_settings_path(project_dir), settings_path("project", project_dir)]
        if "user" in scopes:
            files.append(settings_path("user", home=home))
        return files

    def plan_install(self, path: Path, command: str) -> Plan:
        return plan_install(path, command)

    def plan_uninstall(self, path: Path) -> Plan:
        return plan_uninstall(path)

    def find(self, path: Path) -> list[Found]:
        return [Found(path, entry.command, f"matcher {entry.matcher!r}", entry.covers) for entry in read_hooks(path)]

    def probe(self, shell_command: str, project_dir: Path, tag: str) -> Probe:
        tool_input = {"command": shell_command, "description": f"ringfence doctor probe ({tag})"}
        payload = hook_payload("Bash", tool_input, project_dir, tag)
        return Probe(json.dumps(payload).encode(), {"CLAUDE_PROJECT_DIR": str(project_dir)})

    def read_answer(self, stdout: str) -> tuple[str | None, str]:
        return read_decision(stdout)


WIRING: RuntimeWiring = ClaudeCodeWiring()
