"""JSON hook files shaped ``{"hooks": {event: [...]}}``: what the runtimes share.

Two layouts of an event's array are in use:

* matcher groups (Claude Code, Codex, Gemini CLI): ``[{"matcher": ..., "hooks": [hook, ...]}]``;
* plain hooks (Cursor, Copilot CLI; "version 1" files): ``[hook, ...]``.

A :class:`HookFile` describes one runtime's file (layout, wording of its errors, which key
holds a hook's command) and does what is the same for all of them: checking the types
with located errors, finding ringfence's hooks (:class:`Hook`), installing one in a
matcher group in place, removing them with the containers this leaves empty, and turning
the edited data into a :class:`~ringfence.wiring.jsonfile.Plan`. What differs between the
runtimes stays in their own modules.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

from ringfence.jsontype import json_type
from ringfence.wiring.jsonfile import Plan, SettingsFileError, dump_like, format_pointer, locate

ALREADY_WIRED = "ringfence is already wired; nothing to change"
NOTHING_TO_REMOVE = "no ringfence hook found; nothing to change"


def type_error(
    path: Path, text: str | None, pointer: tuple[str | int, ...], value: Any, reader: str, expected: str
) -> NoReturn:
    """Refuse the value at ``pointer``, which ``reader`` (a runtime's name) expects to be
    ``expected``, naming its line and column when ``text`` locates it."""
    where = locate(text, pointer) if text is not None else None
    line, column = where if where is not None else (None, None)
    raise SettingsFileError(
        path,
        f"{format_pointer(pointer)} is a JSON {json_type(value)}, but {reader} expects {expected}; "
        "fix it (or move the file away) and run again — nothing was changed",
        line,
        column,
    )


@dataclass(frozen=True)
class Hook:
    """One ringfence hook found in a hook file."""

    event: str
    index: int  # in the event's array
    hook_index: int | None  # in that matcher group's "hooks"; None where the array holds hooks
    command: str
    matcher: str | None
    settings: Mapping[str, Any] = field(compare=False, repr=False)  # the hook object itself
    covers: Mapping[str, bool] = field(default_factory=dict, compare=False)  # protected tool → selected

    @property
    def group_index(self) -> int:
        return self.index

    @property
    def timeout(self) -> float | None:
        value = self.settings.get("timeout")
        return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None

    @property
    def name(self) -> str | None:
        value = self.settings.get("name")
        return value if isinstance(value, str) else None


@dataclass(frozen=True)
class HookFile:
    """One runtime's hook file: ``reader`` names the runtime in errors, ``example_event``
    shows what the ``hooks`` object holds, ``items``/``item`` what an event's array and
    each of its elements must be."""

    runtime: str
    reader: str
    example_event: str
    items: str
    item: str
    grouped: bool  # the event's array holds matcher groups, not hooks
    command_key: str = "command"
    group_needs_hooks: bool = False  # a matcher group without a "hooks" array is an error
    coverage: Callable[[object], dict[str, bool]] | None = None  # a matcher → what it selects

    def is_ours(self, command: object) -> bool:
        """Whether a hook's command is ringfence's hook for this runtime."""
        return isinstance(command, str) and "ringfence" in command and f" hook {self.runtime}" in command

    def type_error(
        self, path: Path, text: str | None, pointer: tuple[str | int, ...], value: Any, expected: str
    ) -> NoReturn:
        type_error(path, text, pointer, value, self.reader, expected)

    def event_items(self, data: Mapping[str, Any], path: Path, text: str | None, event: str) -> list[Any] | None:
        """The ``hooks.<event>`` array (``None`` if absent), after checking the types."""
        if "hooks" not in data:
            return None
        hooks = data["hooks"]
        if not isinstance(hooks, dict):
            self.type_error(
                path, text, ("hooks",), hooks, f'an object of hook events ({{"{self.example_event}": [...]}})'
            )
        if event not in hooks:
            return None
        items = hooks[event]
        if not isinstance(items, list):
            self.type_error(path, text, ("hooks", event), items, self.items)
        for i, item in enumerate(items):
            if not isinstance(item, dict):
                self.type_error(path, text, ("hooks", event, i), item, self.item)
            if self.grouped and (self.group_needs_hooks or "hooks" in item) and not isinstance(item.get("hooks"), list):
                self.type_error(path, text, ("hooks", event, i, "hooks"), item.get("hooks"), "an array of hooks")
        return items

    def ours(self, items: list[Any], event: str) -> list[Hook]:
        """ringfence's hooks in an event's (checked) array, in file order."""
        found: list[Hook] = []
        for index, item in enumerate(items):
            if self.grouped:
                matcher = item.get("matcher")
                for hook_index, hook in enumerate(item.get("hooks", [])):
                    if isinstance(hook, dict) and self.is_ours(hook.get(self.command_key)):
                        found.append(self._hook(event, index, hook_index, hook, matcher))
            elif self.is_ours(item.get(self.command_key)):
                found.append(self._hook(event, index, None, item, item.get("matcher")))
        return found

    def _hook(self, event: str, index: int, hook_index: int | None, hook: dict[str, Any], matcher: object) -> Hook:
        matcher = matcher if isinstance(matcher, str) else None
        covers = self.coverage(matcher) if self.coverage is not None else {}
        return Hook(event, index, hook_index, hook[self.command_key], matcher, hook, covers)

    def find(self, data: Mapping[str, Any], path: Path, text: str | None, events: Iterable[str]) -> list[Hook]:
        """ringfence's hooks for ``events`` in parsed ``data`` (read from ``path``, whose
        ``text`` locates type errors)."""
        found: list[Hook] = []
        for event in events:
            items = self.event_items(data, path, text, event)
            if items is not None:
                found += self.ours(items, event)
        return found

    def install_group(
        self,
        data: dict[str, Any],
        path: Path,
        text: str | None,
        event: str,
        hook: dict[str, Any],
        matcher: str,
        fill: Mapping[str, str],
        changes: list[str],
        notes: list[str],
        where: str = "",
    ) -> None:
        """Wire ``hook`` (the whole hook object ringfence wants) for ``event`` in a matcher
        group selecting ``matcher``. An existing ringfence hook is updated in place (its
        ``type`` and command; each key of ``fill`` that it lacks is added, with ``fill``'s
        description of that change; the matcher of a group holding only ringfence hooks is
        reset) and further ringfence hooks are removed, so exactly one remains."""
        groups = self.event_items(data, path, text, event)
        entries = [] if groups is None else self.ours(groups, event)
        if groups is None:
            groups = data.setdefault("hooks", {}).setdefault(event, [])
        command = hook[self.command_key]
        if not entries:
            groups.append({"matcher": matcher, "hooks": [hook]})
            changes.append(f"add a {event} hook for {matcher!r}: {command}")
            return
        first, *duplicates = entries
        group = groups[first.index]
        existing = group["hooks"][first.hook_index]
        if existing.get("type") != "command":
            existing["type"] = "command"
            changes.append(f'set the hook\'s type to "command"{where}')
        if existing.get(self.command_key) != command:
            changes.append(f"update the hook command{where}: {existing.get(self.command_key)} → {command}")
            existing[self.command_key] = command
        for key, change in fill.items():
            if key not in existing:
                existing[key] = hook[key]
                changes.append(change)
        if group.get("matcher") != matcher:
            if all(isinstance(h, dict) and self.is_ours(h.get(self.command_key)) for h in group["hooks"]):
                changes.append(f"set the matcher{where}: {group.get('matcher')!r} → {matcher!r}")
                group["matcher"] = matcher
            elif self.coverage is not None and (
                missing := [tool for tool, ok in self.coverage(group.get("matcher")).items() if not ok]
            ):
                notes.append(
                    f"the ringfence hook{where} shares the matcher {group.get('matcher')!r} with other hooks, "
                    f"which does not cover {', '.join(missing)}; left unchanged"
                )
        for entry in reversed(duplicates):
            self._remove(groups, entry)
            changes.append(f"remove a duplicate ringfence hook{where}: {entry.command}")

    def _remove(self, items: list[Any], entry: Hook) -> None:
        if entry.hook_index is None:
            del items[entry.index]
            return
        group = items[entry.index]
        del group["hooks"][entry.hook_index]
        if not group["hooks"]:
            del items[entry.index]

    def remove_all(self, data: dict[str, Any], path: Path, text: str | None, events: Iterable[str]) -> list[str]:
        """Remove every ringfence hook for ``events`` from ``data``, with the matcher groups,
        event arrays and ``hooks`` object this leaves empty; what changed, in file order."""
        changes: list[str] = []
        for event in events:
            items = self.event_items(data, path, text, event)
            entries = [] if items is None else self.ours(items, event)
            if items is None or not entries:
                continue
            for entry in reversed(entries):
                self._remove(items, entry)
            changes += [f"remove the {event} hook {entry.command}" for entry in entries]
            if not items:
                del data["hooks"][event]
                changes.append(f"remove the now empty hooks.{event}")
        if changes and not data["hooks"]:
            del data["hooks"]
            changes.append("remove the now empty hooks")
        return changes


def planned(
    path: Path,
    text: str | None,
    data: dict[str, Any],
    changes: list[str],
    notes: Iterable[str] = (),
    unchanged: str = ALREADY_WIRED,
) -> Plan:
    """The plan of an edit of the file ``path`` (its ``text`` before) that made ``data``:
    the file as it was, with the note ``unchanged``, when there are no ``changes``."""
    if not changes:
        return Plan(path, text, text, (), (*notes, unchanged))
    return Plan(path, text, dump_like(data, text), tuple(changes), tuple(notes))
