"""Shared by the human-facing control commands: approvals, wait, halt, resume, status, keys."""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ringfence.config import Settings, load_settings
from ringfence.control.store import ControlStore, open_store
from ringfence.errors import ControlError

#: Environment variables agent runtimes set in the shells they run. A command that only
#: a human may run (approve, deny, resume) refuses to run where one of these is set.
AGENT_MARKERS = (
    "CLAUDECODE",
    "CLAUDE_CODE_ENTRYPOINT",
    "CODEX_SANDBOX",
    "CODEX_SANDBOX_NETWORK_DISABLED",
    "GEMINI_CLI",
    "CURSOR_AGENT",
    "OPENCODE",
    "RINGFENCE_AGENT_ID",
)


@dataclass
class ControlContext:
    settings: Settings
    store: ControlStore

    def close(self) -> None:
        self.store.close()


def open_control(cwd: str | None = None) -> ControlContext:
    settings = load_settings(cwd or os.getcwd())
    return ControlContext(settings, open_store(settings.state_location))


def require_human(what: str, env: Mapping[str, str] | None = None) -> None:
    """Refuse to ``what`` from inside an agent's shell: only humans approve or lift halts."""
    env = os.environ if env is None else env
    marker = next((m for m in AGENT_MARKERS if env.get(m)), None)
    if marker is not None:
        raise ControlError(
            f"refusing to {what}: this shell belongs to an agent ({marker} is set). "
            "Approvals and lifting a halt come from humans, out of band — run it in your own terminal."
        )


def record(settings: Settings, entry: dict[str, Any]) -> int | None:
    """Append a control event (approval, halt, resume) to the ledger, if one is configured.

    The control state is already durable; the ledger is the tamper-evident copy."""
    from ringfence.ledger.store import open_ledger

    location = settings.ledger_location
    if location is None:
        return None
    ledger = open_ledger(location)
    try:
        entry.setdefault("ts", time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
        return ledger.append(entry)
    finally:
        ledger.close()


def when(ts: float | None) -> str:
    if ts is None:
        return "—"
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def ago(ts: float, now: float) -> str:
    delta = now - ts
    future = delta < 0
    delta = abs(delta)
    if delta < 90:
        text = f"{int(delta)}s"
    elif delta < 5400:
        text = f"{round(delta / 60)}m"
    elif delta < 172800:
        text = f"{round(delta / 3600)}h"
    else:
        text = f"{round(delta / 86400)}d"
    return f"in {text}" if future else f"{text} ago"
