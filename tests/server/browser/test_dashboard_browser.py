"""The dashboard in a real browser against a real server: an agent held, two humans
approve, the agent passes, the ledger proves it; the kill switch; a phone-sized screen."""

from __future__ import annotations

import re
from typing import Any

from tests.server.browser.conftest import Server, playwright_expect, sign_in, sign_out

expect = playwright_expect()

DEPLOY = "vercel deploy --prod"
REQUEST_ID = re.compile(r"\bAR-[0-9A-Z]{8}\b")


def _proof_verifies(page: Any, live_server: Server, row: Any) -> None:
    seq = row.locator("td").first.inner_text().strip()
    page.goto(f"{live_server.base}/ledger/{seq}")
    expect(page.locator(".flash.proof")).to_contain_text("The inclusion proof verifies")
    expect(page.locator("ol.proof-path li").first).to_be_visible()


def test_held_action_is_approved_by_two_humans_and_the_ledger_proves_it(browser: Any, live_server: Server) -> None:
    held = live_server.hook("deploy-bot", DEPLOY)
    assert held["permissionDecision"] != "allow", held
    m = REQUEST_ID.search(held["permissionDecisionReason"])
    assert m, held
    rid = m.group(0)

    context = browser.new_context()
    page = context.new_page()
    sign_in(page, live_server.base, "alice")
    card = page.locator(f"article#{rid}")
    expect(card.locator("pre").first).to_have_text(DEPLOY)
    expect(card.locator(".missing")).to_have_text("2 more from release-managers")
    expect(card).to_contain_text("deploy-bot")
    expect(card).to_contain_text("release.two-approvers-for-production")
    card.locator("textarea[name=reason]").fill("release notes checked")
    card.locator("button.approve").click()
    expect(page.locator(".flash.ok")).to_have_text(f"You approved {rid}. It still needs 1 more from release-managers.")
    expect(page.locator(f"article#{rid} .missing")).to_have_text("1 more from release-managers")
    sign_out(page, live_server.base)

    sign_in(page, live_server.base, "bob")
    page.locator(f"article#{rid} button.approve").click()
    expect(page.locator(".flash.ok")).to_contain_text(f"You approved {rid}. It is approved")
    expect(page.locator(f"article#{rid}")).to_have_count(0)

    retried = live_server.hook("deploy-bot", DEPLOY)
    assert retried["permissionDecision"] == "allow", retried

    page.goto(f"{live_server.base}/requests/{rid}")
    expect(page.locator(".ok", has_text="signature valid")).to_have_count(2)
    expect(page.locator("blockquote")).to_have_text("release notes checked")

    page.goto(f"{live_server.base}/ledger")
    expect(page.locator(".flash.verified")).to_contain_text("Verified: all")
    rows = page.locator("table.entries tbody tr")
    held_row = rows.filter(has_text="require_approval").filter(has_text=rid)
    allowed_row = (
        rows.filter(has_text="deploy-bot").filter(has_text=DEPLOY).filter(has=page.locator(".badge.decision-allow"))
    )
    approvals = rows.filter(has_text="approval").filter(has_text=f"approve {rid}")
    expect(held_row).to_have_count(1)
    expect(allowed_row).to_have_count(1)
    expect(approvals).to_have_count(2)
    held_seq = held_row.locator("td").first.inner_text()
    allowed_seq = allowed_row.locator("td").first.inner_text()
    assert int(allowed_seq) > int(held_seq)
    _proof_verifies(page, live_server, held_row)
    page.goto(f"{live_server.base}/ledger")
    _proof_verifies(page, live_server, allowed_row)  # the locators find the rows again on the new page
    context.close()


def test_the_kill_switch_stops_the_next_action_and_resuming_lets_it_through(browser: Any, live_server: Server) -> None:
    assert live_server.hook("ops-bot", "ls -la")["permissionDecision"] == "allow"
    context = browser.new_context()
    page = context.new_page()
    sign_in(page, live_server.base, "alice")
    page.click("nav >> text=Kill switch")
    expect(page.locator(".empty")).to_contain_text("No halt is active")
    page.fill("#halt-agent", "ops-bot")
    page.fill("#halt-reason", "incident 7: a migration went wrong")
    page.click("button:has-text('Halt now')")
    expect(page.locator(".flash.ok")).to_contain_text("Halted agent ops-bot")
    halt = page.locator("article.halt")
    expect(halt).to_have_count(1)
    expect(halt.locator(".reason")).to_have_text("incident 7: a migration went wrong")

    stopped = live_server.hook("ops-bot", "ls -la")
    assert stopped["permissionDecision"] == "deny", stopped
    assert "incident 7: a migration went wrong" in stopped["permissionDecisionReason"]
    assert live_server.hook("other-bot", "ls -la")["permissionDecision"] == "allow"  # only ops-bot was halted

    halt.locator("input[name=reason]").fill("migration rolled back")
    halt.locator("button:has-text('Resume')").click()
    expect(page.locator(".flash.ok")).to_contain_text("Resumed agent ops-bot")
    expect(page.locator("article.halt")).to_have_count(0)
    assert live_server.hook("ops-bot", "ls -la")["permissionDecision"] == "allow"
    context.close()


def test_a_phone_sized_screen_has_no_horizontal_scroll(browser: Any, live_server: Server) -> None:
    long_command = f"{DEPLOY} --meta note={'x' * 240} --local-config /srv/" + "/".join(["deeply-nested"] * 12)
    held = live_server.hook("deploy-bot", long_command)
    assert held["permissionDecision"] != "allow", held
    context = browser.new_context(viewport={"width": 375, "height": 740}, is_mobile=True, has_touch=True)
    page = context.new_page()
    sign_in(page, live_server.base, "alice")
    expect(page.locator("article.card").first).to_be_visible()
    for path in ("/", "/halts", "/ledger", "/agents", "/policy?command=git+push+--force+origin+main"):
        page.goto(f"{live_server.base}{path}")
        widths = page.evaluate(
            "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth,"
            " document.body.scrollWidth]"
        )
        assert widths[0] <= widths[1] and widths[2] <= widths[1], (path, widths)
    page.goto(f"{live_server.base}/")
    button = page.locator("article.card button.approve").first
    box = button.bounding_box()
    assert box is not None and box["height"] >= 44 and box["width"] >= 44, box
    context.close()
