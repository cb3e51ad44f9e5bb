"""``ringfence doctor``: check end to end that an agent runtime really goes through ringfence.

For each runtime it reads the settings files the runtime reads, finds ringfence's hook,
works out which tools it covers, and then runs the configured command exactly as the
runtime would (``/bin/sh -c``, the runtime's event JSON on stdin, its environment, a
timeout) with a known-dangerous payload (``rm -rf /``, must be denied) and a known-safe
one (``git status``, must be allowed). Each answer must be exit 0 and nothing on stdout
but the runtime's decision JSON. Nothing is executed but the hook: the payloads are text.
Without ``--agent`` it checks every runtime that has a settings file here (Claude Code
when none has).
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from ringfence.wiring.base import (
    WIRINGS,
    Found,
    HookRun,
    RuntimeWiring,
    Scope,
    init_hint,
    resolve_program,
    run_command,
    run_problem,
    wiring_for,
)
from ringfence.wiring.jsonfile import SettingsFileError

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_ERROR = 3
DEFAULT_TIMEOUT = 15.0

DANGEROUS_COMMAND = "rm -rf /"
SAFE_COMMAND = "git status"
SCOPES: tuple[Scope, ...] = ("project", "user")


@dataclass(frozen=True)
class Check:
    """One line of the doctor's report."""

    name: str
    ok: bool
    detail: str
    fix: str | None = None
    ms: float | None = None


@dataclass(frozen=True)
class Report:
    """The doctor's findings for one runtime: every check, and the tools the wired hook covers."""

    checks: tuple[Check, ...]
    protected: tuple[str, ...]
    title: str = "Claude Code"
    passed: str = ""  # what "all checks passed" means, when the tool list does not say it

    @property
    def ok(self) -> bool:
        return all(check.ok for check in self.checks)

    @property
    def failures(self) -> tuple[Check, ...]:
        return tuple(check for check in self.checks if not check.ok)

    def check(self, name: str) -> Check:
        """The first check called ``name`` (KeyError if none)."""
        for check in self.checks:
            if check.name == name:
                return check
        raise KeyError(name)


def run_hook(
    command: str,
    payload: Mapping[str, Any],
    project_dir: Path,
    timeout: float = DEFAULT_TIMEOUT,
    env: Mapping[str, str] | None = None,
) -> HookRun:
    """Run a hook ``command`` as Claude Code does (``/bin/sh -c``, cwd and
    ``CLAUDE_PROJECT_DIR`` = ``project_dir``, ``payload`` as JSON on stdin)."""
    data = json.dumps(payload).encode()
    return run_command(command, data, project_dir, timeout, env, {"CLAUDE_PROJECT_DIR": str(project_dir)})


def _probe(
    wiring: RuntimeWiring,
    name: str,
    command: str,
    shell_command: str,
    expected: str,
    project_dir: Path,
    timeout: float,
    tag: str,
) -> Check:
    probe = wiring.probe(shell_command, project_dir, tag)
    run = run_command(command, probe.data, project_dir, timeout, None, probe.env)
    problem = run_problem(run, timeout, wiring.title)
    decision, detail = (None, problem) if problem is not None else wiring.read_answer(run.stdout)
    detail = f"shell `{shell_command}` → {detail}"
    if decision == expected:
        return Check(name, True, detail, ms=run.ms)
    if decision is None:
        fix = (
            f"`{command}` must exit 0 and print only the decision JSON on stdout: reinstall ringfence "
            f"if it crashes, remove anything that prints to stdout around it, then {init_hint(wiring.runtime)}"
        )
    elif expected == "deny":
        fix = (
            f"the policy answered {decision} for `{shell_command}`: check your ringfence configuration "
            f"and packs (`ringfence explain -- {shell_command}` shows why)"
        )
    else:
        fix = (
            f"the policy answered {decision} for `{shell_command}`: run "
            f"`ringfence explain -- {shell_command}` to see which rule matched, and adjust the configuration"
        )
    return Check(name, False, detail, fix=fix, ms=run.ms)


