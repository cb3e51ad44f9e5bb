"""Many processes, one gap-free log; and kill -9 at any point loses no acknowledged entry."""

from __future__ import annotations

import multiprocessing
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from ringfence.ledger.store import open_ledger
from tests.ledger.test_store import check_tree, location  # noqa: F401  (location is a fixture)

WORKERS = 8
PER_WORKER = 50
SRC = str(Path(__file__).resolve().parents[2] / "src")


def _worker(loc: str, worker: int, start: Any, out: Any) -> None:
    """Open a connection of its own, wait for the others, append one by one."""
    ledger = open_ledger(loc)
    start.wait()
    seqs = [ledger.append({"worker": worker, "i": i, "principal_type": "agent"}) for i in range(PER_WORKER)]
    ledger.close()
    out.put((worker, seqs))


def test_concurrent_processes_make_one_gap_free_sequence(location: str) -> None:  # noqa: F811
    open_ledger(location).close()  # create the schema, so the workers race on appends only
    ctx = multiprocessing.get_context("spawn")
    start, out = ctx.Event(), ctx.Queue()
    procs = [ctx.Process(target=_worker, args=(location, w, start, out)) for w in range(WORKERS)]
    for p in procs:
        p.start()
    start.set()
    results = dict(out.get(timeout=120) for _ in procs)
    for p in procs:
        p.join(timeout=30)
        assert p.exitcode == 0
    all_seqs = sorted(s for seqs in results.values() for s in seqs)
    assert all_seqs == list(range(WORKERS * PER_WORKER)), "sequence numbers are not exactly 0..399"
    with open_ledger(location) as ledger:
        assert ledger.size() == WORKERS * PER_WORKER
        for worker, seqs in results.items():
            assert seqs == sorted(seqs)
            for i, seq in enumerate(seqs):
                entry = ledger.entry(seq)
                assert (entry["worker"], entry["i"]) == (worker, i)
        assert check_tree(ledger) == WORKERS * PER_WORKER


def test_concurrent_first_open_migrates_once(location: str) -> None:  # noqa: F811
    ctx = multiprocessing.get_context("spawn")
    start, out = ctx.Event(), ctx.Queue()
    procs = [ctx.Process(target=_worker, args=(location, w, start, out)) for w in range(4)]
    for p in procs:
        p.start()
    start.set()
    for _ in procs:
        out.get(timeout=120)
    for p in procs:
        p.join(timeout=30)
        assert p.exitcode == 0
    with open_ledger(location) as ledger:
        with ledger.backend.reading() as tx:
            assert len(tx.query("SELECT version FROM schema_version")) == 1
        assert check_tree(ledger) == 4 * PER_WORKER


_CHILD = """
import sys
from ringfence.ledger.store import open_ledger
ledger = open_ledger(sys.argv[1])
run = sys.argv[2]
i = 0
while True:
    batch = 1 + i % 3
    markers = [f"{run}-{i + k}" for k in range(batch)]
    if batch == 1:
        seqs = [ledger.append({"marker": markers[0], "pad": "x" * (i % 500)})]
    else:
        seqs = ledger.append_many([{"marker": m, "pad": "y" * (i % 300)} for m in markers])
    for seq, marker in zip(seqs, markers):
        sys.stdout.write(f"{seq} {marker}\\n")
    sys.stdout.flush()
    i += batch
"""


def test_kill_9_loses_no_acknowledged_entry(location: str) -> None:  # noqa: F811
    rng = random.Random(os.environ.get("RF_CRASH_SEED", "9162"))
    env = {**os.environ, "PYTHONPATH": SRC + os.pathsep + os.environ.get("PYTHONPATH", "")}
    acknowledged: dict[int, str] = {}
    kills_after_acks = 0
    for run in range(10):
        child = subprocess.Popen(
            [sys.executable, "-c", _CHILD, location, str(run)], stdout=subprocess.PIPE, env=env, text=True
        )
        time.sleep(rng.uniform(0.05, 0.9))  # includes kills during start-up and schema creation
        child.send_signal(signal.SIGKILL)
        output, _ = child.communicate(timeout=30)
        assert child.returncode == -signal.SIGKILL
        lines = output.split("\n")[:-1]  # text after the last newline was cut by the kill: not acknowledged
        kills_after_acks += bool(lines)
        for line in lines:
            seq_text, marker = line.split(" ")
            seq = int(seq_text)
            assert seq not in acknowledged, f"seq {seq} acknowledged twice"
            acknowledged[seq] = marker
        with open_ledger(location) as ledger:
            n = check_tree(ledger)
            assert n >= len(acknowledged)
            for seq, marker in acknowledged.items():
                assert ledger.entry(seq)["marker"] == marker, f"acknowledged entry {seq} lost after kill {run}"
            ledger.append({"marker": f"after-{run}"})  # the log stays writable after a crash
    assert kills_after_acks >= 5, "too few kills landed while appending; the test proved little"
