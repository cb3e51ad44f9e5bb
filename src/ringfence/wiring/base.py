"""What ``init``, ``uninstall`` and ``doctor`` need from each runtime's wiring.

A :class:`RuntimeWiring` knows where a runtime reads its hooks, how to add and remove
ringfence's hook there without disturbing anything else (as a :class:`~ringfence.wiring.jsonfile.Plan`),
how to find the hooks already wired and which tools they cover, and how to talk to the
hook as the runtime does: the probe payload the doctor sends and how to read the answer.
The commands are generic over this protocol; :data:`WIRINGS` lists the runtimes.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import shlex
import shutil
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Protocol

from ringfence.wiring.jsonfile import Plan

Scope = Literal["project", "user"]

#: runtime → the module under ``ringfence.wiring`` that defines its ``WIRING``.
WIRINGS = {
    "claude-code": "claude_code",
    "cursor": "cursor",
    "opencode": "opencode",
    "gemini": "gemini",
    "copilot": "copilot",
    "codex": "codex",
}


@dataclass(frozen=True)
class Found:
    """One ringfence hook wired in a runtime's settings file."""

    path: Path
    command: str
    where: str  # e.g. "PreToolUse matcher 'Bash|…'": shown by the doctor
    covers: Mapping[str, bool] = field(default_factory=dict)  # protected tool → selected by this hook


@dataclass(frozen=True)
class Probe:
    """A payload shaped exactly as the runtime sends it, and the environment it sets."""

    data: bytes
    env: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class HookRun:
    """What one call of the hook command did."""

    exit_code: int | None  # None: killed at the timeout
    stdout: str
    stderr: str
    ms: float


class RuntimeWiring(Protocol):
    """One runtime's hook configuration."""

    runtime: str
    title: str  # "Claude Code"
    scopes: tuple[Scope, ...]  # where `init --scope` can write, the default first
    protected: tuple[str, ...]  # the tools the doctor requires to be covered
    restart: str  # what to do after the configuration changed

    def settings_path(self, scope: Scope, project_dir: Path, home: Path | None = None) -> Path:
        """The file ``init --scope`` writes."""
        ...

    def read_paths(self, scopes: Sequence[Scope], project_dir: Path, home: Path | None = None) -> list[Path]:
        """Every file the runtime reads hooks from for ``scopes``, most specific first."""
        ...

    def plan_install(self, path: Path, command: str) -> Plan:
        """Add (or update in place) ringfence's hook running ``command``."""
        ...

    def plan_uninstall(self, path: Path) -> Plan:
        """Remove ringfence's hooks, and only them."""
        ...

    def find(self, path: Path) -> list[Found]:
        """ringfence's hooks in ``path`` (none if it does not exist). Raises
        :class:`~ringfence.wiring.jsonfile.SettingsFileError` when the file is broken."""
        ...

    def probe(self, shell_command: str, project_dir: Path, tag: str) -> Probe:
        """A pre-action payload for running ``shell_command`` in ``project_dir``."""
        ...

    def read_answer(self, stdout: str) -> tuple[str | None, str]:
        """``("allow" | "deny" | "ask", description)`` of what a hook that exited 0
        printed, or ``(None, what is wrong)`` when it is not an answer the runtime acts on."""
        ...


def wiring_for(runtime: str) -> RuntimeWiring:
    """The wiring of ``runtime`` (KeyError for an unknown one)."""
    module = importlib.import_module(f"ringfence.wiring.{WIRINGS[runtime]}")
    found: RuntimeWiring = module.WIRING
    return found


def scope_dir(scope: Scope, project_dir: Path | None = None, home: Path | None = None) -> Path:
    """Where ``scope``'s configuration lives: the home directory (default: the user's)
    for ``user``, else the project directory (default: the current one)."""
    if scope == "user":
        return home if home is not None else Path.home()
    return project_dir if project_dir is not None else Path.cwd()


def init_hint(runtime: str, scope: Scope | None = None, default_scope: Scope = "project") -> str:
    flag = f" --scope {scope}" if scope is not None and scope != default_scope else ""
    return f"run `ringfence init --agent {runtime}{flag}`"


# --- running a hook command as a runtime does ------------------------------------------------


def resolve_program(
    command: str, project_dir: Path, expand: Mapping[str, str] | None = None
) -> tuple[str, Path | None]:
    """The program a hook command starts (its first word) and the executable it resolves
    to (``None``: missing or not executable). ``expand`` maps variables the runtime sets
    (``$CLAUDE_PROJECT_DIR``) to their values."""
    for name, value in (expand or {}).items():
        command = command.replace("${" + name + "}", value).replace("$" + name, value)
    try:
        words = shlex.split(command)
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


def run_command(
    command: str,
    data: bytes,
    project_dir: Path,
    timeout: float,
    env: Mapping[str, str] | None = None,
    extra_env: Mapping[str, str] | None = None,
) -> HookRun:
    """Run a hook ``command`` as runtimes do (``/bin/sh -c``, cwd ``project_dir``,
    ``data`` on stdin); the whole process group is killed at ``timeout`` seconds."""
    environment = dict(os.environ if env is None else env)
    environment.update(extra_env or {})
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


def first_line(text: str, limit: int = 160) -> str:
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line if len(line) <= limit else line[: limit - 1] + "…"


def run_problem(run: HookRun, timeout: float, title: str) -> str | None:
    """What is wrong with a run before its stdout is read: killed, or a non-zero exit
    (ringfence always answers in JSON on exit 0). None when it exited 0."""
    if run.exit_code is None:
        return f"no answer within {timeout:g} s (killed)"
    if run.exit_code != 0:
        stderr = first_line(run.stderr)
        meaning = (
            f"{title} blocks on exit 2, but ringfence must answer with JSON on exit 0"
            if run.exit_code == 2
            else f"{title} treats this as a hook error and lets the tool run"
        )
        return f"exit {run.exit_code} ({meaning})" + (f": {stderr}" if stderr else "")
    return None
