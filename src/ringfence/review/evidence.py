"""Evidence from tools people already run, turned into findings.

Four readers, each strict about its input and silent about nothing:

* :func:`terraform_plan` reads ``terraform show -json PLANFILE`` output: deletions and
  replacements (critical when the resource holds data), and, given a price table, the
  monthly cost delta;
* :func:`infracost` reads ``infracost breakdown|diff --format json`` output: the cost delta;
* :func:`sarif` reads SARIF 2.1.0 and keeps the results the change introduced;
* :func:`coverage` reads Cobertura XML (``coverage xml``): a coverage drop and changed lines
  the tests do not run.

A missing, oversized or malformed file raises :class:`ReviewInputError` naming the file,
what is wrong and what was expected; no reader returns a partial result.
"""

from __future__ import annotations

import fnmatch
import json
import math
import re
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import NoReturn
from urllib.parse import unquote, urlsplit

import yaml

from ringfence.review.findings import Finding, ReviewInputError, Severity

MAX_INPUT_BYTES = 64 * 1024 * 1024
"""Evidence files larger than this are refused rather than parsed."""

HOLDS_DATA: tuple[str, ...] = (
    # AWS
    "aws_db_instance",
    "aws_db_snapshot",
    "aws_db_cluster_snapshot",
    "aws_rds_cluster",
    "aws_rds_cluster_instance",
    "aws_rds_global_cluster",
    "aws_dynamodb_table",
    "aws_dynamodb_global_table",
    "aws_s3_bucket",
    "aws_efs_file_system",
    "aws_elasticache_*",
    "aws_memorydb_cluster",
    "aws_redshift_cluster",
    "aws_redshiftserverless_namespace",
    "aws_docdb_cluster",
    "aws_docdb_cluster_instance",
    "aws_neptune_cluster",
    "aws_neptune_cluster_instance",
    "aws_ebs_volume",
    "aws_ebs_snapshot",
    "aws_fsx_*_file_system",
    "aws_opensearch_domain",
    "aws_elasticsearch_domain",
    "aws_msk_cluster",
    "aws_kinesis_stream",
    "aws_keyspaces_table",
    "aws_timestreamwrite_table",
    "aws_qldb_ledger",
    "aws_backup_vault",
    "aws_glacier_vault",
    # Google Cloud
    "google_sql_database_instance",
    "google_sql_database",
    "google_bigquery_dataset",
    "google_bigquery_table",
    "google_storage_bucket",
    "google_spanner_*",
    "google_bigtable_instance",
    "google_bigtable_table",
    "google_firestore_database",
    "google_alloydb_cluster",
    "google_alloydb_instance",
    "google_redis_instance",
    "google_filestore_instance",
    "google_compute_disk",
    # Azure
    "azurerm_*sql*",
    "azurerm_postgresql_*",
    "azurerm_mysql_*",
    "azurerm_cosmosdb_*",
    "azurerm_storage_account",
    "azurerm_storage_container",
    "azurerm_storage_share",
    "azurerm_managed_disk",
    "azurerm_redis_cache",
    # Kubernetes
    "kubernetes_persistent_volume*",
)
"""Resource types (exact names or ``fnmatch`` globs) whose deletion or replacement loses data."""

NO_DATA_SUFFIXES: tuple[str, ...] = (
    "_firewall_rule",
    "_virtual_network_rule",
    "_configuration",
    "_parameter_group",
    "_subnet_group",
    "_user",
    "_user_group",
    "_administrator",
    "_policy",
    "_role_assignment",
    "_role_definition",
    "_vulnerability_assessment",
)
"""Type suffixes that a :data:`HOLDS_DATA` glob matches but that hold no data (rules, settings, accounts)."""

_PLAN_EXPECTED = "the output of `terraform show -json PLANFILE` (a saved plan)"
_PRICES_EXPECTED = "a YAML or JSON mapping of resource type or `type.attribute=value` to a monthly price"
_INFRACOST_EXPECTED = "the output of `infracost breakdown --format json` or `infracost diff --format json`"
_SARIF_EXPECTED = 'a SARIF 2.1.0 log (`version` "2.1.0" and a `runs` list)'
_COVERAGE_EXPECTED = "a Cobertura XML report (as `coverage xml` writes) with a <coverage line-rate=...> root"

