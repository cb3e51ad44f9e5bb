"""Wiring ringfence into Codex CLI's ``hooks.json`` as a ``PreToolUse`` command hook.

Codex discovers hooks next to each active configuration layer, in ``hooks.json`` or in
inline ``[hooks]`` tables of ``config.toml`` (both are loaded; a layer holding both gets
a start-up warning). The two layers ringfence wires are ``<project>/.codex/`` (project
scope; Codex loads it only for a trusted project) and ``$CODEX_HOME`` (user scope,
``~/.codex/`` by default). ringfence writes ``hooks.json`` — a JSON file, edited with
:mod:`ringfence.wiring.jsonfile` (key order, indentation and every other hook kept,
backup, atomic write) — and only reads ``config.toml`` (with :mod:`tomllib`) to find a
ringfence hook someone wired there by hand. The shape (Codex's ``HooksFile``)::

    {"hooks": {"PreToolUse": [
        {"matcher": "Bash|apply_patch|mcp__.*", "hooks": [
            {"type": "command", "command": "/abs/bin/ringfence hook codex", "timeout": 30}
        ]}
    ]}}

Codex refuses a ``hooks.json`` whose top level has keys other than ``hooks`` and
``description`` (serde ``deny_unknown_fields``): ringfence reports such a file as broken
instead of writing into a file Codex would ignore. A matcher is a list of exact names
when made only of letters, digits, ``_`` and ``|``, ``*``/empty/absent for every tool,
else a regular expression searched in the tool name; ``apply_patch`` is also selected by
``Write`` and ``Edit`` (Codex's matcher aliases for it).

Codex runs a non-managed hook only after a person has reviewed and trusted its exact
definition (``/hooks`` in the CLI); a new or changed hook is skipped until then. The
doctor cannot see that trust, so ``init`` says so.
"""

from __future__ import annotations

import json
import os
import tomllib
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

from ringfence.wiring.base import Found, Probe, RuntimeWiring, Scope, first_line
from ringfence.wiring.claude_code import matcher_covers
from ringfence.wiring.jsonfile import (
    Plan,
    SettingsFileError,
    dump_like,
    format_pointer,
    json_type,
    load,
    locate,
)

RUNTIME = "codex"
EVENT = "PreToolUse"
MATCHER = "Bash|apply_patch|mcp__.*"
DEFAULT_TIMEOUT = 30
HOOK_MARKER = f" hook {RUNTIME}"
ROOT_KEYS = frozenset({"hooks", "description"})
SCOPES: tuple[Scope, ...] = ("project", "user")

#: The tools ringfence must see, each with the names Codex tests a matcher against.
PROTECTED_TOOLS: dict[str, tuple[str, ...]] = {
    "Bash": ("Bash",),
    "apply_patch": ("apply_patch", "Write", "Edit"),
    "mcp": ("mcp__any_server__any_tool",),
}


def codex_home(home: Path | None = None) -> Path:
    """``$CODEX_HOME`` (when no ``home`` is given), else ``<home>/.codex``."""
    if home is None and os.environ.get("CODEX_HOME"):
        return Path(os.environ["CODEX_HOME"])
    return (home if home is not None else Path.home()) / ".codex"


def settings_path(scope: Scope, project_dir: Path | None = None, home: Path | None = None) -> Path:
    """``<project>/.codex/hooks.json`` or ``$CODEX_HOME/hooks.json``."""
    if scope == "user":
        return codex_home(home) / "hooks.json"
    return (project_dir if project_dir is not None else Path.cwd()) / ".codex" / "hooks.json"


def is_ringfence_command(command: object) -> bool:
    """Whether a hook ``command`` is ringfence's Codex hook."""
    return isinstance(command, str) and "ringfence" in command and HOOK_MARKER in command


def coverage(matcher: object) -> dict[str, bool]:
    """For each of :data:`PROTECTED_TOOLS`, whether ``matcher`` selects it."""
    return {label: any(matcher_covers(matcher, n) for n in names) for label, names in PROTECTED_TOOLS.items()}


@dataclass(frozen=True)
class HookEntry:
    group_index: int
    hook_index: int
    matcher: str | None
    command: str

    @property
    def covers(self) -> dict[str, bool]:
        return coverage(self.matcher)


def _type_error(path: Path, text: str | None, pointer: tuple[str | int, ...], value: Any, expected: str) -> NoReturn:
    where = locate(text, pointer) if text is not None else None
    line, column = where if where is not None else (None, None)
    raise SettingsFileError(
        path,
        f"{format_pointer(pointer)} is a JSON {json_type(value)}, but Codex expects {expected}; "
        "fix it (or move the file away) and run again — nothing was changed",
        line,
        column,
    )


