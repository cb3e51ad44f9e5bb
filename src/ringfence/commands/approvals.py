"""``ringfence approvals list|show|approve|deny`` and ``ringfence wait``."""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

EXIT_USAGE = 3
EXIT_DENIED = 2
EXIT_EXPIRED = 3
EXIT_TIMEOUT = 4
STATUS_STYLE = {
    "pending": "yellow",
    "approved": "green",
    "used": "dim green",
    "denied": "bold red",
    "expired": "dim",
}


def add_parser(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "approvals",
        help="list, inspect, approve or deny approval requests (AR-…)",
        description="Human approvals for held agent actions. Every answer is signed with your key "
        "(`ringfence keys create <your-id>`) and recorded in the ledger.",
    )
    asub = p.add_subparsers(title="approvals commands", metavar="COMMAND")
    ls = asub.add_parser("list", help="pending requests (or --status/--all)", description="List approval requests.")
    ls.add_argument("--status", choices=["pending", "approved", "used", "denied", "expired"], default=None)
    ls.add_argument("--all", action="store_true", help="every status, newest first")
    ls.add_argument("-n", "--limit", type=int, default=50, help="at most this many (default 50)")
    ls.add_argument("--json", action="store_true", help="JSON Lines, one request per line")
    ls.set_defaults(run=run_list)
    show = asub.add_parser("show", help="one request: action, effects, answers (signatures checked), history")
    show.add_argument("request_id", metavar="AR-ID")
    show.add_argument("--json", action="store_true")
    show.set_defaults(run=run_show)
    for verb, helptext in (("approve", "approve a request (signed with your key)"), ("deny", "deny a request")):
        a = asub.add_parser(verb, help=helptext, description=f"{helptext.capitalize()}.")
        a.add_argument("request_id", metavar="AR-ID")
        a.add_argument("--as", dest="as_name", metavar="NAME", help="which of your keys signs (default: the only one)")
        a.add_argument("-m", "--comment", default="", help="why (recorded and signed with the answer)")
        a.add_argument("--json", action="store_true")
        a.set_defaults(run=run_answer, verdict=verb)

    sw = asub.add_parser(
        "sweep",
        help="expire, escalate and send queued notifications (once, or --watch)",
        description="Expire pending requests past their TTL, escalate those waiting longer than "
        "approvals.escalate_after, and post queued Slack/webhook notifications. The warm daemon and the "
        "server do this every few seconds; run it from cron or with --watch where neither runs.",
    )
    sw.add_argument("--watch", action="store_true", help="keep sweeping (Ctrl-C stops)")
    sw.add_argument("--interval", default="5s", help="pause between sweeps with --watch (default 5s)")
    sw.set_defaults(run=run_sweep)

    def usage(ns: argparse.Namespace) -> int:
        p.print_help()
        return EXIT_USAGE

    p.set_defaults(run=usage)

    w: argparse.ArgumentParser = sub.add_parser(
        "wait",
        help="block until a request is approved (0), denied (2) or expired (3); timeout 4",
        description="Block a pipeline until an approval request is decided. Exit 0 approved, 2 denied, "
        "3 expired (or no such request), 4 still pending when --timeout ran out.",
    )
    w.add_argument("request_id", metavar="AR-ID")
    w.add_argument("--timeout", default="30m", help="give up after this long: 90s, 30m, 2h (default 30m)")
    w.add_argument("--interval", default="2s", help="how often to look (default 2s)")
    w.add_argument("--quiet", action="store_true", help="no progress output")
    w.set_defaults(run=run_wait)


def _err(message: str) -> int:
    from rich.console import Console
    from rich.markup import escape

    Console(stderr=True).print(f"[bold red]error:[/] {escape(message)}", highlight=False)
    return EXIT_USAGE


def _request_id(raw: str) -> str:
    import re

    rid = raw.strip().upper()
    if not re.fullmatch(r"AR-[0-9A-Z]{4,32}", rid):
        from ringfence.errors import ApprovalError

        raise ApprovalError(f"{raw!r} is not an approval request id; they look like AR-7K2Q9XMB")
    return rid


