"""Peel commands that run other commands: ``sudo``, ``env``, ``bash -c``, ``xargs``, ...

:func:`peel` looks at one argv and says what it really runs:

- :class:`Inner` — another argv (``sudo rm -rf /`` runs ``rm -rf /``), maybe with a new
  cwd, environment assignments, a remote host, or placeholders whose value is unknown;
- :class:`Script` — shell source to parse (``bash -c '…'``, ``eval …``, ``ssh host '…'``);
- :class:`ShellStdin` — a shell reading its program from standard input
  (``… | bash``): the caller knows what flows in;
- :class:`ScriptFile` — a shell running a script file (``bash deploy.sh``, ``source x``);
- ``None`` — not a wrapper.

Option tables list the options that take a value, so that the command after them is
found exactly as the wrapper would find it. Nothing here runs anything.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Sequence
from dataclasses import dataclass, field

Argv = Sequence[str]

SHELLS = frozenset({"sh", "bash", "zsh", "dash", "ksh", "mksh", "ash", "fish", "csh", "tcsh", "yash", "posh", "rbash"})


@dataclass(frozen=True, slots=True)
class Inner:
    argv: tuple[str, ...]
    dynamic: frozenset[int] = frozenset()  # indexes into argv
    label: str = ""
    cwd: str | None = None
    env: tuple[tuple[str, str], ...] = ()
    unset: tuple[str, ...] = ()
    remote: str | None = None


@dataclass(frozen=True, slots=True)
class Script:
    source: str
    label: str
    dynamic: bool = False
    remote: str | None = None
    placeholders: frozenset[str] = field(default_factory=frozenset)


@dataclass(frozen=True, slots=True)
class ShellStdin:
    label: str


@dataclass(frozen=True, slots=True)
class ScriptFile:
    path: str
    label: str
    dynamic: bool = False


Peeled = Inner | Script | ShellStdin | ScriptFile


def _skip_options(
    argv: Argv,
    start: int,
    with_value: frozenset[str],
    *,
    long_with_value: frozenset[str] = frozenset(),
    stop_at_dashdash: bool = True,
) -> int:
    """Index of the first non-option word at or after ``start``."""
    i = start
    n = len(argv)
    while i < n:
        a = argv[i]
        if a == "--" and stop_at_dashdash:
            return i + 1
        if not a.startswith("-") or a == "-":
            return i
        if a.startswith("--"):
            name = a.split("=", 1)[0]
            i += 2 if (name in long_with_value and "=" not in a) else 1
            continue
        # clustered short options: -u root, -uroot, -Eu root
        j = 1
        consumed_next = False
        while j < len(a):
            opt = "-" + a[j]
            if opt in with_value:
                if j == len(a) - 1:
                    consumed_next = True
                break
            j += 1
        i += 2 if consumed_next else 1
    return i


def _inner(argv: Argv, start: int, label: str, **kw: object) -> Inner | None:
    if start >= len(argv):
        return None
    return Inner(argv=tuple(argv[start:]), label=label, **kw)  # type: ignore[arg-type]


# -- privilege and process wrappers --------------------------------------------------------

_SUDO_V = frozenset({"-u", "-g", "-C", "-D", "-h", "-p", "-r", "-t", "-U", "-T", "-R"})
_SUDO_LV = frozenset(
    {
        "--user",
        "--group",
        "--close-from",
        "--chdir",
        "--host",
        "--prompt",
        "--role",
        "--type",
        "--other-user",
        "--command-timeout",
        "--chroot",
    }
)


def _sudo(argv: Argv) -> Peeled | None:
    i = _skip_options(argv, 1, _SUDO_V, long_with_value=_SUDO_LV)
    cwd = None
    for k, a in enumerate(argv[1:i], start=1):
        if a in ("-D", "--chdir") and k + 1 < len(argv):
            cwd = argv[k + 1]
        elif a.startswith("--chdir="):
            cwd = a.split("=", 1)[1]
    shell_flag = any(
        a in ("-s", "--shell") or (a.startswith("-") and not a.startswith("--") and "s" in a[1:])
        for a in argv[1:i]
        if a not in _SUDO_V
    )
    if shell_flag and i < len(argv):
        return Script(" ".join(argv[i:]), "sudo -s")
    return _inner(argv, i, "sudo", cwd=cwd)


def _doas(argv: Argv) -> Peeled | None:
    return _inner(argv, _skip_options(argv, 1, frozenset({"-u", "-C"})), "doas")


def _env(argv: Argv) -> Peeled | None:
    i = 1
    n = len(argv)
    cwd = None
    assigns: list[tuple[str, str]] = []
    unset: list[str] = []
    while i < n:
        a = argv[i]
        if a == "--":
            i += 1
            break
        if a in ("-u", "--unset") and i + 1 < n:
            unset.append(argv[i + 1])
            i += 2
        elif a.startswith("--unset="):
            unset.append(a.split("=", 1)[1])
            i += 1
        elif a.startswith("-u") and len(a) > 2:
            unset.append(a[2:])
            i += 1
        elif a in ("-C", "--chdir") and i + 1 < n:
            cwd = argv[i + 1]
            i += 2
        elif a.startswith("--chdir="):
            cwd = a.split("=", 1)[1]
            i += 1
        elif a in ("-S", "--split-string") and i + 1 < n:
            # env -S 'cmd args' splits the string into words (no shell syntax)
            rest = argv[i + 1].split() + list(argv[i + 2 :])
            return Inner(tuple(rest), label="env -S", cwd=cwd, env=tuple(assigns), unset=tuple(unset))
        elif a.startswith("--split-string="):
            rest = a.split("=", 1)[1].split() + list(argv[i + 1 :])
            return Inner(tuple(rest), label="env -S", cwd=cwd, env=tuple(assigns), unset=tuple(unset))
        elif a.startswith("-S") and len(a) > 2:
            rest = a[2:].split() + list(argv[i + 1 :])
            return Inner(tuple(rest), label="env -S", cwd=cwd, env=tuple(assigns), unset=tuple(unset))
        elif a.startswith("-") and not _is_assignment(a):
            i += 1  # -i, -0, -v, --ignore-environment, --debug
        else:
            break
    while i < n and _is_assignment(argv[i]):
        name, value = argv[i].split("=", 1)
        assigns.append((name, value))
        i += 1
    if i >= n:
        if assigns or unset:
            return Inner(("env",), label="env", env=tuple(assigns), unset=tuple(unset))
        return None
    return Inner(tuple(argv[i:]), label="env", cwd=cwd, env=tuple(assigns), unset=tuple(unset))


def _is_assignment(word: str) -> bool:
    name, eq, _ = word.partition("=")
    return (
        bool(eq) and bool(name) and (name[0].isalpha() or name[0] == "_") and all(c.isalnum() or c == "_" for c in name)
    )


def _command(argv: Argv) -> Peeled | None:
    # `command -v x` / `-V` only looks x up; `command -p x` runs it
    i = 1
    while i < len(argv) and argv[i].startswith("-") and argv[i] != "--":
        if "v" in argv[i] or "V" in argv[i]:
            return Inner(("true",), label="command -v")
        i += 1
    if i < len(argv) and argv[i] == "--":
        i += 1
    return _inner(argv, i, "command")


def _simple(label: str, with_value: frozenset[str] = frozenset(), long_v: frozenset[str] = frozenset()) -> object:
    def peel_simple(argv: Argv) -> Peeled | None:
        return _inner(argv, _skip_options(argv, 1, with_value, long_with_value=long_v), label)

    return peel_simple


def _exec(argv: Argv) -> Peeled | None:
    return _inner(argv, _skip_options(argv, 1, frozenset({"-a"})), "exec")


def _nice(argv: Argv) -> Peeled | None:
    i = 1
    while i < len(argv):
        a = argv[i]
        if a == "-n" or a == "--adjustment":
            i += 2
        elif a.startswith("-") and (a[1:].lstrip("-").isdigit() or a.startswith("--adjustment=") or a.startswith("-n")):
            i += 1
        elif a == "--":
            i += 1
            break
        else:
            break
    return _inner(argv, i, "nice")


def _timeout(argv: Argv) -> Peeled | None:
    i = _skip_options(argv, 1, frozenset({"-s", "-k"}), long_with_value=frozenset({"--signal", "--kill-after"}))
    return _inner(argv, i + 1, "timeout")  # skip DURATION


def _flock(argv: Argv) -> Peeled | None:
    i = 1
    n = len(argv)
    while i < n and argv[i].startswith("-"):
        a = argv[i]
        if a in ("-c", "--command") and i + 1 < n:
            return Script(argv[i + 1], "flock -c")
        i += 2 if a in ("-w", "--timeout", "-E", "--conflict-exit-code") else 1
    i += 1  # lock file or fd
    if i < n and argv[i] in ("-c", "--command") and i + 1 < n:
        return Script(argv[i + 1], "flock -c")
    return _inner(argv, i, "flock")


def _watch(argv: Argv) -> Peeled | None:
    i = 1
    n = len(argv)
    exec_mode = False
    while i < n and argv[i].startswith("-"):
        a = argv[i]
        if a in ("-x", "--exec"):
            exec_mode = True
        if a in ("-n", "--interval", "-d", "--differences") and a in ("-n", "--interval"):
            i += 2
            continue
        i += 1
    if i >= n:
        return None
    if exec_mode:
        return _inner(argv, i, "watch")
    return Script(" ".join(argv[i:]), "watch")


def _xargs(argv: Argv) -> Peeled | None:
    with_value = frozenset({"-I", "-n", "-P", "-L", "-d", "-a", "-E", "-s", "-l"})
    long_v = frozenset(
        {
            "--max-args",
            "--max-procs",
            "--max-lines",
            "--delimiter",
            "--arg-file",
            "--eof",
            "--max-chars",
            "--replace",
            "--process-slot-var",
        }
    )
    i = 1
    replace: str | None = None
    n = len(argv)
    while i < n:
        a = argv[i]
        if a == "--":
            i += 1
            break
        if not a.startswith("-"):
            break
        if a == "-I" and i + 1 < n:
            replace = argv[i + 1]
            i += 2
            continue
        if a.startswith("-I") and len(a) > 2:
            replace = a[2:]
        elif a.startswith("--replace"):
            replace = a.split("=", 1)[1] if "=" in a else "{}"
        elif a == "-i":
            replace = "{}"
        if a in with_value or (a.startswith("--") and a.split("=")[0] in long_v and "=" not in a):
            i += 2
            continue
        i += 1
    inner = list(argv[i:]) or ["echo"]
    dyn: set[int] = set()
    if replace:
        for k, w in enumerate(inner):
            if replace in w:
                dyn.add(k)
    else:
        inner.append("{xargs-input}")
        dyn.add(len(inner) - 1)
    return Inner(tuple(inner), dynamic=frozenset(dyn), label="xargs")


_PARALLEL_REPLACEMENT = re.compile(r"\{\d*(?:\.|/|//|/\.|#|%)?\}")
_PARALLEL_MAX_ARGS = 32


def _parallel_fill(template: str, arg: str) -> str:
    if _PARALLEL_REPLACEMENT.search(template) is None:
        return f"{template} {arg}"
    return _PARALLEL_REPLACEMENT.sub(lambda _m: arg, template)


def _parallel(argv: Argv) -> Peeled | None:
    """``parallel CMD ::: A B`` runs the shell command ``CMD`` once per argument.

    The argument replaces ``{}`` (and ``{.}``, ``{/}``, ``{1}``...) or is appended. Arguments
    after ``:::`` are known; arguments read from standard input or a ``::::`` file are not,
    and stand in as an unknown variable.
    """
    i = _skip_options(
        argv,
        1,
        frozenset({"-j", "-S", "--jobs", "-a", "-d", "-N", "-n"}),
        long_with_value=frozenset({"--jobs", "--sshlogin", "--arg-file", "--delimiter"}),
    )
    words: list[str] = []
    values: list[str] = []
    known = True
    k = i
    while k < len(argv) and argv[k] not in (":::", "::::", ":::+", "::::+"):
        words.append(argv[k])
        k += 1
    if k == len(argv):
        known = False  # arguments come from standard input
    while k < len(argv):
        if argv[k] in ("::::", "::::+"):
            known = False
        elif argv[k] not in (":::", ":::+"):
            values.append(argv[k])
        k += 1
    if not words:
        return None
    template = " ".join(words)
    if any(a in ("-N0", "--max-args=0") for a in argv[1:i]) or any(
        argv[k] in ("-N", "--max-args") and argv[k + 1] == "0" for k in range(1, i - 1)
    ):
        return Script(template, "parallel")  # -N0: the command runs without arguments
    args = [shlex.quote(v) for v in values[:_PARALLEL_MAX_ARGS]]
    if not known or not args:
        args.append('"${parallel_input}"')
    scripts = [_parallel_fill(template, a) for a in args]
    return Script("\n".join(scripts), "parallel", placeholders=frozenset({"{}"}))


def _find(argv: Argv) -> Peeled | None:
    """``find ROOT ... -exec cmd {} ;`` runs ``cmd`` on paths under ROOT."""
    roots = []
    i = 1
    while i < len(argv) and argv[i] in ("-H", "-L", "-P", "-O0", "-O1", "-O2", "-O3"):
        i += 1
    while i < len(argv) and not argv[i].startswith(("-", "(", "!", ")")):
        roots.append(argv[i])
        i += 1
    root = roots[0] if roots else "."
    while i < len(argv):
        if argv[i] in ("-exec", "-execdir", "-ok", "-okdir"):
            j = i + 1
            inner: list[str] = []
            while j < len(argv) and argv[j] not in (";", "+", "\\;"):
                inner.append(argv[j])
                j += 1
            if inner:
                placeholder = root.rstrip("/") + "/**" if root not in ("/",) else "/**"
                dyn = frozenset(k for k, w in enumerate(inner) if "{}" in w)
                replaced = tuple(w.replace("{}", placeholder) for w in inner)
                return Inner(replaced, dynamic=dyn, label=f"find {argv[i]}")
            i = j
        i += 1
    return None


# -- shells and evaluation -----------------------------------------------------------------

_SHELL_OPTS_V = frozenset({"-o", "+o", "-O", "+O", "--rcfile", "--init-file"})


def _shell(argv: Argv) -> Peeled | None:
    name = argv[0].rsplit("/", 1)[-1]
    i = 1
    n = len(argv)
    has_c = False
    reads_stdin = False
    while i < n:
        a = argv[i]
        if a == "--" or a == "-":
            i += 1
            break
        if a in _SHELL_OPTS_V:
            i += 2
            continue
        if a.startswith("--"):
            if a == "--command" and name == "fish":
                has_c = True
            i += 1
            continue
        if a.startswith(("-", "+")) and len(a) > 1:
            if "c" in a[1:]:
                has_c = True
            if "s" in a[1:]:
                reads_stdin = True
            i += 1
            continue
        break
    if has_c:
        if i < n:
            return Script(argv[i], f"{name} -c")
        return None
    if reads_stdin or i >= n:
        return ShellStdin(name)
    return ScriptFile(argv[i], name)


def _eval(argv: Argv) -> Peeled | None:
    if len(argv) < 2:
        return None
    return Script(" ".join(argv[1:]), "eval")


def _source(argv: Argv) -> Peeled | None:
    if len(argv) < 2:
        return None
    return ScriptFile(argv[1], argv[0])


def _su(argv: Argv) -> Peeled | None:
    i = 1
    n = len(argv)
    while i < n:
        a = argv[i]
        if a in ("-c", "--command") and i + 1 < n:
            return Script(argv[i + 1], "su -c")
        if a.startswith("--command="):
            return Script(a.split("=", 1)[1], "su -c")
        i += 1
    return None


def _runuser(argv: Argv) -> Peeled | None:
    peeled = _su(argv)
    if peeled is not None:
        return peeled
    if "--" in argv:
        return _inner(argv, list(argv).index("--") + 1, "runuser")
    return None


def _script_cmd(argv: Argv) -> Peeled | None:
    for k, a in enumerate(argv):
        if k + 1 >= len(argv):
            break
        if a == "--command" or (a.startswith("-") and not a.startswith("--") and a[-1] == "c"):  # -c, -qc
            return Script(argv[k + 1], "script -c")
        if a.startswith("--command="):
            return Script(a.split("=", 1)[1], "script -c")
    return None


def _after_positionals(label: str, count: int, with_value: frozenset[str] = frozenset()) -> object:
    """``label [options] POSITIONAL... CMD...`` (``chrt 10 cmd``, ``taskset 0x1 cmd``)."""

    def peel_positional(argv: Argv) -> Peeled | None:
        if any(a in ("-p", "--pid") for a in argv[1:3]):
            return None  # acts on a running process
        return _inner(argv, _skip_options(argv, 1, with_value) + count, label)

    return peel_positional


def _sg(argv: Argv) -> Peeled | None:
    """``sg GROUP -c 'cmd'`` or ``sg GROUP cmd``."""
    i = _skip_options(argv, 1, frozenset())
    if i + 1 < len(argv) and argv[i + 1] == "-c" and i + 2 < len(argv):
        return Script(argv[i + 2], "sg -c")
    return _inner(argv, i + 1, "sg")


_TMUX_RUNS = frozenset(
    {
        "new",
        "new-session",
        "new-window",
        "neww",
        "split-window",
        "splitw",
        "respawn-pane",
        "respawnp",
        "respawn-window",
        "respawnw",
        "run-shell",
        "run",
        "send-keys",
        "send",
    }
)
_TMUX_V = frozenset({"-c", "-e", "-F", "-n", "-s", "-t", "-x", "-y", "-f", "-l", "-L", "-S", "-T", "-N"})
_TMUX_KEYS = frozenset({"Enter", "C-m", "C-j", "KPEnter", "Space", "Tab", "C-c"})


def _tmux(argv: Argv) -> Peeled | None:
    """``tmux new -d 'cmd'``, ``tmux send-keys -t x 'cmd' Enter``: a shell command in a pane."""
    k = _skip_options(argv, 1, frozenset({"-L", "-S", "-f", "-c", "-T"}))
    if k >= len(argv) or argv[k] not in _TMUX_RUNS:
        return None
    sub = argv[k]
    i = _skip_options(argv, k + 1, _TMUX_V)
    words = [w for w in argv[i:] if w != ";"]
    if sub in ("send-keys", "send"):
        words = [w for w in words if w not in _TMUX_KEYS]
    if not words:
        return None
    return Script(" ".join(words), f"tmux {sub}")


def _screen(argv: Argv) -> Peeled | None:
    """``screen -dmS name cmd...``; ``screen -X stuff 'cmd\\n'`` types into a session."""
    if "-X" in argv:
        k = list(argv).index("-X")
        if k + 2 < len(argv) and argv[k + 1] == "stuff":
            return Script(argv[k + 2].replace("\\n", "\n").replace("^M", "\n"), "screen stuff")
        return None
    i = _skip_options(argv, 1, frozenset({"-S", "-c", "-e", "-h", "-p", "-t", "-T", "-s", "-X", "-r", "-x", "-R"}))
    return _inner(argv, i, "screen")


def _at(argv: Argv) -> Peeled | None:
    """``at``/``batch`` read the job's shell commands from standard input or ``-f FILE``."""
    for k, a in enumerate(argv[1:], start=1):
        if a.startswith("-") and a[1:2] in ("l", "d", "r", "c"):
            return None  # list, delete or show jobs
        if a == "-f" and k + 1 < len(argv):
            return ScriptFile(argv[k + 1], argv[0])
    return ShellStdin(argv[0].rsplit("/", 1)[-1])


