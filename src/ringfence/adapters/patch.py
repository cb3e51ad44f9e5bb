"""Codex's ``apply_patch`` format → the files a patch adds, updates, moves and deletes.

Codex CLI (and OpenCode's ``apply_patch`` tool for OpenAI models) edit files with a
patch envelope of their own, parsed in Codex by ``codex-rs/apply-patch/src/parser.rs``::

    *** Begin Patch
    *** Add File: <path>          every following "+" line is the new file's content
    +line
    *** Delete File: <path>       nothing follows
    *** Update File: <path>
    *** Move to: <new path>       optional, right after the Update header
    @@ <optional context>         a hunk: " " context, "-" removed, "+" added lines
     context
    -old
    +new
    *** End of File               optional, ends a hunk anchored at the end of the file
    *** End Patch

This module reads a patch exactly as Codex's parser does in its (always used) lenient
mode, so ringfence judges the files Codex will touch and nothing else: the text is
trimmed and split on ``\\n`` (a trailing ``\\r`` dropped per line); the first and last
lines, trimmed, must be the Begin/End markers, or the whole patch may be wrapped in a
``<<EOF``/``<<'EOF'``/``<<"EOF"`` heredoc; file headers are matched on trimmed lines,
``*** Move to:`` on the raw line after an Update header; an Update section needs at
least one hunk, and its first hunk may omit the ``@@`` line; a line starting with ``*``
ends an Update section. A path is the rest of the header line (relative paths are
resolved by Codex against the session's working directory; absolute paths are
accepted too).

:func:`parse_patch` is pure and never raises anything but
:class:`~ringfence.errors.PayloadError`, whose message says exactly what is wrong and on
which line. :func:`patch_action` turns a patch into the one action it takes, for every
runtime whose tool applies this format (Codex, OpenCode).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from ringfence.adapters import base
from ringfence.errors import PayloadError
from ringfence.model import Action, ActionKind

__all__ = ["APPLY_PATCH_COMMANDS", "FileOp", "Patch", "parse_patch", "patch_action"]

#: The program names Codex runs its patch tool under (also from a shell).
APPLY_PATCH_COMMANDS = ("apply_patch", "applypatch")

BEGIN = "*** Begin Patch"
END = "*** End Patch"
ADD = "*** Add File: "
DELETE = "*** Delete File: "
UPDATE = "*** Update File: "
MOVE = "*** Move to: "
END_OF_FILE = "*** End of File"
_HEREDOC_STARTS = ("<<EOF", "<<'EOF'", '<<"EOF"')
MAX_PATCH_BYTES = 8 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class FileOp:
    """One file section of a patch.

    ``content`` is the text the patch puts into the file: an added file's whole content,
    or for an update the new text of its hunks (context and added lines, one hunk after
    the other), as an editor's replacement text would be. A delete has none.
    """

    op: Literal["add", "update", "delete"]
    path: str
    content: str = ""
    move_to: str | None = None


@dataclass(frozen=True, slots=True)
class Patch:
    """Every file operation of a patch, in order."""

    ops: tuple[FileOp, ...]

    @property
    def writes(self) -> list[tuple[str, str]]:
        """``(path, content)`` of every file the patch creates or changes (a moved file
        is written at its destination)."""
        return [(o.move_to or o.path, o.content) for o in self.ops if o.op != "delete"]

    @property
    def deletes(self) -> list[str]:
        """Every path the patch removes: deleted files and the sources of moves."""
        out = [o.path for o in self.ops if o.op == "delete"]
        out += [o.path for o in self.ops if o.op == "update" and o.move_to is not None and o.move_to != o.path]
        return out

    @property
    def paths(self) -> list[str]:
        """Every path the patch touches, each once, in order."""
        seen: dict[str, None] = {}
        for o in self.ops:
            seen[o.path] = None
            if o.move_to is not None:
                seen[o.move_to] = None
        return list(seen)


def _lines(text: str) -> list[str]:
    """``text.trim().lines()`` as Rust computes it."""
    trimmed = text.strip()
    if not trimmed:
        return []
    return [line[:-1] if line.endswith("\r") else line for line in trimmed.split("\n")]


def _body(lines: list[str]) -> list[str]:
    """The lines between the Begin and End markers (unwrapping a heredoc once)."""
    try:
        return _strict_body(lines)
    except PayloadError:
        if len(lines) >= 4 and lines[0] in _HEREDOC_STARTS and lines[-1].endswith("EOF"):
            return _strict_body(lines[1:-1])
        raise


def _strict_body(lines: list[str]) -> list[str]:
    if not lines or lines[0].strip() != BEGIN:
        raise PayloadError(f"the patch's first line must be {BEGIN!r}")
    if len(lines) < 2 or lines[-1].strip() != END:
        raise PayloadError(f"the patch's last line must be {END!r}")
    return lines[1:-1]


def parse_patch(text: str) -> Patch:
    """The file operations of the patch ``text``. Raises :class:`PayloadError` (with the
    line number) for anything Codex's parser would reject, and for a patch that names no
    file or puts a NUL byte in a path."""
    if not isinstance(text, str):
        raise PayloadError("the patch must be a string")
    if len(text) > MAX_PATCH_BYTES:
        raise PayloadError(f"the patch is {len(text)} characters; the limit is {MAX_PATCH_BYTES}")
    body = _body(_lines(text))
    ops: list[FileOp] = []
    i = 0
    while i < len(body):
        op, used = _file_section(body, i, line_number=i + 2)
        ops.append(op)
        i += used
    if not ops:
        raise PayloadError("the patch adds, updates or deletes no file")
    return Patch(tuple(ops))


def _path(rest: str, line_number: int) -> str:
    if "\x00" in rest:
        raise PayloadError(f"patch line {line_number}: the path contains a NUL byte")
    if not rest.strip():
        raise PayloadError(f"patch line {line_number}: the path is empty")
    return rest


def _file_section(lines: list[str], start: int, *, line_number: int) -> tuple[FileOp, int]:
    first = lines[start].strip()
    if first.startswith(ADD):
        path = _path(first[len(ADD) :], line_number)
        content: list[str] = []
        for line in lines[start + 1 :]:
            if not line.startswith("+"):
                break
            content.append(line[1:] + "\n")
        return FileOp("add", path, "".join(content)), 1 + len(content)
    if first.startswith(DELETE):
        return FileOp("delete", _path(first[len(DELETE) :], line_number)), 1
    if first.startswith(UPDATE):
        return _update(lines, start, _path(first[len(UPDATE) :], line_number), line_number)
    raise PayloadError(
        f"patch line {line_number}: {_show(first)} is not a file header "
        f"({ADD.strip()} <path>, {DELETE.strip()} <path> or {UPDATE.strip()} <path>)"
    )


def _update(lines: list[str], start: int, path: str, line_number: int) -> tuple[FileOp, int]:
    i = start + 1
    move_to = None
    if i < len(lines) and lines[i].startswith(MOVE):
        move_to = _path(lines[i][len(MOVE) :], line_number + 1)
        i += 1
    hunks: list[str] = []
    while i < len(lines):
        if not lines[i].strip():
            i += 1
            continue
        if lines[i].startswith("*"):
            break
        new_text, used = _hunk(lines, i, first=not hunks, line_number=line_number + (i - start))
        hunks.append(new_text)
        i += used
    if not hunks:
        raise PayloadError(f"patch line {line_number}: the update of {path!r} has no hunk")
    return FileOp("update", path, "\n".join(hunks), move_to), i - start


def _hunk(lines: list[str], start: int, *, first: bool, line_number: int) -> tuple[str, int]:
    """The new text of the hunk at ``lines[start]`` and how many lines it takes."""
    head = lines[start]
    if head == "@@" or head.startswith("@@ "):
        skip = 1
    elif first:
        skip = 0  # Codex lets the first hunk start with its diff lines
    else:
        raise PayloadError(f"patch line {line_number}: a hunk must start with '@@', not {_show(head)}")
    if start + skip >= len(lines):
        raise PayloadError(f"patch line {line_number + skip}: the hunk has no lines")
    new: list[str] = []
    used = 0
    for line in lines[start + skip :]:
        if line == END_OF_FILE:
            if used == 0:
                raise PayloadError(f"patch line {line_number + skip}: the hunk has no lines")
            used += 1
            break
        if not line:
            new.append("")
        elif line[0] in " +":
            new.append(line[1:])
        elif line[0] != "-":
            if used == 0:
                raise PayloadError(
                    f"patch line {line_number + skip}: {_show(line)} is not a hunk line "
                    "(each starts with ' ' for context, '+' for added or '-' for removed)"
                )
            break
        used += 1
    return "\n".join(new), used + skip


def _show(line: str, limit: int = 80) -> str:
    return repr(line if len(line) <= limit else line[: limit - 1] + "…")


def patch_action(text: str, cwd: str, tool: str, env: Mapping[str, str] | None, *, runtime: str) -> Action:
    """The one action a patch takes. A patch that writes one file and deletes none is a
    plain file write (path and new text); any other is a file write of every file it
    writes (``edits``: path and new text each) and deletes (``deletes``: each judged as
    ``rm -f -- <path>``). A patch ``runtime`` would reject is off-contract."""
    try:
        patch = parse_patch(text)
    except PayloadError as exc:
        raise PayloadError(f"{tool}: {runtime} cannot apply this patch: {exc}") from None
    writes, deletes = patch.writes, patch.deletes
    if len(writes) == 1 and not deletes:
        return base.file_write(writes[0][0], writes[0][1], cwd, tool, env)
    payload: dict[str, Any] = {"edits": [{"path": p, "content": c} for p, c in writes]}
    if deletes:
        payload["deletes"] = deletes
    return Action(ActionKind.FILE_WRITE, payload, cwd=cwd, tool=tool, environment=base.environment(env))
