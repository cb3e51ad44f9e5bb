"""The approval dashboard in-process (Starlette TestClient): sign-in, CSRF, answering
requests, flash messages, the kill switch and every page."""

from __future__ import annotations

import os
import re
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from starlette.testclient import TestClient

from ringfence.ledger.store import open_ledger
from ringfence.model import Action, ActionKind, Decision, Principal, PrincipalType
from ringfence.server import dashboard_agents
from ringfence.server.app import create_app
from ringfence.server.identity import set_user
from ringfence.server.state import ServerState, open_state
from tests.control.flow import EXAMPLE_POLICY
from tests.helpers import isolated_env

PASSWORD = "correct horse battery staple"
DEPLOY = "vercel deploy --prod"
VIEWPORT = '<meta name="viewport" content="width=device-width, initial-scale=1">'


@dataclass
class Dash:
    state: ServerState
    client: TestClient
    workspace: Path

    def decide(self, command: str, agent: str = "deploy-bot") -> Decision:
        action = Action(ActionKind.SHELL, {"command": command}, cwd=str(self.workspace), tool="Bash")
        return self.state.gate.decide(action, Principal(PrincipalType.AGENT, agent, runtime="claude-code"))

    def held(self, command: str = DEPLOY) -> str:
        d = self.decide(command)
        assert d.outcome.value == "require_approval" and d.request_id, d.reason
        return d.request_id

    def sign_in(self, user: str) -> str:
        """Sign in as ``user``; returns the session's CSRF token from the page."""
        self.client.cookies.clear()
        r = self.client.post("/login", data={"user": user, "password": PASSWORD, "next": "/"})
        assert r.status_code == 303 and r.headers["location"] == "/", r.text
        return csrf_of(self.client.get("/halts").text)

    def answer(self, rid: str, verdict: str, csrf: str, reason: str = "") -> str:
        r = self.client.post(f"/requests/{rid}/{verdict}", data={"csrf": csrf, "reason": reason, "back": "/"})
        assert r.status_code == 303 and r.headers["location"] == "/"
        return flash_of(self.client.get("/").text)


def csrf_of(html: str) -> str:
    m = re.search(r'name="csrf" value="([^"]+)"', html)
    assert m, html
    return m.group(1)


def flash_of(html: str) -> str:
    m = re.search(r'<p class="flash (ok|error)" role="\w+">(.*?)</p>', html, re.S)
    assert m, html
    return f"{m.group(1)}: {m.group(2)}"


@pytest.fixture
def dash(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Dash]:
    env = isolated_env(tmp_path)
    for name in [k for k in os.environ if k.startswith("RINGFENCE_")]:
        monkeypatch.delenv(name)
    for key in ("HOME", "XDG_CONFIG_HOME", "XDG_STATE_HOME", "XDG_RUNTIME_DIR"):
        monkeypatch.setenv(key, env[key])
    config = Path(env["XDG_CONFIG_HOME"]) / "ringfence" / "config.yaml"
    config.parent.mkdir(parents=True)
    config.write_text(
        yaml.safe_dump(
            {
                "agent": {"id": "deploy-bot", "owner": "carol"},
                "policy": [str(EXAMPLE_POLICY)],
                "approvers": {name: {"groups": ["release-managers"]} for name in ("alice", "bob", "carol")},
            }
        )
    )
    ws = tmp_path / "repo"
    (ws / ".git").mkdir(parents=True)
    state = open_state(cwd=str(ws))
    for user in ("alice", "bob", "carol", "dave"):
        set_user(state.store, user, PASSWORD)
    with TestClient(create_app(state), follow_redirects=False) as client:
        yield Dash(state, client, ws)
    state.close()


