"""Verifying what an agent produced before it ships.

For a target (a commit, by the content digest of its tree, or an artifact file, by its
SHA-256), every attestation attached to it is checked against a
:class:`~ringfence.provenance.verify_policy.VerifyPolicy`:

1. **envelope** — a DSSE v1 envelope whose payload is an in-toto Statement v1;
2. **subject** — one of its subjects has exactly the target's digest;
3. **signatures** — at least ``threshold`` distinct keys trusted *for that subject* signed
   the PAE bytes, including every key the rule requires;
4. **predicate** — it validates against its schema and has every field the policy requires;
   the agent is one the rule allows and signed it itself when it has a key;
5. **decisions** — (agent-change) the ledger checkpoint is signed by a trusted ledger key,
   every recorded entry is in it (inclusion proofs), every decision was allowed or
   approved, the approvals listed are the ones recorded; with a trusted checkpoint the log
   was only appended to since; with the log at hand no decision of the range was left out;
6. **builder** — (SLSA) the build platform is a trusted one.

The target passes when every predicate type the policy requires has at least one
attestation passing all its checks. Each failed check says what was found and what it
means, so the output can be read by the person paged at 3am.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ringfence.errors import ProvenanceError
from ringfence.ledger.checkpoint import Checkpoint
from ringfence.ledger.store import MerkleLedger
from ringfence.provenance import decisions, dsse, predicate, slsa, statement, store
from ringfence.provenance.dsse import Envelope
from ringfence.provenance.verify_policy import TYPE_NAMES, VerifyPolicy

_TYPE_LABELS = {uri: name for name, uri in TYPE_NAMES.items()}


@dataclass(frozen=True)
class Target:
    """What is being verified: its description for people, its SHA-256, and its commit if any."""

    description: str
    sha256: str
    commit: str | None = None


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str


@dataclass
class EnvelopeResult:
    index: int
    predicate_type: str | None = None
    signers: list[str] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.checks) and all(c.ok for c in self.checks)

    def add(self, name: str, problems: Sequence[str], ok_detail: str) -> bool:
        if problems:
            self.checks.extend(Check(name, False, p) for p in problems)
            return False
        self.checks.append(Check(name, True, ok_detail))
        return True

    @property
    def label(self) -> str:
        kind = self.predicate_type or "?"
        return _TYPE_LABELS.get(kind, kind)


@dataclass
class Result:
    target: Target
    envelopes: list[EnvelopeResult] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    required: tuple[str, ...] = ()

    def missing(self) -> list[str]:
        """Required predicate types with no passing attestation."""
        passed = {e.predicate_type for e in self.envelopes if e.ok}
        return [t for t in self.required if t not in passed]

    @property
    def ok(self) -> bool:
        return bool(self.envelopes) and not self.missing()

    def failures(self) -> list[str]:
        out = list(self.problems)
        if not self.envelopes and not out:
            out.append(f"{self.target.description} has no attestation: it cannot prove its lineage")
        for e in self.envelopes:
            out += [f"attestation {e.index} ({e.label}): {c.detail}" for c in e.checks if not c.ok]
        for t in self.missing():
            if self.envelopes:
                out.append(f"no {_TYPE_LABELS.get(t, t)} attestation of {self.target.description} passed verification")
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "target": self.target.description,
            "sha256": self.target.sha256,
            "verified": self.ok,
            "attestations": [
                {
                    "index": e.index,
                    "predicateType": e.predicate_type,
                    "signers": e.signers,
                    "ok": e.ok,
                    "checks": [{"check": c.name, "ok": c.ok, "detail": c.detail} for c in e.checks],
                }
                for e in self.envelopes
            ],
            "failures": [] if self.ok else self.failures(),
        }


@dataclass(frozen=True)
class LogAccess:
    """The ledger itself, when the verifier can read it (consistency and completeness)."""

    ledger: MerkleLedger

    def proof(self, old: int, new: int) -> list[bytes]:
        return self.ledger.consistency_proof(old, new)

    def entries(self, first: int, last: int) -> list[dict[str, Any]]:
        return list(self.ledger.entries(first, last + 1))


def verify_envelopes(
    target: Target,
    envelopes: Sequence[Envelope],
    policy: VerifyPolicy,
    *,
    trusted_checkpoint: Checkpoint | None = None,
    log: LogAccess | None = None,
    problems: Sequence[str] = (),
    bundles: Sequence[str] = (),
) -> Result:
    result = Result(target, problems=list(problems), required=policy.require)
    for i, env in enumerate(envelopes, start=1):
        result.envelopes.append(_verify_one(i, env, target, policy, trusted_checkpoint, log))
    for j, text in enumerate(bundles, start=len(envelopes) + 1):
        result.envelopes.append(_verify_bundle(j, text, target, policy, trusted_checkpoint, log))
    return result


def _verify_bundle(
    index: int,
    text: str,
    target: Target,
    policy: VerifyPolicy,
    trusted_checkpoint: Checkpoint | None,
    log: LogAccess | None,
) -> EnvelopeResult:
    """A Sigstore bundle: verified offline against the trust root, then checked like an envelope."""
    from ringfence.provenance.sigstore_bundle import verify_bundle

    if policy.trust_root is None:
        r = EnvelopeResult(index, predicate_type="sigstore bundle")
        r.add("sigstore", ["a Sigstore bundle, but the verify policy has no sigstore.trust_root to check it"], "")
        return r
    try:
        env, identity = verify_bundle(text, policy.trust_root, list(policy.identities.values()))
    except ProvenanceError as exc:
        r = EnvelopeResult(index, predicate_type="sigstore bundle")
        r.add("sigstore", [str(exc)], "")
        return r
    r = _verify_one(index, env, target, policy, trusted_checkpoint, log, keyless=identity.name)
    r.checks.insert(
        1, Check("sigstore", True, f"keyless signature by {identity.subject} ({identity.issuer}), logged and verified")
    )
    return r


def _verify_one(
    index: int,
    env: Envelope,
    target: Target,
    policy: VerifyPolicy,
    trusted_checkpoint: Checkpoint | None,
    log: LogAccess | None,
    keyless: str | None = None,
) -> EnvelopeResult:
    r = EnvelopeResult(index)
    try:
        doc = env.statement()
        subjects = statement.check(doc)
    except ProvenanceError as exc:
        r.add("envelope", [str(exc)], "")
        return r
    r.predicate_type = str(doc["predicateType"])
    r.add("envelope", [], f"DSSE v1 envelope of an in-toto Statement v1 ({r.label})")
    matched = [s for s in subjects if s.digest.get("sha256") == target.sha256]
    if matched:
        r.add("subject", [], f"subject {matched[0].name} has sha256:{target.sha256[:16]}…")
        name = matched[0].name
    else:
        attested = ", ".join(f"{s.name} (sha256:{str(s.digest.get('sha256', '?'))[:16]}…)" for s in subjects)
        r.add(
            "subject",
            [
                f"subject digest mismatch: it attests {attested}, but {target.description} has "
                f"sha256:{target.sha256[:16]}… — the content changed after it was attested, or the attestation "
                "is for something else"
            ],
            "",
        )
        name = subjects[0].name
    rule = policy.rule_for(name)
    if rule is None:
        r.add("signatures", [f"no rule under subjects matches {name!r}: no key is trusted for it"], "")
        return r
    report = dsse.check_signatures(env, policy.trusted(rule))
    sig_problems: list[str] = []
    if keyless is not None:  # the bundle's verified identity is one signer
        if keyless in rule.signers:
            report.signers.append(keyless)
        else:
            sig_problems.append(f"the keyless signer {keyless} is not trusted for {name!r}")
    r.signers = list(report.signers)
    if not report.met(rule.threshold):
        got = ", ".join(report.signers) or "none"
        sig_problems.append(
            f"{len(report.signers)} of the {rule.threshold} distinct trusted signatures {name!r} needs "
            f"(trusted: {', '.join(rule.signers)}; valid: {got})"
        )
    for needed in rule.require:
        if needed not in report.signers:
            sig_problems.append(f"{needed} must sign attestations of {name!r} and did not")
    if sig_problems:
        sig_problems += report.problems
    r.add("signatures", sig_problems, f"signed by {', '.join(report.signers)} (threshold {rule.threshold})")
    pred = doc["predicate"]
    if r.predicate_type == predicate.PREDICATE_TYPE:
        _agent_change(r, pred, target, policy, rule.agents, report.signers, trusted_checkpoint, log)
    elif r.predicate_type == slsa.SLSA_TYPE:
        r.add("builder", slsa.check(pred, policy.builders), "SLSA v1 provenance from a trusted builder")
    return r


def _agent_change(
    r: EnvelopeResult,
    pred: dict[str, Any],
    target: Target,
    policy: VerifyPolicy,
    agents: tuple[str, ...] | None,
    signers: Sequence[str],
    trusted_checkpoint: Checkpoint | None,
    log: LogAccess | None,
) -> None:
    try:
        predicate.check(pred)
    except ProvenanceError as exc:
        r.add("predicate", [f"not a valid agent-change predicate: {exc}"], "")
        return
    problems = [
        f"predicate.{f} is required by the verify policy and missing"
        for f in policy.required_fields
        if predicate.field(pred, f) in (None, "", [], {})
    ]
    agent = str(pred["agent"]["id"])
    if agents is not None and agent not in agents:
        problems.append(f"the change was produced by agent {agent!r}, not one allowed here ({', '.join(agents)})")
    if agent in policy.keys and agent not in signers:
        problems.append(f"agent {agent!r} has a trusted key but did not sign its own attestation")
    head = pred["repository"]["head"]
    if target.commit is not None and head["commit"] != target.commit:
        problems.append(f"the attestation is for commit {head['commit']}, not {target.commit}")
    if target.commit is not None and head["tree"]["sha256"] != target.sha256:
        problems.append("predicate.repository.head.tree does not match the commit's tree")
    r.add("predicate", problems, f"agent {agent} ({pred['agent'].get('model', 'model not recorded')})")

    section = pred["decisions"]
    proven, problems = decisions.prove(section, policy.ledger_keys)
    if proven is None:
        r.add("decisions", problems, "")
        return
    selection = section.get("selection") or {}
    if selection.get("agent") not in (None, agent):
        problems.append(f"the decisions were selected for agent {selection.get('agent')!r}, not {agent!r}")
    problems += decisions.judge(proven, selection, allow_denied=policy.allow_denied, min_decisions=policy.min_decisions)
    summary = predicate.approvals_summary([e for _, e in proven.entries])
    if pred["approvals"] != summary:
        problems.append("predicate.approvals does not match the approval entries recorded in the ledger range")
    n = sum(1 for _, e in proven.entries if decisions.is_decision(e))
    r.add("decisions", problems, f"{n} gate decision(s), each in the signed log and allowed or approved")
    ledger_problems: list[str] = []
    if trusted_checkpoint is not None:
        proof: Callable[[int, int], list[bytes]] | None = log.proof if log is not None else None
        ledger_problems += decisions.consistent(proven, trusted_checkpoint, proof)
    if log is not None and "range" in section:
        rng = section["range"]
        try:
            ledger_problems += decisions.complete(proven, selection, log.entries(rng["first"], rng["last"]))
        except ProvenanceError as exc:
            ledger_problems.append(str(exc))
    if trusted_checkpoint is not None or log is not None:
        what = []
        if trusted_checkpoint is not None:
            what.append(f"consistent with the trusted checkpoint at size {trusted_checkpoint.size}")
        if log is not None:
            what.append("no decision of the range left out")
        r.add("ledger", ledger_problems, "; ".join(what))


def commit_target(repo: Path, rev: str) -> tuple[Target, list[Envelope], list[str]]:
    """A commit, by its tree digest, and the attestations in its git note."""
    from ringfence.provenance import gitrepo

    commit = gitrepo.resolve(repo, rev)
    target = Target(f"commit {commit[:12]}", gitrepo.tree_digest(repo, commit).sha256, commit)
    envelopes, problems = store.parse_lines(gitrepo.read_notes(repo, commit), f"{gitrepo.NOTES_REF} on {commit[:12]}")
    return target, envelopes, problems


def commit_bundles(repo: Path, commit: str) -> list[str]:
    """The Sigstore bundles in ``commit``'s git note."""
    from ringfence.provenance import gitrepo

    return store.bundle_lines(gitrepo.read_notes(repo, commit))


def file_bundles(path: Path) -> list[str]:
    """The Sigstore bundles in an attestations file."""
    return store.bundle_lines(store.read_file(path))


def artifact_target(path: Path, attestations: Path | None = None) -> tuple[Target, list[Envelope], list[str]]:
    """An artifact file, by its SHA-256, and the attestations next to it (or in ``attestations``)."""
    source = attestations or store.sidecar(path)
    target = Target(f"artifact {path.name}", statement.file_digest(path))
    envelopes, problems = store.parse_lines(store.read_file(source), str(source))
    return target, envelopes, problems


def digest_target(digest: str, attestations: Path) -> tuple[Target, list[Envelope], list[str]]:
    """An artifact known only by its ``sha256:<hex>`` digest (an image, say) and its attestations."""
    algo, _, hexpart = digest.rpartition(":")
    if algo.rsplit("@", 1)[-1] != "sha256" or len(hexpart) != 64:
        raise ProvenanceError(f"{digest!r}: provenance verifies sha256 digests (sha256:<64 hex>)")
    envelopes, problems = store.parse_lines(store.read_file(attestations), str(attestations))
    return Target(f"artifact {digest[:19]}…", hexpart.lower()), envelopes, problems
