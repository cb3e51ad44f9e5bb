"""The warm daemon: ``python -m ringfence.daemon.server SOCKET``.

One per user and installation. It listens on a Unix socket inside an owner-only
directory, answers hook calls with the same code the in-process path runs, reloads a
gate when its configuration files change, says ``STALE`` and exits when its own code
changed on disk, and exits after :data:`IDLE_SECONDS` without a call.
"""

from __future__ import annotations

import contextlib
import os
import socket
import socketserver
import stat
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from ringfence.daemon.dispatch import answer
from ringfence.gate import Gate

IDLE_SECONDS = 30 * 60
SWEEP_SECONDS = 5.0  # how often the daemon expires, escalates and sends notifications
MAX_REQUEST = 8 * 1024 * 1024 + 65536


def _code_stamp() -> float:
    root = Path(__file__).resolve().parent.parent
    newest = 0.0
    for p in root.rglob("*"):
        if p.suffix in (".py", ".yaml"):
            with contextlib.suppress(OSError):
                newest = max(newest, p.stat().st_mtime)
    return newest


class _State:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.gates: dict[tuple[object, ...], tuple[tuple[tuple[str, float], ...], Gate]] = {}
        self.code_stamp = _code_stamp()
        self.code_checked = time.monotonic()
        self.last_call = time.monotonic()
        self.stale = False

    def check_code(self) -> bool:
        now = time.monotonic()
        if now - self.code_checked > 1.0:
            self.code_checked = now
            if _code_stamp() != self.code_stamp:
                self.stale = True
        return not self.stale

    def gate_for(self, cwd: str, env: dict[str, str]) -> Gate:
        from ringfence.config import config_files

        files = config_files(cwd)
        stamp = tuple((str(p), _mtime(p)) for p in files)
        key = (tuple(sorted(env.items())), tuple(str(p) for p in files))
        cached = self.gates.get(key)
        if cached is not None and cached[0] == stamp:
            from ringfence.policy.layers import sources_stamp

            if cached[1].sources == sources_stamp(cached[1].settings, cwd):
                return cached[1]
        gate = Gate.for_cwd(cwd)
        if cached is not None:
            if cached[1].ledger is not None:
                cached[1].ledger.close()
            if cached[1].control is not None:
                cached[1].control.store.close()
        self.gates[key] = (stamp, gate)
        return gate

    def sweep(self) -> None:
        """Expire, escalate and notify for every control state this daemon's gates use
        (see :mod:`ringfence.control.outbox`). Never raises: a failed notification must
        not take the daemon down."""
        from ringfence.control.outbox import run_once

        done: set[str] = set()
        for _stamp, gate in list(self.gates.values()):
            control = gate.control
            if control is None or control.store.where in done:
                continue
            done.add(control.store.where)
            wanted = control.settings.channels or control.settings.escalate_after is not None
            if wanted:
                with contextlib.suppress(Exception):
                    run_once(control.store, control.settings)


def _refresh_bytecode() -> None:
    """Write current .pyc files for the package.

    Every hook call is a new interpreter; with ``PYTHONDONTWRITEBYTECODE`` set (or after an
    upgrade of an editable install) it would recompile each hook-path module from source on
    every call, a few milliseconds each. ``compileall`` writes them explicitly.
    """
    import compileall

    with contextlib.suppress(Exception):
        compileall.compile_dir(str(Path(__file__).resolve().parent.parent), quiet=2)


def _mtime(p: Path) -> float:
    try:
        return p.stat().st_mtime
    except OSError:
        return -1.0