_CURRENCY_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "INR": "₹"}


# --- reading ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Source:
    """An input file, and how to say what is wrong with it."""

    what: str
    path: Path
    expected: str

    def fail(self, problem: str, *, expectation: bool = True) -> NoReturn:
        """Raise a :class:`ReviewInputError` naming this file, the problem and what was expected."""
        tail = f"; expected {self.expected}" if expectation else ""
        raise ReviewInputError(f"{self.what} {self.path}: {problem}{tail}")

    def read(self) -> bytes:
        """The file's bytes; refuse a missing, unreadable or oversized file."""
        try:
            if self.path.stat().st_size > MAX_INPUT_BYTES:
                self._too_big()
            with self.path.open("rb") as fh:
                data = fh.read(MAX_INPUT_BYTES + 1)
        except FileNotFoundError:
            self.fail("no such file")
        except IsADirectoryError:
            self.fail("is a directory, not a file")
        except OSError as exc:
            self.fail(f"cannot be read ({exc.strerror or exc})")
        if len(data) > MAX_INPUT_BYTES:
            self._too_big()
        if not data.strip():
            self.fail("is empty")
        return data

    def _too_big(self) -> NoReturn:
        self.fail(f"is larger than {MAX_INPUT_BYTES // (1024 * 1024)} MiB, refused", expectation=False)

    def json(self) -> object:
        """The file parsed as JSON."""
        data = self.read()
        try:
            return json.loads(data)
        except UnicodeDecodeError:
            self.fail("is not UTF-8 text")
        except json.JSONDecodeError as exc:
            self.fail(f"is not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})")
        except RecursionError:
            self.fail("is nested too deeply to parse")

    def json_object(self) -> dict[str, object]:
        """The file parsed as a JSON object."""
        doc = self.json()
        if not isinstance(doc, dict):
            self.fail(f"holds a JSON {_json_kind(doc)}, not an object")
        return doc


def _json_kind(value: object) -> str:
    """The JSON name of a parsed value's type, for error messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def _obj(value: object) -> dict[str, object]:
    """``value`` if it is a JSON object, else an empty one (for optional parts)."""
    return value if isinstance(value, dict) else {}


def _list(value: object) -> list[object]:
    """``value`` if it is a JSON array, else an empty one (for optional parts)."""
    return value if isinstance(value, list) else []


def _str(value: object) -> str | None:
    """``value`` if it is a non-empty string."""
    return value if isinstance(value, str) and value else None


# --- cost findings ----------------------------------------------------------------------------


def _money(amount: float, currency: str = "USD") -> str:
    """``$12.50`` for dollars (and a few other symbols), ``12.50 CHF`` otherwise."""
    sign = "−" if amount < 0 else ""
    symbol = _CURRENCY_SYMBOLS.get(currency.upper())
    return f"{sign}{symbol}{abs(amount):.2f}" if symbol else f"{sign}{abs(amount):.2f} {currency}"


def _cost_finding(delta: float, currency: str, detail: str, evidence: str) -> list[Finding]:
    """A ``terraform.cost`` finding when the change adds monthly cost, else nothing."""
    if delta <= 0:
        return []
    severity = Severity.LOW if delta < 100 else Severity.MEDIUM if delta < 1000 else Severity.HIGH
    message = f"adds about {_money(delta, currency)}/month ({detail})"
    return [Finding("terraform.cost", severity, message, evidence=evidence)]


# --- Terraform plan ---------------------------------------------------------------------------


def holds_data(resource_type: str) -> bool:
    """Whether deleting or replacing a resource of this type destroys stored data (:data:`HOLDS_DATA`)."""
    if resource_type.endswith(NO_DATA_SUFFIXES):
        return False
    return any(fnmatch.fnmatchcase(resource_type, pattern) for pattern in HOLDS_DATA)


@dataclass(frozen=True, slots=True)
class _Change:
    """One entry of a plan's ``resource_changes``."""

    address: str
    type: str
    actions: tuple[str, ...]
    before: dict[str, object]
    after: dict[str, object]
    forced_by: tuple[str, ...]

    @property
    def action(self) -> str:
        """``delete``, ``replace``, ``create``, ``update`` or ``none`` (no-op, read, forget)."""
        if self.actions == ("delete",):
            return "delete"
        if sorted(self.actions) == ["create", "delete"]:
            return "replace"
        if self.actions == ("create",):
            return "create"
        return "update" if "update" in self.actions else "none"


