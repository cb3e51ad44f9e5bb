"""Wiring ringfence into GitHub Copilot CLI as a ``preToolUse`` command hook.

Copilot CLI loads every ``*.json`` file in ``<repository>/.github/hooks/`` (project scope,
also read by Copilot's cloud agent from the default branch) and in
``~/.copilot/hooks/`` (user scope, Copilot CLI only). ringfence keeps its hook in a file
of its own, ``ringfence.json``, in this shape::

    {"version": 1, "hooks": {"preToolUse": [
        {"type": "command", "bash": "/abs/bin/ringfence hook copilot", "timeoutSec": 30}
    ]}}

A ringfence entry is a hook whose ``bash`` command contains ``ringfence`` and
`` hook copilot``. :func:`plan_install` adds one (or updates the existing one in place)
and :func:`plan_uninstall` removes it, leaving every other key, hook and event alone;
both only *plan*. A file whose ``version`` is not 1 is not one Copilot CLI reads: the
doctor reports its hooks as covering nothing. A hook's optional ``matcher`` is a regular
expression that must match the whole tool name.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ringfence.jsontype import json_type
from ringfence.wiring.base import Found, Probe, RuntimeWiring, Scope, first_line, scope_dir
from ringfence.wiring.hookfile import NOTHING_TO_REMOVE, Hook, HookFile, planned
from ringfence.wiring.jsonfile import Plan, SettingsFileError, load

RUNTIME = "copilot"
EVENT = "preToolUse"
VERSION = 1
FILE_NAME = "ringfence.json"
DEFAULT_TIMEOUT_SEC = 30
SCOPES: tuple[Scope, ...] = ("project", "user")

#: The tools ringfence must see, each with the tool name used to test a matcher.
PROTECTED_TOOLS: dict[str, str] = {
    "bash": "bash",
    "powershell": "powershell",
    "create": "create",
    "edit": "edit",
    "view": "view",
    "mcp": "github-mcp-server-get_issue",
}


def hooks_dir(scope: Scope, project_dir: Path | None = None, home: Path | None = None) -> Path:
    """``<project>/.github/hooks`` or ``~/.copilot/hooks``."""
    return scope_dir(scope, project_dir, home) / (".copilot" if scope == "user" else ".github") / "hooks"


def settings_path(scope: Scope, project_dir: Path | None = None, home: Path | None = None) -> Path:
    """The file ringfence writes: ``ringfence.json`` in :func:`hooks_dir`."""
    return hooks_dir(scope, project_dir, home) / FILE_NAME


def matcher_covers(matcher: object, tool_name: str) -> bool:
    """Whether a hook's ``matcher`` selects ``tool_name``: no matcher selects every tool;
    otherwise it is a regular expression anchored at both ends."""
    if matcher is None:
        return True
    if not isinstance(matcher, str):
        return False
    try:
        return re.fullmatch(f"(?:{matcher})", tool_name) is not None
    except re.error:
        return False


def coverage(matcher: object) -> dict[str, bool]:
    return {label: matcher_covers(matcher, name) for label, name in PROTECTED_TOOLS.items()}


HOOKS = HookFile(
    RUNTIME,
    "Copilot CLI",
    example_event=EVENT,
    items='an array of hooks ([{"type": "command", "bash": ...}])',
    item='a hook ({"type": "command", "bash": ...})',
    grouped=False,
    command_key="bash",
    coverage=coverage,
)


def read_hooks(path: Path) -> list[Hook]:
    data, text = load(path)
    return HOOKS.find(data, path, text, (EVENT,))


def plan_install(path: Path, command: str, *, timeout: int = DEFAULT_TIMEOUT_SEC) -> Plan:
    """Plan wiring ``command`` as a ``preToolUse`` hook into ``path``.

    Idempotent: an existing ringfence hook is updated in place (``bash``, ``type``; a
    missing ``timeoutSec`` is added, a present one kept) and further ringfence hooks are
    removed. A file without ``version`` gets ``"version": 1``; another version is refused.
    """
    data, text = load(path)
    if "version" in data and data["version"] != VERSION:
        raise SettingsFileError(
            path,
            f"version is {data['version']!r}, but Copilot CLI reads hook files of version {VERSION}; "
            "fix it (or move the file away) and run again — nothing was changed",
        )
    hooks = HOOKS.event_items(data, path, text, EVENT)
    entries = [] if hooks is None else HOOKS.ours(hooks, EVENT)
    changes: list[str] = []
    if "version" not in data:
        data = {"version": VERSION, **data}
        changes.append(f"set the file's version to {VERSION}")
    if hooks is None:
        hooks = data.setdefault("hooks", {}).setdefault(EVENT, [])
    if not entries:
        hooks.append({"type": "command", "bash": command, "timeoutSec": timeout})
        changes.append(f"add a {EVENT} hook: {command}")
    else:
        first, *duplicates = entries
        hook = hooks[first.index]
        if hook.get("type") != "command":
            hook["type"] = "command"
            changes.append('set the hook\'s type to "command"')
        if hook.get("bash") != command:
            changes.append(f"update the hook command: {hook.get('bash')} → {command}")
            hook["bash"] = command
        if "timeoutSec" not in hook:
            hook["timeoutSec"] = timeout
            changes.append(f"set the hook timeout to {timeout} s")
        if "matcher" in hook:
            changes.append(f"remove the hook's matcher {hook['matcher']!r}: ringfence sees every tool")
            del hook["matcher"]
        for entry in reversed(duplicates):
            del hooks[entry.index]
            changes.append(f"remove a duplicate ringfence hook: {entry.command}")
    return planned(path, text, data, changes)


def plan_uninstall(path: Path) -> Plan:
    """Plan removing every ringfence hook from ``path``, with the ``preToolUse`` array and
    ``hooks`` object this leaves empty; ringfence's own ``ringfence.json`` is deleted when
    nothing but its version is left."""
    data, text = load(path)
    changes = HOOKS.remove_all(data, path, text, (EVENT,))
    if changes and path.name == FILE_NAME and data == {"version": VERSION}:  # ringfence's own file, now empty
        changes.append(f"delete {path.name}, which holds nothing else")
        return Plan(path, text, None, tuple(changes))
    return planned(path, text, data, changes, unchanged=NOTHING_TO_REMOVE)


# --- talking to the hook as Copilot CLI does --------------------------------------------------


def hook_payload(tool_name: str, tool_args: dict[str, Any], cwd: Path) -> dict[str, Any]:
    """A camelCase ``preToolUse`` event as Copilot CLI sends it: ``toolArgs`` is a JSON string."""
    return {
        "sessionId": str(uuid.uuid4()),
        "timestamp": int(time.time() * 1000),
        "cwd": str(cwd),
        "toolName": tool_name,
        "toolArgs": json.dumps(tool_args),
    }


def read_decision(stdout: str) -> tuple[str | None, str]:
    """What Copilot CLI does with a hook's stdout (exit 0): ``("allow" | "deny", what it
    read)``, or ``(None, what is wrong)``."""
    if not stdout.strip():
        return None, "exit 0 with empty stdout (Copilot CLI applies its own rules and the tool may run)"
    try:
        answer = json.loads(stdout.strip())
    except ValueError:
        return None, f"stdout is not a single JSON document: {first_line(stdout)!r}"
    if not isinstance(answer, dict):
        return None, f"stdout is a JSON {json_type(answer)}, not an object: {first_line(stdout)!r}"
    decision = answer.get("permissionDecision")
    reason = answer.get("permissionDecisionReason")
    detail = f": {first_line(reason)}" if isinstance(reason, str) and reason.strip() else ""
    if decision in ("allow", "deny"):
        return str(decision), f"{decision}{detail}"
    if decision == "ask":
        return None, "permissionDecision is 'ask', which Copilot CLI approves without a person under --allow-all-tools"
    return None, f"permissionDecision is {decision!r}, not allow or deny (Copilot CLI ignores it)"


class CopilotWiring:
    runtime = RUNTIME
    title = "Copilot CLI"
    scopes = SCOPES
    protected = tuple(PROTECTED_TOOLS)
    restart = "Copilot CLI loads hook files when a session starts: restart running `copilot` sessions."

    settings_path = staticmethod(settings_path)
    plan_install = staticmethod(plan_install)
    plan_uninstall = staticmethod(plan_uninstall)
    read_answer = staticmethod(read_decision)

    def read_paths(self, scopes: Sequence[Scope], project_dir: Path, home: Path | None = None) -> list[Path]:
        files: list[Path] = []
        for scope in ("project", "user"):
            if scope not in scopes:
                continue
            ours = settings_path(scope, project_dir, home)
            directory = ours.parent
            others = sorted(p for p in directory.glob("*.json") if p != ours) if directory.is_dir() else []
            files += [ours, *others]
        return files

    def find(self, path: Path) -> list[Found]:
        data, text = load(path)
        found: list[Found] = []
        for entry in HOOKS.find(data, path, text, (EVENT,)):
            if data.get("version") != VERSION:
                why = f"version is {data.get('version')!r}, not {VERSION}: Copilot CLI does not read this file"
                found.append(Found(path, entry.command, f"{EVENT} ({why})", {t: False for t in PROTECTED_TOOLS}))
                continue
            where = EVENT + (f" matcher {entry.matcher!r}" if entry.matcher is not None else " (every tool)")
            found.append(Found(path, entry.command, where, entry.covers))
        return found

    def probe(self, shell_command: str, project_dir: Path, tag: str) -> Probe:
        args = {"command": shell_command, "description": f"ringfence doctor probe ({tag})"}
        return Probe(json.dumps(hook_payload("bash", args, project_dir)).encode())


WIRING: RuntimeWiring = CopilotWiring()
