"""DSSE v1: the PAE known answer, envelopes checked by an independent implementation
(securesystemslib), and threshold verification."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given
from hypothesis import strategies as st
from securesystemslib.dsse import Envelope as SslibEnvelope
from securesystemslib.exceptions import VerificationError
from securesystemslib.signer import CryptoSigner, SSlibKey

from ringfence.control.keys import create_key
from ringfence.provenance import dsse
from ringfence.provenance.errors import EnvelopeError
from ringfence.provenance.keys import Signer, keyid_of, load_signer, parse_public


def test_pae_known_answer() -> None:
    # the test vector of the DSSE v1 protocol
    assert (
        dsse.pae("http://example.com/HelloWorld", b"hello world")
        == b"DSSEv1 29 http://example.com/HelloWorld 11 hello world"
    )


def test_pae_counts_bytes_not_characters() -> None:
    assert dsse.pae("t", "é".encode()) == b"DSSEv1 1 t 2 \xc3\xa9"
    assert dsse.pae("", b"") == b"DSSEv1 0  0 "


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Signer]:
    folder = tmp_path_factory.mktemp("keys")
    for name in ("agent", "alice", "bob", "mallory"):
        create_key(name, directory=folder)
    return {name: load_signer(str(folder / f"{name}.key")) for name in ("agent", "alice", "bob", "mallory")}


def trusted(keys: dict[str, Signer], *names: str) -> list[dsse.TrustedKey]:
    return [dsse.TrustedKey(n, keys[n].public) for n in names]


def statement_envelope() -> dsse.Envelope:
    return dsse.Envelope(json.dumps({"_type": "https://in-toto.io/Statement/v1"}).encode())


def sslib_key(signer: Signer) -> SSlibKey:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    return SSlibKey.from_crypto(Ed25519PublicKey.from_public_bytes(signer.public), keyid=signer.keyid)


def test_our_envelope_verifies_with_securesystemslib(keys: dict[str, Signer]) -> None:
    env = dsse.sign(dsse.sign(statement_envelope(), keys["agent"]), keys["alice"])
    theirs = SslibEnvelope.from_dict(json.loads(env.to_json()))
    assert theirs.pae() == env.pae()
    verified = theirs.verify([sslib_key(keys["agent"]), sslib_key(keys["alice"])], 2)
    assert set(verified) == {keys["agent"].keyid, keys["alice"].keyid}


def test_securesystemslib_rejects_our_envelope_once_tampered(keys: dict[str, Signer]) -> None:
    doc = json.loads(dsse.sign(statement_envelope(), keys["agent"]).to_json())
    payload = bytearray(base64.b64decode(doc["payload"]))
    payload[3] ^= 1
    doc["payload"] = base64.b64encode(bytes(payload)).decode()
    with pytest.raises(VerificationError):
        SslibEnvelope.from_dict(doc).verify([sslib_key(keys["agent"])], 1)


def test_an_envelope_signed_by_securesystemslib_verifies_here(tmp_path: Path) -> None:
    private = Ed25519PrivateKey.generate()
    signer = CryptoSigner(private)
    theirs = SslibEnvelope(b'{"hello": "world"}', dsse.PAYLOAD_TYPE, {})
    theirs.sign(signer)
    env = dsse.parse(json.dumps(theirs.to_dict()))
    from cryptography.hazmat.primitives import serialization

    raw = private.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    report = dsse.check_signatures(env, [dsse.TrustedKey("them", raw)])
    assert report.signers == ["them"] and report.problems == []


def test_threshold_k_minus_one_fails_k_passes(keys: dict[str, Signer]) -> None:
    three = trusted(keys, "agent", "alice", "bob")
    env = dsse.sign(statement_envelope(), keys["agent"])
    assert not dsse.check_signatures(env, three).met(2)
    env = dsse.sign(env, keys["alice"])
    report = dsse.check_signatures(env, three)
    assert report.met(2) and not report.met(3)
    assert report.signers == ["agent", "alice"]


def test_duplicate_signatures_by_one_key_count_once(keys: dict[str, Signer]) -> None:
    env = dsse.sign(dsse.sign(statement_envelope(), keys["agent"]), keys["agent"])
    # and once more without a keyid: still the same key
    env = env.with_signature(dsse.Signature("", env.signatures[0].sig))
    report = dsse.check_signatures(env, trusted(keys, "agent", "alice"))
    assert report.signers == ["agent"]
    assert not report.met(2)
    assert sum("counts once" in p for p in report.problems) == 2


def test_untrusted_and_broken_signatures_are_named(keys: dict[str, Signer]) -> None:
    env = dsse.sign(statement_envelope(), keys["mallory"])
    report = dsse.check_signatures(env, trusted(keys, "agent"))
    assert report.signers == []
    assert report.problems == [f"signature 1 ({keys['mallory'].keyid}) is not by any key trusted for this subject"]
    good = dsse.sign(statement_envelope(), keys["agent"])
    forged = good.signatures[0].sig[:-1] + bytes([good.signatures[0].sig[-1] ^ 1])
    bad = dsse.Envelope(good.payload, good.payload_type, (dsse.Signature(keys["agent"].keyid, forged),))
    report = dsse.check_signatures(bad, trusted(keys, "agent"))
    assert report.signers == []
    assert "claims key agent" in report.problems[0] and "does not verify" in report.problems[0]


def test_a_signature_over_another_payload_type_does_not_verify(keys: dict[str, Signer]) -> None:
    env = dsse.sign(statement_envelope(), keys["agent"])
    retyped = dsse.Envelope(env.payload, "application/json", env.signatures)
    assert dsse.check_signatures(retyped, trusted(keys, "agent")).signers == []


@given(payload=st.binary(max_size=300), kind=st.text(min_size=1, max_size=40))
def test_round_trip_through_json(payload: bytes, kind: str) -> None:
    env = dsse.Envelope(payload, kind, (dsse.Signature("k", b"\x01" * 64),))
    assert dsse.parse(env.to_json()) == env


def test_url_safe_base64_is_read() -> None:
    doc = {"payload": base64.urlsafe_b64encode(b"\xfb\xff").decode().rstrip("="), "payloadType": "t", "signatures": []}
    assert dsse.parse(json.dumps(doc)).payload == b"\xfb\xff"


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ("[]", "expected a JSON object"),
        ("{", "invalid JSON"),
        ('{"payload": "", "payloadType": "t"}', "missing signatures"),
        ('{"payload": "!!", "payloadType": "t", "signatures": []}', "payload is not valid base64"),
        ('{"payload": "", "payloadType": 3, "signatures": []}', "payloadType must be a non-empty string"),
        ('{"payload": "", "payloadType": "t", "signatures": {}}', "signatures must be a list"),
        ('{"payload": "", "payloadType": "t", "signatures": [{"keyid": "k"}]}', "signatures[0] must be an object"),
        ('{"payload": "", "payloadType": "t", "signatures": [{"sig": 5}]}', "signatures[0].sig must be a base64"),
    ],
)
def test_malformed_envelopes_say_what_is_wrong(doc: str, message: str) -> None:
    with pytest.raises(EnvelopeError, match=message.replace("[", r"\[").replace("]", r"\]")):
        dsse.parse(doc)


def test_the_statement_must_be_in_toto_json(keys: dict[str, Signer]) -> None:
    with pytest.raises(EnvelopeError, match="payloadType"):
        dsse.Envelope(b"{}", "text/plain").statement()
    with pytest.raises(EnvelopeError, match="not JSON"):
        dsse.Envelope(b"\xff").statement()
    with pytest.raises(EnvelopeError, match="not a JSON object"):
        dsse.Envelope(b"[1]").statement()


def test_keys_are_read_as_keys_show_prints_them(keys: dict[str, Signer]) -> None:
    from ringfence.control.keys import public_text

    text = public_text(keys["agent"].public)
    assert parse_public(text, "k") == keys["agent"].public
    assert keyid_of(keys["agent"].public) == keys["agent"].keyid
    for bad, message in (("rsa:AAAA", "ed25519:<base64>"), ("ed25519:!!", "base64"), ("ed25519:AAAA", "3 bytes")):
        with pytest.raises(EnvelopeError, match=message):
            parse_public(bad, "k")


def test_a_missing_key_says_how_to_make_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    with pytest.raises(EnvelopeError, match="ringfence keys create nobody"):
        load_signer("nobody")
    with pytest.raises(EnvelopeError, match="cannot read the signing key"):
        load_signer(str(tmp_path / "absent.pem"))
