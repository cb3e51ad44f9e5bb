"""DSSE v1 envelopes: the signed wrapper around an in-toto Statement.

Exactly per the DSSE v1 protocol (github.com/secure-systems-lab/dsse, ``protocol.md``
and ``envelope.md``):

* what is signed is the **pre-authentication encoding**
  ``PAE(type, body) = "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body``, where ``LEN``
  is the byte length in ASCII decimal with no leading zeros — never the JSON envelope;
* the envelope is ``{"payload": base64(body), "payloadType": type, "signatures":
  [{"keyid": …, "sig": base64(signature)}]}`` with standard base64 (padding accepted and
  produced);
* signatures are Ed25519 (RFC 8032) over the PAE bytes.

Verification is by threshold: ``k`` distinct trusted keys must each have produced a valid
signature. A key that signed twice counts once, a signature that does not verify or comes
from a key the verifier does not trust counts for nothing, and every such signature is
reported so a human can see *why* a threshold was missed.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ringfence.provenance.errors import EnvelopeError

PAYLOAD_TYPE = "application/vnd.in-toto+json"
MAX_ENVELOPE = 16 * 1024 * 1024  # bytes of JSON; an attestation is kilobytes


def pae(payload_type: str, payload: bytes) -> bytes:
    """The DSSE v1 pre-authentication encoding of ``payload`` of type ``payload_type``."""
    kind = payload_type.encode("utf-8")
    return b"DSSEv1 %d %b %d %b" % (len(kind), kind, len(payload), payload)


@dataclass(frozen=True)
class Signature:
    keyid: str
    sig: bytes

    def to_dict(self) -> dict[str, str]:
        return {"keyid": self.keyid, "sig": base64.b64encode(self.sig).decode("ascii")}


@dataclass(frozen=True)
class Envelope:
    payload: bytes
    payload_type: str = PAYLOAD_TYPE
    signatures: tuple[Signature, ...] = ()

    def pae(self) -> bytes:
        return pae(self.payload_type, self.payload)

    def to_dict(self) -> dict[str, Any]:
        return {
            "payload": base64.b64encode(self.payload).decode("ascii"),
            "payloadType": self.payload_type,
            "signatures": [s.to_dict() for s in self.signatures],
        }

    def to_json(self) -> str:
        """One line of JSON (the ``.intoto.jsonl`` and git-note form)."""
        return json.dumps(self.to_dict(), separators=(",", ":"), sort_keys=True)

    def statement(self) -> dict[str, Any]:
        """The payload parsed as a JSON object. Raises :class:`EnvelopeError`."""
        if self.payload_type != PAYLOAD_TYPE:
            raise EnvelopeError(f"payloadType is {self.payload_type!r}, expected {PAYLOAD_TYPE!r}")
        try:
            value = json.loads(self.payload)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise EnvelopeError(f"the payload is not JSON: {exc}") from None
        if not isinstance(value, dict):
            raise EnvelopeError("the payload is not a JSON object (an in-toto Statement is one)")
        return value

    def with_signature(self, signature: Signature) -> Envelope:
        return Envelope(self.payload, self.payload_type, (*self.signatures, signature))


def _b64(text: object, what: str) -> bytes:
    if not isinstance(text, str):
        raise EnvelopeError(f"{what} must be a base64 string, got {type(text).__name__}")
    # DSSE allows URL-safe base64 and missing padding too: read both strictly, always write standard.
    standard = text.replace("-", "+").replace("_", "/")
    try:
        return base64.b64decode(standard + "=" * (-len(standard) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise EnvelopeError(f"{what} is not valid base64") from None


def parse(data: str | bytes | Mapping[str, Any]) -> Envelope:
    """An envelope from its JSON text or decoded object. Raises :class:`EnvelopeError`."""
    if isinstance(data, str | bytes):
        if len(data) > MAX_ENVELOPE:
            raise EnvelopeError(f"the envelope is larger than {MAX_ENVELOPE} bytes")
        try:
            obj = json.loads(data)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise EnvelopeError(f"not a DSSE envelope: invalid JSON ({exc})") from None
    else:
        obj = data
    if not isinstance(obj, Mapping):
        raise EnvelopeError("not a DSSE envelope: expected a JSON object with payload, payloadType, signatures")
    missing = [k for k in ("payload", "payloadType", "signatures") if k not in obj]
    if missing:
        raise EnvelopeError(f"not a DSSE envelope: missing {', '.join(missing)}")
    kind = obj["payloadType"]
    if not isinstance(kind, str) or not kind:
        raise EnvelopeError("payloadType must be a non-empty string")
    payload = _b64(obj["payload"], "payload")
    sigs = obj["signatures"]
    if not isinstance(sigs, list):
        raise EnvelopeError("signatures must be a list")
    out: list[Signature] = []
    for i, s in enumerate(sigs):
        if not isinstance(s, Mapping) or "sig" not in s:
            raise EnvelopeError(f"signatures[{i}] must be an object with sig (and keyid)")
        keyid = s.get("keyid", "")
        if not isinstance(keyid, str):
            raise EnvelopeError(f"signatures[{i}].keyid must be a string")
        out.append(Signature(keyid, _b64(s["sig"], f"signatures[{i}].sig")))
    return Envelope(payload, kind, tuple(out))


def sign(envelope: Envelope, key: Any) -> Envelope:
    """``envelope`` with one more signature by ``key`` (a :class:`~ringfence.provenance.keys.Signer`)."""
    return envelope.with_signature(Signature(key.keyid, key.sign(envelope.pae())))


@dataclass(frozen=True)
class TrustedKey:
    """A public key the verifier trusts, under the name the verify policy gives it."""

    name: str
    public: bytes  # raw 32-byte Ed25519

    @property
    def keyid(self) -> str:
        from ringfence.provenance.keys import keyid_of

        return keyid_of(self.public)

    def verifies(self, message: bytes, sig: bytes) -> bool:
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

        try:
            Ed25519PublicKey.from_public_bytes(self.public).verify(sig, message)
        except (InvalidSignature, ValueError):
            return False
        return True


@dataclass
class SignatureReport:
    """Which trusted keys signed, and what was wrong with every signature that did not count."""

    signers: list[str] = field(default_factory=list)  # names of distinct trusted keys that verified
    problems: list[str] = field(default_factory=list)

    def met(self, threshold: int) -> bool:
        return len(self.signers) >= threshold


def check_signatures(envelope: Envelope, trusted: Sequence[TrustedKey]) -> SignatureReport:
    """Verify every signature of ``envelope`` against ``trusted``; duplicates count once."""
    message = envelope.pae()
    report = SignatureReport()
    by_id = {k.keyid: k for k in trusted}
    for i, s in enumerate(envelope.signatures):
        named = by_id.get(s.keyid)
        # The keyid is only a hint (DSSE): a signature without a known one is tried against every key.
        candidates = [named] if named is not None else list(trusted)
        signer = next((k for k in candidates if k.verifies(message, s.sig)), None)
        if signer is None and named is not None:
            report.problems.append(
                f"signature {i + 1} claims key {named.name} ({s.keyid}) but does not verify: "
                "the payload or the signature was changed after signing"
            )
        elif signer is None:
            shown = s.keyid or "no keyid"
            report.problems.append(f"signature {i + 1} ({shown}) is not by any key trusted for this subject")
        elif signer.name in report.signers:
            report.problems.append(f"signature {i + 1} is a second signature by {signer.name}; it counts once")
        else:
            report.signers.append(signer.name)
    return report
