"""Sigstore bundles verified offline against a supplied trust root, with sigstore's own
verifier, and then held to every other check of a verify policy."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from ringfence.provenance import gitrepo, statement, store, verify, verify_policy
from ringfence.provenance.sigstore_bundle import is_bundle
from tests.provenance.sigstore_pki import IDENTITY, ISSUER, PKI
from tests.provenance.world import World, build


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    return build(tmp_path_factory.mktemp("world"))


@pytest.fixture(scope="module")
def pki() -> PKI:
    return PKI.create()


def slsa_statement(artifact: Path) -> bytes:
    doc = statement.build(
        [statement.artifact_subject(artifact)],
        "https://slsa.dev/provenance/v1",
        {
            "buildDefinition": {"buildType": "https://actions.github.io/buildtypes/workflow/v1",
                                "externalParameters": {"workflow": {"ref": "refs/heads/main"}}},
            "runDetails": {"builder": {"id": "https://github.com/actions/runner/github-hosted"}},
        },
    )  # fmt: skip
    return statement.encode(doc)


def policy(world: World, tmp_path: Path, root: Path, **changes: Any) -> verify_policy.VerifyPolicy:
    doc: dict[str, Any] = {
        "require": ["slsa"],
        "sigstore": {"trust_root": str(root), "identities": {"release-ci": {"subject": IDENTITY, "issuer": ISSUER}}},
        "subjects": [{"match": "*", "signers": ["release-ci", "alice"]}],
        **changes,
    }
    return verify_policy.load(world.policy(tmp_path / "verify.yaml", **doc))


def check(artifact: Path, bundles: list[str], vp: verify_policy.VerifyPolicy) -> verify.Result:
    target = verify.Target(f"artifact {artifact.name}", statement.file_digest(artifact))
    return verify.verify_envelopes(target, [], vp, bundles=bundles)


def test_a_keyless_bundle_verifies_offline(world: World, pki: PKI, tmp_path: Path) -> None:
    artifact = tmp_path / "app.whl"
    artifact.write_bytes(b"wheel")
    bundle = pki.bundle(slsa_statement(artifact), "application/vnd.in-toto+json")
    assert is_bundle(bundle)
    result = check(artifact, [bundle], policy(world, tmp_path, pki.trusted_root(tmp_path / "root.json")))
    assert result.ok, result.failures()
    (only,) = result.envelopes
    assert only.signers == ["release-ci"]
    assert [c.name for c in only.checks] == ["envelope", "sigstore", "subject", "signatures", "builder"]


def test_a_bundle_from_another_pki_is_refused(world: World, pki: PKI, tmp_path: Path) -> None:
    artifact = tmp_path / "app.whl"
    artifact.write_bytes(b"wheel")
    foreign = PKI.create().bundle(slsa_statement(artifact), "application/vnd.in-toto+json")
    result = check(artifact, [foreign], policy(world, tmp_path, pki.trusted_root(tmp_path / "root.json")))
    text = "\n".join(result.failures())
    assert "attestation 1 (sigstore bundle): the Sigstore bundle does not verify: release-ci:" in text


def test_an_untrusted_identity_is_refused(world: World, pki: PKI, tmp_path: Path) -> None:
    artifact = tmp_path / "app.whl"
    artifact.write_bytes(b"wheel")
    other = pki.bundle(
        slsa_statement(artifact), "application/vnd.in-toto+json", identity="https://github.com/evil/fork"
    )
    result = check(artifact, [other], policy(world, tmp_path, pki.trusted_root(tmp_path / "root.json")))
    assert "the Sigstore bundle does not verify" in "\n".join(result.failures())


def test_a_verified_bundle_is_still_held_to_the_subject_digest(world: World, pki: PKI, tmp_path: Path) -> None:
    artifact = tmp_path / "app.whl"
    artifact.write_bytes(b"wheel")
    bundle = pki.bundle(slsa_statement(artifact), "application/vnd.in-toto+json")
    artifact.write_bytes(b"wheel, patched")
    result = check(artifact, [bundle], policy(world, tmp_path, pki.trusted_root(tmp_path / "root.json")))
    assert "subject digest mismatch" in "\n".join(result.failures())


def test_a_keyless_signer_must_be_trusted_for_the_subject(world: World, pki: PKI, tmp_path: Path) -> None:
    artifact = tmp_path / "app.whl"
    artifact.write_bytes(b"wheel")
    bundle = pki.bundle(slsa_statement(artifact), "application/vnd.in-toto+json")
    vp = policy(world, tmp_path, pki.trusted_root(tmp_path / "root.json"),
                subjects=[{"match": "*", "signers": ["alice", "bob"]}])  # fmt: skip
    text = "\n".join(check(artifact, [bundle], vp).failures())
    assert "the keyless signer release-ci is not trusted for 'app.whl'" in text


def test_bundles_live_beside_envelopes_and_verify_through_the_cli(world: World, pki: PKI, tmp_path: Path) -> None:
    mine = world.copy(tmp_path / "w")
    artifact = mine.root / "app.whl"
    artifact.write_bytes(b"wheel")
    bundle = pki.bundle(slsa_statement(artifact), "application/vnd.in-toto+json")
    store.write_file(store.sidecar(artifact), [bundle])
    root = pki.trusted_root(mine.root / "root.json")
    path = mine.policy(
        mine.root / "verify.yaml",
        require=["slsa"],
        sigstore={"trust_root": "root.json", "identities": {"release-ci": {"subject": IDENTITY, "issuer": ISSUER}}},
        subjects=[{"match": "*", "signers": ["release-ci"]}],
    )
    assert root.parent == path.parent
    ok = mine.ringfence("verify", "--artifact", str(artifact), "--policy", str(path))
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "keyless signature by https://github.com/acme/app" in ok.stdout
    # an agent-change note line and a bundle line side by side: the envelope still parses
    lines = gitrepo.read_notes(mine.repo, mine.head)
    envelopes, problems = store.parse_lines([*lines, bundle], "note")
    assert len(envelopes) == len(lines) and problems == []


def test_keyless_signing_outside_ci_says_what_it_needs(world: World, tmp_path: Path) -> None:
    mine = world.copy(tmp_path / "w")
    proc = mine.ringfence("attest", "--base", mine.base, "--head", mine.head, "--task", "APP-1", "--keyless")
    assert proc.returncode == 3
    assert "keyless signing needs an OIDC identity token" in proc.stderr


@pytest.mark.parametrize(
    ("sigstore", "message"),
    [
        ({"identities": {"ci": {"subject": "s", "issuer": "i"}}}, "sigstore.trust_root must be the path"),
        ({"trust_root": "r.json", "identities": {}}, "sigstore.identities must map names"),
        ({"trust_root": "r.json", "identities": {"ci": {"subject": "s"}}}, "must be {subject: ..., issuer: ...}"),
        ({"trust_root": "r.json", "identities": {"alice": {"subject": "s", "issuer": "i"}}}, "also a key's name"),
    ],
)
def test_a_bad_sigstore_section_is_located(
    world: World, tmp_path: Path, sigstore: dict[str, Any], message: str
) -> None:
    path = world.policy(tmp_path / "verify.yaml", sigstore=sigstore)
    with pytest.raises(
        verify_policy.VerifyPolicyError, match=message.replace("{", r"\{").replace("}", r"\}").replace(".", r"\.")
    ):
        verify_policy.load(path)
    assert yaml.safe_load(path.read_text())["sigstore"] == sigstore
