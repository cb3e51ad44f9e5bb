"""Runbooks: remediation steps approved by humans in daylight, signed, and only then run.

A runbook is YAML::

    version: 3                             # bump it with every edit; signatures name it
    name: rollback-web
    description: Roll web back to the previous release
    environment: production
    steps:
      - name: roll back the deployment
        run: [kubectl, rollout, undo, deployment/web]     # an argv list: never a shell
        timeout: 2m
      - name: tell the load balancer
        http: {method: POST, url: "http://lb.internal/admin/drain", status: [200, 204], body: {pool: canary}}
        precondition: {http: {url: "http://lb.internal/healthz", status: 200}}
    postchecks:
      - name: error ratio back under 2 %
        prometheus: {query: 'sum(rate(…{code=~"5.."}[1m])) / sum(rate(…[1m]))', condition: "result[0] < 0.02"}
        retries: 10
        interval: 30s

Its **digest** is the SHA-256 of the parsed document as canonical JSON (sorted keys, no
whitespace), so comments and formatting do not matter and any change that does is a new
digest. Approvers sign ``ringfence-runbook-v1`` statements naming the runbook, its
version, its digest and themselves with the Ed25519 keys they approve requests with
(``ringfence runbook sign``); the signatures live next to the runbook in
``<runbook>.signatures``, one JSON object per line. A runbook runs only when at least
``approvals.runbooks.k`` distinct configured approvers (from ``approvals.runbooks.groups``
if set) signed exactly its current digest — so an agent can trigger a signed runbook but
cannot edit one without it becoming unsigned.
"""

from __future__ import annotations

import hashlib
import json
import shlex
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ringfence.errors import GuardError
from ringfence.guard.expr import Condition, ExprError, compile_condition

STATEMENT = "ringfence-runbook-v1"
SUFFIX = ".signatures"
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD")


@dataclass(frozen=True)
class Check:
    """A precondition or post-check: an HTTP status, or a Prometheus condition."""

    name: str
    http: Mapping[str, Any] | None = None
    query: str | None = None
    condition: Condition | None = None
    retries: int = 0
    interval: float = 5.0


@dataclass(frozen=True)
class Step:
    name: str
    run: tuple[str, ...] | None = None
    http: Mapping[str, Any] | None = None
    timeout: float = 60.0
    precondition: Check | None = None

    @property
    def command(self) -> str:
        """What the gate judges: the argv as a shell would show it, or the equivalent curl."""
        if self.run is not None:
            return shlex.join(self.run)
        assert self.http is not None
        return shlex.join(["curl", "-X", str(self.http.get("method", "GET")), str(self.http["url"])])


@dataclass(frozen=True)
class Runbook:
    path: Path
    name: str
    version: int
    digest: str
    steps: tuple[Step, ...]
    postchecks: tuple[Check, ...] = ()
    description: str = ""
    environment: str | None = None

    @property
    def signatures_path(self) -> Path:
        return self.path.with_name(self.path.name + SUFFIX)

    def statement(self, approver: str) -> bytes:
        lines = [STATEMENT, f"name: {self.name}", f"version: {self.version}", f"digest: {self.digest}",
                 f"approver: {approver}"]  # fmt: skip
        return ("\n".join(lines) + "\n").encode("utf-8")

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "version": self.version, "digest": self.digest, "path": str(self.path)}


def digest_of(doc: Mapping[str, Any]) -> str:
    data = json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _duration(value: Any, where: str) -> float:
    from ringfence.control.settings import parse_duration
    from ringfence.errors import ConfigError

    try:
        return parse_duration(value, where)
    except ConfigError as exc:
        raise GuardError(str(exc)) from None


