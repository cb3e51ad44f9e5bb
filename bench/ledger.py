"""Merkle ledger: append throughput (SQLite, PostgreSQL), full verification, proof generation.

Entries are real decision records (``ringfence.gate.ledger_entry`` of ``Gate.evaluate``
on the benchmark corpus), varied by an index field. The baseline in the same run is a
raw ``hashlib.sha256`` of the same canonical entry bytes: the ratios say what the
canonical encoding, the tree and the storage add on top of hashing.

    python bench/ledger.py [--verify-size 1000000] [--skip-postgres]
        [--postgres postgresql://postgres@127.0.0.1:5432/test]
"""

from __future__ import annotations

import argparse
import hashlib
import multiprocessing as mp
import os
import random
import secrets
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import isolated_env, pct, tempdir, workspace
from bench.corpus import DANGEROUS, ORDINARY

SINGLE_N = 2_000
BATCH_N = 20_000
BATCH = 100
PROCS = 8
PROC_N = 5_000  # per process: 8 x 5,000 = 40,000
BUILD_BATCH = 1_000  # and a checkpoint after every batch (the signer's default interval)
PROOFS = 1_000


def sample_entries(ws: Path) -> list[dict[str, Any]]:
    """Decision records for a few dozen corpus commands, as the gate writes them."""
    from ringfence.gate import Gate, ledger_entry
    from ringfence.model import Action, ActionKind, Principal, PrincipalType

    gate = Gate(cache=False)
    principal = Principal(PrincipalType.AGENT, "bench")
    commands = ORDINARY + DANGEROUS
    return [
        ledger_entry(gate.evaluate(Action(ActionKind.SHELL, {"command": c}, cwd=str(ws)), principal)) for c in commands
    ]


def entry(samples: list[dict[str, Any]], i: int) -> dict[str, Any]:
    e = dict(samples[i % len(samples)])
    e["n"] = i
    return e


def _worker(location: str, samples: list[dict[str, Any]], offset: int, go: Any, ready: Any) -> None:
    from ringfence.ledger.store import open_ledger

    ledger = open_ledger(location)
    batches = [[entry(samples, offset + j) for j in range(k, k + BATCH)] for k in range(0, PROC_N, BATCH)]
    ready.release()
    go.wait()
    for b in batches:
        ledger.append_many(b)
    ledger.close()


def append_rates(location: str, samples: list[dict[str, Any]]) -> tuple[float, float, float, int]:
    """entries/s: one by one, batches of 100, 8 processes with batches of 100; final size."""
    from ringfence.ledger.store import open_ledger

    ledger = open_ledger(location)
    one = [entry(samples, i) for i in range(SINGLE_N)]
    t0 = time.perf_counter()
    for e in one:
        ledger.append(e)
    single = SINGLE_N / (time.perf_counter() - t0)
    batches = [[entry(samples, i) for i in range(k, k + BATCH)] for k in range(0, BATCH_N, BATCH)]
    t0 = time.perf_counter()
    for b in batches:
        ledger.append_many(b)
    batched = BATCH_N / (time.perf_counter() - t0)
    ctx = mp.get_context("spawn")
    go, ready = ctx.Event(), ctx.Semaphore(0)
    procs = [ctx.Process(target=_worker, args=(location, samples, 10**6 * (p + 1), go, ready)) for p in range(PROCS)]
    for p in procs:
        p.start()
    for _ in procs:
        ready.acquire()
    t0 = time.perf_counter()
    go.set()
    for p in procs:
        p.join()
    concurrent = PROCS * PROC_N / (time.perf_counter() - t0)
    if any(p.exitcode for p in procs):
        raise SystemExit(f"a concurrent appender failed: exit codes {[p.exitcode for p in procs]}")
    size = ledger.size()
    ledger.close()
    return single, batched, concurrent, size


