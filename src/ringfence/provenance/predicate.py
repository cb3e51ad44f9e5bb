"""The agent-change predicate: who produced a change, for which task, under which decisions.

Its type URI is :data:`PREDICATE_TYPE` and its JSON Schema is ``agent-change-v1.schema.json``
next to this module (``docs/provenance/`` links the same file). Fields:

``agent``
    ``id`` (required), ``runtime``, ``model``, ``modelVersion``, ``provider``, ``owner``,
    ``session`` — as the gate's adapters recorded the principal.
``task``
    ``ref`` (an issue, ticket or URL) and ``specDigest`` (``{"sha256": …}`` of the prompt
    or spec the agent was given).
``repository``
    ``uri`` (the remote, credentials removed), ``base`` and ``head``: each ``{"commit":
    …, "tree": {"sha256", "gitTree", "gitCommit"}}``.
``decisions``
    the ledger range (:mod:`ringfence.provenance.decisions`): signed ``checkpoint``,
    ``treeSize``, ``selection``, ``range``, ``entries`` with inclusion proofs.
``approvals``
    a summary of the requests the session's approved actions used: ``request``,
    ``actionDigest``, ``approvers``; each backed by approval entries in ``decisions``.
``timestamps``
    ``attested`` (required), ``sessionStarted`` and ``sessionEnded`` (the first and last
    recorded decision), all RFC 3339 UTC.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import cache
from importlib import resources
from typing import Any

from ringfence.provenance.errors import StatementError

PREDICATE_TYPE = "https://ringfence.dev/attestation/agent-change/v1"
SCHEMA_FILE = "agent-change-v1.schema.json"


@cache
def schema() -> dict[str, Any]:
    text = resources.files("ringfence.provenance").joinpath(SCHEMA_FILE).read_text(encoding="utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def check(predicate: Mapping[str, Any]) -> None:
    """Validate against the JSON Schema; the first problem, located. Raises :class:`StatementError`."""
    import jsonschema

    validator = jsonschema.Draft202012Validator(schema())
    errors = sorted(validator.iter_errors(dict(predicate)), key=lambda e: list(e.absolute_path))
    if errors:
        first = errors[0]
        where = "predicate" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in first.absolute_path)
        raise StatementError(f"{where}: {first.message}")


def field(predicate: Mapping[str, Any], dotted: str) -> Any:
    """``predicate``'s value at ``a.b.c``, or None."""
    value: Any = predicate
    for part in dotted.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return None
        value = value[part]
    return value


def approvals_summary(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One item per request that an approved action used, from the proven approval entries."""
    from ringfence.provenance.decisions import is_decision

    used = {
        str(e.get("request")): str(e.get("action_digest", ""))
        for e in entries
        if is_decision(e) and e.get("decision") == "allow" and e.get("control") == "grant" and e.get("request")
    }
    out: list[dict[str, Any]] = []
    for request, digest in sorted(used.items()):
        approvers = sorted(
            {
                str(e.get("principal_id"))
                for e in entries
                if e.get("kind") == "approval" and e.get("request") == request and e.get("decision") == "approve"
            }
        )
        out.append({"request": request, "actionDigest": digest, "approvers": approvers})
    return out
