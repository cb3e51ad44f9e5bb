"""Who owns a path: a CODEOWNERS file parsed the way GitHub (and GitLab, for sections) reads it.

A line is ``pattern owner…``; ``#`` starts a comment, ``\\#`` and ``\\ `` escape; patterns
are gitignore-style (matched with :mod:`pathspec`, never a hand-written glob engine) and the
*last* matching line wins, so a pattern with no owners removes ownership. GitLab sections
(``[Section]``, ``^[Optional]``, ``[Section][2]``, ``[Section] @default-owner``) are read as
GitLab does: each section on its own, last match within each, owners united across sections.
Lines that cannot be used (an invalid owner, ``!negation``, a broken header) are skipped and
recorded in :attr:`CodeOwners.problems` with their line numbers, like GitHub skips them.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pathspec.util import lookup_pattern

from ringfence.review.findings import ReviewInputError

__all__ = ["LOCATIONS", "CodeOwners", "Rule", "read_at"]

# GitHub's lookup order, then GitLab's extra location.
LOCATIONS = (".github/CODEOWNERS", "CODEOWNERS", "docs/CODEOWNERS", ".gitlab/CODEOWNERS")

_OWNER = re.compile(
    r"^(?:@@?[A-Za-z0-9](?:[A-Za-z0-9_.-]*[A-Za-z0-9_])?(?:/[A-Za-z0-9_.-]+)*"
    r"|[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)$"
)
_SECTION = re.compile(r"^(\^)?\[([^\]]*)\](?:\[(\d+)\])?(?:\s+(.*))?$")
_SPLIT = re.compile(r"(?<!\\)\s+")


def _matcher_factory() -> Any:
    try:
        return lookup_pattern("gitignore")  # pathspec >= 1.0: gitignore as documented
    except KeyError:  # pragma: no cover - pathspec 0.12
        return lookup_pattern("gitwildmatch")


_PATTERN = _matcher_factory()


@dataclass(frozen=True)
class Rule:
    """One usable CODEOWNERS line: its pattern, owners (possibly none), line and section."""

    pattern: str
    owners: tuple[str, ...]
    line: int
    section: str = ""
    matcher: Any = field(default=None, compare=False, repr=False)

    def matches(self, path: str) -> bool:
        return self.matcher is not None and self.matcher.match_file(path) is not None


def _tokens(text: str) -> list[str]:
    """The line's tokens up to an unescaped ``#`` token (an inline comment)."""
    out: list[str] = []
    for token in _SPLIT.split(text.strip()):
        if token.startswith("#"):
            break
        if token:
            out.append(token)
    return out


def _dedupe(owners: Iterable[str]) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for owner in owners:
        seen.setdefault(owner, None)
    return tuple(seen)


def _normalize(path: str) -> str:
    p = path.replace("\\", "/")
    while p.startswith("./"):
        p = p[2:]
    return p.lstrip("/")


