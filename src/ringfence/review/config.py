"""Review configuration: sensitive-change classes, subsystems, routes.

Read from ``--config FILE``, else from ``.ringfence/review.yaml`` **at the base revision**
— never from the change under review, so an agent cannot relax its own review (a change
to that file is itself a ``sensitive.gate`` finding). Everything has a default; a file
only says what differs::

    version: 1
    subsystems:                       # name → globs (gitignore style); a file's subsystem is the first match
      api: ["src/api/**"]
      web: ["web/**"]
    sensitive:                        # class → globs, replacing that class's defaults (new classes allowed)
      auth: ["src/**/auth/**", "src/**/permissions.py"]
    severity:                         # class → severity of touching it
      dependencies: medium
    limits: {max_files: 40, max_lines: 1500}   # "far larger than a task warrants" without a task file
    routes:
      auto_merge: {min_score: 85, max_severity: low}
      senior: {below_score: 40, min_severity: high, k: 2, reviewers: ["@acme/senior"]}
    provenance: {policy: .ringfence/verify.yaml}   # verify the head commit's attestation
    coverage: {drop_threshold: 0.5}
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ringfence.review.findings import ReviewInputError, Severity

CONFIG_PATH = ".ringfence/review.yaml"

# Gitignore-style globs per sensitive-change class, with the severity of touching it.
DEFAULT_CLASSES: dict[str, tuple[Severity, tuple[str, ...]]] = {
    "infrastructure": (
        Severity.MEDIUM,
        (
            "*.tf",
            "*.tfvars",
            "*.tf.json",
            "*.hcl",
            "Pulumi.*",
            "cdk.json",
            "*.bicep",
            "cloudformation/",
            "*.cfn.yaml",
            "*.cfn.json",
            "helm/",
            "charts/",
            "k8s/",
            "kubernetes/",
            "manifests/",
            "kustomization.yaml",
            "Dockerfile",
            "*.dockerfile",
            "docker-compose*.yml",
            "docker-compose*.yaml",
            "ansible/",
            "*.nomad",
        ),
    ),
    "ci": (
        Severity.MEDIUM,
        (
            ".github/workflows/",
            ".github/actions/",
            ".gitlab-ci.yml",
            "*.gitlab-ci.yml",
            "Jenkinsfile",
            ".circleci/",
            "azure-pipelines.yml",
            ".buildkite/",
            "bitbucket-pipelines.yml",
            ".drone.yml",
            ".travis.yml",
            "cloudbuild.yaml",
            ".github/dependabot.yml",
        ),
    ),
    "auth": (
        Severity.MEDIUM,
        (
            "**/auth/",
            "**/authn/",
            "**/authz/",
            "**/*auth*.*",
            "**/*permission*.*",
            "**/*rbac*",
            "**/*acl*.*",
            "**/*oauth*",
            "**/*saml*",
            "**/*jwt*",
            "**/*session*.*",
            "**/*login*.*",
            "**/*password*.*",
            "**/policies/",
        ),
    ),
    "secrets": (
        Severity.HIGH,
        (
            ".env",
            ".env.*",
            "*.env",
            "*.pem",
            "*.key",
            "*.p12",
            "*.pfx",
            "*.jks",
            "id_rsa*",
            "id_ed25519*",
            "**/secrets/",
            "*secret*.y*ml",
            "*credentials*",
            ".npmrc",
            ".pypirc",
            ".netrc",
            "*.kdbx",
            "*.sops.*",
            "kubeconfig*",
        ),
    ),
    "migrations": (
        Severity.MEDIUM,
        (
            "**/migrations/",
            "**/migrate/",
            "db/migrate/",
            "alembic/versions/",
            "**/*.sql",
            "flyway/",
            "liquibase/",
            "**/changelog*.xml",
            "prisma/migrations/",
        ),
    ),
    "dependencies": (
        Severity.LOW,
        (
            "package.json",
            "package-lock.json",
            "yarn.lock",
            "pnpm-lock.yaml",
            "bun.lockb",
            "requirements*.txt",
            "constraints*.txt",
            "pyproject.toml",
            "poetry.lock",
            "uv.lock",
            "Pipfile",
            "Pipfile.lock",
            "setup.py",
            "setup.cfg",
            "go.mod",
            "go.sum",
            "Cargo.toml",
            "Cargo.lock",
            "Gemfile",
            "Gemfile.lock",
            "pom.xml",
            "build.gradle",
            "build.gradle.kts",
            "gradle.lockfile",
            "composer.json",
            "composer.lock",
            "mix.exs",
            "mix.lock",
            "*.csproj",
            "packages.lock.json",
            "Package.swift",
            "Package.resolved",
        ),
    ),
    "ownership": (
        Severity.HIGH,
        (
            "CODEOWNERS",
            ".github/CODEOWNERS",
            "docs/CODEOWNERS",
            "*.rego",
            ".github/branch-protection*",
            "SECURITY.md",
            ".github/settings.yml",
        ),
    ),
    "gate": (
        Severity.HIGH,
        (
            ".ringfence/",
            ".claude/settings.json",
            ".claude/settings.local.json",
            ".codex/",
            ".gemini/settings.json",
            ".cursor/hooks.json",
            ".github/hooks/",
            ".opencode/",
            "opencode.json",
            ".husky/",
            ".pre-commit-config.yaml",
            ".git/hooks/",
            "lefthook.yml",
        ),
    ),
}
CLASS_LABELS = {
    "infrastructure": "infrastructure as code",
    "ci": "CI/CD configuration",
    "auth": "authentication or authorisation code",
    "secrets": "secrets or environment files",
    "migrations": "database migrations",
    "dependencies": "dependency manifests and lock files",
    "ownership": "CODEOWNERS and policy files",
    "gate": "the gate's own configuration and hooks",
}


@dataclass(frozen=True)
class Routes:
    auto_min_score: int = 85
    auto_max_severity: Severity = Severity.LOW
    senior_below_score: int = 40
    senior_min_severity: Severity = Severity.HIGH
    senior_k: int = 2
    senior_reviewers: tuple[str, ...] = ()


@dataclass(frozen=True)
class ReviewConfig:
    source: str = "(defaults)"
    classes: dict[str, tuple[Severity, tuple[str, ...]]] = field(default_factory=lambda: dict(DEFAULT_CLASSES))
    subsystems: dict[str, tuple[str, ...]] = field(default_factory=dict)
    max_files: int = 40
    max_lines: int = 1500
    routes: Routes = Routes()
    verify_policy: Path | None = None
    coverage_drop: float = 0.5
    from_base: bool = False  # read from the base revision (its provenance.policy is read there too)


def _severity(value: Any, where: str) -> Severity:
    try:
        return Severity(value)
    except ValueError:
        raise ReviewInputError(
            f"{where} must be one of {', '.join(s.value for s in Severity)}, not {value!r}"
        ) from None


def _globs(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(g, str) and g.strip() for g in value):
        raise ReviewInputError(f"{where} must be a list of globs")
    return tuple(value)


def _count(value: Any, where: str, low: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise ReviewInputError(f"{where} must be a whole number ≥ {low}")
    return value


def parse(text: str, source: str, *, root: Path, from_base: bool = False) -> ReviewConfig:
    """Parse review configuration text. Raises :class:`ReviewInputError` naming ``source``."""
    from ringfence.yamlfile import parse_yaml

    doc = parse_yaml(text, source, ReviewInputError)
    if doc is None:
        doc = {}
    if not isinstance(doc, Mapping):
        raise ReviewInputError(f"{source}: the review configuration is a mapping (version, sensitive, routes, …)")
    known = {"version", "subsystems", "sensitive", "severity", "limits", "routes", "provenance", "coverage"}
    unknown = sorted(set(doc) - known)
    if unknown:
        raise ReviewInputError(f"{source}: unknown key {unknown[0]!r} (known: {', '.join(sorted(known))})")
    if doc.get("version", 1) != 1:
        raise ReviewInputError(f"{source}: version must be 1")

    def section(name: str) -> Mapping[str, Any]:
        value = doc.get(name) or {}
        if not isinstance(value, Mapping):
            raise ReviewInputError(f"{source}: {name} must be a mapping")
        return value

    classes = dict(DEFAULT_CLASSES)
    for name, globs in section("sensitive").items():
        severity = classes.get(str(name), (Severity.MEDIUM, ()))[0]
        classes[str(name)] = (severity, _globs(globs, f"{source}: sensitive.{name}"))
    for name, level in section("severity").items():
        if name not in classes:
            raise ReviewInputError(f"{source}: severity.{name} names no sensitive class ({', '.join(classes)})")
        classes[str(name)] = (_severity(level, f"{source}: severity.{name}"), classes[str(name)][1])
    subsystems = {str(k): _globs(v, f"{source}: subsystems.{k}") for k, v in section("subsystems").items()}
    limits = section("limits")
    routes_doc = section("routes")
    auto = routes_doc.get("auto_merge") or {}
    senior = routes_doc.get("senior") or {}
    if not isinstance(auto, Mapping) or not isinstance(senior, Mapping):
        raise ReviewInputError(f"{source}: routes.auto_merge and routes.senior must be mappings")
    bad = sorted(set(routes_doc) - {"auto_merge", "senior"})
    if bad:
        raise ReviewInputError(f"{source}: routes takes auto_merge and senior, not {bad[0]!r}")
    reviewers = senior.get("reviewers", [])
    if not isinstance(reviewers, list) or not all(isinstance(r, str) for r in reviewers):
        raise ReviewInputError(f"{source}: routes.senior.reviewers must be a list of names")
    routes = Routes(
        auto_min_score=_count(auto.get("min_score", 85), f"{source}: routes.auto_merge.min_score", 0),
        auto_max_severity=_severity(auto.get("max_severity", "low"), f"{source}: routes.auto_merge.max_severity"),
        senior_below_score=_count(senior.get("below_score", 40), f"{source}: routes.senior.below_score", 0),
        senior_min_severity=_severity(senior.get("min_severity", "high"), f"{source}: routes.senior.min_severity"),
        senior_k=_count(senior.get("k", 2), f"{source}: routes.senior.k"),
        senior_reviewers=tuple(reviewers),
    )
    provenance = section("provenance")
    policy = provenance.get("policy")
    if policy is not None and not isinstance(policy, str):
        raise ReviewInputError(f"{source}: provenance.policy must be a path to a verify policy")
    drop = section("coverage").get("drop_threshold", 0.5)
    if isinstance(drop, bool) or not isinstance(drop, int | float) or drop < 0:
        raise ReviewInputError(f"{source}: coverage.drop_threshold must be a number of percentage points ≥ 0")
    return ReviewConfig(
        source=source,
        classes=classes,
        subsystems=subsystems,
        max_files=_count(limits.get("max_files", 40), f"{source}: limits.max_files"),
        max_lines=_count(limits.get("max_lines", 1500), f"{source}: limits.max_lines"),
        routes=routes,
        verify_policy=(root / policy) if policy else None,
        coverage_drop=float(drop),
        from_base=from_base,
    )


def load(repo: Path, base: str, explicit: Path | None) -> ReviewConfig:
    """``explicit``, else ``.ringfence/review.yaml`` at ``base``, else the defaults."""
    from ringfence.review.diff import blob

    if explicit is not None:
        try:
            text = explicit.read_text(encoding="utf-8")
        except OSError as exc:
            raise ReviewInputError(f"--config {explicit}: {exc.strerror}") from None
        return parse(text, str(explicit), root=explicit.parent)
    at_base = blob(repo, base, CONFIG_PATH)
    if at_base is None:
        return ReviewConfig()
    return parse(at_base, f"{CONFIG_PATH} at {base[:12]}", root=repo, from_base=True)
