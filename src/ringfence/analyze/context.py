"""What the analyzers know about where an action runs.

The context resolves paths the way the shell would (relative to the cwd, ``~``,
``$HOME``, ``..``), knows the workspace root (the git top level or a configured
directory) and maps names — kube contexts, cloud profiles, terraform workspaces,
database hosts, app names — to an environment (``development``, ``staging``,
``production``). It never runs a program: the workspace root is found by looking for
``.git`` on the way up, with ``os.stat`` only.
"""

from __future__ import annotations

import fnmatch
import os
import posixpath
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field

from ringfence.analyze.mcp_config import McpConfig

DEFAULT_PROTECTED_BRANCHES: tuple[str, ...] = ("main", "master", "release/*", "production")

# When configuration does not say which environment a name (kube context, profile,
# workspace, host, app) belongs to, these decide. The asymmetry is deliberate: calling
# something production only makes the gate stricter, so any name *containing* a
# production marker counts ("myprodcluster", "eu-live-1"); calling something development
# or staging loosens it, so that needs a whole word ("dev", "stg-2", "kind-ci") — never a
# substring ("latest" is not "test", "devops-prod" is production).
PRODUCTION_MARKERS: tuple[str, ...] = ("prod", "prd", "live")
STAGING_WORDS = frozenset({"stage", "staging", "stag", "stg", "preprod", "uat", "qa"})
DEVELOPMENT_WORDS = frozenset(
    {
        "dev",
        "develop",
        "development",
        "local",
        "localhost",
        "test",
        "testing",
        "sandbox",
        "minikube",
        "kind",
        "docker-desktop",
        "127.0.0.1",
        "scratch",
        "ci",
    }
)
_WORD_SPLIT = re.compile(r"[^a-z0-9]+")


def default_environment(name: str) -> str | None:
    """The environment a name suggests by itself, or None."""
    lowered = name.lower()
    if any(marker in lowered for marker in PRODUCTION_MARKERS) and "preprod" not in lowered:
        return "production"
    if lowered in DEVELOPMENT_WORDS:
        return "development"
    words = set(_WORD_SPLIT.split(lowered)) - {""}
    if words & STAGING_WORDS:
        return "staging"
    if words & DEVELOPMENT_WORDS:
        return "development"
    return None


CRITICAL_DIRS: tuple[str, ...] = (
    "/",
    "/bin",
    "/boot",
    "/dev",
    "/etc",
    "/home",
    "/lib",
    "/lib64",
    "/opt",
    "/proc",
    "/root",
    "/sbin",
    "/srv",
    "/sys",
    "/usr",
    "/var",
    "/Users",
    "/System",
    "/Library",
    "/Applications",
    "/private",
)


@dataclass(frozen=True, slots=True)
class AnalysisConfig:
    """The organisation-specific facts the analyzers use (from the config file)."""

    protected_branches: tuple[str, ...] = DEFAULT_PROTECTED_BRANCHES
    # domain -> ordered (glob, environment) pairs; domains: kube_context, kube_namespace,
    # aws_profile, gcloud_project, azure_subscription, terraform_workspace, db_host, app
    environments: Mapping[str, tuple[tuple[str, str], ...]] = field(default_factory=dict)
    default_environment: str | None = None
    workspace: str | None = None
    # extra paths that belong to the gate (besides the built-in ones)
    gate_paths: tuple[str, ...] = ()
    max_command_bytes: int = 256 * 1024
    max_unwrap_depth: int = 16
    # what configured MCP servers' tools do (see ringfence.analyze.mcp_config)
    mcp: McpConfig = field(default_factory=McpConfig)


