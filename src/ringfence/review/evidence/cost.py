"""Monthly cost: price tables for Terraform plans, Infracost output, and the ``terraform.cost`` finding."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path

import yaml

from ringfence.jsontype import json_type
from ringfence.review.evidence._read import Source, as_list, as_object, as_str
from ringfence.review.findings import Finding, Severity

_PRICES_EXPECTED = "a YAML or JSON mapping of resource type or `type.attribute=value` to a monthly price"
_INFRACOST_EXPECTED = "the output of `infracost breakdown --format json` or `infracost diff --format json`"

_CURRENCY_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "INR": "₹"}


def money(amount: float, currency: str = "USD") -> str:
    """``$12.50`` for dollars (and a few other symbols), ``12.50 CHF`` otherwise."""
    sign = "−" if amount < 0 else ""
    symbol = _CURRENCY_SYMBOLS.get(currency.upper())
    return f"{sign}{symbol}{abs(amount):.2f}" if symbol else f"{sign}{abs(amount):.2f} {currency}"


def cost_finding(delta: float, currency: str, detail: str, evidence: str) -> list[Finding]:
    """A ``terraform.cost`` finding when the change adds monthly cost, else nothing."""
    if delta <= 0:
        return []
    severity = Severity.LOW if delta < 100 else Severity.MEDIUM if delta < 1000 else Severity.HIGH
    message = f"adds about {money(delta, currency)}/month ({detail})"
    return [Finding("terraform.cost", severity, message, evidence=evidence)]


# --- price tables -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Prices:
    """A price table: monthly price by type, and by ``type.attribute=value``."""

    src: Source
    by_type: dict[str, float]
    by_attribute: dict[str, list[tuple[str, str, float, str]]]  # type -> [(attribute, value, price, key)]

    def price(self, rtype: str, values: Mapping[str, object], address: str) -> float | None:
        """The monthly price of a resource with these attribute values, or None when unpriced."""
        matches = {
            key: price
            for attribute, value, price, key in self.by_attribute.get(rtype, ())
            if _attribute_text(values.get(attribute)) == value
        }
        if len(set(matches.values())) > 1:
            keys = ", ".join(sorted(matches))
            self.src.fail(f"the keys {keys} all match {address} with different prices; keep one", expectation=False)
        if matches:
            return next(iter(matches.values()))
        return self.by_type.get(rtype)


_PRICE_KEY = re.compile(r"(?P<type>[a-z][a-z0-9_]*)(?:\.(?P<attribute>[A-Za-z0-9_]+)=(?P<value>.+))?")


def _attribute_text(value: object) -> str | None:
    """A scalar attribute value as a price key writes it (``true``, ``20``, ``db.r6g.large``)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    return value if isinstance(value, str) else None


def load_prices(path: Path) -> Prices:
    """Read and validate a price table."""
    src = Source("price table", path, _PRICES_EXPECTED)
    if path.suffix.lower() == ".json":
        doc = src.json()
    else:
        try:
            doc = yaml.safe_load(src.read())
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
            src.fail(f"is not valid YAML{at}")
    if not isinstance(doc, dict) or not doc:
        src.fail("is not a non-empty mapping")
    prices = Prices(src, {}, {})
    for key, price in doc.items():
        match = _PRICE_KEY.fullmatch(key) if isinstance(key, str) else None
        if match is None:
            src.fail(f"key {key!r} is neither a resource type nor `type.attribute=value`")
        if isinstance(price, bool) or not isinstance(price, int | float) or not math.isfinite(price) or price < 0:
            src.fail(f"the price of {key!r} is {price!r}, not a non-negative number")
        if match["attribute"] is None:
            prices.by_type[match["type"]] = float(price)
        else:
            entry = (match["attribute"], match["value"], float(price), key)
            prices.by_attribute.setdefault(match["type"], []).append(entry)
    return prices


# --- Infracost --------------------------------------------------------------------------------


def _decimal(src: Source, doc: Mapping[str, object], field: str) -> Decimal | None:
    """A decimal field of Infracost output (a string, or null)."""
    value = doc.get(field)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        src.fail(f"`{field}` is a JSON {json_type(value)}, not a decimal string")
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        src.fail(f"`{field}` is {value!r}, not a decimal number")
    if not number.is_finite():
        src.fail(f"`{field}` is {value!r}, not a finite number")
    return number


def infracost(path: Path) -> tuple[list[Finding], float | None]:
    """The monthly cost delta reported by Infracost, and a ``terraform.cost`` finding when it is positive.

    The delta is ``diffTotalMonthlyCost`` when present, else ``totalMonthlyCost -
    pastTotalMonthlyCost``; None when neither can be computed. A project Infracost failed to
    price is an error, since the totals would leave it out.
    """
    src = Source("Infracost output", path, _INFRACOST_EXPECTED)
    doc = src.json_object()
    if not {"totalMonthlyCost", "diffTotalMonthlyCost", "pastTotalMonthlyCost"} & doc.keys():
        src.fail("has none of `totalMonthlyCost`, `pastTotalMonthlyCost`, `diffTotalMonthlyCost`")
    currency = doc.get("currency", "USD") or "USD"
    if not isinstance(currency, str):
        src.fail(f"`currency` is a JSON {json_type(currency)}, not a currency code")
    for project in as_list(doc.get("projects")):
        errors = [e for e in as_list(as_object(as_object(project).get("metadata")).get("errors")) if e]
        if errors:
            name = as_str(as_object(project).get("name")) or "?"
            reason = as_str(as_object(errors[0]).get("message")) or "an error"
            src.fail(f"project {name} was not priced ({reason}), so the totals leave it out", expectation=False)
    total, past = _decimal(src, doc, "totalMonthlyCost"), _decimal(src, doc, "pastTotalMonthlyCost")
    diff = _decimal(src, doc, "diffTotalMonthlyCost")
    if diff is None:
        if total is None or past is None:
            return [], None
        diff = total - past
    delta = float(round(diff, 2)) + 0.0
    if total is not None and past is not None:
        detail = f"{currency}; Infracost monthly total {money(float(past), currency)} → {money(float(total), currency)}"
    else:
        detail = f"{currency}; Infracost diffTotalMonthlyCost"
    return cost_finding(delta, currency, detail, evidence=str(path)), delta
