"""The diff's own findings: scope against the task, sensitive changes, migrations, CI, secrets.

Migration files are judged by the gate's own SQL analysis
(:func:`ringfence.analyze.sql.migration_file_effects`: SQL parsed with sqlglot, and the
forward part of Alembic, Django, Rails, Knex, Ecto and Laravel migrations), CI files by a
structural comparison of their configuration before and after
(:mod:`ringfence.review.ci`), and added lines are searched for token-shaped secrets
with the ledger's redaction patterns (the secret itself is never repeated).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property

from ringfence.review.config import CLASS_LABELS, ReviewConfig
from ringfence.review.diff import Diff, FileChange
from ringfence.review.findings import Finding, Severity
from ringfence.review.task import Task


def _spec(globs: Iterable[str]) -> object:
    import pathspec

    return pathspec.PathSpec.from_lines("gitignore", list(globs))


@dataclass
class Classifier:
    """Which sensitive classes and which subsystem each path belongs to."""

    config: ReviewConfig

    @cached_property
    def _classes(self) -> list[tuple[str, Severity, object]]:
        return [(name, sev, _spec(globs)) for name, (sev, globs) in self.config.classes.items()]

    @cached_property
    def _subsystems(self) -> list[tuple[str, object]]:
        return [(name, _spec(globs)) for name, globs in self.config.subsystems.items()]

    def classes(self, path: str) -> list[tuple[str, Severity]]:
        return [(name, sev) for name, sev, spec in self._classes if spec.match_file(path)]  # type: ignore[attr-defined]

    def subsystem(self, path: str) -> str | None:
        return next((name for name, spec in self._subsystems if spec.match_file(path)), None)  # type: ignore[attr-defined]


def _paths(f: FileChange) -> list[str]:
    return [f.path] + ([f.old_path] if f.old_path and f.old_path != f.path else [])


def scope(diff: Diff, task: Task | None, config: ReviewConfig, classifier: Classifier) -> list[Finding]:
    out: list[Finding] = []
    files, lines = len(diff.files), diff.lines
    if task is None:
        out.append(Finding("scope.no_task", Severity.INFO, "no task file: the change's scope was not checked"))
        if files > config.max_files or lines > config.max_lines:
            out.append(
                Finding(
                    "scope.size",
                    Severity.MEDIUM,
                    f"a large change ({files} files, {lines} lines) with no task saying it is warranted "
                    f"(limits: {config.max_files} files, {config.max_lines} lines)",
                )
            )
        return out
    allowed = _spec(task.paths) if task.paths else None
    subsystem_globs = [g for name in task.subsystems for g in config.subsystems.get(name, ())]
    in_subsystem = _spec(subsystem_globs) if subsystem_globs else None
    outside: list[str] = []
    for f in diff.files:
        inside = any(
            (allowed is not None and allowed.match_file(p))  # type: ignore[attr-defined]
            or (in_subsystem is not None and in_subsystem.match_file(p))  # type: ignore[attr-defined]
            for p in _paths(f)
        )
        if (task.paths or task.subsystems) and not inside:
            outside.append(f.path)
            line = f.added_lines[0] if f.added_lines else None
            out.append(Finding("scope.outside", Severity.MEDIUM, f"outside the scope of {task.label}", f.path, line))
    touched = sorted({s for f in diff.files if (s := classifier.subsystem(f.path)) is not None} - set(task.subsystems))
    if task.subsystems or task.paths:
        for name in touched:
            if any(classifier.subsystem(p) == name for p in outside):
                count = sum(classifier.subsystem(p) == name for p in outside)
                out.append(
                    Finding(
                        "scope.subsystem",
                        Severity.MEDIUM,
                        f"changes subsystem {name} ({count} file{'s' if count > 1 else ''}), which {task.label} "
                        "does not name",
                    )
                )
    for what, have, limit in (("files", files, task.max_files), ("lines", lines, task.max_lines)):
        if limit is not None and have > limit:
            sev = Severity.HIGH if have > 2 * limit else Severity.MEDIUM
            out.append(
                Finding(
                    "scope.size",
                    sev,
                    f"changes {have} {what}; {task.label} warrants at most {limit}"
                    + (" — more than twice that" if sev is Severity.HIGH else ""),
                )
            )
    seen: set[str] = set()
    for f in diff.files:
        for name, _ in classifier.classes(f.path):
            if name in task.forbidden and name not in seen:
                seen.add(name)
                out.append(
                    Finding(
                        "scope.forbidden",
                        Severity.HIGH,
                        f"changes {CLASS_LABELS.get(name, name)}, which {task.label} does not allow "
                        f"(allow.{name} is not true)",
                        f.path,
                    )
                )
    return out


def sensitive(diff: Diff, classifier: Classifier) -> list[Finding]:
    out: list[Finding] = []
    for f in diff.files:
        for name, severity in classifier.classes(f.path):
            verb = {"D": "deletes", "A": "adds"}.get(f.status, "changes")
            out.append(
                Finding(
                    f"sensitive.{name}",
                    severity,
                    f"{verb} {CLASS_LABELS.get(name, name + ' files')}",
                    f.path,
                    f.added_lines[0] if f.added_lines else None,
                )
            )
    return out


def _line_of(content: str, statement: str) -> int | None:
    """The line where ``statement`` starts in ``content`` (its first words, case and spacing aside)."""
    words = statement.upper().split()
    flat = [" ".join(line.upper().split()) for line in content.splitlines()]
    for n in (3, 2):
        probe = " ".join(words[:n])
        if len(words) >= n:
            for number, line in enumerate(flat, start=1):
                if probe in line:
                    return number
    return None


def migrations(diff: Diff) -> list[Finding]:
    from ringfence.analyze.sql import migration_file_effects, migration_framework

    out: list[Finding] = []
    for f in diff.files:
        if migration_framework(f.path) is None:
            continue
        if f.deleted:
            out.append(
                Finding(
                    "migration.deleted",
                    Severity.HIGH,
                    "deletes a migration: databases that already ran it no longer match the code's history",
                    f.path,
                )
            )
            continue
        content = diff.text(f.path)
        if content is None:
            continue
        for effect in migration_file_effects(f.path, content):
            statement = str(effect.attrs.get("statement") or effect.evidence or "")
            if effect.kind == "db.destructive":
                objects = effect.attrs.get("objects") or effect.attrs.get("targets") or ()
                named = ", ".join(str(o) for o in objects) if isinstance(objects, tuple | list) else str(objects)
                out.append(
                    Finding(
                        "migration.destructive",
                        Severity.CRITICAL,
                        f"destructive migration: `{' '.join(statement.split())[:120]}`"
                        + (f" ({named})" if named else "")
                        + " — data is lost when it runs",
                        f.path,
                        _line_of(content, statement),
                        evidence=statement[:500],
                    )
                )
            elif effect.kind == "db.privilege":
                out.append(
                    Finding(
                        "migration.privilege",
                        Severity.HIGH,
                        f"the migration changes database privileges: `{' '.join(statement.split())[:120]}`",
                        f.path,
                        _line_of(content, statement),
                    )
                )
            elif effect.kind == "analysis.limit":
                out.append(
                    Finding("migration.unreadable", Severity.HIGH, "the migration is too large to analyse", f.path)
                )
    return out


def ci(diff: Diff) -> list[Finding]:
    from ringfence.review.ci import ci_weakening, is_ci_config

    out: list[Finding] = []
    for f in diff.files:
        if not is_ci_config(f.path):
            continue
        before = None if f.status == "A" else diff.text(f.old_path or f.path, before=True)
        after = None if f.deleted else diff.text(f.path)
        out += ci_weakening(f.path, before, after)
    return out


def secrets(diff: Diff) -> list[Finding]:
    from ringfence.ledger.redact import fingerprint, token_matches

    out: list[Finding] = []
    for f in diff.files:
        if f.deleted or f.binary or not f.added_lines:
            continue
        content = diff.text(f.path)
        if content is None:
            continue
        lines = content.splitlines()
        wanted = set(f.added_lines)
        for number, text in enumerate(lines, start=1):
            if number not in wanted:
                continue
            for m in token_matches(text):
                out.append(
                    Finding(
                        "secrets.added",
                        Severity.CRITICAL,
                        f"a credential-shaped string is added (‹{fingerprint(m.group(0))}›): rotate it and remove it "
                        "from history",
                        f.path,
                        number,
                    )
                )
    return out
