"""The rule language: operators, regex safety, match keys, time, unless, tiers, schema."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from importlib import resources
from typing import Any

import pytest

from ringfence.errors import PolicyError
from ringfence.model import Action, ActionKind, Effect, Outcome, Principal, PrincipalType, RiskTier
from ringfence.policy.evaluate import EvalContext, evaluate
from ringfence.policy.layers import gate_type
from ringfence.policy.load import BUILTIN_PACKS, GateType, Policy, load_builtin, parse_document, parse_pack
from ringfence.policy.rules import Condition, glob_problem, regex_problem


def policy(text: str) -> Policy:
    doc = parse_document(text.encode(), "t.yaml")
    assert not doc.problems, doc.problems
    return Policy.from_rules(doc.rules, [text.encode()], tiers=doc.tiers, groups=doc.groups)


def clock(*args: int, tz: Any = UTC) -> Callable[[], datetime]:
    return lambda: datetime(*args, tzinfo=tz)  # type: ignore[misc]


# -- operators ------------------------------------------------------------------------

OPERATOR_CASES = [
    ("eq", "main", {"b": "main"}, True),
    ("eq", "main", {"b": "dev"}, False),
    ("not", "main", {"b": "dev"}, True),
    ("not", "main", {"b": "main"}, False),
    ("not", True, {}, True),
    ("in", ["a", "b"], {"b": "b"}, True),
    ("in", ["a", "b"], {"b": "c"}, False),
    ("in", ["a", "b"], {"b": ("x", "a")}, True),
    ("not_in", ["a", "b"], {"b": "c"}, True),
    ("not_in", ["a", "b"], {"b": ("c", "a")}, False),
    ("glob", "release/*", {"b": "release/1.2"}, True),
    ("glob", "release/*", {"b": "main"}, False),
    ("glob", "*.lock", {"b": ("src/a.py", "yarn.lock")}, True),
    ("glob", "[!m]*", {"b": "main"}, False),
    ("glob", "release/*", {"b": 3}, False),
    ("regex", "^scratch\\.", {"b": "scratch.t1"}, True),
    ("regex", "^scratch\\.", {"b": "public.t1"}, False),
    ("regex", "prod", {"b": "eu-prod-1"}, True),
    ("regex", "x", {"b": None}, False),
    ("present", True, {"b": "x"}, True),
    ("present", True, {"b": ""}, False),
    ("present", True, {"b": ()}, False),
    ("present", False, {}, True),
    ("gte", 10, {"b": 10}, True),
    ("gte", 10, {"b": 9}, False),
    ("lte", 10, {"b": 10}, True),
    ("lte", 10, {"b": 11}, False),
    ("gt", 10, {"b": 11}, True),
    ("gt", 10, {"b": 10}, False),
    ("lt", 10, {"b": 9}, True),
    ("lt", 10, {"b": True}, False),
    ("gte", 1, {"b": "5"}, False),
]


@pytest.mark.parametrize(("op", "value", "attrs", "expected"), OPERATOR_CASES)
def test_operator(op: str, value: Any, attrs: dict[str, Any], expected: bool) -> None:
    v = tuple(value) if isinstance(value, list) else value
    assert Condition("b", op, v).holds(attrs) is expected
    # and the same through YAML
    p = policy(
        f"pack: t\nrules:\n  - id: r\n    effect: deploy\n    when: {{b: {{{op}: {json.dumps(value)}}}}}\n"
        "    decision: deny\n    reason: x\n"
    )
    verdict = evaluate(p, [Effect("deploy", attrs)])
    assert (verdict.outcome is Outcome.DENY) is expected


def test_plain_value_is_equality() -> None:
    p = policy(
        "pack: t\nrules:\n  - {id: r, effect: deploy, when: {environment: production}, decision: deny, reason: x}"
    )
    assert evaluate(p, [Effect("deploy", {"environment": "production"})]).outcome is Outcome.DENY
    assert evaluate(p, [Effect("deploy", {"environment": "staging"})]).outcome is Outcome.ALLOW


@pytest.mark.parametrize(
    "pattern",
    ["^release/[0-9]+$", "prod", "(ab)+", "a+b*", "(a+)?", "(foo|bar)*", "(?:ab|ac)+", ".*\\.lock$", "^[a-z]{2,8}$"],
)
def test_regex_accepted(pattern: str) -> None:
    assert regex_problem(pattern) is None


@pytest.mark.parametrize(
    ("pattern", "why"),
    [
        ("(a+)+", "another quantifier"),
        ("(a*)*", "another quantifier"),
        ("(a|a)*", "alternatives"),
        ("(a|ab)*", "alternatives"),
        ("(xy|[a-z]z)+", "alternatives"),
        ("(\\w+\\s?)*$", "another quantifier"),
        ("(?:a{2,})+", "another quantifier"),
        ("((ab)*c)+", "another quantifier"),
        ("(a)\\1", "backreference"),
        ("(?P<x>a)(?P=x)", "backreference"),
        ("(a", "invalid"),
    ],
)
def test_regex_rejected(pattern: str, why: str) -> None:
    problem = regex_problem(pattern)
    assert problem is not None and why in problem


def test_unsafe_regex_is_a_load_error() -> None:
    text = (
        "pack: t\nrules:\n  - id: r\n    effect: deploy\n"
        "    when: {app: {regex: '(a+)+$'}}\n    decision: deny\n    reason: x\n"
    )
    with pytest.raises(PolicyError, match=r"^t\.yaml:5:25: rule r: unsafe regular expression"):
        parse_pack(text.encode(), "t.yaml")


def test_glob_problem() -> None:
    assert glob_problem("a[bc]*") is None
    assert glob_problem("[]]x") is None
    assert glob_problem("[!]]x") is None
    assert glob_problem("a[bc") is not None


# -- match keys -----------------------------------------------------------------------

AGENT = Principal(
    PrincipalType.AGENT,
    "renovate-bot",
    runtime="claude-code",
    model="opus",
    owner="platform",
    attributes={"team": "payments"},
)
HUMAN = Principal(PrincipalType.HUMAN, "alice")
SHELL = Action(ActionKind.SHELL, {"command": "x"}, cwd="/w", tool="Bash", repo="acme/api", environment="staging")


def _one_rule(match: str, effect: str = "effect: fs.write") -> Policy:
    return policy(f"pack: t\nrules:\n  - id: r\n    {effect}\n    match: {match}\n    decision: deny\n    reason: x\n")


@pytest.mark.parametrize(
    ("match", "ctx", "expected"),
    [
        ("{principal: {type: agent}}", EvalContext(principal=AGENT), True),
        ("{principal: {type: agent}}", EvalContext(principal=HUMAN), False),
        ("{principal: {id: {glob: '*-bot'}}}", EvalContext(principal=AGENT), True),
        ("{principal: {runtime: claude-code, model: {in: [opus, sonnet]}}}", EvalContext(principal=AGENT), True),
        ("{principal: {owner: platform}}", EvalContext(principal=HUMAN), False),
        ("{principal: {labels: {in: [team=payments]}}}", EvalContext(principal=AGENT), True),
        ("{principal: {labels: {in: [team=core]}}}", EvalContext(principal=AGENT), False),
        ("{action: {kind: shell, tool: Bash}}", EvalContext(action=SHELL), True),
        ("{action: {kind: file_write}}", EvalContext(action=SHELL), False),
        ("{repo: {regex: '^acme/'}}", EvalContext(action=SHELL), True),
        ("{repo: acme/web}", EvalContext(action=SHELL), False),
        ("{environment: staging}", EvalContext(action=SHELL), True),
        ("{environment: production}", EvalContext(action=SHELL, environment="production"), True),
        ("{branch: {glob: 'release/*'}}", EvalContext(branch="release/2"), True),
        ("{branch: {present: true}}", EvalContext(), False),
        ("{principal: {type: agent}}", None, False),
    ],
)
def test_match_keys(match: str, ctx: EvalContext | None, expected: bool) -> None:
    p = _one_rule(match)
    assert (evaluate(p, [Effect("fs.write", {})], ctx).outcome is Outcome.DENY) is expected


def test_match_only_rule_applies_once_per_action() -> None:
    p = _one_rule("{principal: {id: renovate-bot}, action: {kind: {not: file_write}}}", effect="tier: high")
    assert p.context_rules and not p.by_kind
    v = evaluate(p, [], EvalContext(action=SHELL, principal=AGENT))
    assert v.outcome is Outcome.DENY and v.matches[0].effect is None and v.tier is RiskTier.HIGH
    assert evaluate(p, [], EvalContext(action=SHELL, principal=HUMAN)).outcome is Outcome.ALLOW


def test_time_days_with_fixed_clock() -> None:
    p = _one_rule("{time: {days: [sat, sun], tz: Europe/Berlin}}")
    eff = [Effect("fs.write", {})]
    saturday = EvalContext(clock=clock(2026, 6, 6, 12, 0))
    friday_late_utc = EvalContext(clock=clock(2026, 6, 5, 22, 30))  # already Saturday in Berlin
    thursday = EvalContext(clock=clock(2026, 6, 4, 12, 0))
    assert evaluate(p, eff, saturday).outcome is Outcome.DENY
    assert evaluate(p, eff, friday_late_utc).outcome is Outcome.DENY
    assert evaluate(p, eff, thursday).outcome is Outcome.ALLOW


def test_time_hours_wrap_midnight() -> None:
    p = _one_rule('{time: {hours: "18:00-08:00"}}')
    eff = [Effect("fs.write", {})]
    for hour, expected in [
        (17, Outcome.ALLOW),
        (18, Outcome.DENY),
        (23, Outcome.DENY),
        (7, Outcome.DENY),
        (8, Outcome.ALLOW),
    ]:
        assert evaluate(p, eff, EvalContext(clock=clock(2026, 1, 5, hour, 0))).outcome is expected, hour


def test_time_hours_across_dst_change() -> None:
    """Europe/Berlin moves from UTC+1 to UTC+2 on 2026-03-29: 07:30 UTC is 08:30 the day
    before and 09:30 that day, so the same UTC instant falls outside, then inside, 09-17."""
    p = _one_rule('{time: {hours: "09:00-17:00", tz: Europe/Berlin}}')
    eff = [Effect("fs.write", {})]
    assert evaluate(p, eff, EvalContext(clock=clock(2026, 3, 28, 7, 30))).outcome is Outcome.ALLOW
    assert evaluate(p, eff, EvalContext(clock=clock(2026, 3, 29, 7, 30))).outcome is Outcome.DENY
    # and back in autumn (2026-10-25, to UTC+1): 15:30 UTC is 17:30 before, 16:30 after
    assert evaluate(p, eff, EvalContext(clock=clock(2026, 10, 24, 15, 30))).outcome is Outcome.ALLOW
    assert evaluate(p, eff, EvalContext(clock=clock(2026, 10, 25, 15, 30))).outcome is Outcome.DENY


# -- unless -----------------------------------------------------------------------------

UNLESS = """pack: t
rules:
  - id: db.prod
    effect: db.destructive
    when: {environment: production}
    decision: deny
    tier: critical
    reason: never in production
    unless:
      - when: {targets: {glob: "scratch.*"}}
        reason: scratch is disposable
        expires: 2027-03-31
