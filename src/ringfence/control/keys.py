"""Approvers' Ed25519 signing keys.

``ringfence keys create alice`` writes the private key to
``$XDG_CONFIG_HOME/ringfence/keys/alice.key`` (mode 0600, PKCS#8 PEM) and prints the
public key in the form the ``approvers:`` configuration takes (``ed25519:<base64>``).
Every approval the CLI records is signed with the approver's key, so the approval can be
verified offline later against the configured public key.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
from pathlib import Path

from ringfence.errors import ControlError

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")


def keys_dir() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return Path(base) / "ringfence" / "keys"


def public_text(raw: bytes) -> str:
    return "ed25519:" + base64.b64encode(raw).decode("ascii")


def key_id(raw: bytes) -> str:
    """A short, stable name for a public key: ``ed25519:`` + 16 hex of its SHA-256."""
    return "ed25519:" + hashlib.sha256(raw).hexdigest()[:16]


def create_key(name: str, *, directory: Path | None = None, force: bool = False) -> tuple[Path, bytes]:
    """Create the key ``name``; returns (private key path, raw public key)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    if not _NAME.match(name):
        raise ControlError(f"key name {name!r} must be letters, digits, . _ @ - (your approver id, e.g. alice)")
    folder = directory or keys_dir()
    path = folder / f"{name}.key"
    if path.exists() and not force:
        raise ControlError(f"{path} already exists; use a different name, or --force to replace it")
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    tmp = path.with_suffix(".key.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(pem)
    os.replace(tmp, path)
    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return path, raw


def list_keys(directory: Path | None = None) -> list[str]:
    folder = directory or keys_dir()
    if not folder.is_dir():
        return []
    return sorted(p.stem for p in folder.glob("*.key"))


class SigningKey:
    """An approver's private key, loaded from the keys directory."""

    def __init__(self, name: str, pem: bytes, path: Path) -> None:
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

        try:
            key = serialization.load_pem_private_key(pem, password=None)
        except (ValueError, TypeError) as exc:
            raise ControlError(f"{path} is not a readable private key: {exc}") from None
        if not isinstance(key, Ed25519PrivateKey):
            raise ControlError(f"{path} is not an Ed25519 key")
        self.name = name
        self.path = path
        self._key = key
        self.public = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)

    def sign(self, data: bytes) -> str:
        return base64.b64encode(self._key.sign(data)).decode("ascii")


def load_key(name: str | None, *, directory: Path | None = None) -> SigningKey:
    """The key ``name``, or the only key there is when ``name`` is None."""
    folder = directory or keys_dir()
    if name is None:
        names = list_keys(folder)
        if not names:
            raise ControlError(f"no signing key in {folder}: create yours with `ringfence keys create <your-id>`")
        if len(names) > 1:
            raise ControlError(f"several keys in {folder} ({', '.join(names)}): say which with --as NAME")
        name = names[0]
    path = folder / f"{name}.key"
    try:
        pem = path.read_bytes()
    except FileNotFoundError:
        raise ControlError(f"no key {name!r} in {folder}: create it with `ringfence keys create {name}`") from None
    except OSError as exc:
        raise ControlError(f"cannot read {path}: {exc.strerror}") from None
    return SigningKey(name, pem, path)


def verify(public: bytes, signature: str, data: bytes) -> bool:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    try:
        Ed25519PublicKey.from_public_bytes(public).verify(base64.b64decode(signature, validate=True), data)
    except (InvalidSignature, ValueError):
        return False
    return True
