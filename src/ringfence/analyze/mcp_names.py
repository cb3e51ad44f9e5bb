"""MCP tool names as runtimes spell them → ``(server, tool)``.

Every runtime that routes MCP tool calls through its hooks names the tool after the
server it comes from, but not all the same way:

==========================  =================================  ====================
runtime                     name given to the hook             separator
==========================  =================================  ====================
Claude Code, Codex CLI      ``mcp__<server>__<tool>``          ``__`` after ``mcp``
Gemini CLI (current)        ``mcp_<server>_<tool>``            one ``_``
Gemini CLI (before 0.2x)    ``<server>__<tool>``               ``__``, no prefix
GitHub Copilot CLI          ``<server>-<tool>``                one ``-``
==========================  =================================  ====================

Server names are normalised by the runtimes before they are joined (characters outside
``[A-Za-z0-9_-]`` become ``_``; Gemini also keeps ``.`` and ``:``), so a server called
``my.db`` arrives as ``my_db``. Gemini shortens names longer than 63 characters to their
first and last 30 characters joined by ``...``; such a name cannot be split reliably.

**Ambiguity.** A server name may itself contain the separator (``mcp_my_db_query`` is
server ``my`` with tool ``db_query``, or server ``my_db`` with tool ``query``). The rule:

1. A *known* server wins: among the ``servers`` given (the servers named in the
   ``mcp.servers`` configuration), the longest one whose normalised name, followed by
   the separator, starts the rest of the name is the server. Longest first, so
   ``my_db`` beats ``my`` when both are configured.
2. Otherwise the runtime's own rule: for ``mcp__`` names the server ends at the first
   ``__`` (how Claude Code and Codex split them); for ``mcp_`` names it ends at the first
   ``_`` (how Gemini CLI's own ``parseMcpToolName`` splits them).
3. Names without an ``mcp`` prefix (``server__tool``, ``server-tool``) are MCP names only
   when ``server`` is known (configured, or Copilot CLI's built-in ``github-mcp-server``):
   ``run-tests`` is not a call to a server called ``run``.

When the runtime gives the server and tool separately (Gemini CLI's
``mcp_context.server_name``/``tool_name``, Cursor's ``beforeMCPExecution``), use those:
they are authoritative and need no parsing.

This module is pure: no imports beyond the standard library, no configuration lookup,
never raises on any text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

__all__ = ["BUILTIN_SERVERS", "normalize_server_name", "parse_mcp_tool"]

# Servers a runtime provides without configuration, known by name for unprefixed names.
BUILTIN_SERVERS: tuple[str, ...] = ("github-mcp-server",)

_INVALID = re.compile(r"[^A-Za-z0-9_\-]")
_MAX_NAME = 4096


def normalize_server_name(name: str) -> str:
    """A server name as runtimes put it into tool names: other characters become ``_``,
    compared case-insensitively (so it is lowered)."""
    return _INVALID.sub("_", name).lower()


def parse_mcp_tool(name: str, servers: Iterable[str] = ()) -> tuple[str, str] | None:
    """``(server, tool)`` for an MCP tool name in any runtime's spelling, or ``None`` when
    ``name`` is not one (see the module documentation for the formats and the rule that
    resolves a server name containing the separator).

    ``servers`` are the known server names (``AnalysisConfig.mcp.servers`` — iterating
    the mapping gives the names); a known server is returned as configured, other
    servers as they appear in ``name``. Never raises; any text is accepted.
    """
    if not isinstance(name, str) or not name or len(name) > _MAX_NAME:
        return None
    known = _known(servers)
    if name.startswith("mcp__"):
        return _split(name[5:], "__", known, fallback=True)
    if name.startswith("mcp_"):
        return _split(name[4:], "_", known, fallback=True)
    builtin = [(normalize_server_name(s), s) for s in BUILTIN_SERVERS]
    return _split(name, "__", known, fallback=False) or _split(name, "-", known + builtin, fallback=False)


def _known(servers: Iterable[str]) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    try:
        for s in servers:
            if isinstance(s, str) and s and s != "*":
                out.append((normalize_server_name(s), s))
    except TypeError:
        return []
    out.sort(key=lambda pair: len(pair[0]), reverse=True)
    return out


def _split(rest: str, sep: str, known: list[tuple[str, str]], *, fallback: bool) -> tuple[str, str] | None:
    lowered = rest.lower()
    for normalised, original in sorted(known, key=lambda pair: len(pair[0]), reverse=True):
        prefix = normalised + sep
        if lowered.startswith(prefix) and len(rest) > len(prefix):
            return original, rest[len(prefix) :]
    if not fallback:
        return None
    server, found, tool = rest.partition(sep)
    if not found or not server or not tool:
        return None
    return server, tool
