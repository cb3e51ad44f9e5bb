"""Building the application in each server process (``ringfence serve --workers N``).

uvicorn starts every worker from an import string, so the options travel in the
environment: ``RINGFENCE_SERVE_DATABASE``, ``RINGFENCE_SERVE_CWD``, ``RINGFENCE_SERVE_LOG_LEVEL``.
Each worker opens its own connections and ledger writer; they share the database.
"""

from __future__ import annotations

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
        yield
        app.state.draining = True
        state.close()  # flushes the ledger writer
        log.info("stopped", extra={"fields": {"pid": os.getpid(), "graceful": True}})

    app.router.lifespan_context = lifespan
    return app