def _gdb(argv: Argv) -> Peeled | None:
    if "--args" in argv:
        return _inner(argv, list(argv).index("--args") + 1, "gdb --args")
    return None


def _chroot(argv: Argv) -> Peeled | None:
    i = _skip_options(argv, 1, frozenset(), long_with_value=frozenset({"--userspec", "--groups"}))
    return _inner(argv, i + 1, "chroot", remote=f"chroot:{argv[i]}" if i < len(argv) else None)


# -- remote execution ---------------------------------------------------------------------

SSH_VALUE_OPTIONS = frozenset(
    {
        "-b",
        "-c",
        "-D",
        "-E",
        "-e",
        "-F",
        "-I",
        "-i",
        "-J",
        "-L",
        "-l",
        "-m",
        "-O",
        "-o",
        "-p",
        "-Q",
        "-R",
        "-S",
        "-W",
        "-w",
        "-B",
        "-P",
    }
)


def _ssh(argv: Argv) -> Peeled | None:
    i = _skip_options(argv, 1, SSH_VALUE_OPTIONS)
    if i >= len(argv):
        return None
    host = argv[i]
    if i + 1 >= len(argv):
        return None  # interactive login
    return Script(" ".join(argv[i + 1 :]), "ssh", remote=host)


_DOCKER_EXEC_V = frozenset({"-u", "-w", "-e", "--user", "--workdir", "--env", "--env-file", "--detach-keys"})


