"""Behavioral checkpoints for agent changes: review a diff deterministically and route it.

``ringfence review --base REF --head REF [--task task.yaml]`` reads the change from git,
compares it with the task's declared scope, classifies sensitive changes (infrastructure,
CI, auth, secrets, migrations parsed as SQL, dependencies, CODEOWNERS and policy, the
gate's own configuration), weighs evidence from tools people already run (Terraform plan
JSON, Infracost, SARIF, Cobertura/coverage.py XML, the provenance attestation) and the
agent's track record from the ledger, and routes the change: auto-merge eligible, one
reviewer, or senior reviewers with k-of-n. No model is involved; the same inputs give the
same report.
"""
