"""``init``/``uninstall``/``doctor`` with ``--git-hooks``, through the real CLI."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.helpers import RINGFENCE, isolated_env


def _cli(*args: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [RINGFENCE, *args], cwd=cwd, env={**env, "COLUMNS": "200"}, capture_output=True, text=True, timeout=120
    )


def _repo(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    env = isolated_env(tmp_path, GIT_CONFIG_GLOBAL="/dev/null", GIT_CONFIG_NOSYSTEM="1")
    repo = tmp_path / "work"
    subprocess.run(["git", "init", "-q", str(repo)], check=True, env=env)
    return repo, env


def test_init_doctor_uninstall_git_hooks(tmp_path: Path) -> None:
    repo, env = _repo(tmp_path)
    hook = repo / ".git" / "hooks" / "pre-push"
    dry = _cli("init", "--git-hooks", "--dry-run", cwd=repo, env=env)
    assert dry.returncode == 0 and "dry run" in dry.stdout and not hook.exists()
    assert _cli("init", "--git-hooks", cwd=repo, env=env).returncode == 0
    assert hook.exists() and "ringfence" in hook.read_text()
    doctor = _cli("doctor", cwd=repo, env=env)  # no runtime settings here: only the git hook is checked
    assert doctor.returncode == 0, doctor.stdout + doctor.stderr
    assert "git pre-push" in doctor.stdout and "Claude Code" not in doctor.stdout
    assert _cli("uninstall", "--git-hooks", cwd=repo, env=env).returncode == 0
    assert not hook.exists()
    broken = _cli("doctor", "--git-hooks", cwd=repo, env=env)
    assert broken.returncode == 1 and "ringfence init --git-hooks" in broken.stdout


def test_doctor_finds_a_hook_that_is_not_executable(tmp_path: Path) -> None:
    repo, env = _repo(tmp_path)
    assert _cli("init", "--git-hooks", cwd=repo, env=env).returncode == 0
    (repo / ".git" / "hooks" / "pre-push").chmod(0o644)
    doctor = _cli("doctor", "--git-hooks", cwd=repo, env=env)
    assert doctor.returncode == 1 and "chmod +x" in doctor.stdout


def test_init_needs_something_to_wire(tmp_path: Path) -> None:
    repo, env = _repo(tmp_path)
    out = _cli("init", cwd=repo, env=env)
    assert out.returncode == 3 and "--agent" in out.stderr and "--git-hooks" in out.stderr
    assert not (repo / ".git" / "hooks" / "pre-push").exists()


def test_agent_and_git_hooks_together(tmp_path: Path) -> None:
    repo, env = _repo(tmp_path)
    out = _cli("init", "--agent", "claude-code", "--git-hooks", cwd=repo, env=env)
    assert out.returncode == 0, out.stderr
    assert (repo / ".claude" / "settings.json").exists() and (repo / ".git" / "hooks" / "pre-push").exists()
    doctor = _cli("doctor", "--agent", "claude-code", "--git-hooks", cwd=repo, env=env)
    assert doctor.returncode == 0, doctor.stdout
    assert "Claude Code" in doctor.stdout and "git pre-push" in doctor.stdout