@contextlib.contextmanager
def _environment(env: dict[str, str]) -> Iterator[None]:
    from ringfence.daemon import FORWARDED_ENV

    saved = {k: os.environ.get(k) for k in FORWARDED_ENV}
    try:
        for k in FORWARDED_ENV:
            if k in env:
                os.environ[k] = env[k]
            else:
                os.environ.pop(k, None)
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def parse_request(data: bytes) -> tuple[str, str, dict[str, str], bytes]:
    head, sep, payload = data.partition(b"\n\n")
    lines = head.decode("utf-8", "surrogateescape").split("\n")
    if not sep or len(lines) < 3 or lines[0] != "RF1":
        raise ValueError("malformed request")
    env = {}
    for line in lines[3:]:
        k, eq, v = line.partition("=")
        if eq:
            env[k] = v
    return lines[1], lines[2], env, payload


def _handler(state: _State) -> type[socketserver.BaseRequestHandler]:
    class Handler(socketserver.BaseRequestHandler):
        def handle(self) -> None:
            conn: socket.socket = self.request
            conn.settimeout(10.0)
            chunks = []
            total = 0
            try:
                while True:
                    chunk = conn.recv(65536)
                    if not chunk:
                        break
                    total += len(chunk)
                    if total > MAX_REQUEST:
                        conn.sendall(b"DECLINE\n")
                        return
                    chunks.append(chunk)
                runtime, cwd, env, payload = parse_request(b"".join(chunks))
            except (OSError, ValueError):
                with contextlib.suppress(OSError):
                    conn.sendall(b"DECLINE\n")
                return
            with state.lock:
                state.last_call = time.monotonic()
                if not state.check_code():
                    conn.sendall(b"STALE\n")
                    threading.Thread(target=self.server.shutdown, daemon=True).start()
                    return
                with _environment(env):
                    with contextlib.suppress(OSError):
                        os.chdir(cwd)
                    out = answer(runtime, payload, env, lambda c: state.gate_for(c, env))
            with contextlib.suppress(OSError):
                body = out.encode("utf-8") + b"\n"
                conn.sendall(b"OK %d\n" % len(body) + body)

    return Handler


class _Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True


def _prepare_dir(path: str) -> None:
    d = os.path.dirname(path)
    os.makedirs(d, mode=0o700, exist_ok=True)
    st = os.lstat(d)
    if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.getuid() or stat.S_IMODE(st.st_mode) & 0o077:
        raise SystemExit(f"refusing to use {d}: not an owner-only directory of this user")


def _already_served(path: str) -> bool:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        s.settimeout(0.5)
        s.connect(path)
        return True
    except OSError:
        return False
    finally:
        s.close()


def serve(path: str, idle_seconds: float = IDLE_SECONDS) -> None:
    _prepare_dir(path)
    lock_path = path + ".lock"
    import fcntl

    lock_fd = os.open(lock_path, os.O_CREAT | os.O_RDWR, 0o600)
    try:
        fcntl.flock(lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return  # another daemon is starting or running
    if _already_served(path):
        return
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)
    state = _State()
    old_umask = os.umask(0o077)
    try:
        server = _Server(path, _handler(state))
    finally:
        os.umask(old_umask)
    # warm everything the first call would otherwise pay for
    with contextlib.suppress(Exception):
        from ringfence.analyze import Context, analyze_shell

        analyze_shell("git status && echo warm", Context.for_cwd("/"))
        import sqlglot  # noqa: F401

    threading.Thread(target=_refresh_bytecode, daemon=True).start()

    def reaper() -> None:
        while True:
            time.sleep(min(30.0, idle_seconds / 4))
            if time.monotonic() - state.last_call > idle_seconds or state.stale:
                server.shutdown()
                return

    threading.Thread(target=reaper, daemon=True).start()

    def sweeper() -> None:
        while True:
            time.sleep(SWEEP_SECONDS)
            state.sweep()

    threading.Thread(target=sweeper, daemon=True).start()
    try:
        server.serve_forever(poll_interval=0.5)
    finally:
        server.server_close()
        with contextlib.suppress(OSError):
            if os.path.exists(path):
                os.unlink(path)
        os.close(lock_fd)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if not args:
        from ringfence.daemon import socket_path

        args = [socket_path()]
    serve(args[0])
    return 0


if __name__ == "__main__":
    sys.exit(main())
