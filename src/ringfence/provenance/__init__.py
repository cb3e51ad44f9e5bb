"""Provenance: signed attestations of what an agent produced, verified before it ships.

The public surface is small:

* :mod:`~ringfence.provenance.dsse` — DSSE v1 envelopes (PAE, sign, threshold verification);
* :mod:`~ringfence.provenance.statement` — in-toto Statement v1;
* :mod:`~ringfence.provenance.predicate` — the agent-change predicate and its JSON Schema;
* :mod:`~ringfence.provenance.slsa` — SLSA provenance v1 for CI builds;
* :mod:`~ringfence.provenance.attest` — building statements for a change or a build;
* :mod:`~ringfence.provenance.verify` and :mod:`~ringfence.provenance.verify_policy` —
  verification against a reviewed policy;
* :mod:`~ringfence.provenance.store` / :mod:`~ringfence.provenance.gitrepo` — git notes
  (``refs/notes/ringfence``) and ``.intoto.jsonl`` files.

Nothing here is on the decision path: attesting and verifying are explicit commands.
"""
