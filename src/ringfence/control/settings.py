"""The control part of the configuration: approvers, approvals, channels, windows, budgets.

Parsed from the same config files as everything else (:mod:`ringfence.config`)::

    state: postgresql://ringfence@db/ringfence      # default: <state dir>/control.db
    approvers:
      alice: {groups: [release-managers, sre], key: "ed25519:…", slack: U012AB3CD}
      bob:   {groups: [release-managers], key: "ed25519:…"}
    approvals:
      deny_threshold: 1          # denials that end a request
      grant_ttl: 1h              # how long an approved action stays approved
      grant_uses: 1              # how many times it may run
      escalate_after: 15m        # no decision by then: notify escalate_to
      notify: [release-slack]
      escalate_to: [oncall-webhook]
      default_window: business-hours
      service_keys: ["ed25519:…"] # keys a server signs Slack/API approvals with
      runbooks: {k: 2, groups: [sre]}  # signatures a runbook needs before it may run
    channels:
      release-slack: {kind: slack, url_env: RINGFENCE_SLACK_URL}
      oncall-webhook: {kind: webhook, url: https://…, secret_env: ONCALL_SECRET}
    windows:
      business-hours: "Mon–Thu 09:00–16:00 Europe/Berlin"
    freeze: ["2026-12-24..2027-01-02"]
    budgets:
      - id: production-deploys
        match: {effect: "deploy*", environment: production}
        limit: 3
        per: 1h
        on_exceed: require_approval
      - id: cost
        cost: {"deploy*": 10, "db.migrate": 5}
        limit: 100
        per: 1d

Every value is validated; a mistake is a :class:`~ringfence.errors.ConfigError` naming
the file and key, and the gate denies until it is fixed.
"""

from __future__ import annotations

import base64
import fnmatch
import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from ringfence.errors import ConfigError, ControlError

if TYPE_CHECKING:
    from ringfence.control.notify import Channel
    from ringfence.control.windows import ChangeWindow

CONTROL_KEYS = frozenset(
    {"state", "approvers", "approvals", "channels", "windows", "freeze", "budgets", "integrations"}
)
INTEGRATIONS_FIELDS = frozenset({"github"})
GITHUB_FIELDS = frozenset({"webhook_secret_env", "token_env", "api_url"})
GITHUB_API = "https://api.github.com"
_API_URL = re.compile(r"https?://[A-Za-z0-9.\-\[\]:]+(?:/[A-Za-z0-9._~/-]*)?")
APPROVER_FIELDS = frozenset({"groups", "key", "slack", "email", "name"})
APPROVALS_FIELDS = frozenset(
    {
        "deny_threshold",
        "grant_ttl",
        "grant_uses",
        "escalate_after",
        "notify",
        "escalate_to",
        "default_window",
        "service_keys",
        "dashboard_url",
        "slack_signing_secret_env",
        "runbooks",
    }
)
BUDGET_FIELDS = frozenset({"id", "match", "limit", "per", "cost", "on_exceed", "per_agent"})
BUDGET_MATCH_FIELDS = frozenset({"effect", "action", "environment", "agent"})
#: Runtime names an approver may not be called: an agent can never approve.
AGENT_NAMES = frozenset({"claude-code", "codex", "gemini", "gemini-cli", "cursor", "copilot", "opencode", "agent"})

_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|sec|m|min|h|d|w)?\s*$")
_UNITS = {"s": 1, "sec": 1, None: 1, "m": 60, "min": 60, "h": 3600, "d": 86400, "w": 604800}


@dataclass(frozen=True, slots=True)
class Approver:
    """A human who may approve: an id, groups and the Ed25519 public key that signs."""

    id: str
    groups: frozenset[str] = frozenset()
    key: bytes | None = None  # raw 32-byte Ed25519 public key
    slack: str | None = None
    email: str | None = None


