"""``ringfence doctor``: check end to end that Claude Code really goes through ringfence.

It reads the settings files Claude Code reads, finds ringfence's ``PreToolUse`` hook,
works out which tools its matcher covers, and then runs the configured command exactly
as Claude Code would (``/bin/sh -c``, the event JSON on stdin, ``CLAUDE_PROJECT_DIR``
set, a timeout) with a known-dangerous payload (``rm -rf /``, must be denied) and a
known-safe one (``git status``, must be allowed). Each answer must be exit 0 and nothing
on stdout but ``{"hookSpecificOutput": {"hookEventName": "PreToolUse",
"permissionDecision": ...}}``. Nothing is executed but the hook: the payloads are text.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shlex
import shutil
import signal
import subprocess
import tempfile
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from ringfence.wiring.claude_code import (
    EVENT,
    MATCHER,
    PROTECTED_TOOLS,
    SCOPES,
    HookEntry,
    Scope,
    local_settings_path,
    read_hooks,
    settings_path,
)
from ringfence.wiring.jsonfile import SettingsFileError

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_ERROR = 3
DEFAULT_TIMEOUT = 15.0

DANGEROUS_COMMAND = "rm -rf /"
SAFE_COMMAND = "git status"


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
    """The doctor's findings: every check, and the tools the wired hook covers."""

    checks: tuple[Check, ...]
    protected: tuple[str, ...]

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


@dataclass(frozen=True)
class HookRun:
    """What one call of the hook command did."""

    exit_code: int | None  # None: killed at the timeout
    stdout: str
    stderr: str
    ms: float


@dataclass(frozen=True)
class FoundHook:
    path: Path
    entry: HookEntry


def init_hint(scope: Scope | None) -> str:
    flag = " --scope user" if scope == "user" else ""
    return f"run `ringfence init --agent claude-code{flag}`"


def candidate_files(scopes: Sequence[Scope], project_dir: Path, home: Path | None = None) -> list[Path]:
    """The settings files Claude Code reads for ``scopes``, most specific first."""
    files: list[Path] = []
    if "project" in scopes:
        files += [local_settings_path(project_dir), settings_path("project", project_dir)]
    if "user" in scopes:
        files.append(settings_path("user", home=home))
    return files


def hook_payload(tool_name: str, tool_input: Mapping[str, Any], cwd: Path, tag: str) -> dict[str, Any]:
    """A ``PreToolUse`` event shaped exactly like the one Claude Code sends on stdin."""
    session = f"ringfence-doctor-{uuid.uuid4()}"
    return {
        "session_id": session,
        "transcript_path": str(Path(tempfile.gettempdir()) / "ringfence-doctor" / f"{session}.jsonl"),
        "cwd": str(cwd),
        "permission_mode": "default",
        "hook_event_name": EVENT,
        "tool_name": tool_name,
        "tool_input": dict(tool_input),
        "tool_use_id": f"toolu_ringfence_doctor_{tag}",
    }


def _expand(command: str, project_dir: Path) -> str:
    value = str(project_dir)
    return command.replace("${CLAUDE_PROJECT_DIR}", value).replace("$CLAUDE_PROJECT_DIR", value)


def resolve_program(command: str, project_dir: Path) -> tuple[str, Path | None]:
    """The program a hook command starts (its first word) and the executable it resolves
    to (``None``: missing or not executable)."""
    try:
        words = shlex.split(_expand(command, project_dir))
    except ValueError:
        return command, None
    if not words:
        return command, None
    program = os.path.expanduser(words[0])
    if "/" in program:
        path = Path(program)
        if not path.is_absolute():
            path = project_dir / path
        return program, path if path.is_file() and os.access(path, os.X_OK) else None
    found = shutil.which(program)
    return program, Path(found) if found else None


