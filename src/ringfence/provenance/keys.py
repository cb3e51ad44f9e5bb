"""Signing keys for attestations: the same Ed25519 keys ``ringfence keys`` manages.

An agent's key and an approver's key are both created with ``ringfence keys create
NAME`` (PKCS#8 PEM, mode 0600). Where a key lives in a CI secret instead, ``--key`` takes
a path to the PEM file. A signature's ``keyid`` is the key's id as ``ringfence keys list``
shows it (``ed25519:`` + 16 hex of the SHA-256 of the raw public key): a hint for the
verifier, never a substitute for checking the signature.
"""

from __future__ import annotations

import os
from pathlib import Path

from ringfence.control.keys import SigningKey, key_id, load_key
from ringfence.errors import ControlError
from ringfence.provenance.errors import EnvelopeError


def keyid_of(public: bytes) -> str:
    return key_id(public)


class Signer:
    """A private key that signs DSSE PAE bytes."""

    def __init__(self, key: SigningKey) -> None:
        self._key = key
        self.name = key.name
        self.public = key.public
        self.keyid = keyid_of(key.public)

    def sign(self, message: bytes) -> bytes:
        import base64

        return base64.b64decode(self._key.sign(message))


def load_signer(spec: str) -> Signer:
    """``spec`` is a key name in the keys directory, or a path to a PEM file.

    Raises :class:`EnvelopeError` saying how to create or point at the key."""
    path = Path(spec).expanduser()
    try:
        if os.sep in spec or spec.endswith((".pem", ".key")) or path.is_file():
            try:
                pem = path.read_bytes()
            except OSError as exc:
                raise EnvelopeError(f"cannot read the signing key {spec}: {exc.strerror}") from None
            return Signer(SigningKey(path.stem, pem, path))
        return Signer(load_key(spec))
    except ControlError as exc:
        raise EnvelopeError(str(exc)) from None


def parse_public(text: str, what: str) -> bytes:
    """A public key written as ``ed25519:<base64>`` (what ``ringfence keys show`` prints)."""
    import base64
    import binascii

    prefix, sep, b64 = text.strip().partition(":")
    if not sep or prefix != "ed25519":
        raise EnvelopeError(f"{what} must be ed25519:<base64> as `ringfence keys show NAME` prints it, got {text!r}")
    try:
        raw = base64.b64decode(b64, validate=True)
    except (binascii.Error, ValueError):
        raise EnvelopeError(f"{what} is not valid base64") from None
    if len(raw) != 32:
        raise EnvelopeError(f"{what} is {len(raw)} bytes; an Ed25519 public key is 32")
    return raw
