"""The installed pre-push hook, driven by real `git push` to a real bare repository."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from ringfence.wiring.git_hooks import apply, plan_install
from tests.control.flow import cli, create_keys, write_config
from tests.git.gitrepo import Repos, make_repos

REQUEST_ID = re.compile(r"\bAR-[0-9A-Z]{8}\b")


@pytest.fixture
def repos(tmp_path: Path) -> Repos:
    r = make_repos(tmp_path)
    apply(plan_install(r.clone))
    return r


def said(proc: object) -> str:
    return " ".join(str(getattr(proc, "stderr", "")).split())


def test_new_feature_branch_is_allowed_and_force_pushing_it_too(repos: Repos) -> None:
    repos.git("checkout", "-q", "-b", "feature/login")
    sha = repos.commit("login form")
    first = repos.push("origin", "feature/login")
    assert first.returncode == 0, first.stderr
    assert repos.remote_sha("refs/heads/feature/login") == sha
    assert "ringfence" not in first.stderr  # an ordinary allow is silent
    repos.git("commit", "-q", "--amend", "-m", "login form, reworded")
    rewritten = repos.push("--force", "origin", "feature/login")
    assert rewritten.returncode == 0, rewritten.stderr
    assert repos.remote_sha("refs/heads/feature/login") == repos.git("rev-parse", "HEAD").stdout.strip()


def test_force_push_to_main_is_refused_and_the_remote_is_unchanged(repos: Repos) -> None:
    before = repos.remote_sha("refs/heads/main")
    repos.git("reset", "-q", "--hard", "HEAD~1")
    repos.commit("a different second commit")
    proc = repos.push("--force", "origin", "main")
    assert proc.returncode != 0
    text = said(proc)
    assert "ringfence: push to origin refused." in text
    assert "not a fast-forward" in text and "git.force-push-protected" in text
    assert repos.remote_sha("refs/heads/main") == before


def test_force_with_lease_or_plus_refspec_are_the_same_force_push(repos: Repos) -> None:
    before = repos.remote_sha("refs/heads/main")
    repos.git("reset", "-q", "--hard", "HEAD~1")
    repos.commit("rewrite")
    spellings = (("--force-with-lease", "origin", "main"), ("origin", "+main:main"), ("origin", "+HEAD:main"))
    for args in spellings:
        proc = repos.push(*args)
        assert proc.returncode != 0, args
        assert "git.force-push-protected" in said(proc)
    assert repos.remote_sha("refs/heads/main") == before


def test_deleting_main_is_refused(repos: Repos) -> None:
    before = repos.remote_sha("refs/heads/main")
    for args in (("origin", "--delete", "main"), ("origin", ":main")):
        proc = repos.push(*args)
        assert proc.returncode != 0
        assert "delete refs/heads/main" in said(proc) and "git.ref-delete-protected" in said(proc)
    assert repos.remote_sha("refs/heads/main") == before


def test_a_push_that_cannot_be_shown_to_be_a_fast_forward_counts_as_force(repos: Repos, tmp_path: Path) -> None:
    """Someone else pushed to main; this clone did not fetch. `git push --force` would
    overwrite their commit, so ringfence must not take the update for a fast-forward."""
    from tests.git.gitrepo import git

    other = tmp_path / "other"
    git(repos.env, tmp_path, "clone", "-q", str(repos.remote), str(other))
    (other / "theirs.txt").write_text("theirs\n")
    git(repos.env, other, "add", "theirs.txt")
    git(repos.env, other, "commit", "-q", "-m", "their work")
    git(repos.env, other, "push", "-q", "origin", "main")
    theirs = repos.remote_sha("refs/heads/main")
    repos.commit("my work")
    proc = repos.push("--force", "origin", "main")
    assert proc.returncode != 0
    text = said(proc)
    assert "git.force-push-protected" in text
    assert "git fetch origin" in text and "Counted as a force push" in text
    assert repos.remote_sha("refs/heads/main") == theirs


def test_a_push_to_main_is_held_for_approval_and_passes_exactly_once_after_it(repos: Repos, tmp_path: Path) -> None:
    env = {**repos.env, "RINGFENCE_AGENT_ID": "release-bot", "RINGFENCE_AGENT_OWNER": "carol"}
    human = repos.env  # keys and approvals come from a person's shell, never the agent's
    keys = create_keys(human, repos.clone, "alice", "bob")
    write_config(
        human,
        {"approvers": {name: {"groups": ["maintainers"], "key": key} for name, key in keys.items()}},
    )
    before = repos.remote_sha("refs/heads/main")
    assert before is not None
    sha = repos.commit("hotfix")
    held = repos.push("origin", "main", env=env)
    assert held.returncode != 0
    text = said(held)
    found = REQUEST_ID.search(text)
    assert found, text
    rid = found.group(0)
    assert f"held as {rid}" in text and "git.push-protected" in text
    assert f"ringfence approvals approve {rid}" in text
    assert repos.remote_sha("refs/heads/main") == before

    again = repos.push("origin", "main", env=env)  # the same push while pending: the same request
    assert again.returncode != 0 and rid in said(again)

    for who in ("alice", "bob"):  # a high-tier rule: two maintainers
        answer = cli(human, repos.clone, "approvals", "approve", rid, "--as", who)
        assert answer.returncode == 0, answer.stderr

    passed = repos.push("origin", "main", env=env)
    assert passed.returncode == 0, passed.stderr
    assert repos.remote_sha("refs/heads/main") == sha
    assert f"under {rid}" in said(passed) and "allowed" in said(passed)

    shown = cli(human, repos.clone, "approvals", "show", rid, "--json")
    request = yaml.safe_load(shown.stdout)
    assert request["status"] == "used"
    assert request["summary"] == f"git push to origin: refs/heads/main {before[:7]}..{sha[:7]}"

    repos.commit("follow-up")  # the grant was for that push only
    next_push = repos.push("origin", "main", env=env)
    assert next_push.returncode != 0
    assert rid not in said(next_push) and REQUEST_ID.search(said(next_push))
    assert repos.remote_sha("refs/heads/main") == sha


def test_no_verify_skips_the_client_hook(repos: Repos) -> None:
    """What the client hook cannot do: `--no-verify` skips it (the runtime hooks deny that
    command; the server's pre-receive hook is the check that cannot be skipped)."""
    repos.git("reset", "-q", "--hard", "HEAD~1")
    repos.commit("rewrite")
    proc = repos.push("--no-verify", "--force", "origin", "main")
    assert proc.returncode == 0
    assert repos.remote_sha("refs/heads/main") == repos.git("rev-parse", "HEAD").stdout.strip()
