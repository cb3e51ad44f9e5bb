"""Where attestations live: git notes on the commit, ``.intoto.jsonl`` next to an artifact.

Both hold one DSSE envelope per line (the in-toto JSON Lines bundle form). Adding an
envelope whose payload is already there merges the signatures instead of adding a line,
so an approver's countersignature lands on the same envelope the agent signed.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from ringfence.provenance import dsse, gitrepo
from ringfence.provenance.dsse import Envelope
from ringfence.provenance.errors import EnvelopeError

SUFFIX = ".intoto.jsonl"


def merge(lines: Sequence[str], envelope: Envelope) -> list[str]:
    """``lines`` with ``envelope`` added: its new signatures join an envelope of the same payload."""
    out: list[str] = []
    merged = False
    for line in lines:
        try:
            existing = dsse.parse(line)
        except EnvelopeError:
            out.append(line)  # kept as it was; verification reports it
            continue
        if not merged and existing.payload == envelope.payload and existing.payload_type == envelope.payload_type:
            known = {(s.keyid, s.sig) for s in existing.signatures}
            for s in envelope.signatures:
                if (s.keyid, s.sig) not in known:
                    existing = existing.with_signature(s)
            out.append(existing.to_json())
            merged = True
        else:
            out.append(line)
    if not merged:
        out.append(envelope.to_json())
    return out


def parse_lines(lines: Sequence[str], where: str) -> tuple[list[Envelope], list[str]]:
    """The envelopes in ``lines``, and a problem for every line that is neither an envelope
    nor a Sigstore bundle (bundles: :func:`bundle_lines`)."""
    from ringfence.provenance.sigstore_bundle import is_bundle

    envelopes: list[Envelope] = []
    problems: list[str] = []
    for number, line in enumerate(lines, start=1):
        if is_bundle(line):
            continue
        try:
            envelopes.append(dsse.parse(line))
        except EnvelopeError as exc:
            problems.append(f"{where} line {number}: {exc}")
    return envelopes, problems


def bundle_lines(lines: Sequence[str]) -> list[str]:
    from ringfence.provenance.sigstore_bundle import is_bundle

    return [line for line in lines if is_bundle(line)]


def append_line(lines: Sequence[str], line: str) -> list[str]:
    """``lines`` with ``line`` added once (a bundle is stored as it came)."""
    return list(lines) if line in lines else [*lines, line]


def sidecar(artifact: Path) -> Path:
    return artifact.with_name(artifact.name + SUFFIX)


def read_file(path: Path) -> list[str]:
    try:
        return [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    except FileNotFoundError:
        return []
    except (OSError, UnicodeDecodeError) as exc:
        raise EnvelopeError(f"cannot read {path}: {exc}") from None


def write_file(path: Path, lines: Sequence[str]) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    os.replace(tmp, path)


def attach_to_commit(repo: Path, commit: str, envelope: Envelope) -> None:
    gitrepo.write_notes(repo, commit, merge(gitrepo.read_notes(repo, commit), envelope))
