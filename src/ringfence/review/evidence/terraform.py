"""Terraform plans: deleted and replaced resources (critical when they hold data), and the cost delta."""

from __future__ import annotations

import fnmatch
import math
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from ringfence.jsontype import json_type
from ringfence.review.evidence._read import Source, as_list, as_object, as_str
from ringfence.review.evidence.cost import Prices, cost_finding, load_prices, money
from ringfence.review.findings import Finding, Severity

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


def _plan_changes(src: Source) -> list[_Change]:
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
        src.fail(f"`resource_changes` is a JSON {json_type(entries)}, not a list")
    return [change for i, entry in enumerate(entries) if (change := _plan_change(src, i, entry)) is not None]


def _plan_change(src: Source, index: int, entry: object) -> _Change | None:
    """One validated resource change, or None for a data source."""
    where = f"resource_changes[{index}]"
    if not isinstance(entry, dict):
        src.fail(f"{where} is a JSON {json_type(entry)}, not an object")
    if entry.get("mode") == "data":
        return None
    address, rtype, change = as_str(entry.get("address")), as_str(entry.get("type")), entry.get("change")
    if address is None or rtype is None:
        src.fail(f"{where} has no `address` and `type` strings")
    if not isinstance(change, dict):
        src.fail(f"{where} ({address}) has no `change` object")
    actions = change.get("actions")
    if not isinstance(actions, list) or not all(isinstance(a, str) for a in actions):
        src.fail(f"{where} ({address}) has no `change.actions` list of strings")
    forced = tuple(
        ".".join(str(step) for step in path) for path in as_list(change.get("replace_paths")) if isinstance(path, list)
    )
    return _Change(
        address, rtype, tuple(actions), as_object(change.get("before")), as_object(change.get("after")), forced
    )


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


def _plan_cost(changes: Iterable[_Change], prices: Prices) -> tuple[list[Finding], float]:
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
    evidence = "; ".join(f"{address} {'+' if amount > 0 else ''}{money(amount)}" for address, amount in top)
    return cost_finding(delta, "USD", detail, evidence), delta


def terraform_plan(path: Path, *, prices: Path | None = None) -> tuple[list[Finding], float | None]:
    """Findings for the deletions and replacements of a plan, and its monthly cost delta.

    ``path`` is ``terraform show -json PLANFILE`` output. Every deleted resource is a
    ``terraform.delete`` finding and every replaced one a ``terraform.replace`` finding:
    critical when the type holds data (:func:`holds_data`), high otherwise. With a price
    table (``prices``) the second element is the monthly cost delta (created minus deleted;
    replaced and updated resources count the price difference of their priced attribute)
    and a positive delta adds a ``terraform.cost`` finding; without one it is None.
    """
    src = Source("Terraform plan", path, _PLAN_EXPECTED)
    changes = _plan_changes(src)
    table = load_prices(prices) if prices is not None else None
    findings = [finding for change in changes if (finding := _destruction(change)) is not None]
    if table is None:
        return findings, None
    cost, delta = _plan_cost(changes, table)
    return findings + cost, delta