def _plan_changes(src: _Source) -> list[_Change]:
    """The managed-resource changes of a plan file."""
    doc = src.json_object()
    if doc.get("errored") is True:
        src.fail("records a plan that errored, so its resource changes are incomplete", expectation=False)
    entries = doc.get("resource_changes")
    if entries is None:
        if "format_version" in doc and isinstance(doc.get("planned_values"), dict):
            return []  # a plan without changes: Terraform omits the empty list
        hint = " (it looks like state: `terraform show -json` was run without a plan file)" if "values" in doc else ""
        src.fail(f"has no `resource_changes` list{hint}")
    if not isinstance(entries, list):
        src.fail(f"`resource_changes` is a JSON {_json_kind(entries)}, not a list")
    return [change for i, entry in enumerate(entries) if (change := _plan_change(src, i, entry)) is not None]


def _plan_change(src: _Source, index: int, entry: object) -> _Change | None:
    """One validated resource change, or None for a data source."""
    where = f"resource_changes[{index}]"
    if not isinstance(entry, dict):
        src.fail(f"{where} is a JSON {_json_kind(entry)}, not an object")
    if entry.get("mode") == "data":
        return None
    address, rtype, change = _str(entry.get("address")), _str(entry.get("type")), entry.get("change")
    if address is None or rtype is None:
        src.fail(f"{where} has no `address` and `type` strings")
    if not isinstance(change, dict):
        src.fail(f"{where} ({address}) has no `change` object")
    actions = change.get("actions")
    if not isinstance(actions, list) or not all(isinstance(a, str) for a in actions):
        src.fail(f"{where} ({address}) has no `change.actions` list of strings")
    forced = tuple(
        ".".join(str(step) for step in path) for path in _list(change.get("replace_paths")) if isinstance(path, list)
    )
    return _Change(address, rtype, tuple(actions), _obj(change.get("before")), _obj(change.get("after")), forced)


def _destruction(change: _Change) -> Finding | None:
    """The finding for a deleted or replaced resource."""
    data = holds_data(change.type)
    if change.action == "delete":
        loss = f": its data goes with it ({change.type} holds data)" if data else f" ({change.type})"
        return Finding(
            "terraform.delete",
            Severity.CRITICAL if data else Severity.HIGH,
            f"{change.address} will be DELETED{loss}",
            evidence=change.address,
        )
    if change.action == "replace":
        how = "re-created, then the old one destroyed" if change.actions[0] == "create" else "destroyed and re-created"
        forced = f", forced by a change to {', '.join(change.forced_by)}" if change.forced_by else ""
        loss = f": its data does not carry over ({change.type} holds data)" if data else f" ({change.type})"
        return Finding(
            "terraform.replace",
            Severity.CRITICAL if data else Severity.HIGH,
            f"{change.address} will be REPLACED ({how}{forced}){loss}",
            evidence=change.address,
        )
    return None


@dataclass(frozen=True, slots=True)
class _Prices:
    """A price table: monthly price by type, and by ``type.attribute=value``."""

    src: _Source
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


def _load_prices(path: Path) -> _Prices:
    """Read and validate a price table."""
    src = _Source("price table", path, _PRICES_EXPECTED)
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
    prices = _Prices(src, {}, {})
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


def _plan_cost(changes: Iterable[_Change], prices: _Prices) -> tuple[list[Finding], float]:
    """The monthly cost delta of the plan's changes under a price table, and its finding."""
    contributions: list[tuple[str, float]] = []
    unpriced = 0
    for change in changes:
        action = change.action
        if action == "none":
            continue
        after = prices.price(change.type, change.after, change.address) if action != "delete" else 0.0
        before = prices.price(change.type, change.before, change.address) if action != "create" else 0.0
        if after is None or before is None:
            # The difference is unknown. Count what the plan creates (and a half-priced update) as unpriced.
            partly_priced = action == "update" and (after, before) != (None, None)
            unpriced += action in ("create", "replace") or partly_priced
            continue
        contributions.append((change.address, after - before))
    delta = round(math.fsum(amount for _, amount in contributions), 2) + 0.0
    detail = f"{len(contributions)} resources priced"
    if unpriced:
        detail += f", {unpriced} created or changed resources not in the price table"
    top = sorted((c for c in contributions if c[1]), key=lambda c: (-abs(c[1]), c[0]))[:5]
    evidence = "; ".join(f"{address} {'+' if amount > 0 else ''}{_money(amount)}" for address, amount in top)
    return _cost_finding(delta, "USD", detail, evidence), delta


