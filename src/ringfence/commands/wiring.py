"""``ringfence init`` and ``ringfence uninstall``: wire the hook into an agent's settings.

Both plan first (the runtime's :class:`~ringfence.wiring.base.RuntimeWiring`
``plan_install`` / ``plan_uninstall``), print what they will do, and then either show
the diff (``--dry-run``, nothing written) or back the file up and write it atomically
(:func:`ringfence.wiring.jsonfile.apply`).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.text import Text

from ringfence.wiring.base import WIRINGS, RuntimeWiring, Scope, wiring_for
from ringfence.wiring.command import hook_command
from ringfence.wiring.jsonfile import Plan, SettingsFileError, apply

AGENTS = tuple(WIRINGS)
SCOPES: tuple[Scope, ...] = ("project", "user")
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
        parser.add_argument("--agent", choices=AGENTS, help="the agent runtime to wire")
        parser.add_argument(
            "--git-hooks",
            action="store_true",
            help="also (or only) wire git's pre-push hook in the repository at --project-dir: force pushes, "
            "protected branches and ref deletions are decided before they leave this machine",
        )
        parser.add_argument(
            "--scope",
            choices=SCOPES,
            default=None,
            help="project: the project's settings (the default where the runtime has them); user: your home "
            "directory's (e.g. ~/.claude/settings.json)",
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


def target_path(scope: Scope | None, project_dir: Path | None, wiring: RuntimeWiring | None = None) -> Path:
    """The settings file for ``scope`` (the runtime's default when None); checks that
    ``project_dir`` is a directory and that the runtime has the scope."""
    chosen = wiring if wiring is not None else wiring_for("claude-code")
    scope = scope if scope is not None else chosen.scopes[0]
    if scope not in chosen.scopes:
        raise UsageError(
            f"{chosen.title} has no {scope} hook settings; use --scope {' or --scope '.join(chosen.scopes)}"
        )
    directory = project_dir if project_dir is not None else Path.cwd()
    if scope == "project" and not directory.is_dir():
        raise UsageError(f"--project-dir {directory} is not a directory; pass the root directory of the project")
    return chosen.settings_path(scope, directory.absolute())


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
    elif plan.after is None:
        console.print(f"  deleted {escape(str(plan.path))}", soft_wrap=True)
    else:
        console.print(f"  created {escape(str(plan.path))}", soft_wrap=True)
    return EXIT_OK


def _run(args: argparse.Namespace, action: str) -> int:
    console = Console()
    errors = Console(stderr=True)
    if args.agent is None and not args.git_hooks:
        errors.print(
            f"[red]error:[/] say what to wire: --agent {{{','.join(AGENTS)}}} and/or --git-hooks "
            f"(e.g. `ringfence {action} --agent claude-code`)",
            soft_wrap=True,
        )
        return EXIT_ERROR
    code = EXIT_OK
    if args.agent is not None:
        code = _run_agent(args, action, console, errors)
    if args.git_hooks and code == EXIT_OK:
        from ringfence.wiring.git_hooks import init_git_hooks

        repo = args.project_dir if args.project_dir is not None else Path.cwd()
        code = init_git_hooks(repo.absolute(), dry_run=args.dry_run, uninstall=action == "uninstall", console=console)
    return code


def _run_agent(args: argparse.Namespace, action: str, console: Console, errors: Console) -> int:
    wiring = wiring_for(args.agent)
    try:
        path = target_path(args.scope, args.project_dir, wiring)
        plan = (
            wiring.plan_install(path, hook_command(wiring.runtime)) if action == "init" else wiring.plan_uninstall(path)
        )
        code = carry_out(plan, dry_run=args.dry_run, console=console, action=action)
    except (UsageError, SettingsFileError) as exc:
        errors.print(f"[red]error:[/] {escape(str(exc))}", soft_wrap=True)
        return EXIT_ERROR
    if plan.changed and not args.dry_run:
        if action == "init":
            console.print(
                f"Next: run [bold]ringfence doctor --agent {wiring.runtime}[/] to check the hook end to end. "
                f"{escape(wiring.restart)}"
            )
        else:
            console.print(f"ringfence no longer gates {escape(wiring.title)} here. {escape(wiring.restart)}")
    return code


def run_init(args: argparse.Namespace) -> int:
    """``ringfence init``: add (or update) the hook in the chosen settings file."""
    return _run(args, "init")


def run_uninstall(args: argparse.Namespace) -> int:
    """``ringfence uninstall``: remove ringfence's hooks from the chosen settings file."""
    return _run(args, "uninstall")
