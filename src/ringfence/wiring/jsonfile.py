"""Careful edits of JSON settings files that belong to someone else.

ringfence edits files such as ``.claude/settings.json`` that the user (and other tools)
also own. Every edit here therefore:

* parses strictly (invalid JSON, duplicate keys, ``NaN`` and a non-object root are refused
  with the file, line and column) and never rewrites a file it could not read exactly;
* keeps key order, unknown keys, the file's indentation, its line endings and its final
  newline;
* is planned first (:class:`Plan`: text before and after, a unified diff, a list of what
  changes) and applied separately (:func:`apply`), so ``--dry-run`` is the plan alone;
* backs the file up next to itself (``<name>.ringfence-backup-YYYYmmddTHHMMSS``) before
  changing it, then writes atomically (temporary file in the same directory, ``fsync``,
  ``os.replace``) keeping the file's mode. A symlinked settings file is edited at its
  target, so the link survives.
"""

from __future__ import annotations

import contextlib
import difflib
import json
import os
import re
import shutil
import stat
import tempfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from ringfence.errors import ConfigError
from ringfence.jsontype import json_type

BACKUP_MARKER = ".ringfence-backup-"
_DEFAULT_INDENT = 2


class SettingsFileError(ConfigError):
    """A settings file cannot be read, parsed or safely rewritten. Nothing was changed."""

    def __init__(self, path: Path, message: str, line: int | None = None, column: int | None = None):
        self.path = path
        self.line = line
        self.column = column
        self.detail = message
        where = str(path) if line is None else f"{path}:{line}:{column}"
        super().__init__(f"{where}: {message}")


class _DuplicateKey(ValueError):
    pass


class _BadConstant(ValueError):
    pass


@dataclass(frozen=True)
class Plan:
    """A planned change of one file: its text before and after (``None``: the file does
    not exist; only a file ringfence wrote itself is ever planned away), a description of
    each change, and notes (things worth knowing that are not changes)."""

    path: Path
    before: str | None
    after: str | None
    changes: tuple[str, ...] = field(default=())
    notes: tuple[str, ...] = field(default=())

    @property
    def changed(self) -> bool:
        return self.before != self.after

    @property
    def creates(self) -> bool:
        return self.before is None

    def diff(self) -> str:
        """A unified diff of the change (empty when nothing changes)."""
        if not self.changed:
            return ""
        before_lines = (self.before or "").splitlines(keepends=True)
        after_lines = (self.after or "").splitlines(keepends=True)
        lines = list(
            difflib.unified_diff(
                before_lines,
                after_lines,
                fromfile="/dev/null" if self.before is None else str(self.path),
                tofile=str(self.path),
            )
        )
        return "".join(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in lines)


