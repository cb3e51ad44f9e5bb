"""Opening the configured ledger from a CLI command."""

from __future__ import annotations

import os

from ringfence.config import Settings, load_settings
from ringfence.ledger.store import MerkleLedger, open_ledger


def open_configured(settings: Settings | None = None) -> tuple[MerkleLedger | None, str]:
    """The ledger the configuration names, or None when nothing was recorded yet.

    Returns the location too, for messages. Raises RingfenceError on a broken config or
    an unreachable database.
    """
    settings = settings or load_settings(os.getcwd())
    location = settings.ledger_location
    if location is None:
        return None, "(no ledger configured)"
    if settings.ledger_path is not None and not settings.ledger_path.exists():
        return None, location
    return open_ledger(location), location