"""


@pytest.mark.parametrize(
    ("now", "target", "outcome", "named"),
    [
        ((2027, 3, 31, 23, 59), "scratch.t", Outcome.ALLOW, True),
        ((2027, 4, 1, 0, 0), "scratch.t", Outcome.DENY, False),
        ((2026, 1, 1, 0, 0), "public.users", Outcome.DENY, False),
    ],
)
def test_unless_expiry(now: tuple[int, ...], target: str, outcome: Outcome, named: bool) -> None:
    p = policy(UNLESS)
    eff = Effect("db.destructive", {"environment": "production", "targets": (target,)})
    v = evaluate(p, [eff], EvalContext(clock=clock(*now)))
    assert v.outcome is outcome
    assert v.exceptions == (("db.prod: scratch is disposable (expires 2027-03-31)",) if named else ())


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ("{reason: x}", "t.yaml:5:14: rule r: exception without 'expires'"),
        ("{expires: 2027-01-01}", "t.yaml:5:14: rule r: exception without 'reason'"),
        ("{reason: x, expires: soon}", "t.yaml:5:35: rule r: exception 'expires' must be a date"),
    ],
)
def test_unless_needs_reason_and_expiry(entry: str, message: str) -> None:
    text = f"pack: t\nrules:\n  - id: r\n    effect: deploy\n    unless: [{entry}]\n    decision: deny\n    reason: x\n"
    with pytest.raises(PolicyError) as info:
        parse_pack(text.encode(), "t.yaml")
    assert str(info.value).startswith(message), str(info.value)


# -- compatibility, tiers, ordering, schema --------------------------------------------------


def test_evaluate_without_context_is_unchanged() -> None:
    p = load_builtin()
    v = evaluate(p, [Effect("git.force_push", {"protected": True, "branch": "main"})])
    assert v.outcome is Outcome.DENY and v.exceptions == ()


def test_gate_types() -> None:
    assert [gate_type(t) for t in RiskTier] == [
        GateType.AUTOMATIC,
        GateType.AUTOMATIC,
        GateType.SINGLE_APPROVER,
        GateType.K_OF_N,
        GateType.NEVER,
    ]
    p = policy("pack: org\ntiers: {high: scheduled_window, low: single_approver}\nrules: []\n")
    assert p.gate_type("high") is GateType.SCHEDULED_WINDOW
    assert p.gate_type(RiskTier.LOW) is GateType.SINGLE_APPROVER
    assert p.gate_type("critical") is GateType.NEVER


def test_strictest_approval_decides() -> None:
    p = policy(
        """pack: t
