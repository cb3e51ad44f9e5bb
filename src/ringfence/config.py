"""Configuration: where it lives, what it holds, and how it is validated.

Looked up, later files overriding earlier ones key by key:

1. ``$XDG_CONFIG_HOME/ringfence/config.yaml`` (default ``~/.config/ringfence/config.yaml``)
2. ``<workspace>/.ringfence/config.yaml``
3. the file named by ``$RINGFENCE_CONFIG``

A missing file is fine (defaults apply). A file that exists but cannot be read or is
invalid is a :class:`~ringfence.errors.ConfigError`, and the gate denies until it is
fixed: a broken configuration never loosens the gate.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ringfence.analyze.context import DEFAULT_PROTECTED_BRANCHES, AnalysisConfig, find_workspace
from ringfence.control.settings import CONTROL_KEYS, ControlSettings, parse_control
from ringfence.errors import ConfigError

KNOWN_KEYS = frozenset(
    {
        "on_error",
        "environment",
        "protected_branches",
        "environments",
        "workspace",
        "ledger",
        "checkpoint_every",
        "witness",
        "ledger_origin",
        "policy",
        "runtime_prompt",
        "agent",
        "max_command_bytes",
        "daemon",
        "gate_paths",
        "mcp",
        *CONTROL_KEYS,
    }
)
ENV_DOMAINS = frozenset(
    {
        "kube_context",
        "kube_namespace",
        "aws_profile",
        "gcloud_project",
        "azure_subscription",
        "terraform_workspace",
        "db_host",
        "app",
        "stack",
        "resource",
        "vault_addr",
        "docker_context",
    }
)
ENVIRONMENTS = frozenset({"development", "staging", "production"})


@dataclass(frozen=True, slots=True)
class Settings:
    """The effective configuration for one working directory."""

    analysis: AnalysisConfig = field(default_factory=AnalysisConfig)
    on_error: str = "deny"
    ledger_path: Path | None = None
    ledger_url: str | None = None  # postgresql://… when several servers share one ledger
    checkpoint_every: int = 1000
    witness: Path | None = None
    ledger_origin: str | None = None

    @property
    def ledger_state(self) -> Path:
        """Where the ledger's signing key lives: next to the ledger file, or the state dir."""
        return self.ledger_path.parent if self.ledger_path is not None else state_dir()

    @property
    def ledger_location(self) -> str | None:
        """Where the ledger lives: a PostgreSQL URL or a file path."""
        if self.ledger_url:
            return self.ledger_url
        return str(self.ledger_path) if self.ledger_path is not None else None

    policy_files: tuple[Path, ...] = ()
    runtime_prompt: bool = True
    agent_id: str | None = None
    agent_owner: str | None = None
    daemon: bool = True
    sources: tuple[Path, ...] = ()
    control: ControlSettings = field(default_factory=ControlSettings)

    @property
    def state_location(self) -> str:
        """Where the control state lives: a PostgreSQL URL or a SQLite file path."""
        explicit = os.environ.get("RINGFENCE_STATE") or self.control.state
        if explicit:
            if explicit.startswith(("postgresql://", "postgres://")):
                return explicit
            return os.path.expanduser(explicit)
        return str(state_dir() / "control.db")


def state_dir() -> Path:
    base = os.environ.get("XDG_STATE_HOME") or os.path.join(os.path.expanduser("~"), ".local", "state")
    return Path(base) / "ringfence"


def config_files(cwd: str) -> list[Path]:
    """The configuration files that apply to ``cwd``, lowest precedence first."""
    out: list[Path] = []
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    out.append(Path(base) / "ringfence" / "config.yaml")
    ws = find_workspace(cwd)
    if ws is not None:
        out.append(Path(ws) / ".ringfence" / "config.yaml")
    explicit = os.environ.get("RINGFENCE_CONFIG")
    if explicit:
        out.append(Path(explicit))
    return out