def run_hook(
    command: str,
    payload: Mapping[str, Any],
    project_dir: Path,
    timeout: float = DEFAULT_TIMEOUT,
    env: Mapping[str, str] | None = None,
) -> HookRun:
    """Run a hook ``command`` as Claude Code does (``/bin/sh -c``, cwd and
    ``CLAUDE_PROJECT_DIR`` = ``project_dir``, ``payload`` as JSON on stdin); the whole
    process group is killed at ``timeout`` seconds."""
    environment = dict(os.environ if env is None else env)
    environment["CLAUDE_PROJECT_DIR"] = str(project_dir)
    data = json.dumps(payload).encode()
    start = time.perf_counter()
    try:
        proc = subprocess.Popen(
            ["/bin/sh", "-c", command],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=project_dir,
            env=environment,
            start_new_session=True,
        )
    except OSError as exc:
        return HookRun(None, "", f"cannot start /bin/sh: {exc}", (time.perf_counter() - start) * 1000)
    try:
        out, err = proc.communicate(data, timeout=timeout)
        code: int | None = proc.returncode
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        code = None
    ms = (time.perf_counter() - start) * 1000
    return HookRun(code, out.decode("utf-8", "replace"), err.decode("utf-8", "replace"), ms)


def _first_line(text: str, limit: int = 160) -> str:
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line if len(line) <= limit else line[: limit - 1] + "…"


def read_decision(run: HookRun, timeout: float) -> tuple[str | None, str]:
    """The ``permissionDecision`` of a hook run and a description of the answer, or
    ``(None, what is wrong)`` when the run does not follow the hook contract."""
    if run.exit_code is None:
        return None, f"no answer within {timeout:g} s (killed)"
    if run.exit_code != 0:
        stderr = _first_line(run.stderr)
        meaning = (
            "Claude Code blocks on exit 2, but ringfence must answer with JSON on exit 0"
            if run.exit_code == 2
            else "Claude Code treats this as a hook error and lets the tool run"
        )
        return None, f"exit {run.exit_code} ({meaning})" + (f": {stderr}" if stderr else "")
    if not run.stdout.strip():
        return None, "exit 0 with empty stdout (Claude Code treats that as no decision)"
    try:
        answer = json.loads(run.stdout)
    except ValueError:
        return None, f"stdout is not a single JSON document: {_first_line(run.stdout)!r}"
    output = answer.get("hookSpecificOutput") if isinstance(answer, dict) else None
    if not isinstance(output, dict):
        return None, f"stdout has no hookSpecificOutput object: {_first_line(run.stdout)!r}"
    if output.get("hookEventName") != EVENT:
        return None, f"hookSpecificOutput.hookEventName is {output.get('hookEventName')!r}, not {EVENT!r}"
    decision = output.get("permissionDecision")
    if decision not in ("allow", "deny", "ask"):
        return None, f"hookSpecificOutput.permissionDecision is {decision!r}, not allow, deny or ask"
    reason = output.get("permissionDecisionReason")
    text = str(decision)
    if isinstance(reason, str) and reason.strip():
        text += f": {_first_line(reason)}"
    return str(decision), text