def _groups(data: Mapping[str, Any], path: Path, text: str | None, *, hooks_file: bool) -> list[Any] | None:
    """The ``hooks.PreToolUse`` array (``None`` if absent), after checking the types."""
    if hooks_file:
        extra = sorted(set(data) - ROOT_KEYS)
        if extra:
            raise SettingsFileError(
                path,
                f"the top level has {', '.join(map(repr, extra))}, but Codex accepts only 'hooks' and "
                "'description' there and ignores the whole file otherwise; move those keys away and run again "
                "— nothing was changed",
            )
    if "hooks" not in data:
        return None
    hooks = data["hooks"]
    if not isinstance(hooks, dict):
        _type_error(path, text, ("hooks",), hooks, 'an object of hook events ({"PreToolUse": [...]})')
    if EVENT not in hooks:
        return None
    groups = hooks[EVENT]
    if not isinstance(groups, list):
        _type_error(
            path, text, ("hooks", EVENT), groups, 'an array of matcher groups ([{"matcher": ..., "hooks": [...]}])'
        )
    for gi, group in enumerate(groups):
        if not isinstance(group, dict):
            _type_error(path, text, ("hooks", EVENT, gi), group, 'a matcher group ({"matcher": ..., "hooks": [...]})')
        if "hooks" in group and not isinstance(group["hooks"], list):
            _type_error(path, text, ("hooks", EVENT, gi, "hooks"), group["hooks"], "an array of hooks")
    return groups


def _entries(groups: list[Any]) -> list[HookEntry]:
    found = []
    for gi, group in enumerate(groups):
        for hi, hook in enumerate(group.get("hooks", [])):
            if isinstance(hook, dict) and is_ringfence_command(hook.get("command")):
                matcher = group.get("matcher")
                found.append(HookEntry(gi, hi, matcher if isinstance(matcher, str) else None, hook["command"]))
    return found


def read_hooks(path: Path) -> list[HookEntry]:
    """ringfence's hooks in ``path`` (``hooks.json``, or the ``[hooks]`` tables of a
    ``config.toml``); a missing file has none."""
    if path.suffix == ".toml":
        return _toml_hooks(path)
    data, text = load(path)
    groups = _groups(data, path, text, hooks_file=True)
    return [] if groups is None else _entries(groups)


def _toml_hooks(path: Path) -> list[HookEntry]:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise SettingsFileError(path, f"cannot be read: {exc.strerror or exc}") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise SettingsFileError(path, f"is not valid TOML ({exc}); Codex will not start with it") from None
    groups = _groups(data, path, None, hooks_file=False)
    return [] if groups is None else _entries(groups)


def plan_install(path: Path, command: str, *, matcher: str = MATCHER, timeout: int = DEFAULT_TIMEOUT) -> Plan:
    """Plan wiring ``command`` as a ``PreToolUse`` hook into the ``hooks.json`` at ``path``.

    Idempotent: an existing ringfence hook is updated in place (command, ``type``; a
    missing ``timeout`` is added, a present one kept; the matcher of a group holding only
    ringfence hooks is reset to ``matcher``) and further ringfence hooks are removed.
    Everything else is left as it is.
    """
    data, text = load(path)
    groups = _groups(data, path, text, hooks_file=True)
    entries = [] if groups is None else _entries(groups)
    changes: list[str] = []
    notes: list[str] = []
    if groups is None:
        groups = data.setdefault("hooks", {}).setdefault(EVENT, [])
    if not entries:
        groups.append({"matcher": matcher, "hooks": [{"type": "command", "command": command, "timeout": timeout}]})
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
        if "timeout" not in hook:
            hook["timeout"] = timeout
            changes.append(f"set the hook timeout to {timeout} s")
        if group.get("matcher") != matcher:
            if all(isinstance(h, dict) and is_ringfence_command(h.get("command")) for h in group["hooks"]):
                changes.append(f"set the matcher: {group.get('matcher')!r} → {matcher!r}")
                group["matcher"] = matcher
            else:
                missing = [tool for tool, ok in coverage(group.get("matcher")).items() if not ok]
                if missing:
                    notes.append(
                        f"the ringfence hook shares the matcher {group.get('matcher')!r} with other hooks, "
                        f"which does not cover {', '.join(missing)}; left unchanged"
                    )
        for entry in reversed(duplicates):
            dup = groups[entry.group_index]
            del dup["hooks"][entry.hook_index]
            if not dup["hooks"]:
                del groups[entry.group_index]
            changes.append(f"remove a duplicate ringfence hook: {entry.command}")
    if not changes:
        return Plan(path, text, text, (), (*notes, "ringfence is already wired; nothing to change"))
    notes.append(
        "Codex runs a new or changed hook only once you trust it: open /hooks in Codex and trust the ringfence hook"
    )
    return Plan(path, text, dump_like(data, text), tuple(changes), tuple(notes))


