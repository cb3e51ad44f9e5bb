"""Approvals, grants, windows, halts and budgets, in process, on SQLite and PostgreSQL."""

from __future__ import annotations

import multiprocessing
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ringfence.control.approvals import signature_problem, tally
from ringfence.control.settings import Budget
from ringfence.control.store import open_store
from ringfence.errors import ApprovalError
from ringfence.model import Outcome, Principal, PrincipalType
from tests.control.harness import Harness, harness

PROD = "vercel deploy --prod"
STAGING = "fly deploy -a api-staging"
INFRA = "helm upgrade api ./chart --kube-context staging"


def utc(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


@pytest.fixture
def h(state_location: str, tmp_path: Path) -> Harness:
    return harness(state_location, tmp_path)


def test_k_of_n_from_distinct_approvers_then_exactly_one_use(h: Harness) -> None:
    held = h.decide(PROD)
    assert held.outcome is Outcome.REQUIRE_APPROVAL and held.request_id
    rid = held.request_id
    assert h.decide(PROD).request_id == rid  # deduplicated while pending
    with pytest.raises(ApprovalError, match="owns the agent"):
        h.answer(rid, "carol")
    first = h.answer(rid, "alice")
    assert first.request.status == "pending" and first.tally.missing == "1 more from release-managers"
    with pytest.raises(ApprovalError, match="already answered"):
        h.answer(rid, "alice")
    assert h.answer(rid, "bob").request.status == "approved"
    ok = h.decide(PROD)
    assert ok.outcome is Outcome.ALLOW and ok.request_id == rid and ok.control == "grant"
    again = h.decide(PROD)
    assert again.outcome is Outcome.REQUIRE_APPROVAL and again.request_id not in (None, rid)


def test_the_requester_can_never_approve(h: Harness) -> None:
    agent_bob = Principal(PrincipalType.AGENT, "bob", runtime="codex")
    rid = h.decide(PROD, principal=agent_bob).request_id
    assert rid
    with pytest.raises(ApprovalError, match="requested this action"):
        h.answer(rid, "bob")


def test_a_key_that_is_not_the_approvers_is_refused(h: Harness) -> None:
    from ringfence.control.answers import answer

    rid = h.decide(PROD).request_id
    assert rid
    with pytest.raises(ApprovalError, match="not the key configured for alice"):
        answer(h.store, h.settings, rid, "approve", h.keys["dave"], approver="alice")
    assert h.store.approvals(rid) == []


def test_pending_requests_expire_and_cannot_be_answered(h: Harness) -> None:
    rid = h.decide(PROD).request_id
    assert rid
    h.clock.advance(3601)
    assert h.store.get(rid).effective_status(h.clock()) == "expired"
    with pytest.raises(ApprovalError, match="expired"):
        h.answer(rid, "alice")
    assert h.store.approvals(rid) == []
    fresh = h.decide(PROD).request_id
    assert fresh and fresh != rid
    expired, _ = h.store.sweep(escalate_after=None)
    assert expired == [rid]
    assert [e.kind for e in h.store.events(rid)] == ["requested", "expired"]


def test_grants_expire(h: Harness) -> None:
    rid = h.decide(PROD).request_id
    assert rid
    h.approve_all(rid, "alice", "bob")
    h.clock.advance(h.settings.grant_ttl + 1)
    later = h.decide(PROD)
    assert later.outcome is Outcome.REQUIRE_APPROVAL and later.request_id != rid


def test_denial_wins(h: Harness) -> None:
    rid = h.decide(PROD).request_id
    assert rid
    h.answer(rid, "alice")
    assert h.answer(rid, "bob", "deny", comment="not now").request.status == "denied"
    with pytest.raises(ApprovalError, match="denied"):
        h.answer(rid, "carol")
    retry = h.decide(PROD)
    assert retry.outcome is Outcome.DENY and retry.request_id == rid
    assert "denied by bob" in retry.reason


def test_deny_threshold_can_require_more_denials(state_location: str, tmp_path: Path) -> None:
    h = harness(state_location, tmp_path, deny_threshold=2)
    rid = h.decide(PROD).request_id
    assert rid
    assert h.answer(rid, "alice", "deny").request.status == "pending"
    assert h.answer(rid, "bob", "deny").request.status == "denied"


def test_at_least_one_from_a_second_group(h: Harness) -> None:
    rid = h.decide(INFRA).request_id
    assert rid
    first = h.answer(rid, "alice")
    assert first.request.status == "pending" and first.tally.missing == "1 more from sre"
    assert h.answer(rid, "dave").request.status == "approved"
    # one person in both groups satisfies both on their own
    h.decide(INFRA)  # uses the grant
    rid2 = h.decide(INFRA).request_id
    assert rid2 and h.answer(rid2, "bob").request.status == "approved"


def test_tampered_approval_signature_is_never_counted(h: Harness) -> None:
    rid = h.decide(PROD).request_id
    assert rid
    h.answer(rid, "alice")
    with h.store.writing() as tx:  # someone with database access rewrites alice's answer's statement
        tx.execute(
            'UPDATE approvals SET statement = REPLACE(statement, \'"comment":""\', \'"comment":"edited"\') '
            "WHERE approver = ?",
            ("alice",),
        )
    request = h.store.get(rid)
    [record] = h.store.approvals(rid)
    assert signature_problem(record, request, h.settings) == "its signature does not verify with alice's configured key"
    assert h.answer(rid, "bob").request.status == "pending"  # alice no longer counts
    t = tally(h.store.get(rid), h.store.approvals(rid), h.settings)
    assert t.approved_by == ("bob",) and t.ignored[0][0] == "alice"
    assert h.decide(PROD).outcome is Outcome.REQUIRE_APPROVAL


def test_a_forged_verdict_does_not_verify(h: Harness) -> None:
    rid = h.decide(PROD).request_id
    assert rid
    h.answer(rid, "alice", "deny")
    with h.store.writing() as tx:
        tx.execute("UPDATE approvals SET verdict = 'approve' WHERE approver = 'alice'")
    [record] = h.store.approvals(rid)
    assert "verdict" in (signature_problem(record, h.store.get(rid), h.settings) or "")


# --- change windows ---------------------------------------------------------------


def test_approved_action_is_held_until_the_window_opens(h: Harness) -> None:
    h.clock.now = utc("2026-11-27T10:00:00")  # a Friday: the Mon–Thu window is shut
    rid = h.decide(STAGING).request_id
    assert rid
    h.answer(rid, "dave")
    held = h.decide(STAGING)
    assert held.outcome is Outcome.DENY and held.control == "window" and held.request_id == rid
    assert "opens at 2026-11-30 08:00 UTC" in held.reason  # Monday 09:00 CET
    assert h.store.get(rid).uses_left == 1  # holding does not spend the grant
    h.clock.now = utc("2026-11-30T08:00:00")
    assert h.decide(STAGING).outcome is Outcome.ALLOW


@pytest.mark.parametrize(
    ("when", "is_open"),
    [
        ("2026-10-22T07:30:00", True),  # Thu 09:30 CEST (UTC+2)
        ("2026-10-22T06:30:00", False),  # Thu 08:30 CEST
        ("2026-10-22T14:30:00", False),  # Thu 16:30 CEST
        ("2026-10-26T07:30:00", False),  # Mon after the change: 08:30 CET (UTC+1)
        ("2026-10-26T08:30:00", True),  # Mon 09:30 CET
        ("2026-10-26T14:30:00", True),  # Mon 15:30 CET: would be shut in summer time
        ("2026-03-30T07:00:00", True),  # Mon after spring forward: 09:00 CEST
        ("2026-03-26T07:30:00", False),  # Thu before it: 08:30 CET
    ],
)
def test_window_follows_local_time_across_dst(h: Harness, when: str, is_open: bool) -> None:
    h.settings = h.gate.settings.control
    h.clock.now = utc(when) - 60
    rid = h.decide(STAGING).request_id
    assert rid
    h.answer(rid, "dave")
    h.clock.now = utc(when)
    d = h.decide(STAGING)
    assert (d.outcome is Outcome.ALLOW) is is_open, d.reason


def test_freeze_dates_hold_even_inside_the_window(state_location: str, tmp_path: Path) -> None:
    h = harness(state_location, tmp_path, freeze=("2026-11-23..2026-11-24",))
    rid = h.decide(STAGING).request_id  # Monday 11:00 Berlin: inside hours, but frozen
    assert rid
    h.answer(rid, "dave")
    held = h.decide(STAGING)
    assert held.outcome is Outcome.DENY and "frozen 2026-11-23–2026-11-24" in held.reason
    assert "opens at 2026-11-25 08:00 UTC" in held.reason


# --- kill switch --------------------------------------------------------------------


def test_halt_scoping(h: Harness) -> None:
    other = Principal(PrincipalType.AGENT, "docs-bot", runtime="claude-code")
    human = Principal(PrincipalType.HUMAN, "alice")
    assert h.decide("ls").outcome is Outcome.ALLOW
    halt = h.store.halt(agent="deploy-bot", environment=None, everyone=False, reason="runaway loop", by="alice")
    stopped = h.decide("ls")
    assert stopped.outcome is Outcome.DENY and stopped.control == "halt"
    assert "runaway loop" in stopped.reason and "by alice" in stopped.reason and "ringfence resume" in stopped.reason
    assert h.decide("ls", principal=other).outcome is Outcome.ALLOW
    h.store.lift([halt.id], by="bob", reason="fixed")
    assert h.decide("ls").outcome is Outcome.ALLOW

    h.store.halt(agent=None, environment="production", everyone=False, reason="incident", by="alice")
    assert h.decide("ls").outcome is Outcome.ALLOW  # touches no environment
    assert h.decide(PROD, principal=other).control == "halt"
    assert h.decide(STAGING).control != "halt"  # staging is not production
    assert h.decide(PROD, principal=human).control != "halt"  # humans are not halted without --all

    h.store.halt(agent=None, environment=None, everyone=True, reason="freeze everything", by="alice")
    assert h.decide("ls", principal=human).control == "halt"
    lifted = h.store.lift([x.id for x in h.store.active_halts()], by="bob", reason="over")
    assert len(lifted) == 2 and h.store.active_halts() == []
    assert h.decide("ls", principal=human).outcome is Outcome.ALLOW


def test_halt_beats_an_approved_grant(h: Harness) -> None:
    rid = h.decide(PROD).request_id
    assert rid
    h.approve_all(rid, "alice", "bob")
    h.store.halt(agent=None, environment=None, everyone=False, reason="stop", by="alice")
    assert h.decide(PROD).control == "halt"
    assert h.store.get(rid).uses_left == 1


# --- budgets ------------------------------------------------------------------------


def test_budget_sliding_window(state_location: str, tmp_path: Path) -> None:
    budget = Budget("shell", limit=3, per=60, action="shell")
    h = harness(state_location, tmp_path, budgets=(budget,))
    for _ in range(3):
        assert h.decide("ls").outcome is Outcome.ALLOW
        h.clock.advance(10)
    over = h.decide("ls")
    assert over.outcome is Outcome.DENY and over.control == "budget"
    assert "at most 3 actions per 1m" in over.reason and "room again at" in over.reason
    other = Principal(PrincipalType.AGENT, "docs-bot", runtime="claude-code")
    assert h.decide("ls", principal=other).outcome is Outcome.ALLOW  # per agent
    h.clock.advance(31)  # the first use slid out of the window
    assert h.decide("ls").outcome is Outcome.ALLOW


def test_budget_can_require_approval_instead(state_location: str, tmp_path: Path) -> None:
    budget = Budget("deploys", limit=1, per=3600, effect="deploy*", on_exceed="require_approval")
    h = harness(state_location, tmp_path, budgets=(budget,))
    assert h.decide("vercel deploy").outcome is Outcome.ALLOW
    over = h.decide("vercel deploy")
    assert over.outcome is Outcome.REQUIRE_APPROVAL and over.control == "budget" and over.request_id
    h.answer(over.request_id, "alice")
    ok = h.decide("vercel deploy")
    assert ok.outcome is Outcome.ALLOW and ok.control == "grant"


def test_cost_budget_in_policy_units(state_location: str, tmp_path: Path) -> None:
    budget = Budget("cost", limit=25, per=86400, cost=(("deploy", 10.0), ("*", 0.0)))
    h = harness(state_location, tmp_path, budgets=(budget,))
    assert h.decide("vercel deploy").outcome is Outcome.ALLOW
    assert h.decide("ls").outcome is Outcome.ALLOW  # costs nothing
    assert h.decide("vercel deploy").outcome is Outcome.ALLOW
    assert h.decide("vercel deploy").outcome is Outcome.DENY  # 30 > 25
    assert h.store.usage("cost", "deploy-bot", 86400) == 20


# --- across processes -----------------------------------------------------------------


def _consume(location: str, rid: str, barrier: object, results: object) -> None:
    store = open_store(location)
    barrier.wait()  # type: ignore[attr-defined]
    results.put(store.consume_grant(rid, "racer"))  # type: ignore[attr-defined]
    store.close()


def _spend(location: str, barrier: object, results: object) -> None:
    store = open_store(location)
    barrier.wait()  # type: ignore[attr-defined]
    results.put(store.spend([("prod", "deploy-bot", 1.0, 3.0, 3600.0)]) is None)  # type: ignore[attr-defined]
    store.close()


def test_two_processes_racing_for_one_single_use_grant(h: Harness, state_location: str) -> None:
    import time

    for _round in range(3):
        h.clock.now = time.time()  # the racers use the real clock, so the request must be made on it too
        rid = h.decide(PROD).request_id
        assert rid
        h.approve_all(rid, "alice", "bob")
        ctx = multiprocessing.get_context("fork")
        barrier, results = ctx.Barrier(2), ctx.Queue()
        procs = [ctx.Process(target=_consume, args=(state_location, rid, barrier, results)) for _ in range(2)]
        for p in procs:
            p.start()
        outcomes = sorted(results.get(timeout=30) for _ in procs)
        for p in procs:
            p.join(30)
        assert outcomes == [False, True]
        assert h.store.get(rid).uses_left == 0


def test_budget_holds_across_processes(state_location: str) -> None:
    open_store(state_location).close()  # migrate once before the race
    ctx = multiprocessing.get_context("fork")
    barrier, results = ctx.Barrier(6), ctx.Queue()
    procs = [ctx.Process(target=_spend, args=(state_location, barrier, results)) for _ in range(6)]
    for p in procs:
        p.start()
    outcomes = [results.get(timeout=30) for _ in procs]
    for p in procs:
        p.join(30)
    assert sorted(outcomes) == [False, False, False, True, True, True]


def test_a_secret_in_the_command_never_reaches_the_request(h: Harness) -> None:
    rid = h.decide("vercel deploy --prod --token=ghp_" + "a" * 36).request_id
    assert rid
    request = h.store.get(rid)
    assert "ghp_aaaa" not in request.summary and "redacted" in request.summary
    assert "ghp_aaaa" not in repr(request.body)
