"""Signed checkpoints: C2SP tlog-checkpoint bodies in C2SP signed notes, Ed25519.

A checkpoint body (https://c2sp.org/tlog-checkpoint) is::

    <origin>\\n
    <tree size, decimal>\\n
    <root hash, base64>\\n
    [extension line\\n ...]

A signed note (https://c2sp.org/signed-note) is the text, a blank line, then one line per
signature: ``— <key name> <base64(key id || signature)>`` (U+2014 EM DASH, a space). The
Ed25519 signature covers the text including its final newline. The key id is the first 4
bytes of ``SHA-256(key name || 0x0A || 0x01 || 32-byte public key)`` (0x01: Ed25519).

Keys travel in the text forms of the Go ``sumdb/note`` package: a verifier key is
``<name>+<hex key id>+<base64(0x01 || public key)>`` and a signer key is
``PRIVATE+KEY+<name>+<hex key id>+<base64(0x01 || seed)>``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from ringfence.errors import RingfenceError

__all__ = [
    "ALG_ED25519",
    "Checkpoint",
    "CheckpointError",
    "SigningKey",
    "VerifierKey",
    "key_id",
    "open_note",
    "open_text",
    "parse_checkpoint",
    "sign",
    "sign_text",
]

ALG_ED25519 = 0x01
SIG_PREFIX = "— "  # U+2014 EM DASH, then one space
MAX_SIGNATURES = 100  # the cap of the Go reference implementation
_HASH_SIZE = 32
_SIZE_RE = re.compile(r"0|[1-9][0-9]*")
_KEY_ID_RE = re.compile(r"[0-9a-f]{8}")


class CheckpointError(RingfenceError):
    """A checkpoint, signed note or key is malformed, or its signature does not verify."""


def _b64decode(text: str, what: str) -> bytes:
    """Strict standard base64 (with padding): anything else is a :class:`CheckpointError`."""
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError) as exc:
        raise CheckpointError(f"{what} is not valid base64: {text!r}") from exc
    if base64.b64encode(raw).decode("ascii") != text:
        raise CheckpointError(f"{what} is not canonical base64: {text!r}")
    return raw


def _check_key_name(name: str) -> None:
    if not isinstance(name, str) or not name:
        raise CheckpointError("a key name must be a non-empty string")
    if "+" in name or any(ch.isspace() for ch in name) or not name.isprintable():
        raise CheckpointError(f"key name {name!r} must not contain '+', spaces or control characters")


def key_id(name: str, public: bytes) -> bytes:
    """The signed-note key id of an Ed25519 key: ``SHA-256(name || 0x0A || 0x01 || public)[:4]``."""
    return hashlib.sha256(name.encode("utf-8") + b"\n" + bytes([ALG_ED25519]) + public).digest()[:4]


def _check_text_line(line: str, what: str) -> None:
    if not line:
        raise CheckpointError(f"{what} is empty")
    if not line.isprintable():
        raise CheckpointError(f"{what} contains a control character: {line!r}")


@dataclass(frozen=True)
class Checkpoint:
    """A tree head: the log's ``origin``, its ``size`` and the RFC 9162 ``root`` hash."""

    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        _check_text_line(self.origin, "the checkpoint origin")
        if isinstance(self.size, bool) or not isinstance(self.size, int) or self.size < 0:
            raise CheckpointError(f"the checkpoint size must be a non-negative integer, got {self.size!r}")
        if not isinstance(self.root, bytes) or len(self.root) != _HASH_SIZE:
            raise CheckpointError(f"the checkpoint root must be {_HASH_SIZE} bytes")
        for i, ext in enumerate(self.extensions):
            _check_text_line(ext, f"checkpoint extension line {i + 1}")

    def body(self) -> bytes:
        """The note text: origin, size, base64 root, extension lines, each ending in ``\\n``."""
        lines = [self.origin, str(self.size), base64.b64encode(self.root).decode("ascii"), *self.extensions]
        return "".join(line + "\n" for line in lines).encode("utf-8")


