"""The gate decisions behind a change, as a provable range of the ledger.

At attest time the ledger signs a fresh checkpoint (a C2SP signed note over its size and
RFC 9162 root), and every decision entry of the agent's session — plus the approval
entries of the requests those decisions used — is copied into the predicate with its
inclusion proof against that checkpoint. A verifier holding only the ledger's public key
can then check, offline, that each recorded decision really is in the log as written;
with a later trusted checkpoint (a witness's) and access to the log it also checks that
the log was only ever appended to in between, and that no decision of the session in the
attested range was left out.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ringfence.errors import LedgerError
from ringfence.ledger import canonical, merkle
from ringfence.ledger.checkpoint import Checkpoint, CheckpointError, VerifierKey, open_note
from ringfence.ledger.store import MerkleLedger
from ringfence.provenance.errors import StatementError

APPROVED_CONTROLS = ("grant",)  # control value of an allow that spent an approval grant


def is_decision(entry: Mapping[str, Any]) -> bool:
    """A gate decision, as opposed to an approval, a halt or a prompt answer."""
    return bool(entry.get("kind", "decision") == "decision")


@dataclass(frozen=True)
class Selection:
    """Which decisions belong to the change: the agent's, in its session, since a time."""

    agent: str | None
    session: str | None
    since: str | None  # YYYY-MM-DDTHH:MM:SSZ, inclusive

    def covers(self, entry: Mapping[str, Any]) -> bool:
        if not is_decision(entry):
            return False
        if self.agent is not None and entry.get("principal_id") != self.agent:
            return False
        if self.session is not None and entry.get("session") != self.session:
            return False
        return self.since is None or str(entry.get("ts", "")) >= self.since


def _proof_text(proof: Sequence[bytes]) -> list[str]:
    return [base64.b64encode(p).decode("ascii") for p in proof]


def collect(ledger: MerkleLedger, note: str, size: int, selection: Selection) -> dict[str, Any]:
    """The predicate's ``decisions`` section for ``selection``, proven against ``note``.

    ``note`` is a checkpoint of ``ledger`` at ``size`` signed just now."""
    chosen = [
        e
        for e in ledger.search(principal_id=selection.agent, since=selection.since)
        if int(e["seq"]) < size and selection.covers(e)
    ]
    requests = {str(e["request"]) for e in chosen if e.get("request")}
    if requests and chosen:
        first = int(chosen[0]["seq"])
        approvals = [
            e
            for e in ledger.search(kind="approval")
            if first <= int(e["seq"]) < size and str(e.get("request")) in requests
        ]
    else:
        approvals = []
    picked = sorted({int(e["seq"]) for e in [*chosen, *approvals]})
    entries = [
        {
            "index": seq,
            "entry": canonical.decode(ledger.body(seq)),
            "inclusionProof": _proof_text(ledger.inclusion_proof(seq, size)),
        }
        for seq in picked
    ]
    section: dict[str, Any] = {
        "checkpoint": note,
        "treeSize": size,
        "selection": {k: v for k, v in vars(selection).items() if v is not None},
        "entries": entries,
    }
    chosen_seqs = [int(e["seq"]) for e in chosen]
    if chosen_seqs:
        section["range"] = {"first": min(chosen_seqs), "last": max(chosen_seqs)}
    return section


# --- verification ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Proven:
    checkpoint: Checkpoint
    entries: list[tuple[int, dict[str, Any]]]


def _proof(raw: object, where: str) -> list[bytes]:
    if not isinstance(raw, list):
        raise StatementError(f"{where}.inclusionProof must be a list of base64 hashes")
    out = []
    for i, item in enumerate(raw):
        try:
            out.append(base64.b64decode(str(item), validate=True))
        except (binascii.Error, ValueError):
            raise StatementError(f"{where}.inclusionProof[{i}] is not base64") from None
    return out


def prove(section: Mapping[str, Any], ledger_keys: Sequence[VerifierKey]) -> tuple[Proven | None, list[str]]:
    """Check the checkpoint's signature and every entry's inclusion; (what holds, problems)."""
    problems: list[str] = []
    note = section.get("checkpoint")
    if not isinstance(note, str):
        return None, ["predicate.decisions.checkpoint is missing: the attestation carries no signed ledger checkpoint"]
    try:
        cp = open_note(note, ledger_keys)
    except CheckpointError as exc:
        return None, [f"the ledger checkpoint is not signed by a trusted ledger key: {exc}"]
    if section.get("treeSize") != cp.size:
        problems.append(f"predicate.decisions.treeSize {section.get('treeSize')!r} is not the checkpoint's {cp.size}")
    raw = section.get("entries")
    if not isinstance(raw, list):
        return None, [*problems, "predicate.decisions.entries must be a list"]
    proven: list[tuple[int, dict[str, Any]]] = []
    for i, item in enumerate(raw):
        where = f"predicate.decisions.entries[{i}]"
        if not isinstance(item, Mapping) or not isinstance(item.get("entry"), Mapping):
            problems.append(f"{where} must be an object with index, entry and inclusionProof")
            continue
        index = item.get("index")
        if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < cp.size:
            problems.append(f"{where}.index {index!r} is not an entry of the checkpointed log (size {cp.size})")
            continue
        try:
            body = canonical.encode(dict(item["entry"]))
            proof = _proof(item.get("inclusionProof"), where)
        except (StatementError, LedgerError) as exc:
            problems.append(f"{where}: {exc}")
            continue
        if not merkle.verify_inclusion(index, cp.size, merkle.leaf_hash(body), proof, cp.root):
            problems.append(
                f"ledger entry {index} does not match its inclusion proof against the signed checkpoint: "
                "the recorded decision was altered, or was never in the log"
            )
            continue
        proven.append((index, dict(item["entry"])))
    if len({i for i, _ in proven}) != len(proven):
        problems.append("predicate.decisions.entries lists one ledger entry twice")
    rng = section.get("range")
    decisions = [i for i, e in proven if is_decision(e)]
    if decisions:
        want = {"first": min(decisions), "last": max(decisions)}
        if rng != want:
            problems.append(f"predicate.decisions.range {rng!r} does not match the entries it lists ({want})")
    return Proven(cp, sorted(proven, key=lambda p: p[0])), problems


