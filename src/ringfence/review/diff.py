"""The change under review, read from git: which files, how much, which lines.

``base`` is resolved to the merge base of base and head (what a pull request shows:
``git diff base...head``), renames are followed (``-M``), and for every text file the
added line numbers in the new version are kept, so findings can point at ``path:line``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from ringfence.provenance import gitrepo
from ringfence.provenance.errors import GitError
from ringfence.review.findings import ReviewInputError

_HUNK = re.compile(rb"^@@ -\d+(?:,\d+)? \+(\d+)(?:,(\d+))? @@")
_OCTAL = re.compile(rb"\\([0-7]{3}|.)")
MAX_BLOB = 2 * 1024 * 1024  # larger files are judged by their path only


@dataclass(frozen=True)
class FileChange:
    path: str  # the path after the change (before it, for a deletion)
    status: str  # A added, M modified, D deleted, R renamed, C copied, T type changed
    added: int = 0
    removed: int = 0
    binary: bool = False
    old_path: str | None = None  # the path before a rename or copy
    added_lines: tuple[int, ...] = ()

    @property
    def deleted(self) -> bool:
        return self.status == "D"


@dataclass
class Diff:
    repo: Path
    base: str  # the merge base actually compared against
    head: str
    files: list[FileChange] = field(default_factory=list)

    @property
    def lines(self) -> int:
        return sum(f.added + f.removed for f in self.files)

    def changed_lines(self) -> dict[str, set[int]]:
        return {f.path: set(f.added_lines) for f in self.files if not f.deleted}

    def text(self, path: str, *, before: bool = False) -> str | None:
        """The file's text at head (or at base), None when absent, binary or too large."""
        return blob(self.repo, self.base if before else self.head, path)


def blob(repo: Path, rev: str, path: str) -> str | None:
    try:
        size = int(gitrepo.git(repo, "cat-file", "-s", f"{rev}:{path}").strip())
    except (GitError, ValueError):
        return None
    if size > MAX_BLOB:
        return None
    data = gitrepo.git(repo, "cat-file", "blob", f"{rev}:{path}")
    if b"\0" in data[:8192]:
        return None
    return data.decode("utf-8", "replace")


def _unquote(raw: bytes) -> str:
    """A path as git prints it in a patch header: C-quoted when it has unusual bytes."""
    if raw.startswith(b'"') and raw.endswith(b'"'):
        simple = {b"n": b"\n", b"t": b"\t", b'"': b'"', b"\\": b"\\", b"a": b"\a", b"b": b"\b"}

        def one(m: re.Match[bytes]) -> bytes:
            code = m.group(1)
            return bytes([int(code, 8)]) if len(code) == 3 else simple.get(code, code)

        raw = _OCTAL.sub(one, raw[1:-1])
    return raw.decode("utf-8", "surrogateescape")


def _added_lines(patch: bytes) -> dict[str, list[int]]:
    out: dict[str, list[int]] = {}
    current: str | None = None
    for line in patch.split(b"\n"):
        if line.startswith(b"+++ "):
            target = line[4:]
            current = None if target == b"/dev/null" else _unquote(target).removeprefix("b/")
            if current is not None:
                out.setdefault(current, [])
        elif current is not None and line.startswith(b"@@"):
            m = _HUNK.match(line)
            if m:
                start, count = int(m.group(1)), int(m.group(2) or b"1")
                out[current].extend(range(start, start + count))
    return out


def read_diff(repo: Path, base: str, head: str) -> Diff:
    """The change from the merge base of ``base`` and ``head`` to ``head``."""
    try:
        top = gitrepo.toplevel(repo)
        head_id = gitrepo.resolve(top, head)
        base_id = gitrepo.resolve(top, base)
    except GitError as exc:
        raise ReviewInputError(str(exc)) from None
    try:
        merge_base = gitrepo.git(top, "merge-base", base_id, head_id).decode().strip() or base_id
    except GitError:
        merge_base = base_id  # unrelated histories: compare the two trees directly
    common = ("-c", "core.quotepath=false", "diff", "--no-color", "--no-ext-diff", "-M")
    numstat = gitrepo.git(top, *common, "--numstat", "-z", merge_base, head_id)
    status = gitrepo.git(top, *common, "--name-status", "-z", merge_base, head_id)
    patch = gitrepo.git(top, *common, "-U0", "--src-prefix=a/", "--dst-prefix=b/", merge_base, head_id)
    added = _added_lines(patch)

    kinds: dict[str, tuple[str, str | None]] = {}
    parts = status.split(b"\0")
    i = 0
    while i < len(parts) and parts[i]:
        code = parts[i].decode()[:1]
        if code in ("R", "C"):
            before, after = parts[i + 1], parts[i + 2]
            kinds[after.decode("utf-8", "surrogateescape")] = (code, before.decode("utf-8", "surrogateescape"))
            i += 3
        else:
            kinds[parts[i + 1].decode("utf-8", "surrogateescape")] = (code, None)
            i += 2

    files: list[FileChange] = []
    items = numstat.split(b"\0")
    j = 0
    while j < len(items) and items[j]:
        fields = items[j].split(b"\t")
        plus, minus = fields[0], fields[1]
        if len(fields) >= 3 and fields[2]:
            path = fields[2].decode("utf-8", "surrogateescape")
            j += 1
        else:  # a rename: the counts are followed by the old and the new path as their own items
            path = items[j + 2].decode("utf-8", "surrogateescape")
            j += 3
        code, old = kinds.get(path, ("M", None))
        binary = plus == b"-"
        files.append(
            FileChange(
                path=path,
                status=code,
                added=0 if binary else int(plus),
                removed=0 if binary else int(minus),
                binary=binary,
                old_path=old,
                added_lines=tuple(added.get(path, ())),
            )
        )
    return Diff(top, merge_base, head_id, files)
