"""``ringfence attest``, ``countersign`` and ``verify`` on real repositories, through the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from ringfence.provenance import dsse
from tests.git.gitrepo import git
from tests.provenance.world import World, build


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    return build(tmp_path_factory.mktemp("world"))


@pytest.fixture
def mine(world: World, tmp_path: Path) -> World:
    return world.copy(tmp_path / "w")


def test_git_notes_round_trip_through_a_remote(mine: World, tmp_path: Path) -> None:
    remote = tmp_path / "remote.git"
    git(mine.env, tmp_path, "init", "-q", "--bare", "-b", "main", str(remote))
    git(mine.env, mine.repo, "remote", "add", "origin", str(remote))
    git(mine.env, mine.repo, "push", "-q", "origin", "main")
    # re-attest now that there is a remote (its URL names the subject), and push the notes
    proc = mine.ringfence("attest", "--base", mine.base, "--head", mine.head, "--task", "APP-1", "--push")
    assert proc.returncode == 0, proc.stderr
    assert "pushed refs/notes/ringfence to origin" in proc.stderr
    clone = tmp_path / "clone"
    git(mine.env, tmp_path, "clone", "-q", str(remote), str(clone))
    policy = mine.policy()
    # a fresh clone has no notes until it fetches them
    missing = mine.ringfence("verify", "--commit", "HEAD", "--policy", str(policy), cwd=clone)
    assert missing.returncode == 2
    assert "has no attestation: it cannot prove its lineage" in missing.stdout
    fetched = mine.ringfence("verify", "--commit", "HEAD", "--policy", str(policy), "--fetch", "origin", cwd=clone)
    assert fetched.returncode == 0, fetched.stdout + fetched.stderr
    assert f"VERIFIED commit {mine.head[:12]}" in fetched.stdout
    note = git(mine.env, clone, "notes", "--ref=ringfence", "show", "HEAD").stdout.splitlines()
    assert len(note) == 2  # the first attestation and the one naming the remote
    assert f"git+{remote}@{mine.head}" in dsse.parse(note[1]).statement()["subject"][0]["name"]


def test_countersignatures_reach_a_threshold(mine: World) -> None:
    rules = [{"match": "*", "signers": ["deploy-bot", "alice", "bob"], "threshold": 3, "require": ["deploy-bot"]}]
    policy = mine.policy(subjects=rules)
    short = mine.ringfence("verify", "--commit", mine.head, "--policy", str(policy), "--json")
    assert short.returncode == 2
    doc = json.loads(short.stdout)
    assert doc["verified"] is False and any("1 of the 3" in f for f in doc["failures"])
    for who in ("alice", "bob"):
        signed = mine.ringfence("countersign", "--commit", mine.head, "--key", who)
        assert signed.returncode == 0, signed.stderr
        assert f"signed by  {who}" in signed.stderr
    again = mine.ringfence("countersign", "--commit", mine.head, "--key", "alice")  # once more: no new signature
    assert again.returncode == 0
    done = mine.ringfence("verify", "--commit", mine.head, "--policy", str(policy), "--json")
    assert done.returncode == 0, done.stdout
    assert json.loads(done.stdout)["attestations"][0]["signers"] == ["deploy-bot", "alice", "bob"]
    (line,) = git(mine.env, mine.repo, "notes", "--ref=ringfence", "show", mine.head).stdout.splitlines()
    assert len(dsse.parse(line).signatures) == 3


def test_an_agent_cannot_countersign(mine: World) -> None:
    proc = mine.ringfence("countersign", "--commit", mine.head, "--key", "alice", CLAUDECODE="1")
    assert proc.returncode == 3
    assert "this shell belongs to an agent (CLAUDECODE is set)" in proc.stderr


def test_artifacts_carry_their_attestation(mine: World) -> None:
    dist = mine.root / "dist"
    dist.mkdir()
    (dist / "app.tar.gz").write_bytes(b"\x1f\x8b release 1")
    proc = mine.ringfence(
        "attest", "--base", mine.base, "--head", mine.head, "--task", "APP-1", "--artifact", str(dist / "app.tar.gz")
    )
    assert proc.returncode == 0, proc.stderr
    sidecar = dist / "app.tar.gz.intoto.jsonl"
    assert sidecar.is_file()
    policy = mine.policy()
    ok = mine.ringfence("verify", "--artifact", str(dist / "app.tar.gz"), "--policy", str(policy))
    assert ok.returncode == 0, ok.stdout
    assert "VERIFIED artifact app.tar.gz" in ok.stdout
    (dist / "app.tar.gz").write_bytes(b"\x1f\x8b release 1, patched")
    bad = mine.ringfence("verify", "--artifact", str(dist / "app.tar.gz"), "--policy", str(policy))
    assert bad.returncode == 2
    assert "NOT VERIFIED artifact app.tar.gz" in bad.stdout and "subject digest mismatch" in bad.stdout


def test_slsa_provenance_from_github_actions(mine: World) -> None:
    build_dir = mine.root / "out"
    build_dir.mkdir()
    (build_dir / "app.whl").write_bytes(b"wheel")
    gh = {
        "GITHUB_ACTIONS": "true",
        "GITHUB_REPOSITORY": "acme/app",
        "GITHUB_REF": "refs/heads/main",
        "GITHUB_WORKFLOW_REF": "acme/app/.github/workflows/release.yml@refs/heads/main",
        "GITHUB_RUN_ID": "4711",
        "GITHUB_RUN_ATTEMPT": "2",
        "GITHUB_EVENT_NAME": "push",
        "RUNNER_ENVIRONMENT": "github-hosted",
    }
    proc = mine.ringfence("attest", "--slsa", "--artifact", str(build_dir / "app.whl"), "--key", "deploy-bot", **gh)
    assert proc.returncode == 0, proc.stderr
    (line,) = (build_dir / "app.whl.intoto.jsonl").read_text().splitlines()
    doc = dsse.parse(line).statement()
    assert doc["predicateType"] == "https://slsa.dev/provenance/v1"
    build_def, run = doc["predicate"]["buildDefinition"], doc["predicate"]["runDetails"]
    assert build_def["buildType"] == "https://actions.github.io/buildtypes/workflow/v1"
    assert build_def["externalParameters"]["workflow"] == {
        "ref": "refs/heads/main",
        "repository": "https://github.com/acme/app",
        "path": ".github/workflows/release.yml",
    }
    assert build_def["resolvedDependencies"][0]["digest"] == {"gitCommit": mine.head}
    assert run["builder"]["id"] == "https://github.com/actions/runner/github-hosted"
    assert run["metadata"]["invocationId"] == "https://github.com/acme/app/actions/runs/4711/attempts/2"
    trusted = mine.policy(require=["slsa"], slsa={"builders": ["https://github.com/actions/runner/github-hosted"]})
    ok = mine.ringfence("verify", "--artifact", str(build_dir / "app.whl"), "--policy", str(trusted))
    assert ok.returncode == 0, ok.stdout
    other = mine.policy(require=["slsa"], slsa={"builders": ["https://ci.example.com/trusted"]})
    bad = mine.ringfence("verify", "--artifact", str(build_dir / "app.whl"), "--policy", str(other))
    assert bad.returncode == 2 and "which is not a trusted builder" in bad.stdout
    # an agent-change attestation is required by default and a SLSA one is not that
    default = mine.ringfence("verify", "--artifact", str(build_dir / "app.whl"), "--policy", str(mine.policy()))
    assert default.returncode == 2 and "no agent-change attestation of artifact app.whl passed" in default.stdout


def test_slsa_outside_ci_says_what_to_set(mine: World) -> None:
    (mine.root / "a.bin").write_bytes(b"x")
    proc = mine.ringfence("attest", "--slsa", "--artifact", str(mine.root / "a.bin"), "--key", "deploy-bot")
    assert proc.returncode == 3 and "set RINGFENCE_BUILDER_ID" in proc.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--head", "HEAD"], "--base is required"),
        (["--base", "nope"], "'nope' does not name a commit"),
        (["--base", "HEAD", "--artifact", "missing.bin"], "--artifact missing.bin: no such file"),
        (["--base", "HEAD", "--spec", "missing.md"], "--spec missing.md: no such file"),
        (["--base", "HEAD", "--key", "nobody"], "ringfence keys create nobody"),
    ],
)
def test_attest_refuses_bad_input_and_writes_nothing(mine: World, args: list[str], message: str) -> None:
    before = git(mine.env, mine.repo, "notes", "--ref=ringfence", "show", mine.head).stdout
    proc = mine.ringfence("attest", *args)
    assert proc.returncode == 3
    assert message in proc.stderr
    assert git(mine.env, mine.repo, "notes", "--ref=ringfence", "show", mine.head).stdout == before


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ("version: 2\n", "version must be 1"),
        ("- a\n", "a verify policy is a mapping"),
        ("version: 1\nkeys: {a: 'ed25519:AAAA'}\n", "keys.a is 3 bytes"),
        ("version: 1\nkeys: {}\n", "keys must map names"),
        ("version: 1\nsigners: []\n", "unknown key 'signers'"),
    ],
)
def test_a_bad_verify_policy_is_located(mine: World, doc: str, message: str) -> None:
    policy = mine.root / "bad.yaml"
    policy.write_text(doc)
    proc = mine.ringfence("verify", "--commit", mine.head, "--policy", str(policy))
    assert proc.returncode == 3
    assert f"{policy}:" in proc.stderr and message in proc.stderr


def test_verify_policy_rules_refer_to_known_keys(mine: World) -> None:
    doc = yaml.safe_load(mine.policy().read_text())
    doc["subjects"] = [{"match": "*", "signers": ["deploy-bot"], "threshold": 2}]
    path = mine.root / "p.yaml"
    path.write_text(yaml.safe_dump(doc))
    proc = mine.ringfence("verify", "--commit", mine.head, "--policy", str(path))
    assert (
        proc.returncode == 3 and "subjects[0].threshold must be between 1 and the number of signers (1)" in proc.stderr
    )
    doc["subjects"] = [{"match": "*", "signers": ["eve"]}]
    path.write_text(yaml.safe_dump(doc))
    proc = mine.ringfence("verify", "--commit", mine.head, "--policy", str(path))
    assert proc.returncode == 3 and "names 'eve', which is not under keys" in proc.stderr
    doc["keys"]["twin"] = doc["keys"]["alice"]
    doc["subjects"] = [{"match": "*", "signers": ["alice"]}]
    path.write_text(yaml.safe_dump(doc))
    proc = mine.ringfence("verify", "--commit", mine.head, "--policy", str(path))
    assert proc.returncode == 3 and "keys.twin is the same key as keys.alice" in proc.stderr


def test_verify_an_unknown_commit(mine: World) -> None:
    proc = mine.ringfence("verify", "--commit", "0" * 40, "--policy", str(mine.policy()))
    assert proc.returncode == 3 and "does not name a commit" in proc.stderr
