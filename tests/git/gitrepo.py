"""Real git repositories for the git hook tests: a bare remote and a clone, an isolated
HOME, no global or system git configuration."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

from ringfence.adapters.git_hooks import AGENT_MARKERS
from tests.helpers import isolated_env

GIT_IDENTITY = {
    "GIT_AUTHOR_NAME": "Dev Eloper",
    "GIT_AUTHOR_EMAIL": "dev@example.com",
    "GIT_COMMITTER_NAME": "Dev Eloper",
    "GIT_COMMITTER_EMAIL": "dev@example.com",
}


def git_env(root: Path, **extra: str) -> dict[str, str]:
    env = isolated_env(
        root,
        GIT_CONFIG_GLOBAL="/dev/null",
        GIT_CONFIG_NOSYSTEM="1",
        GIT_TERMINAL_PROMPT="0",
        **GIT_IDENTITY,
    )
    for var, _ in AGENT_MARKERS:
        env.pop(var, None)
    for var in ("AI_AGENT", "GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE"):
        env.pop(var, None)
    env.update(extra)
    return env


def git(env: dict[str, str], cwd: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=60, check=False)
    if check and proc.returncode != 0:
        raise AssertionError(f"git {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc


def rev(env: dict[str, str], cwd: Path, ref: str) -> str | None:
    proc = git(env, cwd, "rev-parse", "--verify", "--quiet", ref, check=False)
    return proc.stdout.strip() if proc.returncode == 0 else None


@dataclass
class Repos:
    env: dict[str, str]
    remote: Path
    clone: Path

    def git(
        self, *args: str, check: bool = True, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        return git(env or self.env, self.clone, *args, check=check)

    def remote_sha(self, ref: str) -> str | None:
        return rev(self.env, self.remote, ref)

    def commit(self, message: str, *, path: str = "file.txt") -> str:
        target = self.clone / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(target.read_text() + message + "\n" if target.exists() else message + "\n")
        self.git("add", path)
        self.git("commit", "-q", "-m", message)
        return self.git("rev-parse", "HEAD").stdout.strip()

    def push(self, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        return self.git("push", *args, check=False, env=env)


def make_repos(root: Path) -> Repos:
    """A bare ``remote.git`` with ``main`` (two commits) and a clone of it, no hooks yet."""
    env = git_env(root)
    remote = root / "remote.git"
    git(env, root, "init", "-q", "--bare", "-b", "main", str(remote))
    git(env, root, "clone", "-q", str(remote), "clone")
    repos = Repos(env, remote, root / "clone")
    repos.git("checkout", "-q", "-b", "main")
    repos.commit("first")
    repos.commit("second")
    repos.git("push", "-q", "origin", "main")
    return repos
