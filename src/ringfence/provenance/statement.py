"""in-toto Statement v1: what an attestation is about (subjects) and what it says (predicate).

Per the in-toto Attestation Framework, Statement layer v1
(github.com/in-toto/attestation, ``spec/v1/statement.md``)::

    {"_type": "https://in-toto.io/Statement/v1",
     "subject": [{"name": "...", "digest": {"sha256": "..."}}],
     "predicateType": "<URI>",
     "predicate": {...}}

A subject's digest set maps algorithm names to lowercase hex; ``sha256`` is always
present for what ringfence writes and is what verification matches on (``gitCommit`` and
``gitTree`` are recorded beside it for people and tools that index by them).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ringfence.provenance.errors import StatementError

STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
_HEX = re.compile(r"^[0-9a-f]+$")
_HEX_LENGTHS = {"sha256": 64, "sha384": 96, "sha512": 128, "sha1": 40, "gitCommit": (40, 64), "gitTree": (40, 64)}


@dataclass(frozen=True)
class Subject:
    name: str
    digest: Mapping[str, str]

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "digest": dict(sorted(self.digest.items()))}


def file_digest(path: Path) -> str:
    h = hashlib.sha256()
    try:
        with path.open("rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
    except OSError as exc:
        raise StatementError(f"cannot read the artifact {path}: {exc.strerror}") from None
    return h.hexdigest()


def artifact_subject(path: Path) -> Subject:
    return Subject(path.name, {"sha256": file_digest(path)})


def build(subjects: Sequence[Subject], predicate_type: str, predicate: Mapping[str, Any]) -> dict[str, Any]:
    if not subjects:
        raise StatementError("a statement needs at least one subject")
    return {
        "_type": STATEMENT_TYPE,
        "subject": [s.to_dict() for s in subjects],
        "predicateType": predicate_type,
        "predicate": dict(predicate),
    }


def encode(statement: Mapping[str, Any]) -> bytes:
    """The payload bytes: compact JSON with sorted keys (any JSON is valid; this is stable)."""
    return json.dumps(statement, separators=(",", ":"), sort_keys=True, ensure_ascii=False).encode("utf-8")


def check(statement: Mapping[str, Any]) -> list[Subject]:
    """Validate the Statement layer; its subjects. Raises :class:`StatementError`."""
    if statement.get("_type") != STATEMENT_TYPE:
        raise StatementError(f"_type is {statement.get('_type')!r}, expected {STATEMENT_TYPE!r} (in-toto Statement v1)")
    kind = statement.get("predicateType")
    if not isinstance(kind, str) or not kind:
        raise StatementError("predicateType must be a non-empty URI string")
    if not isinstance(statement.get("predicate"), Mapping):
        raise StatementError("predicate must be a JSON object")
    raw = statement.get("subject")
    if not isinstance(raw, list) or not raw:
        raise StatementError("subject must be a non-empty list")
    subjects: list[Subject] = []
    for i, s in enumerate(raw):
        if not isinstance(s, Mapping):
            raise StatementError(f"subject[{i}] must be an object with name and digest")
        name, digest = s.get("name", ""), s.get("digest")
        if not isinstance(name, str):
            raise StatementError(f"subject[{i}].name must be a string")
        if not isinstance(digest, Mapping) or not digest:
            raise StatementError(f"subject[{i}].digest must be a non-empty object of algorithm: hex")
        for algo, value in digest.items():
            if not isinstance(value, str) or not _HEX.match(value):
                raise StatementError(f"subject[{i}].digest.{algo} must be lowercase hex")
            want = _HEX_LENGTHS.get(algo)
            if want is not None and len(value) not in (want if isinstance(want, tuple) else (want,)):
                raise StatementError(f"subject[{i}].digest.{algo} has {len(value)} hex digits")
        subjects.append(Subject(name, dict(digest)))
    return subjects
