"""git's own hooks: ``pre-push`` on a client, ``pre-receive`` on a server.

**pre-push** (``ringfence git-hook pre-push <remote> <url>``, installed by
``ringfence init --git-hooks``). git runs it with the remote's name and URL as arguments
and one line per ref it is about to update on stdin::

    <local ref> SP <local object name> SP <remote ref> SP <remote object name> LF

A ref to be deleted has ``(delete)`` as its local ref and an all-zero local object name;
a ref the remote does not have yet has an all-zero remote object name. Exit 0 lets the
push go ahead; any other exit stops it before anything is sent. An agent can skip this
hook (``git push --no-verify``, ``core.hooksPath``) — the runtime hooks deny those
commands, but the hook cannot enforce anything on its own against a determined client.

**pre-receive** (``ringfence git-hook pre-receive``, see ``integrations/git/pre-receive``)
runs on the server after the objects arrived and before any ref changes, with one line per
ref on stdin::

    <old object name> SP <new object name> SP <ref name> LF

Its stdout and stderr reach the pusher prefixed with ``remote:``; exit 0 accepts the whole
push, anything else rejects all of it. Nothing on the client can skip it. The pushing
account comes from the server's environment (GitHub Enterprise Server
``GITHUB_USER_LOGIN``, GitLab ``GL_USERNAME``/``GL_ID``, Gitea/Forgejo
``GITEA_PUSHER_NAME``/``GITEA_PUSHER_EMAIL``, gitolite ``GL_USER``, smart HTTP
``REMOTE_USER``, else the ssh login ``USER``); push options arrive as
``GIT_PUSH_OPTION_COUNT``/``GIT_PUSH_OPTION_<n>``. New objects sit in a quarantine
directory (``GIT_QUARANTINE_PATH``) until the hook accepts; git exports
``GIT_OBJECT_DIRECTORY``/``GIT_ALTERNATE_OBJECT_DIRECTORIES`` for it, so the git commands
this hook runs inherit the environment unchanged and see those objects.

**Fast-forward or not** is a fact about the object graph that only git knows, so the hook
asks git (``git merge-base --is-ancestor <old> <new>``) — the one place ringfence runs a
program while deciding. It is git, the program that is running this hook in this
repository; it reads objects and changes nothing; and the analysis itself stays pure (it
judges the ``force`` flag this module puts into the payload). When the answer is not
known — the client never fetched the remote's commit, the object is not a commit, git
failed or timed out — the update counts as a force push: a push that cannot be shown to
keep the remote's history is treated as one that may not (``git push --force`` would
overwrite it just the same). The message then says to fetch first. Moving an existing
tag always counts as a force push, as git itself refuses it without ``--force``.

**Decisions.** allow → exit 0 (silently, unless an approval was used); deny and
require_approval → a readable reason on stderr (naming the ``AR-…`` request when held)
and exit 1. Every error — unreadable stdin, wrong arguments, a configuration that does not
load, a crash — also exits 1 with its reason: the push is refused (fail closed). The
action's payload is deterministic (updates sorted, no timestamps, no credentials in the
URL), so after an approval the identical push matches the grant once.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TextIO

from ringfence.errors import PayloadError
from ringfence.model import Action, ActionKind, Decision, Outcome, Principal, PrincipalType

if TYPE_CHECKING:
    from ringfence.gate import Gate

RUNTIME = "git"
MAX_STDIN = 32 * 1024 * 1024
GIT_TIMEOUT = 30.0
EXIT_ALLOW = 0
EXIT_REFUSE = 1
WIDTH = 100

_SHA = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")
_URL_USERINFO = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*://)[^/@]*@")

#: Variables agent runtimes set in the shells they run (see docs/runtimes/git.md), with the
#: runtime each names. Checked in order; ``AI_AGENT`` carries the agent's own name.
AGENT_MARKERS: tuple[tuple[str, str], ...] = (
    ("CLAUDECODE", "claude-code"),
    ("CLAUDE_CODE_ENTRYPOINT", "claude-code"),
    ("CODEX_THREAD_ID", "codex"),
    ("CODEX_SANDBOX", "codex"),
    ("CODEX_SANDBOX_NETWORK_DISABLED", "codex"),
    ("GEMINI_CLI", "gemini"),
    ("CURSOR_AGENT", "cursor"),
    ("COPILOT_CLI", "copilot"),
    ("COPILOT_AGENT", "copilot"),
    ("OPENCODE", "opencode"),
    ("GOOSE_TERMINAL", "goose"),
)
#: Where a runtime puts its session id in the shells it runs.
SESSION_VARS = {"codex": "CODEX_THREAD_ID", "copilot": "COPILOT_AGENT_SESSION_ID"}

#: Bot accounts known to be coding agents (GitHub Apps' logins without ``[bot]``).
AGENT_BOTS = frozenset(
    {
        "copilot",
        "copilot-swe-agent",
        "devin-ai-integration",
        "claude",
        "codex",
        "chatgpt-codex-connector",
        "cursor",
        "cursor-agent",
        "google-labs-jules",
        "jules",
        "gemini-code-assist",
        "openhands-agent",
        "sweep-ai",
        "codegen-sh",
        "amazon-q-developer",
    }
)
_BOT_NAME = re.compile(
    r"\[bot\]$|^(project|group)_\d+_bot(_|$)|(^|[-_.])bot$|^bot[-_.]|^(gitea|forgejo)-actions$|^github-actions$"
)

Ancestry = Callable[[str, str], bool | None]
"""``ancestry(old, new)``: True when ``old`` is an ancestor of ``new`` (a fast-forward),
False when it is not, None when git cannot tell."""


@dataclass(frozen=True, slots=True)
class RefUpdate:
    """One line of a hook's stdin, in the same terms for both hooks."""

    local_ref: str
    local_sha: str  # the new value (all zeroes: delete)
    remote_ref: str
    remote_sha: str  # the old value (all zeroes: create)

    @property
    def delete(self) -> bool:
        return _zero(self.local_sha)

    @property
    def new(self) -> bool:
        return _zero(self.remote_sha)