rules:
  - {id: lax, effect: deploy, decision: require_approval, tier: high, reason: x,
     approval: {k: 1, runtime_prompt: true}}
  - {id: strict, effect: deploy, decision: require_approval, tier: high, reason: y,
     approval: {approvers: [release-managers], k: 2}}
"""
    )
    v = evaluate(p, [Effect("deploy", {})])
    assert v.approval is not None and v.approval.k == 2 and v.deciding[0].rule_id == "strict"


def _validate(schema: dict[str, Any], value: Any, root: dict[str, Any], path: str = "$") -> list[str]:
    """A validator for the JSON Schema subset schema.json uses."""
    if "$ref" in schema:
        ref = schema["$ref"].removeprefix("#/$defs/")
        return _validate(root["$defs"][ref], value, root, path)
    errors: list[str] = []
    types = schema.get("type")
    if types is not None:
        names = [types] if isinstance(types, str) else types
        pytypes = {
            "object": dict,
            "array": list,
            "string": str,
            "boolean": bool,
            "null": type(None),
            "integer": int,
            "number": (int, float),
        }
        ok = any(
            isinstance(value, pytypes[n]) and not (n in ("integer", "number") and isinstance(value, bool))
            for n in names
        )
        if not ok:
            return [f"{path}: expected {names}, got {value!r}"]
    if "enum" in schema and value not in schema["enum"]:
        errors.append(f"{path}: {value!r} not in enum")
    if "anyOf" in schema and not any(not _validate(s, value, root, path) for s in schema["anyOf"]):
        errors.append(f"{path}: matches none of anyOf")
    if isinstance(value, str) and len(value) < schema.get("minLength", 0):
        errors.append(f"{path}: too short")
    if isinstance(value, int | float) and "minimum" in schema and value < schema["minimum"]:
        errors.append(f"{path}: below minimum")
    if isinstance(value, dict):
        for req in schema.get("required", []):
            if req not in value:
                errors.append(f"{path}: missing {req}")
        if not schema.get("minProperties", 0) <= len(value) <= schema.get("maxProperties", 10**9):
            errors.append(f"{path}: wrong number of properties")
        props = schema.get("properties", {})
        extra = schema.get("additionalProperties", True)
        for k, v in value.items():
            if k in props:
                errors += _validate(props[k], v, root, f"{path}.{k}")
            elif extra is False:
                errors.append(f"{path}: unknown property {k}")
            elif isinstance(extra, dict):
                errors += _validate(extra, v, root, f"{path}.{k}")
    if isinstance(value, list):
        if len(value) < schema.get("minItems", 0):
            errors.append(f"{path}: too few items")
        if "items" in schema:
            for i, v in enumerate(value):
                errors += _validate(schema["items"], v, root, f"{path}[{i}]")
    return errors


def _schema() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((resources.files("ringfence.policy") / "schema.json").read_text())
    return data


@pytest.mark.parametrize("name", BUILTIN_PACKS)
def test_builtin_pack_matches_schema(name: str) -> None:
    import yaml

    doc = yaml.safe_load((resources.files("ringfence.policy") / "packs" / f"{name}.yaml").read_bytes())
    schema = _schema()
    assert _validate(schema, doc, schema) == []


def test_schema_rejects_what_load_rejects() -> None:
    import yaml

    schema = _schema()
    bad = yaml.safe_load("pack: t\nrules:\n  - {id: r, effect: nope, decision: deny, reason: x, colour: red}\n")
    errors = _validate(schema, bad, schema)
    assert any("unknown property colour" in e for e in errors) and any("none of anyOf" in e for e in errors)
    good = yaml.safe_load(UNLESS.replace("2027-03-31", "'2027-03-31'"))
    assert _validate(schema, good, schema) == []
