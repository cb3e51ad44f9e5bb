"""``ringfence log``: the latest decisions from the ledger, optionally followed live."""

from __future__ import annotations

import argparse
import time
from typing import Any

from ringfence.commands.check import EXIT_USAGE

STYLE = {"allow": "green", "require_approval": "yellow", "deny": "bold red"}


def add_parser(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "log",
        help="show recent decisions (--follow to watch them live)",
        description="Show the newest decisions recorded in the ledger.",
    )
    p.add_argument("-n", "--limit", type=int, default=20, help="how many entries (default 20)")
    p.add_argument("-f", "--follow", action="store_true", help="keep watching for new decisions (Ctrl-C stops)")
    p.set_defaults(run=run)


def run(ns: argparse.Namespace) -> int:
    from rich.console import Console

    from ringfence.commands._ledger import open_configured

    console = Console()
    if ns.limit < 1:
        Console(stderr=True).print("[bold red]error:[/] --limit must be at least 1")
        return EXIT_USAGE
    try:
        ledger, location = open_configured()
        if ledger is None:
            console.print(
                f"No decisions recorded yet ({location} does not exist). "
                "Wire an agent with `ringfence init --agent claude-code`."
            )
            return 0
    except Exception as exc:
        Console(stderr=True).print(f"[bold red]error:[/] {exc}")
        return EXIT_USAGE
    entries = list(reversed(ledger.recent(ns.limit)))
    for e in entries:
        _line(console, e)
    last = entries[-1]["seq"] if entries else -1
    if not ns.follow:
        if not entries:
            console.print(f"No decisions recorded yet in {location}.")
        return 0
    console.print(f"[dim]watching {location} — Ctrl-C to stop[/]")
    try:
        while True:
            time.sleep(0.5)
            for e in reversed(ledger.recent(100, after=last)):
                _line(console, e)
                last = max(last, e["seq"])
    except KeyboardInterrupt:
        return 0


def _line(console: Any, e: dict[str, Any]) -> None:
    from rich.markup import escape

    action = e.get("action", {})
    payload = action.get("payload", {})
    kind = e.get("kind", "decision")
    if kind != "decision":  # approvals, prompt answers, halts and resumes
        what = f"{kind} " + " ".join(str(e[k]) for k in ("request", "halt", "scope", "reason") if e.get(k))
    else:
        what = payload.get("command") or payload.get("path") or f"{payload.get('server', '')}.{payload.get('tool', '')}"
    what = " ".join(str(what).split())[:100]
    decision = e.get("decision", "?")
    rules = ",".join(e.get("rules", [])[:2])
    console.print(
        f"[dim]{e.get('seq'):>6} {e.get('ts', '')}[/] [{STYLE.get(decision, 'cyan')}]{decision:<16}[/] "
        f"{escape(e.get('principal_type', ''))}:{escape(e.get('principal_id', ''))} "
        f"[bold]{escape(what)}[/] [dim]{escape(rules)}[/]",
        highlight=False,
    )
