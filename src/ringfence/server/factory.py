"""Building the application in each server process (``ringfence serve --workers N``).

uvicorn starts every worker from an import string, so the options travel in the
environment: ``RINGFENCE_SERVE_DATABASE``, ``RINGFENCE_SERVE_CWD``, ``RINGFENCE_SERVE_LOG_LEVEL``.
Each worker opens its own connections and ledger writer; they share the database.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
from collections.abc import AsyncIterator
from typing import Any

from starlette.applications import Starlette

from ringfence.server.app import configure_logging, create_app
from ringfence.server.state import open_state


def build() -> Starlette:
    configure_logging(os.environ.get("RINGFENCE_SERVE_LOG_LEVEL", "info"))
    state = open_state(
        cwd=os.environ.get("RINGFENCE_SERVE_CWD") or None, database=os.environ.get("RINGFENCE_SERVE_DATABASE") or None
    )
    app = create_app(state)
    # Everything loaded so far (policy, grammars, the analyzer's tables) lives as long as
    # the process: keep it out of the cyclic collector's way, and collect the young
    # generation less often (a decision allocates a few thousand short-lived objects).
    gc.collect()
    gc.freeze()
    gc.set_threshold(20_000, 20, 20)
    log = logging.getLogger("ringfence.server")

    @contextlib.asynccontextmanager
    async def lifespan(_: Any) -> AsyncIterator[None]:
        log.info("ready", extra={"fields": {"pid": os.getpid(), "state": state.store.where}})
        sweeper = asyncio.create_task(sweep_forever(state)) if sweeps(state) else None
        yield
        if sweeper is not None:
            sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sweeper
        app.state.draining = True
        state.close()  # flushes the ledger writer
        log.info("stopped", extra={"fields": {"pid": os.getpid(), "graceful": True}})

    app.router.lifespan_context = lifespan
    return app


SWEEP_EVERY = 5.0


def sweeps(state: Any) -> bool:
    """Whether this server has outbox work: notification channels, escalation, or answers
    owed to GitHub deployment protection rules."""
    c = state.gate.settings.control
    return bool(c.channels or c.escalate_after is not None or c.github is not None)


async def sweep_forever(state: Any, every: float = SWEEP_EVERY) -> None:
    """Expire, escalate and deliver what the outbox holds, every few seconds (see
    :mod:`ringfence.control.outbox`); a failure is logged and tried again next time."""
    from ringfence.control.outbox import run_once

    log = logging.getLogger("ringfence.server")
    while True:
        await asyncio.sleep(every)
        try:
            report = await asyncio.to_thread(run_once, state.store, state.gate.settings.control)
        except Exception as exc:
            log.warning("outbox sweep failed", extra={"fields": {"error": str(exc)}})
            continue
        if not report.quiet:
            fields = {k: getattr(report, k) for k in ("expired", "escalated", "delivered", "retrying", "failed")}
            log.info("outbox sweep", extra={"fields": fields})
