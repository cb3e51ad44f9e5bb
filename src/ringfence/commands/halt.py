"""``ringfence halt|resume|status``: the kill switch, and what control state is in force."""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from typing import Any

EXIT_USAGE = 3
ENVIRONMENTS = ("development", "staging", "production")


def add_parser(sub: Any) -> None:
    h: argparse.ArgumentParser = sub.add_parser(
        "halt",
        help="kill switch: deny every matching agent action from the next decision on",
        description="Stop agents now. Every matching agent action is denied from the next decision of every "
        "process; humans are unaffected unless --all. Lifting it (`ringfence resume`) needs a human.",
    )
    h.add_argument("--agent", metavar="ID", help="only this agent id (default: every agent)")
    h.add_argument("--env", choices=ENVIRONMENTS, help="only actions touching this environment")
    h.add_argument("--all", dest="everyone", action="store_true", help="humans and services too, not only agents")
    h.add_argument("--reason", required=True, help="why (shown to every agent that is stopped)")
    h.add_argument("--as", dest="as_name", metavar="NAME", help="who halts (default: your login name)")
    h.set_defaults(run=run_halt)
    r: argparse.ArgumentParser = sub.add_parser(
        "resume",
        help="lift halts (a human with a configured approver key)",
        description="Lift active halts. Name them by id, or by the same scope flags used to halt; with neither, "
        "the only active halt is lifted. Needs a configured approver's key.",
    )
    r.add_argument("halt_ids", nargs="*", metavar="HALT-ID")
    r.add_argument("--agent", metavar="ID")
    r.add_argument("--env", choices=ENVIRONMENTS)
    r.add_argument("--all", dest="everyone", action="store_true")
    r.add_argument("--every-halt", action="store_true", help="lift every active halt")
    r.add_argument("--reason", required=True, help="why it is safe to go on")
    r.add_argument("--as", dest="as_name", metavar="NAME", help="which of your keys (default: the only one)")
    r.set_defaults(run=run_resume)
    s: argparse.ArgumentParser = sub.add_parser(
        "status",
        help="halts in force, pending approvals and budget use",
        description="What control state is in force: active halts (who, what, when, why), pending approval "
        "requests, budgets and their use, and where the state lives.",
    )
    s.add_argument("--json", action="store_true")
    s.set_defaults(run=run_status)


