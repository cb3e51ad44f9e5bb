"""Group commit for the ledger: concurrent decisions share one durable transaction.

Every decision is recorded before it is answered. One fsync per decision caps a server
at a few thousand decisions a second; :class:`BatchingLedger` lets the request threads
that arrive together wait on one ``append_many`` instead. A decision still returns
only after its entry is durable, and a failed batch fails every decision in it (which
the gate turns into a deny).
"""

from __future__ import annotations

import queue
import threading
from concurrent.futures import Future
from typing import Any

from ringfence.ledger.store import MerkleLedger

MAX_BATCH = 512


class BatchingLedger:
    """A :class:`MerkleLedger` whose ``append`` is group-committed by a writer thread."""

    def __init__(self, ledger: MerkleLedger) -> None:
        self.ledger = ledger
        self._queue: queue.SimpleQueue[tuple[dict[str, Any], Future[int]] | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="ringfence-ledger-writer", daemon=True)
        self._thread.start()

    def append(self, entry: dict[str, Any]) -> int:
        future: Future[int] = Future()
        self._queue.put((entry, future))
        return future.result(timeout=60)

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            batch = [item]
            while len(batch) < MAX_BATCH:
                try:
                    nxt = self._queue.get_nowait()
                except queue.Empty:
                    break
                if nxt is None:
                    self._queue.put(None)
                    break
                batch.append(nxt)
            try:
                seqs = self.ledger.append_many([entry for entry, _ in batch])
            except BaseException as exc:
                for _, future in batch:
                    future.set_exception(exc)
                continue
            for (_, future), seq in zip(batch, seqs, strict=True):
                future.set_result(seq)

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join(timeout=10)
        self.ledger.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.ledger, name)
