"""Non-shell actions: file writes and reads, and MCP tool calls.

File paths go through :mod:`ringfence.analyze.files` (secrets, gate, CI config,
devices); the content of a migration file is parsed as SQL; MCP tool arguments are
judged by :mod:`ringfence.analyze.mcp` (a configured map of a server's tools, else the
tool's name and its arguments).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from ringfence.analyze.context import Context
from ringfence.errors import AnalysisLimit
from ringfence.model import Action, ActionKind, Effect

MAX_CONTENT_BYTES = 8 * 1024 * 1024


def analyze_tool(action: Action, ctx: Context) -> list[Effect]:
    if action.kind is ActionKind.FILE_WRITE:
        return list(_file_write(action, ctx))
    if action.kind is ActionKind.FILE_READ:
        return list(_file_read(action, ctx))
    if action.kind is ActionKind.MCP_CALL:
        return list(_mcp(action, ctx))
    if action.kind is ActionKind.PUSH:
        from ringfence.analyze.push import analyze_push

        return analyze_push(action, ctx)
    if action.kind is ActionKind.OTHER:
        return []  # runtime-internal tools (task lists, plan mode): nothing to judge
    if action.kind in (ActionKind.DEPLOY, ActionKind.MIGRATION, ActionKind.MERGE):
        from ringfence.analyze.pipeline import analyze_pipeline  # pipeline steps (ringfence ci gate)

        return analyze_pipeline(action, ctx)
    return [
        Effect(
            "analysis.error",
            {"reason": f"no analyzer for action kind {action.kind.value}"},
            evidence=action.kind.value,
        )
    ]


def _paths(payload: Mapping[str, Any]) -> list[str]:
    raw = payload.get("paths")
    if isinstance(raw, list | tuple):
        return [p for p in raw if isinstance(p, str) and p]
    path = payload.get("path")
    return [path] if isinstance(path, str) and path else []


def _file_write(action: Action, ctx: Context) -> Iterator[Effect]:
    """A write of ``path``/``paths`` with ``content``; a patch also lists ``edits`` (each
    file it writes with its own new text) and ``deletes`` (each file it removes, judged
    exactly as ``rm -f -- PATH``: the same effects and rules as the shell command)."""
    from ringfence.analyze import files, sql

    tool = action.tool or "write"
    content = action.payload.get("content")
    writes: list[tuple[Any, Any]] = [(path, content) for path in _paths(action.payload)]
    writes += _listed(
        action.payload, "edits", lambda e: (e.get("path"), e.get("content")) if isinstance(e, Mapping) else None
    )
    for path, text in writes:
        if not isinstance(path, str) or not path:
            yield _malformed(action, "an edit without a path")
            continue
        evidence = f"{tool} {path}"
        yield from files.write_effects(path, ctx, evidence=evidence, cwd=action.cwd)
        if isinstance(text, str) and text:
            if len(text) > MAX_CONTENT_BYTES:
                raise AnalysisLimit(f"file content is {len(text)} bytes; the analysis limit is {MAX_CONTENT_BYTES}")
            yield from sql.migration_file_effects(ctx.resolve(path, action.cwd), text, evidence=evidence)
    for path, _ in _listed(action.payload, "deletes", lambda p: (p, None)):
        if not isinstance(path, str) or not path:
            yield _malformed(action, "a deletion without a path")
            continue
        import shlex

        from ringfence.analyze import analyze_shell

        yield from analyze_shell(f"rm -f -- {shlex.quote(path)}", ctx)


def _listed(payload: Mapping[str, Any], key: str, item: Any) -> list[tuple[Any, Any]]:
    raw = payload.get(key)
    if raw is None:
        return []
    if not isinstance(raw, list | tuple):
        return [(None, None)]  # reported as malformed
    return [item(e) or (None, None) for e in raw]


def _malformed(action: Action, what: str) -> Effect:
    return Effect(
        "analysis.error", {"reason": f"the {action.tool or 'write'} action lists {what}"}, evidence=action.kind.value
    )


def _file_read(action: Action, ctx: Context) -> Iterator[Effect]:
    from ringfence.analyze import files

    tool = action.tool or "read"
    for path in _paths(action.payload):
        yield from files.read_effects(path, ctx, evidence=f"{tool} {path}", cwd=action.cwd)


def _mcp(action: Action, ctx: Context) -> Iterator[Effect]:
    from ringfence.analyze.mcp import mcp_effects

    yield from mcp_effects(action, ctx)
