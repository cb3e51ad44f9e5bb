"""Delivering answers owed to external systems (outbox items ``callback:CB-…``).

A callback is stored with the decision that owes it (:meth:`ControlStore.add_callback`)
and queued in the outbox when its answer is known — at once for an allow or a deny,
when the approval request settles for a held action. The outbox sweep
(:func:`ringfence.control.outbox.run_once`, run by the server every few seconds) hands
due items here. Failures are retried with the outbox's backoff; a 4xx other than 429 is
permanent. Nothing here runs on the decision path.

The one kind today is ``github.deployment_protection``: ``POST`` to the
``deployment_callback_url`` GitHub sent (``/repos/{owner}/{repo}/actions/runs/{run_id}/
deployment_protection_rule``) with ``{environment_name, state: approved|rejected,
comment}``, the installation token as a bearer token, ``Accept:
application/vnd.github+json`` and ``X-GitHub-Api-Version``. Only URLs under the
configured ``integrations.github.api_url`` are ever called, checked again here at
delivery (the webhook handler checked them on arrival).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from ringfence.control.settings import ControlSettings, GitHubIntegration
from ringfence.control.store import CALLBACK_CHANNEL, Callback, ControlStore, OutboxItem
from ringfence.errors import ControlError

if TYPE_CHECKING:
    from ringfence.control.notify import Post

GITHUB_DEPLOYMENT = "github.deployment_protection"
GITHUB_API_VERSION = "2022-11-28"
MAX_COMMENT = 1024
CLAIM_SECONDS = 60.0
_CALLBACK_PATH = re.compile(r"^/repos/[A-Za-z0-9._-]+/[A-Za-z0-9._-]+/actions/runs/\d+/deployment_protection_rule$")


def is_callback(item: OutboxItem) -> bool:
    return item.channel.startswith(CALLBACK_CHANNEL)


def github_callback_problem(url: str, github: GitHubIntegration) -> str | None:
    """Why ringfence must not POST to ``url``, or None when it is a deployment protection
    callback under the configured API (same scheme, host and port; the API's path prefix;
    the documented path shape; no query, fragment or credentials)."""
    try:
        u, api = urlsplit(url), urlsplit(github.api_url)
        port, api_port = u.port, api.port
    except ValueError:
        return f"{url[:120]!r} is not a URL"
    if u.username is not None or u.password is not None or u.query or u.fragment:
        return "the callback URL carries credentials, a query or a fragment"
    if (u.scheme, (u.hostname or "").lower(), port) != (api.scheme, (api.hostname or "").lower(), api_port):
        return (
            f"the callback URL's host {u.scheme}://{u.netloc} is not the configured GitHub API {github.api_url} "
            "(integrations.github.api_url); ringfence calls no other host"
        )
    prefix = api.path.rstrip("/")
    if not u.path.startswith(prefix + "/") or not _CALLBACK_PATH.match(u.path[len(prefix) :]):
        return f"the callback URL's path {u.path[:120]!r} is not {prefix}/repos/OWNER/REPO/actions/runs/ID/" + (
            "deployment_protection_rule"
        )
    return None


def comment(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MAX_COMMENT else text[: MAX_COMMENT - 1] + "…"


def render(cb: Callback, answer: str, settings: ControlSettings) -> tuple[bytes, dict[str, str]]:
    """The body and headers of ``cb``'s answer. Raises ControlError when it cannot be sent
    as configured now (the item is retried: an operator may fix the configuration)."""
    if cb.kind != GITHUB_DEPLOYMENT:
        raise ControlError(f"unknown callback kind {cb.kind!r}")
    github = settings.github
    if github is None:
        raise ControlError("integrations.github is no longer configured")
    problem = github_callback_problem(cb.target, github)
    if problem is not None:
        raise ControlError(problem)
    token = github.token()
    if not token:
        raise ControlError(f"{github.token_env} is not set: no installation token to answer GitHub with")
    doc: Mapping[str, Any] = cb.document
    note = doc.get("approved_comment" if answer == "approved" else "rejected_comment") or f"ringfence: {answer}"
    body = {"environment_name": str(doc.get("environment_name", "")), "state": answer, "comment": comment(str(note))}
    headers = {
        "Authorization": f"Bearer {token}",
        "Accept": "application/vnd.github+json",
        "X-GitHub-Api-Version": GITHUB_API_VERSION,
        "Content-Type": "application/json",
        "User-Agent": "ringfence-callback/1",
    }
    return json.dumps(body, sort_keys=True).encode("utf-8"), headers


def deliver(
    store: ControlStore,
    settings: ControlSettings,
    item: OutboxItem,
    *,
    post: Post | None,
    timeout: float,
    backoff: Callable[[int], float],
    max_attempts: int,
) -> tuple[str, str]:
    """Send one due callback. Returns ``(outcome, label)``: outcome is ``delivered``,
    ``retrying``, ``failed`` or ``skipped`` (another server claimed it)."""
    from ringfence.control.notify import PostResult, urllib_post

    cid = item.channel[len(CALLBACK_CHANNEL) :]
    label = f"callback:{item.event}:{cid}"
    if not store.claim_notification(item, until=store.clock() + CLAIM_SECONDS):
        return "skipped", label
    attempts = item.attempts + 1
    try:
        cb = store.callback(cid)
        body, headers = render(cb, item.event, settings)
    except ControlError as exc:
        return _retry_or_fail(store, item, attempts, str(exc), backoff, max_attempts, label, permanent=False)
    send = urllib_post if post is None else post
    try:
        result = send(cb.target, body, headers, timeout)
    except Exception as exc:
        return _retry_or_fail(store, item, attempts, f"{type(exc).__name__}: {exc}", backoff, max_attempts, label)
    if isinstance(result, int):
        result = PostResult(result)
    if 200 <= result.status < 300:
        store.notification_done(item.id, ok=True, attempts=1, error=None, retry_at=None)
        return "delivered", label
    error = f"HTTP {result.status}" + (f" ({result.detail})" if result.detail else "")
    permanent = (400 <= result.status < 500 and result.status != 429) or 300 <= result.status < 400
    return _retry_or_fail(store, item, attempts, error, backoff, max_attempts, label, permanent=permanent)


def _retry_or_fail(
    store: ControlStore,
    item: OutboxItem,
    attempts: int,
    error: str,
    backoff: Callable[[int], float],
    max_attempts: int,
    label: str,
    *,
    permanent: bool = False,
) -> tuple[str, str]:
    if permanent or attempts >= max_attempts:
        store.notification_done(item.id, ok=False, attempts=1, error=error, retry_at=None)
        return "failed", f"{label} ({error})"
    store.notification_done(item.id, ok=False, attempts=1, error=error, retry_at=store.clock() + backoff(attempts))
    return "retrying", f"{label} ({error})"
