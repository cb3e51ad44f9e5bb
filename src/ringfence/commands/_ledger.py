"""Opening the configured ledger from a CLI command."""

from __future__ import annotations

import os
from pathlib import Path

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


def ledger_state(settings: Settings) -> Path:
    """The folder holding the ledger's signing key (next to the ledger file, or the state dir)."""
    from ringfence.config import state_dir

    return Path(settings.ledger_path).parent if settings.ledger_path else state_dir()


def sign_checkpoint(ledger: MerkleLedger, settings: Settings) -> str:
    """Sign the ledger's current size and root with the configured key; the signed note."""
    from ringfence.ledger import signer

    origin = settings.ledger_origin or signer.default_origin()
    key = signer.load_or_create_key(ledger_state(settings), origin)
    return signer.checkpoint_now(ledger, key, origin, settings.witness)
