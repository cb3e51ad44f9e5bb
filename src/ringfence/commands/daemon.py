"""``ringfence daemon status|stop``: the warm path's local daemon."""

from __future__ import annotations

import argparse
import os
import socket
from typing import Any


def add_parser(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "daemon",
        help="status or stop of the local warm daemon the hook uses",
        description="The hook starts a per-user daemon on demand to answer faster; it exits after 30 idle minutes.",
    )
    p.add_argument("action", choices=("status", "stop"))
    p.set_defaults(run=run)


def run(ns: argparse.Namespace) -> int:
    from rich.console import Console

    from ringfence.daemon import socket_path

    console = Console()
    path = socket_path()
    alive = _alive(path)
    if ns.action == "status":
        console.print(f"daemon {'[green]running[/]' if alive else '[yellow]not running[/]'} at {path}")
        if not alive:
            console.print("It starts by itself on the next hook call; set RINGFENCE_DAEMON=0 to never use it.")
        return 0
    if not alive:
        console.print("daemon is not running")
        return 0
    pid = _owner_pid(path)
    if pid is None:
        console.print("[red]could not find the daemon's process[/] (is it another user's?)")
        return 3
    try:
        os.kill(pid, 15)
    except OSError as exc:
        console.print(f"[red]could not stop the daemon:[/] {exc.strerror}")
        return 3
    console.print("daemon stopped")
    return 0


def _alive(path: str) -> bool:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        s.settimeout(0.5)
        s.connect(path)
        return True
    except OSError:
        return False
    finally:
        s.close()


def _owner_pid(path: str) -> int | None:
    import struct

    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        s.settimeout(0.5)
        s.connect(path)
        creds = s.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
        pid, uid, _gid = struct.unpack("3i", creds)
        return pid if uid == os.getuid() else None
    except OSError:
        return None
    finally:
        s.close()
