"""Rules: what they match and what they answer.

A rule matches one or more effect kinds and, optionally, conditions on the effect's
attributes. Conditions (``when``) map an attribute name to either a plain value
(equality) or one operator:

- ``{in: [..]}`` / ``{not_in: [..]}`` membership;
- ``{glob: "pat"}`` shell-style glob (``*``, ``?``, ``[..]``);
- ``{present: true|false}`` whether the attribute is set (and not null/empty);
- ``{not: value}`` inequality;
- ``{gte: n}`` / ``{lte: n}`` numeric comparison.

When the effect's attribute is a list (``targets``, ``paths``) the condition holds if it
holds for any element (``not``/``not_in`` hold only if they hold for every element).
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ringfence.model import ApprovalRequirement, AttrValue, Effect, Outcome, RiskTier

OPERATORS = frozenset({"in", "not_in", "glob", "present", "not", "gte", "lte"})


@dataclass(frozen=True, slots=True)
class Condition:
    attr: str
    op: str  # "eq" or one of OPERATORS
    value: Any

    def holds(self, attrs: Mapping[str, AttrValue]) -> bool:
        actual = attrs.get(self.attr)
        if self.op == "present":
            present = actual is not None and actual != () and actual != ""
            return present is bool(self.value)
        values: Sequence[Any] = actual if isinstance(actual, tuple) else (actual,)
        if self.op in ("not", "not_in"):
            return all(self._one(v) for v in values)
        return any(self._one(v) for v in values)

    def _one(self, v: Any) -> bool:
        op, want = self.op, self.value
        if op == "eq":
            return bool(v == want)
        if op == "not":
            return bool(v != want)
        if op == "in":
            return v in want
        if op == "not_in":
            return v not in want
        if op == "glob":
            return isinstance(v, str) and fnmatch.fnmatchcase(v, want)
        if op == "gte":
            return isinstance(v, int | float) and not isinstance(v, bool) and v >= want
        if op == "lte":
            return isinstance(v, int | float) and not isinstance(v, bool) and v <= want
        raise ValueError(f"unknown operator {op!r}")


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

    def matches(self, effect: Effect) -> bool:
        return effect.kind in self.effects and all(c.holds(effect.attrs) for c in self.conditions)