@dataclass(frozen=True, slots=True)
class Budget:
    """A durable limit on what an agent may do in a sliding window.

    An action is counted when every ``match`` condition holds (effect kind glob, action
    kind, environment, agent id glob); ``cost`` instead prices effect kinds in units the
    organisation defines (the first matching glob per effect)."""

    id: str
    limit: float
    per: float
    effect: str | None = None
    action: str | None = None
    environment: str | None = None
    agent: str | None = None
    cost: tuple[tuple[str, float], ...] = ()
    on_exceed: str = "deny"  # or "require_approval"
    per_agent: bool = True

    def units(
        self, action_kind: str, effect_kinds: tuple[str, ...], environments: tuple[str, ...], agent: str
    ) -> float:
        """What this action costs against the budget (0: not counted)."""
        if self.action is not None and action_kind != self.action:
            return 0.0
        if self.environment is not None and self.environment not in environments:
            return 0.0
        if self.agent is not None and not fnmatch.fnmatchcase(agent, self.agent):
            return 0.0
        if self.cost:
            total = 0.0
            for kind in effect_kinds:
                for pattern, price in self.cost:
                    if fnmatch.fnmatchcase(kind, pattern):
                        total += price
                        break
            return total
        if self.effect is not None:
            return 1.0 if any(fnmatch.fnmatchcase(k, self.effect) for k in effect_kinds) else 0.0
        return 1.0

    def describe(self) -> str:
        unit = "units" if self.cost else "actions"
        return f"{self.id}: at most {self.limit:g} {unit} per {format_duration(self.per)}"


@dataclass(frozen=True, slots=True)
class GitHubIntegration:
    """The GitHub App behind deployment protection rules (``integrations.github``).

    The webhook secret is read when the configuration loads; the installation token is
    read from ``token_env`` each time an answer is sent (so it can be rotated without a
    restart). Answers go only to ``api_url`` (GitHub Enterprise Server:
    ``https://HOST/api/v3``)."""

    webhook_secret: str | None
    webhook_secret_env: str
    token_env: str
    api_url: str = GITHUB_API

    def token(self) -> str | None:
        return os.environ.get(self.token_env) or None


@dataclass(frozen=True, slots=True)
class ControlSettings:
    state: str | None = None
    approvers: Mapping[str, Approver] = field(default_factory=dict)
    deny_threshold: int = 1
    grant_ttl: float = 3600.0
    grant_uses: int = 1
    escalate_after: float | None = None
    notify: tuple[str, ...] = ()
    escalate_to: tuple[str, ...] = ()
    default_window: str | None = None
    service_keys: tuple[bytes, ...] = ()
    dashboard_url: str | None = None
    slack_signing_secret: str | None = None  # verifies Slack's interaction callbacks (the server's)
    channels: Mapping[str, Channel] = field(default_factory=dict)
    windows: Mapping[str, ChangeWindow] = field(default_factory=dict)
    freeze: tuple[str, ...] = ()
    budgets: tuple[Budget, ...] = ()
    github: GitHubIntegration | None = None
    runbook_k: int = 2
    runbook_groups: tuple[str, ...] = ()

    def window(self, spec: str) -> ChangeWindow:
        """The change window ``spec`` names (a key of ``windows:``) or spells out inline;
        the global ``freeze:`` dates always apply."""
        from dataclasses import replace

        from ringfence.control.windows import parse_freeze, parse_window

        if spec in self.windows:
            w = self.windows[spec]
            extra = tuple(parse_freeze(f) for f in self.freeze)
            return replace(w, freeze=(*w.freeze, *extra)) if extra else w
        known = ", ".join(sorted(self.windows))
        if len(spec.split()) == 1:  # a name: a spelled-out window has days, hours and maybe a zone
            raise ControlError(
                f"no change window named {spec!r} under windows: ({known or 'none defined'}); name one of them or "
                'spell a window out, e.g. "Mon–Thu 09:00–16:00 Europe/Berlin"'
            )
        try:
            return parse_window(spec, freeze=self.freeze)
        except ControlError as exc:
            raise ControlError(f"{exc}" + (f" (named windows: {known})" if known else "")) from None


def parse_duration(value: Any, where: str) -> float:
    """Seconds in ``30``, ``"90s"``, ``"15m"``, ``"1h"``, ``"1d"``, ``"1w"``."""
    if isinstance(value, bool):
        raise ConfigError(f"{where} must be a duration such as 30s, 15m, 1h or 1d")
    if isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str) and (m := _DURATION.match(value)):
        seconds = float(m.group(1)) * _UNITS[m.group(2)]
    else:
        raise ConfigError(f"{where} must be a duration such as 30s, 15m, 1h or 1d, not {value!r}")
    if not math.isfinite(seconds):
        raise ConfigError(f"{where} must be a finite duration such as 30s, 15m, 1h or 1d, not {value!r}")
    if seconds <= 0:
        raise ConfigError(f"{where} must be longer than zero")
    return seconds


