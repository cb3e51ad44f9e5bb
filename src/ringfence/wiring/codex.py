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
from pathlib import Path
from typing import Any

from ringfence.wiring.base import Found, Probe, RuntimeWiring, Scope, first_line, scope_dir
from ringfence.wiring.claude_code import matcher_covers
from ringfence.wiring.hookfile import NOTHING_TO_REMOVE, Hook, HookFile, planned
from ringfence.wiring.jsonfile import Plan, SettingsFileError, load

RUNTIME = "codex"
EVENT = "PreToolUse"
MATCHER = "Bash|apply_patch|mcp__.*"
DEFAULT_TIMEOUT = 30
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
    return scope_dir("user", home=home) / ".codex"


def settings_path(scope: Scope, project_dir: Path | None = None, home: Path | None = None) -> Path:
    """``<project>/.codex/hooks.json`` or ``$CODEX_HOME/hooks.json``."""
    return (codex_home(home) if scope == "user" else scope_dir(scope, project_dir) / ".codex") / "hooks.json"


def coverage(matcher: object) -> dict[str, bool]:
    """For each of :data:`PROTECTED_TOOLS`, whether ``matcher`` selects it."""
    return {label: any(matcher_covers(matcher, n) for n in names) for label, names in PROTECTED_TOOLS.items()}


HOOKS = HookFile(
    RUNTIME,
    "Codex",
    example_event=EVENT,
    items='an array of matcher groups ([{"matcher": ..., "hooks": [...]}])',
    item='a matcher group ({"matcher": ..., "hooks": [...]})',
    grouped=True,
    coverage=coverage,
)


def _load_hooks_file(path: Path) -> tuple[dict[str, Any], str | None]:
    """Load a ``hooks.json``, refusing top-level keys Codex does not accept."""
    data, text = load(path)
    extra = sorted(set(data) - ROOT_KEYS)
    if extra:
        raise SettingsFileError(
            path,
            f"the top level has {', '.join(map(repr, extra))}, but Codex accepts only 'hooks' and "
            "'description' there and ignores the whole file otherwise; move those keys away and run again "
            "— nothing was changed",
        )
    return data, text


def read_hooks(path: Path) -> list[Hook]:
    """ringfence's hooks in ``path`` (``hooks.json``, or the ``[hooks]`` tables of a
    ``config.toml``); a missing file has none."""
    if path.suffix == ".toml":
        return _toml_hooks(path)
    data, text = _load_hooks_file(path)
    return HOOKS.find(data, path, text, (EVENT,))


def _toml_hooks(path: Path) -> list[Hook]:
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
    return HOOKS.find(data, path, None, (EVENT,))


def plan_install(path: Path, command: str, *, matcher: str = MATCHER, timeout: int = DEFAULT_TIMEOUT) -> Plan:
    """Plan wiring ``command`` as a ``PreToolUse`` hook into the ``hooks.json`` at ``path``.

    Idempotent: an existing ringfence hook is updated in place (command, ``type``; a
    missing ``timeout`` is added, a present one kept; the matcher of a group holding only
    ringfence hooks is reset to ``matcher``) and further ringfence hooks are removed.
    Everything else is left as it is.
    """
    data, text = _load_hooks_file(path)
    changes: list[str] = []
    notes: list[str] = []
    hook = {"type": "command", "command": command, "timeout": timeout}
    fill = {"timeout": f"set the hook timeout to {timeout} s"}
    HOOKS.install_group(data, path, text, EVENT, hook, matcher, fill, changes, notes)
    if changes:
        notes.append(
            "Codex runs a new or changed hook only once you trust it: open /hooks in Codex and trust the ringfence hook"
        )
    return planned(path, text, data, changes, notes)


def plan_uninstall(path: Path) -> Plan:
    """Plan removing every ringfence hook from the ``hooks.json`` at ``path``, with the
    groups, the ``PreToolUse`` array and the ``hooks`` object this leaves empty."""
    data, text = _load_hooks_file(path)
    return planned(path, text, data, HOOKS.remove_all(data, path, text, (EVENT,)), unchanged=NOTHING_TO_REMOVE)


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

    settings_path = staticmethod(settings_path)
    plan_install = staticmethod(plan_install)
    plan_uninstall = staticmethod(plan_uninstall)
    read_answer = staticmethod(read_decision)

    def read_paths(self, scopes: Sequence[Scope], project_dir: Path, home: Path | None = None) -> list[Path]:
        files: list[Path] = []
        if "project" in scopes:
            files += [project_dir / ".codex" / "hooks.json", project_dir / ".codex" / "config.toml"]
        if "user" in scopes:
            files += [codex_home(home) / "hooks.json", codex_home(home) / "config.toml"]
        return files

    def find(self, path: Path) -> list[Found]:
        return [Found(path, e.command, f"{EVENT} matcher {e.matcher!r}", e.covers) for e in read_hooks(path)]

    def probe(self, shell_command: str, project_dir: Path, tag: str) -> Probe:
        payload = hook_payload("Bash", {"command": shell_command}, project_dir, tag)
        return Probe(json.dumps(payload).encode())


WIRING: RuntimeWiring = CodexWiring()
