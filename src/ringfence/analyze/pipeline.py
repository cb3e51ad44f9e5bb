"""Pipeline steps (``ringfence ci gate``): deploys, migrations, merges and publishes.

A pipeline step arrives as an :class:`~ringfence.model.Action` of kind ``deploy``,
``migration`` or ``merge`` whose payload names what it does; the effects use the names
the built-in packs already judge, so one policy covers an agent's ``vercel deploy
--prod`` and a pipeline's production deploy alike:

- ``deploy`` (payload ``step: deploy``) → ``deploy`` with ``environment`` (mapped like an
  app name: configured ``environments.app`` globs, then the name itself), ``production``,
  ``target`` (the service), ``artifact`` and ``tool: ci``;
- ``deploy`` with ``step: publish`` → ``publish`` (``package``, ``registry``, ``artifact``);
- ``migration`` → ``db.migrate`` (``direction`` up or down, ``environment``, ``database``),
  and, when the migration's SQL is given, the ``db.destructive``/``db.privilege`` effects
  of its statements as a migration file's (``migration_file: true``);
- ``merge`` → ``git.push`` to the target branch, plus ``merge.bypass_review`` when the
  merge skips review.

Every step is bound to an artifact digest (``sha256:<64 hex>``, ``sha384:``/``sha512:``,
an image reference pinned as ``name@sha256:…``, or a git commit ``git:<40 hex>``), so an
approval is for exactly that artifact. A payload that is off-contract (no artifact, a
malformed digest, a field of the wrong type) is an ``analysis.error``, which denies.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from ringfence.analyze.context import Context
from ringfence.model import Action, ActionKind, AttrValue, Effect

ARTIFACT = re.compile(
    r"^(?:(?P<image>[a-z0-9](?:[a-z0-9._/:-]{0,254}))@)?"
    r"(?:sha256:[0-9a-f]{64}|sha384:[0-9a-f]{96}|sha512:[0-9a-f]{128}|git:[0-9a-f]{40}(?:[0-9a-f]{24})?)$"
)
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/@:+-]{0,199}$")
MAX_SQL = 1024 * 1024
STEPS: dict[ActionKind, frozenset[str]] = {
    ActionKind.DEPLOY: frozenset({"deploy", "publish"}),
    ActionKind.MIGRATION: frozenset({"migrate"}),
    ActionKind.MERGE: frozenset({"merge"}),
}
_FIELDS = frozenset(
    {
        "step",
        "artifact",
        "environment",
        "service",
        "description",
        "direction",
        "database",
        "sql",
        "sql_file",
        "target_branch",
        "source",
        "bypass_review",
        "registry",
        "repository",
        "run",
    }
)


class PipelineError(ValueError):
    """An off-contract pipeline action; the message says which field and why."""


def valid_artifact(text: str) -> bool:
    return bool(ARTIFACT.match(text))


def analyze_pipeline(action: Action, ctx: Context) -> list[Effect]:
    """The effects of a pipeline step; an ``analysis.error`` effect when it is off-contract."""
    try:
        return list(_effects(action, ctx))
    except PipelineError as exc:
        return [Effect("analysis.error", {"reason": str(exc), "tool": "ci"}, evidence=f"ci {action.kind.value}")]


def check_payload(kind: ActionKind, payload: Mapping[str, Any]) -> str:
    """The step of a well-formed payload. Raises :class:`PipelineError`."""
    steps = STEPS.get(kind)
    if steps is None:
        raise PipelineError(f"action kind {kind.value} is not a pipeline step")
    unknown = sorted(str(k) for k in payload if k not in _FIELDS)
    if unknown:
        raise PipelineError(f"unknown field(s) {', '.join(unknown)} in a {kind.value} action")
    step = payload.get("step", next(iter(steps)) if len(steps) == 1 else "deploy")
    if step not in steps:
        raise PipelineError(f"step {step!r} is not a {kind.value} step ({', '.join(sorted(steps))})")
    artifact = payload.get("artifact")
    if not isinstance(artifact, str) or not artifact:
        raise PipelineError(f"a {step} step needs an artifact digest (e.g. sha256:<64 hex>) it is bound to")
    if not valid_artifact(artifact):
        raise PipelineError(
            f"artifact {artifact[:80]!r} is not a digest: use sha256:<64 lowercase hex> (or sha384:/sha512:, "
            "image@sha256:…, git:<40 hex>)"
        )
    for key in ("environment", "service", "database", "target_branch", "source", "registry", "repository", "run"):
        value = payload.get(key)
        if value is not None and (not isinstance(value, str) or not NAME.match(value)):
            raise PipelineError(f"{key} must be a name (letters, digits, . _ / @ : + -), not {value!r}")
    for key in ("description", "sql", "sql_file"):
        value = payload.get(key)
        if value is not None and not isinstance(value, str):
            raise PipelineError(f"{key} must be a string")
    if payload.get("direction", "up") not in ("up", "down"):
        raise PipelineError("direction must be up or down")
    if not isinstance(payload.get("bypass_review", False), bool):
        raise PipelineError("bypass_review must be true or false")
    if step in ("deploy", "migrate") and not payload.get("environment"):
        raise PipelineError(f"a {step} step needs the environment it targets")
    if step == "merge" and not payload.get("target_branch"):
        raise PipelineError("a merge step needs the branch it merges into (target_branch)")
    return str(step)


def _effects(action: Action, ctx: Context) -> Iterator[Effect]:
    p = action.payload
    step = check_payload(action.kind, p)
    artifact = str(p["artifact"])
    raw_env = p.get("environment")
    env = ctx.environment_for("app", raw_env) if isinstance(raw_env, str) else ctx.environment
    service = p.get("service") if isinstance(p.get("service"), str) else None
    base: dict[str, AttrValue] = {"tool": "ci", "artifact": artifact, "environment": env}
    if isinstance(raw_env, str):
        base["environment_name"] = raw_env
    if isinstance(p.get("repository"), str):
        base["repository"] = p["repository"]
    what = f" {service}" if service else ""
    if step == "deploy":
        evidence = f"ci deploy{what} to {raw_env} ({_short(artifact)})"
        yield Effect("deploy", {**base, "target": service, "production": env == "production"}, evidence=evidence)
    elif step == "publish":
        evidence = f"ci publish{what} ({_short(artifact)})"
        attrs = {**base, "package": service, "registry": p.get("registry"), "local": False, "draft": False}
        yield Effect("publish", attrs, evidence=evidence)
    elif step == "migrate":
        direction = str(p.get("direction", "up"))
        database = p.get("database") or service
        evidence = f"ci migrate{what} {direction} on {raw_env} ({_short(artifact)})"
        attrs = {**base, "framework": "ci", "operation": "migrate", "direction": direction, "database": database}
        yield Effect("db.migrate", attrs, evidence=evidence)
        sql = p.get("sql")
        if isinstance(sql, str) and sql:
            yield from _migration_sql(sql, str(p.get("sql_file") or "migration.sql"), base, evidence)
    else:
        target = str(p["target_branch"])
        evidence = f"ci merge {p.get('source') or 'change'} into {target} ({_short(artifact)})"
        attrs = {**base, "remote": "origin", "branches": (target,), "branch_unknown": False, "force": False}
        attrs["protected"] = ctx.is_protected_branch(target)
        attrs["dry_run"] = False
        yield Effect("git.push", attrs, evidence=evidence)
        if p.get("bypass_review"):
            yield Effect("merge.bypass_review", {**base, "branch": target}, evidence=evidence)


def _migration_sql(sql: str, name: str, base: Mapping[str, AttrValue], evidence: str) -> Iterator[Effect]:
    """The destructive and privilege-changing statements of the migration being applied,
    judged as a migration file's (``migration_file: true``; the environment is the
    ``db.migrate`` effect's to judge)."""
    if len(sql) > MAX_SQL:
        yield Effect(
            "analysis.limit", {"reason": f"migration SQL is {len(sql)} characters; the limit is {MAX_SQL}"}, evidence
        )
        return
    from ringfence.analyze import sql as sqlmod

    extra: dict[str, AttrValue] = {
        "migration_file": True,
        "file": name,
        "framework": "ci",
        "artifact": base["artifact"],
    }
    for eff in sqlmod.sql_effects(sql, dialect=None, environment=None, evidence=evidence, tool="ci", extra=extra):
        if eff.kind in ("db.destructive", "db.privilege", "analysis.limit", "analysis.error", "opaque_exec"):
            yield eff


def _short(artifact: str) -> str:
    algo_at = artifact.rfind(":")
    return artifact[: algo_at + 13] + "…" if len(artifact) - algo_at > 13 else artifact