def _probe(
    name: str,
    command: str,
    shell_command: str,
    expected: str,
    project_dir: Path,
    timeout: float,
    tag: str,
) -> Check:
    payload = hook_payload(
        "Bash", {"command": shell_command, "description": f"ringfence doctor probe ({tag})"}, project_dir, tag
    )
    run = run_hook(command, payload, project_dir, timeout)
    decision, detail = read_decision(run, timeout)
    detail = f"Bash `{shell_command}` → {detail}"
    if decision == expected:
        return Check(name, True, detail, ms=run.ms)
    if decision is None:
        fix = (
            f"`{command}` must exit 0 and print only the decision JSON on stdout: reinstall ringfence "
            f"if it crashes, remove anything that prints to stdout around it, then {init_hint(None)}"
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
) -> Report:
    """Run every check for the settings files of ``scopes`` and return the report."""
    only: Scope | None = scopes[0] if len(scopes) == 1 else None
    checks: list[Check] = remote_checks(os.environ)

    # 1. settings files
    found: list[FoundHook] = []
    existing: list[Path] = []
    broken: list[str] = []
    for path in candidate_files(scopes, project_dir, home):
        if not path.exists():
            continue
        existing.append(path)
        try:
            found += [FoundHook(path, entry) for entry in read_hooks(path)]
        except SettingsFileError as exc:
            broken.append(str(exc))
    if broken:
        checks.append(
            Check(
                "settings file",
                False,
                "; ".join(broken),
                fix="fix the file as the message says, then run again",
            )
        )
    elif not existing:
        looked = ", ".join(str(p) for p in candidate_files(scopes, project_dir, home))
        checks.append(Check("settings file", False, f"none found (looked at {looked})", fix=init_hint(only)))
    else:
        checks.append(Check("settings file", True, ", ".join(str(p) for p in existing)))

    # 2. wiring and coverage
    if found:
        wired = "; ".join(f"{f.path}: matcher {f.entry.matcher!r} → {f.entry.command}" for f in found)
        checks.append(Check("hook wired", True, wired))
        covered = {tool: any(f.entry.covers[tool] for f in found) for tool in PROTECTED_TOOLS}
        summary = "  ".join(f"{tool} {'✓' if ok else '✗'}" for tool, ok in covered.items())
        missing = [tool for tool, ok in covered.items() if not ok]
        checks.append(
            Check(
                "tools covered",
                not missing,
                summary,
                fix=None
                if not missing
                else f"{', '.join(missing)} not gated; {init_hint(only)} to set the matcher to {MATCHER!r}",
            )
        )
    else:
        checks.append(
            Check("hook wired", False, f"no ringfence {EVENT} hook in the settings files", fix=init_hint(only))
        )
        checks.append(Check("tools covered", False, "nothing is gated", fix=init_hint(only)))
        checks.append(Check("dangerous denied", False, "not run: no hook wired", fix=init_hint(only)))
        checks.append(Check("safe allowed", False, "not run: no hook wired", fix=init_hint(only)))
        return Report(tuple(checks), ())

    # 3. each distinct command, end to end
    commands = list(dict.fromkeys(f.entry.command for f in found))
    for command in commands:
        label = "" if len(commands) == 1 else f" [{command}]"
        program, resolved = resolve_program(command, project_dir)
        if resolved is not None:
            checks.append(Check(f"command executable{label}", True, str(resolved)))
        else:
            checks.append(
                Check(
                    f"command executable{label}",
                    False,
                    f"{program} does not exist or is not executable",
                    fix=f"reinstall ringfence, then {init_hint(only)} to point the hook at it",
                )
            )
        checks.append(
            _probe(f"dangerous denied{label}", command, DANGEROUS_COMMAND, "deny", project_dir, timeout, "danger")
        )
        checks.append(_probe(f"safe allowed{label}", command, SAFE_COMMAND, "allow", project_dir, timeout, "safe"))
    return Report(tuple(checks), tuple(tool for tool, ok in covered.items() if ok))


def render(report: Report, console: Console) -> None:
    """Print the report table, then what to do about each failure."""
    checks = report.checks
    protected = ", ".join(report.protected)
    table = Table(title="ringfence doctor — Claude Code", title_justify="left")
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
        console.print(
            f"[green]All checks passed.[/] Claude Code's {escape(protected)} calls go through ringfence."
            if protected
            else "[green]All checks passed.[/]"
        )
        return
    console.print(f"[red]{len(failures)} check(s) failed.[/] What to do next:")
    for fix in dict.fromkeys(c.fix for c in failures if c.fix):
        console.print(f"  • {escape(str(fix))}", soft_wrap=True)


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``doctor``."""
    summary = "check end to end that the agent's hook reaches ringfence and that it decides"
    parser = sub.add_parser("doctor", help=summary, description=summary)
    parser.add_argument(
        "--scope",
        choices=SCOPES,
        default=None,
        help="check only the project or only the user settings (default: both, as Claude Code merges them)",
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
    report = diagnose(scopes, project_dir, timeout=args.timeout)
    render(report, console)
    return EXIT_OK if report.ok else EXIT_FAILED
