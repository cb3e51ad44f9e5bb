"""Installing ringfence's ``pre-push`` hook into a git repository (``init --git-hooks``).

The hook goes where git looks for hooks: ``git rev-parse --git-path hooks``, which follows
``core.hooksPath`` and maps a linked worktree to the repository's common hooks directory.
It is a POSIX ``sh`` script carrying the marker :data:`MARKER`, that runs the absolute
path of this ringfence (:func:`ringfence.wiring.command.ringfence_executable`), so it does
not depend on the ``PATH`` a push happens to have. If that program is missing the script
refuses the push (fail closed) and says how to fix it.

A ``pre-push`` hook that is already there and is not ringfence's (git-lfs, a hook
manager, the team's own checks) is kept: it is renamed, byte for byte and with its mode,
to :data:`CHAINED`, and ringfence's hook runs it first with the same arguments and the same
input (git writes the ref lines once, so the script buffers them). ringfence decides last,
so an approval is spent only on a push that no other hook stops. ``uninstall`` removes
ringfence's hook and renames the original back, exactly as it was.

Everything is planned first (:class:`HookPlan`: the steps and a diff) and applied
separately, so ``--dry-run`` is the plan alone; applying re-checks that nothing changed
since the plan and writes through a temporary file and ``os.replace``.
"""

from __future__ import annotations

import difflib
import hashlib
import os
import shlex
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from ringfence.errors import RingfenceError
from ringfence.wiring.command import ringfence_executable

if TYPE_CHECKING:
    from rich.console import Console

HOOK = "pre-push"
CHAINED = "pre-push.ringfence-chained"
MARKER = "# ringfence:git-hook pre-push"
EXIT_OK = 0
EXIT_ERROR = 3
GIT_TIMEOUT = 20.0


class GitHookError(RingfenceError):
    """The repository or its hooks directory cannot be wired safely. Nothing was changed."""


# --- where hooks live ---------------------------------------------------------------------


def _git(repo: Path, *args: str) -> str:
    try:
        proc = subprocess.run(
            ["git", "-C", str(repo), *args],
            capture_output=True,
            text=True,
            timeout=GIT_TIMEOUT,
            check=False,
            stdin=subprocess.DEVNULL,
        )
    except FileNotFoundError:
        raise GitHookError("git is not installed (or not on PATH)") from None
    except subprocess.TimeoutExpired:
        raise GitHookError(f"git {' '.join(args)} did not answer within {GIT_TIMEOUT:.0f} s in {repo}") from None
    if proc.returncode != 0:
        detail = proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else f"exit {proc.returncode}"
        raise GitHookError(f"{repo}: git {' '.join(args)} failed: {detail}")
    return proc.stdout.rstrip("\n")


def hooks_dir(repo: Path) -> Path:
    """The directory git runs ``repo``'s hooks from (``core.hooksPath`` and worktrees included)."""
    if not repo.is_dir():
        raise GitHookError(f"{repo} is not a directory; pass the repository's directory")
    try:
        _git(repo, "rev-parse", "--git-dir")
    except GitHookError:
        raise GitHookError(f"{repo} is not inside a git repository (git rev-parse --git-dir failed)") from None
    return Path(_git(repo, "rev-parse", "--path-format=absolute", "--git-path", "hooks"))


def default_hooks_dir(repo: Path) -> Path:
    """``<common git dir>/hooks``: where hooks live when ``core.hooksPath`` is not set."""
    return Path(_git(repo, "rev-parse", "--path-format=absolute", "--git-common-dir")) / "hooks"


def hooks_path_setting(repo: Path) -> str | None:
    """The effective ``core.hooksPath`` value, or None."""
    try:
        value = _git(repo, "config", "--get", "core.hooksPath")
    except GitHookError:
        return None
    return value or None


# --- the script ------------------------------------------------------------------------------