def parse_checkpoint(body: str) -> Checkpoint:
    """Parse a checkpoint body strictly (no signature lines)."""
    if not body.endswith("\n"):
        raise CheckpointError("a checkpoint body must end with a newline")
    lines = body[:-1].split("\n")
    if len(lines) < 3:
        raise CheckpointError(f"a checkpoint has at least 3 lines (origin, size, root hash), this one has {len(lines)}")
    origin, size_text, root_text, *extensions = lines
    if not origin:
        raise CheckpointError("the checkpoint origin line is empty")
    if not _SIZE_RE.fullmatch(size_text):
        raise CheckpointError(f"the checkpoint size {size_text!r} is not a decimal number without leading zeros")
    root = _b64decode(root_text, "the checkpoint root hash")
    if len(root) != _HASH_SIZE:
        raise CheckpointError(f"the checkpoint root hash is {len(root)} bytes, not {_HASH_SIZE}")
    return Checkpoint(origin=origin, size=int(size_text), root=root, extensions=tuple(extensions))


def _parse_key_text(name: str, hex_id: str, b64: str, what: str) -> tuple[bytes, bytes]:
    """Check the name, id and ``base64(0x01 || key)`` of a key text; return (id, key bytes)."""
    _check_key_name(name)
    if not _KEY_ID_RE.fullmatch(hex_id):
        raise CheckpointError(f"{what}: the key id {hex_id!r} is not 8 lowercase hex digits")
    raw = _b64decode(b64, f"{what}: the key")
    if len(raw) != 33 or raw[0] != ALG_ED25519:
        raise CheckpointError(f"{what}: the key is not an Ed25519 key (0x01 followed by 32 bytes)")
    return bytes.fromhex(hex_id), raw[1:]


@dataclass(frozen=True)
class VerifierKey:
    """A public key that verifies note signatures."""

    name: str
    key_id: bytes
    public: Ed25519PublicKey

    @property
    def public_bytes(self) -> bytes:
        return self.public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)

    @classmethod
    def from_public(cls, name: str, public: Ed25519PublicKey) -> VerifierKey:
        _check_key_name(name)
        raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        return cls(name=name, key_id=key_id(name, raw), public=public)

    @classmethod
    def from_vkey(cls, text: str) -> VerifierKey:
        """Parse ``<name>+<hex id>+<base64(0x01 || public key)>``; the id must match the key."""
        parts = text.strip().split("+", 2)
        if len(parts) != 3:
            raise CheckpointError("a verifier key is '<name>+<hex key id>+<base64 key>'")
        name, hex_id, b64 = parts
        kid, raw = _parse_key_text(name, hex_id, b64, "verifier key")
        if key_id(name, raw) != kid:
            raise CheckpointError(f"verifier key {name!r}: key id {hex_id} does not match the key")
        return cls(name=name, key_id=kid, public=Ed25519PublicKey.from_public_bytes(raw))

    def to_vkey(self) -> str:
        b64 = base64.b64encode(bytes([ALG_ED25519]) + self.public_bytes).decode("ascii")
        return f"{self.name}+{self.key_id.hex()}+{b64}"

    def verify(self, message: bytes, signature: bytes) -> bool:
        try:
            self.public.verify(signature, message)
        except InvalidSignature:
            return False
        return True


