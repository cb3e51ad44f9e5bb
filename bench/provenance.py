"""Provenance and review: what attesting, verifying and reviewing a change cost.

A real git repository (``--files`` files of ~2 KB under ``src/``, one commit changing
``--changed`` of them), a real Merkle ledger holding ``--decisions`` decisions of the
agent's session among ``--noise`` decisions of other agents, and a real Ed25519 key. Each
operation runs ``--rounds`` times in process:

* ``tree digest`` — the head commit's content digest (every blob hashed through one
  ``git cat-file --batch``);
* ``attest`` — checkpoint, selection, inclusion proofs, predicate, schema check, DSSE signature;
* ``verify`` — signature, schema, every inclusion proof, the decision rules, and the
  completeness check against the log;
* ``review`` — the whole ``ringfence review`` of the change (no evidence files).

Baseline in the same run: ``git rev-parse HEAD^{tree}`` as a subprocess (what any git
operation costs here) and a bare Ed25519 sign + verify.

    python bench/provenance.py [--files 1000] [--changed 20] [--decisions 500] [--noise 5000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import git_rev, pct, summary, tempdir

IDENTITY = {
    "GIT_AUTHOR_NAME": "bench",
    "GIT_AUTHOR_EMAIL": "bench@example.com",
    "GIT_COMMITTER_NAME": "bench",
    "GIT_COMMITTER_EMAIL": "bench@example.com",
    "GIT_CONFIG_GLOBAL": "/dev/null",
}


def timed(fn: Callable[[], object], rounds: int) -> list[float]:
    out = []
    for _ in range(rounds):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--files", type=int, default=1000)
    ap.add_argument("--changed", type=int, default=20)
    ap.add_argument("--decisions", type=int, default=500)
    ap.add_argument("--noise", type=int, default=5000)
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()

    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from ringfence.control.keys import create_key, public_text
    from ringfence.ledger import signer
    from ringfence.ledger.store import open_ledger
    from ringfence.provenance import attest, dsse, gitrepo, statement, verify, verify_policy
    from ringfence.provenance.keys import load_signer
    from ringfence.review.engine import Inputs, review

    with tempdir() as tmp:
        root = Path(tmp)
        repo = root / "repo"
        (repo / "src").mkdir(parents=True)
        env = {**os.environ, **IDENTITY}

        def git(*a: str) -> str:
            return subprocess.run(["git", *a], cwd=repo, env=env, check=True, capture_output=True, text=True).stdout

        git("init", "-q", "-b", "main")
        for i in range(args.files):
            (repo / "src" / f"m{i:05d}.py").write_text(f"# module {i}\n" + "x = 1\n" * 300)
        git("add", "-A")
        git("commit", "-q", "-m", "base")
        git("checkout", "-q", "-b", "agent")
        for i in range(args.changed):
            (repo / "src" / f"m{i:05d}.py").write_text(f"# module {i}, changed\n" + "y = 2\n" * 300)
        git("commit", "-qam", "agent change")
        head = git("rev-parse", "HEAD").strip()

        ledger = open_ledger(root / "ledger.db")
        entry = {"ts": "2026-12-07T10:00:00Z", "principal_type": "agent", "runtime": "claude-code",
                 "action_kind": "shell", "decision": "allow", "session": "s"}  # fmt: skip
        batch = [{**entry, "principal_id": "other", "n": i} for i in range(args.noise)]
        batch += [{**entry, "principal_id": "bot", "n": i} for i in range(args.decisions)]
        ledger.append_many(batch)
        key = signer.load_or_create_key(root / "state", "bench.local/ledger")
        create_key("bot", directory=root / "keys")
        sig = load_signer(str(root / "keys" / "bot.key"))
        change = attest.Change.resolve(repo, "main", head)

        def do_attest() -> dsse.Envelope:
            note = signer.checkpoint_now(ledger, key, "bench.local/ledger")
            doc = attest.agent_change(
                change,
                agent={"id": "bot"},
                task_ref="T-1",
                spec=None,
                artifacts=[],
                ledger=ledger,
                note=note,
                size=ledger.size(),
                since="2026-01-01T00:00:00Z",
            )
            return dsse.sign(dsse.Envelope(statement.encode(doc)), sig)

        envelope = do_attest()
        policy_path = root / "verify.yaml"
        policy_path.write_text(
            "version: 1\n"
            f"keys: {{bot: '{public_text(sig.public)}'}}\n"
            f"ledger: {{keys: ['{key.to_vkey()}']}}\n"
            "subjects: [{match: '*', signers: [bot]}]\n"
        )
        policy = verify_policy.load(policy_path)
        target = verify.Target("commit", gitrepo.tree_digest(repo, head).sha256, head)

        def do_verify() -> None:
            result = verify.verify_envelopes(target, [envelope], policy, log=verify.LogAccess(ledger))
            assert result.ok, result.failures()

        raw = Ed25519PrivateKey.generate()
        message = envelope.pae()

        def ed25519() -> None:
            raw.public_key().verify(raw.sign(message), message)

        rows = [
            ("baseline: git rev-parse HEAD^{tree}", timed(lambda: git("rev-parse", "HEAD^{tree}"), args.rounds * 4)),
            ("baseline: Ed25519 sign + verify", timed(ed25519, args.rounds * 20)),
            (f"tree digest ({args.files} files)", timed(lambda: gitrepo.tree_digest(repo, head), args.rounds)),
            (f"attest ({args.decisions} decisions)", timed(do_attest, args.rounds)),
            ("verify (with completeness)", timed(do_verify, args.rounds)),
            (f"review ({args.changed} files changed)", timed(lambda: review(Inputs(repo=repo, base="main",
                                                                                    head=head)), args.rounds)),
        ]  # fmt: skip
        base = pct(rows[0][1], 50)
        print(f"ringfence {git_rev()}  files={args.files} decisions={args.decisions} noise={args.noise}")
        print(f"envelope size: {len(envelope.to_json()) / 1024:.1f} KiB")
        for name, values in rows:
            print(f"{name:<40} {summary(values)}  ({pct(values, 50) / base:5.1f}× git)")
        ledger.close()


if __name__ == "__main__":
    main()
