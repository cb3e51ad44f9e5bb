"""Command corpora for the end-to-end gate tests.

``benign.txt`` holds everyday developer and agent commands that must be allowed;
``gated.txt`` holds dangerous base commands that must never be allowed, however they
are spelled (see :mod:`tests.corpus.spellings`).

File format (both files): one shell command per line. Blank lines and lines whose
first non-blank character is ``#`` are ignored (a ``#`` later in a line is part of the
command). A command that spans several lines is written on one line with two escapes,
decoded by :func:`load`:

- ``\\n`` (backslash, letter n) stands for a newline;
- ``\\\\`` (two backslashes) stands for one backslash.

Any other backslash is kept as written, so ``find . -exec rm {} \\;`` needs no
doubling. To put a literal backslash-n into a command (``printf 'a\\nb'``), write
``printf 'a\\\\nb'``.
"""

from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).parent


def decode(line: str) -> str:
    """Decode the ``\\n`` and ``\\\\`` escapes of one corpus line."""
    out: list[str] = []
    i = 0
    while i < len(line):
        ch = line[i]
        if ch == "\\" and i + 1 < len(line) and line[i + 1] in "n\\":
            out.append("\n" if line[i + 1] == "n" else "\\")
            i += 2
            continue
        out.append(ch)
        i += 1
    return "".join(out)


def load(name: str) -> list[str]:
    """The commands of corpus file ``name`` (``benign`` or ``gated``), decoded, in order."""
    commands: list[str] = []
    for raw in (HERE / f"{name}.txt").read_text(encoding="utf-8").splitlines():
        stripped = raw.strip()
        if not stripped or stripped.startswith("#"):
            continue
        commands.append(decode(stripped))
    return commands