def run_list(ns: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    from ringfence.commands._control import ago, open_control
    from ringfence.control.approvals import tally

    if ns.limit < 1:
        return _err("--limit must be at least 1")
    ctx = open_control()
    try:
        status = None if ns.all else (ns.status or "pending")
        requests = ctx.store.requests(status=status, limit=ns.limit)
        now = ctx.store.clock()
        if ns.json:
            for r in requests:
                t = tally(r, ctx.store.approvals(r.id), ctx.settings.control)
                sys.stdout.write(json.dumps(_request_json(r, t, now), sort_keys=True) + "\n")
            return 0
        console = Console()
        if not requests:
            console.print(f"No {status or ''} approval requests in {ctx.store.where}.".replace("  ", " "))
            return 0
        table = Table(title=f"{len(requests)} {status or ''} request(s)".replace("  ", " "), expand=False)
        for col in ("id", "status", "requested", "expires", "by", "tier", "action", "approvals"):
            table.add_column(col, overflow="fold")
        for r in requests:
            t = tally(r, ctx.store.approvals(r.id), ctx.settings.control)
            st = r.effective_status(now)
            table.add_row(
                r.id,
                f"[{STATUS_STYLE.get(st, '')}]{st}[/]",
                ago(r.created_at, now),
                ago(r.expires_at, now) if st == "pending" else "",
                escape(f"{r.requester_type}:{r.requester_id}"),
                r.tier,
                escape(r.summary[:80]),
                _progress(t),
            )
        console.print(table)
        return 0
    finally:
        ctx.close()


def _progress(t: Any) -> str:
    parts = []
    if t.approved_by:
        parts.append("✓ " + ", ".join(t.approved_by))
    if t.denied_by:
        parts.append("✗ " + ", ".join(t.denied_by))
    if t.missing and not t.denied:
        parts.append(f"needs {t.missing}")
    return "; ".join(parts)


def _request_json(r: Any, t: Any, now: float) -> dict[str, Any]:
    return {
        **r.document(now),
        "requirement": r.body.get("requirement"),
        "rules": r.body.get("rules"),
        "effects": r.body.get("effects"),
        "action": r.body.get("action"),
        "approved_by": list(t.approved_by),
        "denied_by": list(t.denied_by),
        "not_counted": [{"approver": a, "why": why} for a, why in t.ignored],
        "missing": t.missing,
    }


def run_show(ns: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.markup import escape

    from ringfence.commands._control import ago, open_control, when
    from ringfence.control.approvals import Requirement, signature_problem, tally

    rid = _request_id(ns.request_id)
    ctx = open_control()
    try:
        r = ctx.store.get(rid)
        records = ctx.store.approvals(rid)
        t = tally(r, records, ctx.settings.control)
        now = ctx.store.clock()
        if ns.json:
            doc = _request_json(r, t, now)
            doc["answers"] = [
                {
                    "approver": a.approver,
                    "verdict": a.verdict,
                    "at": a.at,
                    "via": a.via,
                    "statement": a.statement,
                    "signature": a.signature,
                    "key_id": a.key_id,
                    "signature_valid": signature_problem(a, r, ctx.settings.control) is None,
                }
                for a in records
            ]
            doc["history"] = [
                {"at": e.at, "kind": e.kind, "actor": e.actor, "detail": dict(e.detail)} for e in ctx.store.events(rid)
            ]
            sys.stdout.write(json.dumps(doc, sort_keys=True, indent=2) + "\n")
            return 0
        st = r.effective_status(now)
        c = Console()
        c.print(f"[bold]{r.id}[/]  [{STATUS_STYLE.get(st, '')}]{st}[/]  tier {r.tier}", highlight=False)
        c.print(f"  action     [bold]{escape(r.summary)}[/]", highlight=False)
        c.print(f"  digest     {r.digest}", highlight=False)
        owner = f" (owner {r.owner})" if r.owner else ""
        c.print(f"  requester  {escape(r.requester_type)}:{escape(r.requester_id)}{escape(owner)}", highlight=False)
        if r.environment:
            c.print(f"  env        {r.environment}", highlight=False)
        c.print(f"  needs      {escape(Requirement.from_dict(r.body.get('requirement') or {}).describe())}")
        c.print(f"  rules      {escape(', '.join(r.body.get('rules') or []))}", highlight=False)
        kinds = [str(e.get("kind")) for e in r.body.get("effects") or [] if isinstance(e, dict)]
        c.print(f"  effects    {escape(', '.join(kinds))}", highlight=False)
        c.print(f"  why        {escape(str(r.body.get('reason', '')))}", highlight=False)
        c.print(f"  requested  {when(r.created_at)} ({ago(r.created_at, now)})", highlight=False)
        if st == "pending":
            c.print(f"  expires    {when(r.expires_at)} ({ago(r.expires_at, now)})", highlight=False)
        if r.status == "approved":
            c.print(f"  grant      {r.uses_left} use(s) left, valid until {when(r.grant_expires_at)}", highlight=False)
        c.print("  answers")
        if not records:
            c.print("    none yet")
        for a in records:
            problem = signature_problem(a, r, ctx.settings.control)
            sig = "[green]signature ok[/]" if problem is None else f"[bold red]INVALID: {escape(problem)}[/]"
            mark = "✓" if a.verdict == "approve" else "✗"
            c.print(f"    {mark} {escape(a.approver)} {a.verdict} {when(a.at)} via {a.via} — {sig}", highlight=False)
        for approver, why in t.ignored:
            c.print(f"    [dim]not counted: {escape(approver)}: {escape(why)}[/]", highlight=False)
        if st == "pending":
            c.print(f"  still needs {escape(t.missing) if t.missing else 'nothing'}", highlight=False)
        c.print("  history")
        for e in ctx.store.events(rid):
            c.print(f"    {when(e.at)}  {e.kind:<10} {escape(e.actor)}", highlight=False)
        return 0
    finally:
        ctx.close()


def run_answer(ns: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.markup import escape

    from ringfence.commands._control import open_control, record, require_human, when
    from ringfence.control.answers import answer
    from ringfence.control.answers import ledger_entry as answer_entry
    from ringfence.control.keys import load_key

    verb = "approve" if ns.verdict == "approve" else "deny"
    require_human(f"{verb} an approval request")
    rid = _request_id(ns.request_id)
    key = load_key(ns.as_name)
    ctx = open_control()
    try:
        result = answer(ctx.store, ctx.settings.control, rid, verb, key, comment=ns.comment)
    finally:
        ctx.close()
    a = result.record
    record(
        ctx.settings,
        answer_entry(result),
    )
    if ns.json:
        sys.stdout.write(
            json.dumps(
                {
                    "request": rid,
                    "answer": verb,
                    "approver": a.approver,
                    "status": result.request.status,
                    "missing": result.tally.missing,
                    "grant_expires_at": result.request.grant_expires_at,
                },
                sort_keys=True,
            )
            + "\n"
        )
        return 0
    c = Console()
    r = result.request
    if r.status == "approved":
        c.print(
            f"[green]✓[/] {escape(a.approver)} approved {rid}: [bold green]approved[/] by "
            f"{escape(', '.join(result.tally.approved_by))}. The agent's retry of exactly this action will pass "
            f"(valid until {when(r.grant_expires_at)}, {r.uses_left} use(s)).",
            highlight=False,
        )
    elif r.status == "denied":
        c.print(f"[red]✗[/] {escape(a.approver)} denied {rid}: the request is [bold red]denied[/].", highlight=False)
    else:
        c.print(
            f"[green]✓[/] {escape(a.approver)} {'approved' if verb == 'approve' else 'denied'} {rid}; "
            f"still pending: needs {escape(result.tally.missing)}.",
            highlight=False,
        )
    return 0


def run_wait(ns: argparse.Namespace) -> int:
    from rich.console import Console

    from ringfence.commands._control import open_control
    from ringfence.control.approvals import tally
    from ringfence.control.settings import parse_duration
    from ringfence.errors import ConfigError

    rid = _request_id(ns.request_id)
    try:
        timeout = parse_duration(ns.timeout, "--timeout")
        interval = parse_duration(ns.interval, "--interval")
    except ConfigError as exc:
        return _err(str(exc))
    err = Console(stderr=True)
    deadline = time.monotonic() + timeout
    import os

    server = os.environ.get("RINGFENCE_SERVER")
    if server:
        return _wait_exit(rid, _wait_remote(server, rid, deadline, err, quiet=ns.quiet), ns, err)
    ctx = open_control()
    try:
        request = ctx.store.get(rid)  # unknown id: a clear error before any waiting
        status: str | None = None
        with err.status(f"waiting for {rid}…", spinner="dots") if not ns.quiet and err.is_terminal else _Null() as s:
            while True:
                request = ctx.store.get(rid)
                status = request.effective_status(ctx.store.clock())
                if status != "pending":
                    break
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                if s is not None:
                    t = tally(request, ctx.store.approvals(rid), ctx.settings.control)
                    s.update(f"waiting for {rid}: needs {t.missing or 'a decision'} — {int(left)}s left")
                time.sleep(min(interval, max(left, 0.01)))
    finally:
        ctx.close()
    return _wait_exit(rid, status or "pending", ns, err)


def _wait_exit(rid: str, t_final: str, ns: argparse.Namespace, err: Any) -> int:
    if t_final in ("approved", "used"):
        if not ns.quiet:
            err.print(f"[green]{rid} approved[/]: retry the action now.", highlight=False)
        return 0
    if t_final == "denied":
        if not ns.quiet:
            err.print(f"[bold red]{rid} denied[/].", highlight=False)
        return EXIT_DENIED
    if t_final == "expired":
        if not ns.quiet:
            err.print(f"{rid} expired before enough approvers answered.", highlight=False)
        return EXIT_EXPIRED
    if not ns.quiet:
        err.print(f"{rid} is still pending after {ns.timeout}; giving up (exit 4).", highlight=False)
    return EXIT_TIMEOUT


def _wait_remote(server: str, rid: str, deadline: float, err: Any, *, quiet: bool) -> str:
    """Long-poll the server (``GET /api/v1/requests/{id}/wait``) with ``RINGFENCE_TOKEN``
    until the request is decided or ``deadline``; a pipeline on another machine waits
    this way. Connection failures are retried until the deadline."""
    import json
    import os
    import urllib.error
    import urllib.request

    from ringfence.errors import ApprovalError

    token = os.environ.get("RINGFENCE_TOKEN", "")
    if not token:
        raise ApprovalError(
            "RINGFENCE_SERVER is set but RINGFENCE_TOKEN is not: issue one with `ringfence token issue`"
        )
    backoff = 1.0
    while True:
        left = deadline - time.monotonic()
        url = f"{server.rstrip('/')}/api/v1/requests/{rid}/wait?timeout={max(0, min(60, int(left)))}"
        req = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
        try:
            with urllib.request.urlopen(req, timeout=75) as resp:
                status = str(json.loads(resp.read())["status"])
            backoff = 1.0
        except urllib.error.HTTPError as exc:
            try:
                message = json.loads(exc.read()).get("error", exc.reason)
            except ValueError:
                message = exc.reason
            if exc.code in (401, 403, 404, 422):
                raise ApprovalError(f"the server at {server} answered {exc.code}: {message}") from None
            status = "pending"
            if not quiet:
                err.print(f"server answered {exc.code} ({message}); retrying", highlight=False)
        except (urllib.error.URLError, OSError, ValueError, KeyError) as exc:
            status = "pending"
            if not quiet:
                err.print(f"cannot reach {server} ({exc}); retrying in {backoff:.0f}s", highlight=False)
            time.sleep(min(backoff, max(0.0, deadline - time.monotonic())))
            backoff = min(backoff * 2, 30.0)
        if status != "pending" or time.monotonic() >= deadline:
            return status


class _Null:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


def run_sweep(ns: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.markup import escape

    from ringfence.commands._control import open_control
    from ringfence.control.outbox import run_once
    from ringfence.control.settings import parse_duration
    from ringfence.errors import ConfigError

    try:
        interval = parse_duration(ns.interval, "--interval")
    except ConfigError as exc:
        return _err(str(exc))
    console = Console()
    ctx = open_control()
    try:
        while True:
            report = run_once(ctx.store, ctx.settings.control)
            for label, items, style in (
                ("expired", report.expired, "dim"),
                ("escalated", report.escalated, "yellow"),
                ("notified", report.delivered, "green"),
                ("will retry", report.retrying, "yellow"),
                ("gave up", report.failed, "bold red"),
            ):
                for item in items:
                    console.print(f"[{style}]{label:<10}[/] {escape(item)}", highlight=False)
            if not ns.watch:
                if report.quiet:
                    console.print("nothing to do")
                return 1 if report.failed else 0
            time.sleep(interval)
    except KeyboardInterrupt:
        return 0
    finally:
        ctx.close()
