"""Loading packs from YAML data files into compiled :class:`Rule` objects.

A pack file::

    pack: git
    description: History and remotes.
    rules:
      - id: git.force-push-protected
        effect: git.force_push            # or a list of kinds; optional if `match` is given
        when: {protected: true}           # optional effect-attribute conditions
        match:                            # optional context conditions (see rules.py)
          principal: {type: agent}
          time: {days: [sat, sun], tz: Europe/Berlin}
        decision: deny                    # allow | require_approval | deny
        tier: critical                    # trivial | low | medium | high | critical
        reason: Force-pushing a protected branch rewrites history others build on.
        alternative: Push to a feature branch and open a pull request.
        approval: {approvers: [maintainers], k: 1, runtime_prompt: true}
        unless:                           # exceptions; reason and expires are required
          - when: {branch: {glob: "sandbox/*"}}
            reason: The sandbox branches are throw-away.
            expires: 2027-03-31
    exceptions:                           # exceptions to rules of this or an earlier layer
      - exception_for: db.destructive-production
        when: {targets: {glob: "scratch.*"}}
        reason: The scratch schema is disposable.
        expires: 2027-03-31
    tiers: {high: k_of_n}                 # organisation policy only: tier -> gate type
    groups: [maintainers, dba]            # organisation policy only: approver groups

Parsing works on the YAML node tree so every problem carries ``file:line:column``;
:func:`parse_document` collects *all* problems (``ringfence policy lint``), the loaders
raise :class:`PolicyError` with the first. A pack that fails to load never yields a
partial policy.
"""

from __future__ import annotations

import enum
import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from importlib import resources
from pathlib import Path
from typing import Any

from ringfence.errors import PolicyError
from ringfence.model import ApprovalRequirement, Outcome, RiskTier
from ringfence.policy.rules import (
    ACTION_FIELDS,
    DAYS,
    MATCH_KEYS,
    NUMERIC_OPERATORS,
    OPERATORS,
    PRINCIPAL_FIELDS,
    SCALAR_MATCH_KEYS,
    TIME_FIELDS,
    Check,
    Condition,
    Rule,
    RuleException,
    RuleIndex,
    TimeCondition,
    glob_problem,
    regex_problem,
)

BUILTIN_PACKS: tuple[str, ...] = (
    "core",
    "git",
    "fs",
    "db",
    "cloud",
    "k8s",
    "deploy",
    "credentials",
    "secrets",
    "gate",
)

PACK_FIELDS = frozenset({"pack", "description", "rules", "exceptions", "tiers", "groups"})
RULE_FIELDS = frozenset(
    {
        "id",
        "effect",
        "when",
        "match",
        "unless",
        "decision",
        "tier",
        "reason",
        "alternative",
        "approval",
        "description",
    }
)
UNLESS_FIELDS = frozenset({"when", "match", "reason", "expires"})
EXCEPTION_FIELDS = UNLESS_FIELDS | {"exception_for"}
APPROVAL_FIELDS = frozenset({"approvers", "k", "at_least", "window", "ttl", "runtime_prompt"})


class GateType(enum.StrEnum):
    """How a risk tier is gated."""

    AUTOMATIC = "automatic"
    SINGLE_APPROVER = "single_approver"
    K_OF_N = "k_of_n"
    SCHEDULED_WINDOW = "scheduled_window"
    NEVER = "never"


