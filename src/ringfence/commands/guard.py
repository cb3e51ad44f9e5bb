"""``ringfence guard run`` and ``ringfence runbook sign|verify|run``.

``guard run`` exits **0** Successful (promote), **2** Failed (rolled back through the
signed runbook, or it tried), **4** Inconclusive (paused, not promoted), **3** a spec or
runbook that cannot be used (an unsigned or modified runbook included).
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import Any

EXIT_USAGE = 3


def add_parser(sub: Any) -> None:
    g: argparse.ArgumentParser = sub.add_parser(
        "guard",
        help="metric-guarded rollouts: analyse Prometheus metrics, roll back through a signed runbook on failure",
    )
    gsub = g.add_subparsers(title="guard commands", metavar="COMMAND")
    r = gsub.add_parser(
        "run",
        help="run a guard spec's analysis (exit 0 successful, 2 failed → rolled back, 4 inconclusive, 3 error)",
        allow_abbrev=False,
    )
    r.add_argument("spec", type=Path, help="the guard spec (YAML)")
    r.add_argument("--dry-run", action="store_true", help="show the schedule and the rollback's gate decisions only")
    r.add_argument("--json", action="store_true", help="print the outcome as JSON")
    r.set_defaults(run=run_guard)
    g.set_defaults(run=lambda ns: _usage(g))

    b: argparse.ArgumentParser = sub.add_parser("runbook", help="sign, verify and run remediation runbooks")
    bsub = b.add_subparsers(title="runbook commands", metavar="COMMAND")
    s = bsub.add_parser("sign", help="sign a runbook's current version with your approver key")
    s.add_argument("runbook", type=Path)
    s.add_argument("--as", dest="who", help="your approver id (default: your only key)")
    s.set_defaults(run=run_sign)
    v = bsub.add_parser("verify", help="is this runbook signed for its current digest? (exit 0 yes, 2 no)")
    v.add_argument("runbook", type=Path)
    v.set_defaults(run=run_verify)
    x = bsub.add_parser("run", help="run a signed runbook now, every step through the gate")
    x.add_argument("runbook", type=Path)
    x.add_argument("--dry-run", action="store_true", help="judge every step, run nothing")
    x.add_argument("--json", action="store_true")
    x.set_defaults(run=run_runbook)
    b.set_defaults(run=lambda ns: _usage(b))


def _usage(p: argparse.ArgumentParser) -> int:
    p.print_help()
    return EXIT_USAGE


def _gate(cwd: str) -> Any:
    from ringfence.gate import Gate

    return Gate.for_cwd(cwd)


def _close(gate: Any) -> None:
    if gate.control is not None:
        gate.control.store.close()
    if gate.ledger is not None:
        gate.ledger.close()


def run_guard(ns: argparse.Namespace) -> int:
    from rich.console import Console

    from ringfence.guard import rollout
    from ringfence.guard import spec as guard_spec

    spec = guard_spec.load(ns.spec)
    err = Console(stderr=True, highlight=False, soft_wrap=True)
    gate = _gate(os.getcwd())
    try:
        if not ns.dry_run:
            err.print(f"ringfence guard {spec.name}: analysing for up to {spec.longest:g}s", markup=False)

        def show(m: Any) -> None:
            err.print(f"  {m.at}  {m.metric:<20} {m.phase.value:<12} {m.value!r}  {m.message}", markup=False)

        out = rollout.run(spec, gate, dry_run=ns.dry_run, progress=show)
    finally:
        _close(gate)
    if ns.json:
        print(json.dumps(out.to_dict(), indent=2))
    else:
        print_outcome(out)
    code: int = out.exit_code
    return code


def print_outcome(out: Any) -> None:
    from rich.console import Console
    from rich.markup import escape

    c = Console(highlight=False, soft_wrap=True)
    colour = {"Successful": "green", "Failed": "red", "Inconclusive": "yellow", "DryRun": "cyan"}[out.phase]
    c.print(f"[bold {colour}]{escape(out.phase.upper())}[/] guard {escape(out.spec.name)}: {escape(out.headline)}")
    for line in out.plan:
        c.print(f"  {escape(line)}")
    if out.analysis is not None:
        c.print(f"  analysis: {escape(out.analysis.message)}")
    if out.rollback is not None and not out.rollback.dry_run:
        rb = out.rollback
        c.print(f"  runbook {escape(rb.runbook.name)} v{rb.runbook.version} ({escape(', '.join(rb.verified.signers))}):"
                f" {escape(rb.message)}")  # fmt: skip
        for s in rb.steps:
            c.print(f"    {'✓' if s.ok else '✗'} {escape(s.name)}: {escape(s.decision)}; {escape(s.detail)}")
        for ck in rb.postchecks:
            c.print(f"    {'✓' if ck.ok else '✗'} post-check {escape(ck.name)}: {escape(ck.detail)}")
    if out.incident is not None:
        c.print(f"  recorded as ledger entry {out.incident}")
    for name in out.notified:
        c.print(f"  notified {escape(name)}")
    for p in out.problems:
        c.print(f"  [yellow]problem:[/] {escape(p)}")


def _verified(path: Path) -> Any:
    from ringfence.config import load_settings
    from ringfence.guard import runbook

    rb = runbook.load(path)
    control = load_settings(os.getcwd()).control
    return runbook.verify(rb, control.approvers, k=control.runbook_k, groups=control.runbook_groups)


def run_sign(ns: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.markup import escape

    from ringfence.commands._control import require_human
    from ringfence.config import load_settings
    from ringfence.control.keys import load_key
    from ringfence.errors import GuardError
    from ringfence.guard import runbook

    require_human("sign a runbook")
    rb = runbook.load(ns.runbook)
    key = load_key(ns.who)
    approver = load_settings(os.getcwd()).control.approvers.get(key.name)
    if approver is None or approver.key != key.public:
        raise GuardError(
            f"{key.name} is not a configured approver with this key: add `ringfence keys show {key.name}` under "
            f"approvers.{key.name}.key first"
        )
    runbook.sign(rb, key, key.name)
    v = _verified(ns.runbook)
    c = Console(highlight=False, soft_wrap=True)
    c.print(f"[green]signed[/] {escape(rb.name)} v{rb.version} ({escape(rb.digest[:19])}…) as {escape(key.name)}")
    c.print(f"  {escape(v.summary())}: {'approved to run' if v.ok else 'not yet approved to run'}")
    return 0


def run_verify(ns: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.markup import escape

    v = _verified(ns.runbook)
    c = Console(highlight=False, soft_wrap=True)
    c.print(("[green]SIGNED[/] " if v.ok else "[red]NOT APPROVED[/] ") + escape(v.summary()))
    for p in v.problems:
        c.print(f"  - {escape(p)}")
    return 0 if v.ok else 2


def run_runbook(ns: argparse.Namespace) -> int:
    from ringfence.guard import execute, rollout

    v = _verified(ns.runbook)
    gate = _gate(os.getcwd())
    try:
        result = execute.execute(v.runbook, v, gate, rollout.principal(), dry_run=ns.dry_run)
    finally:
        _close(gate)
    if ns.json:
        print(json.dumps(result.to_dict(), indent=2))
    else:
        from rich.console import Console
        from rich.markup import escape

        c = Console(highlight=False, soft_wrap=True)
        c.print(("[green]OK[/] " if result.ok else "[red]STOPPED[/] ") + escape(result.message))
        for s in result.steps:
            c.print(f"  {'✓' if s.ok else '✗'} {escape(s.name)}: `{escape(s.command)}` → {escape(s.decision)} "
                    f"{escape(s.detail)}")  # fmt: skip
    return 0 if result.ok else 2