def _http(doc: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(doc, Mapping) or not isinstance(doc.get("url"), str):
        raise GuardError(f"{where} needs a url")
    if set(doc) - {"method", "url", "headers", "body", "status", "timeout"}:
        raise GuardError(f"{where} takes method, url, headers, body, status, timeout")
    url = doc["url"]
    if not url.startswith(("http://", "https://")):
        raise GuardError(f"{where}.url must be http:// or https://, not {url!r}")
    method = str(doc.get("method", "GET")).upper()
    if method not in METHODS:
        raise GuardError(f"{where}.method must be one of {', '.join(METHODS)}")
    status = doc.get("status", [200])
    statuses = [status] if isinstance(status, int) else status
    if not isinstance(statuses, list) or not all(isinstance(s, int) and 100 <= s <= 599 for s in statuses):
        raise GuardError(f"{where}.status must be an HTTP status or a list of them")
    headers = doc.get("headers") or {}
    if not isinstance(headers, Mapping) or not all(isinstance(v, str) for v in headers.values()):
        raise GuardError(f"{where}.headers must map names to strings")
    return {**doc, "method": method, "status": statuses, "headers": dict(headers)}


def _check(doc: Any, where: str) -> Check:
    if not isinstance(doc, Mapping):
        raise GuardError(f"{where} must be a mapping with http or prometheus")
    if set(doc) - {"name", "http", "prometheus", "retries", "interval"}:
        raise GuardError(f"{where} takes name, http or prometheus, retries, interval")
    retries = doc.get("retries", 0)
    if isinstance(retries, bool) or not isinstance(retries, int) or not 0 <= retries <= 1000:
        raise GuardError(f"{where}.retries must be a whole number between 0 and 1000")
    interval = _duration(doc.get("interval", "5s"), f"{where}.interval")
    name = str(doc.get("name") or where)
    if ("http" in doc) == ("prometheus" in doc):
        raise GuardError(f"{where} needs exactly one of http or prometheus")
    if "http" in doc:
        return Check(name, http=_http(doc["http"], f"{where}.http"), retries=retries, interval=interval)
    prom = doc["prometheus"]
    if not isinstance(prom, Mapping) or not isinstance(prom.get("query"), str):
        raise GuardError(f"{where}.prometheus needs query and condition")
    try:
        condition = compile_condition(prom.get("condition", ""), f"{where}.prometheus.condition")
    except ExprError as exc:
        raise GuardError(str(exc)) from None
    return Check(name, query=prom["query"], condition=condition, retries=retries, interval=interval)


def _step(doc: Any, where: str) -> Step:
    if not isinstance(doc, Mapping):
        raise GuardError(f"{where} must be a mapping with name and run or http")
    if set(doc) - {"name", "run", "http", "timeout", "precondition"}:
        raise GuardError(f"{where} takes name, run or http, timeout, precondition")
    name = doc.get("name")
    if not isinstance(name, str) or not name.strip():
        raise GuardError(f"{where}.name must say what the step does")
    if ("run" in doc) == ("http" in doc):
        raise GuardError(f"{where} needs exactly one of run (an argv list) or http")
    run = doc.get("run")
    if run is not None and (not isinstance(run, list) or not run or not all(isinstance(a, str) for a in run)):
        raise GuardError(f"{where}.run must be an argv list such as [kubectl, rollout, undo, deployment/web]: "
                         "ringfence never runs a shell string")  # fmt: skip
    pre = doc.get("precondition")
    return Step(
        name=name,
        run=tuple(run) if run is not None else None,
        http=_http(doc["http"], f"{where}.http") if "http" in doc else None,
        timeout=_duration(doc.get("timeout", "60s"), f"{where}.timeout"),
        precondition=_check(pre, f"{where}.precondition") if pre is not None else None,
    )


def load(path: Path) -> Runbook:
    """Load and validate a runbook. Raises :class:`GuardError` naming the file and field."""
    from ringfence.yamlfile import read_mapping

    doc = read_mapping(path, "the runbook", "version, name and steps", GuardError)
    where = str(path)
    unknown = sorted(set(doc) - {"version", "name", "description", "environment", "steps", "postchecks"})
    if unknown:
        raise GuardError(f"{where}: unknown key {unknown[0]!r}")
    version = doc.get("version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise GuardError(f"{where}: version must be a whole number ≥ 1 (bump it with every edit)")
    name = doc.get("name")
    if not isinstance(name, str) or not name.strip() or "\n" in name:
        raise GuardError(f"{where}: name must be a one-line name")
    steps = doc.get("steps")
    if not isinstance(steps, list) or not steps:
        raise GuardError(f"{where}: steps must be a non-empty list")
    checks = doc.get("postchecks") or []
    if not isinstance(checks, list):
        raise GuardError(f"{where}: postchecks must be a list")
    try:
        digest = digest_of(doc)
    except (TypeError, ValueError) as exc:
        raise GuardError(f"{where}: cannot be digested as JSON: {exc}") from None
    env = doc.get("environment")
    return Runbook(
        path=path,
        name=name,
        version=version,
        digest=digest,
        steps=tuple(_step(s, f"{where}: steps[{i}]") for i, s in enumerate(steps)),
        postchecks=tuple(_check(c, f"{where}: postchecks[{i}]") for i, c in enumerate(checks)),
        description=str(doc.get("description") or ""),
        environment=str(env) if env is not None else None,
    )


# --- signatures ------------------------------------------------------------------------------


@dataclass
class Verified:
    runbook: Runbook
    signers: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    needed: int = 2

    @property
    def ok(self) -> bool:
        return len(self.signers) >= self.needed

    def summary(self) -> str:
        who = ", ".join(self.signers) or "nobody"
        return f"{self.runbook.name} v{self.runbook.version} signed by {who} ({len(self.signers)} of {self.needed})"


def read_signatures(runbook: Runbook) -> list[dict[str, Any]]:
    try:
        text = runbook.signatures_path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise GuardError(f"cannot read {runbook.signatures_path}: {exc.strerror}") from None
    out = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError:
            item = {"_unreadable": number}
        out.append(item if isinstance(item, dict) else {"_unreadable": number})
    return out


def verify(runbook: Runbook, approvers: Mapping[str, Any], *, k: int, groups: Sequence[str]) -> Verified:
    """Which configured approvers signed exactly this runbook's current digest."""
    from ringfence.control.keys import key_id
    from ringfence.control.keys import verify as verify_signature

    result = Verified(runbook, needed=k)
    for item in read_signatures(runbook):
        if "_unreadable" in item:
            result.problems.append(f"{runbook.signatures_path} line {item['_unreadable']} is not a signature")
            continue
        who = str(item.get("approver", ""))
        approver = approvers.get(who)
        if approver is None or approver.key is None:
            result.problems.append(f"{who or '?'} is not a configured approver with a key; their signature is ignored")
            continue
        if groups and not set(groups) & set(approver.groups):
            result.problems.append(f"{who} is not in {' or '.join(groups)}, which signs runbooks")
            continue
        if item.get("digest") != runbook.digest or item.get("version") != runbook.version:
            result.problems.append(
                f"{who} signed version {item.get('version')} ({str(item.get('digest'))[:19]}…), not this version "
                f"{runbook.version} ({runbook.digest[:19]}…): the runbook changed after it was signed"
            )
            continue
        if item.get("key_id") != key_id(approver.key):
            result.problems.append(f"{who}'s signature is by key {item.get('key_id')}, not their configured key")
            continue
        if not verify_signature(approver.key, str(item.get("signature", "")), runbook.statement(who)):
            result.problems.append(f"{who}'s signature does not verify: the signature file was altered")
            continue
        if who not in result.signers:
            result.signers.append(who)
    if not result.ok:
        result.problems.append(
            f"{runbook.name} v{runbook.version} needs {k} signature(s) from distinct approvers"
            + (f" in {' or '.join(groups)}" if groups else "")
            + f"; it has {len(result.signers)}: it is not approved to run"
        )
    return result


def sign(runbook: Runbook, key: Any, approver: str) -> dict[str, Any]:
    """Add ``approver``'s signature (by ``key``, a control-keys SigningKey); the new line."""
    from ringfence.control.keys import key_id

    item = {
        "approver": approver,
        "runbook": runbook.name,
        "version": runbook.version,
        "digest": runbook.digest,
        "key_id": key_id(key.public),
        "signed_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "signature": key.sign(runbook.statement(approver)),
    }
    kept = [
        s for s in read_signatures(runbook)
        if not (s.get("approver") == approver and s.get("digest") == runbook.digest)
    ]  # fmt: skip
    lines = [json.dumps(s, sort_keys=True) for s in (*kept, item) if "_unreadable" not in s]
    tmp = runbook.signatures_path.with_name(runbook.signatures_path.name + ".tmp")
    tmp.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    tmp.replace(runbook.signatures_path)
    return item