DEFAULT_TIERS: Mapping[RiskTier, GateType] = {
    RiskTier.TRIVIAL: GateType.AUTOMATIC,
    RiskTier.LOW: GateType.AUTOMATIC,
    RiskTier.MEDIUM: GateType.SINGLE_APPROVER,
    RiskTier.HIGH: GateType.K_OF_N,
    RiskTier.CRITICAL: GateType.NEVER,
}


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with a policy file, with a 1-based line and column."""

    path: str
    line: int
    column: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.column}: {self.message}"


@dataclass(frozen=True, slots=True)
class Policy:
    """A compiled set of rules, indexed by effect kind, with a digest of its sources.

    ``context_rules`` are the rules without an effect kind (pure ``match`` rules): they
    are judged once per action. ``tiers`` maps risk tiers to gate types; ``groups`` is
    the set of declared approver groups (None if none were declared).
    """

    rules: tuple[Rule, ...]
    by_kind: Mapping[str, tuple[Rule, ...]]
    digest: str
    context_rules: tuple[Rule, ...] = ()
    tiers: Mapping[RiskTier, GateType] = field(default_factory=lambda: dict(DEFAULT_TIERS))
    groups: frozenset[str] | None = None
    kind_index: Mapping[str, RuleIndex] = field(default_factory=dict, repr=False, compare=False)
    context_index: RuleIndex = field(default_factory=lambda: RuleIndex((), ()), repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.by_kind and not self.kind_index:
            pos = {id(r): i for i, r in enumerate(self.rules)}
            object.__setattr__(
                self,
                "kind_index",
                {
                    k: RuleIndex.build([(pos.get(id(r), i), r) for i, r in enumerate(rs)], False)
                    for k, rs in self.by_kind.items()
                },
            )
        if self.context_rules and not self.context_index.always and not self.context_index.keyed:
            object.__setattr__(self, "context_index", RuleIndex.build(list(enumerate(self.context_rules)), True))

    @classmethod
    def from_rules(
        cls,
        rules: Iterable[Rule],
        sources: Iterable[bytes],
        *,
        tiers: Mapping[RiskTier, GateType] | None = None,
        groups: frozenset[str] | None = None,
    ) -> Policy:
        rules_t = tuple(rules)
        index: dict[str, list[Rule]] = {}
        context: list[Rule] = []
        for rule in rules_t:
            if not rule.effects:
                context.append(rule)
            for kind in sorted(rule.effects):
                index.setdefault(kind, []).append(rule)
        h = hashlib.sha256()
        for src in sources:
            h.update(hashlib.sha256(src).digest())
        return cls(
            rules_t,
            {k: tuple(v) for k, v in index.items()},
            "sha256:" + h.hexdigest(),
            tuple(context),
            dict(tiers) if tiers is not None else dict(DEFAULT_TIERS),
            groups,
        )

    def gate_type(self, tier: RiskTier | str) -> GateType:
        return self.tiers.get(RiskTier(tier), DEFAULT_TIERS[RiskTier(tier)])

    def rule(self, rule_id: str) -> Rule | None:
        for r in self.rules:
            if r.id == rule_id:
                return r
        return None


@dataclass(slots=True)
class ExceptionDecl:
    """An ``exceptions:`` entry: an exception for a rule named by id."""

    target: str
    exception: RuleException
    line: int
    column: int


@dataclass(slots=True)
class PackDoc:
    """One parsed pack file and every problem found in it."""

    origin: str
    pack: str = ""
    rules: list[Rule] = field(default_factory=list)
    exceptions: list[ExceptionDecl] = field(default_factory=list)
    tiers: dict[RiskTier, GateType] | None = None
    groups: frozenset[str] | None = None
    approver_refs: list[tuple[str, int, int]] = field(default_factory=list)
    rule_marks: dict[str, tuple[int, int]] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    section_marks: dict[str, tuple[int, int]] = field(default_factory=dict)
    is_tests: bool = False
    """The file is a policy *test* file (``tests:`` and no ``pack:``), not a pack."""


def load_builtin() -> Policy:
    """The standard policy: every built-in pack."""
    sources: list[bytes] = []
    rules: list[Rule] = []
    base = resources.files("ringfence.policy") / "packs"
    for name in BUILTIN_PACKS:
        data = (base / f"{name}.yaml").read_bytes()
        sources.append(data)
        rules.extend(parse_pack(data, f"<builtin>/{name}.yaml"))
    _check_unique(rules)
    return Policy.from_rules(rules, sources)


def load_files(paths: Iterable[Path], base: Policy | None = None) -> Policy:
    """``base`` plus the packs in ``paths`` as one later layer (see :mod:`.layers`)."""
    from ringfence.policy.layers import Layer, build

    return build([Layer("policy", tuple(paths))], base=base)


def parse_pack(data: bytes, origin: str) -> list[Rule]:
    """The rules of one pack; raises :class:`PolicyError` naming the first problem."""
    doc = parse_document(data, origin)
    if doc.problems:
        raise PolicyError(str(doc.problems[0]))
    return doc.rules


def _loader_cls() -> Any:
    import yaml

    return getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def parse_document(data: bytes, origin: str) -> PackDoc:
    """Parse one pack file, collecting every problem (never raises for bad input)."""
    import yaml

    doc = PackDoc(origin)
    try:
        root = yaml.compose(data, Loader=_loader_cls())
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line, col = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
        doc.problems.append(Problem(origin, line, col, f"not valid YAML: {getattr(exc, 'problem', exc)}"))
        return doc
    if _is_test_file(root):
        doc.is_tests = True
        return doc
    _Parser(doc).pack(root)
    return doc


def _is_test_file(root: Any) -> bool:
    """Policy test files (``ringfence policy test``) live next to the packs."""
    import yaml

    if not isinstance(root, yaml.MappingNode):
        return False
    keys = {k.value for k, _ in root.value if isinstance(k, yaml.ScalarNode)}
    return "tests" in keys and "pack" not in keys


class _Parser:
    def __init__(self, doc: PackDoc) -> None:
        import yaml

        self.doc = doc
        self.yaml = yaml
        self.constructor = yaml.SafeLoader("")

    # -- helpers ---------------------------------------------------------------------

    def err(self, node: Any, message: str) -> None:
        if node is None:
            line, col = 1, 1
        else:
            line, col = node.start_mark.line + 1, node.start_mark.column + 1
        self.doc.problems.append(Problem(self.doc.origin, line, col, message))

    def value(self, node: Any) -> Any:
        try:
            return self.constructor.construct_object(node, deep=True)
        except Exception as exc:  # e.g. a bad timestamp or an unhashable key
            self.err(node, f"cannot read value: {exc}")
            return None

    def is_map(self, node: Any) -> bool:
        return isinstance(node, self.yaml.MappingNode)

    def is_seq(self, node: Any) -> bool:
        return isinstance(node, self.yaml.SequenceNode)

    def items(self, node: Any, where: str, known: frozenset[str] | None) -> dict[str, tuple[Any, Any]]:
        """``key -> (key node, value node)``; reports unknown and duplicate keys."""
        out: dict[str, tuple[Any, Any]] = {}
        for knode, vnode in node.value:
            key = self.value(knode)
            if not isinstance(key, str):
                self.err(knode, f"{where}: keys must be strings, not {key!r}")
                continue
            if key in out:
                self.err(knode, f"{where}: duplicate key {key!r}")
                continue
            if known is not None and key not in known:
                self.err(knode, f"{where}: unknown field {key!r} (known: {', '.join(sorted(known))})")
                continue
            out[key] = (knode, vnode)
        return out

    def string(self, node: Any, what: str, *, required: bool = True) -> str | None:
        if node is None:
            return None
        v = self.value(node)
        if not isinstance(v, str) or (required and not v.strip()):
            self.err(node, f"{what} must be a non-empty string")
            return None
        return v

    # -- pack ------------------------------------------------------------------------

    def pack(self, root: Any) -> None:
        if root is None or not self.is_map(root):
            self.err(root, "a pack is a mapping with 'pack' and 'rules'")
            return
        fields = self.items(root, "pack", PACK_FIELDS)
        for key, (knode, _) in fields.items():
            self.doc.section_marks[key] = (knode.start_mark.line + 1, knode.start_mark.column + 1)
        if "pack" not in fields:
            self.err(root, "'pack' is missing: name the pack")
        else:
            self.doc.pack = self.string(fields["pack"][1], "'pack'") or ""
        if "description" in fields:
            self.string(fields["description"][1], "'description'", required=False)
        if "tiers" in fields:
            self.tiers(fields["tiers"][1])
        if "groups" in fields:
            self.groups(fields["groups"][1])
        if "rules" in fields:
            rules = fields["rules"][1]
            if not self.is_seq(rules):
                self.err(rules, "'rules' must be a list")
            else:
                for i, rnode in enumerate(rules.value):
                    rule = self.rule(rnode, i)
                    if rule is not None:
                        self.doc.rules.append(rule)
        if "exceptions" in fields:
            excs = fields["exceptions"][1]
            if not self.is_seq(excs):
                self.err(excs, "'exceptions' must be a list")
            else:
                for enode in excs.value:
                    self.exception_decl(enode)

    def tiers(self, node: Any) -> None:
        if not self.is_map(node):
            self.err(node, "'tiers' must map a risk tier to a gate type")
            return
        out: dict[RiskTier, GateType] = {}
        for key, (_k, vnode) in self.items(node, "tiers", frozenset(t.value for t in RiskTier)).items():
            v = self.value(vnode)
            try:
                out[RiskTier(key)] = GateType(v)
            except ValueError:
                self.err(vnode, f"tiers.{key}: gate type must be one of {', '.join(g.value for g in GateType)}")
        self.doc.tiers = out

    def groups(self, node: Any) -> None:
        names: list[str] = []
        if self.is_map(node):  # groups: {name: {members: ...}} -- only the names matter here
            names = list(self.items(node, "groups", None))
        elif self.is_seq(node):
            for g in node.value:
                s = self.string(g, "a group name")
                if s:
                    names.append(s)
        else:
            self.err(node, "'groups' must be a list of group names or a mapping of them")
            return
        self.doc.groups = frozenset(names)

    # -- rules -----------------------------------------------------------------------

    def rule(self, node: Any, index: int) -> Rule | None:
        from ringfence.analyze.kinds import EFFECT_KINDS

        if not self.is_map(node):
            self.err(node, f"rule #{index + 1}: a rule is a mapping")
            return None
        before = len(self.doc.problems)
        label = f"rule #{index + 1}"
        for knode, vnode in node.value:
            if (
                isinstance(knode, self.yaml.ScalarNode)
                and knode.value == "id"
                and isinstance(vnode, self.yaml.ScalarNode)
            ):
                label = f"rule {vnode.value}"
        f = self.items(node, label, RULE_FIELDS)
        rid = self.string(f["id"][1], f"rule #{index + 1}: 'id'") if "id" in f else None
        if "id" not in f:
            self.err(node, f"rule #{index + 1}: 'id' is missing")
        where = f"rule {rid}" if rid else f"rule #{index + 1}"
        if rid:
            mark = f["id"][1].start_mark
            if rid in self.doc.rule_marks:
                self.err(f["id"][1], f"duplicate rule id {rid!r}")
            else:
                self.doc.rule_marks[rid] = (mark.line + 1, mark.column + 1)
        kinds: list[str] = []
        if "effect" in f:
            enode = f["effect"][1]
            raw = self.value(enode)
            kinds_raw = [raw] if isinstance(raw, str) else raw
            if not isinstance(kinds_raw, list) or not kinds_raw or not all(isinstance(k, str) for k in kinds_raw):
                self.err(enode, f"{where}: 'effect' must be an effect kind or a list of them")
            else:
                knodes = enode.value if self.is_seq(enode) else [enode]
                for k, kn in zip(kinds_raw, knodes, strict=False):
                    if k not in EFFECT_KINDS:
                        self.err(kn, f"{where}: unknown effect kind {k!r}")
                    else:
                        kinds.append(k)
        elif "match" not in f:
            self.err(node, f"{where}: a rule needs 'effect', 'match' or both")
        if "when" in f and "effect" not in f:
            self.err(f["when"][0], f"{where}: 'when' tests effect attributes, so it needs 'effect'")
        outcome = Outcome.DENY
        if "decision" not in f:
            self.err(node, f"{where}: 'decision' is missing (allow, require_approval or deny)")
        else:
            try:
                outcome = Outcome(str(self.value(f["decision"][1])))
            except ValueError:
                self.err(f["decision"][1], f"{where}: 'decision' must be allow, require_approval or deny")
        tier = RiskTier.MEDIUM
        if "tier" in f:
            try:
                tier = RiskTier(str(self.value(f["tier"][1])))
            except ValueError:
                self.err(f["tier"][1], f"{where}: 'tier' must be one of {', '.join(t.value for t in RiskTier)}")
        reason = ""
        if "reason" not in f:
            self.err(node, f"{where}: 'reason' is missing: say why in a sentence")
        else:
            reason = self.string(f["reason"][1], f"{where}: 'reason'") or ""
        alternative = None
        if "alternative" in f:
            alternative = self.string(f["alternative"][1], f"{where}: 'alternative'", required=False)
        if "description" in f:
            self.string(f["description"][1], f"{where}: 'description'", required=False)
        conditions = self.conditions(f["when"][1], where, "when") if "when" in f else ()
        match = self.match(f["match"][1], where) if "match" in f else ()
        approval = None
        if "approval" in f:
            if outcome is not Outcome.REQUIRE_APPROVAL:
                self.err(f["approval"][0], f"{where}: 'approval' only applies to decision require_approval")
            else:
                approval = self.approval(f["approval"][1], where)
        elif outcome is Outcome.REQUIRE_APPROVAL:
            approval = ApprovalRequirement()
        unless: list[RuleException] = []
        if "unless" in f:
            unode = f["unless"][1]
            if not self.is_seq(unode):
                self.err(unode, f"{where}: 'unless' must be a list of exceptions")
            else:
                for en in unode.value:
                    exc = self.exception(en, rid or "", where, UNLESS_FIELDS)
                    if exc is not None:
                        unless.append(exc)
        if len(self.doc.problems) != before or not rid:
            return None
        return Rule(
            id=rid,
            effects=frozenset(kinds),
            conditions=conditions,
            outcome=outcome,
            tier=tier,
            reason=reason.strip(),
            alternative=alternative,
            approval=approval,
            pack=self.doc.pack,
            match=match,
            unless=tuple(unless),
            origin=self.doc.origin,
        )

    def exception_decl(self, node: Any) -> None:
        if not self.is_map(node):
            self.err(node, "an exception is a mapping with 'exception_for', 'reason' and 'expires'")
            return
        target = None
        for knode, vnode in node.value:
            if self.value(knode) == "exception_for":
                target = self.string(vnode, "'exception_for'")
        if target is None:
            self.err(node, "exception: 'exception_for' is missing: name the rule id it is an exception to")
        exc = self.exception(node, target or "", f"exception for {target}", EXCEPTION_FIELDS)
        if exc is not None and target:
            mark = node.start_mark
            self.doc.exceptions.append(ExceptionDecl(target, exc, mark.line + 1, mark.column + 1))

    def exception(self, node: Any, rule_id: str, where: str, known: frozenset[str]) -> RuleException | None:
        if not self.is_map(node):
            self.err(node, f"{where}: an exception is a mapping with 'reason' and 'expires'")
            return None
        before = len(self.doc.problems)
        f = self.items(node, f"{where}: exception", known)
        reason = None
        if "reason" not in f:
            self.err(node, f"{where}: exception without 'reason': say why the rule does not apply")
        else:
            reason = self.string(f["reason"][1], f"{where}: exception 'reason'")
        expires: date | None = None
        if "expires" not in f:
            self.err(node, f"{where}: exception without 'expires': give a date (YYYY-MM-DD) it ends")
        else:
            raw = self.value(f["expires"][1])
            if isinstance(raw, datetime):
                expires = raw.date()
            elif isinstance(raw, date):
                expires = raw
            else:
                self.err(f["expires"][1], f"{where}: exception 'expires' must be a date (YYYY-MM-DD)")
        conditions = self.conditions(f["when"][1], where, "when") if "when" in f else ()
        match = self.match(f["match"][1], where) if "match" in f else ()
        if len(self.doc.problems) != before or reason is None or expires is None:
            return None
        return RuleException(rule_id, reason.strip(), expires, conditions, match, self.doc.origin)

    # -- conditions ------------------------------------------------------------------

    def conditions(self, node: Any, where: str, what: str, prefix: str = "") -> tuple[Condition, ...]:
        if not self.is_map(node):
            self.err(node, f"{where}: '{what}' must be a mapping of attribute to condition")
            return ()
        out: list[Condition] = []
        for attr, (_, vnode) in self.items(node, f"{where}: '{what}'", None).items():
            cond = self.condition(prefix + attr, vnode, where, attr)
            if cond is not None:
                out.append(cond)
        return tuple(out)

    def condition(self, attr: str, node: Any, where: str, label: str) -> Condition | None:
        if self.is_seq(node):
            self.err(node, f"{where}: condition on {label!r} is a list; write {{in: [...]}}")
            return None
        if not self.is_map(node):
            return Condition(attr, "eq", self.value(node))
        if len(node.value) != 1:
            self.err(node, f"{where}: condition on {label!r} must have exactly one operator")
            return None
        ((onode, vnode),) = node.value
        op = self.value(onode)
        if not isinstance(op, str) or op not in OPERATORS:
            self.err(onode, f"{where}: unknown operator {op!r} on {label!r} (use {', '.join(sorted(OPERATORS))})")
            return None
        value = self.value(vnode)
        if op in ("in", "not_in") and not isinstance(value, list):
            self.err(vnode, f"{where}: {op!r} on {label!r} needs a list")
            return None
        if op in NUMERIC_OPERATORS and (not isinstance(value, int | float) or isinstance(value, bool)):
            self.err(vnode, f"{where}: {op!r} on {label!r} needs a number")
            return None
        if op == "present" and not isinstance(value, bool):
            self.err(vnode, f"{where}: 'present' on {label!r} needs true or false")
            return None
        if op in ("glob", "regex"):
            if not isinstance(value, str):
                self.err(vnode, f"{where}: {op!r} on {label!r} needs a string pattern")
                return None
            bad = glob_problem(value) if op == "glob" else regex_problem(value)
            if bad:
                self.err(vnode, f"{where}: {bad}")
                return None
        if op in ("eq", "not") and isinstance(value, list | dict):
            self.err(vnode, f"{where}: {op!r} on {label!r} needs a single value")
            return None
        return Condition(attr, op, tuple(value) if isinstance(value, list) else value)

    def match(self, node: Any, where: str) -> tuple[Check, ...]:
        if not self.is_map(node):
            self.err(node, f"{where}: 'match' must be a mapping (keys: {', '.join(sorted(MATCH_KEYS))})")
            return ()
        out: list[Check] = []
        for key, (_, vnode) in self.items(node, f"{where}: 'match'", MATCH_KEYS).items():
            if key in SCALAR_MATCH_KEYS:
                cond = self.condition(key, vnode, where, key)
                if cond is not None:
                    out.append(cond)
            elif key == "time":
                tc = self.time(vnode, where)
                if tc is not None:
                    out.append(tc)
            else:
                known = ACTION_FIELDS if key == "action" else PRINCIPAL_FIELDS
                if not self.is_map(vnode):
                    self.err(vnode, f"{where}: 'match.{key}' must be a mapping of field to condition")
                    continue
                fields = self.items(vnode, f"{where}: 'match.{key}'", known)
                for attr, (_, cnode) in fields.items():
                    cond = self.condition(f"{key}.{attr}", cnode, where, f"{key}.{attr}")
                    if cond is not None:
                        out.append(cond)
        return tuple(out)

    def time(self, node: Any, where: str) -> TimeCondition | None:
        if not self.is_map(node):
            self.err(node, f"{where}: 'match.time' must be a mapping with days, hours and tz")
            return None
        f = self.items(node, f"{where}: 'match.time'", TIME_FIELDS)
        ok = True
        days: frozenset[int] | None = None
        if "days" in f:
            raw = self.value(f["days"][1])
            if isinstance(raw, str):
                raw = [raw]
            good = isinstance(raw, list) and bool(raw)
            if not good or not all(isinstance(d, str) and d[:3].lower() in DAYS for d in raw):
                self.err(f["days"][1], f"{where}: 'time.days' must list days ({', '.join(DAYS)})")
                ok = False
            else:
                days = frozenset(DAYS.index(d[:3].lower()) for d in raw)
        start = end = None
        if "hours" in f:
            raw = self.value(f["hours"][1])
            parsed = _hours(raw)
            if parsed is None:
                self.err(f["hours"][1], f"{where}: 'time.hours' must be \"HH:MM-HH:MM\", not {raw!r}")
                ok = False
            else:
                start, end = parsed
        tz = "UTC"
        if "tz" in f:
            raw = self.value(f["tz"][1])
            if not isinstance(raw, str) or not _valid_tz(raw):
                self.err(f["tz"][1], f"{where}: 'time.tz' {raw!r} is not a known time zone (e.g. Europe/Berlin)")
                ok = False
            else:
                tz = raw
        if not f:
            self.err(node, f"{where}: 'match.time' needs days, hours or both")
            ok = False
        return TimeCondition(days, start, end, tz) if ok else None

    def approval(self, node: Any, where: str) -> ApprovalRequirement | None:
        if not self.is_map(node):
            self.err(node, f"{where}: 'approval' must be a mapping")
            return None
        before = len(self.doc.problems)
        f = self.items(node, f"{where}: 'approval'", APPROVAL_FIELDS)
        approvers: list[str] = []
        if "approvers" in f:
            anode = f["approvers"][1]
            raw = self.value(anode)
            if isinstance(raw, str):
                raw = [raw]
            if not isinstance(raw, list) or not all(isinstance(a, str) for a in raw):
                self.err(anode, f"{where}: 'approval.approvers' must be a list of group names")
            else:
                approvers = raw
                nodes = anode.value if self.is_seq(anode) else [anode]
                for a, an in zip(raw, nodes, strict=False):
                    self.doc.approver_refs.append((a, an.start_mark.line + 1, an.start_mark.column + 1))
        k = self._int(f, "k", 1, where, "'approval.k' must be a whole number ≥ 1", minimum=1)
        ttl = self._int(f, "ttl", 3600, where, "'approval.ttl' must be a positive number of seconds", minimum=1)
        at_least: list[tuple[str, int]] = []
        if "at_least" in f:
            lnode = f["at_least"][1]
            raw_min = self.value(lnode)
            if not isinstance(raw_min, dict) or not all(
                isinstance(g, str) and isinstance(n, int) and not isinstance(n, bool) and n >= 1
                for g, n in raw_min.items()
            ):
                self.err(lnode, f"{where}: 'approval.at_least' must map a group to a whole number ≥ 1 (sre: 1)")
            else:
                at_least = [(g, n) for g, n in raw_min.items()]
                for g in raw_min:
                    self.doc.approver_refs.append((g, lnode.start_mark.line + 1, lnode.start_mark.column + 1))
        window = None
        if "window" in f:
            window = self.value(f["window"][1])
            if not isinstance(window, str):
                self.err(f["window"][1], f"{where}: 'approval.window' must be a string")
            else:
                problem = _window_problem(window)
                if problem:
                    self.err(f["window"][1], f"{where}: 'approval.window': {problem}")
        prompt = False
        if "runtime_prompt" in f:
            prompt = self.value(f["runtime_prompt"][1])
            if not isinstance(prompt, bool):
                self.err(f["runtime_prompt"][1], f"{where}: 'approval.runtime_prompt' must be true or false")
        if len(self.doc.problems) != before:
            return None
        return ApprovalRequirement(tuple(approvers), k, window, ttl, bool(prompt), tuple(at_least))

    def _int(self, f: dict[str, tuple[Any, Any]], key: str, default: int, where: str, msg: str, minimum: int) -> int:
        if key not in f:
            return default
        v = self.value(f[key][1])
        if not isinstance(v, int) or isinstance(v, bool) or v < minimum:
            self.err(f[key][1], f"{where}: {msg}")
            return default
        return v


def _hours(raw: Any) -> tuple[time, time] | None:
    if not isinstance(raw, str) or raw.count("-") != 1:
        return None
    a, b = (s.strip() for s in raw.split("-"))
    try:
        return _hhmm(a), _hhmm(b)
    except ValueError:
        return None


def _hhmm(s: str) -> time:
    hh, _, mm = s.partition(":")
    if not hh.isdigit() or not mm.isdigit() or len(mm) != 2:
        raise ValueError(s)
    h, m = int(hh), int(mm)
    if h == 24 and m == 0:
        return time(23, 59, 59, 999999)
    return time(h, m)


def _valid_tz(name: str) -> bool:
    from zoneinfo import ZoneInfo

    try:
        ZoneInfo(name)
    except Exception:
        return False
    return True


def _check_unique(rules: list[Rule]) -> None:
    seen: set[str] = set()
    for rule in rules:
        if rule.id in seen:
            raise PolicyError(f"{rule.origin}: duplicate rule id {rule.id!r}")
        seen.add(rule.id)


def _window_problem(text: str) -> str | None:
    """Why ``text`` is neither a window name nor an inline window (None if it may be either).

    A bare name (``business-hours``) is resolved against the configuration's ``windows:``
    when a request is created; anything with a space must parse as an inline window."""
    if " " not in text.strip():
        return None
    from ringfence.control.windows import parse_window
    from ringfence.errors import ControlError

    try:
        parse_window(text)
    except ControlError as exc:
        return str(exc)
    return None