def hook_script(executable: str | None = None) -> str:
    """The hook's text for ``executable`` (shell words; default: this ringfence)."""
    words = shlex.split(executable or ringfence_executable())
    program = shlex.quote(words[0])
    extra = "".join(" " + shlex.quote(w) for w in words[1:])
    return f"""#!/bin/sh
{MARKER} (managed by ringfence: `ringfence uninstall --git-hooks` removes it)
#
# git runs this before every push. ringfence decides the push with the policy in force:
# force pushes, pushes to protected branches and deletions of remote refs are refused or
# held for approval, with the reason printed here. If ringfence cannot run, the push is
# refused (fail closed). A pre-push hook that was here before is kept as {CHAINED}
# and runs first, with the same arguments and input.
ringfence={program}
if [ ! -x "$ringfence" ]; then
  echo "ringfence: $ringfence is missing or not executable, so this push is refused (fail closed)." >&2
  echo "ringfence: reinstall it and run 'ringfence init --git-hooks', or delete $0 to stop gating pushes." >&2
  exit 1
fi
chained="$(dirname -- "$0")/{CHAINED}"
if [ -x "$chained" ]; then
  # git writes the ref lines once: keep them exactly (the dot keeps trailing newlines)
  input=$(cat; echo .)
  input=${{input%.}}
  printf '%s' "$input" | "$chained" "$@" || exit $?
  printf '%s' "$input" | "$ringfence"{extra} git-hook pre-push "$@"
  exit $?
fi
exec "$ringfence"{extra} git-hook pre-push "$@"
"""


def is_ours(path: Path) -> bool:
    """Whether ``path`` is a regular file (not a symlink) written by :func:`hook_script`."""
    if path.is_symlink() or not path.is_file():
        return False
    try:
        with path.open("rb") as f:
            head = f.read(4096)
    except OSError:
        return False
    return MARKER.encode() in head


def hook_program(path: Path) -> str | None:
    """The ringfence program a hook of ours runs (its ``ringfence=`` line)."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith("ringfence="):
            words = shlex.split(line[len("ringfence=") :])
            return words[0] if words else None
    return None


# --- plans --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    """One filesystem change: write ``content`` to ``path``, rename ``path`` to ``to``,
    or remove ``path``."""

    op: Literal["write", "rename", "remove"]
    path: Path
    to: Path | None = None
    content: str | None = None


@dataclass(frozen=True)
class HookPlan:
    """What ``init``/``uninstall`` will do to one hooks directory."""

    hooks: Path
    steps: tuple[Step, ...]
    changes: tuple[str, ...]
    notes: tuple[str, ...] = ()
    before: str | None = None  # pre-push's text now (None: absent)
    after: str | None = None  # pre-push's text afterwards
    fingerprint: tuple[tuple[str, str], ...] = field(default=(), repr=False)

    @property
    def changed(self) -> bool:
        return bool(self.steps)

    def diff(self) -> str:
        name = str(self.hooks / HOOK)
        before = (self.before or "").splitlines(keepends=True)
        after = (self.after or "").splitlines(keepends=True)
        return "".join(
            difflib.unified_diff(
                before,
                after,
                fromfile=name if self.before is not None else "/dev/null",
                tofile=name if self.after is not None else "/dev/null",
            )
        )


def _read(path: Path) -> str | None:
    if not path.exists() and not path.is_symlink():
        return None
    if path.is_symlink():
        return f"(symbolic link to {os.readlink(path)})\n"
    if not path.is_file():
        raise GitHookError(f"{path} exists but is not a file; move it away and try again")
    data = path.read_bytes()
    return data.decode("utf-8", errors="replace")


def _fingerprint(*paths: Path) -> tuple[tuple[str, str], ...]:
    out = []
    for p in paths:
        if p.is_symlink():
            state = "link:" + os.readlink(p)
        elif p.is_file():
            st = p.stat()
            state = f"file:{st.st_mode:o}:" + hashlib.sha256(p.read_bytes()).hexdigest()
        elif p.exists():
            state = "other"
        else:
            state = "absent"
        out.append((str(p), state))
    return tuple(out)


def plan_install(repo: Path, executable: str | None = None) -> HookPlan:
    """Install (or update) ringfence's pre-push hook in ``repo``."""
    hooks = hooks_dir(repo)
    target, chained = hooks / HOOK, hooks / CHAINED
    fp = _fingerprint(target, chained)
    script = hook_script(executable)
    before = _read(target)
    notes = list(_hooks_path_notes(repo, hooks))
    if before is not None and is_ours(target):
        if before == script and os.access(target, os.X_OK):
            return HookPlan(
                hooks,
                (),
                (f"{target} is already ringfence's hook; nothing to change",),
                tuple(notes),
                before,
                before,
                fp,
            )
        if chained.exists() or chained.is_symlink():
            notes.append(f"the earlier pre-push hook, kept as {chained}, still runs first")
        return HookPlan(
            hooks,
            (Step("write", target, content=script),),
            (f"update ringfence's hook {target}",),
            tuple(notes),
            before,
            script,
            fp,
        )
    if before is None:
        created = (f"create {target}",)
        if chained.exists() or chained.is_symlink():
            notes.append(f"{chained} (kept from an earlier install) will run first")
        return HookPlan(hooks, (Step("write", target, content=script),), created, tuple(notes), None, script, fp)
    if chained.exists() or chained.is_symlink():
        raise GitHookError(
            f"{target} is not ringfence's hook and {chained} already exists, so the existing hook cannot be kept "
            f"aside safely. Move one of them away (or merge them) and run init again."
        )
    if not os.access(target, os.X_OK) and not target.is_symlink():
        notes.append(f"the existing {HOOK} is not executable, so git did not run it; it stays that way")
    steps = (Step("rename", target, to=chained), Step("write", target, content=script))
    changes = (
        f"keep the existing {HOOK} hook as {chained} (byte for byte); ringfence's hook runs it first",
        f"create ringfence's hook {target}",
    )
    return HookPlan(hooks, steps, changes, tuple(notes), before, script, fp)