def terraform_plan(path: Path, *, prices: Path | None = None) -> tuple[list[Finding], float | None]:
    """Findings for the deletions and replacements of a plan, and its monthly cost delta.

    ``path`` is ``terraform show -json PLANFILE`` output. Every deleted resource is a
    ``terraform.delete`` finding and every replaced one a ``terraform.replace`` finding:
    critical when the type holds data (:func:`holds_data`), high otherwise. With a price
    table (``prices``) the second element is the monthly cost delta (created minus deleted;
    replaced and updated resources count the price difference of their priced attribute)
    and a positive delta adds a ``terraform.cost`` finding; without one it is None.
    """
    src = _Source("Terraform plan", path, _PLAN_EXPECTED)
    changes = _plan_changes(src)
    table = _load_prices(prices) if prices is not None else None
    findings = [finding for change in changes if (finding := _destruction(change)) is not None]
    if table is None:
        return findings, None
    cost, delta = _plan_cost(changes, table)
    return findings + cost, delta


# --- Infracost --------------------------------------------------------------------------------


def _decimal(src: _Source, doc: Mapping[str, object], field: str) -> Decimal | None:
    """A decimal field of Infracost output (a string, or null)."""
    value = doc.get(field)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        src.fail(f"`{field}` is a JSON {_json_kind(value)}, not a decimal string")
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
    src = _Source("Infracost output", path, _INFRACOST_EXPECTED)
    doc = src.json_object()
    if not {"totalMonthlyCost", "diffTotalMonthlyCost", "pastTotalMonthlyCost"} & doc.keys():
        src.fail("has none of `totalMonthlyCost`, `pastTotalMonthlyCost`, `diffTotalMonthlyCost`")
    currency = doc.get("currency", "USD") or "USD"
    if not isinstance(currency, str):
        src.fail(f"`currency` is a JSON {_json_kind(currency)}, not a currency code")
    for project in _list(doc.get("projects")):
        errors = [e for e in _list(_obj(_obj(project).get("metadata")).get("errors")) if e]
        if errors:
            name = _str(_obj(project).get("name")) or "?"
            reason = _str(_obj(errors[0]).get("message")) or "an error"
            src.fail(f"project {name} was not priced ({reason}), so the totals leave it out", expectation=False)
    total, past = _decimal(src, doc, "totalMonthlyCost"), _decimal(src, doc, "pastTotalMonthlyCost")
    diff = _decimal(src, doc, "diffTotalMonthlyCost")
    if diff is None:
        if total is None or past is None:
            return [], None
        diff = total - past
    delta = float(round(diff, 2)) + 0.0
    if total is not None and past is not None:
        detail = (
            f"{currency}; Infracost monthly total {_money(float(past), currency)} → {_money(float(total), currency)}"
        )
    else:
        detail = f"{currency}; Infracost diffTotalMonthlyCost"
    return _cost_finding(delta, currency, detail, evidence=str(path)), delta


# --- SARIF ------------------------------------------------------------------------------------

_LEVEL_SEVERITY = {"error": Severity.HIGH, "warning": Severity.MEDIUM, "note": Severity.LOW, "none": Severity.INFO}


@dataclass(frozen=True, slots=True)
class _Result:
    """One SARIF result, reduced to what identifies and describes it."""

    tool: str
    rule_id: str
    text: str
    uri: str | None
    line: int | None
    severity: Severity
    why: str
    fingerprints: frozenset[tuple[str, str]]

    @property
    def key(self) -> tuple[str, str, str | None, str]:
        """The line-free identity used when a result has no comparable fingerprint."""
        return self.tool, self.rule_id, self.uri, self.text