def _summary(entry: Mapping[str, Any]) -> str:
    action = entry.get("action") if isinstance(entry.get("action"), Mapping) else {}
    payload = action.get("payload") if isinstance(action, Mapping) else None
    text = ""
    if isinstance(payload, Mapping):
        text = str(payload.get("command") or payload.get("path") or payload.get("tool") or "")
    kind = entry.get("action_kind", "action")
    text = " ".join(text.split())
    return f"{kind} `{text[:80]}`" if text else str(kind)


def judge(proven: Proven, selection: Mapping[str, Any], *, allow_denied: bool, min_decisions: int) -> list[str]:
    """Every recorded decision must be allowed or approved, and belong to the attested agent."""
    problems: list[str] = []
    decisions = [(i, e) for i, e in proven.entries if is_decision(e)]
    approved_requests = {
        str(e.get("request"))
        for _, e in decisions
        if e.get("decision") == "allow" and e.get("control") in APPROVED_CONTROLS and e.get("request")
    }
    agent, session = selection.get("agent"), selection.get("session")
    for index, e in decisions:
        if agent is not None and e.get("principal_id") != agent:
            problems.append(f"ledger entry {index} is a decision for {e.get('principal_id')!r}, not agent {agent!r}")
        if session is not None and e.get("session") != session:
            problems.append(f"ledger entry {index} is from session {e.get('session')!r}, not {session!r}")
        outcome = e.get("decision")
        if outcome == "allow":
            continue
        if outcome == "require_approval":
            request = str(e.get("request") or "")
            if request and request in approved_requests:
                continue
            problems.append(
                f"ledger entry {index}: {_summary(e)} was held for approval"
                f"{f' ({request})' if request else ''} and never approved"
            )
        elif outcome == "deny" and allow_denied:
            continue
        else:
            rules = ", ".join(str(r) for r in e.get("rules") or ()) or "no rule"
            problems.append(f"ledger entry {index}: {_summary(e)} was {outcome} ({rules})")
    if len(decisions) < min_decisions:
        problems.append(
            f"the attestation records {len(decisions)} gate decision(s), the policy requires at least {min_decisions}: "
            "a change made without passing the gate cannot prove its lineage"
        )
    return problems


def consistent(proven: Proven, trusted: Checkpoint, proof_for: Callable[[int, int], list[bytes]] | None) -> list[str]:
    """The attested checkpoint and a trusted one describe one append-only log."""
    cp = proven.checkpoint
    if trusted.origin != cp.origin:
        return [f"the attestation's ledger is {cp.origin!r}, the trusted checkpoint is of {trusted.origin!r}"]
    if trusted.size == cp.size:
        if trusted.root != cp.root:
            return [f"the ledger forked: the trusted checkpoint and the attestation disagree about size {cp.size}"]
        return []
    if proof_for is None:
        return [
            f"the trusted checkpoint is at size {trusted.size} and the attestation's at {cp.size}: proving them "
            "consistent needs the log (pass --ledger LOCATION, or run where the ledger is configured)"
        ]
    old, new = sorted(((cp.size, cp.root), (trusted.size, trusted.root)))
    try:
        proof = proof_for(old[0], new[0])
    except LedgerError as exc:
        return [f"cannot read a consistency proof from the ledger: {exc}"]
    if not merkle.verify_consistency(old[0], new[0], old[1], new[1], proof):
        return [
            f"the ledger range is not consistent with the trusted checkpoint (sizes {old[0]} and {new[0]}): "
            "the log was rewritten after the attestation, or the attestation's checkpoint is from another log"
        ]
    return []


def complete(proven: Proven, selection: Mapping[str, Any], entries: Iterable[dict[str, Any]]) -> list[str]:
    """With the log at hand: no decision of the session within the attested range was left out."""
    listed = {i for i, e in proven.entries if is_decision(e)}
    if not listed:
        return []
    first, last = min(listed), max(listed)
    sel = Selection(selection.get("agent"), selection.get("session"), selection.get("since"))
    missing = [int(e["seq"]) for e in entries if first <= int(e["seq"]) <= last and sel.covers(e)]
    left_out = sorted(set(missing) - listed)
    if left_out:
        shown = ", ".join(str(i) for i in left_out[:10])
        return [f"the attestation leaves out {len(left_out)} decision(s) of the session in its range: entries {shown}"]
    return []


def load_trusted_checkpoint(path: Path, keys: Sequence[VerifierKey]) -> Checkpoint:
    try:
        note = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise StatementError(f"cannot read the trusted checkpoint {path}: {exc.strerror}") from None
    try:
        return open_note(note, keys)
    except CheckpointError as exc:
        raise StatementError(f"the trusted checkpoint {path} does not verify: {exc}") from None
