"""`init --git-hooks` / `uninstall --git-hooks`: where the hook goes, what it keeps, and
what doctor says about it."""

from __future__ import annotations

import io
import os
import stat
from pathlib import Path

import pytest
from rich.console import Console

from ringfence.wiring import git_hooks as wiring
from tests.git.gitrepo import Repos, make_repos

LOGGING_HOOK = """#!/bin/sh
# the team's own pre-push hook: records what git gave it
printf '%s\\n' "args: $*" >> "$(dirname "$0")/../../pushed.log"
cat >> "$(dirname "$0")/../../pushed.log"
exit 0
"""


@pytest.fixture
def repos(tmp_path: Path) -> Repos:
    return make_repos(tmp_path)


def hooks(r: Repos) -> Path:
    return r.clone / ".git" / "hooks"


def run(r: Repos, *, dry_run: bool = False, uninstall: bool = False, repo: Path | None = None) -> tuple[int, str]:
    out = io.StringIO()
    code = wiring.init_git_hooks(
        repo or r.clone, dry_run=dry_run, uninstall=uninstall, console=Console(file=out, width=200)
    )
    return code, out.getvalue()


def snapshot(path: Path) -> tuple[bytes, int]:
    return path.read_bytes(), stat.S_IMODE(path.lstat().st_mode)


def test_install_writes_an_executable_marked_hook_and_is_idempotent(repos: Repos) -> None:
    code, out = run(repos)
    assert code == 0 and "create" in out
    hook = hooks(repos) / "pre-push"
    text = hook.read_text()
    assert text.startswith("#!/bin/sh\n") and wiring.MARKER in text
    assert os.access(hook, os.X_OK)
    program = wiring.hook_program(hook)
    assert program is not None and os.path.isabs(program) and os.access(program, os.X_OK)
    before = snapshot(hook)
    assert not wiring.plan_install(repos.clone).changed
    code, out = run(repos)
    assert code == 0 and "already ringfence's hook" in out
    assert snapshot(hook) == before
    assert not (hooks(repos) / wiring.CHAINED).exists()


def test_dry_run_shows_the_diff_and_writes_nothing(repos: Repos) -> None:
    (hooks(repos) / "pre-push").write_text(LOGGING_HOOK)
    (hooks(repos) / "pre-push").chmod(0o755)
    before = snapshot(hooks(repos) / "pre-push")
    code, out = run(repos, dry_run=True)
    assert code == 0
    assert f"rename {hooks(repos) / 'pre-push'} → {hooks(repos) / wiring.CHAINED}" in out
    assert "-# the team's own pre-push hook" in out and f"+{wiring.MARKER}" in out
    assert "dry run" in out
    assert snapshot(hooks(repos) / "pre-push") == before
    assert not (hooks(repos) / wiring.CHAINED).exists()


def test_an_existing_hook_is_kept_run_first_with_the_same_input_and_restored_exactly(repos: Repos) -> None:
    original = hooks(repos) / "pre-push"
    original.write_text(LOGGING_HOOK)
    original.chmod(0o750)
    before = snapshot(original)
    assert run(repos)[0] == 0
    chained = hooks(repos) / wiring.CHAINED
    assert snapshot(chained) == before
    assert wiring.is_ours(original)

    repos.git("checkout", "-q", "-b", "feature/a")
    sha = repos.commit("a")
    proc = repos.push("origin", "feature/a")
    assert proc.returncode == 0, proc.stderr
    log = (repos.clone / "pushed.log").read_text()
    assert f"args: origin {repos.remote}\n" in log
    assert f"refs/heads/feature/a {sha} refs/heads/feature/a {'0' * 40}\n" in log

    # ringfence still decides after the chained hook allowed it
    repos.git("checkout", "-q", "main")
    refused = repos.push("origin", "--delete", "main")
    assert refused.returncode != 0 and "git.ref-delete-protected" in refused.stderr
    assert log.count("args:") == 1 and (repos.clone / "pushed.log").read_text().count("args:") == 2

    code, out = run(repos, uninstall=True)
    assert code == 0 and "restore the original" in out
    assert snapshot(original) == before
    assert not chained.exists()
    code, out = run(repos, uninstall=True)  # a second uninstall changes nothing
    assert code == 0 and "not installed" in out
    assert snapshot(original) == before