def _cvss_severity(score: object) -> Severity | None:
    """The severity of a ``security-severity`` CVSS score, None when it is not a number."""
    try:
        value = float(score) if isinstance(score, str | int | float) and not isinstance(score, bool) else math.nan
    except ValueError:
        return None
    if not math.isfinite(value):
        return None
    if value >= 9.0:
        return Severity.CRITICAL
    if value >= 7.0:
        return Severity.HIGH
    if value >= 4.0:
        return Severity.MEDIUM
    return Severity.LOW if value > 0 else Severity.INFO


def _sarif_path(uri: str, bases: Iterable[str] = ()) -> str:
    """A repository path from an artifact URI: no ``file://``, no leading ``./``, percent-decoded."""
    parts = urlsplit(uri)
    if parts.scheme == "file":
        path = unquote((parts.netloc if parts.netloc not in ("", "localhost") else "") + parts.path)
    elif len(parts.scheme) > 1:  # another scheme; a one-letter one is a Windows drive
        return uri
    else:
        path = unquote(uri)
    for base in sorted(bases, key=len, reverse=True):
        prefix = base.rstrip("/") + "/"
        if base and path.startswith(prefix):
            path = path[len(prefix) :]
            break
    while path.startswith("./"):
        path = path[2:]
    return path


class _Run:
    """One SARIF run: its tool, rules and path bases, for reading its results."""

    def __init__(self, src: _Source, index: int, run: object) -> None:
        if not isinstance(run, dict):
            src.fail(f"runs[{index}] is a JSON {_json_kind(run)}, not an object")
        self.run = run
        tool = _obj(run.get("tool"))
        driver = _obj(tool.get("driver"))
        self.tool = _str(driver.get("name")) or "SARIF"
        self.driver_rules = [_obj(r) for r in _list(driver.get("rules"))]
        self.extension_rules = [[_obj(r) for r in _list(_obj(x).get("rules"))] for x in _list(tool.get("extensions"))]
        self.rules_by_id: dict[str, dict[str, object]] = {}
        for rule in [*self.driver_rules, *(r for rules in self.extension_rules for r in rules)]:
            if (rule_id := _str(rule.get("id"))) is not None:
                self.rules_by_id.setdefault(rule_id, rule)
        self.artifacts = [_obj(_obj(a).get("location")) for a in _list(run.get("artifacts"))]
        self.bases = [
            _sarif_path(uri)
            for base in _obj(run.get("originalUriBaseIds")).values()
            if (uri := _str(_obj(base).get("uri"))) is not None and urlsplit(uri).scheme == "file"
        ]

    def rule(self, result: Mapping[str, object]) -> dict[str, object]:
        """The rule a result refers to (by index into its tool component, else by id), or {}."""
        ref = _obj(result.get("rule"))
        rule_id = _str(result.get("ruleId")) or _str(ref.get("id"))
        index = ref.get("index", result.get("ruleIndex"))
        component = _obj(ref.get("toolComponent"))
        rules: list[dict[str, object]] = self.driver_rules
        if component:
            at = component.get("index")
            valid = isinstance(at, int) and not isinstance(at, bool) and 0 <= at < len(self.extension_rules)
            rules = self.extension_rules[at] if valid and isinstance(at, int) else []
        if isinstance(index, int) and not isinstance(index, bool) and 0 <= index < len(rules):
            rule = rules[index]
            if rule_id is None or rule.get("id") in (rule_id, rule_id.split("/")[0]):
                return rule
        if rule_id is None:
            return {}
        return self.rules_by_id.get(rule_id) or self.rules_by_id.get(rule_id.split("/")[0], {})

    def location(self, result: Mapping[str, object]) -> tuple[str | None, int | None]:
        """The path and start line of a result's first location."""
        physical = _obj(_obj(next(iter(_list(result.get("locations"))), None)).get("physicalLocation"))
        artifact = _obj(physical.get("artifactLocation"))
        uri = _str(artifact.get("uri"))
        index = artifact.get("index")
        if uri is None and isinstance(index, int) and 0 <= index < len(self.artifacts):
            uri = _str(self.artifacts[index].get("uri"))
        line = _obj(physical.get("region")).get("startLine")
        valid_line = line if isinstance(line, int) and not isinstance(line, bool) and line > 0 else None
        return (_sarif_path(uri, self.bases) if uri is not None else None), valid_line

    def results(self, src: _Source, index: int) -> list[_Result]:
        """The run's results that report a problem (not passes, not suppressed, not absent)."""
        results = self.run.get("results")
        if results is None:
            return []
        if not isinstance(results, list):
            src.fail(f"runs[{index}].results is a JSON {_json_kind(results)}, not a list")
        out: list[_Result] = []
        for result in results:
            if not isinstance(result, dict):
                src.fail(f"runs[{index}].results holds a JSON {_json_kind(result)}, not a result object")
            if _reported(result):
                out.append(self.reduce(result))
        return out

    def reduce(self, result: Mapping[str, object]) -> _Result:
        """A result reduced to identity, place, text and severity."""
        rule = self.rule(result)
        rule_id = _str(result.get("ruleId")) or _str(_obj(result.get("rule")).get("id")) or _str(rule.get("id"))
        kind = result.get("kind", "fail")
        default = _obj(rule.get("defaultConfiguration")).get("level")
        level = result.get("level") or (default if kind == "fail" else "none") or "warning"
        level = level if isinstance(level, str) and level in _LEVEL_SEVERITY else "warning"
        score = _obj(result.get("properties")).get("security-severity")
        if score is None:
            score = _obj(rule.get("properties")).get("security-severity")
        cvss = _cvss_severity(score)
        why = f"level {level}" + (f", security-severity {score}" if cvss is not None else "")
        uri, line = self.location(result)
        fingerprints = frozenset(
            (f"{group}/{name}", value)
            for group in ("fingerprints", "partialFingerprints")
            for name, value in _obj(result.get(group)).items()
            if isinstance(value, str)
        )
        text = _message_text(result, rule)
        severity = cvss or _LEVEL_SEVERITY[level]
        return _Result(self.tool, rule_id or "(no rule)", text, uri, line, severity, why, fingerprints)