def plan_uninstall(repo: Path) -> HookPlan:
    """Remove ringfence's pre-push hook from ``repo``, restoring a chained original."""
    hooks = hooks_dir(repo)
    target, chained = hooks / HOOK, hooks / CHAINED
    fp = _fingerprint(target, chained)
    before = _read(target)
    has_chained = chained.exists() or chained.is_symlink()
    if before is not None and is_ours(target):
        if has_chained:
            after = _read(chained)
            return HookPlan(
                hooks,
                (Step("rename", chained, to=target),),
                (f"remove ringfence's hook {target}", f"restore the original {HOOK} hook from {chained}"),
                (),
                before,
                after,
                fp,
            )
        return HookPlan(hooks, (Step("remove", target),), (f"remove ringfence's hook {target}",), (), before, None, fp)
    if before is None and has_chained:
        after = _read(chained)
        return HookPlan(
            hooks,
            (Step("rename", chained, to=target),),
            (f"restore the original {HOOK} hook from {chained} (ringfence's hook was already gone)",),
            (),
            None,
            after,
            fp,
        )
    notes: list[str] = []
    if before is not None:
        notes.append(f"{target} is not ringfence's hook; left alone")
        if has_chained:
            notes.append(
                f"{chained} is still there: something replaced ringfence's hook after init. Decide which one to "
                "keep and rename it by hand."
            )
    return HookPlan(
        hooks, (), (f"ringfence's {HOOK} hook is not installed in {hooks}",), tuple(notes), before, before, fp
    )


def _hooks_path_notes(repo: Path, hooks: Path) -> list[str]:
    setting = hooks_path_setting(repo)
    if setting is None:
        return []
    notes = [f"core.hooksPath is {setting}: the hook goes to {hooks}, where git looks for it"]
    try:
        top = Path(_git(repo, "rev-parse", "--show-toplevel"))
    except GitHookError:
        return notes
    if hooks == top or top in hooks.parents:
        notes.append(
            f"{hooks} is inside the work tree: a hook manager that regenerates it (husky, lefthook) can overwrite "
            "ringfence's hook; `ringfence doctor` tells you when that happened"
        )
    return notes


