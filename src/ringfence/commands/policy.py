"""``ringfence policy test|replay``: make policies reviewable like code."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

EXIT_USAGE = 3


def add_parser(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "policy",
        help="test policies and replay recorded decisions under a candidate policy",
        description="Work with policy as code: run policy tests, replay the ledger under a candidate policy.",
    )
    psub = p.add_subparsers(title="policy commands", metavar="COMMAND")
    t = psub.add_parser(
        "test",
        help="run YAML policy tests (action → expected decision/rule)",
        description="Run policy test files against the effective policy; ends with 'N passed, N failed'.",
    )
    t.add_argument("paths", nargs="*", type=Path, help="test files or directories (default: .ringfence/policy)")
    t.add_argument("--builtin", action="store_true", help="also run the tests shipped with the built-in packs")
    t.add_argument("-v", "--verbose", action="store_true", help="list passing tests too")
    t.set_defaults(run=run_test)
    lint = psub.add_parser(
        "lint",
        help="check policy files; every problem as file:line:column",
        description="Check pack files (default: every layer that applies here) and report "
        "every problem as file:line:column: message.",
    )
    lint.add_argument("paths", nargs="*", type=Path, help="pack files or directories (default: the effective layers)")
    lint.set_defaults(run=run_lint)
    r = psub.add_parser(
        "replay",
        help="re-evaluate recorded actions under a candidate policy and show what changes",
        description="Re-evaluate actions recorded in the ledger and report newly denied, newly "
        "approval-gated and newly allowed ones.",
    )
    r.add_argument("--since", default="7d", help="how far back: 7d, 12h, 30m or a date (default 7d)")
    r.add_argument(
        "--policy",
        dest="policy_files",
        nargs="+",
        type=Path,
        default=[],
        help="candidate pack files added on top of the effective policy",
    )
    r.add_argument("--json", action="store_true", help="machine-readable report")
    r.add_argument("--limit", type=int, default=50, help="changes to list per direction (default 50)")
    r.set_defaults(run=run_replay)

    def usage(ns: argparse.Namespace) -> int:
        p.print_help()
        return EXIT_USAGE

    p.set_defaults(run=usage)


def run_lint(ns: argparse.Namespace) -> int:
    from rich.console import Console

    from ringfence.config import load_settings
    from ringfence.errors import RingfenceError
    from ringfence.policy.layers import layers_for
    from ringfence.policy.lint import lint_files

    console = Console()
    err = Console(stderr=True)
    try:
        if ns.paths:
            files: list[Path] = []
            for p in ns.paths:
                if p.is_dir():
                    files.extend(sorted(q for q in p.iterdir() if q.suffix in (".yaml", ".yml")))
                elif p.exists():
                    files.append(p)
                else:
                    err.print(f"[bold red]error:[/] {p}: no such file or directory")
                    return EXIT_USAGE
        else:
            settings = load_settings(os.getcwd())
            files = [p for layer in layers_for(settings, os.getcwd()) for p in layer.paths]
    except RingfenceError as exc:
        err.print(f"[bold red]error:[/] {exc}")
        return EXIT_USAGE
    if not files:
        console.print("No policy files apply here (only the built-in packs). Nothing to lint.")
        return 0
    problems = lint_files(files)
    for problem in problems:
        console.print(f"{problem.path}:{problem.line}:{problem.column}: {problem.message}", highlight=False)
    console.print(f"{len(files)} file(s), {len(problems)} problem(s)", highlight=False)
    return 1 if problems else 0


def run_test(ns: argparse.Namespace) -> int:
    from rich.console import Console

    from ringfence.errors import RingfenceError
    from ringfence.gate import Gate
    from ringfence.policy.testing import builtin_tests_dir, discover, load_cases, run_cases

    console = Console()
    err = Console(stderr=True)
    paths = list(ns.paths)
    if not paths:
        default = Path(".ringfence/policy")
        if default.exists():
            paths.append(default)
    if ns.builtin:
        paths.append(builtin_tests_dir())
    if not paths:
        err.print("[bold red]error:[/] no test files: give paths, create .ringfence/policy/, or use --builtin")
        return EXIT_USAGE
    try:
        files = discover(paths)
        cases = [c for f in files for c in load_cases(f)]
        gate = Gate.for_cwd(os.getcwd(), record=False)
    except RingfenceError as exc:
        err.print(f"[bold red]error:[/] {exc}")
        return EXIT_USAGE
    results = run_cases(cases, gate)
    passed = sum(r.passed for r in results)
    failed = len(results) - passed
    for r in results:
        if r.passed:
            if ns.verbose:
                console.print(f"[green]PASS[/] {r.case.file.name}: {r.case.name}", highlight=False)
            continue
        console.print(f"[bold red]FAIL[/] {r.case.file}: {r.case.name}", highlight=False)
        for problem in r.problems:
            console.print(f"     {problem}", highlight=False)
        console.print(f"     [dim]{r.decision.reason}[/]", highlight=False)
    console.print(f"{passed} passed, {failed} failed", highlight=False)
    return 0 if failed == 0 else 1


def run_replay(ns: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.table import Table

    from ringfence.commands._ledger import open_configured
    from ringfence.errors import RingfenceError
    from ringfence.gate import Gate
    from ringfence.policy.load import load_files
    from ringfence.policy.replay import parse_since, replay

    console = Console()
    err = Console(stderr=True)
    if ns.limit < 1:
        err.print("[bold red]error:[/] --limit must be at least 1")
        return EXIT_USAGE
    try:
        since = parse_since(ns.since)
    except ValueError as exc:
        err.print(f"[bold red]error:[/] {exc}")
        return EXIT_USAGE
    try:
        gate = Gate.for_cwd(os.getcwd(), record=False)
        if ns.policy_files:
            gate = Gate(settings=gate.settings, policy=load_files(ns.policy_files, base=gate.policy), cache=True)
        ledger, location = open_configured(gate.settings)
        if ledger is None:
            err.print(f"[bold red]error:[/] no ledger at {location}: nothing has been recorded yet")
            return EXIT_USAGE
    except RingfenceError as exc:
        err.print(f"[bold red]error:[/] {exc}")
        return EXIT_USAGE
    report = replay(ledger.since(since), gate)
    groups = report.by_direction()
    if ns.json:
        doc = {
            "since": since,
            "examined": report.examined,
            "unchanged": report.unchanged,
            "skipped": report.skipped,
            "contents_missing": report.contents_missing,
            **{k.replace(" ", "_"): [_change(c) for c in v] for k, v in groups.items()},
        }
        sys.stdout.write(json.dumps(doc, ensure_ascii=False) + "\n")
        return 0
    console.print(f"Replayed {report.examined} recorded actions since {since} under policy {gate.policy.digest[:19]}…")
    for title, changes in groups.items():
        if not changes:
            continue
        table = Table(title=f"{title}: {len(changes)}", title_justify="left")
        table.add_column("#", justify="right")
        table.add_column("when", style="dim")
        table.add_column("action")
        table.add_column("was")
        table.add_column("now")
        table.add_column("rules now", style="dim")
        for c in changes[: ns.limit]:
            table.add_row(str(c.seq), c.ts, c.what, c.before, c.after, ", ".join(c.rules_after))
        console.print(table)
    console.print(
        f"{report.unchanged} unchanged, {len(report.changes)} changed, {report.skipped} skipped "
        "(errors or unreadable entries)",
        highlight=False,
    )
    if report.contents_missing:
        console.print(
            f"[dim]{report.contents_missing} file writes were replayed by path only: the ledger keeps "
            "a digest of their contents, not the contents.[/]"
        )
    return 0


def _change(c: Any) -> dict[str, Any]:
    return {f: getattr(c, f) for f in ("seq", "ts", "what", "before", "after", "rules_before", "rules_after", "reason")}
