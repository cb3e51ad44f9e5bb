"""Notification channels: telling approvers out of band that a request waits for them.

A :class:`Channel` is a Slack incoming webhook or a generic webhook. :func:`render`
turns an approval request into the body and headers for a channel, and
:func:`deliver` posts them with retries. Generic webhooks are signed the way Slack
signs its requests, so a receiver can check them with :func:`verify_webhook`::

    X-Ringfence-Timestamp: 1700000000
    X-Ringfence-Signature: sha256=<hex HMAC-SHA256(secret, b"1700000000." + body)>

Channel URLs carry credentials (a Slack webhook URL *is* its token), so errors and
reprs show them masked (``https://hooks.slack.com/services/***``) and never show a
secret.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import os
import random
import re
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import IO, Any, Literal

from ringfence.control.slack import block_kit_message
from ringfence.errors import ApprovalError, ControlError

TIMESTAMP_HEADER = "X-Ringfence-Timestamp"
SIGNATURE_HEADER = "X-Ringfence-Signature"
EVENT_HEADER = "X-Ringfence-Event"
USER_AGENT = "ringfence-notify/1"
JSON_CONTENT_TYPE = "application/json; charset=utf-8"

CHANNEL_KEYS = frozenset({"kind", "url", "url_env", "secret", "secret_env"})
REQUEST_FIELDS = (
    "id",
    "summary",
    "requester",
    "tier",
    "rules",
    "effects",
    "requirement",
    "reason",
    "expires_at",
    "status",
    "approvals",
)
OPTIONAL_REQUEST_FIELDS = ("url", "escalation")


class NotifyError(ControlError):
    """A notification channel is misconfigured or a notification cannot be built."""


class ChannelConfigError(NotifyError):
    """A notification channel in the configuration is invalid."""


class WebhookSignatureError(NotifyError):
    """A request claiming to come from ringfence is not signed with the channel secret."""


def mask_url(url: str) -> str:
    """``url`` with everything that may be a credential replaced by ``***``.

    Keeps the scheme, host, port and first path segment; drops user info and
    replaces the rest of the path and any query with ``***``.
    """
    try:
        parts = urllib.parse.urlsplit(url)
        port = parts.port
    except ValueError:
        return "<malformed URL>"
    host = parts.hostname or ""
    shown = f"{parts.scheme}://" + (f"[{host}]" if ":" in host else host) + (f":{port}" if port else "")
    segments = [segment for segment in parts.path.split("/") if segment]
    if segments:
        shown += "/" + segments[0]
    if len(segments) > 1:
        shown += "/***"
    if parts.query or parts.fragment:
        shown += "?***"
    return shown


@dataclass(frozen=True)
class Channel:
    """Where to send notifications: a Slack incoming webhook or a signed generic webhook."""

    name: str
    kind: Literal["slack", "webhook"]
    url: str
    secret: str | None = None

    def __post_init__(self) -> None:
        if not self.name:
            raise ChannelConfigError("a notification channel needs a non-empty name")
        if self.kind not in ("slack", "webhook"):
            raise ChannelConfigError(f"channel {self.name!r}: kind must be slack or webhook, not {self.kind!r}")
        _check_url(self.name, "url", self.url)
        if self.kind == "webhook" and not self.secret:
            raise ChannelConfigError(f"channel {self.name!r}: a webhook channel needs a secret to sign with")

    def __repr__(self) -> str:
        secret = "<set>" if self.secret else "None"
        return f"Channel(name={self.name!r}, kind={self.kind!r}, url={mask_url(self.url)!r}, secret={secret})"


def channel_from_mapping(name: str, doc: Mapping[str, Any]) -> Channel:
    """A :class:`Channel` from its configuration, ``{kind, url | url_env, secret | secret_env}``.

    ``url_env`` and ``secret_env`` name an environment variable holding the value.
    Raises :class:`ChannelConfigError` naming the channel and the offending key.
    """
    where = f"channel {name!r}"
    if not isinstance(doc, Mapping):
        raise ChannelConfigError(f"{where} must be a mapping with 'kind' and 'url', not {type(doc).__name__}")
    unknown = sorted(str(key) for key in doc if key not in CHANNEL_KEYS)
    if unknown:
        raise ChannelConfigError(f"{where}: unknown key {unknown[0]!r} (allowed: {', '.join(sorted(CHANNEL_KEYS))})")
    kind = doc.get("kind")
    if kind is None:
        raise ChannelConfigError(f"{where}: key 'kind' is missing: slack or webhook")
    if kind not in ("slack", "webhook"):
        raise ChannelConfigError(f"{where}: key 'kind' must be slack or webhook, not {kind!r}")
    url_key, url = _configured(where, doc, "url")
    if url is None:
        raise ChannelConfigError(f"{where}: key 'url' (or 'url_env') is missing")
    _check_url(name, url_key, url)
    _, secret = _configured(where, doc, "secret")
    if kind == "webhook" and secret is None:
        raise ChannelConfigError(
            f"{where}: a webhook channel needs 'secret' or 'secret_env': receivers verify {SIGNATURE_HEADER} with it"
        )
    return Channel(name=name, kind=kind, url=url, secret=secret)


def webhook_body(request: Mapping[str, Any], event: str) -> bytes:
    """The canonical JSON body of a webhook: ``{"event": ..., "request": {...}}``, keys sorted, compact."""
    if not isinstance(event, str) or not event:
        raise NotifyError(f"a webhook event must be a non-empty string, not {event!r}")
    missing = [key for key in REQUEST_FIELDS if key not in request]
    if missing:
        raise ApprovalError(f"approval request has no field {missing[0]!r}")
    fields = {key: request[key] for key in (*REQUEST_FIELDS, *OPTIONAL_REQUEST_FIELDS) if key in request}
    try:
        return _canonical_json({"event": event, "request": fields})
    except (TypeError, ValueError) as exc:
        raise ApprovalError(f"approval request {request.get('id')!r} cannot be sent as JSON: {exc}") from None


def sign_webhook(secret: str, timestamp: int, body: bytes) -> str:
    """The ``X-Ringfence-Signature`` value: ``sha256=`` + hex HMAC-SHA256 of ``b"<timestamp>." + body``."""
    message = f"{timestamp}.".encode() + body
    return "sha256=" + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def verify_webhook(
    secret: str,
    headers: Mapping[str, str],
    body: bytes,
    *,
    now: float | None = None,
    tolerance: int = 300,
) -> None:
    """For receivers: check a ringfence webhook's signature; raise :class:`WebhookSignatureError` if it fails.

    The timestamp must be within ``tolerance`` seconds of ``now``.
    """
    if not secret:
        raise WebhookSignatureError("the webhook secret is empty")
    timestamp = _header(headers, TIMESTAMP_HEADER)
    signature = _header(headers, SIGNATURE_HEADER)
    if not re.fullmatch(r"[0-9]{1,12}", timestamp):
        raise WebhookSignatureError(f"{TIMESTAMP_HEADER} is not an integer: {timestamp[:40]!r}")
    age = (time.time() if now is None else now) - int(timestamp)
    if age > tolerance:
        raise WebhookSignatureError(f"{TIMESTAMP_HEADER} is stale: {age:.0f} s old, more than {tolerance} s")
    if -age > tolerance:
        raise WebhookSignatureError(
            f"{TIMESTAMP_HEADER} is from the future: {-age:.0f} s ahead, more than {tolerance} s"
        )
    if not signature.startswith("sha256="):
        raise WebhookSignatureError(f"{SIGNATURE_HEADER} must start with 'sha256='")
    expected = sign_webhook(secret, int(timestamp), body)
    if not hmac.compare_digest(expected.encode(), signature.encode("utf-8", "backslashreplace")):
        raise WebhookSignatureError(
            f"{SIGNATURE_HEADER} does not match: the body was altered or signed with another secret"
        )


def render(
    channel: Channel, request: Mapping[str, Any], event: str, *, now: float | None = None
) -> tuple[bytes, dict[str, str]]:
    """The body and headers notifying ``channel`` of ``event`` on ``request``.

    Slack gets the Block Kit message (whatever the event: ``escalation`` in the request
    marks a reminder); a webhook gets :func:`webhook_body`, signed at ``now``.
    """
    if channel.kind == "slack":
        return _canonical_json(block_kit_message(request)), {"Content-Type": JSON_CONTENT_TYPE}
    if channel.secret is None:
        raise ChannelConfigError(f"channel {channel.name!r}: a webhook channel needs a secret to sign with")
    body = webhook_body(request, event)
    return body, webhook_headers(channel.secret, event, body, now=now)


def webhook_headers(secret: str, event: str, body: bytes, *, now: float | None = None) -> dict[str, str]:
    """The headers of a signed webhook POST of ``body`` (signed at ``now``)."""
    timestamp = int(time.time() if now is None else now)
    return {
        "Content-Type": JSON_CONTENT_TYPE,
        EVENT_HEADER: event,
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: sign_webhook(secret, timestamp, body),
    }


@dataclass(frozen=True)
class PostResult:
    """What a POST got back: the status, the ``Retry-After`` seconds and the start of the body."""

    status: int
    retry_after: float | None = None
    detail: str = ""


Post = Callable[[str, bytes, Mapping[str, str], float], int | PostResult]


@dataclass(frozen=True)
class Delivery:
    """The outcome of :func:`deliver`. ``status`` is the last HTTP status, if any answered."""

    ok: bool
    attempts: int
    status: int | None
    error: str | None


def deliver(
    channel: Channel,
    body: bytes,
    headers: Mapping[str, str],
    *,
    attempts: int = 5,
    backoff: float = 0.5,
    max_backoff: float = 30.0,
    timeout: float = 5.0,
    sleep: Callable[[float], None] = time.sleep,
    post: Post | None = None,
) -> Delivery:
    """POST ``body`` to ``channel``, retrying transient failures; never raises.

    Connection errors, timeouts, 429 and 5xx are retried up to ``attempts`` times in
    all, sleeping ``uniform(0, min(max_backoff, backoff * 2**i))`` after attempt ``i``
    (or the 429's ``Retry-After``, capped at ``max_backoff``). Any other status outside
    2xx is permanent and not retried. ``post`` returns a status or a :class:`PostResult`
    (default: :func:`urllib_post`).
    """
    if attempts < 1:
        return Delivery(ok=False, attempts=0, status=None, error=f"attempts must be at least 1, got {attempts}")
    send = urllib_post if post is None else post
    target = mask_url(channel.url)
    status: int | None = None
    error = ""
    for attempt in range(attempts):
        retry_after: float | None = None
        try:
            result = send(channel.url, body, headers, timeout)
        except (OSError, http.client.HTTPException) as exc:
            status, error = None, _scrub(channel, _describe(exc, timeout))
        except Exception as exc:
            error = _scrub(channel, f"{type(exc).__name__}: {exc}")
            return Delivery(ok=False, attempts=attempt + 1, status=None, error=f"cannot send to {target}: {error}")
        else:
            if isinstance(result, int):
                result = PostResult(result)
            status, retry_after = result.status, result.retry_after
            error = f"HTTP {status}" + (f" ({_scrub(channel, result.detail)})" if result.detail else "")
            if 200 <= status < 300:
                return Delivery(ok=True, attempts=attempt + 1, status=status, error=None)
            if status != 429 and not 500 <= status < 600:
                reason = "redirects are not followed" if 300 <= status < 400 else "the receiver rejected the request"
                return Delivery(
                    ok=False, attempts=attempt + 1, status=status, error=f"{error} from {target}: not retried, {reason}"
                )
        if attempt + 1 < attempts:
            if retry_after is not None:
                sleep(min(retry_after, max_backoff))
            else:
                sleep(random.uniform(0, min(max_backoff, backoff * 2 ** min(attempt, 62))))
    plural = "attempt" if attempts == 1 else "attempts"
    return Delivery(
        ok=False, attempts=attempts, status=status, error=f"gave up on {target} after {attempts} {plural}: {error}"
    )


def urllib_post(url: str, body: bytes, headers: Mapping[str, str], timeout: float) -> PostResult:
    """POST with :mod:`urllib.request`, not following redirects.

    An HTTP error status is returned, not raised; connection errors and timeouts raise
    :class:`OSError` (``URLError``, ``TimeoutError``).
    """
    request = urllib.request.Request(url, data=body, headers={"User-Agent": USER_AGENT, **headers}, method="POST")
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            return PostResult(response.status, None, _detail(response.read(_DETAIL_BYTES)))
    except urllib.error.HTTPError as exc:
        with exc:
            try:
                detail = _detail(exc.read(_DETAIL_BYTES))
            except (OSError, http.client.HTTPException):
                detail = ""
            return PostResult(exc.code, _retry_after(exc.headers.get("Retry-After")), detail)


# Helpers.

_DETAIL_BYTES = 512


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Redirects are reported as their 3xx status: a POST must not be replayed elsewhere."""

    def redirect_request(
        self,
        req: urllib.request.Request,
        fp: IO[bytes],
        code: int,
        msg: str,
        headers: http.client.HTTPMessage,
        newurl: str,
    ) -> urllib.request.Request | None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirect)