def apply(plan: HookPlan) -> None:
    """Carry out ``plan``. Raises :class:`GitHookError` (nothing changed) when the hooks
    directory changed since the plan was made."""
    paths = [Path(p) for p, _ in plan.fingerprint]
    if _fingerprint(*paths) != plan.fingerprint:
        raise GitHookError(f"{plan.hooks} changed while ringfence was planning; nothing was changed, run it again")
    plan.hooks.mkdir(parents=True, exist_ok=True)
    staged: dict[Path, Path] = {}
    try:
        for step in plan.steps:
            if step.op == "write":
                staged[step.path] = _stage(step.path, step.content or "")
        for step in plan.steps:
            if step.op == "rename":
                assert step.to is not None
                os.replace(step.path, step.to)
            elif step.op == "remove":
                step.path.unlink()
            else:
                os.replace(staged.pop(step.path), step.path)
    finally:
        for tmp in staged.values():
            tmp.unlink(missing_ok=True)


def _stage(path: Path, content: str) -> Path:
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
            f.write(content)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(name, 0o755)
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise
    return Path(name)


# --- the CLI entry the lead calls --------------------------------------------------------


def init_git_hooks(repo: Path, *, dry_run: bool, uninstall: bool, console: Console) -> int:
    """``ringfence init --git-hooks`` / ``ringfence uninstall --git-hooks`` for ``repo``:
    print the plan, then show its diff (``dry_run``) or apply it. Returns the exit code
    (0, or 3 with the reason on stderr when the repository cannot be wired)."""
    from rich.console import Console as RichConsole
    from rich.markup import escape

    action = "uninstall" if uninstall else "init"
    try:
        plan = plan_uninstall(repo) if uninstall else plan_install(repo)
        console.print(f"[bold]ringfence {action} --git-hooks[/] — {escape(str(plan.hooks))}", soft_wrap=True)
        for change in plan.changes:
            console.print(f"  [green]•[/] {escape(change)}", soft_wrap=True)
        for note in plan.notes:
            console.print(f"  [yellow]note:[/] {escape(note)}", soft_wrap=True)
        if not plan.changed:
            return EXIT_OK
        if dry_run:
            _print_diff(plan, console)
            console.print("[yellow]dry run:[/] nothing was written; run again without --dry-run to apply.")
            return EXIT_OK
        apply(plan)
    except (GitHookError, OSError) as exc:
        RichConsole(stderr=True).print(f"[red]error:[/] {escape(str(exc))}", soft_wrap=True)
        return EXIT_ERROR
    if uninstall:
        console.print("ringfence no longer checks pushes from this repository.")
    else:
        console.print(
            "Pushes from this repository now go through ringfence. Run [bold]ringfence doctor[/] to check it; "
            "for a check no client can skip, install integrations/git/pre-receive on the git server."
        )
    return EXIT_OK


def _print_diff(plan: HookPlan, console: Console) -> None:
    from rich.text import Text

    for step in plan.steps:
        if step.op == "rename" and step.to is not None:
            console.print(Text(f"rename {step.path} → {step.to}", style="bold"), soft_wrap=True)
    for line in plan.diff().splitlines():
        style = (
            "bold"
            if line.startswith(("+++", "---"))
            else "cyan"
            if line.startswith("@@")
            else "green"
            if line.startswith("+")
            else "red"
            if line.startswith("-")
            else ""
        )
        console.print(Text(line, style=style), soft_wrap=True)


# --- doctor ---------------------------------------------------------------------------------


