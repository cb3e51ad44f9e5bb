"""``ringfence hook <runtime>`` (the fast path in cli.main handles the normal case)."""

from __future__ import annotations

import argparse
from typing import Any

from ringfence.adapters.contracts import RUNTIMES


def add_parser(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "hook",
        help="the pre-action hook a runtime calls (reads its payload on stdin)",
        description="Read a runtime's hook payload on stdin and print the runtime's answer on stdout.",
    )
    p.add_argument("runtime", choices=RUNTIMES, help="which runtime's hook contract to speak")
    p.set_defaults(run=_run)


def _run(ns: argparse.Namespace) -> int:
    from ringfence.daemon.client import run_hook

    return run_hook(ns.runtime)