def _reported(result: Mapping[str, object]) -> bool:
    """Whether a result reports a current, unsuppressed problem."""
    if result.get("kind") in ("pass", "notApplicable") or result.get("baselineState") == "absent":
        return False
    suppressions = _list(result.get("suppressions"))
    return not any(_obj(s).get("status", "accepted") == "accepted" for s in suppressions)


def _message_text(result: Mapping[str, object], rule: Mapping[str, object]) -> str:
    """A result's message, from ``text`` or the rule's ``messageStrings``, arguments filled in, whitespace collapsed."""
    message = _obj(result.get("message"))
    text = _str(message.get("text"))
    if text is None and (message_id := _str(message.get("id"))) is not None:
        text = _str(_obj(_obj(rule.get("messageStrings")).get(message_id)).get("text"))
    arguments = [str(a) for a in _list(message.get("arguments"))]
    text = re.sub(
        r"\{(\d+)\}", lambda m: arguments[int(m[1])] if int(m[1]) < len(arguments) else m[0], text or "(no message)"
    )
    return " ".join(text.split())


def _sarif_results(path: Path, role: str) -> list[_Result]:
    """The deduplicated problem results of a SARIF file."""
    src = _Source(f"SARIF {role}", path, _SARIF_EXPECTED)
    doc = src.json_object()
    version = doc.get("version")
    if version is None:
        src.fail("has no `version`")
    if version != "2.1.0":
        src.fail(f"is SARIF version {version!r}, not 2.1.0")
    runs = doc.get("runs")
    if not isinstance(runs, list):
        src.fail("has no `runs` list" if runs is None else f"`runs` is a JSON {_json_kind(runs)}, not a list")
    seen: dict[tuple[object, ...], _Result] = {}
    for index, raw in enumerate(runs):
        for result in _Run(src, index, raw).results(src, index):
            seen.setdefault((*result.key, result.line), result)
    return list(seen.values())


def _changed_in(path: str, changed: Mapping[str, set[int]]) -> set[int] | None:
    """The changed lines of ``path``: exact key, else by whole-component suffix.

    A relative path may be relative to a subdirectory (the tool ran there), so a key may end
    with it; an absolute path may end with a key."""
    normal = {key.removeprefix("./"): lines for key, lines in changed.items()}
    if path in normal:
        return normal[path]
    absolute = path.startswith("/")
    matches = [key for key in normal if key.endswith("/" + path) or (absolute and path.endswith("/" + key))]
    return normal[min(matches, key=lambda k: (-len(k), k))] if matches else None