def _zero(sha: str) -> bool:
    return set(sha) == {"0"}


# --- reading git's stdin ------------------------------------------------------------------


def _lines(raw: bytes, hook: str) -> list[str]:
    if len(raw) > MAX_STDIN:
        raise PayloadError(f"{hook} input is more than {MAX_STDIN} bytes")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise PayloadError(
            f"{hook} input is not UTF-8 (byte {exc.start}); ringfence reads ref names as UTF-8"
        ) from None
    if "\x00" in text or "\r" in text:
        raise PayloadError(f"{hook} input contains a NUL or carriage-return byte")
    if text and not text.endswith("\n"):
        raise PayloadError(f"{hook} input ends in the middle of a line (git ends every line with a newline)")
    return text.splitlines()


def _sha(value: str, what: str, lineno: int, hook: str) -> str:
    if not _SHA.fullmatch(value):
        raise PayloadError(f"{hook} line {lineno}: {what} {value!r} is not a full hexadecimal object name")
    return value


def _ref(value: str, what: str, lineno: int, hook: str) -> str:
    if not value.startswith("refs/") or len(value) <= len("refs/"):
        raise PayloadError(f"{hook} line {lineno}: {what} {value!r} is not a full ref name (refs/…)")
    return value


def _check(update: RefUpdate, lineno: int, hook: str) -> RefUpdate:
    if len(update.local_sha) != len(update.remote_sha):
        raise PayloadError(f"{hook} line {lineno}: the two object names have different lengths")
    if update.delete and update.new:
        raise PayloadError(f"{hook} line {lineno}: both object names are all zeroes")
    return update


def _one_hash(updates: list[RefUpdate], hook: str) -> list[RefUpdate]:
    if len({len(u.local_sha) for u in updates}) > 1:
        raise PayloadError(f"{hook} input mixes SHA-1 and SHA-256 object names; a repository uses one")
    return updates


