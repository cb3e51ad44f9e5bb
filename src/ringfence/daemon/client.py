"""The hook process: ask the warm daemon, else decide in-process. Never crashes.

With ``RINGFENCE_SERVER`` set, the hook asks that server instead (see
:mod:`ringfence.daemon.remote`) and decides locally only when it cannot be reached.

This module is imported on every tool call, so it imports only what it must: the
in-process gate loads only when the daemon cannot answer.
"""

from __future__ import annotations

import _socket
import os
import sys

from ringfence.daemon import FORWARDED_ENV, socket_path

TYPE_CHECKING = False  # not typing.TYPE_CHECKING: importing typing costs ~8 ms per call
if TYPE_CHECKING:
    from collections.abc import Callable

MAX_STDIN = 8 * 1024 * 1024
CONNECT_TIMEOUT = 0.25
ANSWER_TIMEOUT = 20.0

_LAST_RESORT = "ringfence internal error; denied because ringfence fails closed. Run `ringfence doctor`."


def run_hook(runtime: str) -> int:
    """Entry point of ``ringfence hook <runtime>``: stdin payload → stdout decision."""
    try:
        raw = sys.stdin.buffer.read(MAX_STDIN + 1)
        if os.environ.get("RINGFENCE_SERVER"):
            return _remote(runtime, raw)
        out = None
        use_daemon = os.environ.get("RINGFENCE_DAEMON", "1") not in ("0", "false", "no", "off")
        if use_daemon:
            out = _ask_daemon(runtime, raw)
        spawn = False
        if out is None:
            out = _in_process(runtime, raw)
            spawn = use_daemon
        _write(out)
        if spawn:
            _spawn_daemon()
        return 0
    except BaseException as exc:  # the hook must never crash: runtimes treat that as allow
        try:
            from ringfence.adapters.contracts import deny_line

            _write(deny_line(runtime, _LAST_RESORT))
            return 0
        except BaseException:
            try:  # noqa: SIM105 (contextlib costs ~4 ms to import on every call)
                sys.stderr.write(f"ringfence: internal error ({type(exc).__name__}); denied (fail closed)\n")
            except BaseException:
                pass
            return 2  # every runtime with a hook blocks the call on exit 2


def _remote(runtime: str, raw: bytes) -> int:
    from ringfence.daemon import remote
    from ringfence.daemon.offline import refresh_in_background as remote_refresh

    out, refresh = remote.ask(runtime, raw, isolated)
    _write(out)
    if refresh is not None:
        try:  # noqa: SIM105 (contextlib costs ~4 ms to import on every call)
            remote_refresh(refresh)
        except Exception:
            pass  # the cache is an optimisation for outages; this decision is already made
    return 0


def _write(out: str) -> None:
    sys.stdout.write(out + "\n")
    sys.stdout.flush()


def _ask_daemon(runtime: str, raw: bytes) -> str | None:
    path = socket_path()
    env_lines = []
    for key in FORWARDED_ENV:
        value = os.environ.get(key)
        if value is not None and "\n" not in value:
            env_lines.append(f"{key}={value}")
    header = f"RF1\n{runtime}\n{os.getcwd()}\n" + "".join(line + "\n" for line in env_lines) + "\n"
    # _socket, not socket: the wrapper module imports enum and selectors (~8 ms per call)
    try:
        s = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
    except OSError:
        return None
    try:
        s.settimeout(CONNECT_TIMEOUT)
        s.connect(path)
        s.settimeout(ANSWER_TIMEOUT)
        s.sendall(header.encode("utf-8", "surrogateescape") + raw)
        s.shutdown(_socket.SHUT_WR)
        chunks = []
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            chunks.append(chunk)
    except OSError:
        return None
    finally:
        s.close()
    reply = b"".join(chunks)
    head, sep, body = reply.partition(b"\n")
    parts = head.split(b" ")
    if not sep or parts[0] != b"OK" or len(parts) != 2 or not parts[1].isdigit() or int(parts[1]) != len(body):
        return None  # STALE, DECLINE, a truncated answer or a broken daemon: decide here
    text = body.decode("utf-8", "replace").strip()
    return text if text.startswith("{") and text.endswith("}") else None


def _in_process(runtime: str, raw: bytes) -> str:
    def decide() -> str:
        from ringfence.daemon.dispatch import answer

        return answer(runtime, raw, os.environ)

    return isolated(decide, runtime)


def isolated(compute: Callable[[], str], runtime: str) -> str:
    """``compute()`` in a forked child, so that even a native crash of the parser (a
    signal, which no ``except`` can catch) ends in a deny instead of a dead hook."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: decide, hand the answer to the parent, never return
        try:
            os.close(r)
            # stdout is the runtime's answer channel, written by the parent alone: anything
            # the decision path prints goes to stderr (Gemini CLI reads stray text as allow)
            os.dup2(2, 1)
            view = memoryview(compute().encode("utf-8"))
            while view:
                view = view[os.write(w, view) :]
        finally:
            os._exit(0)
    os.close(w)
    chunks = []
    while True:
        chunk = os.read(r, 65536)
        if not chunk:
            break
        chunks.append(chunk)
    os.close(r)
    _, status = os.waitpid(pid, 0)
    out = b"".join(chunks).decode("utf-8", "replace").strip()
    if os.WIFSIGNALED(status) or not (out.startswith("{") and out.endswith("}")):
        how = f"signal {os.WTERMSIG(status)}" if os.WIFSIGNALED(status) else "no answer"
        return _crashed(runtime, how)
    return out


def _crashed(runtime: str, how: str) -> str:
    from ringfence.adapters.contracts import deny_line

    return deny_line(
        runtime,
        f"ringfence: the analyzer stopped ({how}) while deciding this action; denied because ringfence fails "
        "closed. Run `ringfence doctor` and report the command.",
    )


def _spawn_daemon() -> None:
    try:
        import subprocess

        subprocess.Popen(
            [sys.executable, "-m", "ringfence.daemon.server", socket_path()],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
            close_fds=True,
        )
    except Exception:
        pass  # the daemon is an optimisation; this decision is already made
