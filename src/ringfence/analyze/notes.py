"""Readable notes about one command found by :func:`ringfence.analyze.trace_shell`, for
``explain`` on the CLI, the API and the dashboard."""

from __future__ import annotations

from typing import Any


def command_notes(cmd: Any, action_cwd: str) -> list[str]:
    """What is worth knowing about ``cmd`` beyond its words: unknown words, the host it
    runs on, a directory other than the action's, and where its stdin comes from."""
    notes: list[str] = []
    if cmd.dynamic:
        notes.append("unknown words: " + ", ".join(str(d) for d in sorted(cmd.dynamic)))
    if cmd.remote:
        notes.append(f"runs on {cmd.remote}")
    if cmd.cwd and cmd.cwd != action_cwd:
        notes.append(f"in {cmd.cwd}")
    if cmd.stdin_from:
        notes.append("stdin from " + " | ".join(cmd.stdin_from))
    elif cmd.stdin is not None:
        notes.append(f"stdin: {len(cmd.stdin)} bytes")
    return notes
