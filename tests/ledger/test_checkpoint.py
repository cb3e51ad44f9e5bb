"""C2SP tlog-checkpoint bodies and signed notes, against the Go sumdb/note known answers."""

from __future__ import annotations

import base64
import hashlib
import os
import stat
from pathlib import Path

import pytest

from ringfence.errors import RingfenceError
from ringfence.ledger.checkpoint import (
    Checkpoint,
    CheckpointError,
    SigningKey,
    VerifierKey,
    open_note,
    open_text,
    parse_checkpoint,
    sign,
    sign_text,
)
from ringfence.ledger.merkle import EMPTY_ROOT, MemoryTree

# golang.org/x/mod/sumdb/note test vectors (Ed25519 is deterministic, so signing reproduces them).
GO_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
GO_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_TEXT = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n"
GO_NOTE = (
    GO_TEXT
    + "\n— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
)

ROOT = hashlib.sha256(b"root").digest()


@pytest.fixture(scope="module")
def key() -> SigningKey:
    return SigningKey.generate("ringfence.example/log")


@pytest.fixture(scope="module")
def cp() -> Checkpoint:
    return Checkpoint(origin="ringfence.example/log", size=42, root=ROOT)


def test_go_known_answer_sign_and_open() -> None:
    k = SigningKey.from_skey(GO_SKEY)
    assert k.to_skey() == GO_SKEY
    assert k.to_vkey() == GO_VKEY
    assert k.key_id.hex() == "c74f20a3"
    assert sign_text(GO_TEXT, k) == GO_NOTE
    assert open_text(GO_NOTE, [VerifierKey.from_vkey(GO_VKEY)]) == GO_TEXT


def test_key_id_is_the_spec_formula(key: SigningKey) -> None:
    pub = key.public_bytes
    want = hashlib.sha256(key.name.encode() + b"\n" + b"\x01" + pub).digest()[:4]
    assert key.key_id == want
    v = VerifierKey.from_vkey(key.to_vkey())
    assert v.key_id == want and v.name == key.name and v.public_bytes == pub
    name, hex_id, b64 = key.to_vkey().split("+", 2)
    assert (name, hex_id, base64.b64decode(b64)) == (key.name, want.hex(), b"\x01" + pub)


def test_body_format() -> None:
    c = Checkpoint(origin="example.com/log", size=7, root=ROOT, extensions=("ext one",))
    assert c.body() == b"example.com/log\n7\n" + base64.b64encode(ROOT) + b"\next one\n"
    assert parse_checkpoint(c.body().decode()) == c
    empty = Checkpoint(origin="o", size=0, root=EMPTY_ROOT)
    assert empty.body() == b"o\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n"


def test_round_trip_with_tree_root(key: SigningKey) -> None:
    t = MemoryTree()
    for i in range(11):
        t.append(f"e{i}".encode())
    c = Checkpoint(origin=key.name, size=t.size, root=t.root())
    note = sign(c, key)
    assert note.startswith(c.body().decode() + "\n— " + key.name + " ")
    assert note.endswith("\n")
    blob = base64.b64decode(note.rsplit(" ", 1)[1])
    assert blob[:4] == key.key_id and len(blob) == 4 + 64
    assert open_note(note, [key.verifier()]) == c


def test_tampered_body_rejected(key: SigningKey, cp: Checkpoint) -> None:
    note = sign(cp, key)
    forged = note.replace("\n42\n", "\n43\n", 1)
    with pytest.raises(CheckpointError, match="does not verify"):
        open_note(forged, [key.verifier()])


def test_wrong_key_rejected(key: SigningKey, cp: Checkpoint) -> None:
    other = SigningKey.generate("someone.else/log")
    with pytest.raises(CheckpointError, match="no signature by a trusted key"):
        open_note(sign(cp, key), [other.verifier()])
    with pytest.raises(CheckpointError, match="no signature by a trusted key"):
        open_note(sign(cp, key), [])


def test_same_name_other_key_is_unknown(key: SigningKey, cp: Checkpoint) -> None:
    impostor = SigningKey.generate(key.name)  # same name, different key id
    with pytest.raises(CheckpointError, match="no signature by a trusted key"):
        open_note(sign(cp, impostor), [key.verifier()])


def test_forged_signature_with_known_key_id_rejected(key: SigningKey, cp: Checkpoint) -> None:
    impostor = SigningKey.generate(key.name)
    note = sign(cp, impostor)
    blob = base64.b64decode(note.rsplit(" ", 1)[1])
    forged = note.rsplit(" ", 1)[0] + " " + base64.b64encode(key.key_id + blob[4:]).decode() + "\n"
    with pytest.raises(CheckpointError, match="does not verify"):
        open_note(forged, [key.verifier()])


def test_unknown_signatures_ignored(key: SigningKey, cp: Checkpoint) -> None:
    witness = SigningKey.generate("witness.example")
    note = sign(cp, key)
    cosigned = note + sign(cp, witness).split("\n\n", 1)[1]
    assert cosigned.count("\n— ") == 2
    assert open_note(cosigned, [key.verifier()]) == cp
    assert open_note(cosigned, [witness.verifier()]) == cp