def test_pages_need_a_signed_in_human_and_a_wrong_password_is_refused(dash: Dash) -> None:
    for path in ("/", "/ledger", "/halts", "/agents", "/policy", "/requests/AR-00000000"):
        r = dash.client.get(path)
        assert r.status_code == 303 and r.headers["location"].startswith("/login?next="), path
    page = dash.client.get("/login?next=/halts")
    assert page.status_code == 200 and VIEWPORT in page.text and 'value="/halts"' in page.text
    wrong = dash.client.post("/login", data={"user": "alice", "password": "not the password", "next": "/"})
    assert wrong.status_code == 401 and "wrong user name or password" in wrong.text
    assert "rf_session" not in wrong.headers.get("set-cookie", "")
    unknown = dash.client.post("/login", data={"user": "mallory", "password": PASSWORD})
    assert unknown.status_code == 401 and "wrong user name or password" in unknown.text
    # an agent token is not a human session
    assert dash.client.get("/", headers={"Authorization": "Bearer rf1.x.y"}).status_code == 303
    # after signing in, the person goes where they were going; an off-site "next" is ignored
    ok = dash.client.post("/login", data={"user": "alice", "password": PASSWORD, "next": "/halts"})
    assert ok.status_code == 303 and ok.headers["location"] == "/halts"
    assert "httponly" in ok.headers["set-cookie"].lower() and "samesite=strict" in ok.headers["set-cookie"].lower()
    dash.client.cookies.clear()
    away = dash.client.post("/login", data={"user": "alice", "password": PASSWORD, "next": "//evil.example/x"})
    assert away.headers["location"] == "/"
    dash.client.cookies.clear()
    forged = dash.client.post(
        "/login", data={"user": "alice", "password": PASSWORD}, headers={"Origin": "https://evil.example"}
    )
    assert forged.status_code == 403 and "rf_session" not in forged.headers.get("set-cookie", "")


def test_login_attempts_are_rate_limited(dash: Dash) -> None:
    codes = [dash.client.post("/login", data={"user": "alice", "password": "guess"}).status_code for _ in range(11)]
    assert codes[:10] == [401] * 10 and codes[10] == 429
    assert "too many requests" in dash.client.post("/login", data={"user": "alice", "password": PASSWORD}).text


def test_forms_without_the_session_csrf_token_are_refused(dash: Dash) -> None:
    rid = dash.held()
    csrf = dash.sign_in("alice")
    for data in ({"reason": "ok"}, {"reason": "ok", "csrf": "forged"}, {"csrf": csrf[:-1]}):
        r = dash.client.post(f"/requests/{rid}/approve", data=data)
        assert r.status_code == 403 and "CSRF" in r.text
    assert dash.state.store.get(rid).status == "pending" and not dash.state.store.approvals(rid)
    assert dash.client.post("/halts", data={"reason": "stop", "agent": "deploy-bot"}).status_code == 403
    assert dash.state.store.active_halts() == []
    assert dash.client.post("/logout", data={}).status_code == 403
    assert dash.client.get("/").status_code == 200  # still signed in
    # JSON is not a form: no way around the token by changing the content type
    r = dash.client.post(f"/requests/{rid}/approve", json={"csrf": csrf})
    assert r.status_code == 415
    out = dash.client.post("/logout", data={"csrf": csrf})
    assert out.status_code == 303 and out.headers["location"] == "/login"
    assert dash.client.get("/").status_code == 303


def test_two_approvers_approve_and_the_agent_may_retry(dash: Dash) -> None:
    rid = dash.held()
    csrf = dash.sign_in("alice")
    queue = dash.client.get("/").text
    assert rid in queue and f"<pre>{DEPLOY}</pre>" in queue and "2 more from release-managers" in queue
    assert "release.two-approvers-for-production" in queue and "deploy-bot" in queue and "left" in queue
    assert 'name="csrf" value="' + csrf in queue
    flash = dash.answer(rid, "approve", csrf, "checked the release notes")
    assert flash == f"ok: You approved {rid}. It still needs 1 more from release-managers."
    assert "1 more from release-managers" in dash.client.get("/").text
    csrf = dash.sign_in("bob")
    flash = dash.answer(rid, "approve", csrf)
    assert flash.startswith(f"ok: You approved {rid}. It is approved")
    assert rid not in dash.client.get("/").text.split("</main>")[0].split("flash")[-1]  # left the queue
    assert dash.state.store.get(rid).status == "approved"
    assert dash.decide(DEPLOY).outcome.value == "allow"
    answers = [e for e in dash.state.ledger.entries() if e.get("kind") == "approval"]
    assert [(e["principal_id"], e["decision"], e["request"], e["status"]) for e in answers] == [
        ("alice", "approve", rid, "pending"),
        ("bob", "approve", rid, "approved"),
    ]
    assert all(e["signature"] and e["statement"] for e in answers)
    agents = dash.client.get("/agents").text
    assert re.search(r"<strong>deploy-bot</strong></td>\s*<td data-label=\"decisions\">2</td>", agents)
    assert "(1 approved)" in agents  # the median time to approval counts this request
    detail = dash.client.get(f"/requests/{rid}").text
    assert detail.count("signature valid") == 2 and "checked the release notes" in detail and "approved" in detail


