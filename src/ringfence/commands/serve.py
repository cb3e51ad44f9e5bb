"""``ringfence serve``, ``ringfence token issue|list|revoke`` and ``ringfence user add``."""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import Any

EXIT_USAGE = 3


def add_parser(sub: Any) -> None:
    s: argparse.ArgumentParser = sub.add_parser(
        "serve",
        help="run the control-plane server: HTTP API, approval dashboard, metrics",
        description="Run the control plane on embedded SQLite (default) or PostgreSQL (--database). Several "
        "replicas on one PostgreSQL database behave as one service.",
    )
    s.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    s.add_argument("--port", type=int, default=8470, help="port (default 8470)")
    s.add_argument("--database", metavar="URL", help="postgresql://… holding the ledger and control state")
    s.add_argument("--workers", type=int, default=1, help="server processes (default 1; one per core for load)")
    s.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    s.set_defaults(run=run_serve)

    t: argparse.ArgumentParser = sub.add_parser(
        "token",
        help="issue, list or revoke agent tokens for the server",
        description="Agents authenticate to the server with short-lived tokens signed by the server's key.",
    )
    tsub = t.add_subparsers(title="token commands", metavar="COMMAND")
    ti = tsub.add_parser("issue", help="issue a token for an agent")
    ti.add_argument("--agent", required=True, help="the agent id the token acts as")
    ti.add_argument("--ttl", default="1h", help="lifetime: 15m, 1h, 7d (default 1h, at most 30d)")
    ti.add_argument("--scope", default="decide,wait", help="comma-separated: decide, wait (default both)")
    ti.add_argument("--database", metavar="URL", help="the server's PostgreSQL database, if it uses one")
    ti.set_defaults(run=run_issue)
    tl = tsub.add_parser("list", help="tokens issued, newest first")
    tl.add_argument("--database", metavar="URL")
    tl.set_defaults(run=run_list)
    tr = tsub.add_parser("revoke", help="revoke a token by id (tok-…)")
    tr.add_argument("token_id")
    tr.add_argument("--database", metavar="URL")
    tr.set_defaults(run=run_revoke)

    def usage(ns: argparse.Namespace) -> int:
        t.print_help()
        return EXIT_USAGE

    t.set_defaults(run=usage)

    u: argparse.ArgumentParser = sub.add_parser(
        "user",
        help="add or reset a human account for the dashboard",
        description="Human accounts sign in to the dashboard; use the approver id as the user name.",
    )
    usub = u.add_subparsers(title="user commands", metavar="COMMAND")
    ua = usub.add_parser("add", help="add a user, or set a new password")
    ua.add_argument("name")
    ua.add_argument("--password-stdin", action="store_true", help="read the password from stdin (for scripts)")
    ua.add_argument("--database", metavar="URL")
    ua.set_defaults(run=run_user_add)

    def user_usage(ns: argparse.Namespace) -> int:
        u.print_help()
        return EXIT_USAGE

    u.set_defaults(run=user_usage)


def _store(database: str | None) -> Any:
    import os

    from ringfence.config import load_settings
    from ringfence.control.store import open_store

    settings = load_settings(os.getcwd())
    return settings, open_store(database or settings.state_location)


def _key(settings: Any) -> Any:
    from ringfence.config import state_dir
    from ringfence.server.identity import server_key

    folder = settings.ledger_path.parent if settings.ledger_path else state_dir()
    return server_key(folder)


