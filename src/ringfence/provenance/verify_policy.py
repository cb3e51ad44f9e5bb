"""The verify policy: which keys are trusted for which subjects, and what must hold.

A YAML file, reviewed like any policy::

    version: 1
    keys:                                  # every key the verifier knows, by name
      deploy-bot: ed25519:BASE64           # `ringfence keys show NAME` prints this form
      alice: ed25519:BASE64
      bob: ed25519:BASE64
    ledger:
      keys: ["ringfence.local-ci+1a2b3c4d+BASE64"]   # C2SP verifier keys (ledger.vkey)
      checkpoint: witness/latest           # optional: a trusted (later) checkpoint; relative to this file
    subjects:                              # the first rule whose glob matches a subject name applies
      - match: "git+https://github.com/acme/*"
        signers: [deploy-bot, alice, bob]  # keys trusted for these subjects
        threshold: 2                       # distinct trusted signers needed (default 1)
        require: [deploy-bot]              # keys that must be among them (default none)
        agents: [deploy-bot]               # agent ids allowed to produce these (default any)
    require: [agent-change]                # predicate types that must verify (agent-change, slsa, or URIs)
    predicate:
      required: [agent.model, task.ref]    # fields beyond the schema that must be present
    decisions:
      min: 1                               # recorded gate decisions needed (default 1)
      allow_denied: false                  # may the session contain denied attempts? (default no)
    slsa:
      builders: [https://github.com/actions/runner/github-hosted]  # trusted builder ids

Every problem is reported as ``file:line: what is wrong``; a bad policy changes nothing and
verifies nothing.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ringfence.ledger.checkpoint import CheckpointError, VerifierKey
from ringfence.provenance.dsse import TrustedKey
from ringfence.provenance.errors import EnvelopeError, VerifyPolicyError
from ringfence.provenance.keys import parse_public
from ringfence.provenance.predicate import PREDICATE_TYPE
from ringfence.provenance.sigstore_bundle import Identity
from ringfence.provenance.slsa import SLSA_TYPE

TYPE_NAMES = {"agent-change": PREDICATE_TYPE, "slsa": SLSA_TYPE}
_TOP = {"version", "keys", "ledger", "subjects", "require", "predicate", "decisions", "slsa", "sigstore"}


@dataclass(frozen=True)
class SubjectRule:
    match: str
    signers: tuple[str, ...]
    threshold: int = 1
    require: tuple[str, ...] = ()
    agents: tuple[str, ...] | None = None

    def applies(self, name: str) -> bool:
        return fnmatch.fnmatchcase(name, self.match)


@dataclass(frozen=True)
class VerifyPolicy:
    path: Path
    keys: dict[str, TrustedKey]
    rules: tuple[SubjectRule, ...]
    ledger_keys: tuple[VerifierKey, ...] = ()
    checkpoint: Path | None = None
    require: tuple[str, ...] = (PREDICATE_TYPE,)
    required_fields: tuple[str, ...] = ()
    min_decisions: int = 1
    allow_denied: bool = False
    builders: tuple[str, ...] = ()
    trust_root: Path | None = None  # a Sigstore trusted root file, for keyless signatures
    identities: dict[str, Identity] = field(default_factory=dict)

    def rule_for(self, name: str) -> SubjectRule | None:
        return next((r for r in self.rules if r.applies(name)), None)

    def trusted(self, rule: SubjectRule) -> list[TrustedKey]:
        return [self.keys[n] for n in rule.signers if n in self.keys]


class _Loader:
    """Reads the YAML with line numbers so every error can say where."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def fail(self, node: Any, message: str) -> VerifyPolicyError:
        line = getattr(getattr(node, "start_mark", None), "line", None)
        where = f"{self.path}:{line + 1}" if line is not None else str(self.path)
        return VerifyPolicyError(f"{where}: {message}")