def remote_checks(env: Mapping[str, str]) -> list[Check]:
    """With ``RINGFENCE_SERVER``: is the server ready, does it accept the token, and which
    policy would the hook fall back to while it is unreachable (fetched now if it can be)."""
    if not env.get("RINGFENCE_SERVER"):
        return []
    from ringfence.daemon.offline import Refresh, cached_bundle, describe_cached, refresh_now
    from ringfence.daemon.remote import Unreachable, exchange, settings_from_env

    new_token = (
        "ask an operator for a token (`ringfence token issue --agent <id>` on the server) and set RINGFENCE_TOKEN"
    )
    try:
        server, token, timeout = settings_from_env(env)
    except ValueError as exc:
        fix = (
            new_token
            if "RINGFENCE_TOKEN" in str(exc)
            else "set RINGFENCE_SERVER to the server's URL (https://host:port)"
        )
        return [Check("remote server", False, str(exc), fix=fix)]
    checks: list[Check] = []
    start = time.perf_counter()
    try:
        ready = exchange(server, "GET", "/readyz", b"", {}, timeout=timeout)
        reachable = ready.status == 200
        detail = f"{server.url}: " + ("ready" if reachable else f"answered {ready.status} ({ready.error_message()})")
    except Unreachable as exc:
        reachable, detail = False, f"{server.url}: unreachable ({exc})"
    ms = (time.perf_counter() - start) * 1000
    offline = "until it is, the hook decides with the last policy fetched from it and denies whatever needs an approval"
    checks.append(
        Check(
            "remote server",
            reachable,
            detail,
            fix=None if reachable else f"start `ringfence serve` there or correct RINGFENCE_SERVER; {offline}",
            ms=ms,
        )
    )
    if reachable:
        try:
            who = exchange(server, "GET", "/api/v1/whoami", b"", {"Authorization": f"Bearer {token}"}, timeout=timeout)
            doc = json.loads(who.body) if who.status == 200 else {}
            doc = doc if isinstance(doc, dict) else {}
            scopes = [str(x) for x in doc.get("scopes") or []]
            ok = who.status == 200 and "decide" in scopes
            if who.status != 200:
                detail = f"rejected ({who.status}: {who.error_message()})"
            else:
                detail = f"agent {doc.get('name')}, scopes {', '.join(scopes)}"
                if isinstance(doc.get("expires_at"), int | float):
                    detail += f", expires in {max(0, int(doc['expires_at'] - time.time())) // 60} min"
                if not ok:
                    detail += " (the hook needs the decide scope)"
        except (Unreachable, ValueError) as exc:
            ok, detail = False, f"not checked: {exc}"
        checks.append(Check("remote token", ok, detail, fix=None if ok else new_token))
    failed = None
    if reachable:
        try:
            refresh_now(Refresh(server, token, None, timeout))
        except (Unreachable, ValueError, OSError) as exc:
            failed = f"fetching it now failed: {exc}"
    try:
        record = cached_bundle(server)
        problem = "no policy has been fetched from the server yet, so while it is unreachable every action is denied"
    except ValueError as exc:
        record, problem = None, str(exc)
    server_fix = "make the server answer GET /api/v1/policy/bundle for this token, then run `ringfence doctor` again"
    if record is not None:
        detail = describe_cached(record) + (f"; {failed}" if failed else "")
        checks.append(Check("offline policy", failed is None, detail, fix=server_fix if failed else None))
    else:
        detail = problem + (f"; {failed}" if failed else "")
        fix = server_fix if reachable else "run `ringfence doctor` again once the server is reachable"
        checks.append(Check("offline policy", False, detail, fix=fix))
    return checks


