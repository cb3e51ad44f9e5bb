"""Sweeping control state: expire, escalate, and deliver queued notifications.

Creating a request, settling it and escalating it queue a notification per channel in
the store's outbox (in the same transaction), so the decision path never touches the
network. :func:`run_once` — called by ``ringfence approvals sweep``, by the warm daemon
every few seconds, and by the server — expires requests past their TTL, escalates
those waiting longer than ``approvals.escalate_after``, and posts what is due. A failed
post is retried on later sweeps with exponential backoff (durable across restarts) and
given up after :data:`MAX_ATTEMPTS`; a failed notification never blocks or loosens a
decision.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field

from ringfence.control.engine import request_view
from ringfence.control.notify import Post, deliver, render
from ringfence.control.settings import ControlSettings
from ringfence.control.store import CALLBACK_CHANNEL, ControlStore, OutboxItem
from ringfence.errors import ControlError

MAX_ATTEMPTS = 8
BACKOFF = 5.0
MAX_BACKOFF = 900.0


@dataclass
class SweepReport:
    expired: list[str] = field(default_factory=list)
    escalated: list[str] = field(default_factory=list)
    delivered: list[str] = field(default_factory=list)  # "channel:event:AR-…"
    retrying: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)

    @property
    def quiet(self) -> bool:
        return not (self.expired or self.escalated or self.delivered or self.retrying or self.failed)


def run_once(
    store: ControlStore,
    settings: ControlSettings,
    *,
    post: Post | None = None,
    timeout: float = 5.0,
    rng: Callable[[float, float], float] = random.uniform,
) -> SweepReport:
    report = SweepReport()
    report.expired, report.escalated = store.sweep(
        escalate_after=settings.escalate_after, notify=settings.escalate_to or settings.notify
    )
    for item in store.due_notifications():
        _deliver_one(store, settings, item, report, post=post, timeout=timeout, rng=rng)
    return report


def _deliver_one(
    store: ControlStore,
    settings: ControlSettings,
    item: OutboxItem,
    report: SweepReport,
    *,
    post: Post | None,
    timeout: float,
    rng: Callable[[float, float], float],
) -> None:
    if item.channel.startswith(CALLBACK_CHANNEL):  # an answer owed to an external system
        from ringfence.control import callbacks

        outcome, label = callbacks.deliver(
            store,
            settings,
            item,
            post=post,
            timeout=timeout,
            backoff=lambda attempts: rng(0, min(MAX_BACKOFF, BACKOFF * 2**attempts)),
            max_attempts=MAX_ATTEMPTS,
        )
        if outcome != "skipped":
            getattr(report, outcome).append(label)
        return
    label = f"{item.channel}:{item.event}:{item.request_id or '-'}"
    channel = settings.channels.get(item.channel)
    if channel is None:
        store.notification_done(
            item.id, ok=False, attempts=1, error=f"channel {item.channel!r} is no longer configured", retry_at=None
        )
        report.failed.append(label)
        return
    try:
        if item.request_id is None:
            raise ControlError("notification without a request")
        view = dict(request_view(store.get(item.request_id), store, settings))
        view["escalation"] = item.event == "escalated"
        body, headers = render(channel, view, item.event, now=store.clock())
    except ControlError as exc:
        store.notification_done(item.id, ok=False, attempts=1, error=str(exc), retry_at=None)
        report.failed.append(label)
        return
    result = deliver(channel, body, headers, attempts=1, timeout=timeout, post=post)
    if result.ok:
        store.notification_done(item.id, ok=True, attempts=1, error=None, retry_at=None)
        report.delivered.append(label)
        return
    attempts = item.attempts + 1
    permanent = result.status is not None and 400 <= result.status < 500 and result.status != 429
    if permanent or attempts >= MAX_ATTEMPTS:
        store.notification_done(item.id, ok=False, attempts=1, error=result.error, retry_at=None)
        report.failed.append(f"{label} ({result.error})")
        return
    delay = rng(0, min(MAX_BACKOFF, BACKOFF * 2**attempts))
    store.notification_done(item.id, ok=False, attempts=1, error=result.error, retry_at=store.clock() + delay)
    report.retrying.append(f"{label} ({result.error})")