@pytest.mark.parametrize(
    ("mangle", "message"),
    [
        (lambda n: n.split("\n\n")[0] + "\n", "no blank line"),
        (lambda n: n.split("\n\n")[0] + "\n\n", "no signature lines"),
        (lambda n: n[:-1], "does not end with a newline"),
        (lambda n: n.replace("— ", "-- "), "does not start with"),
        (lambda n: n.replace("— ", "—"), "does not start with"),
        (lambda n: n[:-5] + "!!!=\n", "not valid base64"),
        (lambda n: n.rsplit(" ", 1)[0] + " AAAA\n", "too short"),
        (lambda n: n.rsplit(" ", 1)[0] + "\n", "is not '— <key name> <base64 signature>'"),
    ],
)
def test_malformed_notes_rejected(key: SigningKey, cp: Checkpoint, mangle: object, message: str) -> None:
    note = sign(cp, key)
    assert callable(mangle)
    with pytest.raises(CheckpointError, match=message):
        open_note(mangle(note), [key.verifier()])


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("o\n1\n" + base64.b64encode(ROOT).decode(), "end with a newline"),
        ("o\n1\n", "at least 3 lines"),
        ("\n1\n" + base64.b64encode(ROOT).decode() + "\n", "origin line is empty"),
        ("o\n01\n" + base64.b64encode(ROOT).decode() + "\n", "leading zeros"),
        ("o\n-1\n" + base64.b64encode(ROOT).decode() + "\n", "decimal"),
        ("o\n1 \n" + base64.b64encode(ROOT).decode() + "\n", "decimal"),
        ("o\n1\n" + base64.b64encode(ROOT[:31]).decode() + "\n", "31 bytes"),
        ("o\n1\n" + base64.b64encode(ROOT).decode().rstrip("=") + "\n", "base64"),
        ("o\n1\n%%%\n", "base64"),
        ("o\n1\n" + base64.b64encode(ROOT).decode() + "\n\n", "empty"),
    ],
)
def test_parse_checkpoint_strict(body: str, message: str) -> None:
    with pytest.raises(CheckpointError, match=message):
        parse_checkpoint(body)


def test_signed_but_not_a_checkpoint(key: SigningKey) -> None:
    note = sign_text("hello\n", key)
    assert open_text(note, [key.verifier()]) == "hello\n"
    with pytest.raises(CheckpointError, match="at least 3 lines"):
        open_note(note, [key.verifier()])


def test_checkpoint_validates_fields() -> None:
    with pytest.raises(CheckpointError):
        Checkpoint(origin="", size=1, root=ROOT)
    with pytest.raises(CheckpointError):
        Checkpoint(origin="a\nb", size=1, root=ROOT)
    with pytest.raises(CheckpointError):
        Checkpoint(origin="o", size=-1, root=ROOT)
    with pytest.raises(CheckpointError):
        Checkpoint(origin="o", size=1, root=b"short")
    with pytest.raises(CheckpointError):
        Checkpoint(origin="o", size=1, root=ROOT, extensions=("",))
    assert issubclass(CheckpointError, RingfenceError)


def test_skey_round_trip_and_file(tmp_path: Path, key: SigningKey) -> None:
    again = SigningKey.from_skey(key.to_skey())
    assert again.key_id == key.key_id and again.to_skey() == key.to_skey()
    path = tmp_path / "log.key"
    key.save(path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    loaded = SigningKey.load(path)
    assert loaded.to_vkey() == key.to_vkey()
    # A note signed by the loaded key opens with the original verifier.
    c = Checkpoint(origin="o", size=1, root=ROOT)
    assert open_note(sign(c, loaded), [VerifierKey.from_vkey(key.to_vkey())]) == c
    with pytest.raises(CheckpointError, match="cannot read"):
        SigningKey.load(tmp_path / "missing.key")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "does not match"),
        ("PeterNeumann+C74F20A3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "8 lowercase hex"),
        ("PeterNeumann+c74f20a3+AhpcQcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "base64"),
        ("PeterNeumann+c74f20a3+Ahpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "not an Ed25519 key"),
        ("PeterNeumann+c74f20a3", "verifier key is"),
        ("Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "must not contain"),
    ],
)
def test_bad_vkeys_rejected(text: str, message: str) -> None:
    with pytest.raises(CheckpointError, match=message):
        VerifierKey.from_vkey(text)


def test_bad_skeys_rejected() -> None:
    with pytest.raises(CheckpointError, match="signing key is"):
        SigningKey.from_skey(GO_VKEY)
    with pytest.raises(CheckpointError, match="does not match"):
        SigningKey.from_skey(GO_SKEY.replace("c74f20a3", "00000000"))
    with pytest.raises(CheckpointError):
        SigningKey.generate("bad+name")