def read_text(path: Path) -> str | None:
    """The file's text, or ``None`` when it does not exist."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    except IsADirectoryError:
        raise SettingsFileError(path, "is a directory, not a settings file; move it away") from None
    except OSError as exc:
        raise SettingsFileError(path, f"cannot be read: {exc.strerror or exc}") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        prefix = data[: exc.start].decode("utf-8", errors="replace")
        line, column = _position(prefix, len(prefix))
        raise SettingsFileError(
            path, "is not valid UTF-8; fix the encoding (or move the file away) and run again", line, column
        ) from None


def _position(text: str, index: int) -> tuple[int, int]:
    line = text.count("\n", 0, index) + 1
    column = index - (text.rfind("\n", 0, index) + 1) + 1
    return line, column


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _DuplicateKey(key)
        result[key] = value
    return result


def _constant(name: str) -> Any:
    raise _BadConstant(name)


def parse_object(text: str, path: Path) -> dict[str, Any]:
    """Parse ``text`` (the content of ``path``) as a JSON object, strictly.

    An empty (or whitespace-only) file is an empty object. Raises
    :class:`SettingsFileError` with line and column for invalid JSON, and refuses
    duplicate keys, ``NaN``/``Infinity`` and a root that is not an object: rewriting
    such a file would silently lose or change data.
    """
    if not text.strip():
        return {}
    try:
        value = json.loads(text, object_pairs_hook=_pairs, parse_constant=_constant)
    except json.JSONDecodeError as exc:
        raise SettingsFileError(
            path,
            f"invalid JSON: {exc.msg}; fix the file (or move it away) and run again",
            exc.lineno,
            exc.colno,
        ) from None
    except _DuplicateKey as exc:
        raise SettingsFileError(
            path, f"duplicate key {str(exc)!r}; remove one of them and run again (nothing was changed)"
        ) from None
    except _BadConstant as exc:
        raise SettingsFileError(path, f"{exc} is not valid JSON; replace it and run again") from None
    if not isinstance(value, dict):
        raise SettingsFileError(
            path,
            f"the top level is a JSON {json_type(value)}, but a settings file must be an object "
            "({...}); fix the file (or move it away) and run again",
            1,
            1,
        )
    return value


def _skip_ws(text: str, idx: int) -> int:
    while idx < len(text) and text[idx] in " \t\n\r":
        idx += 1
    return idx


def locate(text: str, pointer: tuple[str | int, ...]) -> tuple[int, int] | None:
    """Line and column (1-based) of the value at ``pointer`` (object keys and array
    indices from the root) in the JSON ``text``, or ``None`` if it is not there."""
    decoder = json.JSONDecoder()
    try:
        idx = _skip_ws(text, 0)
        for part in pointer:
            if isinstance(part, str):
                if text[idx] != "{":
                    return None
                idx = _skip_ws(text, idx + 1)
                while True:
                    if text[idx] != '"':
                        return None
                    key, idx = decoder.raw_decode(text, idx)
                    idx = _skip_ws(text, idx)
                    if text[idx] != ":":
                        return None
                    idx = _skip_ws(text, idx + 1)
                    if key == part:
                        break
                    _, idx = decoder.raw_decode(text, idx)
                    idx = _skip_ws(text, idx)
                    if text[idx] != ",":
                        return None
                    idx = _skip_ws(text, idx + 1)
            else:
                if text[idx] != "[":
                    return None
                idx = _skip_ws(text, idx + 1)
                for _ in range(part):
                    _, idx = decoder.raw_decode(text, idx)
                    idx = _skip_ws(text, idx)
                    if text[idx] != ",":
                        return None
                    idx = _skip_ws(text, idx + 1)
                if text[idx] == "]":
                    return None
    except (IndexError, ValueError):
        return None
    return _position(text, idx)


def format_pointer(pointer: tuple[str | int, ...]) -> str:
    """``("hooks", "PreToolUse", 0)`` → ``hooks.PreToolUse[0]``."""
    out = ""
    for part in pointer:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out or "(root)"


def load(path: Path) -> tuple[dict[str, Any], str | None]:
    """Read and parse ``path``: ``(object, text)``; a missing file is ``({}, None)``."""
    text = read_text(path)
    if text is None:
        return {}, None
    return parse_object(text, path), text


_INDENT_RE = re.compile(r"\A\s*\{[ \t]*\r?\n([ \t]+)\S")


def detect_indent(text: str | None) -> str:
    """The indentation unit of ``text`` (its first indented line), default two spaces."""
    if text:
        match = _INDENT_RE.match(text)
        if match:
            return match.group(1)
    return " " * _DEFAULT_INDENT


def dump_like(data: dict[str, Any], original: str | None) -> str:
    """Serialise ``data`` in the style of ``original``: same indentation unit, line
    endings and final newline (new files: two spaces, ``\\n``, final newline)."""
    text = json.dumps(data, indent=detect_indent(original), ensure_ascii=False)
    if original is None or original.endswith("\n") or not original.strip():
        text += "\n"
    if original is not None and "\r\n" in original:
        text = text.replace("\n", "\r\n")
    return text


def backup_path(path: Path, now: datetime | None = None) -> Path:
    """A free backup name next to ``path``: ``<name>.ringfence-backup-YYYYmmddTHHMMSS``
    (with ``-1``, ``-2``, ... appended if that second is already taken)."""
    stamp = (now or datetime.now()).strftime("%Y%m%dT%H%M%S")
    candidate = path.with_name(f"{path.name}{BACKUP_MARKER}{stamp}")
    n = 0
    while candidate.exists():
        n += 1
        candidate = path.with_name(f"{path.name}{BACKUP_MARKER}{stamp}-{n}")
    return candidate


def _real_target(path: Path) -> Path:
    return path.resolve() if path.is_symlink() else path


def _default_mode() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def atomic_write(path: Path, text: str, mode: int | None = None) -> None:
    """Write ``text`` to ``path`` atomically (temporary file in the same directory,
    ``fsync``, ``os.replace``) with the file mode ``mode`` (default: the existing file's
    mode, or ``0o666`` minus the umask for a new file)."""
    if mode is None:
        try:
            mode = stat.S_IMODE(path.stat().st_mode)
        except FileNotFoundError:
            mode = _default_mode()
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    with contextlib.suppress(OSError):
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def apply(plan: Plan, now: datetime | None = None) -> Path | None:
    """Carry out ``plan``: back the file up, then write the new text atomically.

    Returns the backup's path (``None`` when the file was created or deleted, or when the
    plan changes nothing — then nothing is touched). Refuses, changing nothing, if the file
    changed since the plan was made.
    """
    if not plan.changed:
        return None
    target = _real_target(plan.path)
    current = read_text(target)
    if current != plan.before:
        raise SettingsFileError(
            plan.path, "changed since it was read (another program is editing it?); run the command again"
        )
    if plan.after is None:  # a file ringfence wrote itself (an OpenCode plugin): delete it (a link: the link)
        try:
            plan.path.unlink()
        except OSError as exc:
            raise SettingsFileError(plan.path, f"cannot be deleted: {exc.strerror or exc}") from None
        return None
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        backup: Path | None = None
        if current is not None:
            backup = backup_path(target, now)
            shutil.copy2(target, backup)
        atomic_write(target, plan.after)
    except OSError as exc:
        raise SettingsFileError(
            plan.path, f"cannot be written: {exc.strerror or exc}; check the permissions of {target.parent}"
        ) from None
    return backup
