"""The Merkle ledger's storage on both backends: round trips, schema, proofs, bad inputs."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ringfence.errors import LedgerError
from ringfence.ledger import Ledger, canonical, merkle
from ringfence.ledger.canonical import CanonicalError
from ringfence.ledger.store import MerkleLedger, open_ledger
from tests.pg import pg_schema


@pytest.fixture(params=["sqlite", "postgres"])
def location(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Where a fresh ledger lives: a SQLite file, or a PostgreSQL schema of its own (dropped after)."""
    if request.param == "sqlite":
        yield str(tmp_path / "ledger.db")
        return
    with pg_schema() as url:
        yield url


# --- an independent RFC 9162 reference (section 2.1.1), for checking the stored tree ---


def ref_leaf(body: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + body).digest()


def ref_mth(leaves: list[bytes]) -> bytes:
    n = len(leaves)
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return leaves[0]
    k = 1 << ((n - 1).bit_length() - 1)  # the largest power of two smaller than n
    return hashlib.sha256(b"\x01" + ref_mth(leaves[:k]) + ref_mth(leaves[k:])).digest()


def check_tree(ledger: MerkleLedger) -> int:
    """Assert the log is whole: seqs 0..n-1, leaves hash the bodies, the node table holds
    exactly the complete subtrees and each equals its recomputation, the root is the MTH."""
    rows = list(ledger.rows(batch=97))
    n = len(rows)
    assert [r.seq for r in rows] == list(range(n)), "sequence has gaps or repeats"
    assert ledger.size() == n
    leaves = [ref_leaf(r.body) for r in rows]
    assert [r.leaf for r in rows] == leaves, "stored leaf differs from H(0x00 || body)"
    expected: dict[tuple[int, int], bytes] = {}
    level, hashes = 0, leaves
    while hashes:
        for i, h in enumerate(hashes):
            expected[(level, i)] = h
        hashes = [hashlib.sha256(b"\x01" + hashes[i] + hashes[i + 1]).digest() for i in range(0, len(hashes) - 1, 2)]
        level += 1
    with ledger.backend.reading() as tx:
        stored = {(int(lv), int(ix)): bytes(h) for lv, ix, h in tx.query("SELECT level, idx, hash FROM nodes")}
    assert stored.keys() == expected.keys(), "node table is not exactly the complete subtrees"
    assert stored == expected, "a stored node differs from its recomputation"
    assert ledger.root() == ref_mth(leaves)
    return n


def decision(i: int, **extra: Any) -> dict[str, Any]:
    return {
        "ts": f"2026-01-01T00:00:{i % 60:02d}Z",
        "principal_type": "agent" if i % 2 else "human",
        "principal_id": f"p{i % 3}",
        "runtime": "claude_code",
        "decision": ["allow", "deny", "require_approval"][i % 3],
        "action_digest": f"sha256:{i:064x}",
        "policy_digest": "sha256:" + "ab" * 32,
        "effects": [{"kind": "git.force_push" if i % 4 == 0 else "fs.delete", "attrs": {"n": i}}],
        **extra,
    }


# --- canonical bytes ---


def test_canonical_encoding_is_sorted_compact_utf8_and_not_normalised() -> None:
    entry = {"b": [1, True, None, "é"], "a": {"z": -3, "y": "e\u0301"}, "ü": "x\ny"}
    data = canonical.encode(entry)
    assert data == '{"a":{"y":"e\u0301","z":-3},"b":[1,true,null,"é"],"ü":"x\\ny"}'.encode()
    assert canonical.decode(data) == entry
    assert canonical.encode({"s": "\u00e9"}) != canonical.encode({"s": "e\u0301"})  # no NFC


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"x": 1.5}, "floats are not allowed"),
        ({"x": [1, float("nan")]}, "floats are not allowed"),
        ({"x": (1, 2)}, "tuple is not allowed"),
        ({"x": b"raw"}, "bytes is not allowed"),
        ({1: "a"}, "keys must be strings"),
        ({"x": "\ud800"}, "lone surrogate"),
    ],
)
def test_canonical_refuses_non_json_values(entry: dict[str, Any], message: str) -> None:
    with pytest.raises(CanonicalError, match=message):
        canonical.encode(entry)


