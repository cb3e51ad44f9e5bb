"""Rules: what they match and what they answer.

A rule matches one or more effect kinds and, optionally, conditions on the effect's
attributes (``when``) and on the context of the action (``match``). A condition maps an
attribute name to either a plain value (equality) or exactly one operator:

- ``{eq: v}`` / ``{not: v}`` equality and inequality (a plain value means ``eq``);
- ``{in: [..]}`` / ``{not_in: [..]}`` membership;
- ``{glob: "pat"}`` shell-style glob (``*``, ``?``, ``[..]``), whole-value match;
- ``{regex: "pat"}`` Python regular expression, searched (``re.search``; anchor with
  ``^``/``$``). Only patterns that cannot backtrack catastrophically are accepted, see
  :func:`regex_problem`;
- ``{present: true|false}`` whether the attribute is set (and not null/empty);
- ``{gte: n}`` / ``{lte: n}`` / ``{gt: n}`` / ``{lt: n}`` numeric comparison.

When the attribute is a list (``targets``, ``paths``, principal ``labels``) the condition
holds if it holds for any element (``not``/``not_in`` hold only if they hold for every
element).

``match`` keys (all optional, all must hold):

- ``action: {kind: .., tool: .., cwd: ..}`` — a condition map on the action;
- ``principal: {type, id, runtime, model, owner, session, labels}`` — a condition map;
  ``labels`` is the list of the principal's attributes as ``key=value`` strings;
- ``repo``, ``branch``, ``environment`` — one condition each (a value or ``{op: v}``);
- ``time: {days: [mon..sun], hours: "HH:MM-HH:MM", tz: Area/City}`` — the decision time
  (from the injectable clock) falls on one of ``days`` and inside ``hours`` (a range may
  wrap midnight: ``18:00-08:00``), in ``tz`` (default UTC). The start is inclusive, the
  end exclusive; ``days`` is judged in ``tz`` at the decision time.

Everything is compiled once: globs are translated to compiled regular expressions,
regular expressions compiled, membership lists turned into sets.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any

from ringfence.model import Action, ApprovalRequirement, AttrValue, Effect, Outcome, Principal, RiskTier

OPERATORS = frozenset({"eq", "in", "not_in", "glob", "regex", "present", "not", "gte", "lte", "gt", "lt"})
NUMERIC_OPERATORS = frozenset({"gte", "lte", "gt", "lt"})

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
ACTION_FIELDS = frozenset({"kind", "tool", "cwd"})
PRINCIPAL_FIELDS = frozenset({"type", "id", "runtime", "model", "owner", "session", "labels"})
SCALAR_MATCH_KEYS = frozenset({"repo", "branch", "environment"})
MATCH_KEYS = frozenset({"action", "principal", "time"}) | SCALAR_MATCH_KEYS
TIME_FIELDS = frozenset({"days", "hours", "tz"})


def regex_problem(pattern: str) -> str | None:
    """Why ``pattern`` is refused, or None if it is accepted.

    The rule enforced (a syntactic, conservative test for exponential backtracking):

    1. no backreferences (``\\1``, ``(?P=name)``, ``(?(1)..)``);
    2. a quantifier whose upper bound is above one (``*``, ``+``, ``{2,}``, ``{3}``)
       may not apply to a sub-pattern that itself contains a quantifier — so
       ``(a+)+``, ``(a*)*``, ``(\\w+\\s?)*`` are refused while ``a+b*``, ``(ab)+`` and
       ``(a+)?`` are fine;
    3. inside such a quantified sub-pattern, alternatives must each start with a distinct
       literal character — ``(foo|bar)*`` is fine, ``(a|a)*``, ``(a|ab)*`` and
       ``(x|[a-z])+`` are refused.

    Adjacent quantifiers (``.*.*``) backtrack only polynomially and are accepted.
    """
    import importlib

    c: Any = importlib.import_module("re._constants")
    p: Any = importlib.import_module("re._parser")

    try:
        tree = p.parse(pattern)
    except re.error as exc:
        return f"invalid regular expression {pattern!r}: {exc}"

    repeats = (c.MAX_REPEAT, c.MIN_REPEAT, getattr(c, "POSSESSIVE_REPEAT", c.MAX_REPEAT))

    def children(op: Any, av: Any) -> list[Any]:
        if op in repeats:
            return [av[2]]
        if op is c.SUBPATTERN:
            return [av[3]]
        if op is c.BRANCH:
            return list(av[1])
        if op in (c.ASSERT, c.ASSERT_NOT):
            return [av[1]]
        if op is getattr(c, "ATOMIC_GROUP", None):
            return [av]
        return []

    def walk(seq: Any, inside_repeat: bool) -> str | None:
        for op, av in seq:
            if op in (c.GROUPREF, c.GROUPREF_EXISTS):
                return f"unsafe regular expression {pattern!r}: backreferences can backtrack exponentially"
            if op in repeats:
                if inside_repeat:
                    return (
                        f"unsafe regular expression {pattern!r}: a quantified group contains another "
                        "quantifier (nested quantifiers backtrack exponentially)"
                    )
                _lo, hi, body = av
                if hi > 1:
                    bad = walk(body, True)
                    if bad:
                        return bad
                    continue
            if op is c.BRANCH and inside_repeat:
                firsts: list[int] = []
                for alt in av[1]:
                    if not alt or alt[0][0] is not c.LITERAL:
                        firsts = []
                        break
                    firsts.append(alt[0][1])
                if not firsts or len(set(firsts)) != len(firsts):
                    return (
                        f"unsafe regular expression {pattern!r}: alternatives inside a quantified group "
                        "may overlap (start each alternative with a different literal character)"
                    )
            for child in children(op, av):
                bad = walk(child, inside_repeat)
                if bad:
                    return bad
        return None

    return walk(tree, False)


def glob_problem(pattern: str) -> str | None:
    """An unbalanced ``[`` in a glob (``fnmatch`` would silently treat it as a literal)."""
    i, n = 0, len(pattern)
    while i < n:
        if pattern[i] == "[":
            j = i + 1
            if j < n and pattern[j] == "!":
                j += 1
            if j < n and pattern[j] == "]":
                j += 1
            k = pattern.find("]", j)
            if k < 0:
                return f"bad glob {pattern!r}: '[' at offset {i} is never closed"
            i = k + 1
        else:
            i += 1
    return None


def _never(_: Any) -> bool:
    return False


@dataclass(frozen=True, slots=True)
class Condition:
    """One attribute condition, compiled once (``_test`` judges one scalar value)."""

    attr: str
    op: str  # "eq" or one of OPERATORS
    value: Any
    _test: Callable[[Any], bool] = field(default=_never, compare=False, repr=False)

    holds: Callable[[Mapping[str, Any]], bool] = field(default=_never, compare=False, repr=False)
    """``holds(attrs)``: whether the condition holds for an attribute map (compiled)."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "_test", _compile(self.op, self.value))
        object.__setattr__(self, "holds", _holds(self.attr, self.op, self.value, self._test))


def _holds(attr: str, op: str, want: Any, test: Callable[[Any], bool]) -> Callable[[Mapping[str, Any]], bool]:
    if op == "present":
        wanted = bool(want)

        def present(attrs: Mapping[str, Any]) -> bool:
            actual = attrs.get(attr)
            return (actual is not None and actual != () and actual != "") is wanted

        return present
    every = op in ("not", "not_in")
    if op == "eq" and isinstance(want, str):

        def holds_eq(attrs: Mapping[str, Any]) -> bool:
            actual = attrs.get(attr)
            if type(actual) is tuple:
                return want in actual
            return actual == want

        return holds_eq
    if op == "in" and isinstance(want, tuple) and all(isinstance(w, str) for w in want):
        members = frozenset(want)

        def holds_in(attrs: Mapping[str, Any]) -> bool:
            actual = attrs.get(attr)
            if type(actual) is tuple:
                return not members.isdisjoint(actual)
            return type(actual) is str and actual in members

        return holds_in
    if op in ("glob", "regex"):
        rx = re.compile(fnmatch.translate(want), re.DOTALL) if op == "glob" else re.compile(want)
        find = rx.match if op == "glob" else rx.search

        def holds_pattern(attrs: Mapping[str, Any]) -> bool:
            actual = attrs.get(attr)
            if type(actual) is str:
                return find(actual) is not None
            if type(actual) is tuple:
                return any(type(v) is str and find(v) is not None for v in actual)
            return False

        return holds_pattern

    def holds(attrs: Mapping[str, Any]) -> bool:
        actual = attrs.get(attr)
        if type(actual) is tuple:
            if every:
                return all(test(v) for v in actual)
            return any(test(v) for v in actual)
        return test(actual)

    return holds


def all_of(checks: tuple[Any, ...]) -> Callable[[Mapping[str, Any]], bool]:
    """One predicate for a conjunction of compiled checks."""
    fns = tuple(c.holds for c in checks)
    if not fns:
        return _always
    if len(fns) == 1:
        one: Callable[[Mapping[str, Any]], bool] = fns[0]
        return one
    if len(fns) == 2:
        f, g = fns
        return lambda a: f(a) and g(a)

    def pred(a: Mapping[str, Any]) -> bool:
        for fn in fns:  # noqa: SIM110 -- a plain loop is faster than all() with a generator
            if not fn(a):
                return False
        return True

    return pred


def _always(_: Any) -> bool:
    return True


def _compile(op: str, want: Any) -> Callable[[Any], bool]:
    if op == "eq":
        return lambda v: bool(v == want)
    if op == "not":
        return lambda v: bool(v != want)
    if op in ("in", "not_in"):
        items = tuple(want)
        try:
            members: Any = frozenset(items)
        except TypeError:
            members = items
        if op == "in":
            return lambda v: _member(v, members)
        return lambda v: not _member(v, members)
    if op == "glob":
        match = re.compile(fnmatch.translate(want), re.DOTALL).match
        return lambda v: isinstance(v, str) and match(v) is not None
    if op == "regex":
        search = re.compile(want).search
        return lambda v: isinstance(v, str) and search(v) is not None
    if op in NUMERIC_OPERATORS:
        cmp: Callable[[Any], bool] = {
            "gte": lambda v: v >= want,
            "lte": lambda v: v <= want,
            "gt": lambda v: v > want,
            "lt": lambda v: v < want,
        }[op]
        return lambda v: isinstance(v, int | float) and not isinstance(v, bool) and cmp(v)
    if op == "present":
        return _never
    raise ValueError(f"unknown operator {op!r}")


def _member(v: Any, members: Any) -> bool:
    try:
        return v in members
    except TypeError:
        return False


@dataclass(frozen=True, slots=True)
class TimeCondition:
    """The decision time falls on ``days`` and inside ``hours`` in ``tz``."""

    days: frozenset[int] | None  # weekday numbers, Monday = 0
    start: time | None
    end: time | None
    tz: str = "UTC"
    attr: str = "time"
    _zone: Any = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        from zoneinfo import ZoneInfo

        object.__setattr__(self, "_zone", ZoneInfo(self.tz))

    def holds(self, facts: Mapping[str, Any]) -> bool:
        key = ("now", self.tz)  # the local time, once per decision and time zone
        local = facts.get(key)  # type: ignore[call-overload]
        if local is None:
            now = facts.get("now")
            if not isinstance(now, datetime):
                return False
            local = now.astimezone(self._zone)
            if isinstance(facts, dict):
                facts[key] = local
        assert isinstance(local, datetime)
        if self.days is not None and local.weekday() not in self.days:
            return False
        if self.start is not None and self.end is not None:
            t = local.time().replace(tzinfo=None)
            if self.start <= self.end:
                return self.start <= t < self.end
            return t >= self.start or t < self.end
        return True


Check = Condition | TimeCondition


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class EvalContext:
    """What ``match`` conditions look at besides the effects: the action, who acts, the
    environment and repository, and a clock (injectable for tests)."""

    action: Action | None = None
    principal: Principal | None = None
    environment: str | None = None
    repo: str | None = None
    branch: str | None = None
    clock: Callable[[], datetime] = _utcnow

    def facts(self) -> dict[str, Any]:
        """The flat attribute map ``match`` conditions are compiled against."""
        out: dict[str, Any] = {"now": self.clock()}
        a = self.action
        if a is not None:
            out["action.kind"] = a.kind.value
            out["action.tool"] = a.tool
            out["action.cwd"] = a.cwd
        p = self.principal
        if p is not None:
            out["principal.type"] = p.type.value
            out["principal.id"] = p.id
            out["principal.runtime"] = p.runtime
            out["principal.model"] = p.model
            out["principal.owner"] = p.owner
            out["principal.session"] = p.session
            out["principal.labels"] = tuple(f"{k}={v}" for k, v in sorted(p.attributes.items()))
        out["environment"] = self.environment or (a.environment if a is not None else None)
        out["repo"] = self.repo or (a.repo if a is not None else None)
        out["branch"] = self.branch
        return out


@dataclass(frozen=True, slots=True)
class RuleException:
    """An ``unless`` entry: while unexpired and its conditions hold, the rule is suppressed."""

    rule_id: str
    reason: str
    expires: date
    conditions: tuple[Condition, ...] = ()
    match: tuple[Check, ...] = ()
    origin: str = ""

    def active(self, now: datetime) -> bool:
        """Valid through the whole ``expires`` day (UTC)."""
        return now.astimezone(UTC).date() <= self.expires

    def applies(self, effect: Effect | None, facts: Mapping[str, Any]) -> bool:
        now = facts.get("now")
        if not isinstance(now, datetime) or not self.active(now):
            return False
        attrs: Mapping[str, AttrValue] = effect.attrs if effect is not None else {}
        return all(c.holds(attrs) for c in self.conditions) and all(m.holds(facts) for m in self.match)

    def describe(self) -> str:
        return f"{self.rule_id}: {self.reason} (expires {self.expires.isoformat()})"


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    effects: frozenset[str]
    conditions: tuple[Condition, ...]
    outcome: Outcome
    tier: RiskTier
    reason: str
    alternative: str | None = None
    approval: ApprovalRequirement | None = None
    pack: str = ""
    match: tuple[Check, ...] = ()
    unless: tuple[RuleException, ...] = ()
    layer: str = ""
    origin: str = ""
    when_holds: Callable[[Mapping[str, Any]], bool] = field(default=_always, compare=False, repr=False)
    context_holds: Callable[[Mapping[str, Any]], bool] = field(default=_always, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "when_holds", all_of(self.conditions))
        object.__setattr__(self, "context_holds", all_of(self.match))

    def matches(self, effect: Effect) -> bool:
        return effect.kind in self.effects and self.when_holds(effect.attrs)

    def exception_for(self, effect: Effect | None, facts: Mapping[str, Any]) -> RuleException | None:
        for exc in self.unless:
            if exc.applies(effect, facts):
                return exc
        return None


@dataclass(frozen=True, slots=True)
class RuleIndex:
    """Rules bucketed by one equality/membership condition each (their discriminator),
    so a lookup judges only the rules that can match; ``always`` holds the rest. The
    candidates come back in policy order."""

    always: tuple[tuple[int, Rule], ...]
    keyed: tuple[tuple[str, Mapping[Any, tuple[tuple[int, Rule], ...]]], ...]

    @classmethod
    def build(cls, rules: list[tuple[int, Rule]], context: bool) -> RuleIndex:
        always: list[tuple[int, Rule]] = []
        keyed: dict[str, dict[Any, list[tuple[int, Rule]]]] = {}
        for pos, rule in rules:
            checks = rule.match if context else rule.conditions
            disc = next((c for c in checks if isinstance(c, Condition) and _discriminates(c)), None)
            if disc is None:
                always.append((pos, rule))
                continue
            values = disc.value if disc.op == "in" else (disc.value,)
            table = keyed.setdefault(disc.attr, {})
            for v in dict.fromkeys(values):
                table.setdefault(v, []).append((pos, rule))
        return cls(
            tuple(always),
            tuple((a, {v: tuple(rs) for v, rs in t.items()}) for a, t in keyed.items()),
        )

    def candidates(self, attrs: Mapping[str, Any]) -> tuple[tuple[int, Rule], ...] | list[tuple[int, Rule]]:
        if not self.keyed:
            return self.always
        out: list[tuple[int, Rule]] = list(self.always)
        added = False
        for attr, table in self.keyed:
            v = attrs.get(attr)
            if type(v) is tuple:
                for x in v:
                    hit = table.get(x)
                    if hit:
                        out.extend(hit)
                        added = True
            else:
                try:
                    hit = table.get(v)
                except TypeError:
                    continue
                if hit:
                    out.extend(hit)
                    added = True
        if added:
            out = sorted(dict.fromkeys(out), key=_pos)
        return out


def _pos(item: tuple[int, Rule]) -> int:
    return item[0]


def _discriminates(c: Condition) -> bool:
    if c.op == "eq":
        values: tuple[Any, ...] = (c.value,)
    elif c.op == "in":
        values = tuple(c.value)
    else:
        return False
    return all(v is None or isinstance(v, str | int | float | bool) for v in values)