def load_settings(cwd: str) -> Settings:
    merged: dict[str, Any] = {}
    sources: list[Path] = []
    explicit = os.environ.get("RINGFENCE_CONFIG")
    for path in config_files(cwd):
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            if explicit and str(path) == explicit:
                raise ConfigError(f"{path}: RINGFENCE_CONFIG names a file that does not exist") from None
            continue
        except OSError as exc:
            raise ConfigError(f"{path}: cannot read configuration: {exc.strerror}") from exc
        doc = _parse(data, path)
        for key, value in doc.items():
            if key == "environments" and isinstance(value, dict) and isinstance(merged.get(key), dict):
                merged[key] = {**merged[key], **value}
            elif key == "mcp" and isinstance(value, dict) and isinstance(merged.get(key), dict):
                merged[key] = _merge_mcp(merged[key], value)
            else:
                merged[key] = value
        sources.append(path)
    return _build(merged, tuple(sources), cwd)


def _parse(data: bytes, path: Path) -> dict[str, Any]:
    if not data.strip():
        return {}
    import yaml

    try:
        doc = yaml.load(data, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark is not None else str(path)
        raise ConfigError(f"{where}: not valid YAML: {getattr(exc, 'problem', exc)}") from exc
    if doc is None:
        return {}
    if not isinstance(doc, dict):
        raise ConfigError(f"{path}: the configuration must be a mapping of settings")
    unknown = set(doc) - KNOWN_KEYS
    if unknown:
        raise ConfigError(
            f"{path}: unknown setting(s) {', '.join(sorted(map(str, unknown)))}; known: {', '.join(sorted(KNOWN_KEYS))}"
        )
    doc["__path__"] = str(path)
    return doc


def _build(doc: Mapping[str, Any], sources: tuple[Path, ...], cwd: str) -> Settings:
    where = str(sources[-1]) if sources else "configuration"
    on_error = doc.get("on_error", "deny")
    if on_error not in ("deny", "allow"):
        raise ConfigError(f"{where}: on_error must be 'deny' or 'allow', not {on_error!r}")
    env = doc.get("environment")
    if env is not None and env not in ENVIRONMENTS:
        raise ConfigError(f"{where}: environment must be one of {', '.join(sorted(ENVIRONMENTS))}")
    branches = doc.get("protected_branches", list(DEFAULT_PROTECTED_BRANCHES))
    if not isinstance(branches, list) or not all(isinstance(b, str) and b for b in branches):
        raise ConfigError(f"{where}: protected_branches must be a list of branch names or globs")
    envs_raw = doc.get("environments", {}) or {}
    if not isinstance(envs_raw, dict):
        raise ConfigError(f"{where}: environments must map a domain to {{pattern: environment}}")
    envs: dict[str, tuple[tuple[str, str], ...]] = {}
    for domain, mapping in envs_raw.items():
        if domain not in ENV_DOMAINS:
            raise ConfigError(
                f"{where}: environments.{domain} is not a known domain ({', '.join(sorted(ENV_DOMAINS))})"
            )
        if not isinstance(mapping, dict):
            raise ConfigError(f"{where}: environments.{domain} must map name patterns to environments")
        pairs: list[tuple[str, str]] = []
        for pattern, target in mapping.items():
            if target not in ENVIRONMENTS:
                raise ConfigError(
                    f"{where}: environments.{domain}.{pattern} must be one of {', '.join(sorted(ENVIRONMENTS))}"
                )
            pairs.append((str(pattern), str(target)))
        envs[domain] = tuple(pairs)
    workspace = doc.get("workspace")
    if workspace is not None and not isinstance(workspace, str):
        raise ConfigError(f"{where}: workspace must be a directory path")
    max_bytes = doc.get("max_command_bytes", 256 * 1024)
    if not isinstance(max_bytes, int) or isinstance(max_bytes, bool) or not 1024 <= max_bytes <= 16 * 1024 * 1024:
        raise ConfigError(f"{where}: max_command_bytes must be a number between 1024 and 16777216")
    gate_paths = doc.get("gate_paths", [])
    if not isinstance(gate_paths, list) or not all(isinstance(p, str) for p in gate_paths):
        raise ConfigError(f"{where}: gate_paths must be a list of paths")
    ledger = doc.get("ledger")
    if ledger is not None and not isinstance(ledger, str):
        raise ConfigError(f"{where}: ledger must be a file path or a postgresql:// URL")
    every = doc.get("checkpoint_every", 1000)
    if not isinstance(every, int) or isinstance(every, bool) or every < 1:
        raise ConfigError(f"{where}: checkpoint_every must be a whole number of entries, at least 1")
    witness = doc.get("witness")
    if witness is not None and not isinstance(witness, str):
        raise ConfigError(f"{where}: witness must be a directory path")
    origin = doc.get("ledger_origin")
    if origin is not None and (not isinstance(origin, str) or not origin.strip() or "\n" in origin):
        raise ConfigError(f"{where}: ledger_origin must be a one-line name such as example.com/ringfence")
    policy = doc.get("policy", [])
    if isinstance(policy, str):
        policy = [policy]
    if not isinstance(policy, list) or not all(isinstance(p, str) for p in policy):
        raise ConfigError(f"{where}: policy must be a list of pack files")
    prompt = doc.get("runtime_prompt", True)
    if not isinstance(prompt, bool):
        raise ConfigError(f"{where}: runtime_prompt must be true or false")
    daemon = doc.get("daemon", True)
    if not isinstance(daemon, bool):
        raise ConfigError(f"{where}: daemon must be true or false")
    agent = doc.get("agent", {}) or {}
    if not isinstance(agent, dict) or not all(k in ("id", "owner") and isinstance(v, str) for k, v in agent.items()):
        raise ConfigError(f"{where}: agent takes 'id' and 'owner' strings")
    from ringfence.analyze.mcp_config import parse_mcp_config

    mcp = parse_mcp_config(doc.get("mcp"), where)
    base_dir = Path(str(doc.get("__path__", cwd))).parent
    policy_files = tuple(_expand(base_dir, p) for p in policy)
    analysis = AnalysisConfig(
        protected_branches=tuple(branches),
        environments=envs,
        default_environment=env,
        workspace=os.path.abspath(os.path.expanduser(workspace)) if workspace else None,
        gate_paths=tuple(os.path.expanduser(p) for p in gate_paths),
        max_command_bytes=max_bytes,
        mcp=mcp,
    )
    ledger_env = os.environ.get("RINGFENCE_LEDGER") or ledger
    ledger_url = ledger_env if ledger_env and ledger_env.startswith(("postgresql://", "postgres://")) else None
    ledger_path = Path(os.path.expanduser(ledger_env)) if ledger_env and not ledger_url else None
    control = parse_control(doc, where, agent_id=agent.get("id"))
    return Settings(
        analysis=analysis,
        on_error=on_error,
        ledger_path=None if ledger_url else (ledger_path or (state_dir() / "ledger.db")),
        ledger_url=ledger_url,
        checkpoint_every=every,
        witness=Path(os.path.expanduser(witness)) if witness else None,
        ledger_origin=origin,
        policy_files=policy_files,
        runtime_prompt=prompt,
        agent_id=agent.get("id"),
        agent_owner=agent.get("owner"),
        daemon=daemon,
        sources=sources,
        control=control,
    )


def _merge_mcp(lower: dict[str, Any], upper: dict[str, Any]) -> dict[str, Any]:
    """A later file's ``mcp.servers`` entries replace the same servers of an earlier file
    and keep the others (a workspace adds its database to the user's GitHub entry)."""
    low, up = lower.get("servers"), upper.get("servers")
    if isinstance(low, dict) and isinstance(up, dict):
        return {**lower, **upper, "servers": {**low, **up}}
    return {**lower, **upper}


def _expand(base: Path, pattern: str) -> Path:
    p = Path(os.path.expanduser(pattern))
    return p if p.is_absolute() else base / p