def test_a_denial_with_a_reason_ends_the_request(dash: Dash) -> None:
    rid = dash.held()
    csrf = dash.sign_in("bob")
    r = dash.client.post(
        f"/requests/{rid}/deny", data={"csrf": csrf, "reason": "not during the freeze", "back": f"/requests/{rid}"}
    )
    assert r.status_code == 303 and r.headers["location"] == f"/requests/{rid}"
    page = dash.client.get(f"/requests/{rid}").text
    assert f"You denied {rid}" in page and "not during the freeze" in page and "status-denied" in page
    assert dash.state.store.get(rid).status == "denied"
    assert dash.decide(DEPLOY).outcome.value != "allow"


def test_refused_answers_are_flash_messages_not_errors(dash: Dash) -> None:
    rid = dash.held()
    csrf = dash.sign_in("dave")
    assert "dave is not a configured approver" in dash.answer(rid, "approve", csrf)
    assert "is not a configured approver, so cannot answer" in dash.client.get("/").text
    csrf = dash.sign_in("carol")  # owns the agent
    flash = dash.answer(rid, "approve", csrf)
    assert flash.startswith("error: ") and f"carol cannot answer {rid}" in flash
    csrf = dash.sign_in("alice")
    assert dash.answer(rid, "approve", csrf).startswith("ok: ")
    assert "alice already answered" in dash.answer(rid, "approve", csrf)
    csrf = dash.sign_in("bob")
    dash.answer(rid, "approve", csrf)
    flash = dash.answer(rid, "deny", csrf)
    assert flash.startswith("error: ") and "not pending" in flash
    long = dash.client.post(f"/requests/{rid}/deny", data={"csrf": csrf, "reason": "x" * 2001})
    assert long.status_code == 303 and "at most 2000" in flash_of(dash.client.get("/").text)
    missing = dash.client.post("/requests/AR-ZZZZZZZZ/approve", data={"csrf": csrf})
    assert missing.status_code == 404 and "there is no approval request AR-ZZZZZZZZ" in missing.text
    bad = dash.client.post(f"/requests/{rid}/maybe", data={"csrf": csrf})
    assert bad.status_code == 404 and "approve or deny" in bad.text