def parse_pre_push(raw: bytes) -> list[RefUpdate]:
    """The updates on a pre-push hook's stdin. Raises :class:`PayloadError`.

    The local ref is whatever the refspec's source was (``refs/heads/x``, ``HEAD~1``, a
    name with spaces, ``(delete)``), so the line is split from the right: the other three
    fields never contain a space."""
    out = []
    for lineno, line in enumerate(_lines(raw, "pre-push"), 1):
        parts = line.rsplit(" ", 3)
        if len(parts) != 4 or not parts[0]:
            raise PayloadError(
                f"pre-push line {lineno} is not '<local ref> <local sha> <remote ref> <remote sha>': {line[:200]!r}"
            )
        local_ref, local_sha, remote_ref, remote_sha = parts
        update = RefUpdate(
            local_ref,
            _sha(local_sha, "local object name", lineno, "pre-push"),
            _ref(remote_ref, "remote ref", lineno, "pre-push"),
            _sha(remote_sha, "remote object name", lineno, "pre-push"),
        )
        if update.delete != (local_ref == "(delete)"):
            raise PayloadError(f"pre-push line {lineno}: '(delete)' must come with an all-zero local object name")
        out.append(_check(update, lineno, "pre-push"))
    return _one_hash(out, "pre-push")


def parse_pre_receive(raw: bytes) -> list[RefUpdate]:
    """The updates on a pre-receive hook's stdin. Raises :class:`PayloadError`."""
    out = []
    for lineno, line in enumerate(_lines(raw, "pre-receive"), 1):
        parts = line.split(" ")
        if len(parts) != 3:
            raise PayloadError(f"pre-receive line {lineno} is not '<old sha> <new sha> <ref>': {line[:200]!r}")
        old, new, ref = parts
        ref = _ref(ref, "ref", lineno, "pre-receive")
        update = RefUpdate(
            ref,
            _sha(new, "new object name", lineno, "pre-receive"),
            ref,
            _sha(old, "old object name", lineno, "pre-receive"),
        )
        out.append(_check(update, lineno, "pre-receive"))
    return _one_hash(out, "pre-receive")


# --- asking git -------------------------------------------------------------------------------


def git_ancestry(cwd: str, env: Mapping[str, str] | None = None) -> Ancestry:
    """Ask git in ``cwd`` (with the hook's environment, so a pre-receive hook sees the
    quarantined objects) whether one commit is an ancestor of another."""

    def ancestry(old: str, new: str) -> bool | None:
        try:
            proc = subprocess.run(
                ["git", "merge-base", "--is-ancestor", old, new],
                cwd=cwd,
                env=dict(os.environ if env is None else env),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                timeout=GIT_TIMEOUT,
                check=False,
            )
        except (OSError, subprocess.SubprocessError):
            return None
        if proc.returncode == 0:
            return True
        if proc.returncode == 1:
            return False
        return None  # 128: an object git does not have, or not a commit

    return ancestry


@dataclass(frozen=True, slots=True)
class Judged:
    """The push action, plus what the hook could not establish (for the message)."""

    action: Action
    unknown: tuple[RefUpdate, ...]


