"""Group commit: concurrent appends share transactions and each gets its own sequence number."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from ringfence.errors import LedgerError
from ringfence.ledger.store import open_ledger
from ringfence.server.batching import BatchingLedger


def test_concurrent_appends_get_distinct_sequence_numbers(tmp_path: Path) -> None:
    ledger = BatchingLedger(open_ledger(tmp_path / "ledger.db"))
    seqs: list[int] = []
    lock = threading.Lock()

    def worker(i: int) -> None:
        for j in range(50):
            seq = ledger.append({"ts": "2026-11-22T00:00:00Z", "decision": "allow", "n": i * 100 + j})
            with lock:
                seqs.append(seq)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(seqs) == list(range(400))
    assert ledger.size() == 400
    assert {ledger.entry(s)["n"] for s in seqs} == {i * 100 + j for i in range(8) for j in range(50)}
    ledger.close()


def test_a_failed_batch_fails_its_appends(tmp_path: Path) -> None:
    ledger = BatchingLedger(open_ledger(tmp_path / "ledger.db"))
    bad: dict[str, Any] = {"ts": 5}  # ts must be a string
    with pytest.raises(LedgerError):
        ledger.append(bad)
    assert ledger.append({"ts": "2026-11-22T00:00:00Z"}) == 0  # the writer keeps going
    ledger.close()