def diagnose(
    scopes: Sequence[Scope],
    project_dir: Path,
    *,
    home: Path | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    runtime: str = "claude-code",
    remote: bool = True,
) -> Report:
    """Run every check of ``runtime``'s settings files for ``scopes`` and return the report."""
    wiring = wiring_for(runtime)
    only: Scope | None = scopes[0] if len(scopes) == 1 else None

    def hint() -> str:
        return init_hint(runtime, only, wiring.scopes[0])

    checks: list[Check] = remote_checks(os.environ) if remote else []

    # 1. settings files
    found: list[Found] = []
    existing: list[Path] = []
    broken: list[str] = []
    candidates = wiring.read_paths([s for s in scopes if s in wiring.scopes], project_dir, home)
    for path in candidates:
        if not path.exists():
            continue
        existing.append(path)
        try:
            found += wiring.find(path)
        except SettingsFileError as exc:
            broken.append(str(exc))
    if broken:
        checks.append(
            Check("settings file", False, "; ".join(broken), fix="fix the file as the message says, then run again")
        )
    elif not existing:
        looked = ", ".join(str(p) for p in candidates) or f"nothing: {wiring.title} has no {'/'.join(scopes)} scope"
        checks.append(Check("settings file", False, f"none found (looked at {looked})", fix=hint()))
    else:
        checks.append(Check("settings file", True, ", ".join(str(p) for p in existing)))

    # 2. wiring and coverage
    if not found:
        checks.append(Check("hook wired", False, "no ringfence hook in the settings files", fix=hint()))
        checks.append(Check("tools covered", False, "nothing is gated", fix=hint()))
        checks.append(Check("dangerous denied", False, "not run: no hook wired", fix=hint()))
        checks.append(Check("safe allowed", False, "not run: no hook wired", fix=hint()))
        return Report(tuple(checks), (), wiring.title)
    wired = "; ".join(f"{f.path}: {f.where} → {f.command}" for f in found)
    checks.append(Check("hook wired", True, wired))
    covered = {tool: any(f.covers.get(tool, False) for f in found) for tool in wiring.protected}
    summary = "  ".join(f"{tool} {'✓' if ok else '✗'}" for tool, ok in covered.items())
    missing = [tool for tool, ok in covered.items() if not ok]
    checks.append(
        Check(
            "tools covered",
            not missing,
            summary,
            fix=None if not missing else f"{', '.join(missing)} not gated; {hint()} to cover every tool",
        )
    )

    # 3. each distinct command, end to end
    commands = list(dict.fromkeys(f.command for f in found))
    expand = {"CLAUDE_PROJECT_DIR": str(project_dir)} if runtime == "claude-code" else {}
    for command in commands:
        label = "" if len(commands) == 1 else f" [{command}]"
        program, resolved = resolve_program(command, project_dir, expand)
        if resolved is not None:
            checks.append(Check(f"command executable{label}", True, str(resolved)))
        else:
            checks.append(
                Check(
                    f"command executable{label}",
                    False,
                    f"{program} does not exist or is not executable",
                    fix=f"reinstall ringfence, then {hint()} to point the hook at it",
                )
            )
        checks.append(
            _probe(
                wiring, f"dangerous denied{label}", command, DANGEROUS_COMMAND, "deny", project_dir, timeout, "danger"
            )
        )
        checks.append(
            _probe(wiring, f"safe allowed{label}", command, SAFE_COMMAND, "allow", project_dir, timeout, "safe")
        )
    return Report(tuple(checks), tuple(tool for tool, ok in covered.items() if ok), wiring.title)


def _has_settings(runtime: str, scopes: Sequence[Scope], project_dir: Path) -> bool:
    wiring = wiring_for(runtime)
    return any(p.exists() for p in wiring.read_paths([s for s in scopes if s in wiring.scopes], project_dir))


def wired_runtimes(scopes: Sequence[Scope], project_dir: Path, home: Path | None = None) -> list[str]:
    """The runtimes with a settings file for ``scopes`` here (Claude Code when none has)."""
    present = []
    for runtime in WIRINGS:
        wiring = wiring_for(runtime)
        paths = wiring.read_paths([s for s in scopes if s in wiring.scopes], project_dir, home)
        if any(path.exists() for path in paths):
            present.append(runtime)
    return present or ["claude-code"]