def push_action(
    remote: str,
    url: str,
    updates: Sequence[RefUpdate],
    ancestry: Ancestry,
    *,
    cwd: str,
    tool: str,
    env: Mapping[str, str],
) -> Judged:
    """The :attr:`ActionKind.PUSH` action for ``updates``: each one's ``force`` decided
    with ``ancestry``; sorted, so the same push always has the same digest."""
    rows: list[dict[str, Any]] = []
    unknown: list[RefUpdate] = []
    for u in updates:
        force = False
        if not (u.delete or u.new):
            if u.remote_ref.startswith("refs/tags/"):
                force = True  # git refuses to move a tag without --force
            else:
                ff = ancestry(u.remote_sha, u.local_sha)
                force = ff is not True
                if ff is None:
                    unknown.append(u)
        rows.append(
            {
                "local_ref": u.local_ref,
                "local_sha": u.local_sha,
                "remote_ref": u.remote_ref,
                "remote_sha": u.remote_sha,
                "delete": u.delete,
                "force": force,
                "new": u.new,
            }
        )
    rows.sort(key=lambda r: (r["remote_ref"], r["local_ref"], r["local_sha"], r["remote_sha"]))
    payload = {"remote": remote, "url": redact_url(url), "updates": rows}
    action = Action(
        ActionKind.PUSH,
        payload,
        cwd=cwd,
        tool=tool,
        repo=redact_url(url) or None,
        environment=env.get("RINGFENCE_ENV") or None,
    )
    return Judged(action, tuple(unknown))


def redact_url(url: str) -> str:
    """``url`` without its user-info part (``https://user:token@host/…`` → ``https://host/…``):
    credentials never reach the ledger, and a rotated token does not change the digest."""
    return _URL_USERINFO.sub(r"\1", url)


# --- who pushes ---------------------------------------------------------------------------


def client_principal(env: Mapping[str, str]) -> Principal:
    """pre-push: the agent whose shell runs ``git push`` when the environment shows one
    (``RINGFENCE_AGENT_ID`` or a runtime's marker variable), else the person (``$USER``)."""
    runtime = None
    for var, name in AGENT_MARKERS:
        if env.get(var):
            runtime = name
            break
    declared = (env.get("AI_AGENT") or "").strip()
    if runtime is None and declared and re.fullmatch(r"[A-Za-z0-9._-]{1,64}", declared):
        runtime = declared.lower()
    agent_id = env.get("RINGFENCE_AGENT_ID") or None
    if runtime is None and agent_id is None:
        user = env.get("USER") or env.get("LOGNAME") or "unknown"
        return Principal(PrincipalType.HUMAN, user, runtime=RUNTIME, attributes={"hook": "pre-push"})
    name = runtime or RUNTIME
    session_var = SESSION_VARS.get(name)
    return Principal(
        PrincipalType.AGENT,
        agent_id or name,
        runtime=name,
        session=(env.get(session_var) or None) if session_var else None,
        owner=env.get("RINGFENCE_AGENT_OWNER") or None,
        attributes={"hook": "pre-push"},
    )


def server_principal(env: Mapping[str, str]) -> Principal:
    """pre-receive: the account the git server says is pushing; bots are services, and
    bots known to be coding agents are agents."""
    attrs: dict[str, str] = {"hook": "pre-receive"}
    login = None
    for var, platform in (
        ("GITHUB_USER_LOGIN", "github-enterprise"),
        ("GL_USERNAME", "gitlab"),
        ("GITEA_PUSHER_NAME", "gitea"),
        ("GL_USER", "gitolite"),
        ("REMOTE_USER", "git-http"),
        ("USER", "ssh"),
        ("LOGNAME", "ssh"),
    ):
        value = env.get(var)
        if value:
            login, attrs["platform"] = value, platform
            break
    if login is None:
        login, attrs["platform"] = "unknown", "unknown"
    for var, key in (("GITEA_PUSHER_EMAIL", "email"), ("GL_ID", "gl_id"), ("GL_PROTOCOL", "protocol")):
        if env.get(var):
            attrs[key] = env[var]
    options = push_options(env)
    if options:
        attrs["push_options"] = "\n".join(options)
    lowered = login.lower()
    stem = lowered.removesuffix("[bot]")
    deploy_key = attrs.get("gl_id", "").startswith("key-")
    if stem in AGENT_BOTS:
        attrs["bot"] = "true"
        kind = PrincipalType.AGENT
    elif deploy_key or _BOT_NAME.search(lowered):
        attrs["bot"] = "true"
        kind = PrincipalType.SERVICE
    else:
        kind = PrincipalType.HUMAN
    runtime = attrs["platform"] if kind is not PrincipalType.AGENT else stem
    return Principal(kind, login, runtime=runtime, attributes=attrs)