def run_serve(ns: argparse.Namespace) -> int:
    import os
    import shutil
    import tempfile

    import uvicorn
    from rich.console import Console

    from ringfence.errors import ConfigError

    if not 1 <= ns.port <= 65535:
        raise ConfigError("--port must be between 1 and 65535")
    if not 1 <= ns.workers <= 64:
        raise ConfigError("--workers must be between 1 and 64 (one per core is a good start)")
    if ns.database and not ns.database.startswith(("postgresql://", "postgres://")):
        raise ConfigError("--database takes a postgresql:// URL (SQLite is the default and needs no option)")
    os.environ["RINGFENCE_SERVE_CWD"] = os.getcwd()
    os.environ["RINGFENCE_SERVE_DATABASE"] = ns.database or ""
    os.environ["RINGFENCE_SERVE_LOG_LEVEL"] = ns.log_level
    metrics_dir = None
    if ns.workers > 1:  # Prometheus counters are summed over the worker processes
        metrics_dir = tempfile.mkdtemp(prefix="ringfence-metrics-")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir
    from ringfence.server.factory import build

    build().state.rf.close()  # open and migrate once, so workers start on a ready database
    Console(stderr=True).print(
        f"ringfence control plane on http://{ns.host}:{ns.port} with {ns.workers} worker(s)"
        + (f" on {_redact_url(ns.database)}" if ns.database else " on embedded SQLite"),
        highlight=False,
    )
    try:
        uvicorn.run(
            "ringfence.server.factory:build",
            factory=True,
            host=ns.host,
            port=ns.port,
            workers=ns.workers if ns.workers > 1 else None,
            log_level="warning",
            access_log=False,
            timeout_graceful_shutdown=10,
            server_header=False,
        )
    finally:
        if metrics_dir:
            shutil.rmtree(metrics_dir, ignore_errors=True)
    return 0


def _redact_url(url: str) -> str:
    import re

    return re.sub(r"://([^:/@]+):[^@]*@", r"://\1:***@", url)


def run_issue(ns: argparse.Namespace) -> int:
    from ringfence.control.settings import parse_duration
    from ringfence.errors import ConfigError
    from ringfence.server.identity import issue_token

    try:
        ttl = parse_duration(ns.ttl, "--ttl")
    except ConfigError as exc:
        sys.stderr.write(f"error: {exc}\n")
        return EXIT_USAGE
    scopes = frozenset(s.strip() for s in ns.scope.split(",") if s.strip())
    settings, store = _store(ns.database)
    try:
        token, claims = issue_token(store, _key(settings), ns.agent, ttl=ttl, scopes=scopes, by=getpass.getuser())
    finally:
        store.close()
    sys.stdout.write(token + "\n")
    sys.stderr.write(
        f"token {claims.id} for agent {claims.agent} ({', '.join(sorted(claims.scopes))}), expires in {ns.ttl}. "
        "Give it to the agent as RINGFENCE_TOKEN; revoke with `ringfence token revoke " + claims.id + "`.\n"
    )
    return 0


def run_list(ns: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.table import Table

    from ringfence.commands._control import when
    from ringfence.server.identity import list_tokens

    _, store = _store(ns.database)
    try:
        rows = list_tokens(store)
        now = store.clock()
    finally:
        store.close()
    table = Table(title=f"{len(rows)} token(s)")
    for col in ("id", "agent", "scopes", "issued", "expires", "state"):
        table.add_column(col)
    for tid, agent, scopes, issued, expires, revoked in rows:
        st = "revoked" if revoked else ("expired" if expires <= now else "valid")
        table.add_row(tid, agent, scopes, when(issued), when(expires), st)
    Console().print(table)
    return 0


def run_revoke(ns: argparse.Namespace) -> int:
    from ringfence.server.identity import revoke_token

    _, store = _store(ns.database)
    try:
        ok = revoke_token(store, ns.token_id, by=getpass.getuser())
    finally:
        store.close()
    if not ok:
        sys.stderr.write(f"error: no valid token {ns.token_id!r} (see `ringfence token list`)\n")
        return EXIT_USAGE
    sys.stdout.write(f"revoked {ns.token_id}; the server refuses it from its next request\n")
    return 0


def run_user_add(ns: argparse.Namespace) -> int:
    from ringfence.commands._control import require_human
    from ringfence.server.identity import set_user

    require_human("create a dashboard account")
    if ns.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass(f"password for {ns.name}: ")
        if getpass.getpass("again: ") != password:
            sys.stderr.write("error: the passwords differ; nothing changed\n")
            return EXIT_USAGE
    _, store = _store(ns.database)
    try:
        set_user(store, ns.name, password)
    finally:
        store.close()
    sys.stdout.write(f"user {ns.name} can sign in to the dashboard\n")
    return 0