@pytest.mark.parametrize(
    "data", [b'{"a": 1}', b'{"b":1,"a":2}', b'{"a":1.0}', b'{"a":"\\u00e9"}', b'{"a":1,"a":1}', b"[1]", b"\xff"]
)
def test_canonical_decode_refuses_non_canonical_bytes(data: bytes) -> None:
    with pytest.raises(CanonicalError, match="non-canonical"):
        canonical.decode(data)


# --- the ledger on both backends ---


def test_append_and_read_round_trip(location: str) -> None:
    with open_ledger(location) as ledger:
        gate_ledger: Ledger = ledger  # the gate can write through it (checked by mypy)
        assert gate_ledger is ledger
        assert ledger.size() == 0
        assert ledger.root() == hashlib.sha256(b"").digest()
        first = decision(0, error=None, rules=["git.force_push"], note="naïve — ✓")
        assert ledger.append(first) == 0
        assert ledger.append_many([decision(i) for i in range(1, 40)]) == list(range(1, 40))
        assert ledger.append_many([]) == []
        assert ledger.size() == 40
        got = ledger.entry(0)
        assert got.pop("seq") == 0
        assert got == {**first, "kind": "decision"}
        assert ledger.body(0) == canonical.encode({**first, "kind": "decision"})
        assert ledger.leaf(0) == ref_leaf(ledger.body(0))
        assert ledger.get(0, 5) == ledger.leaf(5)
        assert [e["seq"] for e in ledger.recent(3)] == [39, 38, 37]
        assert [e["seq"] for e in ledger.entries(10, 13)] == [10, 11, 12]
        with pytest.raises(LedgerError, match="no entry 40"):
            ledger.entry(40)
        check_tree(ledger)
    with open_ledger(location) as again:  # reopened: same log
        assert again.size() == 40
        check_tree(again)


def test_entry_without_ts_or_kind_gets_them(location: str) -> None:
    with open_ledger(location) as ledger:
        ledger.append({"kind": "approval", "by": "alice"})
        ledger.append({"x": 1})
        assert ledger.entry(0)["kind"] == "approval"
        assert ledger.entry(1)["kind"] == "decision"
        assert ledger.entry(1)["ts"].endswith("Z")


def test_proofs_verify_for_every_index_and_size(location: str) -> None:
    with open_ledger(location) as ledger:
        ledger.append_many([decision(i) for i in range(21)])
        roots = {n: ledger.root(n) for n in range(22)}
        for n in range(22):
            assert roots[n] == ref_mth([ledger.leaf(i) for i in range(n)])
            for i in range(n):
                proof = ledger.inclusion_proof(i, n)
                assert merkle.verify_inclusion(i, n, ledger.leaf(i), proof, roots[n])
            for old in range(1, n + 1):
                proof = ledger.consistency_proof(old, n)
                assert merkle.verify_consistency(old, n, roots[old], roots[n], proof)
        with pytest.raises(LedgerError, match="out of range"):
            ledger.root(22)
        with pytest.raises(LedgerError, match="not in a tree of size 5"):
            ledger.inclusion_proof(5, 5)


def test_checkpoints(location: str) -> None:
    with open_ledger(location) as ledger:
        assert ledger.latest_checkpoint() is None
        ledger.append_many([decision(i) for i in range(10)])
        cp = ledger.store_checkpoint(4, ledger.root(4), "note 4")
        ledger.store_checkpoint(9, ledger.root(9), "note 9")
        assert ledger.store_checkpoint(4, ledger.root(4), "other") == cp  # idempotent
        latest = ledger.latest_checkpoint()
        assert latest is not None
        assert (latest.size, latest.root, latest.note) == (9, ledger.root(9), "note 9")
        assert [c.size for c in ledger.checkpoints()] == [4, 9]
        with pytest.raises(LedgerError, match="does not match"):
            ledger.store_checkpoint(5, ledger.root(4), "wrong")


