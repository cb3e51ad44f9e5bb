"""The ``mcp`` section of the configuration: what a server's tools do.

::

    mcp:
      servers:
        github:
          tools:
            merge_pull_request: {kind: merge}
            delete_repository: {kind: destructive}
            create_deployment: {kind: deploy, environment_arg: environment}
        postgres:
          environment: production
          tools:
            query: {kind: sql, sql_arg: sql, dialect: postgres}
            "*": {kind: read}

A listed tool is judged by its entry instead of the name heuristics; ``"*"`` is the
entry for a server's unlisted tools; a server's other tools keep the heuristics. Parsing
is strict: an unknown key, an unknown kind or a wrong type is a
:class:`~ringfence.errors.ConfigError` naming the exact place, and the gate denies until
the file is fixed. See :mod:`ringfence.analyze.mcp` for what each kind means.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ringfence.errors import ConfigError

# kind -> what it means (shown in errors and docs)
KINDS: dict[str, str] = {
    "read": "reads only: recorded, no further analysis",
    "write": "writes: path arguments are judged as file writes",
    "destructive": "deletes, drops or resets something",
    "deploy": "deploys (the deploy pack applies, by environment)",
    "merge": "merges a pull request (an admin/bypass argument skips review)",
    "publish": "publishes a package or release",
    "sql": "runs SQL: the SQL argument is parsed as SQL",
    "shell": "runs a shell command: the command argument is parsed as shell",
    "credential": "changes credentials, secrets or access",
    "infra": "changes infrastructure",
    "infra_destroy": "deletes infrastructure",
}
ENVIRONMENTS = frozenset({"development", "staging", "production"})
SHELLS = frozenset({"bash", "powershell"})
_TOOL_KEYS: dict[str, tuple[str, ...]] = {
    "kind": ("*",),
    "environment": ("*",),
    "environment_arg": ("*",),
    "sql_arg": ("sql",),
    "dialect": ("sql",),
    "command_arg": ("shell",),
    "shell": ("shell",),
    "path_arg": ("write", "destructive"),
}
_SERVER_KEYS = frozenset({"tools", "environment"})


@dataclass(frozen=True, slots=True)
class McpTool:
    """How one MCP tool is judged (an entry of ``mcp.servers.<server>.tools``)."""

    kind: str
    environment: str | None = None
    environment_arg: str | None = None
    sql_arg: str | None = None
    dialect: str | None = None
    command_arg: str | None = None
    shell: str = "bash"
    path_arg: str | None = None


@dataclass(frozen=True, slots=True)
class McpServer:
    """One configured server: its tools, and the environment all of them reach."""

    tools: Mapping[str, McpTool] = field(default_factory=dict)
    environment: str | None = None

    def tool(self, name: str) -> McpTool | None:
        """The entry for tool ``name``: its own, else ``"*"``, else None."""
        found = self.tools.get(name)
        if found is None:
            lowered = name.lower()
            found = next((t for k, t in self.tools.items() if k.lower() == lowered), None)
        return found if found is not None else self.tools.get("*")


@dataclass(frozen=True, slots=True)
class McpConfig:
    """The ``mcp`` configuration: servers by name."""

    servers: Mapping[str, McpServer] = field(default_factory=dict)

    def server(self, name: str) -> McpServer | None:
        """The configured server ``name`` (exact, else compared as runtimes normalise names)."""
        found = self.servers.get(name)
        if found is not None:
            return found
        from ringfence.analyze.mcp_names import normalize_server_name

        wanted = normalize_server_name(name)
        for key, server in self.servers.items():
            if normalize_server_name(key) == wanted:
                return server
        return None


def parse_mcp_config(raw: Any, where: str) -> McpConfig:
    """The ``mcp`` setting, validated; ``where`` names the file for errors."""
    if raw is None:
        return McpConfig()
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: mcp must be a mapping with a 'servers' key")
    unknown = set(raw) - {"servers"}
    if unknown:
        raise ConfigError(f"{where}: mcp.{sorted(map(str, unknown))[0]} is not a setting (known: servers)")
    servers_raw = raw.get("servers") or {}
    if not isinstance(servers_raw, dict):
        raise ConfigError(f"{where}: mcp.servers must map server names to {{tools: ...}}")
    servers: dict[str, McpServer] = {}
    for name, body in servers_raw.items():
        if not isinstance(name, str) or not name.strip():
            raise ConfigError(f"{where}: mcp.servers has a server name that is not a string: {name!r}")
        servers[name] = _server(body, f"{where}: mcp.servers.{name}")
    return McpConfig(servers)


def _server(body: Any, at: str) -> McpServer:
    if body is None:
        return McpServer()
    if not isinstance(body, dict):
        raise ConfigError(f"{at} must be a mapping (tools, environment)")
    unknown = set(body) - _SERVER_KEYS
    if unknown:
        raise ConfigError(
            f"{at}.{sorted(map(str, unknown))[0]} is not a setting (known: {', '.join(sorted(_SERVER_KEYS))})"
        )
    env = _environment(body.get("environment"), f"{at}.environment")
    tools_raw = body.get("tools") or {}
    if not isinstance(tools_raw, dict):
        raise ConfigError(f"{at}.tools must map tool names to {{kind: ...}}")
    tools: dict[str, McpTool] = {}
    for tool_name, entry in tools_raw.items():
        if not isinstance(tool_name, str) or not tool_name:
            raise ConfigError(f"{at}.tools has a tool name that is not a string: {tool_name!r}")
        tools[tool_name] = _tool(entry, f"{at}.tools.{tool_name}")
    return McpServer(tools, env)


def _tool(entry: Any, at: str) -> McpTool:
    if isinstance(entry, str):
        entry = {"kind": entry}  # `query: sql` is short for `query: {kind: sql}`
    if not isinstance(entry, dict):
        raise ConfigError(f"{at} must be a mapping such as {{kind: read}}")
    kind = entry.get("kind")
    if kind is None:
        raise ConfigError(f"{at} needs a kind ({', '.join(KINDS)})")
    if not isinstance(kind, str) or kind not in KINDS:
        raise ConfigError(f"{at}.kind {kind!r} is not a kind; use one of {', '.join(KINDS)}")
    for key in entry:
        allowed = _TOOL_KEYS.get(key) if isinstance(key, str) else None
        if allowed is None:
            raise ConfigError(f"{at}.{key} is not a setting (known: {', '.join(_TOOL_KEYS)})")
        if allowed != ("*",) and kind not in allowed:
            raise ConfigError(f"{at}.{key} applies only to kind {' or '.join(allowed)}, not {kind}")
    for key in ("environment_arg", "sql_arg", "dialect", "command_arg", "path_arg"):
        value = entry.get(key)
        if value is not None and (not isinstance(value, str) or not value.strip()):
            raise ConfigError(f"{at}.{key} must be an argument name (a non-empty string), not {value!r}")
    shell = entry.get("shell", "bash")
    if not isinstance(shell, str) or shell not in SHELLS:
        raise ConfigError(f"{at}.shell must be one of {', '.join(sorted(SHELLS))}, not {shell!r}")
    return McpTool(
        kind=kind,
        environment=_environment(entry.get("environment"), f"{at}.environment"),
        environment_arg=entry.get("environment_arg"),
        sql_arg=entry.get("sql_arg"),
        dialect=entry.get("dialect"),
        command_arg=entry.get("command_arg"),
        shell=shell,
        path_arg=entry.get("path_arg"),
    )


def _environment(value: Any, at: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or value not in ENVIRONMENTS:
        raise ConfigError(f"{at} must be one of {', '.join(sorted(ENVIRONMENTS))}, not {value!r}")
    return str(value)
