"""Group commit for the ledger: concurrent decisions share one durable transaction.

Every decision is recorded before it is answered. One fsync per decision caps a server
at a few thousand decisions a second; :class:`BatchingLedger` lets the request threads
that arrive together wait on one ``append_many`` instead. A decision still returns
only after its entry is durable, and a failed batch fails every decision in it (which
the gate turns into a deny).
"""

from __future__ import annotations

import asyncio
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

from ringfence.ledger.store import MerkleLedger

MAX_BATCH = 512


class BatchingLedger:
    """A :class:`MerkleLedger` whose ``append`` is group-committed by a writer thread."""

    def __init__(self, ledger: MerkleLedger) -> None:
        self.ledger = ledger
        self._queue: queue.SimpleQueue[tuple[dict[str, Any], Callable[[int | BaseException], None]] | None] = (
            queue.SimpleQueue()
        )
        self._thread = threading.Thread(target=self._run, name="ringfence-ledger-writer", daemon=True)
        self._thread.start()

    def append(self, entry: dict[str, Any]) -> int:
        future: Future[int] = Future()

        def done(result: int | BaseException) -> None:
            if isinstance(result, BaseException):
                future.set_exception(result)
            else:
                future.set_result(result)

        self._queue.put((entry, done))
        return future.result(timeout=60)

    async def append_async(self, entry: dict[str, Any]) -> int:
        """Like :meth:`append`, awaited on the event loop (no worker thread waits)."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[int] = loop.create_future()

        def settle(result: int | BaseException) -> None:
            if future.done():
                return
            if isinstance(result, BaseException):
                future.set_exception(result)
            else:
                future.set_result(result)

        def done(result: int | BaseException) -> None:
            loop.call_soon_threadsafe(settle, result)

        self._queue.put((entry, done))
        return await asyncio.wait_for(future, timeout=60)

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
                for _, done in batch:
                    done(exc)
                continue
            for (_, done), seq in zip(batch, seqs, strict=True):
                done(seq)

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join(timeout=10)
        self.ledger.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.ledger, name)