def _same_fingerprints(a: _Result, b: _Result) -> bool:
    """Whether two results of the same tool and rule agree on every fingerprint both carry (and share one)."""
    mine, theirs = dict(a.fingerprints), dict(b.fingerprints)
    shared = mine.keys() & theirs.keys()
    return bool(shared) and all(mine[k] == theirs[k] for k in shared)


def _new_against(head: list[_Result], base: list[_Result]) -> list[_Result]:
    """Head results not in base: by fingerprints when base carries the same kind, else by line-free identity."""
    by_print: dict[tuple[str, str, str, str], list[_Result]] = {}
    for r in base:
        for fp in r.fingerprints:
            by_print.setdefault((r.tool, r.rule_id, *fp), []).append(r)
    base_kinds = {name for r in base for name, _ in r.fingerprints}
    base_keys = Counter(r.key for r in base)
    new: set[int] = set()
    for i, result in sorted(enumerate(head), key=lambda item: (item[1].uri or "", item[1].line or 0)):
        if any(name in base_kinds for name, _ in result.fingerprints):
            candidates = (b for fp in result.fingerprints for b in by_print.get((result.tool, result.rule_id, *fp), ()))
            if not any(_same_fingerprints(result, b) for b in candidates):
                new.add(i)
        elif base_keys[result.key] > 0:
            base_keys[result.key] -= 1
        else:
            new.add(i)
    return [r for i, r in enumerate(head) if i in new]


def sarif(
    head: Path, *, base: Path | None = None, changed_lines: Mapping[str, set[int]] | None = None
) -> list[Finding]:
    """``sarif.new`` findings for the results the change introduced.

    With ``base``, the head results whose identity (a fingerprint both logs carry, else
    tool, rule, file and message, never the line) is not in base; else, with
    ``changed_lines``, the results on a changed line of a changed file; else every result.
    Severity comes from the rule's ``security-severity`` when present, else from the level.
    """
    results = _sarif_results(head, "log")
    if base is not None:
        results = _new_against(results, _sarif_results(base, "base log"))
    elif changed_lines is not None:
        kept = []
        for result in results:
            lines = _changed_in(result.uri, changed_lines) if result.uri is not None else None
            if lines is not None and (result.line is None or result.line in lines):
                kept.append(result)
        results = kept
    return [
        Finding(
            "sarif.new",
            r.severity,
            f"{r.tool} {r.rule_id}: {_clip(r.text)}",
            path=r.uri,
            line=r.line,
            evidence=r.why,
        )
        for r in results
    ]