def _strings(loader: _Loader, node: Any, value: Any, what: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise loader.fail(node, f"{what} must be a list of names")
    return tuple(value)


def _sigstore(
    loader: _Loader, node: Any, doc: Any, path: Path, keys: Mapping[str, TrustedKey]
) -> tuple[Path | None, dict[str, Identity]]:
    """``sigstore: {trust_root: FILE, identities: {name: {subject, issuer}}}``."""
    if doc is None:
        return None, {}
    if not isinstance(doc, Mapping) or set(doc) - {"trust_root", "identities"}:
        raise loader.fail(node, "sigstore takes trust_root (a trusted_root.json) and identities")
    root = doc.get("trust_root")
    if not isinstance(root, str) or not root:
        raise loader.fail(node, "sigstore.trust_root must be the path of a Sigstore trusted root (trusted_root.json)")
    raw = doc.get("identities")
    if not isinstance(raw, Mapping) or not raw:
        raise loader.fail(node, "sigstore.identities must map names to {subject, issuer}")
    out: dict[str, Identity] = {}
    for name, ident in raw.items():
        where = f"sigstore.identities.{name}"
        if not isinstance(ident, Mapping) or set(ident) != {"subject", "issuer"}:
            raise loader.fail(
                node, f"{where} must be {{subject: ..., issuer: ...}} (the certificate's SAN and OIDC issuer)"
            )
        if not all(isinstance(ident[k], str) and ident[k] for k in ("subject", "issuer")):
            raise loader.fail(node, f"{where}: subject and issuer must be non-empty strings")
        if name in keys:
            raise loader.fail(node, f"{where}: {name!r} is also a key's name; one name per signer")
        out[str(name)] = Identity(str(name), ident["subject"], ident["issuer"])
    return (path.parent / root).resolve(), out


def _item(node: Any, index: int) -> Any:
    items = getattr(node, "value", None)
    return items[index] if isinstance(items, list) and index < len(items) else node


def load(path: Path, text: str | None = None) -> VerifyPolicy:
    """Load and validate the verify policy at ``path`` (or its ``text``, read elsewhere — from
    a git revision, say). Raises :class:`VerifyPolicyError`."""
    import yaml

    loader = _Loader(path)
    if text is None:
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise VerifyPolicyError(f"cannot read the verify policy {path}: {exc.strerror}") from None
    try:
        root = yaml.compose(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
        doc = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError as exc:
        raise VerifyPolicyError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(doc, dict):
        raise VerifyPolicyError(f"{path}: a verify policy is a mapping with version, keys and subjects")
    nodes: dict[str, Any] = {k.value: v for k, v in root.value} if root is not None else {}

    def node(key: str) -> Any:
        return nodes.get(key, root)

    unknown = sorted(set(doc) - _TOP)
    if unknown:
        raise loader.fail(root, f"unknown key {unknown[0]!r} (known: {', '.join(sorted(_TOP))})")
    if doc.get("version") != 1:
        raise loader.fail(node("version"), "version must be 1")

    raw_keys = doc.get("keys")
    if not isinstance(raw_keys, dict) or not raw_keys:
        raise loader.fail(node("keys"), "keys must map names to ed25519:<base64> public keys")
    keys: dict[str, TrustedKey] = {}
    seen: dict[bytes, str] = {}
    for name, text_key in raw_keys.items():
        if not isinstance(name, str) or not isinstance(text_key, str):
            raise loader.fail(node("keys"), f"keys.{name}: must be a string ed25519:<base64>")
        try:
            public = parse_public(text_key, f"keys.{name}")
        except EnvelopeError as exc:
            raise loader.fail(node("keys"), str(exc)) from None
        if public in seen:
            raise loader.fail(node("keys"), f"keys.{name} is the same key as keys.{seen[public]}; one name per key")
        seen[public] = name
        keys[name] = TrustedKey(name, public)

    ledger = doc.get("ledger") or {}
    if not isinstance(ledger, dict) or set(ledger) - {"keys", "checkpoint"}:
        raise loader.fail(node("ledger"), "ledger takes keys (C2SP verifier keys) and checkpoint (a file)")
    ledger_keys: list[VerifierKey] = []
    for i, vkey in enumerate(ledger.get("keys") or ()):
        try:
            ledger_keys.append(VerifierKey.from_vkey(str(vkey)))
        except CheckpointError as exc:
            raise loader.fail(node("ledger"), f"ledger.keys[{i}]: {exc} (copy the line of ledger.vkey)") from None
    checkpoint = ledger.get("checkpoint")
    if checkpoint is not None and not isinstance(checkpoint, str):
        raise loader.fail(node("ledger"), "ledger.checkpoint must be a path to a signed checkpoint note")
    if checkpoint and not ledger_keys:
        raise loader.fail(node("ledger"), "ledger.checkpoint needs ledger.keys to verify it")

    trust_root, identities = _sigstore(loader, node("sigstore"), doc.get("sigstore"), path, keys)
    raw_rules = doc.get("subjects")
    if not isinstance(raw_rules, list) or not raw_rules:
        raise loader.fail(node("subjects"), "subjects must be a list of {match, signers, threshold}")
    rules: list[SubjectRule] = []
    for i, r in enumerate(raw_rules):
        where = f"subjects[{i}]"
        n = _item(node("subjects"), i)
        if not isinstance(r, dict) or set(r) - {"match", "signers", "threshold", "require", "agents"}:
            raise loader.fail(n, f"{where} takes match, signers, threshold, require, agents")
        signers = _strings(loader, n, r.get("signers"), f"{where}.signers")
        for s in signers:
            if s not in keys and s not in identities:
                raise loader.fail(n, f"{where}.signers names {s!r}, which is not under keys or sigstore.identities")
        threshold = r.get("threshold", 1)
        if isinstance(threshold, bool) or not isinstance(threshold, int) or not 1 <= threshold <= len(signers):
            raise loader.fail(n, f"{where}.threshold must be between 1 and the number of signers ({len(signers)})")
        require = _strings(loader, n, r.get("require", []), f"{where}.require") if r.get("require") else ()
        for s in require:
            if s not in signers:
                raise loader.fail(n, f"{where}.require names {s!r}, which is not among its signers")
        agents = _strings(loader, n, r["agents"], f"{where}.agents") if "agents" in r else None
        match = r.get("match", "*")
        if not isinstance(match, str) or not match:
            raise loader.fail(n, f"{where}.match must be a glob over subject names")
        rules.append(SubjectRule(match, signers, threshold, require, agents))

    require_raw = doc.get("require", ["agent-change"])
    require = tuple(TYPE_NAMES.get(t, t) for t in _strings(loader, node("require"), require_raw, "require"))
    predicate = doc.get("predicate") or {}
    if not isinstance(predicate, dict) or set(predicate) - {"required"}:
        raise loader.fail(node("predicate"), "predicate takes required (a list of dotted field names)")
    required = (
        _strings(loader, node("predicate"), predicate.get("required", []), "predicate.required")
        if (predicate.get("required"))
        else ()
    )
    decisions = doc.get("decisions") or {}
    if not isinstance(decisions, dict) or set(decisions) - {"min", "allow_denied"}:
        raise loader.fail(node("decisions"), "decisions takes min and allow_denied")
    minimum = decisions.get("min", 1)
    if isinstance(minimum, bool) or not isinstance(minimum, int) or minimum < 0:
        raise loader.fail(node("decisions"), "decisions.min must be a whole number ≥ 0")
    allow_denied = decisions.get("allow_denied", False)
    if not isinstance(allow_denied, bool):
        raise loader.fail(node("decisions"), "decisions.allow_denied must be true or false")
    if PREDICATE_TYPE in require and not ledger_keys:
        raise loader.fail(
            node("ledger"), "verifying agent-change attestations needs ledger.keys (the ledger's ledger.vkey line)"
        )
    slsa = doc.get("slsa") or {}
    if not isinstance(slsa, Mapping) or set(slsa) - {"builders"}:
        raise loader.fail(node("slsa"), "slsa takes builders (trusted builder ids)")
    builders = _strings(loader, node("slsa"), slsa["builders"], "slsa.builders") if slsa.get("builders") else ()
    return VerifyPolicy(
        path=path,
        keys=keys,
        rules=tuple(rules),
        ledger_keys=tuple(ledger_keys),
        checkpoint=(path.parent / checkpoint).resolve() if checkpoint else None,
        require=require,
        required_fields=required,
        min_decisions=minimum,
        allow_denied=allow_denied,
        builders=builders,
        trust_root=trust_root,
        identities=identities,
    )