def doctor_checks(repo: Path) -> list[tuple[str, bool, str]]:
    """``(name, ok, detail)`` for the pre-push wiring of ``repo``: the hook is where git
    looks, is executable, runs a ringfence that exists and starts, and the policy it
    reaches refuses a force push to a protected branch. Never raises."""
    out: list[tuple[str, bool, str]] = []
    try:
        hooks = hooks_dir(repo)
    except GitHookError as exc:
        return [("git repository", False, str(exc))]
    target = hooks / HOOK
    out.append(("git hooks directory", True, str(hooks)))
    if not is_ours(target):
        detail = f"{target} is not ringfence's hook" if target.exists() else f"{target} does not exist"
        try:
            default = default_hooks_dir(repo)
        except GitHookError:
            default = hooks
        if default != hooks and is_ours(default / HOOK):
            detail = (
                f"ringfence's hook is in {default}, but core.hooksPath ({hooks_path_setting(repo)}) makes git run "
                f"hooks from {hooks}, so it never runs"
            )
        out.append(("pre-push hook installed", False, detail + "; run `ringfence init --git-hooks`"))
        return out
    out.append(("pre-push hook installed", True, str(target)))
    executable = os.access(target, os.X_OK)
    out.append(
        (
            "pre-push hook executable",
            executable,
            "yes" if executable else f"git skips hooks that are not executable: chmod +x {target}",
        )
    )
    program = hook_program(target)
    if program is None or not os.access(program, os.X_OK):
        out.append(
            (
                "ringfence program",
                False,
                f"the hook runs {program or '(nothing)'}, which is missing or not executable: pushes are "
                "refused until `ringfence init --git-hooks` is run again",
            )
        )
        return out
    try:
        proc = subprocess.run(
            [program, *(["-m", "ringfence"] if not Path(program).name.startswith("ringfence") else []), "--version"],
            capture_output=True,
            text=True,
            timeout=GIT_TIMEOUT,
            check=False,
            stdin=subprocess.DEVNULL,
        )
        started = proc.returncode == 0 and "ringfence" in proc.stdout
        detail = (
            f"{program} ({proc.stdout.strip()})"
            if started
            else f"{program} --version failed: {proc.stderr.strip()[:200]}"
        )
    except (OSError, subprocess.SubprocessError) as exc:
        started, detail = False, f"{program} does not start: {exc}"
    out.append(("ringfence program", started, detail))
    chained = hooks / CHAINED
    if chained.exists() or chained.is_symlink():
        runs = os.access(chained, os.X_OK)
        out.append(
            (
                "chained pre-push hook",
                True,
                f"{chained} runs first" if runs else f"{chained} is not executable, so it does not run (as before)",
            )
        )
    out.append(_policy_probe(repo))
    return out


def _policy_probe(repo: Path) -> tuple[str, bool, str]:
    """Evaluate (without recording) a force push of a protected branch from this repository."""
    name = "policy refuses a force push to a protected branch"
    try:
        from ringfence.adapters.git_hooks import RefUpdate, client_principal, push_action
        from ringfence.gate import Gate
        from ringfence.model import Outcome

        cwd = os.path.realpath(repo)
        gate = Gate.for_cwd(cwd, record=False)
        patterns = gate.settings.analysis.protected_branches
        if not patterns:
            return (name, True, "no branch is protected (protected_branches is empty): nothing to check")
        branch = patterns[0].replace("*", "x").replace("?", "x").replace("[", "").replace("]", "")
        update = RefUpdate(f"refs/heads/{branch}", "1" * 40, f"refs/heads/{branch}", "2" * 40)
        judged = push_action("origin", "probe", [update], lambda old, new: False, cwd=cwd, tool="git pre-push", env={})
        decision = gate.evaluate(judged.action, client_principal({"RINGFENCE_AGENT_ID": "ringfence-doctor"}))
    except Exception as exc:
        return (name, False, f"could not evaluate: {exc}")
    ok = decision.outcome is not Outcome.ALLOW
    return (name, ok, f"{decision.outcome.value} for a force push to {branch}" + ("" if ok else f": {decision.reason}"))