def test_the_kill_switch_stops_an_agent_and_only_approvers_resume(dash: Dash) -> None:
    assert dash.decide("ls").outcome.value == "allow"
    csrf = dash.sign_in("dave")
    r = dash.client.post("/halts", data={"csrf": csrf, "agent": "deploy-bot", "reason": ""})
    assert r.status_code == 303 and "a reason is required" in flash_of(dash.client.get("/halts").text)
    dash.client.post("/halts", data={"csrf": csrf, "agent": "deploy-bot", "reason": "incident 42 <b>db</b>"})
    page = dash.client.get("/halts").text
    assert "Halted agent deploy-bot" in page and "incident 42 &lt;b&gt;db&lt;/b&gt;" in page and "<b>db" not in page
    assert "Only a configured approver can lift a halt" in page
    (h,) = dash.state.store.active_halts()
    stopped = dash.decide("ls")
    assert stopped.outcome.value == "deny" and "incident 42 <b>db</b>" in stopped.reason
    assert dash.decide("ls", agent="other-bot").outcome.value == "allow"
    dash.client.post(f"/halts/{h.id}/resume", data={"csrf": csrf, "reason": "fixed"})
    assert "needs a configured approver" in flash_of(dash.client.get("/halts").text)
    csrf = dash.sign_in("alice")
    dash.client.post(f"/halts/{h.id}/resume", data={"csrf": csrf, "reason": ""})
    assert "say why it is safe" in flash_of(dash.client.get("/halts").text)
    dash.client.post(f"/halts/{h.id}/resume", data={"csrf": csrf, "reason": "fixed the replica"})
    assert f"Resumed agent deploy-bot ({h.id})" in flash_of(dash.client.get("/halts").text)
    assert dash.decide("ls").outcome.value == "allow"
    dash.client.post(f"/halts/{h.id}/resume", data={"csrf": csrf, "reason": "again"})
    assert "no active halt" in flash_of(dash.client.get("/halts").text)
    kinds = [(e.get("kind"), e.get("principal_id")) for e in dash.state.ledger.entries()]
    assert ("halt", "dave") in kinds and ("resume", "alice") in kinds
    dash.client.post("/halts", data={"csrf": csrf, "everyone": "on", "environment": "production", "reason": "freeze"})
    (everyone,) = dash.state.store.active_halts()
    assert everyone.everyone and everyone.environment == "production" and everyone.by == "alice"


def test_every_page_renders_escaped_and_narrow_screen_ready(dash: Dash) -> None:
    rid = dash.held()
    hostile = dash.decide("vercel deploy --prod # <script>alert(1)</script>")
    dash.decide("git push --force origin main")
    dash.decide("ls -la")
    dash.sign_in("alice")
    pages = {
        "/": [rid, "Approval queue"],
        f"/requests/{rid}": ["History", "No answers yet", "action digest"],
        "/ledger": ["Verified: all 4 entries", "require_approval", f'href="/requests/{rid}"'],
        "/ledger?page=0": ["page 1 of 1"],
        "/ledger/0": ["The inclusion proof verifies", "Inclusion proof (RFC 9162)", rid],
        "/halts": ["No halt is active", "Halt now"],
        "/agents": ["<svg", "deploy-bot", '<rect class="bar deny"', "<polyline points="],
        "/policy": ["release.two-approvers-for-production", "Try an action"],
        "/policy?command=git+push+--force+origin+main&environment=production": [
            "git.force_push",
            "<pre>git push --force origin main</pre>",
            'class="badge decision-deny">deny</span> tier',
        ],
    }
    for path, expected in pages.items():
        r = dash.client.get(path)
        assert r.status_code == 200, (path, r.text)
        assert VIEWPORT in r.text and r.headers["content-type"].startswith("text/html")
        assert "frame-ancestors 'none'" in r.headers["content-security-policy"]
        for text in expected:
            assert text in r.text, (path, text)
        assert "<script>alert(1)</script>" not in r.text, path
    assert hostile.request_id and "&lt;script&gt;alert(1)&lt;/script&gt;" in dash.client.get("/").text
    css = dash.client.get("/static/dashboard.css")
    assert css.status_code == 200 and "max-width" in css.text
    size = dash.state.ledger.size()
    assert dash.client.get("/policy?command=rm+-rf+/").status_code == 200
    assert dash.state.ledger.size() == size  # trying an action records nothing


def test_bad_addresses_are_html_errors(dash: Dash) -> None:
    dash.sign_in("alice")
    for path, status, text in (
        ("/requests/AR-ZZZZZZZZ", 404, "there is no approval request AR-ZZZZZZZZ"),
        ("/requests/nonsense", 404, "is not an approval request id"),
        ("/ledger/7", 404, "there is no entry 7"),
        ("/ledger/x", 422, "seq must be a whole number"),
        ("/ledger?page=-1", 422, "page must be a whole number"),
        ("/policy?command=ls&cwd=relative", 200, "must be an absolute path"),
    ):
        r = dash.client.get(path)
        assert r.status_code == status and text in r.text and VIEWPORT in r.text, (path, r.text)


