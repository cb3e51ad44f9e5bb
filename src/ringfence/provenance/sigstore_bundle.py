"""Keyless signing with Sigstore, and offline verification of Sigstore bundles.

**Signing** (``ringfence attest --keyless``, optional: ``pip install ringfence[sigstore]``
pulls the ``sigstore`` package): where the CI provides an OIDC identity token (GitHub
Actions with ``permissions: id-token: write``, GitLab's ``SIGSTORE_ID_TOKEN``, or the token
in ``$SIGSTORE_ID_TOKEN``), the same in-toto Statement is signed through Fulcio and logged
in Rekor; the result is a Sigstore bundle (v0.3) stored next to the DSSE envelopes, one
JSON object per line. Signing needs the network to reach Fulcio and Rekor.

**Verification** is offline: the bundle is checked with ``sigstore``'s verifier against a
trusted root file the verify policy names (``sigstore.trust_root``) — the certificate
chain to a Fulcio CA at the logged time, its SCT, the Rekor inclusion proof, checkpoint
and signed entry timestamp, the DSSE signature — and against an identity the policy
trusts (``sigstore.identities``: the certificate's subject and OIDC issuer). A verified
bundle then goes through every other check of :mod:`ringfence.provenance.verify`, its
identity counting as one signer towards the subject's threshold.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ringfence.errors import ProvenanceError
from ringfence.provenance.dsse import Envelope
from ringfence.provenance.errors import EnvelopeError

MEDIA_PREFIX = "application/vnd.dev.sigstore.bundle"


@dataclass(frozen=True)
class Identity:
    """A keyless signer the verify policy trusts, under the name its rules use."""

    name: str
    subject: str  # the certificate's SAN: a workflow URI, an e-mail address
    issuer: str  # the OIDC issuer that vouched for it


def is_bundle(line: str) -> bool:
    """Whether a stored line is a Sigstore bundle rather than a DSSE envelope."""
    if '"mediaType"' not in line:
        return False
    try:
        doc = json.loads(line)
    except json.JSONDecodeError:
        return False
    return isinstance(doc, dict) and str(doc.get("mediaType", "")).startswith(MEDIA_PREFIX)


def _sigstore() -> None:
    try:
        import sigstore  # noqa: F401
    except ImportError:
        raise ProvenanceError("Sigstore bundles need the sigstore package: pip install 'ringfence[sigstore]'") from None


def verify_bundle(text: str, trust_root: Path, identities: Sequence[Identity]) -> tuple[Envelope, Identity]:
    """The DSSE payload of a bundle that verifies for one of ``identities``, and which one.

    Raises :class:`EnvelopeError` saying why the bundle does not verify."""
    _sigstore()
    from sigstore.errors import Error as SigstoreError
    from sigstore.models import Bundle, TrustedRoot
    from sigstore.verify import Verifier, policy

    if not identities:
        raise EnvelopeError("a Sigstore bundle, but the verify policy trusts no sigstore identities")
    try:
        bundle = Bundle.from_json(text)
    except (SigstoreError, ValueError) as exc:
        raise EnvelopeError(f"not a usable Sigstore bundle: {exc}") from None
    try:
        root = TrustedRoot.from_file(str(trust_root))
    except (SigstoreError, ValueError, OSError) as exc:
        raise EnvelopeError(f"the Sigstore trust root {trust_root} cannot be read: {exc}") from None
    verifier = Verifier(trusted_root=root)
    reasons = []
    for ident in identities:
        try:
            kind, payload = verifier.verify_dsse(bundle, policy.Identity(identity=ident.subject, issuer=ident.issuer))
        except SigstoreError as exc:
            reasons.append(f"{ident.name}: {exc}")
            continue
        return Envelope(payload, kind), ident
    raise EnvelopeError("the Sigstore bundle does not verify: " + "; ".join(reasons))


def sign_keyless(payload: bytes, *, staging: bool = False) -> str:
    """A Sigstore bundle over ``payload`` (an in-toto Statement), signed with the ambient
    OIDC identity. Raises :class:`ProvenanceError` when there is no identity or no network."""
    _sigstore()
    from sigstore import dsse as sigstore_dsse
    from sigstore.errors import Error as SigstoreError
    from sigstore.models import ClientTrustConfig
    from sigstore.oidc import IdentityToken, detect_credential
    from sigstore.sign import SigningContext

    try:
        raw = os.environ.get("SIGSTORE_ID_TOKEN") or detect_credential()
    except SigstoreError as exc:
        raise ProvenanceError(f"keyless signing: the CI's OIDC identity could not be obtained: {exc}") from None
    if not raw:
        raise ProvenanceError(
            "keyless signing needs an OIDC identity token: run in CI with one (GitHub Actions: permissions: "
            "id-token: write) or set SIGSTORE_ID_TOKEN; otherwise sign with --key"
        )
    try:
        config = ClientTrustConfig.staging() if staging else ClientTrustConfig.production()
        context = SigningContext.from_trust_config(config)
        with context.signer(IdentityToken(raw), cache=True) as signer:
            bundle = signer.sign_dsse(sigstore_dsse.Statement(payload))
    except SigstoreError as exc:
        raise ProvenanceError(f"keyless signing failed: {exc}") from None
    text: str = bundle.to_json()
    return json.dumps(json.loads(text), separators=(",", ":"), sort_keys=True)
