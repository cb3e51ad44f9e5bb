"""Who acts in a pipeline: the principal from a CI system's environment.

A pipeline acts with the privileges of the account that started it, so that account is
the principal: GitHub Actions' ``GITHUB_ACTOR`` (a re-run keeps the original actor's
privileges; ``GITHUB_TRIGGERING_ACTOR`` is recorded beside it), GitLab CI's
``GITLAB_USER_LOGIN``, or ``RINGFENCE_CI_ACTOR`` on any other CI system (``CI=true``).

Automation is told apart from people, deterministically, by account name:

- dependency and coding bots — ``dependabot[bot]``, ``renovate[bot]``, any GitHub App
  ``…[bot]`` — are **agents**: they write changes nobody typed;
- the CI system's own accounts — ``github-actions[bot]``, GitLab project and group access
  token bots (``project_123_bot_…``, ``group_45_bot_…``) — are **services**;
- everyone else is a **human**.

The principal's attributes say so (``bot``, ``bot_kind``) and carry the pipeline's
context (``ci``, ``repository``, ``run_id``, ``sha``, ``ref``, ``event``, ``pipeline_url``,
the triggering actor). The run id is the principal's ``session``: it is recorded with
every decision but is not part of the action digest, so a re-run of the same job finds
the same approval request.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from ringfence.model import Principal, PrincipalType

#: Dependency-update bots, by login without the ``[bot]`` suffix (GitHub, GitLab, self-hosted).
DEPENDENCY_BOTS = frozenset({"dependabot", "dependabot-preview", "renovate", "renovate-bot", "renovatebot"})
#: The CI systems' own accounts.
CI_SERVICE_BOTS = frozenset({"github-actions", "gitlab-bot", "ghost"})
_GITLAB_TOKEN_BOT = re.compile(r"^(?:project|group)_\d+_bot(?:_[0-9a-f]+)?\d*$")
_APP_BOT = re.compile(r"^(?P<name>.+)\[bot\]$")
_LOGIN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._\[\]-]{0,99}$")


@dataclass(frozen=True, slots=True)
class Actor:
    """An account name and what kind of account it is."""

    login: str
    type: PrincipalType
    bot_kind: str | None  # "dependency", "app", "ci", "access-token"; None for a human

    @property
    def bot(self) -> bool:
        return self.bot_kind is not None


def classify(login: str, *, account_type: str | None = None) -> Actor:
    """Whether ``login`` is a person, an automated agent or a CI service account.

    ``account_type`` is what the CI system says when it says anything (GitHub webhooks:
    ``"User"``, ``"Bot"``, ``"Organization"``); a ``Bot`` is never taken for a human."""
    name = login.strip()
    lowered = name.lower()
    app = _APP_BOT.match(lowered)
    base = app.group("name") if app else lowered
    if base in CI_SERVICE_BOTS:
        return Actor(name, PrincipalType.SERVICE, "ci")
    if base in DEPENDENCY_BOTS:
        return Actor(name, PrincipalType.AGENT, "dependency")
    if _GITLAB_TOKEN_BOT.match(lowered):
        return Actor(name, PrincipalType.SERVICE, "access-token")
    if app or (account_type or "").lower() == "bot":
        return Actor(name, PrincipalType.AGENT, "app")
    return Actor(name, PrincipalType.HUMAN, None)


def detect(env: Mapping[str, str]) -> str | None:
    """The CI system the environment belongs to: ``github-actions``, ``gitlab-ci``, ``ci``
    (some other CI system with ``CI`` set), or None outside CI."""
    if env.get("GITHUB_ACTIONS") == "true":
        return "github-actions"
    if env.get("GITLAB_CI") == "true":
        return "gitlab-ci"
    if (env.get("CI") or "").lower() in ("true", "1", "yes"):
        return "ci"
    return None


class CIEnvironmentError(ValueError):
    """The CI environment does not name who runs the pipeline."""


def principal_from_env(env: Mapping[str, str]) -> Principal:
    """The principal of the pipeline this environment belongs to.

    Raises :class:`CIEnvironmentError` when no CI system is detected or the one detected
    does not name its actor (a pipeline whose actor is unknown cannot be attributed)."""
    system = detect(env)
    if system == "github-actions":
        return _github(env)
    if system == "gitlab-ci":
        return _gitlab(env)
    if system == "ci":
        return _generic(env)
    raise CIEnvironmentError(
        "no CI system detected (GITHUB_ACTIONS, GITLAB_CI or CI is not set); on another CI system set CI=true "
        "and RINGFENCE_CI_ACTOR to the account that started the pipeline"
    )


def _login(env: Mapping[str, str], name: str, system: str) -> str:
    value = (env.get(name) or "").strip()
    if not value:
        raise CIEnvironmentError(f"{system}: {name} is not set, so the pipeline's actor is unknown")
    if not _LOGIN.match(value):
        raise CIEnvironmentError(f"{system}: {name}={value[:60]!r} is not an account name")
    return value


def _principal(
    actor: Actor, system: str, session: str | None, attrs: dict[str, str | None], *, owner: str | None = None
) -> Principal:
    attributes = {
        "ci": system,
        "bot": "true" if actor.bot else "false",
        **({"bot_kind": actor.bot_kind} if actor.bot_kind else {}),
        **{k: v for k, v in attrs.items() if v},
    }
    return Principal(actor.type, actor.login, runtime=system, session=session, owner=owner, attributes=attributes)


def _github(env: Mapping[str, str]) -> Principal:
    system = "github-actions"
    actor = classify(_login(env, "GITHUB_ACTOR", system))
    triggering = (env.get("GITHUB_TRIGGERING_ACTOR") or "").strip() or None
    if triggering is not None and triggering != actor.login:
        other = classify(_login(env, "GITHUB_TRIGGERING_ACTOR", system))
        if actor.type is PrincipalType.HUMAN and other.bot:
            actor = Actor(actor.login, other.type, other.bot_kind)  # automation re-ran a person's run
    server = (env.get("GITHUB_SERVER_URL") or "https://github.com").rstrip("/")
    repo = env.get("GITHUB_REPOSITORY")
    run = env.get("GITHUB_RUN_ID")
    url = f"{server}/{repo}/actions/runs/{run}" if repo and run else None
    return _principal(
        actor,
        system,
        run,
        {
            "actor": actor.login,
            "triggering_actor": triggering,
            "repository": repo,
            "run_id": run,
            "run_attempt": env.get("GITHUB_RUN_ATTEMPT"),
            "workflow": env.get("GITHUB_WORKFLOW"),
            "job": env.get("GITHUB_JOB"),
            "sha": env.get("GITHUB_SHA"),
            "ref": env.get("GITHUB_REF"),
            "event": env.get("GITHUB_EVENT_NAME"),
            "pipeline_url": url,
        },
    )


def _gitlab(env: Mapping[str, str]) -> Principal:
    system = "gitlab-ci"
    actor = classify(_login(env, "GITLAB_USER_LOGIN", system))
    ref = env.get("CI_COMMIT_REF_NAME")
    return _principal(
        actor,
        system,
        env.get("CI_PIPELINE_ID"),
        {
            "actor": actor.login,
            "repository": env.get("CI_PROJECT_PATH"),
            "run_id": env.get("CI_PIPELINE_ID"),
            "job": env.get("CI_JOB_NAME"),
            "job_id": env.get("CI_JOB_ID"),
            "sha": env.get("CI_COMMIT_SHA"),
            "ref": f"refs/heads/{ref}" if ref and not env.get("CI_COMMIT_TAG") else (ref or None),
            "event": env.get("CI_PIPELINE_SOURCE"),
            "pipeline_url": env.get("CI_PIPELINE_URL"),
            "user_email": env.get("GITLAB_USER_EMAIL"),
        },
    )


def _generic(env: Mapping[str, str]) -> Principal:
    system = "ci"
    login = (env.get("RINGFENCE_CI_ACTOR") or "").strip()
    if not login:
        raise CIEnvironmentError(
            "CI is set but this CI system is not recognised: set RINGFENCE_CI_ACTOR to the account that started "
            "the pipeline (and RINGFENCE_CI_RUN to its run id)"
        )
    actor = classify(_login(env, "RINGFENCE_CI_ACTOR", system))
    run = env.get("RINGFENCE_CI_RUN") or None
    return _principal(actor, system, run, {"actor": actor.login, "run_id": run})