def test_the_ledger_page_names_a_tampered_entry(dash: Dash) -> None:
    dash.decide("ls")
    dash.decide("git status")
    dash.sign_in("alice")
    db = Path(dash.state.settings.ledger_location or "")
    with sqlite3.connect(db) as conn:  # an attacker with write access to the file drops the guards
        for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall():
            conn.execute(f"DROP TRIGGER {name}")
        body = conn.execute("SELECT body FROM entries WHERE seq = 1").fetchone()[0]
        conn.execute("UPDATE entries SET body = ? WHERE seq = 1", (bytes(body).replace(b"git status", b"git stash"),))
    page = dash.client.get("/ledger").text
    assert "TAMPERED" in page and "entry 1: modified" in page
    entry = dash.client.get("/ledger/1").text
    assert "does NOT verify" in entry and "no longer hash to its leaf" in entry
    assert "The inclusion proof verifies" in dash.client.get("/ledger/0").text


def test_agent_statistics_and_the_chart_come_from_the_ledger(tmp_path: Path) -> None:
    ledger = open_ledger(tmp_path / "ledger.db")
    t0 = 1_800_000_000

    def at(seconds: int) -> str:
        return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t0 + seconds))

    def agent(who: str, decision: str, seconds: int, **extra: str) -> dict[str, str]:
        return {"ts": at(seconds), "principal_type": "agent", "principal_id": who, "decision": decision, **extra}

    def approval(rid: str, status: str, seconds: int) -> dict[str, str]:
        return {"ts": at(seconds), "kind": "approval", "principal_type": "human", "principal_id": "alice",
                "decision": "approve", "request": rid, "status": status}  # fmt: skip

    ledger.append_many(
        [
            agent("a", "require_approval", 0, request="AR-00000001"),
            agent("a", "require_approval", 60, request="AR-00000002"),
            agent("a", "require_approval", 90, request="AR-00000002"),  # the retry while still held
            approval("AR-00000001", "approved", 120),
            approval("AR-00000002", "pending", 600),
            approval("AR-00000002", "approved", 660),
            agent("a", "allow", 700, request="AR-00000001"),
            agent("b", "deny", 30 * 3600),
            {"ts": at(40), "principal_type": "human", "principal_id": "alice", "decision": "allow"},
        ]
    )
    stats, points = dashboard_agents.collect(ledger)
    a, b = stats
    assert (a.agent, a.decisions, a.denials, sorted(a.requests)) == ("a", 4, 0, ["AR-00000001", "AR-00000002"])
    assert sorted(a.waits) == [120.0, 600.0] and a.median_wait == 360.0  # held → approved, per request
    assert (b.agent, b.decisions, b.denials, b.median_wait) == ("b", 1, 1, None)
    chart = dashboard_agents.chart(points)
    assert chart is not None and chart.per == "hour" and chart.peak == 4
    first = [bar for bar in chart.bars if bar.title.startswith(time.strftime("%Y-%m-%d %H:00", time.gmtime(t0)))]
    assert {bar.outcome for bar in first} == {"require_approval", "allow"}
    assert sum(bar.height for bar in first) == pytest.approx(chart.baseline - 4.0)  # the peak fills the plot
    assert dashboard_agents.chart([]) is None
    ledger.close()


def test_the_agents_page_shows_reviewed_changes(dash: Dash) -> None:
    ledger = dash.state.ledger
    review = {"kind": "review", "principal_type": "agent", "principal_id": "deploy-bot", "ts": "2026-12-01T10:00:00Z"}
    ledger.append({**review, "head": "a" * 40, "route": "auto_merge", "reverted": []})
    ledger.append({**review, "head": "b" * 40, "route": "senior", "reverted": ["a" * 40]})
    dash.sign_in("alice")
    page = dash.client.get("/agents").text
    assert "Changes reviewed" in page
    row = page.split("reviews")[-1]
    assert re.search(r'data-label="reviewed">2</td>\s*<td data-label="auto-merge">1</td>', row)
    assert re.search(r'data-label="senior">1</td>', row) and "(50%)" in row
