"""``ringfence check``: what would the gate answer?

Exit codes: 0 allow, 1 require_approval, 2 deny, 3 usage or internal error.
With ``--batch FILE`` (``-`` for stdin) it reads JSON Lines of actions and writes one
JSON decision per line, in the same order; its exit code is that of the strongest
decision (3 if any line was invalid).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ringfence.errors import PayloadError
from ringfence.model import Action, ActionKind, Decision, Outcome, Principal, PrincipalType

if TYPE_CHECKING:
    from ringfence.gate import Gate

EXIT = {Outcome.ALLOW: 0, Outcome.REQUIRE_APPROVAL: 1, Outcome.DENY: 2}
EXIT_USAGE = 3
TOOLS = ("Bash", "Write", "Edit", "MultiEdit", "NotebookEdit", "Read", "Grep", "Glob")


def add_action_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--tool", help="a tool call instead of a shell command: Write, Edit, Read, mcp__server__tool")
    p.add_argument("--path", help="the file the tool writes or reads")
    p.add_argument("--content-file", type=Path, help="file whose content the Write/Edit would write")
    p.add_argument("--input", dest="tool_input", help="MCP tool arguments as a JSON object")
    p.add_argument("--cwd", default=None, help="directory the action runs in (default: here)")
    p.add_argument(
        "--env",
        dest="environment",
        choices=("development", "staging", "production"),
        help="environment the action targets, when nothing in it says",
    )
    p.add_argument("command", nargs=argparse.REMAINDER, help="-- followed by the shell command")


def add_parser(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "check",
        help="print the decision for a command or tool call (exit 0 allow, 1 approval, 2 deny)",
        description="Print the decision the gate would make. Nothing is executed and nothing is recorded.",
    )
    add_action_arguments(p)
    p.add_argument("--json", action="store_true", help="machine-readable decision")
    p.add_argument("--batch", metavar="FILE", help="JSON Lines of actions in, JSON Lines of decisions out")
    p.set_defaults(run=run)


class UsageError(Exception):
    pass


def action_from_args(ns: argparse.Namespace) -> Action:
    cwd = os.path.abspath(ns.cwd or os.getcwd())
    words = list(ns.command)
    if words and words[0] == "--":
        words = words[1:]
    if ns.tool is None or ns.tool == "Bash":
        if not words:
            raise UsageError("give a command after --, e.g. `ringfence check -- git push --force`, or a --tool")
        command = words[0] if len(words) == 1 else " ".join(words)
        return Action(ActionKind.SHELL, {"command": command}, cwd=cwd, tool="Bash", environment=ns.environment)
    if words:
        raise UsageError(f"--tool {ns.tool} takes no command words (got {' '.join(words)!r})")
    from ringfence.adapters.claude_code import action_for

    tool_input: dict[str, Any] = {}
    if ns.tool.startswith("mcp__"):
        if ns.tool_input is None:
            raise UsageError(f"--tool {ns.tool} needs --input with the tool's arguments as a JSON object")
        try:
            parsed = json.loads(ns.tool_input)
        except json.JSONDecodeError as exc:
            raise UsageError(f"--input is not valid JSON: {exc.msg} at column {exc.colno}") from None
        if not isinstance(parsed, dict):
            raise UsageError("--input must be a JSON object")
        tool_input = parsed
    else:
        if ns.tool not in TOOLS:
            raise UsageError(f"unknown --tool {ns.tool!r}; use one of {', '.join(TOOLS)} or mcp__<server>__<tool>")
        if not ns.path and ns.tool not in ("Grep", "Glob"):
            raise UsageError(f"--tool {ns.tool} needs --path")
        key = "notebook_path" if ns.tool == "NotebookEdit" else ("path" if ns.tool in ("Grep", "Glob") else "file_path")
        tool_input[key] = os.path.join(cwd, ns.path) if ns.path and not ns.path.startswith("/") else ns.path
        if ns.content_file is not None:
            try:
                content = ns.content_file.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                raise UsageError(f"cannot read --content-file {ns.content_file}: {exc}") from None
            field = {"Write": "content", "Edit": "new_string", "NotebookEdit": "new_source"}.get(ns.tool, "content")
            tool_input[field] = content
            if ns.tool == "MultiEdit":
                tool_input = {
                    "file_path": tool_input["file_path"],
                    "edits": [{"old_string": "", "new_string": content}],
                }
        elif ns.tool == "MultiEdit":
            tool_input["edits"] = []
    try:
        action = action_for(ns.tool, tool_input, cwd)
    except PayloadError as exc:
        raise UsageError(str(exc)) from None
    if ns.environment:
        action = Action(action.kind, action.payload, action.cwd, action.tool, action.repo, ns.environment)
    return action


def cli_principal() -> Principal:
    return Principal(
        PrincipalType.AGENT,
        os.environ.get("RINGFENCE_AGENT_ID") or "cli-check",
        runtime="cli",
        owner=os.environ.get("USER"),
    )


def run(ns: argparse.Namespace) -> int:
    from rich.console import Console

    err = Console(stderr=True)
    if ns.batch:
        return run_batch(ns.batch, ns.cwd)
    try:
        action = action_from_args(ns)
    except UsageError as exc:
        err.print(f"[bold red]error:[/] {exc}")
        return EXIT_USAGE
    try:
        gate = policy_gate(action.cwd, err)
    except Exception as exc:
        err.print(f"[bold red]error:[/] {exc}\nThe hook denies every action until this is fixed.")
        return EXIT_USAGE
    decision = gate.evaluate(action, cli_principal())
    if ns.json:
        sys.stdout.write(json.dumps(decision.to_dict(), ensure_ascii=False) + "\n")
    else:
        print_decision(decision, Console())
    if decision.error is not None:
        return EXIT_USAGE
    return EXIT[decision.outcome]


def policy_gate(cwd: str, err: Any) -> Gate:
    """The gate to evaluate with: the local configuration's, or with ``RINGFENCE_SERVER``
    the server's policy (fetched now, else the copy cached for the hook's fallback)."""
    from ringfence.gate import Gate

    if not os.environ.get("RINGFENCE_SERVER"):
        return Gate.for_cwd(cwd, record=False)
    from rich.markup import escape

    from ringfence.daemon.offline import check_gate

    gate, note = check_gate(cwd)
    err.print(f"[dim]remote mode: {escape(note)}; approvals, halts and budgets are not applied here[/]")
    return gate


STYLE = {Outcome.ALLOW: "bold green", Outcome.REQUIRE_APPROVAL: "bold yellow", Outcome.DENY: "bold red"}
LABEL = {Outcome.ALLOW: "ALLOW", Outcome.REQUIRE_APPROVAL: "APPROVAL REQUIRED", Outcome.DENY: "DENY"}


def print_decision(decision: Decision, console: Any) -> None:
    from rich.text import Text

    head = Text()
    head.append(f" {LABEL[decision.outcome]} ", style=STYLE[decision.outcome] + " reverse")
    head.append(f"  tier {decision.tier.value}")
    if decision.rule_ids:
        head.append("  " + ", ".join(dict.fromkeys(decision.rule_ids)), style="dim")
    console.print(head)
    console.print(decision.reason, highlight=False, markup=False)


def _batch_lines(path: str) -> Iterator[str]:
    if path == "-":
        yield from sys.stdin
    else:
        with open(path, encoding="utf-8") as fh:
            yield from fh


def batch_action(doc: Any, default_cwd: str) -> Action:
    """One JSONL line → an action. Accepts a command, a tool call, or a Claude Code payload."""
    from ringfence.adapters.claude_code import action_for

    if not isinstance(doc, dict):
        raise PayloadError("each line must be a JSON object")
    cwd = doc.get("cwd") or default_cwd
    if not isinstance(cwd, str) or not cwd.startswith("/"):
        raise PayloadError("cwd must be an absolute path")
    env = doc.get("environment")
    if env is not None and env not in ("development", "staging", "production"):
        raise PayloadError("environment must be development, staging or production")
    if "command" in doc:
        if not isinstance(doc["command"], str):
            raise PayloadError("command must be a string")
        return Action(ActionKind.SHELL, {"command": doc["command"]}, cwd=cwd, tool="Bash", environment=env)
    tool = doc.get("tool_name") or doc.get("tool")
    tool_input = doc.get("tool_input", doc.get("input", {}))
    if not isinstance(tool, str):
        raise PayloadError("a line needs 'command', or 'tool' with 'input' (or a Claude Code payload)")
    if not isinstance(tool_input, dict):
        raise PayloadError("tool input must be a JSON object")
    action = action_for(tool, tool_input, cwd)
    if env:
        action = Action(action.kind, action.payload, action.cwd, action.tool, action.repo, env)
    return action


def run_batch(path: str, cwd_arg: str | None) -> int:
    from rich.console import Console

    err = Console(stderr=True)
    default_cwd = os.path.abspath(cwd_arg or os.getcwd())
    gates: dict[str, Gate] = {}
    principal = cli_principal()
    worst = 0
    out = sys.stdout
    try:
        lines = _batch_lines(path)
        for n, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                action = batch_action(json.loads(line), default_cwd)
            except (json.JSONDecodeError, PayloadError) as exc:
                msg = exc.msg if isinstance(exc, json.JSONDecodeError) else str(exc)
                out.write(json.dumps({"line": n, "decision": "deny", "error": msg}) + "\n")
                worst = EXIT_USAGE
                continue
            gate = gates.get(action.cwd)
            if gate is None:
                gate = gates[action.cwd] = policy_gate(action.cwd, err)
            decision = gate.evaluate(action, principal)
            result = decision.to_dict()
            result["line"] = n
            out.write(json.dumps(result, ensure_ascii=False) + "\n")
            if worst != EXIT_USAGE:
                worst = max(worst, EXIT_USAGE if decision.error else EXIT[decision.outcome])
    except OSError as exc:
        err.print(f"[bold red]error:[/] cannot read {path}: {exc.strerror}")
        return EXIT_USAGE
    except Exception as exc:
        err.print(f"[bold red]error:[/] {exc}")
        return EXIT_USAGE
    return worst