@dataclass(slots=True)
class Context:
    """Where one action runs. Cheap to build; one per decision."""

    cwd: str
    home: str
    config: AnalysisConfig = field(default_factory=AnalysisConfig)
    environment: str | None = None
    workspace: str | None = None
    depth: int = 0
    # how many times the analysis looked at the filesystem (a script, an SQL file): an
    # analysis that did not is a pure function of its inputs and may be reused
    fs_reads: int = 0

    @classmethod
    def for_cwd(
        cls,
        cwd: str,
        config: AnalysisConfig | None = None,
        *,
        home: str | None = None,
        environment: str | None = None,
    ) -> Context:
        cfg = config or AnalysisConfig()
        home_dir = home or os.environ.get("HOME") or os.path.expanduser("~")
        cwd_abs = posixpath.normpath(cwd if posixpath.isabs(cwd) else posixpath.join(home_dir, cwd))
        workspace = cfg.workspace or find_workspace(cwd_abs)
        env = environment or os.environ.get("RINGFENCE_ENV") or cfg.default_environment
        return cls(cwd=cwd_abs, home=home_dir, config=cfg, environment=env, workspace=workspace)

    # -- paths -------------------------------------------------------------------------

    def resolve(self, path: str, cwd: str | None = None) -> str:
        """Resolve ``path`` as the shell would from ``cwd`` (default: the action's cwd)."""
        base = cwd or self.cwd
        p = path
        if p == "~" or p.startswith("~/"):
            p = self.home + p[1:]
        elif p.startswith("$HOME") or p.startswith("${HOME}"):
            p = self.home + p[len("${HOME}") if p.startswith("${HOME}") else len("$HOME") :]
        if not posixpath.isabs(p):
            p = posixpath.join(base, p)
        resolved = posixpath.normpath(p)
        if resolved.startswith("//"):
            resolved = "/" + resolved.lstrip("/")
        return resolved

    def inside_workspace(self, abspath: str) -> bool:
        root = self.workspace
        if root is None:
            return False
        return abspath == root or abspath.startswith(root.rstrip("/") + "/")

    def is_critical(self, abspath: str) -> bool:
        """``/``, the home directory, system directories, a workspace root or ``.git``."""
        if abspath in CRITICAL_DIRS or abspath == self.home.rstrip("/"):
            return True
        if abspath.startswith("/") and abspath.count("/") == 1 and abspath != "/tmp":
            return True  # any top-level directory
        if self.workspace is not None and abspath == self.workspace:
            return True
        parts = abspath.split("/")
        return ".git" in parts and parts[-1] in (".git", "objects", "refs", "HEAD")

    # -- environments --------------------------------------------------------------------

    def environment_for(self, domain: str, name: str | None) -> str | None:
        """Map a name in ``domain`` (e.g. a kube context) to an environment."""
        if name:
            lowered = name.lower()
            for pattern, env in self.config.environments.get(domain, ()):
                if fnmatch.fnmatchcase(lowered, pattern.lower()):
                    return env
            found = default_environment(lowered)
            if found is not None:
                return found
        return self.environment

    def is_protected_branch(self, branch: str) -> bool:
        return any(fnmatch.fnmatchcase(branch, pat) for pat in self.config.protected_branches)


_WORKSPACE_TTL = 2.0
_workspace_cache: dict[str, tuple[float, str | None]] = {}


def find_workspace(cwd: str) -> str | None:
    """The nearest directory at or above ``cwd`` holding ``.git`` (file or directory).

    Cached per directory for two seconds: a warm daemon asks for the same few directories
    thousands of times, and a repository created a moment ago is seen soon after.
    """
    now = time.monotonic()
    hit = _workspace_cache.get(cwd)
    if hit is not None and now - hit[0] < _WORKSPACE_TTL:
        return hit[1]
    found = _find_workspace(cwd)
    if len(_workspace_cache) > 1024:
        _workspace_cache.clear()
    _workspace_cache[cwd] = (now, found)
    return found


def _find_workspace(cwd: str) -> str | None:
    current = cwd
    for _ in range(64):
        if os.path.lexists(posixpath.join(current, ".git")):
            return current
        parent = posixpath.dirname(current)
        if parent == current:
            return None
        current = parent
    return None
