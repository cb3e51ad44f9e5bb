"""The control part of the configuration: approvers, approvals, channels, windows, budgets.

Valid configurations parse to exactly what they say; every invalid one is a ConfigError
naming the file and the key, whether it comes through ``parse_control`` or through the
real config loader (``load_settings``) reading YAML files.
"""

from __future__ import annotations

import base64
import os
import textwrap
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from ringfence.config import Settings, load_settings
from ringfence.control.settings import (
    Approver,
    ControlSettings,
    format_duration,
    parse_control,
    parse_duration,
    parse_public_key,
)
from ringfence.control.store import open_store
from ringfence.errors import ConfigError, ControlError

RAW_A = bytes(range(32))
RAW_B = bytes(range(100, 132))
KEY_A = "ed25519:" + base64.b64encode(RAW_A).decode()
KEY_B = "ed25519:" + base64.b64encode(RAW_B).decode()
SLACK_URL = "https://hooks.slack.com/services/T000/B000/XXXX"
WHERE = "/etc/ringfence/config.yaml"


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An isolated HOME and XDG directories; no RINGFENCE_* variable leaks in."""
    for name in list(os.environ):
        if name.startswith("RINGFENCE_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "home" / ".config"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "home" / ".local" / "state"))
    monkeypatch.chdir(tmp_path)
    return tmp_path / "home"


def write(home: Path, text: str) -> Path:
    path = home / ".config" / "ringfence" / "config.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))
    return path


def load(home: Path) -> Settings:
    return load_settings(str(home.parent))


# --- durations and keys ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        (30, 30.0),
        (1.5, 1.5),
        ("45", 45.0),
        ("90s", 90.0),
        ("10sec", 10.0),
        ("15m", 900.0),
        ("15 min", 900.0),
        (" 1h ", 3600.0),
        ("1.5h", 5400.0),
        ("1d", 86400.0),
        ("2w", 1209600.0),
    ],
)
def test_parse_duration(value: object, seconds: float) -> None:
    assert parse_duration(value, "x") == seconds


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("soon", "grant_ttl must be a duration such as 30s, 15m, 1h or 1d, not 'soon'"),
        ("1y", "not '1y'"),
        ("-5m", "not '-5m'"),
        ("", "not ''"),
        (None, "not None"),
        ([1], "not [1]"),
        (True, "grant_ttl must be a duration such as 30s"),
        (0, "grant_ttl must be longer than zero"),
        ("0s", "grant_ttl must be longer than zero"),
        (-3, "grant_ttl must be longer than zero"),
        (float("inf"), "grant_ttl must be a finite duration"),
        (float("nan"), "grant_ttl must be a finite duration"),
    ],
)
def test_parse_duration_refuses(value: object, message: str) -> None:
    with pytest.raises(ConfigError) as exc:
        parse_duration(value, "grant_ttl")
    assert message in str(exc.value)


def test_format_duration_round_trips() -> None:
    for text in ("30s", "15m", "1h", "1d", "90s"):
        assert parse_duration(format_duration(parse_duration(text, "x")), "x") == parse_duration(text, "x")
    assert format_duration(5400) == "90m" and format_duration(1.5) == "1.5s"


def test_parse_public_key() -> None:
    assert parse_public_key(KEY_A, "k") == RAW_A


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (base64.b64encode(RAW_A).decode(), "must be an Ed25519 public key 'ed25519:<base64>'"),
        ("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5", "must be an Ed25519 public key"),
        (42, "must be an Ed25519 public key"),
        (None, "must be an Ed25519 public key"),
        ("ed25519:not base64!", "is not valid base64 after 'ed25519:'"),
        ("ed25519:" + base64.b64encode(RAW_A[:31]).decode(), "must hold 32 bytes of Ed25519 public key, not 31"),
        ("ed25519:" + base64.b64encode(RAW_A + b"x").decode(), "not 33"),
        ("ed25519:", "not 0"),
    ],
)
def test_parse_public_key_refuses(value: object, message: str) -> None:
    with pytest.raises(ConfigError) as exc:
        parse_public_key(value, "approvers.alice.key")
    assert str(exc.value).startswith("approvers.alice.key ")
    assert message in str(exc.value)
    assert "ringfence keys create" in str(exc.value) or "base64" in str(exc.value) or "bytes" in str(exc.value)


# --- a full, valid configuration ------------------------------------------------------


FULL = f"""\
agent: {{id: deploy-bot, owner: carol}}
approvers:
  alice: {{groups: [release-managers, sre], key: "{KEY_A}", slack: U012AB3CD, email: alice@example.com}}
  bob: {{groups: release-managers, key: "{KEY_B}"}}
  carol: {{groups: [release-managers]}}