@dataclass(frozen=True)
class CodeOwners:
    """A parsed CODEOWNERS file: its usable rules, where it came from, and what was skipped."""

    source: str
    rules: tuple[Rule, ...] = ()
    problems: tuple[str, ...] = ()

    @classmethod
    def parse(cls, text: str, source: str = "CODEOWNERS") -> CodeOwners:
        """Parse ``text``; malformed lines are skipped and described in ``problems``."""
        rules: list[Rule] = []
        problems: list[str] = []
        section = ""
        defaults: tuple[str, ...] = ()
        names: dict[str, str] = {}
        for number, raw in enumerate(text.removeprefix("\ufeff").splitlines(), start=1):
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            if line.startswith(("[", "^[")):
                header = _SECTION.match(line)
                name = header.group(2).strip() if header else ""
                if header is None or not name:
                    problems.append(f"{source}:{number}: malformed section header {line!r}")
                    continue
                owners = _tokens(header.group(4) or "")
                bad = [o for o in owners if not _OWNER.match(o)]
                if bad:
                    problems.append(f"{source}:{number}: invalid default owner {bad[0]!r} for section [{name}]")
                section = names.setdefault(name.lower(), name)
                defaults = tuple(o for o in owners if _OWNER.match(o))
                continue
            tokens = _tokens(line)
            if not tokens:
                continue
            pattern, owners = tokens[0], tokens[1:]
            bad = [o for o in owners if not _OWNER.match(o)]
            if bad:
                problems.append(f"{source}:{number}: invalid owner {bad[0]!r}; line skipped")
                continue
            if pattern.startswith("!"):
                problems.append(f"{source}:{number}: negated pattern {pattern!r} is not supported; line skipped")
                continue
            try:
                matcher = _PATTERN(pattern)
            except ValueError as exc:
                problems.append(f"{source}:{number}: invalid pattern {pattern!r} ({exc}); line skipped")
                continue
            chosen = tuple(owners) if owners else defaults
            rules.append(Rule(pattern, _dedupe(chosen), number, section, matcher))
        return cls(source, tuple(rules), tuple(problems))

    @classmethod
    def load(cls, repo: Path) -> CodeOwners | None:
        """The CODEOWNERS file of the working tree at ``repo`` (first standard location found), else None."""
        root = repo.resolve()
        for rel in LOCATIONS:
            candidate = repo / rel
            if not candidate.is_file() or not candidate.resolve().is_relative_to(root):
                continue
            try:
                text = candidate.read_bytes().decode("utf-8", errors="replace")
            except OSError as exc:
                raise ReviewInputError(f"cannot read {candidate}: {exc.strerror or exc}") from exc
            return cls.parse(text, rel)
        return None

    def owners(self, path: str) -> tuple[str, ...]:
        """Owners of ``path``: per section the last matching rule's owners, united in file order."""
        p = _normalize(path)
        last: dict[str, Rule] = {}
        for rule in self.rules:
            if rule.matches(p):
                last[rule.section] = rule
        winners = sorted(last.values(), key=lambda r: r.line)
        return _dedupe(owner for rule in winners for owner in rule.owners)

    def owners_for(self, paths: Iterable[str]) -> dict[str, tuple[str, ...]]:
        """:meth:`owners` for each path, keyed by the path as given."""
        return {path: self.owners(path) for path in paths}


def _git(repo: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, check=False, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ReviewInputError(f"cannot run git in {repo}: {exc}") from exc


def read_at(repo: Path, rev: str) -> CodeOwners | None:
    """The CODEOWNERS file at git revision ``rev`` of ``repo`` (standard locations in order), else None.

    Only regular files count (a symlink or a directory named CODEOWNERS is not read, as on
    GitHub). The ``source`` is ``rev:path``. Raises :class:`ReviewInputError` when ``rev`` is
    not a revision of the repository."""
    if not rev or rev.startswith("-") or "\n" in rev:
        raise ReviewInputError(f"not a git revision: {rev!r}")
    listing = _git(repo, "ls-tree", "-z", "--full-tree", rev, "--", *LOCATIONS)
    if listing.returncode != 0:
        detail = listing.stderr.decode(errors="replace").strip()
        raise ReviewInputError(f"cannot read revision {rev!r} of {repo}: {detail}")
    regular: set[str] = set()
    for entry in listing.stdout.decode(errors="replace").split("\0"):
        meta, _, name = entry.partition("\t")
        if meta.split(" ")[:2] in (["100644", "blob"], ["100755", "blob"]):
            regular.add(name)
    for rel in LOCATIONS:
        if rel in regular:
            shown = _git(repo, "show", f"{rev}:{rel}")
            if shown.returncode != 0:
                detail = shown.stderr.decode(errors="replace").strip()
                raise ReviewInputError(f"cannot read {rev}:{rel} in {repo}: {detail}")
            return CodeOwners.parse(shown.stdout.decode("utf-8", errors="replace"), f"{rev}:{rel}")
    return None
