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
from pathlib import Path
from typing import Any

from ringfence.wiring.base import Found, Probe, RuntimeWiring, Scope, first_line, scope_dir
from ringfence.wiring.hookfile import NOTHING_TO_REMOVE, Hook, HookFile, planned
from ringfence.wiring.jsonfile import Plan, load

RUNTIME = "claude-code"
EVENT = "PreToolUse"
POST_EVENT = "PostToolUse"  # records what the person answered at Claude Code's own prompt
EVENTS = (EVENT, POST_EVENT)
MATCHER = "Bash|Write|Edit|MultiEdit|Read|NotebookEdit|Grep|Glob|mcp__.*"
DEFAULT_TIMEOUT = 30

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
    return scope_dir(scope, project_dir, home) / ".claude" / "settings.json"


def local_settings_path(project_dir: Path) -> Path:
    """``<project>/.claude/settings.local.json``: read by Claude Code, never written by ringfence."""
    return project_dir / ".claude" / "settings.local.json"


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


HOOKS = HookFile(
    RUNTIME,
    "Claude Code",
    example_event=EVENT,
    items='an array of matcher groups ([{"matcher": ..., "hooks": [...]}])',
    item='a matcher group ({"matcher": ..., "hooks": [...]})',
    grouped=True,
    coverage=coverage,
)
is_ringfence_command = HOOKS.is_ours


def find_hooks(data: dict[str, Any], path: Path, text: str | None = None) -> list[Hook]:
    """Every ringfence ``PreToolUse`` hook in parsed settings ``data`` (read from ``path``,
    whose ``text`` locates type errors). Raises :class:`SettingsFileError` when
    ``hooks`` or ``hooks.PreToolUse`` has the wrong shape."""
    return HOOKS.find(data, path, text, (EVENT,))


def read_hooks(path: Path) -> list[Hook]:
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
        where = "" if event == EVENT else f" ({event})"
        hook = {"type": "command", "command": command, "timeout": timeout}
        fill = {"timeout": f"set the hook timeout to {timeout} s{where}"}
        HOOKS.install_group(data, path, text, event, hook, matcher, fill, changes, notes, where)
    return planned(path, text, data, changes, notes)


def plan_uninstall(path: Path) -> Plan:
    """Plan removing every ringfence hook from the settings file ``path``, with the
    matcher groups, event arrays and ``hooks`` object that this leaves empty. Groups,
    events and keys that still hold anything else stay."""
    data, text = load(path)
    return planned(path, text, data, HOOKS.remove_all(data, path, text, EVENTS), unchanged=NOTHING_TO_REMOVE)


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

    settings_path = staticmethod(settings_path)
    plan_install = staticmethod(plan_install)
    plan_uninstall = staticmethod(plan_uninstall)
    read_answer = staticmethod(read_decision)

    def read_paths(self, scopes: Sequence[Scope], project_dir: Path, home: Path | None = None) -> list[Path]:
        files: list[Path] = []
        if "project" in scopes:
            files += [local_settings_path(project_dir), settings_path("project", project_dir)]
        if "user" in scopes:
            files.append(settings_path("user", home=home))
        return files

    def find(self, path: Path) -> list[Found]:
        return [Found(path, entry.command, f"matcher {entry.matcher!r}", entry.covers) for entry in read_hooks(path)]

    def probe(self, shell_command: str, project_dir: Path, tag: str) -> Probe:
        tool_input = {"command": shell_command, "description": f"ringfence doctor probe ({tag})"}
        payload = hook_payload("Bash", tool_input, project_dir, tag)
        return Probe(json.dumps(payload).encode(), {"CLAUDE_PROJECT_DIR": str(project_dir)})


WIRING: RuntimeWiring = ClaudeCodeWiring()