def _docker(argv: Argv) -> Peeled | None:
    if len(argv) < 2:
        return None
    sub = argv[1]
    if sub == "exec":
        i = _skip_options(argv, 2, frozenset({"-u", "-w", "-e"}), long_with_value=_DOCKER_EXEC_V)
        if i + 1 < len(argv):
            return Inner(tuple(argv[i + 1 :]), label=f"{argv[0]} exec", remote=f"container:{argv[i]}")
    if sub in ("compose",) and len(argv) > 2 and argv[2] in ("exec", "run"):
        i = _skip_options(argv, 3, frozenset({"-u", "-w", "-e"}), long_with_value=_DOCKER_EXEC_V)
        if i + 1 < len(argv):
            return Inner(tuple(argv[i + 1 :]), label=f"{argv[0]} compose {argv[2]}", remote=f"service:{argv[i]}")
    return None


def _kubectl(argv: Argv) -> Peeled | None:
    if "exec" not in argv[1:3] or "--" not in argv:
        return None
    k = list(argv).index("--")
    pod = next((a for a in argv[2:k] if not a.startswith("-") and a != "exec"), "pod")
    if k + 1 < len(argv):
        return Inner(tuple(argv[k + 1 :]), label=f"{argv[0]} exec", remote=f"pod:{pod}")
    return None


