"""``ringfence audit``: verify, prove, search and export the tamper-evident ledger.

``verify`` recomputes every leaf, every stored subtree and every checkpoint and says
exactly which entry is wrong; ``prove`` and ``consistency`` print RFC 9162 proofs any
implementation can check; ``checkpoint`` signs the current root now.
"""

from __future__ import annotations

import argparse
import base64
import json
import sys
from pathlib import Path
from typing import Any

EXIT_USAGE = 3
EXIT_TAMPERED = 1


def add_parser(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "audit",
        help="verify the ledger, print proofs, search and export decisions",
        description="The tamper-evident ledger: an RFC 9162 Merkle log with signed checkpoints.",
    )
    a = p.add_subparsers(title="audit commands", metavar="COMMAND")
    v = a.add_parser("verify", help="recompute everything; name any entry that was modified, deleted or inserted")
    v.add_argument(
        "--from-checkpoint", type=Path, help="a signed checkpoint (e.g. from the witness) the log must extend"
    )
    v.add_argument("--key", type=Path, help="verifier key file (default: the ledger's ledger.vkey)")
    v.set_defaults(run=run_verify)
    pr = a.add_parser("prove", help="inclusion proof of one entry (RFC 9162 §2.1.3)")
    pr.add_argument("--index", type=int, required=True, help="the entry's sequence number")
    pr.add_argument("--size", type=int, help="tree size to prove against (default: current)")
    pr.set_defaults(run=run_prove)
    c = a.add_parser("consistency", help="consistency proof from an older checkpoint to now (RFC 9162 §2.1.4)")
    c.add_argument("--old", type=Path, required=True, help="the older signed checkpoint")
    c.add_argument("--key", type=Path, help="verifier key file (default: the ledger's ledger.vkey)")
    c.set_defaults(run=run_consistency)
    cp = a.add_parser("checkpoint", help="sign the current size and root now (and export to the witness)")
    cp.set_defaults(run=run_checkpoint)
    for name, helptext in (("log", "the newest entries"), ("search", "entries matching filters")):
        s = a.add_parser(name, help=helptext)
        s.add_argument("--agent", help="principal id")
        s.add_argument("--principal-type", choices=("agent", "human", "service"))
        s.add_argument("--decision", choices=("allow", "require_approval", "deny"))
        s.add_argument("--effect", help="effect kind or prefix, e.g. git. or db.destructive")
        s.add_argument("--since", help="7d, 12h, 30m or a date")
        s.add_argument("--until", help="a date or time (exclusive)")
        s.add_argument("-n", "--limit", type=int, default=20 if name == "log" else 100)
        s.add_argument("--json", action="store_true", help="one JSON entry per line")
        s.set_defaults(run=run_search)
    sh = a.add_parser("show", help="one entry in full, with its inclusion proof checked")
    sh.add_argument("seq", type=int)
    sh.set_defaults(run=run_show)
    ex = a.add_parser("export", help="every entry as JSON Lines (for a SIEM)")
    ex.add_argument("--format", choices=("jsonl",), default="jsonl")
    ex.add_argument("--output", type=Path, help="file to write (default: stdout)")
    ex.add_argument("--since", help="only entries since (7d, 12h, a date)")
    ex.set_defaults(run=run_export)

    def usage(ns: argparse.Namespace) -> int:
        p.print_help()
        return EXIT_USAGE

    p.set_defaults(run=usage)


def _open() -> tuple[Any, Any, Any]:
    """(ledger, settings, error console) or raises SystemExit with a clear message."""
    from rich.console import Console

    from ringfence.commands._ledger import open_configured
    from ringfence.config import load_settings
    from ringfence.errors import RingfenceError

    err = Console(stderr=True)
    try:
        import os

        settings = load_settings(os.getcwd())
        ledger, location = open_configured(settings)
    except RingfenceError as exc:
        err.print(f"[bold red]error:[/] {exc}")
        raise SystemExit(EXIT_USAGE) from None
    if ledger is None:
        err.print(f"[bold red]error:[/] no ledger at {location}: nothing has been recorded yet")
        raise SystemExit(EXIT_USAGE)
    return ledger, settings, err


def _verifier(settings: Any, key: Path | None, err: Any) -> Any:
    from ringfence.errors import RingfenceError
    from ringfence.ledger.checkpoint import VerifierKey
    from ringfence.ledger.signer import load_verifier

    try:
        if key is not None:
            return VerifierKey.from_vkey(key.read_text(encoding="utf-8").strip())
        return load_verifier(settings.ledger_state)
    except (OSError, RingfenceError) as exc:
        err.print(f"[bold red]error:[/] cannot read the verifier key: {exc}")
        raise SystemExit(EXIT_USAGE) from None


def _hex(b: bytes) -> str:
    return b.hex()