def _canonical_json(doc: Any) -> bytes:
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()


def _configured(where: str, doc: Mapping[str, Any], key: str) -> tuple[str, str | None]:
    """The value of ``key``, given directly or through the environment variable ``<key>_env``."""
    env_key = f"{key}_env"
    if key in doc and env_key in doc:
        raise ChannelConfigError(f"{where}: give either {key!r} or {env_key!r}, not both")
    if key in doc:
        value = doc[key]
        if not isinstance(value, str) or not value:
            raise ChannelConfigError(f"{where}: key {key!r} must be a non-empty string")
        return key, value
    if env_key not in doc:
        return key, None
    variable = doc[env_key]
    if not isinstance(variable, str) or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", variable):
        raise ChannelConfigError(f"{where}: key {env_key!r} must name an environment variable, not {variable!r}")
    value = os.environ.get(variable)
    if not value:
        raise ChannelConfigError(f"{where}: environment variable {variable} (from {env_key!r}) is not set or empty")
    return env_key, value


def _check_url(name: str, key: str, url: str) -> None:
    try:
        parts = urllib.parse.urlsplit(url)
    except ValueError:
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        raise ChannelConfigError(f"channel {name!r}: key {key!r} must be an http(s) URL, got {mask_url(url)!r}")


def _header(headers: Mapping[str, str], name: str) -> str:
    """The value of header ``name``, looked up case-insensitively."""
    wanted = name.lower()
    for key, value in headers.items():
        if key.lower() == wanted:
            return value
    raise WebhookSignatureError(f"the {name} header is missing")


def _retry_after(value: str | None) -> float | None:
    """``Retry-After`` in seconds; an HTTP date (or anything else) counts as absent."""
    if value is None or not re.fullmatch(r"[0-9]{1,9}", value.strip()):
        return None
    return float(value.strip())


def _detail(raw: bytes) -> str:
    """The start of a response body, on one printable line."""
    text = " ".join(raw.decode("utf-8", "replace").split())
    text = "".join(char if char.isprintable() else "?" for char in text)
    return text[:200]


def _describe(exc: BaseException, timeout: float) -> str:
    reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
    if isinstance(reason, TimeoutError):
        return f"timed out after {timeout:g} s"
    if isinstance(reason, OSError | http.client.HTTPException):
        return f"connection failed: {type(reason).__name__}: {reason}"
    return f"connection failed: {reason}"


def _scrub(channel: Channel, text: str) -> str:
    """``text`` with the channel's URL masked and its secret removed."""
    text = text.replace(channel.url, mask_url(channel.url))
    return text.replace(channel.secret, "***") if channel.secret else text
