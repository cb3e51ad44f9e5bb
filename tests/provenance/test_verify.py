"""Verification of a real agent's attestation, and every tampering caught with its own message."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from ringfence.ledger import canonical
from ringfence.ledger.checkpoint import Checkpoint, SigningKey, parse_checkpoint, sign
from ringfence.ledger.store import open_ledger
from ringfence.provenance import dsse, gitrepo, predicate, statement, verify, verify_policy
from ringfence.provenance.dsse import Envelope
from ringfence.provenance.keys import load_signer
from tests.provenance.world import SESSION, World, build


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    return build(tmp_path_factory.mktemp("world"))


@pytest.fixture
def log(world: World) -> Iterator[verify.LogAccess]:
    ledger = open_ledger(world.ledger_path)
    yield verify.LogAccess(ledger)
    ledger.close()


def attached(world: World) -> Envelope:
    lines = gitrepo.read_notes(world.repo, world.head)
    assert len(lines) == 1
    return dsse.parse(lines[0])


def policy_of(world: World, tmp_path: Path, **changes: Any) -> verify_policy.VerifyPolicy:
    return verify_policy.load(world.policy(tmp_path / "verify.yaml", **changes))


def signed_by(world: World, doc: dict[str, Any], *names: str) -> Envelope:
    env = Envelope(statement.encode(doc))
    for name in names:
        env = dsse.sign(
            env, load_signer(str(Path(world.env["XDG_CONFIG_HOME"]) / "ringfence" / "keys" / f"{name}.key"))
        )
    return env


def check(
    world: World,
    tmp_path: Path,
    *envelopes: Envelope,
    log: verify.LogAccess | None = None,
    trusted: Checkpoint | None = None,
    **changes: Any,
) -> verify.Result:
    target, _, _ = verify.commit_target(world.repo, world.head)
    return verify.verify_envelopes(
        target, list(envelopes), policy_of(world, tmp_path, **changes), trusted_checkpoint=trusted, log=log
    )


def failures(result: verify.Result) -> str:
    assert not result.ok
    return "\n".join(result.failures())


# --- what a good attestation holds ------------------------------------------------------------


def test_the_agents_attestation_verifies(world: World, tmp_path: Path, log: verify.LogAccess) -> None:
    result = check(world, tmp_path, attached(world), log=log)
    assert result.ok, result.failures()
    (only,) = result.envelopes
    assert only.signers == ["deploy-bot"]
    assert [c.name for c in only.checks] == ["envelope", "subject", "signatures", "predicate", "decisions", "ledger"]


def test_the_statement_holds_what_the_issue_asks(world: World) -> None:
    doc = attached(world).statement()
    assert doc["_type"] == "https://in-toto.io/Statement/v1"
    assert doc["predicateType"] == predicate.PREDICATE_TYPE
    (subject,) = doc["subject"]
    assert subject["name"] == f"git@{world.head}"
    tree = gitrepo.tree_digest(world.repo, world.head)
    assert subject["digest"] == {"sha256": tree.sha256}
    pred = doc["predicate"]
    jsonschema.validate(pred, predicate.schema())  # the published schema, by an independent validator
    assert pred["agent"] == {"id": "deploy-bot", "owner": "carol", "runtime": "claude-code", "session": SESSION}
    assert pred["task"]["ref"] == "APP-1"
    assert pred["task"]["specDigest"]["sha256"] == statement.file_digest(world.root / "task.md")
    assert pred["repository"]["base"]["commit"] == world.base
    assert pred["repository"]["head"]["tree"] == tree.digest_set()
    assert pred["approvals"] == [
        {"request": world.request, "actionDigest": pred["approvals"][0]["actionDigest"], "approvers": ["alice", "bob"]}
    ]
    section = pred["decisions"]
    kinds = [(e["entry"]["kind"], e["entry"]["decision"]) for e in section["entries"]]
    assert kinds == [
        ("decision", "allow"),
        ("decision", "allow"),
        ("decision", "require_approval"),
        ("approval", "approve"),
        ("approval", "approve"),
        ("decision", "allow"),
    ]
    assert section["range"] == {"first": 0, "last": 5}
    assert parse_checkpoint(section["checkpoint"].split("\n\n")[0] + "\n").size == section["treeSize"] == 6
    assert set(pred["timestamps"]) == {"attested", "sessionStarted", "sessionEnded"}


def test_tree_digest_is_content_only(world: World, tmp_path: Path) -> None:
    """The same files give the same digest in any clone; one changed byte gives another."""
    clone = tmp_path / "clone"
    gitrepo.git(world.repo, "clone", "-q", str(world.repo), str(clone))
    assert gitrepo.tree_digest(clone, world.head) == gitrepo.tree_digest(world.repo, world.head)
    base, head = gitrepo.tree_digest(world.repo, world.base), gitrepo.tree_digest(world.repo, world.head)
    assert base.sha256 != head.sha256


# --- tampering, each with its own message -------------------------------------------------


def test_a_changed_payload_byte_breaks_the_signature(world: World, tmp_path: Path) -> None:
    env = attached(world)
    payload = env.payload.replace(b'"APP-1"', b'"APP-2"')
    assert payload != env.payload
    text = failures(check(world, tmp_path, Envelope(payload, env.payload_type, env.signatures)))
    assert "claims key deploy-bot" in text and "does not verify" in text


def test_a_changed_commit_does_not_match_the_subject(world: World, tmp_path: Path) -> None:
    copy = world.copy(tmp_path / "w")
    (copy.repo / "src" / "app.py").write_text("print('pwned')\n")
    gitrepo.git(copy.repo, "-c", "user.name=x", "-c", "user.email=x@x", "commit", "-qam", "sneak")
    moved = gitrepo.resolve(copy.repo, "HEAD")
    gitrepo.write_notes(copy.repo, moved, gitrepo.read_notes(copy.repo, copy.head))
    target, envelopes, _ = verify.commit_target(copy.repo, moved)
    result = verify.verify_envelopes(target, envelopes, policy_of(copy, tmp_path))
    text = failures(result)
    assert "subject digest mismatch" in text and "the content changed after it was attested" in text
    assert f"the attestation is for commit {copy.head}, not {moved}" in text


def test_a_removed_required_field_is_named(world: World, tmp_path: Path) -> None:
    doc = attached(world).statement()
    del doc["predicate"]["task"]["ref"]
    text = failures(check(world, tmp_path, signed_by(world, doc, "deploy-bot")))
    assert "predicate.task.ref is required by the verify policy and missing" in text


def test_a_predicate_that_breaks_the_schema_is_named(world: World, tmp_path: Path) -> None:
    doc = attached(world).statement()
    doc["predicate"]["agent"]["id"] = 7
    text = failures(check(world, tmp_path, signed_by(world, doc, "deploy-bot")))
    assert "not a valid agent-change predicate: predicate.agent.id: 7 is not of type 'string'" in text


def test_a_replaced_signature_is_caught(world: World, tmp_path: Path) -> None:
    env = attached(world)
    sig = bytearray(env.signatures[0].sig)
    sig[10] ^= 0x40
    text = failures(
        check(
            world,
            tmp_path,
            Envelope(env.payload, env.payload_type, (dsse.Signature(env.signatures[0].keyid, bytes(sig)),)),
        )
    )
    assert "does not verify: the payload or the signature was changed after signing" in text


def test_an_untrusted_key_is_not_trusted(world: World, tmp_path: Path) -> None:
    doc = attached(world).statement()
    text = failures(check(world, tmp_path, signed_by(world, doc, "carol")))
    assert "is not by any key trusted for this subject" in text
    assert "0 of the 1 distinct trusted signatures" in text
    assert "deploy-bot must sign attestations of" in text


def test_an_agent_not_allowed_for_the_subject(world: World, tmp_path: Path) -> None:
    rules = [{"match": "git@*", "signers": ["deploy-bot", "alice"], "agents": ["release-bot"]}]
    text = failures(check(world, tmp_path, attached(world), subjects=rules))
    assert "produced by agent 'deploy-bot', not one allowed here (release-bot)" in text


def test_an_agent_that_did_not_sign_its_own_attestation(world: World, tmp_path: Path) -> None:
    rules = [{"match": "*", "signers": ["deploy-bot", "alice"]}]
    text = failures(check(world, tmp_path, signed_by(world, attached(world).statement(), "alice"), subjects=rules))
    assert "agent 'deploy-bot' has a trusted key but did not sign its own attestation" in text


def test_threshold_needs_distinct_approvers(world: World, tmp_path: Path) -> None:
    rules = [{"match": "*", "signers": ["deploy-bot", "alice", "bob"], "threshold": 2, "require": ["deploy-bot"]}]
    doc = attached(world).statement()
    agent_only = signed_by(world, doc, "deploy-bot")
    assert "1 of the 2 distinct trusted signatures" in failures(check(world, tmp_path, agent_only, subjects=rules))
    twice = signed_by(world, doc, "deploy-bot", "deploy-bot")
    text = failures(check(world, tmp_path, twice, subjects=rules))
    assert "1 of the 2" in text and "second signature by deploy-bot; it counts once" in text
    assert check(world, tmp_path, signed_by(world, doc, "deploy-bot", "alice"), subjects=rules).ok


def test_a_forged_decision_is_not_in_the_signed_log(world: World, tmp_path: Path) -> None:
    """The agent (whose key signs) rewrites a held action as allowed: the ledger proves otherwise."""
    doc = attached(world).statement()
    entries = doc["predicate"]["decisions"]["entries"]
    entries[2]["entry"]["decision"] = "allow"
    text = failures(check(world, tmp_path, signed_by(world, doc, "deploy-bot")))
    assert "ledger entry 2 does not match its inclusion proof against the signed checkpoint" in text


def test_a_checkpoint_from_another_ledger_is_refused(world: World, tmp_path: Path) -> None:
    doc = attached(world).statement()
    section = doc["predicate"]["decisions"]
    cp = parse_checkpoint(section["checkpoint"].split("\n\n")[0] + "\n")
    section["checkpoint"] = sign(cp, SigningKey.generate(cp.origin.replace("/", "-")))
    text = failures(check(world, tmp_path, signed_by(world, doc, "deploy-bot")))
    assert "the ledger checkpoint is not signed by a trusted ledger key" in text


def test_a_ledger_range_that_leaves_out_a_decision(world: World, tmp_path: Path, log: verify.LogAccess) -> None:
    doc = attached(world).statement()
    section = doc["predicate"]["decisions"]
    section["entries"] = [e for e in section["entries"] if e["index"] != 1]
    assert check(world, tmp_path, signed_by(world, doc, "deploy-bot")).ok  # offline, omission cannot be seen
    text = failures(check(world, tmp_path, signed_by(world, doc, "deploy-bot"), log=log))
    assert "leaves out 1 decision(s) of the session in its range: entries 1" in text


def test_a_range_that_does_not_match_its_entries(world: World, tmp_path: Path) -> None:
    doc = attached(world).statement()
    doc["predicate"]["decisions"]["range"] = {"first": 0, "last": 2}
    text = failures(check(world, tmp_path, signed_by(world, doc, "deploy-bot")))
    assert "predicate.decisions.range" in text and "does not match the entries it lists" in text


def test_an_approval_summary_that_the_ledger_does_not_back(world: World, tmp_path: Path) -> None:
    doc = attached(world).statement()
    doc["predicate"]["approvals"][0]["approvers"] = ["alice", "bob", "dave"]
    text = failures(check(world, tmp_path, signed_by(world, doc, "deploy-bot")))
    assert "predicate.approvals does not match the approval entries recorded" in text


def test_consistency_with_a_trusted_checkpoint(world: World, tmp_path: Path, log: verify.LogAccess) -> None:
    env = attached(world)
    section = env.statement()["predicate"]["decisions"]
    cp = parse_checkpoint(section["checkpoint"].split("\n\n")[0] + "\n")
    # the same size and root: consistent without the log
    assert check(world, tmp_path, env, trusted=cp).ok
    # a witness that saw another root at that size: the log forked
    forked = Checkpoint(cp.origin, cp.size, bytes(32))
    assert "the ledger forked" in failures(check(world, tmp_path, env, trusted=forked))
    # a later witnessed checkpoint needs the log for the proof …
    copy = world.copy(tmp_path / "w")
    ledger = open_ledger(copy.ledger_path)
    try:
        ledger.append(
            {"kind": "halt", "principal_type": "human", "principal_id": "alice", "ts": "2026-12-07T00:00:00Z"}
        )
        later = Checkpoint(cp.origin, ledger.size(), ledger.root())
        result = check(copy, tmp_path, env, trusted=later)
        assert "proving them consistent needs the log (pass --ledger LOCATION" in failures(result)
        # … and with it, the append-only extension verifies
        assert check(copy, tmp_path, env, trusted=later, log=verify.LogAccess(ledger)).ok
        # a rewritten history (another log of the same size) does not
        rewritten = Checkpoint(cp.origin, later.size, bytes(32))
        text = failures(check(copy, tmp_path, env, trusted=rewritten, log=verify.LogAccess(ledger)))
        assert "the ledger range is not consistent with the trusted checkpoint (sizes 6 and 7)" in text
    finally:
        ledger.close()


def test_no_attestation_at_all(world: World, tmp_path: Path) -> None:
    target, _, _ = verify.commit_target(world.repo, world.base)
    result = verify.verify_envelopes(target, [], policy_of(world, tmp_path))
    assert failures(result) == f"commit {world.base[:12]} has no attestation: it cannot prove its lineage"


def test_an_unparseable_note_line_is_reported(world: World, tmp_path: Path) -> None:
    target, _, _ = verify.commit_target(world.repo, world.head)
    env = attached(world)
    envelopes, problems = verify.store.parse_lines(["not json", env.to_json()], "note")
    result = verify.verify_envelopes(target, envelopes, policy_of(world, tmp_path), problems=problems)
    assert result.ok  # the good one still verifies …
    assert problems == ["note line 1: not a DSSE envelope: invalid JSON (Expecting value: line 1 column 1 (char 0))"]


def test_result_json_is_machine_readable(world: World, tmp_path: Path) -> None:
    doc = check(world, tmp_path, attached(world)).to_dict()
    assert doc["verified"] is True and doc["failures"] == []
    assert json.loads(json.dumps(doc))["attestations"][0]["signers"] == ["deploy-bot"]


# --- the decisions themselves --------------------------------------------------------------


def _with_entry(world: World, tmp_path: Path, change: dict[str, Any]) -> tuple[World, Envelope]:
    """A copy of the world whose ledger gains one more decision of the session, re-attested."""
    copy = world.copy(tmp_path / "w")
    ledger = open_ledger(copy.ledger_path)
    try:
        entry = canonical.decode(ledger.body(0))
        entry.update(change)
        ledger.append(entry)
    finally:
        ledger.close()
    proc = copy.ringfence("attest", "--base", copy.base, "--head", copy.head, "--task", "APP-1")
    assert proc.returncode == 0, proc.stderr
    lines = gitrepo.read_notes(copy.repo, copy.head)
    return copy, dsse.parse(lines[-1])


def test_a_denied_action_in_the_session_fails_unless_tolerated(world: World, tmp_path: Path) -> None:
    copy, env = _with_entry(world, tmp_path, {"decision": "deny", "rules": ["git.force-push-protected"]})
    text = failures(check(copy, tmp_path, env))
    assert "was deny (git.force-push-protected)" in text
    assert check(copy, tmp_path, env, decisions={"allow_denied": True}).ok


def test_a_held_action_never_approved_fails(world: World, tmp_path: Path) -> None:
    copy, env = _with_entry(world, tmp_path, {"decision": "require_approval", "request": "AR-NEVER000"})
    assert "was held for approval (AR-NEVER000) and never approved" in failures(check(copy, tmp_path, env))


def test_a_change_without_gate_decisions_cannot_prove_its_lineage(world: World, tmp_path: Path) -> None:
    proc = world.ringfence(
        "attest",
        "--base",
        world.base,
        "--head",
        world.head,
        "--task",
        "APP-1",
        "--agent",
        "ghost",
        "--output",
        str(tmp_path / "ghost.jsonl"),
        "--no-note",
        "--key",
        "deploy-bot",
    )
    assert proc.returncode == 0, proc.stderr
    (line,) = (tmp_path / "ghost.jsonl").read_text().splitlines()
    text = failures(check(world, tmp_path, dsse.parse(line)))
    assert "records 0 gate decision(s), the policy requires at least 1" in text


def test_inclusion_proofs_are_base64_hashes(world: World) -> None:
    for item in attached(world).statement()["predicate"]["decisions"]["entries"]:
        assert all(len(base64.b64decode(h)) == 32 for h in item["inclusionProof"])
