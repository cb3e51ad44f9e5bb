"""The server-side pre-receive hook in a real bare repository: the check a client cannot skip."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

from tests.git.gitrepo import Repos, make_repos

SCRIPT = Path(__file__).parents[2] / "integrations" / "git" / "pre-receive"


@pytest.fixture
def repos(tmp_path: Path) -> Repos:
    r = make_repos(tmp_path)  # the clone has no client hook at all
    hook = r.remote / "hooks" / "pre-receive"
    shutil.copyfile(SCRIPT, hook)
    hook.chmod(0o755)
    # a local push runs receive-pack with the pusher's environment: ringfence on PATH
    r.env["PATH"] = f"{Path(sys.executable).parent}:{r.env['PATH']}"
    return r


def said(proc: object) -> str:
    return " ".join(str(getattr(proc, "stderr", "")).split())


def test_the_shipped_script_is_executable_posix_sh() -> None:
    text = SCRIPT.read_text()
    assert text.startswith("#!/bin/sh\n")
    assert SCRIPT.stat().st_mode & 0o111
    assert 'exec "$ringfence" git-hook pre-receive' in text


@pytest.mark.parametrize("extra", [(), ("--no-verify",)])
def test_force_push_to_main_is_rejected_by_the_server(repos: Repos, extra: tuple[str, ...]) -> None:
    before = repos.remote_sha("refs/heads/main")
    repos.git("reset", "-q", "--hard", "HEAD~1")
    repos.commit("rewritten history")
    proc = repos.push(*extra, "--force", "origin", "main")
    assert proc.returncode != 0
    assert "remote: ringfence: push to remote refused." in proc.stderr
    assert "git.force-push-protected" in said(proc) and "pre-receive hook declined" in proc.stderr
    assert repos.remote_sha("refs/heads/main") == before


def test_feature_branches_pass_and_fast_forwards_are_recognised_in_quarantine(repos: Repos) -> None:
    repos.git("checkout", "-q", "-b", "feature/x")
    repos.commit("one")
    assert repos.push("origin", "feature/x").returncode == 0
    sha = repos.commit("two")
    ff = repos.push("origin", "feature/x")
    assert ff.returncode == 0, ff.stderr
    assert repos.remote_sha("refs/heads/feature/x") == sha
    # a fast-forward of main: the new commits are still in the quarantine directory, and
    # the hook must see them to tell a fast-forward (held for review) from a force push
    repos.git("checkout", "-q", "main")
    repos.git("merge", "-q", "--ff-only", "feature/x")
    held = repos.push("origin", "main")
    assert held.returncode != 0
    assert "git.push-protected" in said(held) and "force-push" not in said(held)
    assert "held as AR-" in said(held)


def test_deleting_main_is_rejected(repos: Repos) -> None:
    proc = repos.push("--no-verify", "origin", "--delete", "main")
    assert proc.returncode != 0
    assert "git.ref-delete-protected" in said(proc)
    assert repos.remote_sha("refs/heads/main") is not None


def test_one_refused_ref_rejects_the_whole_push(repos: Repos) -> None:
    repos.git("branch", "feature/y")
    proc = repos.push("origin", "feature/y", ":main")
    assert proc.returncode != 0
    assert repos.remote_sha("refs/heads/feature/y") is None


def test_ringfence_missing_on_the_server_rejects(repos: Repos) -> None:
    repos.git("checkout", "-q", "-b", "feature/z")
    repos.commit("z")
    proc = repos.push("origin", "feature/z", env={**repos.env, "RINGFENCE_BIN": "/nonexistent/ringfence"})
    assert proc.returncode != 0
    assert "is not installed on this git server, so the push is rejected (fail closed)" in proc.stderr
    assert repos.remote_sha("refs/heads/feature/z") is None


def test_a_broken_configuration_on_the_server_rejects(repos: Repos, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("protected_branches: main\n")
    repos.git("checkout", "-q", "-b", "feature/w")
    repos.commit("w")
    proc = repos.push("origin", "feature/w", env={**repos.env, "RINGFENCE_CONFIG": str(bad)})
    assert proc.returncode != 0
    assert "could not load its configuration" in said(proc) and "protected_branches" in said(proc)
    assert repos.remote_sha("refs/heads/feature/w") is None
