"""The warm path: a per-user local daemon that keeps the gate loaded.

A hook process pays for the Python interpreter on every tool call; importing the
parser, the packs and SQLite on top of that would double it. The hook therefore first
asks a daemon over a Unix socket (owner-only directory, one daemon per installation)
and only when there is none — or it is stale, or it fails in any way — decides
in-process and starts one for next time. The in-process path is the same code and
fails closed the same way, so the daemon is an optimisation, never a dependency.

Wire format (bytes; no JSON needed on the client side):
request  ``RF1\\n<runtime>\\n<cwd>\\n<KEY=VALUE>...\\n\\n<payload>``
response ``OK <length>\\n<stdout line>`` | ``STALE\\n`` | ``DECLINE\\n``
"""

from __future__ import annotations

import os
import sys

# Environment variables that change a decision; the client forwards exactly these.
FORWARDED_ENV = (
    "HOME",
    "USER",
    "XDG_CONFIG_HOME",
    "XDG_STATE_HOME",
    "RINGFENCE_CONFIG",
    "RINGFENCE_LEDGER",
    "RINGFENCE_ENV",
    "RINGFENCE_AGENT_ID",
    "RINGFENCE_AGENT_OWNER",
    "CLAUDE_PROJECT_DIR",
    "ANTHROPIC_MODEL",
    "GEMINI_PROJECT_DIR",
    "GEMINI_MODEL",
    "COPILOT_MODEL",
)


def socket_path() -> str:
    """Where this installation's daemon listens (per user, per installation, per version)."""
    from ringfence import __version__

    base = os.environ.get("XDG_RUNTIME_DIR") or "/tmp"
    # FNV-1a is enough to tell installations apart (the directory is owner-only) and,
    # unlike hashlib or zlib, costs nothing to import on the hook's hot path.
    h = 0xCBF29CE484222325
    for byte in (sys.prefix + "\0" + __version__).encode():
        h = ((h ^ byte) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    tag = f"{h:016x}"
    return os.path.join(base, f"ringfence-{os.getuid()}", f"d-{tag}.sock")