def render(report: Report, console: Console) -> None:
    """Print the report table, then what to do about each failure."""
    checks = report.checks
    protected = ", ".join(report.protected)
    table = Table(title=f"ringfence doctor — {report.title}", title_justify="left")
    table.add_column("check", no_wrap=True)
    table.add_column("result", no_wrap=True)
    table.add_column("detail", overflow="fold")
    table.add_column("ms", justify="right", no_wrap=True)
    for check in checks:
        table.add_row(
            escape(check.name),
            "[green]PASS[/]" if check.ok else "[red]FAIL[/]",
            escape(check.detail),
            "" if check.ms is None else f"{check.ms:.0f}",
        )
    console.print(table)
    failures = [c for c in checks if not c.ok]
    if not failures:
        if report.passed:
            console.print(f"[green]All checks passed:[/] {escape(report.passed)}")
        elif protected:
            console.print(
                f"[green]All checks passed.[/] {escape(report.title)}'s {escape(protected)} calls go through ringfence."
            )
        else:
            console.print("[green]All checks passed.[/]")
        return
    console.print(f"[red]{len(failures)} check(s) failed.[/] What to do next:")
    for fix in dict.fromkeys(c.fix for c in failures if c.fix):
        console.print(f"  • {escape(str(fix))}", soft_wrap=True)


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``doctor``."""
    summary = "check end to end that the agent's hook reaches ringfence and that it decides"
    parser = sub.add_parser("doctor", help=summary, description=summary)
    parser.add_argument(
        "--agent",
        choices=tuple(WIRINGS),
        action="append",
        default=None,
        help="the runtime to check (repeatable; default: every runtime with a settings file here)",
    )
    parser.add_argument(
        "--git-hooks",
        action="store_true",
        help="check git's pre-push hook in the repository at --project-dir (also checked whenever it is installed)",
    )
    parser.add_argument(
        "--scope",
        choices=SCOPES,
        default=None,
        help="check only the project or only the user settings (default: both, as the runtimes merge them)",
    )
    parser.add_argument(
        "--project-dir",
        type=Path,
        default=None,
        metavar="DIR",
        help="the project's root directory (default: the current directory)",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT,
        metavar="SECONDS",
        help=f"how long each hook call may take (default: {DEFAULT_TIMEOUT:g})",
    )
    parser.set_defaults(run=run_doctor)


def run_doctor(args: argparse.Namespace) -> int:
    """``ringfence doctor``: 0 when every check passes, 1 when one fails, 3 on usage errors."""
    console = Console()
    project_dir: Path = args.project_dir if args.project_dir is not None else Path.cwd()
    if not project_dir.is_dir():
        Console(stderr=True).print(
            f"[red]error:[/] --project-dir {escape(str(project_dir))} is not a directory; "
            "pass the root directory of the project",
            soft_wrap=True,
        )
        return EXIT_ERROR
    if args.timeout <= 0:
        Console(stderr=True).print("[red]error:[/] --timeout must be a positive number of seconds")
        return EXIT_ERROR
    project_dir = project_dir.absolute()
    scopes: tuple[Scope, ...] = SCOPES if args.scope is None else (args.scope,)
    git_hooks = args.git_hooks or (not args.agent and git_hook_installed(project_dir))
    runtimes: list[str] = args.agent or ([] if args.git_hooks else wired_runtimes(scopes, project_dir))
    if not args.agent and git_hooks and not any(_has_settings(r, scopes, project_dir) for r in runtimes):
        runtimes = []  # only the git hook is wired here
    ok = True
    for i, runtime in enumerate(dict.fromkeys(runtimes)):
        report = diagnose(scopes, project_dir, timeout=args.timeout, runtime=runtime, remote=i == 0)
        render(report, console)
        ok = ok and report.ok
    if git_hooks:
        report = diagnose_git_hooks(project_dir)
        render(report, console)
        ok = ok and report.ok
    return EXIT_OK if ok else EXIT_FAILED


def git_hook_installed(project_dir: Path) -> bool:
    """Whether ``project_dir`` is a git work tree whose pre-push hook is ringfence's."""
    if not (project_dir / ".git").exists():
        return False
    from ringfence.wiring.git_hooks import HOOK, GitHookError, hooks_dir, is_ours

    try:
        return is_ours(hooks_dir(project_dir) / HOOK)
    except GitHookError:
        return False


def diagnose_git_hooks(project_dir: Path) -> Report:
    """The pre-push hook's checks (:func:`ringfence.wiring.git_hooks.doctor_checks`) as a report."""
    from ringfence.wiring.git_hooks import doctor_checks

    fix = f"do what the detail says, or run `ringfence init --git-hooks --project-dir {project_dir}`"
    checks = tuple(Check(name, ok, detail, fix=None if ok else fix) for name, ok, detail in doctor_checks(project_dir))
    return Report(checks, (), "git pre-push", "pushes from this repository go through ringfence.")
