"""Slack: the approval message, v0 request signing, and button clicks coming back."""

from __future__ import annotations

import hashlib
import hmac
import json
import urllib.parse
from typing import Any

import pytest

from ringfence.control.slack import (
    Interaction,
    SlackPayloadError,
    SlackSignatureError,
    block_kit_message,
    parse_interaction,
    response_message,
    verify_signature,
)
from ringfence.errors import ApprovalError, ControlError

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
NOW = 1_700_000_000
BODY = b"payload=%7B%22type%22%3A%22block_actions%22%7D"


def make_request(**overrides: Any) -> dict[str, Any]:
    request: dict[str, Any] = {
        "id": "AR-7K2Q9XMB",
        "summary": "shell: kubectl rollout restart deploy/api -n prod",
        "requester": "agent:claude-code (owner alice)",
        "tier": "high",
        "rules": ["prod-deploys", "k8s-mutations"],
        "effects": ["k8s.rollout"],
        "requirement": "2 approvals from release-managers, at least 1 from sre",
        "reason": "restarts every pod of the production API",
        "expires_at": NOW + 3600.0,
        "status": "pending",
        "approvals": [],
    }
    request.update(overrides)
    return request


def signed_headers(body: bytes = BODY, *, secret: str = SECRET, timestamp: int = NOW) -> dict[str, str]:
    """Headers signed independently of the code under test, as Slack documents it."""
    basestring = f"v0:{timestamp}:".encode() + body
    digest = hmac.new(secret.encode(), basestring, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": str(timestamp), "X-Slack-Signature": f"v0={digest}"}


# Signing.


def test_a_correctly_signed_request_verifies() -> None:
    verify_signature(SECRET, signed_headers(), BODY, now=NOW)


def test_headers_are_looked_up_case_insensitively() -> None:
    headers = {key.lower(): value for key, value in signed_headers().items()}
    verify_signature(SECRET, headers, BODY, now=NOW)


def test_the_signature_error_is_a_control_error() -> None:
    assert issubclass(SlackSignatureError, ControlError)


def test_a_request_signed_with_another_secret_is_rejected() -> None:
    with pytest.raises(SlackSignatureError, match="X-Slack-Signature does not match"):
        verify_signature(SECRET, signed_headers(secret="another-secret"), BODY, now=NOW)


def test_a_tampered_body_is_rejected() -> None:
    with pytest.raises(SlackSignatureError, match="does not match"):
        verify_signature(SECRET, signed_headers(), BODY + b"x", now=NOW)


def test_a_timestamp_at_the_tolerance_is_accepted() -> None:
    verify_signature(SECRET, signed_headers(timestamp=NOW - 300), BODY, now=NOW)
    verify_signature(SECRET, signed_headers(timestamp=NOW + 300), BODY, now=NOW)


def test_a_stale_timestamp_is_rejected() -> None:
    with pytest.raises(SlackSignatureError, match=r"is stale: 301 s old, more than the 300 s allowed"):
        verify_signature(SECRET, signed_headers(timestamp=NOW - 301), BODY, now=NOW)


def test_a_timestamp_from_the_future_is_rejected() -> None:
    with pytest.raises(SlackSignatureError, match=r"is from the future: 301 s ahead"):
        verify_signature(SECRET, signed_headers(timestamp=NOW + 301), BODY, now=NOW)


def test_the_tolerance_can_be_tightened() -> None:
    with pytest.raises(SlackSignatureError, match="stale: 61 s old, more than the 60 s allowed"):
        verify_signature(SECRET, signed_headers(timestamp=NOW - 61), BODY, now=NOW, tolerance=60)


def test_a_replayed_signature_is_rejected() -> None:
    recorded: set[str] = set()

    def seen(signature: str) -> bool:
        if signature in recorded:
            return True
        recorded.add(signature)
        return False

    headers = signed_headers()
    verify_signature(SECRET, headers, BODY, now=NOW, seen=seen)
    assert recorded == {headers["X-Slack-Signature"]}
    with pytest.raises(SlackSignatureError, match="replayed request"):
        verify_signature(SECRET, headers, BODY, now=NOW + 1, seen=seen)


def test_seen_is_consulted_only_for_a_verified_signature() -> None:
    calls: list[str] = []

    def seen(signature: str) -> bool:
        calls.append(signature)
        return False

    with pytest.raises(SlackSignatureError):
        verify_signature(SECRET, signed_headers(secret="forged"), BODY, now=NOW, seen=seen)
    with pytest.raises(SlackSignatureError):
        verify_signature(SECRET, signed_headers(timestamp=NOW - 1000), BODY, now=NOW, seen=seen)
    assert calls == []


@pytest.mark.parametrize("missing", ["X-Slack-Request-Timestamp", "X-Slack-Signature"])
def test_a_missing_header_is_named(missing: str) -> None:
    headers = signed_headers()
    del headers[missing]
    with pytest.raises(SlackSignatureError, match=f"the {missing} header is missing"):
        verify_signature(SECRET, headers, BODY, now=NOW)


@pytest.mark.parametrize("timestamp", ["", "abc", "1.7e9", "-1700000000", " 1700000000", "1_700_000_000"])
def test_a_timestamp_that_is_not_an_integer_is_rejected(timestamp: str) -> None:
    headers = signed_headers() | {"X-Slack-Request-Timestamp": timestamp}
    with pytest.raises(SlackSignatureError, match="X-Slack-Request-Timestamp is not an integer"):
        verify_signature(SECRET, headers, BODY, now=NOW)


def test_a_signature_of_another_version_is_rejected() -> None:
    headers = signed_headers()
    headers["X-Slack-Signature"] = headers["X-Slack-Signature"].replace("v0=", "v1=")
    with pytest.raises(SlackSignatureError, match="unsupported version 'v1': expected v0"):
        verify_signature(SECRET, headers, BODY, now=NOW)


def test_a_signature_without_a_version_is_rejected() -> None:
    headers = signed_headers() | {"X-Slack-Signature": "deadbeef"}
    with pytest.raises(SlackSignatureError, match="X-Slack-Signature is malformed"):
        verify_signature(SECRET, headers, BODY, now=NOW)


def test_a_non_ascii_signature_is_rejected_not_crashed_on() -> None:
    headers = signed_headers() | {"X-Slack-Signature": "v0=ünïcode"}
    with pytest.raises(SlackSignatureError, match="does not match"):
        verify_signature(SECRET, headers, BODY, now=NOW)


def test_an_empty_secret_is_refused() -> None:
    with pytest.raises(SlackSignatureError, match="signing secret is empty"):
        verify_signature("", signed_headers(secret=""), BODY, now=NOW)


# The approval message.


def blocks_of(message: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [block for block in message["blocks"] if block["type"] == kind]


def test_the_message_has_header_summary_fields_context_and_actions() -> None:
    message = block_kit_message(make_request())
    assert [block["type"] for block in message["blocks"]] == ["header", "section", "section", "context", "actions"]
    header = message["blocks"][0]["text"]
    assert header == {"type": "plain_text", "text": "Approval needed: AR-7K2Q9XMB", "emoji": True}
    summary = message["blocks"][1]["text"]
    assert summary == {"type": "mrkdwn", "text": "```shell: kubectl rollout restart deploy/api -n prod```"}
    assert message["text"].startswith("Approval needed: AR-7K2Q9XMB: shell: kubectl rollout restart")
    json.dumps(message)  # a webhook body


def test_the_fields_show_requester_tier_rules_needs_and_expiry() -> None:
    fields = [field["text"] for field in block_kit_message(make_request())["blocks"][2]["fields"]]
    assert "*Requester*\nagent:claude-code (owner alice)" in fields
    assert "*Tier*\nhigh" in fields
    assert "*Rules*\nprod-deploys, k8s-mutations" in fields
    assert "*Needs*\n2 approvals from release-managers, at least 1 from sre" in fields
    expiry = NOW + 3600
    assert f"*Expires*\n<!date^{expiry}^{{date_short_pretty}} {{time}}|2023-11-14 23:13 UTC>" in fields
    assert len(fields) <= 10


def test_the_context_gives_the_reason_and_the_approvals_so_far() -> None:
    approvals = [{"approver": "bob", "verdict": "approve"}, {"approver": "carol", "verdict": "deny"}]
    context = block_kit_message(make_request(approvals=approvals))["blocks"][3]["elements"]
    assert context[0]["text"] == "*Reason:* restarts every pod of the production API"
    assert context[1]["text"] == "*So far:* bob approved, carol denied"


def test_the_buttons_carry_the_request_id() -> None:
    actions = blocks_of(block_kit_message(make_request()), "actions")[0]["elements"]
    approve, deny = actions
    assert approve["action_id"] == "ringfence_approve"
    assert approve["style"] == "primary"
    assert approve["value"] == "AR-7K2Q9XMB"
    assert approve["text"]["text"] == "Approve"
    assert deny["action_id"] == "ringfence_deny"
    assert deny["style"] == "danger"
    assert deny["value"] == "AR-7K2Q9XMB"
    assert set(deny["confirm"]) >= {"title", "text", "confirm", "deny"}
    assert "confirm" not in approve


def test_a_dashboard_url_adds_an_open_link_button() -> None:
    url = "https://ringfence.example/approvals/AR-7K2Q9XMB"
    actions = blocks_of(block_kit_message(make_request(url=url)), "actions")[0]["elements"]
    assert [button["text"]["text"] for button in actions] == ["Approve", "Deny", "Open"]
    assert actions[2]["url"] == url
    assert "value" not in actions[2]


def test_an_escalation_says_so_in_the_header() -> None:
    message = block_kit_message(make_request(escalation=True))
    assert message["blocks"][0]["text"]["text"] == "Escalated: approval still needed: AR-7K2Q9XMB"
    assert message["text"].startswith("Escalated:")


def test_slack_control_characters_are_escaped_everywhere() -> None:
    request = make_request(
        summary="shell: echo '<script>alert(1)</script>' && curl <!channel>",
        requester="agent:<@U123> & co",
        reason="because <https://evil.example|click here>",
    )
    message = block_kit_message(request)
    summary = message["blocks"][1]["text"]["text"]
    assert summary == "```shell: echo '&lt;script&gt;alert(1)&lt;/script&gt;' &amp;&amp; curl &lt;!channel&gt;```"
    fields = " ".join(field["text"] for field in message["blocks"][2]["fields"])
    assert "agent:&lt;@U123&gt; &amp; co" in fields
    assert message["blocks"][3]["elements"][0]["text"] == "*Reason:* because &lt;https://evil.example|click here&gt;"
    assert "<script>" not in message["text"]
    assert "<!channel>" not in json.dumps(message)


def test_backticks_cannot_close_the_code_block() -> None:
    summary = block_kit_message(make_request(summary="shell: echo ```*bold*```"))["blocks"][1]["text"]["text"]
    assert summary.startswith("```") and summary.endswith("```")
    assert "```" not in summary[3:-3]
    assert summary[3:-3].replace("\u200b", "") == "shell: echo ```*bold*```"


def test_a_huge_command_is_truncated_within_slack_limits() -> None:
    message = block_kit_message(make_request(summary="shell: " + "x" * 10_000))
    summary = message["blocks"][1]["text"]["text"]
    assert len(summary) == 3000
    assert summary.endswith("…```")
    assert len(message["text"]) <= 300
    assert message["text"].endswith("…")


def test_truncation_never_cuts_an_escape_in_half() -> None:
    summary = block_kit_message(make_request(summary="&" * 3000))["blocks"][1]["text"]["text"]
    assert len(summary) <= 3000
    assert summary.endswith("&amp;…```")


def test_long_fields_are_truncated() -> None:
    message = block_kit_message(make_request(requirement="r" * 5000, reason="why " * 1000))
    assert all(len(field["text"]) <= 2000 for field in message["blocks"][2]["fields"])
    assert all(len(element["text"]) <= 2000 for element in message["blocks"][3]["elements"])


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"id": "AR-lower"}, r"approval request id 'AR-lower' does not match"),
        ({"id": "7K2Q9XMB"}, r"does not match"),
        ({"summary": None}, r"field 'summary' has the wrong type: NoneType"),
        ({"rules": "prod-deploys"}, r"field 'rules' has the wrong type: str"),
        ({"rules": [1]}, r"field 'rules' must be a list of strings"),
        ({"expires_at": "tomorrow"}, r"field 'expires_at' has the wrong type: str"),
        ({"approvals": [{"verdict": "approve"}]}, r"malformed approval"),
        ({"url": "javascript:alert(1)"}, r"field 'url' is not an http\(s\) URL"),
    ],
)
def test_a_malformed_request_is_an_approval_error(overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(ApprovalError, match=message):
        block_kit_message(make_request(**overrides))


def test_a_request_missing_a_field_names_it() -> None:
    request = make_request()
    del request["requirement"]
    with pytest.raises(ApprovalError, match="approval request has no field 'requirement'"):
        block_kit_message(request)


# Button clicks.


def interaction_payload(**overrides: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "type": "block_actions",
        "user": {"id": "U0CA5", "username": "amy", "name": "amy", "team_id": "T3MDE"},
        "team": {"id": "T3MDE", "domain": "acme"},
        "response_url": "https://hooks.slack.com/actions/T3MDE/1/xyz",
        "actions": [
            {
                "type": "button",
                "action_id": "ringfence_approve",
                "block_id": "ringfence_actions",
                "value": "AR-7K2Q9XMB",
                "action_ts": "1700000000.000100",
            }
        ],
    }
    payload.update(overrides)
    return payload


def form(payload: Any) -> bytes:
    text = payload if isinstance(payload, str) else json.dumps(payload)
    return urllib.parse.urlencode({"payload": text}).encode()


def test_an_approve_click_is_parsed() -> None:
    assert parse_interaction(form(interaction_payload())) == Interaction(
        user_id="U0CA5",
        user_name="amy",
        team_id="T3MDE",
        action="approve",
        request_id="AR-7K2Q9XMB",
        response_url="https://hooks.slack.com/actions/T3MDE/1/xyz",
    )


def test_a_deny_click_is_parsed_and_other_actions_are_skipped() -> None:
    actions = [
        {"action_id": "ringfence_open", "url": "https://ringfence.example"},
        {"action_id": "ringfence_deny", "value": "AR-7K2Q9XMB"},
        {"action_id": "ringfence_approve", "value": "AR-OTHER123"},
    ]
    interaction = parse_interaction(form(interaction_payload(actions=actions)))
    assert (interaction.action, interaction.request_id) == ("deny", "AR-7K2Q9XMB")


def test_an_org_wide_app_without_a_team_falls_back_to_the_users_team() -> None:
    payload = interaction_payload(team=None)
    del payload["response_url"]
    interaction = parse_interaction(form(payload))
    assert interaction.team_id == "T3MDE"
    assert interaction.response_url is None


def test_the_user_name_falls_back_to_name() -> None:
    payload = interaction_payload(user={"id": "U0CA5", "name": "amy.m", "team_id": "T3MDE"})
    assert parse_interaction(form(payload)).user_name == "amy.m"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (json.dumps(interaction_payload()).encode(), r"body is not application/x-www-form-urlencoded"),
        (b"\xff\xfe", r"body is not application/x-www-form-urlencoded"),
        (b"", r"body is empty: expected a form with a 'payload' field"),
        (b"token=abc&trigger_id=1", r"form body has no 'payload' field \(fields: \['token', 'trigger_id'\]\)"),
        (b"payload=%7B%7D&payload=%7B%7D", r"form body has 2 'payload' fields"),
        (form("{not json"), r"payload is not valid JSON"),
        (form("[1, 2]"), r"payload is a JSON list: expected an object"),
        (form(interaction_payload(type="view_submission")), r"payload type is 'view_submission'"),
        (form(interaction_payload(user=None)), r"payload field 'user' is missing or not an object"),
        (form(interaction_payload(user={"username": "amy"})), r"payload field 'user.id' is missing"),
        (form(interaction_payload(user={"id": "U1", "team_id": "T1"})), r"'user.username' \(or 'user.name'\)"),
        (form(interaction_payload(team={"id": 7})), r"payload field 'team.id' \(or 'user.team_id'\)"),
        (form(interaction_payload(actions=None)), r"payload field 'actions' is missing or not a list"),
        (form(interaction_payload(actions=["x"])), r"payload field 'actions\[0\]' is not an object"),
        (
            form(interaction_payload(actions=[{"action_id": "other", "value": "AR-7K2Q9XMB"}])),
            r"payload has no ringfence_approve or ringfence_deny action \(action_ids: \['other'\]\)",
        ),
        (
            form(interaction_payload(actions=[{"action_id": "ringfence_approve"}])),
            r"'actions\[0\].value' \(the request id\) is missing",
        ),
        (form(interaction_payload(response_url="http://evil.example/x")), r"'response_url' is not an https URL"),
    ],
)
def test_a_malformed_interaction_says_what_is_wrong(body: bytes, message: str) -> None:
    with pytest.raises(SlackPayloadError, match=message):
        parse_interaction(body)


@pytest.mark.parametrize("request_id", ["AR-7k2q9xmb", "AR-123", "AR-7K2Q9XMB\n", "../AR-7K2Q9XMB", "AR-" + "X" * 33])
def test_a_bad_request_id_is_rejected(request_id: str) -> None:
    actions = [{"action_id": "ringfence_approve", "value": request_id}]
    with pytest.raises(SlackPayloadError, match=r"request id .* does not match \^?AR-"):
        parse_interaction(form(interaction_payload(actions=actions)))


# The outcome.


def test_the_response_replaces_the_original_message() -> None:
    response = response_message("AR-7K2Q9XMB", "Approved by <@U0CA5> & 1 more needed")
    assert response["replace_original"] is True
    assert response["text"] == "AR-7K2Q9XMB: Approved by &lt;@U0CA5&gt; &amp; 1 more needed"
    assert response["blocks"] == [
        {
            "type": "section",
            "text": {"type": "mrkdwn", "text": "*AR-7K2Q9XMB*: Approved by &lt;@U0CA5&gt; &amp; 1 more needed"},
        }
    ]