def test_a_failing_existing_hook_stops_the_push_before_ringfence(repos: Repos) -> None:
    original = hooks(repos) / "pre-push"
    original.write_text("#!/bin/sh\necho 'lint failed: fix it first' >&2\nexit 7\n")
    original.chmod(0o755)
    run(repos)
    repos.git("checkout", "-q", "-b", "feature/b")
    repos.commit("b")
    proc = repos.push("origin", "feature/b")
    assert proc.returncode != 0
    assert "lint failed" in proc.stderr and "ringfence:" not in proc.stderr
    assert repos.remote_sha("refs/heads/feature/b") is None


def test_a_symlinked_hook_is_kept_as_a_symlink(repos: Repos, tmp_path: Path) -> None:
    shared = tmp_path / "shared-pre-push"
    shared.write_text("#!/bin/sh\nexit 0\n")
    shared.chmod(0o755)
    link = hooks(repos) / "pre-push"
    link.symlink_to(shared)
    run(repos)
    chained = hooks(repos) / wiring.CHAINED
    assert chained.is_symlink() and os.readlink(chained) == str(shared)
    run(repos, uninstall=True)
    assert link.is_symlink() and os.readlink(link) == str(shared)


def test_install_refuses_when_it_cannot_keep_the_existing_hook_aside(repos: Repos) -> None:
    (hooks(repos) / "pre-push").write_text("#!/bin/sh\nexit 0\n")
    (hooks(repos) / wiring.CHAINED).write_text("#!/bin/sh\nexit 0\n")
    before = snapshot(hooks(repos) / "pre-push")
    code, _ = run(repos)
    assert code == 3
    assert snapshot(hooks(repos) / "pre-push") == before


def test_not_a_repository(tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    with pytest.raises(wiring.GitHookError, match="not inside a git repository"):
        wiring.plan_install(plain)


def test_core_hooks_path_is_where_the_hook_goes(repos: Repos) -> None:
    repos.git("config", "core.hooksPath", ".githooks")
    code, out = run(repos)
    assert code == 0 and "core.hooksPath is .githooks" in out and "inside the work tree" in out
    assert wiring.is_ours(repos.clone / ".githooks" / "pre-push")
    assert not (hooks(repos) / "pre-push").exists()
    repos.git("reset", "-q", "--hard", "HEAD~1")
    repos.commit("rewrite")
    proc = repos.push("--force", "origin", "main")
    assert proc.returncode != 0 and "git.force-push-protected" in proc.stderr


def test_a_linked_worktree_installs_into_the_shared_hooks(repos: Repos, tmp_path: Path) -> None:
    repos.git("worktree", "add", "-q", "-b", "feature/wt", str(tmp_path / "wt"))
    run(repos, repo=tmp_path / "wt")
    assert wiring.is_ours(hooks(repos) / "pre-push")


def checks(repo: Path) -> dict[str, tuple[bool, str]]:
    return {name: (ok, detail) for name, ok, detail in wiring.doctor_checks(repo)}


def test_doctor_passes_on_a_good_install(repos: Repos) -> None:
    run(repos)
    found = checks(repos.clone)
    assert all(ok for ok, _ in found.values()), found
    assert "deny" in found["policy refuses a force push to a protected branch"][1]


def test_doctor_finds_a_missing_or_unexecutable_hook(repos: Repos) -> None:
    assert checks(repos.clone)["pre-push hook installed"][0] is False
    run(repos)
    (hooks(repos) / "pre-push").chmod(0o644)
    assert checks(repos.clone)["pre-push hook executable"][0] is False


def test_doctor_finds_a_hooks_path_that_bypasses_the_hook(repos: Repos) -> None:
    run(repos)
    repos.git("config", "core.hooksPath", "/dev/null")
    ok, detail = checks(repos.clone)["pre-push hook installed"]
    assert not ok and "core.hooksPath (/dev/null)" in detail and "never runs" in detail


def test_a_hook_whose_ringfence_is_gone_refuses_pushes_and_doctor_says_so(repos: Repos) -> None:
    hook = hooks(repos) / "pre-push"
    hook.write_text(wiring.hook_script("/nonexistent/bin/ringfence"))
    hook.chmod(0o755)
    ok, detail = checks(repos.clone)["ringfence program"]
    assert not ok and "/nonexistent/bin/ringfence" in detail
    repos.git("checkout", "-q", "-b", "feature/c")
    repos.commit("c")
    proc = repos.push("origin", "feature/c")
    assert proc.returncode != 0
    assert "missing or not executable, so this push is refused (fail closed)" in proc.stderr
    assert repos.remote_sha("refs/heads/feature/c") is None
    code, out = run(repos)  # init again repairs it
    assert code == 0 and "update ringfence's hook" in out
    assert checks(repos.clone)["ringfence program"][0]
