"""``ringfence attest`` and ``ringfence countersign``: sign what an agent produced.

``attest`` builds the agent-change Statement for ``--base``..``--head`` (or, with
``--slsa``, SLSA provenance for ``--artifact`` files built in CI), signs it with the
agent's key into a DSSE envelope, and attaches it to the head commit as a git note in
``refs/notes/ringfence`` and next to each artifact as ``<artifact>.intoto.jsonl``.
``countersign`` adds an approver's signature to the attestations already there, so a
verify policy can ask for the agent's key *and* k approvers.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path
from typing import Any

EXIT_USAGE = 3


def add_parser(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "attest",
        help="sign a provenance attestation of an agent's change (in-toto + DSSE) and attach it",
        allow_abbrev=False,
        description="Build an in-toto Statement of what an agent produced — which agent and model, which task, "
        "which base and head commits, under which gate decisions (a ledger range with proofs) and approvals — "
        "sign it with the agent's Ed25519 key, and attach it to the head commit (git notes, refs/notes/ringfence) "
        "and to each artifact (<artifact>.intoto.jsonl). With --slsa, SLSA provenance v1 for artifacts built in CI.",
    )
    p.add_argument("--base", help="the commit the change started from (agent-change attestations)")
    p.add_argument("--head", default=None, help="the commit the agent proposes (default HEAD)")
    p.add_argument("--task", dest="task_ref", help="the task it was for: issue, ticket or URL")
    p.add_argument("--spec", type=Path, help="the prompt or spec the agent was given (its SHA-256 is recorded)")
    p.add_argument("--artifact", type=Path, action="append", default=[], help="a file the change produced (repeat)")
    p.add_argument("--key", help="signing key: a name from `ringfence keys list` or a PEM file (default: the agent's)")
    p.add_argument("--agent", dest="agent_id", help="agent id (default: agent.id in the configuration)")
    p.add_argument("--session", help="the agent session whose decisions to include")
    p.add_argument("--since", help="include decisions from this time (default: the base commit's time)")
    p.add_argument("--runtime", help="the agent's runtime, e.g. claude-code (default: as recorded)")
    p.add_argument("--model", help="the model, e.g. claude-opus-4 (default: as recorded)")
    p.add_argument("--model-version", dest="modelVersion", help="the model's version")
    p.add_argument("--provider", help="the model's provider, e.g. anthropic")
    p.add_argument("--slsa", action="store_true", help="SLSA provenance v1 for --artifact files built in CI instead")
    p.add_argument(
        "--keyless",
        action="store_true",
        help="also sign keyless with Sigstore, with the CI's OIDC identity (needs ringfence[sigstore] and the network)",
    )
    p.add_argument("--sigstore-staging", action="store_true", help="with --keyless: Sigstore's staging instance")
    p.add_argument("--repo", type=Path, default=Path("."), help="the repository (default: here)")
    p.add_argument("--output", type=Path, help="also write the envelope to this file (- for stdout)")
    p.add_argument("--no-note", action="store_true", help="do not attach a git note to the head commit")
    p.add_argument("--push", nargs="?", const="origin", metavar="REMOTE", help="push refs/notes/ringfence")
    p.set_defaults(run=run_attest)

    c: argparse.ArgumentParser = sub.add_parser(
        "countersign",
        help="add your signature to the attestations of a commit or an artifact",
        allow_abbrev=False,
        description="Sign the attestations already attached to a commit (git note) or an artifact "
        "(<artifact>.intoto.jsonl) with your key: what a verify policy's threshold counts. Shows what you sign.",
    )
    what = c.add_mutually_exclusive_group(required=True)
    what.add_argument("--commit", help="the commit whose git-note attestations to sign")
    what.add_argument("--artifact", type=Path, help="the artifact whose .intoto.jsonl attestations to sign")
    c.add_argument("--key", required=False, help="your key: a name from `ringfence keys list` or a PEM file")
    c.add_argument("--repo", type=Path, default=Path("."), help="the repository (default: here)")
    c.add_argument("--push", nargs="?", const="origin", metavar="REMOTE", help="push refs/notes/ringfence")
    c.set_defaults(run=run_countersign)


def _agent_defaults(ns: argparse.Namespace, settings: Any) -> dict[str, str | None]:
    return {
        "id": ns.agent_id or settings.agent_id or os.environ.get("RINGFENCE_AGENT_ID"),
        "owner": settings.agent_owner or os.environ.get("RINGFENCE_AGENT_OWNER"),
        "session": ns.session,
        "runtime": ns.runtime,
        "model": ns.model,
        "modelVersion": ns.modelVersion,
        "provider": ns.provider,
    }


def _signer(spec: str | None, agent: str | None) -> Any:
    from ringfence.provenance.errors import EnvelopeError
    from ringfence.provenance.keys import load_signer

    spec = spec or os.environ.get("RINGFENCE_SIGNING_KEY") or agent
    if not spec:
        raise EnvelopeError("say which key signs: --key NAME|FILE (or RINGFENCE_SIGNING_KEY)")
    return load_signer(spec)


def run_attest(ns: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.markup import escape

    from ringfence.provenance import attest, dsse, gitrepo, statement, store
    from ringfence.provenance.errors import GitError, StatementError

    err = Console(stderr=True, highlight=False, soft_wrap=True)
    for path in ns.artifact:
        if not path.is_file():
            raise StatementError(f"--artifact {path}: no such file")
    if ns.spec is not None and not ns.spec.is_file():
        raise StatementError(f"--spec {ns.spec}: no such file")
    started = time.monotonic()
    repo: Path | None = None
    head: str | None = None
    if ns.slsa:
        if ns.base:
            raise StatementError("--slsa describes a build; --base belongs to an agent-change attestation")
        try:
            repo = gitrepo.toplevel(ns.repo)
            head = gitrepo.resolve(repo, ns.head or "HEAD")
        except GitError:  # a build outside a repository has no source commit to name
            repo = head = None
        agent_id = None
        doc = attest.slsa_build(
            ns.artifact,
            os.environ,
            source_uri=gitrepo.remote_url(repo) if repo else None,
            commit=head,
            started=None,
        )
    else:
        if not ns.base:
            raise StatementError("--base is required: the commit the agent's change started from")
        doc, repo, head, agent_id = _agent_change(ns, err)
    payload = statement.encode(doc)
    bundle = None
    if ns.keyless:
        from ringfence.provenance.sigstore_bundle import sign_keyless

        with err.status("signing keyless through Sigstore (Fulcio, Rekor)…"):
            bundle = sign_keyless(payload, staging=ns.sigstore_staging)
    signer = _signer(ns.key, agent_id) if (ns.key or not ns.keyless) else None
    envelope = dsse.sign(dsse.Envelope(payload), signer) if signer is not None else None
    written: list[str] = []
    if repo is not None and head is not None and not ns.no_note and not ns.slsa:
        lines = gitrepo.read_notes(repo, head)
        if envelope is not None:
            lines = store.merge(lines, envelope)
        if bundle is not None:
            lines = store.append_line(lines, bundle)
        gitrepo.write_notes(repo, head, lines)
        written.append(f"git note {gitrepo.NOTES_REF} on {head[:12]}")
    for path in ns.artifact:
        target = store.sidecar(path)
        lines = store.read_file(target)
        if envelope is not None:
            lines = store.merge(lines, envelope)
        if bundle is not None:
            lines = store.append_line(lines, bundle)
        store.write_file(target, lines)
        written.append(str(target))
    if ns.output is not None:
        out_lines = [x for x in (envelope.to_json() if envelope else None, bundle) if x]
        if str(ns.output) == "-":
            print("\n".join(out_lines))
        else:
            store.write_file(ns.output, out_lines)
            written.append(str(ns.output))
    if ns.push and repo is not None and not ns.no_note:
        gitrepo.push_notes(repo, ns.push)
        written.append(f"pushed {gitrepo.NOTES_REF} to {ns.push}")
    kind = "SLSA provenance" if ns.slsa else "agent-change attestation"
    err.print(f"[green]attested[/] {kind} for {escape(doc['subject'][0]['name'])}", highlight=False)
    if not ns.slsa:
        from ringfence.provenance.decisions import is_decision

        pred = doc["predicate"]
        n = sum(1 for e in pred["decisions"]["entries"] if is_decision(e["entry"]))
        rng = pred["decisions"].get("range")
        span = f" (ledger entries {rng['first']}–{rng['last']})" if rng else ""
        err.print(f"  agent      {escape(pred['agent']['id'])} {escape(pred['agent'].get('model', ''))}")
        err.print(f"  decisions  {n}{span}, checkpoint at size {pred['decisions']['treeSize']}")
        if pred["approvals"]:
            err.print(f"  approvals  {', '.join(a['request'] for a in pred['approvals'])}")
    if signer is not None:
        err.print(f"  signed by  {escape(signer.name)} ({signer.keyid})")
    if bundle is not None:
        err.print("  keyless    Sigstore bundle (Fulcio certificate, Rekor entry)")
    for w in written:
        err.print(f"  wrote      {escape(w)}")
    err.print(f"  took       {time.monotonic() - started:.2f}s")
    return 0


def _agent_change(ns: argparse.Namespace, err: Any) -> tuple[dict[str, Any], Path, str, str | None]:
    from ringfence.commands._ledger import open_configured
    from ringfence.config import load_settings
    from ringfence.ledger.signer import sign_configured
    from ringfence.provenance import attest
    from ringfence.provenance.errors import StatementError

    change = attest.Change.resolve(ns.repo, ns.base, ns.head or "HEAD")
    settings = load_settings(os.getcwd())
    agent = _agent_defaults(ns, settings)
    ledger, location = open_configured(settings)
    if ledger is None:
        raise StatementError(
            f"no ledger at {location}: an agent-change attestation proves its gate decisions from the ledger, "
            "so attest where the gate records (or set ledger: in the configuration)"
        )
    try:
        with err.status("signing a ledger checkpoint and collecting the session's decisions…"):
            note = sign_configured(ledger, settings)
            size = int(note.split("\n")[1])  # a C2SP checkpoint's second line is the tree size it signs
            doc = attest.agent_change(
                change,
                agent=agent,
                task_ref=ns.task_ref,
                spec=ns.spec,
                artifacts=ns.artifact,
                ledger=ledger,
                note=note,
                size=size,
                since=ns.since,
            )
    finally:
        ledger.close()
    return doc, change.repo, change.head, str(doc["predicate"]["agent"]["id"])


def run_countersign(ns: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.markup import escape

    from ringfence.commands._control import require_human
    from ringfence.provenance import dsse, gitrepo, store
    from ringfence.provenance.errors import EnvelopeError

    require_human("countersign an attestation")
    err = Console(stderr=True, highlight=False, soft_wrap=True)
    signer = _signer(ns.key, None)
    if ns.commit:
        repo = gitrepo.toplevel(ns.repo)
        commit = gitrepo.resolve(repo, ns.commit)
        lines = gitrepo.read_notes(repo, commit)
        where = f"{gitrepo.NOTES_REF} on {commit[:12]}"
    else:
        if not ns.artifact.is_file():
            raise EnvelopeError(f"--artifact {ns.artifact}: no such file")
        path = store.sidecar(ns.artifact)
        lines = store.read_file(path)
        where = str(path)
    envelopes, problems = store.parse_lines(lines, where)
    if problems:
        raise EnvelopeError("; ".join(problems) + " — fix or remove that line before countersigning")
    if not envelopes:
        raise EnvelopeError(f"no attestation in {where} to countersign: the agent's `ringfence attest` comes first")
    out = list(lines)
    for env in envelopes:
        doc = env.statement()
        signed = dsse.sign(env, signer)
        out = store.merge(out, signed)
        names = ", ".join(str(s.get("name")) for s in doc.get("subject") or [])
        err.print(f"[green]countersigned[/] {escape(str(doc.get('predicateType')))} for {escape(names)}")
    if ns.commit:
        gitrepo.write_notes(repo, commit, out)
        if ns.push:
            gitrepo.push_notes(repo, ns.push)
    else:
        store.write_file(path, out)
    err.print(f"  signed by  {escape(signer.name)} ({signer.keyid}) in {escape(where)}")
    return 0