# -- package runners ------------------------------------------------------------------------


def _runner(
    skip_words: int,
    label: str,
    with_value: frozenset[str] = frozenset(),
    long_v: frozenset[str] = frozenset(),
) -> object:
    def peel_runner(argv: Argv) -> Peeled | None:
        i = _skip_options(argv, skip_words, with_value, long_with_value=long_v)
        return _inner(argv, i, label)

    return peel_runner


def _npx(argv: Argv) -> Peeled | None:
    i = _skip_options(argv, 1, frozenset({"-p", "-c"}), long_with_value=frozenset({"--package", "--call"}))
    for k, a in enumerate(argv[1:i], start=1):
        if a in ("-c", "--call") and k + 1 < len(argv):
            return Script(argv[k + 1], f"{argv[0]} -c")
    return _inner(argv, i, argv[0])


def _pm_exec(argv: Argv) -> Peeled | None:
    # pnpm exec|dlx X, yarn exec|dlx X, npm exec -- X, bun x X
    if len(argv) >= 3 and argv[1] in ("exec", "dlx", "x"):
        i = _skip_options(argv, 2, frozenset({"-c", "-p"}), long_with_value=frozenset({"--package", "--call"}))
        return _inner(argv, i, f"{argv[0]} {argv[1]}")
    return None