def format_duration(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"


def parse_public_key(value: Any, where: str) -> bytes:
    """``ed25519:<base64 of the 32 raw bytes>`` (what ``ringfence keys create`` prints)."""
    if not isinstance(value, str) or not value.startswith("ed25519:"):
        raise ConfigError(f"{where} must be an Ed25519 public key 'ed25519:<base64>' (see `ringfence keys create`)")
    try:
        raw = base64.b64decode(value[len("ed25519:") :], validate=True)
    except ValueError:
        raise ConfigError(f"{where} is not valid base64 after 'ed25519:'") from None
    if len(raw) != 32:
        raise ConfigError(f"{where} must hold 32 bytes of Ed25519 public key, not {len(raw)}")
    return raw


def _mapping(value: Any, where: str, fields: frozenset[str] | None = None) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise ConfigError(f"{where} must be a mapping")
    if fields is not None:
        unknown = sorted(str(k) for k in value if k not in fields)
        if unknown:
            raise ConfigError(f"{where}: unknown key(s) {', '.join(unknown)}; known: {', '.join(sorted(fields))}")
    return value


def _names(value: Any, where: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and _ID.match(v) for v in value):
        raise ConfigError(f"{where} must be a list of names (letters, digits, . _ @ -)")
    return tuple(value)


def _positive_int(value: Any, where: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ConfigError(f"{where} must be a whole number, at least 1")
    return value


def parse_control(doc: Mapping[str, Any], where: str, *, agent_id: str | None = None) -> ControlSettings:
    """The :class:`ControlSettings` in a merged configuration mapping."""
    state = doc.get("state")
    if state is not None and (not isinstance(state, str) or not state.strip()):
        raise ConfigError(f"{where}: state must be a file path or a postgresql:// URL")
    approvers = _approvers(doc.get("approvers") or {}, where, agent_id)
    a = _mapping(doc.get("approvals") or {}, f"{where}: approvals", APPROVALS_FIELDS)
    deny_threshold = _positive_int(a.get("deny_threshold", 1), f"{where}: approvals.deny_threshold")
    grant_ttl = parse_duration(a.get("grant_ttl", 3600), f"{where}: approvals.grant_ttl")
    grant_uses = _positive_int(a.get("grant_uses", 1), f"{where}: approvals.grant_uses")
    escalate = a.get("escalate_after")
    escalate_after = parse_duration(escalate, f"{where}: approvals.escalate_after") if escalate is not None else None
    notify = _names(a.get("notify", []), f"{where}: approvals.notify")
    escalate_to = _names(a.get("escalate_to", []), f"{where}: approvals.escalate_to")
    service_raw = a.get("service_keys", [])
    if not isinstance(service_raw, list):
        raise ConfigError(f"{where}: approvals.service_keys must be a list of 'ed25519:…' keys")
    service_keys = tuple(
        parse_public_key(k, f"{where}: approvals.service_keys[{i}]") for i, k in enumerate(service_raw)
    )
    dashboard = a.get("dashboard_url")
    if dashboard is not None and (not isinstance(dashboard, str) or not dashboard.startswith(("http://", "https://"))):
        raise ConfigError(f"{where}: approvals.dashboard_url must be an http(s) URL")
    slack_env = a.get("slack_signing_secret_env")
    slack_secret = None
    if slack_env is not None:
        if not isinstance(slack_env, str) or not re.fullmatch(r"[A-Z_][A-Z0-9_]*", slack_env):
            raise ConfigError(
                f"{where}: approvals.slack_signing_secret_env must name an environment variable "
                "(e.g. SLACK_SIGNING_SECRET)"
            )
        slack_secret = os.environ.get(slack_env) or None
    channels = _channels(doc.get("channels") or {}, where)
    for key, names in (("notify", notify), ("escalate_to", escalate_to)):
        for name in names:
            if name not in channels:
                raise ConfigError(
                    f"{where}: approvals.{key} names channel {name!r}, which is not defined under channels: "
                    f"({', '.join(sorted(channels)) or 'none defined'})"
                )
    freeze = doc.get("freeze") or []
    if isinstance(freeze, str | date):
        freeze = [freeze]
    if isinstance(freeze, list):  # YAML reads an unquoted 2026-12-24 as a date
        freeze = [f.isoformat() if isinstance(f, date) and not isinstance(f, datetime) else f for f in freeze]
    if not isinstance(freeze, list) or not all(isinstance(f, str) for f in freeze):
        raise ConfigError(f"{where}: freeze must be a list of dates (YYYY-MM-DD or YYYY-MM-DD..YYYY-MM-DD)")
    for item in freeze:
        from ringfence.control.windows import parse_freeze

        try:
            parse_freeze(item)
        except ControlError as exc:
            raise ConfigError(f"{where}: freeze: {exc}") from None
    windows = _windows(doc.get("windows") or {}, where)
    default_window = a.get("default_window")
    rb = _mapping(a.get("runbooks") or {}, f"{where}: approvals.runbooks", frozenset({"k", "groups"}))
    runbook_k = _positive_int(rb.get("k", 2), f"{where}: approvals.runbooks.k")
    runbook_groups = _names(rb.get("groups", []), f"{where}: approvals.runbooks.groups")
    settings = ControlSettings(
        state=state,
        approvers=approvers,
        deny_threshold=deny_threshold,
        grant_ttl=grant_ttl,
        grant_uses=grant_uses,
        escalate_after=escalate_after,
        notify=notify,
        escalate_to=escalate_to,
        default_window=default_window,
        service_keys=service_keys,
        dashboard_url=dashboard,
        slack_signing_secret=slack_secret,
        channels=channels,
        windows=windows,
        freeze=tuple(freeze),
        budgets=_budgets(doc.get("budgets") or [], where),
        github=_github(doc.get("integrations") or {}, where),
        runbook_k=runbook_k,
        runbook_groups=runbook_groups,
    )
    if default_window is not None:
        if not isinstance(default_window, str):
            raise ConfigError(f"{where}: approvals.default_window must name a window or spell one out")
        try:
            settings.window(default_window)
        except ControlError as exc:
            raise ConfigError(f"{where}: approvals.default_window: {exc}") from None
    return settings


def _approvers(raw: Any, where: str, agent_id: str | None) -> dict[str, Approver]:
    out: dict[str, Approver] = {}
    for name, spec in _mapping(raw, f"{where}: approvers").items():
        here = f"{where}: approvers.{name}"
        if not isinstance(name, str) or not _ID.match(name):
            raise ConfigError(f"{here}: an approver id is a name of letters, digits, . _ @ -")
        if name.casefold() in AGENT_NAMES or (agent_id is not None and name.casefold() == agent_id.casefold()):
            raise ConfigError(f"{here}: {name!r} is an agent's name; an agent can never approve")
        f = _mapping(spec or {}, here, APPROVER_FIELDS)
        groups = _names(f.get("groups", []), f"{here}.groups")
        key = parse_public_key(f["key"], f"{here}.key") if "key" in f else None
        slack = f.get("slack")
        if slack is not None and (not isinstance(slack, str) or not re.match(r"^[UW][A-Z0-9]{2,}$", slack)):
            raise ConfigError(f"{here}.slack must be a Slack user id such as U012AB3CD")
        email = f.get("email")
        if email is not None and not isinstance(email, str):
            raise ConfigError(f"{here}.email must be a string")
        out[name] = Approver(name, frozenset(groups), key, slack, email)
    return out


def _env_name(value: Any, where: str, example: str) -> str:
    if not isinstance(value, str) or not re.fullmatch(r"[A-Z_][A-Z0-9_]*", value):
        raise ConfigError(f"{where} must name an environment variable (e.g. {example})")
    return value


def _github(raw: Any, where: str) -> GitHubIntegration | None:
    integrations = _mapping(raw, f"{where}: integrations", INTEGRATIONS_FIELDS)
    if integrations.get("github") is None:
        return None
    here = f"{where}: integrations.github"
    g = _mapping(integrations["github"], here, GITHUB_FIELDS)
    for key in ("webhook_secret_env", "token_env"):
        if key not in g:
            raise ConfigError(f"{here}.{key} is required ({', '.join(sorted(GITHUB_FIELDS))})")
    secret_env = _env_name(g["webhook_secret_env"], f"{here}.webhook_secret_env", "GITHUB_WEBHOOK_SECRET")
    token_env = _env_name(g["token_env"], f"{here}.token_env", "GITHUB_INSTALLATION_TOKEN")
    api_url = g.get("api_url", GITHUB_API)
    if not isinstance(api_url, str) or not _API_URL.fullmatch(api_url):
        raise ConfigError(
            f"{here}.api_url must be the API's base URL: {GITHUB_API}, or https://HOST/api/v3 for GitHub Enterprise "
            f"Server, not {api_url!r}"
        )
    return GitHubIntegration(os.environ.get(secret_env) or None, secret_env, token_env, api_url.rstrip("/"))


def _channels(raw: Any, where: str) -> dict[str, Channel]:
    # notify pulls in urllib and http.client (~50 ms): only when channels are configured,
    # since every hook that decides in-process loads the configuration.
    out: dict[str, Channel] = {}
    for name, spec in _mapping(raw, f"{where}: channels").items():
        from ringfence.control.notify import channel_from_mapping

        if not isinstance(name, str) or not _ID.match(name):
            raise ConfigError(f"{where}: channels: {name!r} is not a valid channel name")
        try:
            out[name] = channel_from_mapping(name, _mapping(spec, f"{where}: channels.{name}"))
        except ControlError as exc:
            raise ConfigError(f"{where}: {exc}") from None
    return out


def _windows(raw: Any, where: str) -> dict[str, ChangeWindow]:
    out: dict[str, ChangeWindow] = {}
    for name, spec in _mapping(raw, f"{where}: windows").items():
        from ringfence.control.windows import parse_window, window_from_mapping

        if not isinstance(name, str) or not _ID.match(name):
            raise ConfigError(f"{where}: windows: {name!r} is not a valid window name")
        try:
            if isinstance(spec, str):
                out[name] = parse_window(spec)
            else:
                out[name] = window_from_mapping(_mapping(spec, f"{where}: windows.{name}"), where=f"windows.{name}")
        except ControlError as exc:
            text = str(exc)
            if not text.startswith(f"windows.{name}"):
                text = f"windows.{name}: {text}"
            raise ConfigError(f"{where}: {text}") from None
    return out


def _budgets(raw: Any, where: str) -> tuple[Budget, ...]:
    if not isinstance(raw, list):
        raise ConfigError(f"{where}: budgets must be a list of budgets")
    out: list[Budget] = []
    seen: set[str] = set()
    for i, spec in enumerate(raw):
        here = f"{where}: budgets[{i}]"
        f = _mapping(spec, here, BUDGET_FIELDS)
        bid = f.get("id")
        if not isinstance(bid, str) or not _ID.match(bid):
            raise ConfigError(f"{here}.id is missing or not a name")
        if bid in seen:
            raise ConfigError(f"{here}.id {bid!r} is used twice")
        seen.add(bid)
        here = f"{where}: budgets.{bid}"
        limit = f.get("limit")
        if not isinstance(limit, int | float) or isinstance(limit, bool) or not 0 < limit < math.inf:
            raise ConfigError(f"{here}.limit must be a finite number above zero")
        if "per" not in f:
            raise ConfigError(f"{here}.per is missing: the window the limit applies to, e.g. 1h")
        per = parse_duration(f["per"], f"{here}.per")
        m = _mapping(f.get("match") or {}, f"{here}.match", BUDGET_MATCH_FIELDS)
        for key, value in m.items():
            if not isinstance(value, str) or not value:
                raise ConfigError(f"{here}.match.{key} must be a string")
        if m.get("environment") not in (None, "development", "staging", "production"):
            raise ConfigError(f"{here}.match.environment must be development, staging or production")
        cost_raw = _mapping(f.get("cost") or {}, f"{here}.cost")
        cost: list[tuple[str, float]] = []
        for pattern, price in cost_raw.items():
            if not isinstance(price, int | float) or isinstance(price, bool) or not 0 <= price < math.inf:
                raise ConfigError(f"{here}.cost.{pattern} must be a finite number of units, zero or more")
            cost.append((str(pattern), float(price)))
        if cost and "effect" in m:
            raise ConfigError(f"{here}: use either match.effect (count actions) or cost (price effects), not both")
        on_exceed = f.get("on_exceed", "deny")
        if on_exceed not in ("deny", "require_approval"):
            raise ConfigError(f"{here}.on_exceed must be deny or require_approval, not {on_exceed!r}")
        per_agent = f.get("per_agent", True)
        if not isinstance(per_agent, bool):
            raise ConfigError(f"{here}.per_agent must be true or false")
        out.append(
            Budget(
                bid,
                float(limit),
                per,
                effect=m.get("effect"),
                action=m.get("action"),
                environment=m.get("environment"),
                agent=m.get("agent"),
                cost=tuple(cost),
                on_exceed=on_exceed,
                per_agent=per_agent,
            )
        )
    return tuple(out)