def test_search_filters(location: str) -> None:
    with open_ledger(location) as ledger:
        ledger.append_many([decision(i) for i in range(30)])
        ledger.append({"kind": "approval", "ts": "2026-01-01T00:00:00Z", "note": "git.force_push in text"})

        def seqs(**kw: Any) -> list[int]:
            return [e["seq"] for e in ledger.search(**kw)]

        assert seqs(principal_type="agent") == [i for i in range(30) if i % 2]
        assert seqs(principal_type="agent", principal_id="p1") == [i for i in range(30) if i % 2 and i % 3 == 1]
        assert seqs(decision="deny") == [i for i in range(30) if i % 3 == 1]
        # effect: a substring of an effect's kind; text elsewhere in the body does not count
        assert seqs(effect="git.") == [i for i in range(30) if i % 4 == 0]
        assert seqs(effect="delete", decision="allow") == [i for i in range(30) if i % 4 and i % 3 == 0]
        assert seqs(kind="approval") == [30]
        assert seqs(since="2026-01-01T00:00:25Z", until="2026-01-01T00:00:28Z") == [25, 26, 27]
        assert seqs(principal_type="agent", limit=3, newest_first=True) == [29, 27, 25]
        assert [e["seq"] for e in ledger.since("2026-01-01T00:00:28Z", batch=1)] == [28, 29]
        assert seqs(batch=4) == list(range(31))


def test_append_only(location: str) -> None:
    with open_ledger(location) as ledger:
        ledger.append_many([decision(i) for i in range(3)])
        ledger.store_checkpoint(2, ledger.root(2), "")
        for sql in (
            "UPDATE entries SET decision = 'allow'",
            "DELETE FROM entries",
            "DELETE FROM nodes",
            "UPDATE checkpoints SET note = ''",
        ):
            with pytest.raises(LedgerError, match="append-only"), ledger.backend.writing() as tx:
                tx.execute(sql)
        check_tree(ledger)


def test_bad_entry_writes_nothing(location: str) -> None:
    with open_ledger(location) as ledger:
        ledger.append(decision(0))
        with pytest.raises(CanonicalError, match=r"entry\.attrs\.cost: floats are not allowed"):
            ledger.append_many([decision(1), {"attrs": {"cost": 0.5}}])
        with pytest.raises(LedgerError, match="'decision' must be a string or null"):
            ledger.append({"decision": 1})
        with pytest.raises(LedgerError, match="must be a dict"):
            ledger.append(["not", "a", "dict"])  # type: ignore[arg-type]
        assert ledger.append(decision(1)) == 1
        check_tree(ledger)


def test_schema_migration_is_idempotent(location: str) -> None:
    for _ in range(3):
        with open_ledger(location) as ledger:
            ledger.append(decision(0))
    with open_ledger(location) as ledger, ledger.backend.reading() as tx:
        assert tx.query("SELECT version FROM schema_version") == [(1,)]
    with open_ledger(location) as ledger:
        assert ledger.size() == 3
        with ledger.backend.writing() as tx:
            tx.execute("INSERT INTO schema_version (version, applied_at) VALUES (99, 'future')")
    with pytest.raises(LedgerError, match="schema version 99, newer than"):
        open_ledger(location)


@pytest.mark.parametrize("url", ["mysql://db/ledger", "sqlite://x", "https://example.com/ledger"])
def test_unknown_url_scheme(url: str) -> None:
    with pytest.raises(LedgerError, match="unknown ledger location scheme"):
        open_ledger(url)


def test_unreachable_postgres_is_a_clear_error() -> None:
    with pytest.raises(LedgerError, match=re.escape("cannot open the ledger at postgresql://u:***@127.0.0.1:1/x")):
        open_ledger("postgresql://u:secret@127.0.0.1:1/x?connect_timeout=2")


def test_unwritable_sqlite_path_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    with pytest.raises(LedgerError, match="cannot open the ledger"):
        open_ledger(str(tmp_path / "file" / "ledger.db"))