def line(label: str, rate: float, base: float) -> str:
    return f"  {label:<38} {rate:10,.0f} /s   ({base / rate:,.0f}x the cost of sha256 alone)"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--verify-size", type=int, default=1_000_000)
    ap.add_argument("--skip-postgres", action="store_true")
    ap.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/test")
    ns = ap.parse_args()
    with tempdir() as tmp:
        root = Path(tmp)
        os.environ.update(isolated_env(root))
        ws = workspace(root)
        from ringfence.ledger import canonical
        from ringfence.ledger.merkle import verify_consistency, verify_inclusion
        from ringfence.ledger.store import open_ledger
        from ringfence.ledger.verify import verify

        samples = sample_entries(ws)
        bodies = [canonical.encode(entry(samples, i)) for i in range(20_000)]
        print(f"entries: decision records of {len(samples)} commands, {statistics.fmean(map(len, bodies)):,.0f} B mean")
        t0 = time.perf_counter()
        for b in bodies * 10:
            hashlib.sha256(b).digest()
        base = len(bodies) * 10 / (time.perf_counter() - t0)
        print(f"  baseline: hashlib.sha256 of the entry bytes {base:10,.0f} /s")

        # 1. append throughput
        backends = [("SQLite", str(root / "append.db"), None)]
        if not ns.skip_postgres:
            schema = f"rf_bench_{secrets.token_hex(4)}"
            url = f"{ns.postgres}{'&' if '?' in ns.postgres else '?'}options=-csearch_path%3D{schema}"
            backends.append(("PostgreSQL", url, schema))
        for name, location, schema in backends:
            if schema is not None:
                import psycopg

                with psycopg.connect(ns.postgres, autocommit=True) as conn:
                    conn.execute(f"CREATE SCHEMA {schema}")
            try:
                single, batched, concurrent, size = append_rates(location, samples)
            finally:
                if schema is not None:
                    with psycopg.connect(ns.postgres, autocommit=True) as conn:
                        conn.execute(f"DROP SCHEMA {schema} CASCADE")
            expected = SINGLE_N + BATCH_N + PROCS * PROC_N
            print(f"append, {name} (durable commits; size after {size:,}, expected {expected:,}):")
            print(line(f"append() one by one, n={SINGLE_N:,}", single, base))
            print(line(f"append_many({BATCH}), n={BATCH_N:,}", batched, base))
            print(line(f"{PROCS} processes x append_many({BATCH}), n={PROCS * PROC_N:,}", concurrent, base))

        # 2. verification of a large ledger (SQLite)
        n = ns.verify_size
        ledger = open_ledger(root / "big.db")
        print(f"building a {n:,}-entry SQLite ledger with append_many({BUILD_BATCH}), a checkpoint per batch:")
        t0 = last = time.perf_counter()
        for k in range(0, n, BUILD_BATCH):
            ledger.append_many([entry(samples, i) for i in range(k, min(n, k + BUILD_BATCH))])
            size = min(n, k + BUILD_BATCH)
            ledger.store_checkpoint(size, ledger.root(size))
            if time.perf_counter() - last >= 30 or size == n:
                last = time.perf_counter()
                print(f"  {size:>10,} entries  {last - t0:6.1f} s  ({size / (last - t0):,.0f} /s)", flush=True)
        build = time.perf_counter() - t0
        db_bytes = sum(p.stat().st_size for p in root.glob("big.db*"))
        print(f"  built in {build:.1f} s ({n / build:,.0f} entries/s), {db_bytes / 2**20:,.0f} MiB on disk")

        checkpoints = {c.size: c.root for c in ledger.checkpoints()}
        stored_root = ledger.root()
        t0 = time.perf_counter()
        report = verify(
            ((r.seq, r.body, r.leaf) for r in ledger.rows()),
            ledger.batched_getter(),
            checkpoints,
            stored_size=ledger.size(),
            stored_root=stored_root,
        )
        elapsed = time.perf_counter() - t0
        print(
            f"verify {report.size:,} entries (ok={report.ok}, {report.checkpoints_checked:,} checkpoints): "
            f"{elapsed:.1f} s, {report.size / elapsed:,.0f} entries/s ({base / (report.size / elapsed):,.0f}x sha256)"
        )

        # 3. proofs at that size
        rng = random.Random(9162)
        idx = [rng.randrange(n) for _ in range(PROOFS)]
        times: list[float] = []
        for i in idx:
            t0 = time.perf_counter()
            proof = ledger.inclusion_proof(i, n)
            times.append(time.perf_counter() - t0)
            assert verify_inclusion(i, n, ledger.leaf(i), proof, stored_root)
        print(
            f"inclusion proof at size {n:,}: mean {statistics.fmean(times) * 1000:.3f} ms  "
            f"p95 {pct(times, 95) * 1000:.3f} ms  (n={PROOFS})"
        )
        pairs = [tuple(sorted((rng.randint(1, n), rng.randint(1, n)))) for _ in range(PROOFS)]
        times = []
        for old, new in pairs:
            t0 = time.perf_counter()
            proof = ledger.consistency_proof(old, new)
            times.append(time.perf_counter() - t0)
        for old, new in pairs[:50]:
            proof = ledger.consistency_proof(old, new)
            assert verify_consistency(old, new, ledger.root(old), ledger.root(new), proof)
        print(
            f"consistency proof (old, new) random: mean {statistics.fmean(times) * 1000:.3f} ms  "
            f"p95 {pct(times, 95) * 1000:.3f} ms  (n={PROOFS})"
        )
        ledger.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
