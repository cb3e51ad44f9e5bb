"""``ringfence init`` and ``ringfence uninstall``: wire the hook into an agent's settings.

Both plan first (:func:`ringfence.wiring.claude_code.plan_install` /
:func:`~ringfence.wiring.claude_code.plan_uninstall`), print what they will do, and
then either show the diff (``--dry-run``, nothing written) or back the file up and
write it atomically (:func:`ringfence.wiring.jsonfile.apply`).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.text import Text

from ringfence.wiring.claude_code import RUNTIME, SCOPES, Scope, plan_install, plan_uninstall, settings_path
from ringfence.wiring.command import hook_command
from ringfence.wiring.jsonfile import Plan, SettingsFileError, apply

AGENTS = (RUNTIME,)
EXIT_OK = 0
EXIT_ERROR = 3


class UsageError(Exception):
    """A command-line argument is wrong; the message says how to fix it."""


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``init`` and ``uninstall``."""
    for name, summary, run in (
        ("init", "wire ringfence into an agent's settings as its pre-action hook", run_init),
        ("uninstall", "remove ringfence's hook from an agent's settings", run_uninstall),
    ):
        parser = sub.add_parser(name, help=summary, description=summary)
        parser.add_argument("--agent", required=True, choices=AGENTS, help="the agent runtime to wire")
        parser.add_argument(
            "--scope",
            choices=SCOPES,
            default="project",
            help="project: <project>/.claude/settings.json (default); user: ~/.claude/settings.json",
        )
        parser.add_argument(
            "--project-dir",
            type=Path,
            default=None,
            metavar="DIR",
            help="the project's root directory (default: the current directory)",
        )
        parser.add_argument("--dry-run", action="store_true", help="show the change as a diff and write nothing")
        parser.set_defaults(run=run)


def target_path(scope: Scope, project_dir: Path | None) -> Path:
    """The settings file for ``scope``; checks that ``project_dir`` is a directory."""
    if scope == "project":
        directory = project_dir if project_dir is not None else Path.cwd()
        if not directory.is_dir():
            raise UsageError(f"--project-dir {directory} is not a directory; pass the root directory of the project")
        return settings_path("project", directory.absolute())
    return settings_path("user")


def print_diff(diff: str, console: Console) -> None:
    """Print a unified diff, coloured by line kind."""
    for line in diff.splitlines():
        if line.startswith(("+++", "---")):
            style = "bold"
        elif line.startswith("@@"):
            style = "cyan"
        elif line.startswith("+"):
            style = "green"
        elif line.startswith("-"):
            style = "red"
        else:
            style = ""
        console.print(Text(line, style=style), soft_wrap=True)


def carry_out(plan: Plan, *, dry_run: bool, console: Console, action: str) -> int:
    """Print ``plan`` and, unless ``dry_run``, apply it. Returns the exit code."""
    console.print(f"[bold]ringfence {action}[/] — {escape(str(plan.path))}", soft_wrap=True)
    for change in plan.changes:
        console.print(f"  [green]•[/] {escape(change)}", soft_wrap=True)
    for note in plan.notes:
        console.print(f"  [yellow]note:[/] {escape(note)}", soft_wrap=True)
    if not plan.changed:
        return EXIT_OK
    if dry_run:
        print_diff(plan.diff(), console)
        console.print("[yellow]dry run:[/] nothing was written; run again without --dry-run to apply.")
        return EXIT_OK
    backup = apply(plan)
    if backup is not None:
        console.print(f"  backed up the previous file to {escape(str(backup))}", soft_wrap=True)
    else:
        console.print(f"  created {escape(str(plan.path))}", soft_wrap=True)
    return EXIT_OK


def _run(args: argparse.Namespace, action: str) -> int:
    console = Console()
    errors = Console(stderr=True)
    try:
        path = target_path(args.scope, args.project_dir)
        plan = plan_install(path, hook_command(RUNTIME)) if action == "init" else plan_uninstall(path)
        code = carry_out(plan, dry_run=args.dry_run, console=console, action=action)
    except (UsageError, SettingsFileError) as exc:
        errors.print(f"[red]error:[/] {escape(str(exc))}", soft_wrap=True)
        return EXIT_ERROR
    if plan.changed and not args.dry_run:
        if action == "init":
            console.print(
                "Next: run [bold]ringfence doctor[/] to check the hook end to end. Claude Code reads hooks "
                "at start-up: restart running sessions (or review the change in /hooks)."
            )
        else:
            console.print("ringfence no longer gates this agent. Restart running Claude Code sessions.")
    return code


def run_init(args: argparse.Namespace) -> int:
    """``ringfence init``: add (or update) the hook in the chosen settings file."""
    return _run(args, "init")


def run_uninstall(args: argparse.Namespace) -> int:
    """``ringfence uninstall``: remove ringfence's hooks from the chosen settings file."""
    return _run(args, "uninstall")
