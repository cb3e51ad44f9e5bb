"""A Sigstore-shaped PKI built in the test, so Sigstore bundles can be verified offline.

What a real keyless signature involves, made here with ``cryptography`` and nothing
fetched: a Fulcio-like CA issues a short-lived code-signing certificate for an OIDC
identity, with an embedded SCT signed by a CT log key over the precertificate; the DSSE
envelope is signed with the certificate's key; a Rekor-like log records a ``dsse``
0.0.1 entry, with an RFC 6962 inclusion proof, a signed checkpoint (a C2SP note) and a
signed entry timestamp. The trusted root names the CA, the CT log and the Rekor log. The
resulting bundle (v0.3) and trusted root are what ``sigstore`` verifies.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import struct
from dataclasses import dataclass
from pathlib import Path

import rfc8785
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID, ObjectIdentifier

SCT_LIST = ObjectIdentifier("1.3.6.1.4.1.11129.2.4.2")
OIDC_ISSUER = ObjectIdentifier("1.3.6.1.4.1.57264.1.1")  # the issuer's bytes, as Fulcio writes it
OIDC_ISSUER_V2 = ObjectIdentifier("1.3.6.1.4.1.57264.1.8")  # the same as a DER UTF8String
ISSUER = "https://token.actions.example.com"
IDENTITY = "https://github.com/acme/app/.github/workflows/release.yml@refs/heads/main"


def _spki(key: ec.EllipticCurvePublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _der_octets(data: bytes) -> bytes:
    n = len(data)
    if n < 0x80:
        return b"\x04" + bytes([n]) + data
    size = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return b"\x04" + bytes([0x80 | len(size)]) + size + data


def _der_utf8(text: str) -> bytes:
    data = text.encode()
    assert len(data) < 0x80
    return b"\x0c" + bytes([len(data)]) + data


@dataclass
class PKI:
    ca_key: ec.EllipticCurvePrivateKey
    ca: x509.Certificate
    ct_key: ec.EllipticCurvePrivateKey
    rekor_key: ec.EllipticCurvePrivateKey
    now: dt.datetime

    @classmethod
    def create(cls) -> PKI:
        now = dt.datetime.now(dt.UTC).replace(microsecond=0)
        ca_key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "test"),
                          x509.NameAttribute(NameOID.COMMON_NAME, "test-fulcio")])  # fmt: skip
        ca = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(ca_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=365))
            .add_extension(x509.BasicConstraints(ca=True, path_length=1), critical=True)
            .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256())
        )
        return cls(ca_key, ca, ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1()), now)

    # --- the trusted root ------------------------------------------------------------------

    def _log(self, key: ec.EllipticCurvePrivateKey, url: str) -> dict[str, object]:
        spki = _spki(key.public_key())
        return {
            "baseUrl": url,
            "hashAlgorithm": "SHA2_256",
            "publicKey": {"rawBytes": _b64(spki), "keyDetails": "PKIX_ECDSA_P256_SHA_256",
                          "validFor": {"start": "2020-01-01T00:00:00Z"}},
            "logId": {"keyId": _b64(hashlib.sha256(spki).digest())},
        }  # fmt: skip

    def trusted_root(self, path: Path) -> Path:
        doc = {
            "mediaType": "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
            "tlogs": [self._log(self.rekor_key, "https://rekor.test")],
            "certificateAuthorities": [
                {
                    "subject": {"organization": "test", "commonName": "test-fulcio"},
                    "uri": "https://fulcio.test",
                    "certChain": {
                        "certificates": [{"rawBytes": _b64(self.ca.public_bytes(serialization.Encoding.DER))}]
                    },
                    "validFor": {"start": "2020-01-01T00:00:00Z"},
                }
            ],
            "ctlogs": [self._log(self.ct_key, "https://ctfe.test")],
            "timestampAuthorities": [],
        }
        path.write_text(json.dumps(doc))
        return path

    # --- a keyless signature -----------------------------------------------------------------

    def _leaf(
        self, key: ec.EllipticCurvePrivateKey, identity: str, issuer: str, sct: bytes | None, serial: int
    ) -> x509.Certificate:
        b = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([]))
            .issuer_name(self.ca.subject)
            .public_key(key.public_key())
            .serial_number(serial)
            .not_valid_before(self.now - dt.timedelta(minutes=1))
            .not_valid_after(self.now + dt.timedelta(minutes=10))
            .add_extension(x509.KeyUsage(True, False, False, False, False, False, False, False, False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CODE_SIGNING]), critical=False)
            .add_extension(x509.SubjectAlternativeName([x509.UniformResourceIdentifier(identity)]), critical=True)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(self.ca_key.public_key()), critical=False)
            .add_extension(x509.UnrecognizedExtension(OIDC_ISSUER, issuer.encode()), critical=False)
            .add_extension(x509.UnrecognizedExtension(OIDC_ISSUER_V2, _der_utf8(issuer)), critical=False)
        )
        if sct is not None:
            b = b.add_extension(x509.UnrecognizedExtension(SCT_LIST, sct), critical=False)
        return b.sign(self.ca_key, hashes.SHA256())

    def _sct(self, precert_tbs: bytes) -> bytes:
        log_id = hashlib.sha256(_spki(self.ct_key.public_key())).digest()
        timestamp = int(self.now.timestamp() * 1000)
        issuer_key_hash = hashlib.sha256(_spki(self.ca_key.public_key())).digest()
        signed = (
            struct.pack(">BBQH", 0, 0, timestamp, 1)
            + issuer_key_hash
            + len(precert_tbs).to_bytes(3, "big")
            + precert_tbs
            + struct.pack(">H", 0)
        )
        sig = self.ct_key.sign(signed, ec.ECDSA(hashes.SHA256()))
        sct = (
            struct.pack(">B", 0) + log_id + struct.pack(">QH", timestamp, 0) + struct.pack(">BBH", 4, 3, len(sig)) + sig
        )
        listed = struct.pack(">H", len(sct)) + sct
        return _der_octets(struct.pack(">H", len(listed)) + listed)

    def certificate(
        self, key: ec.EllipticCurvePrivateKey, identity: str = IDENTITY, issuer: str = ISSUER
    ) -> x509.Certificate:
        serial = x509.random_serial_number()
        pre = self._leaf(key, identity, issuer, None, serial)
        leaf = self._leaf(key, identity, issuer, self._sct(pre.tbs_certificate_bytes), serial)
        assert leaf.tbs_precertificate_bytes == pre.tbs_certificate_bytes
        return leaf

    def bundle(self, payload: bytes, payload_type: str, identity: str = IDENTITY, issuer: str = ISSUER) -> str:
        """A v0.3 bundle: ``payload`` DSSE-signed by a fresh certificate for ``identity``, logged."""
        key = ec.generate_private_key(ec.SECP256R1())
        cert = self.certificate(key, identity, issuer)
        kind = payload_type.encode()
        pae = b"DSSEv1 %d %b %d %b" % (len(kind), kind, len(payload), payload)
        sig = key.sign(pae, ec.ECDSA(hashes.SHA256()))
        envelope = {"payload": _b64(payload), "payloadType": payload_type, "signatures": [{"sig": _b64(sig)}]}
        pem = cert.public_bytes(serialization.Encoding.PEM)
        body = rfc8785.dumps(
            {
                "apiVersion": "0.0.1",
                "kind": "dsse",
                "spec": {
                    "envelopeHash": {
                        "algorithm": "sha256",
                        "value": hashlib.sha256(json.dumps(envelope).encode()).hexdigest(),
                    },
                    "payloadHash": {"algorithm": "sha256", "value": hashlib.sha256(payload).hexdigest()},
                    "signatures": [{"signature": _b64(sig), "verifier": _b64(pem)}],
                },
            }
        )
        log_id = hashlib.sha256(_spki(self.rekor_key.public_key())).digest()
        integrated = int(self.now.timestamp())
        root = hashlib.sha256(b"\x00" + body).digest()  # a log of one entry: the root is its leaf hash
        note_text = f"rekor.test - 1\n1\n{_b64(root)}\n"
        note_sig = self.rekor_key.sign(note_text.encode(), ec.ECDSA(hashes.SHA256()))
        checkpoint = note_text + "\n" + f"\u2014 rekor.test {_b64(log_id[:4] + note_sig)}\n"
        promise = rfc8785.dumps(
            {"body": _b64(body), "integratedTime": integrated, "logID": log_id.hex(), "logIndex": 0}
        )
        set_sig = self.rekor_key.sign(promise, ec.ECDSA(hashes.SHA256()))
        doc = {
            "mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
            "verificationMaterial": {
                "certificate": {"rawBytes": _b64(cert.public_bytes(serialization.Encoding.DER))},
                "tlogEntries": [
                    {
                        "logIndex": "0",
                        "logId": {"keyId": _b64(log_id)},
                        "kindVersion": {"kind": "dsse", "version": "0.0.1"},
                        "integratedTime": str(integrated),
                        "inclusionPromise": {"signedEntryTimestamp": _b64(set_sig)},
                        "inclusionProof": {"logIndex": "0", "rootHash": _b64(root), "treeSize": "1", "hashes": [],
                                           "checkpoint": {"envelope": checkpoint}},
                        "canonicalizedBody": _b64(body),
                    }
                ],
            },
            "dsseEnvelope": envelope,
        }  # fmt: skip
        return json.dumps(doc)