@dataclass(frozen=True)
class SigningKey:
    """A named Ed25519 private key that signs notes."""

    name: str
    private: Ed25519PrivateKey = field(repr=False)

    def __post_init__(self) -> None:
        _check_key_name(self.name)

    @classmethod
    def generate(cls, name: str) -> SigningKey:
        return cls(name=name, private=Ed25519PrivateKey.generate())

    @property
    def public_bytes(self) -> bytes:
        return self.private.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)

    @property
    def key_id(self) -> bytes:
        return key_id(self.name, self.public_bytes)

    def verifier(self) -> VerifierKey:
        return VerifierKey(name=self.name, key_id=self.key_id, public=self.private.public_key())

    def to_vkey(self) -> str:
        return self.verifier().to_vkey()

    def to_skey(self) -> str:
        seed = self.private.private_bytes(
            serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
        )
        b64 = base64.b64encode(bytes([ALG_ED25519]) + seed).decode("ascii")
        return f"PRIVATE+KEY+{self.name}+{self.key_id.hex()}+{b64}"

    @classmethod
    def from_skey(cls, text: str) -> SigningKey:
        """Parse ``PRIVATE+KEY+<name>+<hex id>+<base64(0x01 || seed)>``; the id must match."""
        parts = text.strip().split("+", 4)
        if len(parts) != 5 or parts[0] != "PRIVATE" or parts[1] != "KEY":
            raise CheckpointError("a signing key is 'PRIVATE+KEY+<name>+<hex key id>+<base64 key>'")
        name, hex_id, b64 = parts[2:]
        kid, seed = _parse_key_text(name, hex_id, b64, "signing key")
        key = cls(name=name, private=Ed25519PrivateKey.from_private_bytes(seed))
        if key.key_id != kid:
            raise CheckpointError(f"signing key {name!r}: key id {hex_id} does not match the key")
        return key

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the key text to ``path``, readable by its owner only (mode 0600)."""
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.fchmod(fd, 0o600)
            os.write(fd, (self.to_skey() + "\n").encode("ascii"))
            os.fsync(fd)
        finally:
            os.close(fd)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> SigningKey:
        try:
            text = Path(path).read_text(encoding="ascii")
        except (OSError, UnicodeDecodeError) as exc:
            raise CheckpointError(f"cannot read the signing key {os.fspath(path)!r}: {exc}") from exc
        return cls.from_skey(text)

    def sign(self, message: bytes) -> bytes:
        return self.private.sign(message)


def sign_text(text: str, key: SigningKey) -> str:
    """A signed note of ``text`` (non-empty, ending in a newline, no blank line) by ``key``."""
    if not text.endswith("\n") or "\n\n" in text or text.startswith("\n"):
        raise CheckpointError("note text must be non-empty, end with a newline and contain no blank line")
    signature = key.sign(text.encode("utf-8"))
    blob = base64.b64encode(key.key_id + signature).decode("ascii")
    return f"{text}\n{SIG_PREFIX}{key.name} {blob}\n"


def sign(cp: Checkpoint, key: SigningKey) -> str:
    """The checkpoint as a signed note, signed by ``key``."""
    return sign_text(cp.body().decode("utf-8"), key)


def open_text(note: str, verifiers: Sequence[VerifierKey]) -> str:
    """Verify a signed note and return its text.

    At least one signature must be by a key in ``verifiers`` (same name and key id) and
    verify; a signature by a known key that does not verify rejects the whole note;
    signatures by unknown keys are ignored."""
    split = note.rfind("\n\n")
    if split < 0:
        raise CheckpointError("not a signed note: no blank line between the text and the signature lines")
    text, sig_block = note[: split + 1], note[split + 2 :]
    if not sig_block:
        raise CheckpointError("the note has no signature lines after the blank line")
    if not sig_block.endswith("\n"):
        raise CheckpointError("the note's last signature line does not end with a newline")
    lines = sig_block[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise CheckpointError(f"the note has {len(lines)} signatures, more than {MAX_SIGNATURES}")
    known = {(v.name, v.key_id): v for v in verifiers}
    message = text.encode("utf-8")
    verified: list[str] = []
    seen: list[str] = []
    for number, line in enumerate(lines, start=1):
        if not line.startswith(SIG_PREFIX):
            raise CheckpointError(f"signature line {number} does not start with '— ' (EM DASH, space): {line!r}")
        name, sep, b64 = line[len(SIG_PREFIX) :].partition(" ")
        if not sep or not name or " " in b64:
            raise CheckpointError(f"signature line {number} is not '— <key name> <base64 signature>': {line!r}")
        blob = _b64decode(b64, f"signature line {number}")
        if len(blob) < 5:
            raise CheckpointError(f"signature line {number} is too short to hold a key id and a signature")
        kid, signature = blob[:4], blob[4:]
        seen.append(f"{name} ({kid.hex()})")
        verifier = known.get((name, kid))
        if verifier is None:
            continue
        if not verifier.verify(message, signature):
            raise CheckpointError(
                f"the signature by {name} (key id {kid.hex()}) does not verify: "
                "the note text was altered or the signature was forged"
            )
        verified.append(name)
    if not verified:
        trusted = ", ".join(f"{v.name} ({v.key_id.hex()})" for v in verifiers) or "none"
        raise CheckpointError(
            f"no signature by a trusted key: the note is signed by {', '.join(seen)}; trusted keys: {trusted}"
        )
    return text


def open_note(text: str, verifiers: Sequence[VerifierKey]) -> Checkpoint:
    """Verify a signed checkpoint note against ``verifiers`` and parse its body."""
    return parse_checkpoint(open_text(text, verifiers))
