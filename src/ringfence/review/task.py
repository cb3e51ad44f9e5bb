"""The task a change is for, and the scope it declares.

A task file (YAML) says what the change is for and what it may touch::

    id: APP-123
    title: Paginate GET /users
    scope:
      paths: ["src/api/users/**", "tests/api/users/**"]   # gitignore-style globs
      subsystems: [api]                                  # names from the review config
      max_files: 8                                       # the change's size the task warrants
      max_lines: 300                                     # added + removed
    allow:                                               # may the change touch these? (default: no)
      migrations: false
      dependencies: false
      ci: false
      infrastructure: false

Files outside ``paths`` and ``subsystems`` are out of scope; a change over ``max_files``
or ``max_lines`` is larger than the task warrants; a change to a class ``allow`` does not
permit is forbidden by the task.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ringfence.review.findings import ReviewInputError

ALLOWABLE = ("migrations", "dependencies", "ci", "infrastructure", "auth", "secrets", "gate", "ownership")
# Classes a task forbids unless its allow: says otherwise (the others only when it says false).
FORBIDDEN_BY_DEFAULT = frozenset({"migrations", "dependencies", "ci", "infrastructure"})


@dataclass(frozen=True)
class Task:
    source: str
    id: str | None = None
    title: str | None = None
    paths: tuple[str, ...] = ()
    subsystems: tuple[str, ...] = ()
    max_files: int | None = None
    max_lines: int | None = None
    forbidden: frozenset[str] = FORBIDDEN_BY_DEFAULT

    @property
    def label(self) -> str:
        return " — ".join(x for x in (self.id, self.title) if x) or self.source


def _list(value: Any, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise ReviewInputError(f"{where} must be a list of strings")
    return tuple(value)


def _limit(value: Any, where: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ReviewInputError(f"{where} must be a whole number ≥ 1")
    return value


def load(path: Path, subsystems: Mapping[str, object]) -> Task:
    """Load and validate a task file. Raises :class:`ReviewInputError` saying what is wrong."""
    from ringfence.yamlfile import read_mapping

    doc = read_mapping(path, "the task file", "id, title, scope and allow", ReviewInputError)
    unknown = sorted(set(doc) - {"id", "task", "title", "summary", "scope", "allow"})
    if unknown:
        raise ReviewInputError(f"{path}: unknown key {unknown[0]!r} (a task has id, title, scope, allow)")
    scope = doc.get("scope") or {}
    if not isinstance(scope, Mapping):
        raise ReviewInputError(f"{path}: scope must be a mapping (paths, subsystems, max_files, max_lines)")
    bad = sorted(set(scope) - {"paths", "subsystems", "max_files", "max_lines"})
    if bad:
        raise ReviewInputError(f"{path}: unknown scope key {bad[0]!r} (paths, subsystems, max_files, max_lines)")
    names = _list(scope.get("subsystems"), f"{path}: scope.subsystems")
    for name in names:
        if name not in subsystems:
            known = ", ".join(subsystems) or "none are configured"
            raise ReviewInputError(
                f"{path}: scope.subsystems names {name!r}, which the review configuration does not define ({known})"
            )
    allow = doc.get("allow") or {}
    if not isinstance(allow, Mapping):
        raise ReviewInputError(f"{path}: allow must be a mapping of class: true|false")
    for key, value in allow.items():
        if key not in ALLOWABLE:
            raise ReviewInputError(f"{path}: allow.{key} is not a change class ({', '.join(ALLOWABLE)})")
        if not isinstance(value, bool):
            raise ReviewInputError(f"{path}: allow.{key} must be true or false")
    ident = doc.get("id", doc.get("task"))
    title = doc.get("title", doc.get("summary"))
    return Task(
        source=str(path),
        id=str(ident) if ident is not None else None,
        title=str(title) if title is not None else None,
        paths=_list(scope.get("paths"), f"{path}: scope.paths"),
        subsystems=names,
        max_files=_limit(scope.get("max_files"), f"{path}: scope.max_files"),
        max_lines=_limit(scope.get("max_lines"), f"{path}: scope.max_lines"),
        forbidden=(FORBIDDEN_BY_DEFAULT | {k for k, v in allow.items() if not v}) - {k for k, v in allow.items() if v},
    )