def _uv(argv: Argv) -> Peeled | None:
    if len(argv) >= 3 and argv[1] in ("run", "tool") and argv[1:3] != ["tool", "install"]:
        start = 3 if argv[1] == "tool" and len(argv) > 2 and argv[2] == "run" else 2
        i = _skip_options(
            argv,
            start,
            frozenset({"-p", "-w"}),
            long_with_value=frozenset(
                {
                    "--with",
                    "--python",
                    "--from",
                    "--project",
                    "--directory",
                    "--env-file",
                    "--extra",
                    "--group",
                    "--package",
                }
            ),
        )
        return _inner(argv, i, "uv run")
    return None


def _subcommand_runner(sub: str, label: str) -> object:
    def peel_sub(argv: Argv) -> Peeled | None:
        if len(argv) >= 3 and argv[1] == sub:
            i = _skip_options(argv, 2, frozenset({"-n", "-e"}), long_with_value=frozenset({"--name", "--env"}))
            return _inner(argv, i, label)
        return None

    return peel_sub


def _busybox(argv: Argv) -> Peeled | None:
    return _inner(argv, 1, "busybox")


WRAPPERS: dict[str, object] = {
    "sudo": _sudo,
    "doas": _doas,
    "env": _env,
    "command": _command,
    "builtin": _simple("builtin"),
    "exec": _exec,
    "nohup": _simple("nohup"),
    "nice": _nice,
    "ionice": _simple(
        "ionice",
        frozenset({"-c", "-n", "-p", "-P", "-u"}),
        frozenset({"--class", "--classdata", "--pid", "--pgid", "--uid"}),
    ),
    "time": _simple("time", frozenset({"-f", "-o"}), frozenset({"--format", "--output"})),
    "timeout": _timeout,
    "stdbuf": _simple("stdbuf", frozenset({"-i", "-o", "-e"}), frozenset({"--input", "--output", "--error"})),
    "flock": _flock,
    "watch": _watch,
    "strace": _simple("strace", frozenset({"-o", "-e", "-p", "-s", "-u", "-P", "-a", "-E", "-I", "-b", "-X"})),
    "ltrace": _simple("ltrace", frozenset({"-o", "-e", "-p", "-s", "-u", "-a", "-n"})),
    "xargs": _xargs,
    "parallel": _parallel,
    "find": _find,
    "eval": _eval,
    "source": _source,
    ".": _source,
    "su": _su,
    "runuser": _runuser,
    "script": _script_cmd,
    "setsid": _simple("setsid"),
    "chroot": _chroot,
    "unbuffer": _simple("unbuffer"),
    "chronic": _simple("chronic"),
    "caffeinate": _simple("caffeinate", frozenset({"-t", "-w"})),
    "torsocks": _simple("torsocks"),
    "proxychains": _simple("proxychains", frozenset({"-f"})),
    "proxychains4": _simple("proxychains4", frozenset({"-f"})),
    "systemd-run": _simple(
        "systemd-run",
        frozenset({"-u", "-p", "-E", "-M", "-H"}),
        frozenset(
            {
                "--unit",
                "--property",
                "--setenv",
                "--description",
                "--slice",
                "--uid",
                "--gid",
                "--working-directory",
                "--machine",
                "--host",
            }
        ),
    ),
    "ssh": _ssh,
    "docker": _docker,
    "podman": _docker,
    "kubectl": _kubectl,
    "oc": _kubectl,
    "npx": _npx,
    "bunx": _npx,
    "pnpx": _npx,
    "pnpm": _pm_exec,
    "yarn": _pm_exec,
    "npm": _pm_exec,
    "bun": _pm_exec,
    "uv": _uv,
    "uvx": _runner(1, "uvx", frozenset({"-p"}), frozenset({"--with", "--python", "--from"})),
    "pipx": _subcommand_runner("run", "pipx run"),
    "poetry": _subcommand_runner("run", "poetry run"),
    "pdm": _subcommand_runner("run", "pdm run"),
    "hatch": _subcommand_runner("run", "hatch run"),
    "rye": _subcommand_runner("run", "rye run"),
    "bundle": _subcommand_runner("exec", "bundle exec"),
    "conda": _subcommand_runner("run", "conda run"),
    "mamba": _subcommand_runner("run", "mamba run"),
    "mise": _subcommand_runner("exec", "mise exec"),
    "rtx": _subcommand_runner("exec", "rtx exec"),
    "asdf": _subcommand_runner("exec", "asdf exec"),
    "direnv": _runner(3, "direnv exec"),
    "dotenv": _runner(1, "dotenv", frozenset({"-e", "-c", "-v"})),
    "busybox": _busybox,
    # schedulers, sandboxes, debuggers and terminal multiplexers that run a command
    "chrt": _after_positionals("chrt", 1, frozenset({"-T", "-P", "-D"})),
    "taskset": _after_positionals("taskset", 1),
    "nsenter": _simple(
        "nsenter",
        frozenset({"-t", "-S", "-G", "-w", "-r"}),
        frozenset({"--target", "--setuid", "--setgid", "--wd", "--root"}),
    ),
    "unshare": _simple("unshare", frozenset({"-S", "-G", "-R", "-w"}), frozenset({"--setuid", "--setgid"})),
    "firejail": _simple("firejail"),
    "bwrap": _simple("bwrap", frozenset(), frozenset({"--bind", "--ro-bind", "--dev-bind", "--chdir", "--setenv"})),
    "fakeroot": _simple("fakeroot", frozenset({"-l", "-i", "-s"}), frozenset({"--lib", "--faked"})),
    "xvfb-run": _simple(
        "xvfb-run",
        frozenset({"-e", "-f", "-n", "-p", "-s", "-w"}),
        frozenset({"--error-file", "--auth-file", "--server-num", "--xauth-protocol", "--server-args", "--wait"}),
    ),
    "valgrind": _simple("valgrind"),
    "pkexec": _simple("pkexec", frozenset(), frozenset({"--user"})),
    "sg": _sg,
    "tmux": _tmux,
    "screen": _screen,
    "at": _at,
    "batch": _at,
    "gdb": _gdb,
    "catchsegv": _simple("catchsegv"),
    "prlimit": _simple("prlimit", frozenset({"-p"}), frozenset({"--pid"})),
    "cgexec": _simple("cgexec", frozenset({"-g"})),
}
for _sh in SHELLS:
    WRAPPERS[_sh] = _shell


def peel(argv: Argv) -> Peeled | None:
    """What ``argv`` runs, when its program is a wrapper; ``None`` otherwise."""
    if not argv:
        return None
    name = argv[0].rsplit("/", 1)[-1]
    fn = WRAPPERS.get(name)
    if fn is None:
        return None
    result: Peeled | None = fn(argv)  # type: ignore[operator]
    return result