def push_options(env: Mapping[str, str]) -> list[str]:
    """The push options (``git push -o …``) git hands a pre-receive hook."""
    try:
        count = int(env.get("GIT_PUSH_OPTION_COUNT", "0"))
    except ValueError:
        raise PayloadError("GIT_PUSH_OPTION_COUNT is not a number") from None
    if count < 0 or count > 1000:
        raise PayloadError(f"GIT_PUSH_OPTION_COUNT is {count}")
    return [env.get(f"GIT_PUSH_OPTION_{i}", "") for i in range(count)]


# --- deciding and answering -----------------------------------------------------------------


def decide(
    judged: Judged,
    principal: Principal,
    gate_for: Callable[[str], Gate],
    *,
    server: bool = False,
) -> Decision:
    """The gate's decision for the push. Never raises: a failure is a deny."""
    from ringfence.gate import failure

    action = judged.action
    try:
        gate = gate_for(action.cwd)
    except Exception as exc:
        return failure(action, principal, exc, what="could not load its configuration")
    if server:
        gate.owner_from_env = False  # $USER on a git server is the service account, not an owner
    try:
        return gate.decide(action, principal)
    except Exception as exc:
        return failure(action, principal, exc, on_error=getattr(gate.settings, "on_error", "deny"))


def message(decision: Decision, judged: Judged, where: str) -> str:
    """What the pusher reads (stderr; git prefixes a server hook's lines with ``remote:``)."""
    updates = judged.action.payload.get("updates") or []
    lines: list[str] = []
    if decision.outcome is Outcome.ALLOW:
        lines.append(f"ringfence: push to {where} allowed.")
    elif decision.outcome is Outcome.REQUIRE_APPROVAL and decision.request_id:
        lines.append(f"ringfence: push to {where} refused until approved — held as {decision.request_id}.")
    elif decision.outcome is Outcome.REQUIRE_APPROVAL:
        lines.append(f"ringfence: push to {where} refused until approved.")
    else:
        lines.append(f"ringfence: push to {where} refused.")
    for row in updates:
        lines.append("  " + _describe(row))
    for paragraph in (decision.reason, *_unknown_notes(judged, where)):
        lines.extend(_wrap(paragraph, initial_indent="  "))
    return "\n".join(lines) + "\n"


def _wrap(text: str, initial_indent: str = "") -> list[str]:
    """Lines of at most WIDTH characters that never split a word, a hyphenated id (AR-…) or a sha."""
    return textwrap.wrap(
        text,
        WIDTH,
        initial_indent=initial_indent,
        subsequent_indent="  ",
        break_long_words=False,
        break_on_hyphens=False,
    )


def _describe(row: Mapping[str, Any]) -> str:
    from ringfence.analyze.push import Update

    return Update(**row).describe()


def _unknown_notes(judged: Judged, where: str) -> list[str]:
    if not judged.unknown:
        return []
    refs = ", ".join(f"{u.remote_ref} (at {u.remote_sha[:7]})" for u in judged.unknown)
    return [
        f"Counted as a force push: this repository does not have what {where} has at {refs}, so git cannot show "
        f"the push keeps that history. Run `git fetch {where}`, integrate the changes, and push again."
    ]


def _fail(exc: BaseException | str, err: TextIO) -> int:
    text = exc if isinstance(exc, str) else (str(exc) or type(exc).__name__)
    body = f"ringfence: push refused: {text}. ringfence fails closed; run `ringfence doctor` or ask an operator."
    try:
        err.write("\n".join(_wrap(body)) + "\n")
        err.flush()
    except Exception:
        pass
    return EXIT_REFUSE