def run_verify(ns: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from ringfence.errors import RingfenceError
    from ringfence.ledger import merkle
    from ringfence.ledger.checkpoint import open_note
    from ringfence.ledger.verify import verify

    ledger, settings, err = _open()
    console = Console(soft_wrap=True)
    size = ledger.size()
    stored = ledger.checkpoints()
    verifier = _verifier(settings, ns.key, err)
    problems: list[str] = []
    for cp in stored:
        if cp.note and verifier is not None:
            try:
                signed = open_note(cp.note, [verifier])
            except RingfenceError as exc:
                problems.append(f"checkpoint at size {cp.size}: signature does not verify ({exc})")
                continue
            if signed.size != cp.size or signed.root != cp.root:
                problems.append(
                    f"checkpoint at size {cp.size}: the signed note says size {signed.size} with another "
                    "root than the stored row"
                )
    try:
        stored_root = ledger.root(size)
    except RingfenceError:
        stored_root = None
    with Progress(
        TextColumn("verifying"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=True,
        disable=not sys.stderr.isatty(),
    ) as progress:
        task = progress.add_task("verify", total=size)
        report = verify(
            ((r.seq, r.body, r.leaf) for r in ledger.rows()),
            ledger.batched_getter(),
            {cp.size: cp.root for cp in stored},
            stored_size=size,
            stored_root=stored_root,
            progress=lambda n: progress.update(task, completed=n),
        )
    problems.extend(str(p) for p in report.problems)
    if ns.from_checkpoint is not None:
        try:
            text = ns.from_checkpoint.read_text(encoding="utf-8")
        except OSError as exc:
            err.print(f"[bold red]error:[/] cannot read {ns.from_checkpoint}: {exc.strerror}")
            return EXIT_USAGE
        if verifier is None:
            err.print("[bold red]error:[/] no verifier key: pass --key with the ledger's ledger.vkey")
            return EXIT_USAGE
        try:
            old = open_note(text, [verifier])
        except RingfenceError as exc:
            problems.append(f"{ns.from_checkpoint}: {exc}")
        else:
            if old.size > report.size:
                problems.append(
                    f"{ns.from_checkpoint}: the witness saw {old.size} entries but the log has only "
                    f"{report.size}: entries were deleted"
                )
            else:
                proof = merkle.consistency_proof(old.size, report.size, ledger.get) if old.size else []
                if not merkle.verify_consistency(old.size, report.size, old.root, report.root, proof):
                    problems.append(
                        f"{ns.from_checkpoint}: the log is not consistent with the witnessed checkpoint at "
                        f"size {old.size}: history before it was rewritten"
                    )
    if problems:
        console.print(f"[bold red]TAMPERED[/] — {len(problems)} problem(s) in {report.size} entries:", highlight=False)
        for line in problems:
            console.print(f"  {line}", highlight=False)
        return EXIT_TAMPERED
    console.print(
        f"[bold green]OK[/] {report.size} entries, root {report.root.hex()}, "
        f"{report.checkpoints_checked} checkpoint(s) matched"
        + (f", consistent with {ns.from_checkpoint}" if ns.from_checkpoint else ""),
        highlight=False,
    )
    return 0


def run_prove(ns: argparse.Namespace) -> int:
    from ringfence.ledger import merkle

    ledger, _, err = _open()
    size = ns.size if ns.size is not None else ledger.size()
    if not 0 <= ns.index < size <= ledger.size():
        err.print(f"[bold red]error:[/] --index must be in 0..{size - 1} and --size at most {ledger.size()}")
        return EXIT_USAGE
    leaf = ledger.leaf(ns.index)
    proof = ledger.inclusion_proof(ns.index, size)
    root = ledger.root(size)
    doc = {
        "index": ns.index,
        "tree_size": size,
        "leaf_hash": _hex(leaf),
        "root_hash": _hex(root),
        "inclusion_path": [_hex(h) for h in proof],
        "inclusion_path_base64": [base64.b64encode(h).decode() for h in proof],
        "entry_base64": base64.b64encode(ledger.body(ns.index)).decode(),
        "verified": merkle.verify_inclusion(ns.index, size, leaf, proof, root),
    }
    sys.stdout.write(json.dumps(doc, indent=2) + "\n")
    return 0 if doc["verified"] else EXIT_TAMPERED


def run_consistency(ns: argparse.Namespace) -> int:
    from ringfence.errors import RingfenceError
    from ringfence.ledger import merkle
    from ringfence.ledger.checkpoint import open_note

    ledger, settings, err = _open()
    verifier = _verifier(settings, ns.key, err)
    if verifier is None:
        err.print("[bold red]error:[/] no verifier key: pass --key with the ledger's ledger.vkey")
        return EXIT_USAGE
    try:
        old = open_note(ns.old.read_text(encoding="utf-8"), [verifier])
    except OSError as exc:
        err.print(f"[bold red]error:[/] cannot read {ns.old}: {exc.strerror}")
        return EXIT_USAGE
    except RingfenceError as exc:
        err.print(f"[bold red]error:[/] {ns.old}: {exc}")
        return EXIT_USAGE
    size = ledger.size()
    if old.size > size:
        err.print(f"[bold red]TAMPERED:[/] the checkpoint has {old.size} entries, the log only {size}")
        return EXIT_TAMPERED
    proof = merkle.consistency_proof(old.size, size, ledger.get) if old.size else []
    root = ledger.root(size)
    ok = merkle.verify_consistency(old.size, size, old.root, root, proof)
    doc = {
        "old_size": old.size,
        "old_root": _hex(old.root),
        "new_size": size,
        "new_root": _hex(root),
        "consistency_path": [_hex(h) for h in proof],
        "verified": ok,
    }
    sys.stdout.write(json.dumps(doc, indent=2) + "\n")
    return 0 if ok else EXIT_TAMPERED


def run_checkpoint(ns: argparse.Namespace) -> int:
    from ringfence.ledger.signer import sign_configured

    ledger, settings, _ = _open()
    sys.stdout.write(sign_configured(ledger, settings))
    return 0


def run_search(ns: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.markup import escape

    from ringfence.policy.replay import parse_since

    ledger, _, err = _open()
    if ns.limit < 1:
        err.print("[bold red]error:[/] --limit must be at least 1")
        return EXIT_USAGE
    try:
        since = parse_since(ns.since) if ns.since else None
        until = parse_since(ns.until) if ns.until else None
    except ValueError as exc:
        err.print(f"[bold red]error:[/] {exc}")
        return EXIT_USAGE
    found = list(
        ledger.search(
            principal_type=ns.principal_type,
            principal_id=ns.agent,
            decision=ns.decision,
            effect=ns.effect,
            since=since,
            until=until,
            limit=ns.limit,
            newest_first=True,
        )
    )
    found.reverse()
    if ns.json:
        for e in found:
            sys.stdout.write(json.dumps(e, ensure_ascii=False) + "\n")
        return 0
    console = Console(soft_wrap=True)
    style = {"allow": "green", "require_approval": "yellow", "deny": "bold red"}
    for e in found:
        payload = (e.get("action") or {}).get("payload") or {}
        what = payload.get("command") or payload.get("path") or f"{payload.get('server', '')}.{payload.get('tool', '')}"
        d = str(e.get("decision", "?"))
        console.print(
            f"[dim]{e.get('seq'):>7} {e.get('ts', '')}[/] [{style.get(d, '')}]{d:<16}[/] "
            f"{escape(str(e.get('principal_type', '')))}:{escape(str(e.get('principal_id', '')))} "
            f"[bold]{escape(' '.join(str(what).split())[:100])}[/] [dim]{escape(','.join(e.get('rules', [])[:2]))}[/]",
            highlight=False,
        )
    if not found:
        console.print("No matching entries.")
    return 0


def run_show(ns: argparse.Namespace) -> int:
    from ringfence.ledger import merkle

    ledger, _, err = _open()
    size = ledger.size()
    if not 0 <= ns.seq < size:
        err.print(f"[bold red]error:[/] no entry {ns.seq}: the ledger has entries 0..{size - 1}")
        return EXIT_USAGE
    entry = ledger.entry(ns.seq)
    leaf = ledger.leaf(ns.seq)
    ok = merkle.leaf_hash(ledger.body(ns.seq)) == leaf and merkle.verify_inclusion(
        ns.seq, size, leaf, ledger.inclusion_proof(ns.seq, size), ledger.root(size)
    )
    entry["_proof"] = {"tree_size": size, "leaf_hash": leaf.hex(), "included": ok}
    sys.stdout.write(json.dumps(entry, indent=2, ensure_ascii=False) + "\n")
    return 0 if ok else EXIT_TAMPERED


def run_export(ns: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.progress import Progress

    from ringfence.policy.replay import parse_since

    ledger, _, err = _open()
    try:
        since = parse_since(ns.since) if ns.since else None
    except ValueError as exc:
        err.print(f"[bold red]error:[/] {exc}")
        return EXIT_USAGE
    try:
        out = ns.output.open("w", encoding="utf-8") if ns.output else sys.stdout
    except OSError as exc:
        err.print(f"[bold red]error:[/] cannot write {ns.output}: {exc.strerror}")
        return EXIT_USAGE
    total = ledger.size()
    count = 0
    with Progress(console=Console(stderr=True), transient=True, disable=ns.output is None) as progress:
        task = progress.add_task("exporting", total=total)
        entries = ledger.search(since=since) if since else ledger.entries()
        for entry in entries:
            out.write(json.dumps(entry, ensure_ascii=False, sort_keys=True) + "\n")
            count += 1
            if count % 1000 == 0:
                progress.update(task, completed=count)
    if ns.output:
        out.close()
        Console(stderr=True).print(f"exported {count} entries to {ns.output}")
    return 0
