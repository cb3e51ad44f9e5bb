"""The ledger as the dashboard shows it: pages of entries, one entry with its inclusion
proof, and the verification of the whole log (what ``ringfence audit verify`` checks),
remembered for :data:`VERIFY_TTL` seconds because it reads every entry."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ringfence.config import Settings, state_dir
from ringfence.errors import RingfenceError
from ringfence.ledger import merkle
from ringfence.ledger.store import MerkleLedger

VERIFY_TTL = 30.0
PAGE_SIZE = 50


@dataclass(frozen=True, slots=True)
class Verification:
    ok: bool
    size: int
    root: str  # hex
    checkpoints_checked: int
    problems: tuple[str, ...]
    at: float
    seconds: float


def verify_ledger(ledger: MerkleLedger, settings: Settings) -> Verification:
    """Recompute every leaf, subtree and checkpoint (signatures included) of ``ledger``."""
    from ringfence.ledger.checkpoint import open_note
    from ringfence.ledger.signer import load_verifier
    from ringfence.ledger.verify import verify

    started = time.perf_counter()
    size = ledger.size()
    stored = [cp for cp in ledger.checkpoints() if cp.size <= size]
    problems: list[str] = []
    folder = Path(settings.ledger_path).parent if settings.ledger_path else state_dir()
    try:
        verifier = load_verifier(folder)
    except (OSError, RingfenceError) as exc:
        verifier = None
        problems.append(f"cannot read the verifier key to check checkpoint signatures: {exc}")
    for cp in stored:
        if not cp.note or verifier is None:
            continue
        try:
            signed = open_note(cp.note, [verifier])
        except RingfenceError as exc:
            problems.append(f"checkpoint at size {cp.size}: signature does not verify ({exc})")
            continue
        if signed.size != cp.size or signed.root != cp.root:
            problems.append(
                f"checkpoint at size {cp.size}: the signed note says size {signed.size} with another root "
                "than the stored row"
            )
    try:
        stored_root: bytes | None = ledger.root(size)
    except RingfenceError:
        stored_root = None
    report = verify(
        ((r.seq, r.body, r.leaf) for r in ledger.rows(0, size)),
        ledger.batched_getter(),
        {cp.size: cp.root for cp in stored},
        stored_size=size,
        stored_root=stored_root,
    )
    problems.extend(str(p) for p in report.problems)
    return Verification(
        ok=not problems,
        size=report.size,
        root=report.root.hex(),
        checkpoints_checked=report.checkpoints_checked,
        problems=tuple(problems),
        at=time.time(),
        seconds=time.perf_counter() - started,
    )


@dataclass
class VerificationCache:
    """The last verification, reused for ``ttl`` seconds; one verification at a time."""

    ttl: float = VERIFY_TTL
    _last: Verification | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def get(self, ledger: MerkleLedger, settings: Settings) -> Verification:
        with self._lock:
            if self._last is None or time.time() - self._last.at >= self.ttl:
                self._last = verify_ledger(ledger, settings)
            return self._last


def page_of(ledger: MerkleLedger, page: int) -> tuple[int, list[dict[str, Any]], int]:
    """Entries on ``page`` (0 = newest), newest first: ``(ledger size, entries, pages)``."""
    size = ledger.size()
    pages = max(1, -(-size // PAGE_SIZE))
    stop = max(0, size - page * PAGE_SIZE)
    start = max(0, stop - PAGE_SIZE)
    entries = list(ledger.entries(start, stop)) if stop > start else []
    entries.reverse()
    return size, entries, pages


@dataclass(frozen=True, slots=True)
class Proven:
    seq: int
    entry: dict[str, Any]
    tree_size: int
    root: str
    leaf_hash: str
    proof: tuple[str, ...]
    leaf_matches: bool  # the stored bytes still hash to the stored leaf
    included: bool  # the inclusion proof leads from the leaf to the root

    @property
    def valid(self) -> bool:
        return self.leaf_matches and self.included


def prove(ledger: MerkleLedger, seq: int) -> Proven | None:
    """Entry ``seq`` with its RFC 9162 inclusion proof against the current root, checked."""
    size = ledger.size()
    if not 0 <= seq < size:
        return None
    leaf = ledger.leaf(seq)
    proof = ledger.inclusion_proof(seq, size)
    root = ledger.root(size)
    return Proven(
        seq=seq,
        entry=ledger.entry(seq),
        tree_size=size,
        root=root.hex(),
        leaf_hash=leaf.hex(),
        proof=tuple(p.hex() for p in proof),
        leaf_matches=merkle.leaf_hash(ledger.body(seq)) == leaf,
        included=merkle.verify_inclusion(seq, size, leaf, proof, root),
    )


def row(entry: dict[str, Any]) -> dict[str, str]:
    """The columns of the ledger table for one entry (every key present, as text)."""
    return {
        "seq": str(entry.get("seq", "")),
        "ts": str(entry.get("ts", "")),
        "who": f"{entry.get('principal_type', '?')}:{entry.get('principal_id', '?')}",
        "decision": str(entry.get("decision", "")),
        "kind": str(entry.get("kind", "decision")),
        "what": what(entry),
        "request": str(entry.get("request") or ""),
    }


def what(entry: dict[str, Any]) -> str:
    """One readable line for an entry: the command, path or tool, or the control event."""
    kind = entry.get("kind")
    if kind in ("approval", "prompt_answer"):
        return f"{entry.get('decision', '')} {entry.get('request', '')}".strip()
    if kind in ("halt", "resume"):
        return f"{kind} {entry.get('scope', '')}: {entry.get('reason', '')}"
    payload = (entry.get("action") or {}).get("payload") or {}
    if not isinstance(payload, dict):
        return ""
    text = payload.get("command") or payload.get("path")
    if not text and payload.get("server"):
        text = f"{payload.get('server')}.{payload.get('tool', '')}"
    return " ".join(str(text or (entry.get("action") or {}).get("kind", "")).split())
