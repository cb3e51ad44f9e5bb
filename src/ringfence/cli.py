"""The ``ringfence`` command.

``ringfence hook <runtime>`` runs before every tool call of every agent, so it is
dispatched before anything else is imported: no argparse, no rich, no gate unless the
warm daemon cannot answer. Every other subcommand is an ordinary argparse CLI whose
subcommands live in :mod:`ringfence.commands`.
"""

from __future__ import annotations

import sys

EXIT_USAGE = 3
# The same names as ringfence.adapters.contracts.RUNTIMES (a test keeps them equal);
# spelled out here so the hook's path imports nothing to find them.
HOOK_RUNTIMES = ("claude-code", "codex", "gemini", "cursor", "copilot", "opencode")


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) == 2 and args[0] == "hook" and args[1] in HOOK_RUNTIMES:
        from ringfence.daemon.client import run_hook

        return run_hook(args[1])
    if args[:1] == ["git-hook"] and len(args) > 1 and args[1] in ("pre-push", "pre-receive"):
        from ringfence.adapters.git_hooks import main as git_hook  # every push: skip argparse and rich

        return git_hook(args[1:])
    return _full_cli(args)


def _full_cli(args: list[str]) -> int:
    import argparse

    from ringfence import __version__
    from ringfence.commands import COMMAND_MODULES

    parser = argparse.ArgumentParser(
        prog="ringfence",
        description="The deterministic pre-action gate for autonomous agents.",
        epilog="Start with `ringfence init --agent claude-code`, then `ringfence doctor`.",
    )
    parser.add_argument("--version", action="version", version=f"ringfence {__version__}")
    sub = parser.add_subparsers(title="commands", metavar="COMMAND")
    import importlib

    for name in COMMAND_MODULES:
        module = importlib.import_module(f"ringfence.commands.{name}")
        module.add_parser(sub)
    try:
        ns = parser.parse_args(args)
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else EXIT_USAGE
        return 0 if code == 0 else EXIT_USAGE
    run = getattr(ns, "run", None)
    if run is None:
        parser.print_help()
        return EXIT_USAGE
    from ringfence.errors import RingfenceError

    try:
        result: int = run(ns)
    except KeyboardInterrupt:
        return 130
    except RingfenceError as exc:  # expected failures: say what is wrong, no traceback
        sys.stderr.write(f"error: {exc}\n")
        return EXIT_USAGE
    return result