def run_halt(ns: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.markup import escape

    from ringfence.commands._control import open_control, record
    from ringfence.errors import ControlError

    if not ns.reason.strip():
        raise ControlError("--reason must say why (every stopped agent is shown it)")
    if ns.agent is not None and not ns.agent.strip():
        raise ControlError("--agent needs an agent id")
    who = ns.as_name or getpass.getuser()
    ctx = open_control()
    try:
        h = ctx.store.halt(agent=ns.agent, environment=ns.env, everyone=ns.everyone, reason=ns.reason, by=who)
    finally:
        ctx.close()
    record(
        ctx.settings,
        {
            "kind": "halt",
            "principal_type": "human",
            "principal_id": who,
            "decision": "halt",
            "halt": h.id,
            "scope": h.scope(),
            "reason": h.reason,
        },
    )
    Console().print(
        f"[bold red]HALTED[/] {escape(h.scope())} ({h.id}): every matching action is denied from now on. "
        f"Lift it with `ringfence resume {h.id} --reason …`.",
        highlight=False,
    )
    return 0


def run_resume(ns: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.markup import escape

    from ringfence.commands._control import open_control, record, require_human
    from ringfence.control.keys import load_key
    from ringfence.errors import ControlError

    require_human("lift a halt")
    if not ns.reason.strip():
        raise ControlError("--reason must say why it is safe to go on")
    key = load_key(ns.as_name)
    ctx = open_control()
    try:
        approver = ctx.settings.control.approvers.get(key.name)
        if approver is None or approver.key != key.public:
            if approver is None:
                problem = "is not listed"
            elif approver.key is None:
                problem = f"is listed without a key: add the public key `ringfence keys show {key.name}` prints"
            else:
                problem = f"is listed with a different key than {key.path}"
            raise ControlError(
                f"lifting a halt needs a human listed under approvers: with this key; {key.name} {problem}"
            )
        active = ctx.store.active_halts()
        if not active:
            Console().print("Nothing is halted.")
            return 0
        scoped = ns.agent is not None or ns.env is not None or ns.everyone
        if ns.halt_ids:
            wanted = [i.strip().upper() for i in ns.halt_ids]
            unknown = [i for i in wanted if i not in {h.id for h in active}]
            if unknown:
                raise ControlError(f"no active halt {', '.join(unknown)}; active: {', '.join(h.id for h in active)}")
            chosen = [h for h in active if h.id in wanted]
        elif ns.every_halt:
            chosen = active
        elif scoped:
            chosen = [h for h in active if (h.agent, h.environment, h.everyone) == (ns.agent, ns.env, ns.everyone)]
            if not chosen:
                raise ControlError("no active halt has exactly that scope; `ringfence status` lists them")
        elif len(active) == 1:
            chosen = active
        else:
            raise ControlError(
                f"{len(active)} halts are active ({', '.join(h.id for h in active)}): name the ones to lift, "
                "or pass --every-halt"
            )
        lifted = ctx.store.lift([h.id for h in chosen], by=key.name, reason=ns.reason)
    finally:
        ctx.close()
    for h in lifted:
        record(
            ctx.settings,
            {
                "kind": "resume",
                "principal_type": "human",
                "principal_id": key.name,
                "decision": "resume",
                "halt": h.id,
                "scope": h.scope(),
                "reason": ns.reason,
            },
        )
        Console().print(f"[green]resumed[/] {escape(h.scope())} ({h.id})", highlight=False)
    return 0


def run_status(ns: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.markup import escape

    from ringfence.commands._control import ago, open_control
    from ringfence.control.settings import format_duration

    ctx = open_control()
    try:
        now = ctx.store.clock()
        halts = ctx.store.active_halts()
        pending = ctx.store.requests(status="pending", limit=1000)
        budgets = []
        for b in ctx.settings.control.budgets:
            budgets.append((b, ctx.store.usage_by_subject(b.id, b.per)))
    finally:
        ctx.close()
    if ns.json:
        doc = {
            "state": ctx.store.where,
            "halts": [
                {
                    "id": h.id,
                    "scope": h.scope(),
                    "agent": h.agent,
                    "environment": h.environment,
                    "everyone": h.everyone,
                    "by": h.by,
                    "at": h.at,
                    "reason": h.reason,
                }
                for h in halts
            ],
            "pending_requests": [r.id for r in pending],
            "budgets": [
                {"id": b.id, "limit": b.limit, "per_seconds": b.per, "used": dict(used)} for b, used in budgets
            ],
        }
        sys.stdout.write(json.dumps(doc, sort_keys=True) + "\n")
        return 0
    c = Console()
    if halts:
        for h in halts:
            c.print(
                f"[bold red]HALTED[/] {escape(h.scope())} — by {escape(h.by)} {ago(h.at, now)}: {escape(h.reason)} "
                f"[dim]({h.id})[/]",
                highlight=False,
            )
    else:
        c.print("[green]running[/]: no halt is in force", highlight=False)
    c.print(f"{len(pending)} pending approval request(s)" + (": `ringfence approvals list`" if pending else ""))
    for b, used in budgets:
        use = ", ".join(f"{escape(s)} {u:g}/{b.limit:g}" for s, u in used) or "unused"
        c.print(f"budget {escape(b.id)} (per {format_duration(b.per)}): {use}", highlight=False)
    c.print(f"[dim]state: {escape(ctx.store.where)}[/]", highlight=False)
    return 0
