"""Non-shell actions: file writes and reads, and MCP tool calls.

File paths go through :mod:`ringfence.analyze.files` (secrets, gate, CI config,
devices); the content of a migration file is parsed as SQL; MCP tool arguments are
scanned for SQL and shell commands, and the tool's name says whether it deletes,
deploys or merges.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from ringfence.analyze.context import Context
from ringfence.errors import AnalysisLimit
from ringfence.model import Action, ActionKind, Effect

MAX_CONTENT_BYTES = 8 * 1024 * 1024
MAX_ARG_STRINGS = 1_000

_NAME_WORDS = re.compile(r"[a-z0-9]+")
_DESTRUCTIVE = frozenset(
    {
        "drop",
        "truncate",
        "delete",
        "destroy",
        "purge",
        "wipe",
        "remove",
        "erase",
        "reset",
        "terminate",
        "kill",
        "flush",
    }
)
_DEPLOY = frozenset({"deploy", "release", "promote", "rollout"})
_MERGE = frozenset({"merge"})
_PUBLISH = frozenset({"publish"})
_SHELL_TOOLS = frozenset({"exec", "shell", "bash", "terminal", "command", "run"})
_SHELL_KEYS = ("command", "cmd", "script", "shell_command")
_SQL_KEYS = ("sql", "query", "statement", "statements")


def analyze_tool(action: Action, ctx: Context) -> list[Effect]:
    if action.kind is ActionKind.FILE_WRITE:
        return list(_file_write(action, ctx))
    if action.kind is ActionKind.FILE_READ:
        return list(_file_read(action, ctx))
    if action.kind is ActionKind.MCP_CALL:
        return list(_mcp(action, ctx))
    if action.kind is ActionKind.OTHER:
        return []  # runtime-internal tools (task lists, plan mode): nothing to judge
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
    from ringfence.analyze import files, sql

    tool = action.tool or "write"
    content = action.payload.get("content")
    for path in _paths(action.payload):
        evidence = f"{tool} {path}"
        yield from files.write_effects(path, ctx, evidence=evidence, cwd=action.cwd)
        if isinstance(content, str) and content:
            if len(content) > MAX_CONTENT_BYTES:
                raise AnalysisLimit(f"file content is {len(content)} bytes; the analysis limit is {MAX_CONTENT_BYTES}")
            yield from sql.migration_file_effects(ctx.resolve(path, action.cwd), content, evidence=evidence)


def _file_read(action: Action, ctx: Context) -> Iterator[Effect]:
    from ringfence.analyze import files

    tool = action.tool or "read"
    for path in _paths(action.payload):
        yield from files.read_effects(path, ctx, evidence=f"{tool} {path}", cwd=action.cwd)


def _mcp(action: Action, ctx: Context) -> Iterator[Effect]:
    server = str(action.payload.get("server") or "")
    tool = str(action.payload.get("tool") or "")
    args = action.payload.get("arguments")
    evidence = f"mcp {server}.{tool}"
    words = set(_NAME_WORDS.findall(tool.lower()))
    env = _env_from_args(args, ctx, server)
    attrs: dict[str, Any] = {"server": server, "tool": tool, "environment": env}
    yield Effect("mcp.call", {**attrs, "destructive": bool(words & _DESTRUCTIVE)}, evidence=evidence)
    if words & _DEPLOY:
        yield Effect("deploy", {**attrs, "tool": f"mcp:{server}", "production": env == "production"}, evidence=evidence)
    if words & _PUBLISH:
        yield Effect("publish", {**attrs, "tool": f"mcp:{server}"}, evidence=evidence)
    if words & _MERGE and isinstance(args, dict) and (args.get("admin") or args.get("bypass")):
        yield Effect("merge.bypass_review", attrs, evidence=evidence)
    strings = list(_strings(args))
    if len(strings) > MAX_ARG_STRINGS:
        raise AnalysisLimit(f"MCP arguments hold more than {MAX_ARG_STRINGS} strings")
    from ringfence.analyze import sql

    for key, value in strings:
        lowered = key.lower()
        if lowered in _SHELL_KEYS and words & _SHELL_TOOLS:
            from ringfence.analyze.shell import trace_shell

            for eff in trace_shell(value, ctx).effects:
                yield Effect(eff.kind, eff.attrs, eff.evidence, (f"mcp {server}.{tool}", *eff.via))
        elif lowered in _SQL_KEYS or sql.looks_like_sql(value):
            yield from sql.sql_effects(
                value,
                dialect=None,
                environment=env,
                evidence=evidence,
                via=(f"mcp {server}.{tool}",),
                tool=f"mcp:{server}",
            )
        elif lowered in ("path", "file", "filename", "file_path", "target") and words & {
            "write",
            "edit",
            "create",
            "delete",
            "remove",
        }:
            from ringfence.analyze import files

            yield from files.write_effects(value, ctx, evidence=evidence, cwd=action.cwd)


def _strings(value: Any, key: str = "", depth: int = 0) -> Iterator[tuple[str, str]]:
    if depth > 32:
        raise AnalysisLimit("MCP arguments nest more than 32 levels deep")
    if isinstance(value, str):
        yield key, value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _strings(v, str(k), depth + 1)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v, key, depth + 1)


def _env_from_args(args: Any, ctx: Context, server: str) -> str | None:
    if isinstance(args, dict):
        for key in ("environment", "env", "stage", "target"):
            value = args.get(key)
            if isinstance(value, str) and value:
                return ctx.environment_for("app", value)
    return ctx.environment_for("app", server) if server else ctx.environment
