"""Signed checkpoints of the ledger: the key, the origin, when to sign, where to export.

Every :data:`DEFAULT_EVERY` entries (and on demand, ``ringfence audit checkpoint``) the
ledger's current size and root are written as a C2SP tlog-checkpoint inside a signed
note (Ed25519) and stored with the log. If a witness location is configured, the note is
also written there — a directory the operator controls (one file per checkpoint and a
``latest`` copy), so someone who can rewrite the database cannot rewrite history
unnoticed: ``ringfence audit verify --from-checkpoint <witness>/latest`` checks the log
against it.

The signing key lives in ``$XDG_STATE_HOME/ringfence/ledger.skey`` (mode 0600), created on
first use; its public half, ``ledger.vkey`` next to it, is what verifiers need.
"""

from __future__ import annotations

import os
import socket
import time
from pathlib import Path
from typing import TYPE_CHECKING

from ringfence.ledger.checkpoint import Checkpoint, SigningKey, VerifierKey, sign
from ringfence.ledger.store import MerkleLedger

if TYPE_CHECKING:
    from ringfence.config import Settings

DEFAULT_EVERY = 1000


def default_origin() -> str:
    host = socket.gethostname().split(".")[0] or "localhost"
    return f"ringfence.local/{host}"


def key_paths(state: Path) -> tuple[Path, Path]:
    return state / "ledger.skey", state / "ledger.vkey"


def load_or_create_key(state: Path, origin: str) -> SigningKey:
    skey, vkey = key_paths(state)
    if skey.exists():
        return SigningKey.load(skey)
    state.mkdir(parents=True, exist_ok=True, mode=0o700)
    key = SigningKey.generate(origin.replace("/", "-").replace(" ", "-"))
    key.save(skey)
    vkey.write_text(key.to_vkey() + "\n", encoding="utf-8")
    return key


def load_verifier(state: Path) -> VerifierKey | None:
    _, vkey = key_paths(state)
    try:
        return VerifierKey.from_vkey(vkey.read_text(encoding="utf-8").strip())
    except FileNotFoundError:
        return None


def checkpoint_now(ledger: MerkleLedger, key: SigningKey, origin: str, witness: Path | None = None) -> str:
    """Sign the ledger's current size and root, store the note, export it to ``witness``."""
    size = ledger.size()
    root = ledger.root(size)
    note = sign(Checkpoint(origin, size, root), key)
    ledger.store_checkpoint(size, root, note)
    if witness is not None:
        export_note(witness, size, note)
    return note


def sign_configured(ledger: MerkleLedger, settings: Settings) -> str:
    """Sign ``ledger``'s current size and root with the key and origin ``settings`` name, and
    export the note to the configured witness; the signed note."""
    origin = settings.ledger_origin or default_origin()
    key = load_or_create_key(settings.ledger_state, origin)
    return checkpoint_now(ledger, key, origin, settings.witness)


def export_note(witness: Path, size: int, note: str) -> None:
    """Write the note to the witness without ever replacing what it already holds.

    A checkpoint for a size the witness has seen with another root means the log forked
    (was rewritten): the new note is kept beside it as ``…​.fork-<time>`` for the operator,
    and ``latest`` is not moved."""
    witness.mkdir(parents=True, exist_ok=True)
    target = witness / f"checkpoint-{size:012d}"
    try:
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except FileExistsError:
        if target.read_text(encoding="utf-8") != note:
            fork = witness / f"checkpoint-{size:012d}.fork-{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}"
            fork.write_text(note, encoding="utf-8")
        return
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(note)
    tmp = witness / f".latest-{os.getpid()}"
    tmp.write_text(note, encoding="utf-8")
    os.replace(tmp, witness / "latest")
