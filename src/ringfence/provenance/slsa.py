"""SLSA provenance v1 for artifacts built in CI (slsa.dev/spec/v1.0/provenance).

The predicate is ``{"buildDefinition": {buildType, externalParameters,
internalParameters, resolvedDependencies}, "runDetails": {builder: {id}, metadata:
{invocationId, startedOn, finishedOn}}}``. On GitHub Actions it follows the GitHub
workflow build type (``https://actions.github.io/buildtypes/workflow/v1``: the workflow's
``ref``, ``repository`` and ``path`` as external parameters); on GitLab CI and elsewhere
ringfence's own build type records the pipeline's project, ref and job. The source commit
is the one resolved dependency, so a verifier can tie the artifact to the agent-change
attestation of that commit.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ringfence.provenance.errors import StatementError

SLSA_TYPE = "https://slsa.dev/provenance/v1"
GITHUB_BUILD_TYPE = "https://actions.github.io/buildtypes/workflow/v1"
CI_BUILD_TYPE = "https://ringfence.dev/buildtypes/ci/v1"


def _github(env: Mapping[str, str], commit: str | None) -> tuple[str, dict[str, Any], dict[str, Any], str, str]:
    server = env.get("GITHUB_SERVER_URL", "https://github.com").rstrip("/")
    repo = env["GITHUB_REPOSITORY"]
    workflow_ref = env.get("GITHUB_WORKFLOW_REF", "")  # owner/repo/.github/workflows/x.yml@refs/heads/main
    path = workflow_ref.split("@", 1)[0].removeprefix(f"{repo}/") if workflow_ref else ""
    external = {"workflow": {"ref": env.get("GITHUB_REF", ""), "repository": f"{server}/{repo}", "path": path}}
    internal = {
        "github": {
            k.lower().removeprefix("github_"): env[k]
            for k in ("GITHUB_EVENT_NAME", "GITHUB_REPOSITORY_ID", "GITHUB_REPOSITORY_OWNER_ID")
            if env.get(k)
        }
    }
    attempt = env.get("GITHUB_RUN_ATTEMPT", "1")
    invocation = f"{server}/{repo}/actions/runs/{env.get('GITHUB_RUN_ID', '')}/attempts/{attempt}"
    hosted = env.get("RUNNER_ENVIRONMENT", "github-hosted")
    builder = f"https://github.com/actions/runner/{hosted}"
    return GITHUB_BUILD_TYPE, external, internal, invocation, builder


def _generic(env: Mapping[str, str]) -> tuple[str, dict[str, Any], dict[str, Any], str, str]:
    if env.get("GITLAB_CI"):
        project = env.get("CI_PROJECT_URL", "")
        external = {"project": project, "ref": env.get("CI_COMMIT_REF_NAME", ""), "job": env.get("CI_JOB_NAME", "")}
        internal = {"pipelineSource": env.get("CI_PIPELINE_SOURCE", "")}
        invocation = env.get("CI_JOB_URL", "")
        builder = f"{env.get('CI_SERVER_URL', 'https://gitlab.com').rstrip('/')}/runner/{env.get('CI_RUNNER_ID', '')}"
        return CI_BUILD_TYPE, external, internal, invocation, builder
    builder = env.get("RINGFENCE_BUILDER_ID", "")
    if not builder:
        raise StatementError(
            "not in GitHub Actions or GitLab CI: set RINGFENCE_BUILDER_ID to the id of the build platform "
            "(an URI naming it) to write SLSA provenance here"
        )
    external = {"ref": env.get("RINGFENCE_BUILD_REF", "")}
    return CI_BUILD_TYPE, external, {}, env.get("RINGFENCE_INVOCATION_ID", ""), builder


def predicate(
    env: Mapping[str, str], *, source_uri: str | None, commit: str | None, started: str, finished: str
) -> dict[str, Any]:
    if env.get("GITHUB_ACTIONS") == "true" and env.get("GITHUB_REPOSITORY"):
        build_type, external, internal, invocation, builder = _github(env, commit)
    else:
        build_type, external, internal, invocation, builder = _generic(env)
    deps: list[dict[str, Any]] = []
    if commit:
        ref = env.get("GITHUB_REF") or env.get("CI_COMMIT_REF_NAME") or ""
        uri = f"git+{source_uri}" if source_uri and not source_uri.startswith("git+") else (source_uri or "git")
        deps.append({"uri": f"{uri}@{ref}" if ref else uri, "digest": {"gitCommit": commit}})
    metadata = {k: v for k, v in (("invocationId", invocation), ("startedOn", started), ("finishedOn", finished)) if v}
    return {
        "buildDefinition": {
            "buildType": build_type,
            "externalParameters": external,
            "internalParameters": internal,
            "resolvedDependencies": deps,
        },
        "runDetails": {"builder": {"id": builder}, "metadata": metadata},
    }


def check(pred: Mapping[str, Any], builders: tuple[str, ...]) -> list[str]:
    """What a SLSA v1 predicate lacks, and whether its builder is trusted."""
    problems: list[str] = []
    build = pred.get("buildDefinition")
    run = pred.get("runDetails")
    if not isinstance(build, Mapping) or not isinstance(build.get("buildType"), str):
        problems.append("predicate.buildDefinition.buildType is missing")
    elif not isinstance(build.get("externalParameters"), Mapping):
        problems.append("predicate.buildDefinition.externalParameters is missing")
    builder = run.get("builder") if isinstance(run, Mapping) else None
    builder_id = builder.get("id") if isinstance(builder, Mapping) else None
    if not isinstance(builder_id, str) or not builder_id:
        problems.append("predicate.runDetails.builder.id is missing")
    elif builders and builder_id not in builders:
        problems.append(
            f"the artifact was built by {builder_id!r}, which is not a trusted builder ({', '.join(builders)})"
        )
    return problems
