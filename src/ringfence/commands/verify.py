"""``ringfence verify``: can this commit or artifact prove its lineage?

Exit codes: **0** verified; **2** verification failed (each reason printed); **3** bad
input (a policy that does not load, a commit that does not exist).
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import Any

EXIT_OK = 0
EXIT_FAILED = 2


def add_parser(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "verify",
        help="verify the provenance of a commit or an artifact against a verify policy (exit 0 ok, 2 failed)",
        allow_abbrev=False,
        description="Check every attestation of a commit (its git note) or an artifact (<artifact>.intoto.jsonl): "
        "signatures and threshold by keys trusted for the subject, subject digests, required predicate fields, "
        "every recorded gate decision allowed or approved, and the ledger range against the signed checkpoint.",
    )
    what = p.add_mutually_exclusive_group(required=True)
    what.add_argument("--commit", help="a commit (its tree is the subject; attestations from git notes)")
    what.add_argument("--artifact", help="an artifact file, or a sha256:<hex> digest together with --attestations")
    p.add_argument("--policy", type=Path, required=True, help="the verify policy (YAML)")
    p.add_argument("--attestations", type=Path, help="read attestations from this .intoto.jsonl file instead")
    p.add_argument("--repo", type=Path, default=Path("."), help="the repository (default: here)")
    p.add_argument("--fetch", metavar="REMOTE", help="fetch refs/notes/ringfence from REMOTE first")
    p.add_argument(
        "--ledger",
        help="the ledger (file or postgresql:// URL) for consistency with the trusted checkpoint and completeness "
        "(default: the configured one, when it is here)",
    )
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.set_defaults(run=run_verify)


def verify_target(
    *,
    policy_path: Path,
    commit: str | None = None,
    artifact: str | None = None,
    attestations: Path | None = None,
    repo: Path = Path("."),
    ledger_location: str | None = None,
) -> Any:
    """Resolve the target, load the policy and the evidence, and verify. Raises ProvenanceError."""
    from ringfence.commands._ledger import open_configured
    from ringfence.errors import ProvenanceError, RingfenceError
    from ringfence.ledger.store import open_ledger
    from ringfence.provenance import decisions, gitrepo, store, verify, verify_policy

    policy = verify_policy.load(policy_path)
    if commit is not None:
        top = gitrepo.toplevel(repo)
        target, envelopes, problems = verify.commit_target(top, commit)
        bundles = verify.commit_bundles(top, target.commit or commit)
        if attestations is not None:
            envelopes, problems = store.parse_lines(store.read_file(attestations), str(attestations))
            bundles = verify.file_bundles(attestations)
    else:
        assert artifact is not None
        path = Path(artifact)
        if path.is_file():
            target, envelopes, problems = verify.artifact_target(path, attestations)
            bundles = verify.file_bundles(attestations or store.sidecar(path))
        elif ":" in artifact and attestations is not None:
            target, envelopes, problems = verify.digest_target(artifact, attestations)
            bundles = verify.file_bundles(attestations)
        else:
            raise ProvenanceError(
                f"--artifact {artifact}: no such file (a digest needs --attestations FILE with its attestations)"
            )
    trusted = decisions.load_trusted_checkpoint(policy.checkpoint, policy.ledger_keys) if policy.checkpoint else None
    ledger = None
    try:
        if ledger_location:
            ledger = open_ledger(ledger_location)
        else:
            try:
                ledger, _ = open_configured()
            except RingfenceError:
                ledger = None
        log = verify.LogAccess(ledger) if ledger is not None else None
        return verify.verify_envelopes(
            target, envelopes, policy, trusted_checkpoint=trusted, log=log, problems=problems, bundles=bundles
        )
    finally:
        if ledger is not None:
            ledger.close()


def run_verify(ns: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.markup import escape

    from ringfence.provenance import gitrepo

    if ns.fetch:
        gitrepo.fetch_notes(gitrepo.toplevel(ns.repo), ns.fetch)
    result = verify_target(
        policy_path=ns.policy,
        commit=ns.commit,
        artifact=ns.artifact,
        attestations=ns.attestations,
        repo=ns.repo,
        ledger_location=ns.ledger or os.environ.get("RINGFENCE_VERIFY_LEDGER"),
    )
    if ns.json:
        print(json.dumps(result.to_dict(), indent=2))
        return EXIT_OK if result.ok else EXIT_FAILED
    out = Console(highlight=False, soft_wrap=True)
    print_result(out, result, escape)
    return EXIT_OK if result.ok else EXIT_FAILED


def print_result(out: Any, result: Any, escape: Any) -> None:
    head = result.target.description
    if result.ok:
        out.print(f"[bold green]VERIFIED[/] {escape(head)} (sha256:{result.target.sha256[:16]}…)")
    else:
        out.print(f"[bold red]NOT VERIFIED[/] {escape(head)} (sha256:{result.target.sha256[:16]}…)")
    for e in result.envelopes:
        mark = "[green]ok[/]" if e.ok else "[red]failed[/]"
        out.print(f"  attestation {e.index} ({escape(e.label)}): {mark}")
        for c in e.checks:
            sign = "[green]✓[/]" if c.ok else "[red]✗[/]"
            out.print(f"    {sign} {c.name:<10} {escape(c.detail)}")
    if not result.ok:
        out.print("[bold]why it fails:[/]")
        for f in result.failures():
            out.print(f"  - {escape(f)}")
        out.print(
            "Do not ship it. If the change is legitimate, re-attest it where the gate recorded its decisions "
            "(`ringfence attest`), or have the required approvers `ringfence countersign` it."
        )
