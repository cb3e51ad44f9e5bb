"""``ringfence policy lint``: every problem in a set of policy files, with file:line:column.

Checks, per file: YAML syntax; unknown fields (pack, rule, approval, exception,
``match`` and its ``action``/``principal``/``time`` sub-keys); wrong types (strings,
lists, numbers, booleans, dates); unknown effect kinds; unknown operators; bad globs
(an unclosed ``[``); unsafe or invalid regular expressions; unknown decisions, tiers
and gate types; bad times and time zones; exceptions without ``reason`` or
``expires``; duplicate keys and duplicate rule ids. Across the files (in the order
given, after the built-in packs unless ``builtin=False``): duplicate rule ids, exceptions
for rules that do not exist, and approval groups that do not exist (only when some file
declares ``groups:``). All problems are reported, sorted by file, line and column.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from ringfence.policy.layers import cross_check, read_docs
from ringfence.policy.load import Problem, load_builtin

__all__ = ["Problem", "lint_files"]


def lint_files(paths: Iterable[Path | str], *, builtin: bool = True) -> list[Problem]:
    docs = [doc for doc, _ in read_docs(Path(p) for p in paths)]
    problems = [p for doc in docs for p in doc.problems]
    known: dict[str, str] = {}
    if builtin:
        known = {r.id: "<builtin>" for r in load_builtin().rules}
    declared = [d.groups for d in docs if d.groups is not None]
    groups = frozenset().union(*declared) if declared else None
    problems.extend(cross_check(docs, known, groups))
    order = {doc.origin: i for i, doc in enumerate(docs)}
    return sorted(set(problems), key=lambda p: (order.get(p.path, 0), p.line, p.column, p.message))