def plan_uninstall(path: Path) -> Plan:
    """Plan removing every ringfence hook from the ``hooks.json`` at ``path``, with the
    groups, the ``PreToolUse`` array and the ``hooks`` object this leaves empty."""
    data, text = load(path)
    groups = _groups(data, path, text, hooks_file=True)
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


# --- the runtime wiring the commands use ------------------------------------------------------


def hook_payload(tool_name: str, tool_input: Mapping[str, Any], cwd: Path, tag: str) -> dict[str, Any]:
    """A ``PreToolUse`` event shaped exactly like the one Codex sends on stdin."""
    return {
        "session_id": str(uuid.uuid4()),
        "turn_id": f"ringfence-doctor-{tag}",
        "transcript_path": None,
        "cwd": str(cwd),
        "hook_event_name": EVENT,
        "model": "ringfence-doctor",
        "permission_mode": "default",
        "tool_name": tool_name,
        "tool_input": dict(tool_input),
        "tool_use_id": f"call_ringfence_doctor_{tag}",
    }


def read_decision(stdout: str) -> tuple[str | None, str]:
    """What Codex makes of a hook's stdout (exit 0): ``allow`` for no objection (empty or
    ``{}``), ``deny`` for a deny with a reason, or ``(None, why Codex would treat the hook as
    failed and run the tool)``."""
    if not stdout.strip():
        return "allow", "allow (no objection: empty stdout)"
    try:
        answer = json.loads(stdout)
    except ValueError:
        if stdout.lstrip().startswith(("{", "[")):
            return (
                None,
                f"stdout looks like JSON but is not (Codex fails the hook and runs the tool): {first_line(stdout)!r}",
            )
        return "allow", f"allow (plain text, ignored by Codex): {first_line(stdout)!r}"
    if answer == {}:
        return "allow", "allow (no objection: {})"
    output = answer.get("hookSpecificOutput") if isinstance(answer, dict) else None
    if not isinstance(output, dict):
        return None, f"stdout has no hookSpecificOutput object: {first_line(stdout)!r}"
    decision = output.get("permissionDecision")
    reason = output.get("permissionDecisionReason")
    if decision != "deny":
        return None, (
            f"permissionDecision {decision!r}: Codex supports only deny here (allow without updatedInput and ask "
            "are rejected as a failed hook, and the tool runs)"
        )
    if not isinstance(reason, str) or not reason.strip():
        return None, "a deny without a permissionDecisionReason (Codex rejects it and runs the tool)"
    return "deny", f"deny: {first_line(reason)}"


class CodexWiring:
    runtime = RUNTIME
    title = "Codex CLI"
    scopes = SCOPES
    protected = tuple(PROTECTED_TOOLS)
    restart = (
        "Codex reads hooks at start-up and runs a new or changed hook only after you trust it: "
        "restart Codex, open /hooks and trust the ringfence hook (project hooks also need a trusted project)."
    )

    def settings_path(self, scope: Scope, project_dir: Path, home: Path | None = None) -> Path:
        return settings_path(scope, project_dir, home)

    def read_paths(self, scopes: Sequence[Scope], project_dir: Path, home: Path | None = None) -> list[Path]:
        files: list[Path] = []
        if "project" in scopes:
            files += [project_dir / ".codex" / "hooks.json", project_dir / ".codex" / "config.toml"]
        if "user" in scopes:
            files += [codex_home(home) / "hooks.json", codex_home(home) / "config.toml"]
        return files

    def plan_install(self, path: Path, command: str) -> Plan:
        return plan_install(path, command)

    def plan_uninstall(self, path: Path) -> Plan:
        return plan_uninstall(path)

    def find(self, path: Path) -> list[Found]:
        return [Found(path, e.command, f"{EVENT} matcher {e.matcher!r}", e.covers) for e in read_hooks(path)]

    def probe(self, shell_command: str, project_dir: Path, tag: str) -> Probe:
        payload = hook_payload("Bash", {"command": shell_command}, project_dir, tag)
        return Probe(json.dumps(payload).encode())

    def read_answer(self, stdout: str) -> tuple[str | None, str]:
        return read_decision(stdout)


WIRING: RuntimeWiring = CodexWiring()