def _answer(decision: Decision, judged: Judged, where: str, err: TextIO) -> int:
    if decision.outcome is Outcome.ALLOW:
        if decision.control == "grant":  # say which approval this push used
            err.write(message(decision, judged, where))
            err.flush()
        return EXIT_ALLOW
    err.write(message(decision, judged, where))
    err.flush()
    return EXIT_REFUSE


def _gate_for(cwd: str) -> Gate:
    from ringfence.gate import Gate

    return Gate.for_cwd(cwd)


def run_pre_push(
    argv: list[str],
    *,
    stdin: bytes | None = None,
    env: Mapping[str, str] | None = None,
    cwd: str | None = None,
    gate_for: Callable[[str], Gate] | None = None,
    err: TextIO | None = None,
) -> int:
    """``ringfence git-hook pre-push <remote> <url>``: 0 lets the push go ahead, 1 stops it."""
    out = sys.stderr if err is None else err
    try:
        env = os.environ if env is None else env
        if len(argv) != 2 or not argv[0] or not argv[1]:
            return _fail(f"pre-push takes the remote's name and URL as arguments (git passes both), got {argv!r}", out)
        raw = sys.stdin.buffer.read(MAX_STDIN + 1) if stdin is None else stdin
        updates = parse_pre_push(raw)
        if not updates:
            return EXIT_ALLOW  # nothing to update: the push changes no ref
        here = os.path.realpath(cwd or os.getcwd())
        remote, url = argv
        judged = push_action(remote, url, updates, git_ancestry(here, env), cwd=here, tool="git pre-push", env=env)
        decision = decide(judged, client_principal(env), gate_for or _gate_for)
        return _answer(decision, judged, remote, out)
    except BaseException as exc:  # a crashed hook must still refuse the push, with a reason
        return _fail(exc, out)


def run_pre_receive(
    *,
    stdin: bytes | None = None,
    env: Mapping[str, str] | None = None,
    cwd: str | None = None,
    gate_for: Callable[[str], Gate] | None = None,
    err: TextIO | None = None,
) -> int:
    """``ringfence git-hook pre-receive``: 0 accepts the push, 1 rejects all of it."""
    out = sys.stderr if err is None else err
    try:
        env = os.environ if env is None else env
        raw = sys.stdin.buffer.read(MAX_STDIN + 1) if stdin is None else stdin
        updates = parse_pre_receive(raw)
        if not updates:
            return EXIT_ALLOW
        here = os.path.realpath(cwd or os.getcwd())
        name = repository_name(env, here)
        judged = push_action(name, here, updates, git_ancestry(here, env), cwd=here, tool="git pre-receive", env=env)
        decision = decide(judged, server_principal(env), gate_for or _gate_for, server=True)
        return _answer(decision, judged, name, out)
    except BaseException as exc:
        return _fail(exc, out)


def repository_name(env: Mapping[str, str], git_dir: str) -> str:
    """The repository's name as the server knows it (``owner/repo``), else its directory's."""
    if env.get("GITHUB_REPO_NAME"):
        return env["GITHUB_REPO_NAME"]
    if env.get("GL_PROJECT_PATH"):
        return env["GL_PROJECT_PATH"]
    if env.get("GITEA_REPO_NAME"):
        owner = env.get("GITEA_REPO_USER_NAME")
        return f"{owner}/{env['GITEA_REPO_NAME']}" if owner else env["GITEA_REPO_NAME"]
    base = os.path.basename(git_dir.rstrip("/"))
    if base == ".git":
        base = os.path.basename(os.path.dirname(git_dir.rstrip("/")))
    return base.removesuffix(".git") or git_dir


def main(argv: list[str]) -> int:
    """``ringfence git-hook <pre-push REMOTE URL | pre-receive>`` without argparse (the fast path)."""
    if argv[:1] == ["pre-push"]:
        return run_pre_push(argv[1:])
    if argv == ["pre-receive"]:
        return run_pre_receive()
    return _fail(
        f"unknown git hook invocation {argv!r}; expected 'pre-push <remote> <url>' or 'pre-receive'", sys.stderr
    )
