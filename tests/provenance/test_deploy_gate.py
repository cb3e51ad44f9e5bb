"""The deploy gate refuses what cannot prove its lineage, and ships what can."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from ringfence.ledger.store import open_ledger
from ringfence.provenance import dsse, store
from tests.commands.test_ci import GITHUB
from tests.provenance.world import World, build


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    w = build(tmp_path_factory.mktemp("world"))
    dist = w.root / "dist"
    dist.mkdir()
    (dist / "app.tar.gz").write_bytes(b"release 1")
    proc = w.ringfence(
        "attest", "--base", w.base, "--head", w.head, "--task", "APP-1", "--artifact", str(dist / "app.tar.gz")
    )
    assert proc.returncode == 0, proc.stderr
    return w


@pytest.fixture
def mine(world: World, tmp_path: Path) -> World:
    return world.copy(tmp_path / "w")


def digest(path: Path) -> str:
    return "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()


def gate(w: World, artifact: Path, *extra: str) -> tuple[int, dict[str, object]]:
    proc = w.ringfence(
        "ci", "gate", "--action", "deploy", "--env", "staging", "--artifact", digest(artifact),
        "--artifact-file", str(artifact), "--verify", str(w.policy()), "--json", *extra, **GITHUB,
    )  # fmt: skip
    return proc.returncode, json.loads(proc.stdout)


def test_a_good_artifact_ships(mine: World) -> None:
    code, doc = gate(mine, mine.root / "dist" / "app.tar.gz")
    assert (code, doc["result"], doc["decision"]) == (0, "allowed", "allow"), doc


def test_an_unsigned_artifact_is_refused(mine: World) -> None:
    bare = mine.root / "dist" / "other.tar.gz"
    bare.write_bytes(b"built on a laptop")
    code, doc = gate(mine, bare)
    assert (code, doc["result"]) == (2, "unproven")
    assert "artifact other.tar.gz has no attestation: it cannot prove its lineage" in str(doc["message"])
    assert doc["decision"] is None  # refused before the gate was even asked


def test_a_tampered_artifact_is_refused_and_recorded(mine: World) -> None:
    artifact = mine.root / "dist" / "app.tar.gz"
    artifact.write_bytes(b"release 1 with a backdoor")  # its attestation stays next to it
    code, doc = gate(mine, artifact)
    assert (code, doc["result"]) == (2, "unproven")
    assert "subject digest mismatch" in str(doc["message"])
    ledger = open_ledger(mine.ledger_path)
    try:
        (last,) = ledger.recent(1)
    finally:
        ledger.close()
    assert last["kind"] == "provenance" and last["decision"] == "deny"
    assert any("subject digest mismatch" in f for f in last["failures"])


def test_a_tampered_attestation_is_refused(mine: World) -> None:
    sidecar = mine.root / "dist" / "app.tar.gz.intoto.jsonl"
    (line,) = store.read_file(sidecar)
    env = dsse.parse(line)
    forged = dsse.Envelope(env.payload.replace(b'"APP-1"', b'"APP-9"'), env.payload_type, env.signatures)
    store.write_file(sidecar, [forged.to_json()])
    code, doc = gate(mine, mine.root / "dist" / "app.tar.gz")
    assert (code, doc["result"]) == (2, "unproven")
    assert "does not verify" in str(doc["message"])


def test_the_digest_must_be_of_the_verified_file(mine: World) -> None:
    artifact = mine.root / "dist" / "app.tar.gz"
    proc = mine.ringfence(
        "ci", "gate", "--action", "deploy", "--env", "staging", "--artifact", "sha256:" + "ab" * 32,
        "--artifact-file", str(artifact), "--verify", str(mine.policy()), **GITHUB,
    )  # fmt: skip
    assert proc.returncode == 2
    assert "REFUSED" in proc.stdout and "is not the verified file's digest" in proc.stdout


def test_a_commit_can_be_verified_instead(mine: World) -> None:
    proc = mine.ringfence(
        "ci", "gate", "--action", "deploy", "--env", "staging", "--artifact", f"git:{mine.head}",
        "--commit", mine.head, "--verify", str(mine.policy()), "--cwd", str(mine.repo), **GITHUB,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout
    proc = mine.ringfence(
        "ci", "gate", "--action", "deploy", "--env", "staging", "--artifact", f"git:{mine.base}",
        "--commit", mine.base, "--verify", str(mine.policy()), "--cwd", str(mine.repo), **GITHUB,
    )  # fmt: skip
    assert proc.returncode == 2 and "cannot prove its lineage" in proc.stdout


def test_verify_flags_without_a_policy_are_an_error(mine: World) -> None:
    proc = mine.ringfence(
        "ci", "gate", "--action", "deploy", "--env", "staging", "--artifact", "sha256:" + "ab" * 32,
        "--artifact-file", "x", **GITHUB,
    )  # fmt: skip
    assert proc.returncode == 3 and "--artifact-file belongs with --verify POLICY" in proc.stdout
