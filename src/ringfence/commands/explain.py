"""``ringfence explain``: the whole trace, from parsed commands to the decision."""

from __future__ import annotations

import argparse
from typing import Any

from ringfence.commands.check import EXIT, EXIT_USAGE, UsageError, action_from_args, add_action_arguments
from ringfence.model import ActionKind


def add_parser(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "explain",
        help="show how a command is understood: unwrapped commands → effects → rules → decision",
        description="Show the commands a shell line would run after unwrapping, the effects found with their "
        "evidence, the rules that matched and the decision. Nothing is executed.",
    )
    add_action_arguments(p)
    p.set_defaults(run=run)


def run(ns: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.table import Table

    from ringfence.commands.check import cli_principal, print_decision
    from ringfence.gate import Gate

    console = Console()
    err = Console(stderr=True)
    try:
        action = action_from_args(ns)
        gate = Gate.for_cwd(action.cwd, record=False)
    except UsageError as exc:
        err.print(f"[bold red]error:[/] {exc}")
        return EXIT_USAGE
    except Exception as exc:
        err.print(f"[bold red]error:[/] {exc}")
        return EXIT_USAGE
    from rich.markup import escape

    ctx = gate.context(action)
    console.print(
        f"[bold]cwd[/] {action.cwd}   [bold]workspace[/] {ctx.workspace or '(none)'}   "
        f"[bold]environment[/] {ctx.environment or '(unknown)'}"
    )
    if action.kind is ActionKind.SHELL:
        from ringfence.analyze import trace_action
        from ringfence.analyze.notes import command_notes
        from ringfence.errors import AnalysisLimit

        try:
            trace = trace_action(action, ctx)
            table = Table(title="1. commands it would run (after parsing and unwrapping)", title_justify="left")
            table.add_column("#", justify="right")
            table.add_column("command")
            table.add_column("through", style="cyan")
            table.add_column("notes", style="dim")
            for i, cmd in enumerate(trace.commands, start=1):
                notes = command_notes(cmd, action.cwd)
                table.add_row(
                    str(i), escape(cmd.evidence), escape(" → ".join(cmd.via) or "-"), escape("; ".join(notes))
                )
            console.print(table)
        except AnalysisLimit as exc:
            console.print(f"[red]analysis stopped:[/] {escape(str(exc))}")
    else:
        console.print(
            f"[bold]1. action[/] {action.kind.value} {action.tool or ''} {dict(action.payload).get('path', '')}"
        )
    decision = gate.evaluate(action, cli_principal())
    eff = Table(title="2. effects found", title_justify="left")
    eff.add_column("effect", style="bold")
    eff.add_column("attributes")
    eff.add_column("evidence", style="dim")
    shown = [e for e in decision.effects if e.kind != "exec"]
    for e in shown:
        attrs = ", ".join(f"{k}={_fmt(v)}" for k, v in e.attrs.items() if v not in (None, (), False, ""))
        evidence = (" → ".join(e.via) + ": " if e.via else "") + e.evidence
        eff.add_row(e.kind, escape(attrs), escape(evidence))  # `[/]` in a value is not markup
    if shown:
        console.print(eff)
    else:
        console.print("[bold]2. effects found[/]: none beyond running programs")
    if decision.verdict.matches:
        rules = Table(title="3. rules that matched", title_justify="left")
        rules.add_column("rule")
        rules.add_column("decision")
        rules.add_column("tier")
        rules.add_column("because")
        for m in decision.verdict.matches:
            rules.add_row(m.rule_id, m.outcome.value, m.tier.value, escape(m.reason))
        console.print(rules)
    else:
        console.print("[bold]3. rules that matched[/]: none")
    console.print("[bold]4. decision[/]")
    print_decision(decision, console)
    return EXIT_USAGE if decision.error else EXIT[decision.outcome]


def _fmt(v: Any) -> str:
    if isinstance(v, tuple):
        return "[" + ", ".join(v) + "]"
    return str(v)


__all__ = ["run"]