approvals:
  deny_threshold: 2
  grant_ttl: 30m
  grant_uses: 3
  escalate_after: 15m
  notify: [release-slack]
  escalate_to: [oncall-webhook, release-slack]
  default_window: business-hours
  service_keys: ["{KEY_B}"]
  dashboard_url: https://ringfence.example.com
channels:
  release-slack: {{kind: slack, url: "{SLACK_URL}"}}
  oncall-webhook: {{kind: webhook, url: "https://hooks.example.com/ringfence", secret_env: ONCALL_SECRET}}
windows:
  business-hours: "Mon–Thu 09:00–16:00 Europe/Berlin"
  weekend-maintenance: {{days: [sat, sun], hours: "02:00-05:00", tz: UTC, freeze: [2026-07-04]}}
freeze: ["2026-12-24..2027-01-02", 2026-11-26]
budgets:
  - id: production-deploys
    match: {{effect: "deploy*", environment: production}}
    limit: 3
    per: 1h
    on_exceed: require_approval
  - id: cost
    cost: {{"deploy*": 10, "db.migrate": 5}}
    limit: 100
    per: 1d
    per_agent: false
"""


def check_full(c: ControlSettings) -> None:
    assert c.approvers["alice"] == Approver(
        "alice", frozenset({"release-managers", "sre"}), RAW_A, "U012AB3CD", "alice@example.com"
    )
    assert c.approvers["bob"] == Approver("bob", frozenset({"release-managers"}), RAW_B)
    assert c.approvers["carol"].key is None
    assert (c.deny_threshold, c.grant_ttl, c.grant_uses, c.escalate_after) == (2, 1800.0, 3, 900.0)
    assert c.notify == ("release-slack",) and c.escalate_to == ("oncall-webhook", "release-slack")
    assert c.default_window == "business-hours" and c.service_keys == (RAW_B,)
    assert c.dashboard_url == "https://ringfence.example.com"
    slack, hook = c.channels["release-slack"], c.channels["oncall-webhook"]
    assert (slack.kind, slack.url, slack.secret) == ("slack", SLACK_URL, None)
    assert (hook.kind, hook.url, hook.secret) == ("webhook", "https://hooks.example.com/ringfence", "s3cret")
    assert "s3cret" not in repr(hook)
    assert c.freeze == ("2026-12-24..2027-01-02", "2026-11-26")
    business = c.window("business-hours")
    assert business.tz == "Europe/Berlin" and (business.start, business.end) == (9 * 60, 16 * 60)
    # the global freeze applies to named windows: Thursday 2026-12-24 10:00 in Berlin is frozen
    assert not business.is_open(datetime(2026, 12, 24, 9, tzinfo=UTC))
    assert business.is_open(datetime(2026, 12, 17, 9, tzinfo=UTC))
    weekend = c.window("weekend-maintenance")
    assert weekend.days == frozenset({5, 6}) and (date(2026, 7, 4), date(2026, 7, 4)) in weekend.freeze
    assert (date(2026, 11, 26), date(2026, 11, 26)) in weekend.freeze
    assert c.window("daily 00:00-23:59").tz == "UTC"  # spelled out inline
    deploys, cost = c.budgets
    assert (deploys.id, deploys.limit, deploys.per, deploys.effect, deploys.environment) == (
        "production-deploys",
        3.0,
        3600.0,
        "deploy*",
        "production",
    )
    assert deploys.on_exceed == "require_approval" and deploys.per_agent
    assert deploys.units("shell", ("deploy",), ("production",), "deploy-bot") == 1.0
    assert deploys.units("shell", ("deploy",), ("staging",), "deploy-bot") == 0.0
    assert cost.cost == (("deploy*", 10.0), ("db.migrate", 5.0)) and not cost.per_agent
    assert cost.on_exceed == "deny" and cost.per == 86400.0
    assert cost.units("shell", ("deploy", "db.migrate", "fs.write"), (), "x") == 15.0


def test_full_configuration_through_the_loader(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ONCALL_SECRET", "s3cret")
    path = write(home, FULL)
    settings = load(home)
    assert settings.sources == (path,)
    assert settings.agent_id == "deploy-bot" and settings.agent_owner == "carol"
    check_full(settings.control)


def test_full_configuration_through_parse_control(monkeypatch: pytest.MonkeyPatch) -> None:
    import yaml

    monkeypatch.setenv("ONCALL_SECRET", "s3cret")
    check_full(parse_control(yaml.safe_load(FULL), WHERE, agent_id="deploy-bot"))


def test_empty_control_configuration_has_safe_defaults() -> None:
    c = parse_control({}, WHERE)
    assert c == ControlSettings()
    assert (c.deny_threshold, c.grant_ttl, c.grant_uses, c.escalate_after) == (1, 3600.0, 1, None)
    assert not c.approvers and not c.channels and not c.budgets and c.state is None


# --- every invalid input names the file and the key -----------------------------------


BAD = [
    pytest.param("approverz: {}\n", ("unknown setting(s) approverz",), id="unknown-top-level"),
    pytest.param(
        "approvers: {alice: {group: [sre]}}\n",
        ("approvers.alice: unknown key(s) group", "known: email, groups"),
        id="unknown-approver-field",
    ),
    pytest.param(
        "approvals: {grant_tll: 1h}\n", ("approvals: unknown key(s) grant_tll", "grant_ttl"), id="unknown-approvals"
    ),
    pytest.param(
        "budgets: [{id: b, limit: 1, per: 1h, window: 1h}]\n",
        ("budgets[0]: unknown key(s) window",),
        id="unknown-budget-field",
    ),
    pytest.param(
        "budgets: [{id: b, limit: 1, per: 1h, match: {tool: vercel}}]\n",
        ("budgets.b.match: unknown key(s) tool", "known: action, agent, effect, environment"),
        id="unknown-budget-match",
    ),
    pytest.param(
        f'channels: {{s: {{kind: slack, url: "{SLACK_URL}", token: x}}}}\n',
        ("channel 's': unknown key 'token'",),
        id="unknown-channel-field",
    ),
    pytest.param(
        "approvers: {claude-code: {groups: [sre]}}\n",
        ("approvers.claude-code: 'claude-code' is an agent's name", "an agent can never approve"),
        id="approver-named-claude-code",
    ),
    pytest.param("approvers: {Codex: {}}\n", ("approvers.Codex: 'Codex' is an agent's name",), id="approver-Codex"),
    pytest.param(
        "agent: {id: deploy-bot}\napprovers: {deploy-bot: {groups: [sre]}}\n",
        ("approvers.deploy-bot: 'deploy-bot' is an agent's name",),
        id="approver-is-the-agent",
    ),
    pytest.param("approvers: {'al ice': {}}\n", ("an approver id is a name of letters",), id="approver-id"),
    pytest.param(
        "approvers: {alice: {key: 'AAAA'}}\n",
        ("approvers.alice.key must be an Ed25519 public key 'ed25519:<base64>'", "ringfence keys create"),
        id="key-without-prefix",
    ),
    pytest.param(
        "approvers: {alice: {key: 'ed25519:***'}}\n",
        ("approvers.alice.key is not valid base64",),
        id="key-not-base64",
    ),
    pytest.param(
        f"approvers: {{alice: {{key: '{KEY_A[:-4]}'}}}}\n",
        ("approvers.alice.key must hold 32 bytes of Ed25519 public key, not 30",),
        id="key-length",
    ),
    pytest.param(
        "approvers: {alice: {slack: alice}}\n", ("approvers.alice.slack must be a Slack user id",), id="slack-id"
    ),
    pytest.param(
        "approvers: {alice: {groups: [release managers]}}\n",
        ("approvers.alice.groups must be a list of names",),
        id="group-name",
    ),
    pytest.param("approvals: {grant_ttl: soon}\n", ("approvals.grant_ttl must be a duration", "'soon'"), id="ttl"),
    pytest.param("approvals: {grant_ttl: .inf}\n", ("approvals.grant_ttl must be a finite duration",), id="ttl-inf"),
    pytest.param(
        "approvals: {escalate_after: 0}\n", ("approvals.escalate_after must be longer than zero",), id="escalate-zero"
    ),
    pytest.param(
        "approvals: {deny_threshold: 0}\n", ("approvals.deny_threshold must be a whole number",), id="deny-threshold"
    ),
    pytest.param("approvals: {grant_uses: 1.5}\n", ("approvals.grant_uses must be a whole number",), id="grant-uses"),
    pytest.param(
        "approvals: {service_keys: 'ed25519:x'}\n", ("approvals.service_keys must be a list",), id="service-keys"
    ),
    pytest.param(
        "approvals: {service_keys: ['ed25519:AAAA']}\n",
        ("approvals.service_keys[0] must hold 32 bytes",),
        id="service-key-length",
    ),
    pytest.param(
        "approvals: {dashboard_url: ringfence.example.com}\n",
        ("approvals.dashboard_url must be an http(s) URL",),
        id="dashboard-url",
    ),
    pytest.param(
        "approvals: {notify: [release-slack]}\n",
        ("approvals.notify names channel 'release-slack'", "not defined under channels:", "none defined"),
        id="notify-undefined",
    ),
    pytest.param(
        f'channels: {{s: {{kind: slack, url: "{SLACK_URL}"}}}}\napprovals: {{escalate_to: [pager]}}\n',
        ("approvals.escalate_to names channel 'pager'", "(s)"),
        id="escalate-undefined",
    ),
    pytest.param(
        "channels: {s: {kind: slack, url: hooks.slack.com/services/x}}\n",
        ("channel 's': key 'url' must be an http(s) URL",),
        id="slack-url",
    ),
    pytest.param(
        "channels: {s: {kind: slack}}\n", ("channel 's': key 'url' (or 'url_env') is missing",), id="slack-no-url"
    ),
    pytest.param(
        "channels: {w: {kind: webhook, url: 'https://hooks.example.com/x'}}\n",
        ("channel 'w': a webhook channel needs 'secret' or 'secret_env'",),
        id="webhook-no-secret",
    ),
    pytest.param(
        "channels: {w: {kind: webhook, url: 'https://hooks.example.com/x', secret_env: RINGFENCE_TEST_UNSET}}\n",
        ("channel 'w': environment variable RINGFENCE_TEST_UNSET (from 'secret_env') is not set",),
        id="webhook-secret-env-unset",
    ),
    pytest.param(
        "channels: {e: {kind: email, url: 'https://x.example'}}\n",
        ("channel 'e': key 'kind' must be slack or webhook",),
        id="channel-kind",
    ),
    pytest.param("budgets: [{id: b, limit: 3}]\n", ("budgets.b.per is missing", "e.g. 1h"), id="budget-without-per"),
    pytest.param(
        "budgets: [{id: b, limit: 3, per: 1h}, {id: b, limit: 5, per: 1d}]\n",
        ("budgets[1].id 'b' is used twice",),
        id="budget-duplicate-id",
    ),
    pytest.param(
        "budgets: [{id: b, limit: 3, per: 1h, match: {effect: deploy}, cost: {deploy: 1}}]\n",
        ("budgets.b: use either match.effect (count actions) or cost (price effects), not both",),
        id="budget-effect-and-cost",
    ),
    pytest.param(
        "budgets: [{id: b, limit: 3, per: 1h, on_exceed: ask}]\n",
        ("budgets.b.on_exceed must be deny or require_approval, not 'ask'",),
        id="budget-on-exceed",
    ),
    pytest.param("budgets: [{limit: 3, per: 1h}]\n", ("budgets[0].id is missing",), id="budget-without-id"),
    pytest.param("budgets: [{id: b, limit: 0, per: 1h}]\n", ("budgets.b.limit must be",), id="budget-limit-zero"),
    pytest.param("budgets: [{id: b, limit: .nan, per: 1h}]\n", ("budgets.b.limit must be",), id="budget-limit-nan"),
    pytest.param("budgets: [{id: b, limit: 3, per: 1y}]\n", ("budgets.b.per must be a duration",), id="budget-per"),
    pytest.param(
        "budgets: [{id: b, limit: 3, per: 1h, cost: {deploy: -1}}]\n",
        ("budgets.b.cost.deploy must be a finite number of units",),
        id="budget-cost",
    ),
    pytest.param(
        "budgets: [{id: b, limit: 3, per: 1h, match: {environment: prod}}]\n",
        ("budgets.b.match.environment must be development, staging or production",),
        id="budget-environment",
    ),
    pytest.param("budgets: {id: b}\n", ("budgets must be a list",), id="budgets-not-a-list"),
    pytest.param(
        "windows: {bh: 'Mon-Fri 9-17'}\n",
        ('windows.bh: change window "Mon-Fri 9-17"', 'hours "9-17" must be HH:MM-HH:MM'),
        id="window-text",
    ),
    pytest.param(
        "windows: {bh: 'Mon-Fri 09:00-17:00 Mars/Olympus'}\n", ("windows.bh:", "Mars/Olympus"), id="window-zone"
    ),
    pytest.param(
        "windows: {bh: {days: [mon], hours: '9'}}\n", ('windows.bh.hours: hours "9" must be',), id="window-mapping"
    ),
    pytest.param(
        "windows: {bh: {days: [mon], hours: '09:00-17:00', zone: UTC}}\n",
        ('windows.bh: unknown key "zone"',),
        id="window-unknown-key",
    ),
    pytest.param(
        "freeze: ['2026-02-30']\n",
        ('freeze: freeze "2026-02-30": 2026-02-30 is not a calendar date',),
        id="freeze-date",
    ),
    pytest.param("freeze: ['2027-01-02..2026-12-24']\n", ("freeze:", "ends before it starts"), id="freeze-reversed"),
    pytest.param("freeze: ['christmas']\n", ('freeze "christmas" must be YYYY-MM-DD',), id="freeze-word"),
    pytest.param("freeze: [1]\n", ("freeze must be a list of dates",), id="freeze-number"),
    pytest.param(
        "approvals: {default_window: business-hours}\n",
        ("approvals.default_window: no change window named 'business-hours'", "none defined"),
        id="default-window-unknown",
    ),
    pytest.param(
        "windows: {bh: 'Mon-Fri 09:00-17:00'}\napprovals: {default_window: business-hours}\n",
        ("approvals.default_window: no change window named 'business-hours' under windows: (bh)",),
        id="default-window-unknown-named",
    ),
    pytest.param(
        "approvals: {default_window: 'Mon-Fri 9-5'}\n",
        ('approvals.default_window: change window "Mon-Fri 9-5"',),
        id="default-window-bad-text",
    ),
    pytest.param("state: ''\n", ("state must be a file path or a postgresql:// URL",), id="state-empty"),
]


@pytest.mark.parametrize(("text", "expected"), BAD)
def test_invalid_configuration_names_the_file_and_the_key(home: Path, text: str, expected: tuple[str, ...]) -> None:
    path = write(home, text)
    with pytest.raises(ConfigError) as exc:
        load(home)
    message = str(exc.value)
    assert message.startswith(f"{path}"), message
    for fragment in expected:
        assert fragment in message, f"{fragment!r} not in {message!r}"


def test_a_workspace_config_is_named_when_it_is_the_one_at_fault(home: Path) -> None:
    write(home, f"approvers: {{alice: {{key: '{KEY_A}'}}}}\n")
    ws = home.parent / "repo"
    (ws / ".git").mkdir(parents=True)
    local = ws / ".ringfence" / "config.yaml"
    local.parent.mkdir()
    local.write_text("budgets: [{id: b, limit: 3}]\n")
    with pytest.raises(ConfigError) as exc:
        load_settings(str(ws))
    assert str(exc.value).startswith(f"{local}: budgets.b.per is missing")


# --- where the control state lives ----------------------------------------------------


def test_state_location_defaults_under_xdg_state_home(home: Path) -> None:
    assert load(home).state_location == str(home / ".local" / "state" / "ringfence" / "control.db")


def test_state_location_without_xdg_state_home(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("XDG_STATE_HOME")
    assert load(home).state_location == str(home / ".local" / "state" / "ringfence" / "control.db")


def test_state_path_expands_the_home_directory(home: Path) -> None:
    write(home, "state: ~/ringfence/control.db\n")
    assert load(home).state_location == str(home / "ringfence" / "control.db")


@pytest.mark.parametrize("url", ["postgresql://ringfence@db/ringfence", "postgres://ringfence@db:5432/ringfence"])
def test_state_postgresql_url_is_kept_as_is(home: Path, url: str) -> None:
    write(home, f"state: {url}\n")
    settings = load(home)
    assert settings.control.state == url and settings.state_location == url


def test_ringfence_state_overrides_the_configuration(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(home, "state: ~/from-config.db\n")
    monkeypatch.setenv("RINGFENCE_STATE", "~/from-env.db")
    assert load(home).state_location == str(home / "from-env.db")
    monkeypatch.setenv("RINGFENCE_STATE", "postgresql://ops@db/ringfence")
    assert load(home).state_location == "postgresql://ops@db/ringfence"
    monkeypatch.setenv("RINGFENCE_STATE", "")  # empty: not set
    assert load(home).state_location == str(home / "from-config.db")


def test_state_with_an_unknown_scheme_is_refused_when_opened(home: Path) -> None:
    write(home, "state: mysql://db/ringfence\n")
    with pytest.raises(ControlError) as exc:
        open_store(load(home).state_location)
    assert "unknown control state location scheme 'mysql'" in str(exc.value)
    assert "postgresql:// URL" in str(exc.value)