def _clip(text: str, limit: int = 400) -> str:
    """``text`` cut to ``limit`` characters."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


# --- coverage ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Coverage:
    """A Cobertura report: overall line rate, source roots, and hits per line per file."""

    line_rate: float
    sources: tuple[str, ...]
    files: dict[str, dict[int, int]]

    def lines_of(self, path: str) -> dict[int, int] | None:
        """The line hits of a repository path: exact filename, else one matching by suffix."""
        if path in self.files:
            return self.files[path]
        best: tuple[int, str] | None = None
        for name in self.files:
            if path.endswith("/" + name) and self._under_source(path[: -len(name) - 1]):
                score = len(name)
            elif name.endswith("/" + path):
                score = len(path)
            else:
                continue
            if best is None or (-score, name) < (-best[0], best[1]):
                best = (score, name)
        return self.files[best[1]] if best is not None else None

    def _under_source(self, prefix: str) -> bool:
        """Whether a repository directory can be a source root of the report (any, when none is listed)."""
        roots = [s for s in self.sources if s not in ("", ".")]
        return not roots or any(root == prefix or root.endswith("/" + prefix) for root in roots)


def _int_attr(element: ET.Element, name: str) -> int | None:
    """A non-negative integer attribute, None when absent or malformed."""
    text = element.get(name)
    return int(text) if text is not None and text.strip().isdigit() else None


def _cobertura(path: Path, role: str) -> _Coverage:
    """Read and validate a Cobertura XML report."""
    src = _Source(f"coverage {role}", path, _COVERAGE_EXPECTED)
    data = src.read()
    if b"<!ENTITY" in data:
        src.fail("declares XML entities, which a coverage report never needs; refused", expectation=False)
    try:
        root = ET.fromstring(data)
    except ET.ParseError as exc:
        src.fail(f"is not well-formed XML ({exc})")
    if root.tag != "coverage":
        src.fail(f"has root element <{root.tag}>, not <coverage>")
    rate_text = root.get("line-rate")
    if rate_text is None:
        src.fail("has no line-rate attribute on <coverage>")
    try:
        rate = float(rate_text)
    except ValueError:
        rate = math.nan
    if not 0.0 <= rate <= 1.0:
        src.fail(f"has line-rate={rate_text!r} on <coverage>, not a number from 0 to 1")
    sources = tuple((s.text or "").strip().replace("\\", "/").rstrip("/") for s in root.iterfind("sources/source"))
    files: dict[str, dict[int, int]] = {}
    for cls in root.iter("class"):
        filename = cls.get("filename")
        if not filename:
            src.fail(f"has a <class name={cls.get('name', '?')!r}> without a filename attribute")
        name = filename.replace("\\", "/").removeprefix("./")
        hits = files.setdefault(name, {})
        for line in cls.iterfind("lines/line"):
            number, count = _int_attr(line, "number"), _int_attr(line, "hits")
            if number is None or count is None:
                src.fail(f"has a <line> in {filename} with number={line.get('number')!r} hits={line.get('hits')!r}")
            hits[number] = max(hits.get(number, 0), count)
    return _Coverage(rate, sources, files)


def _ranges(lines: Iterable[int], limit: int = 8) -> str:
    """``3, 7-9, 12`` for a set of line numbers (at most ``limit`` groups)."""
    groups: list[list[int]] = []
    for n in sorted(lines):
        if groups and n == groups[-1][1] + 1:
            groups[-1][1] = n
        else:
            groups.append([n, n])
    text = ", ".join(f"{a}-{b}" if a != b else str(a) for a, b in groups[:limit])
    return text + (", …" if len(groups) > limit else "")


def _uncovered(report: _Coverage, changed_lines: Mapping[str, set[int]]) -> list[Finding]:
    """One ``coverage.uncovered`` finding per changed file whose changed, measured lines include unrun ones."""
    findings = []
    for raw_path in sorted(changed_lines):
        path = raw_path.removeprefix("./")
        hits = report.lines_of(path)
        if hits is None:
            continue
        measured = {n for n in changed_lines[raw_path] if n in hits}
        missed = sorted(n for n in measured if hits[n] == 0)
        if not missed:
            continue
        severity = Severity.MEDIUM if 2 * len(missed) > len(measured) else Severity.LOW
        message = f"{len(missed)} of {len(measured)} changed lines in {path} are not covered by the tests"
        evidence = f"uncovered changed lines: {_ranges(missed)}"
        findings.append(Finding("coverage.uncovered", severity, message, path=path, line=missed[0], evidence=evidence))
    return findings


def coverage(
    head: Path,
    *,
    base: Path | None = None,
    changed_lines: Mapping[str, set[int]] | None = None,
    drop_threshold: float = 0.5,
) -> tuple[list[Finding], float | None]:
    """Coverage findings, and the line-coverage delta in percentage points (None without ``base``).

    A fall of more than ``drop_threshold`` points from ``base`` to ``head`` is a
    ``coverage.drop`` finding (low below 2 points, medium below 5, high from 5). With
    ``changed_lines``, changed lines the head report lists with no hits are
    ``coverage.uncovered`` findings, one per file.
    """
    report = _cobertura(head, "report")
    findings: list[Finding] = []
    delta: float | None = None
    if base is not None:
        before = _cobertura(base, "base report").line_rate
        delta = round((report.line_rate - before) * 100, 4) + 0.0
        if -delta > drop_threshold:
            drop = -delta
            severity = Severity.LOW if drop < 2 else Severity.MEDIUM if drop < 5 else Severity.HIGH
            message = (
                f"line coverage fell from {before * 100:.1f}% to {report.line_rate * 100:.1f}% (−{drop:.1f} points)"
            )
            findings.append(
                Finding("coverage.drop", severity, message, evidence=f"line-rate {before:g} → {report.line_rate:g}")
            )
    if changed_lines is not None:
        findings.extend(_uncovered(report, changed_lines))
    return findings, delta
