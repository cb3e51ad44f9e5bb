"""Evidence readers: Terraform plan JSON, Infracost JSON, SARIF 2.1.0 and Cobertura XML into findings."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ringfence.review import evidence
from ringfence.review.evidence import coverage, holds_data, infracost, sarif, terraform_plan
from ringfence.review.findings import Finding, ReviewInputError, Severity

# --- fixtures shaped like the real tools' output -----------------------------------------------


def _change(
    address: str,
    rtype: str,
    actions: list[str],
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    **extra: Any,
) -> dict[str, Any]:
    """One `resource_changes` entry as `terraform show -json` writes it."""
    name = address.rsplit(".", 1)[-1]
    change: dict[str, Any] = {
        "actions": actions,
        "before": before,
        "after": after,
        "after_unknown": {"id": True} if after is not None and "create" in actions else {},
        "before_sensitive": {} if before is not None else False,
        "after_sensitive": {} if after is not None else False,
    }
    change.update(extra.pop("change", {}))
    entry = {
        "address": address,
        "mode": "managed",
        "type": rtype,
        "name": name,
        "provider_name": "registry.terraform.io/hashicorp/aws",
        "change": change,
    }
    entry.update(extra)
    return entry


def _plan(tmp_path: Path, *changes: dict[str, Any], name: str = "plan.json") -> Path:
    """A saved plan's JSON, as `terraform show -json plan.out > plan.json` writes it."""
    doc = {
        "format_version": "1.2",
        "terraform_version": "1.7.5",
        "planned_values": {"root_module": {}},
        "resource_changes": list(changes),
        "configuration": {
            "provider_config": {"aws": {"name": "aws", "full_name": "registry.terraform.io/hashicorp/aws"}}
        },
        "timestamp": "2024-03-01T10:00:00Z",
        "applyable": True,
        "complete": True,
        "errored": False,
    }
    path = tmp_path / name
    path.write_text(json.dumps(doc, indent=2))
    return path


DB_BEFORE = {
    "identifier": "prod-main",
    "engine": "postgres",
    "engine_version": "15.4",
    "instance_class": "db.r6g.large",
    "allocated_storage": 200,
    "deletion_protection": False,
    "skip_final_snapshot": True,
}
WEB_BEFORE = {"ami": "ami-0c55b159cbfafe1f0", "instance_type": "t3.micro", "tags": {"Name": "web"}}


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def _error(call: Any) -> str:
    with pytest.raises(ReviewInputError) as info:
        call()
    return str(info.value)


# --- Terraform: deletions and replacements -------------------------------------------------------


def test_deleting_a_database_is_critical_and_says_the_data_goes(tmp_path: Path) -> None:
    plan = _plan(tmp_path, _change("aws_db_instance.main", "aws_db_instance", ["delete"], DB_BEFORE, None))
    findings, delta = terraform_plan(plan)
    assert delta is None
    assert findings == [
        Finding(
            "terraform.delete",
            Severity.CRITICAL,
            "aws_db_instance.main will be DELETED: its data goes with it (aws_db_instance holds data)",
            evidence="aws_db_instance.main",
        )
    ]
    assert findings[0].path is None


def test_replacing_an_instance_is_high_and_names_the_forcing_attribute(tmp_path: Path) -> None:
    plan = _plan(
        tmp_path,
        _change(
            "aws_instance.web",
            "aws_instance",
            ["delete", "create"],
            WEB_BEFORE,
            {**WEB_BEFORE, "ami": "ami-0a1b2c3d4e5f60718"},
            action_reason="replace_because_cannot_update",
            change={"replace_paths": [["ami"]]},
        ),
        _change(
            "module.cache.aws_elasticache_cluster.this[0]",
            "aws_elasticache_cluster",
            ["create", "delete"],
            {"node_type": "cache.t3.small"},
            {"node_type": "cache.t3.medium"},
        ),
    )
    findings, _ = terraform_plan(plan)
    assert [(f.kind, f.severity, f.message) for f in findings] == [
        (
            "terraform.replace",
            Severity.HIGH,
            "aws_instance.web will be REPLACED (destroyed and re-created, forced by a change to ami) (aws_instance)",
        ),
        (
            "terraform.replace",
            Severity.CRITICAL,
            "module.cache.aws_elasticache_cluster.this[0] will be REPLACED (re-created, then the old one destroyed)"
            ": its data does not carry over (aws_elasticache_cluster holds data)",
        ),
    ]


def test_updates_noops_creates_reads_and_forgets_are_not_flagged(tmp_path: Path) -> None:
    data_source = _change("data.aws_ami.ubuntu", "aws_ami", ["read"], None, {"id": "ami-1"}, mode="data")
    plan = _plan(
        tmp_path,
        _change("aws_instance.web", "aws_instance", ["update"], WEB_BEFORE, {**WEB_BEFORE, "tags": {"Name": "w2"}}),
        _change("aws_db_instance.main", "aws_db_instance", ["no-op"], DB_BEFORE, DB_BEFORE),
        _change("aws_s3_bucket.logs", "aws_s3_bucket", ["create"], None, {"bucket": "logs"}),
        _change("aws_s3_bucket.old", "aws_s3_bucket", ["forget"], {"bucket": "old"}, None),
        data_source,
    )
    assert terraform_plan(plan) == ([], None)


def test_a_plan_written_by_powershell_as_utf16_is_read(tmp_path: Path) -> None:
    plan = _plan(tmp_path, _change("aws_instance.web", "aws_instance", ["delete"], WEB_BEFORE, None))
    plan.write_bytes(plan.read_text().encode("utf-16"))
    assert [f.kind for f in terraform_plan(plan)[0]] == ["terraform.delete"]


def test_a_plan_without_changes_omits_resource_changes_and_is_empty(tmp_path: Path) -> None:
    path = _write(tmp_path, "plan.json", json.dumps({"format_version": "1.2", "planned_values": {}, "errored": False}))
    assert terraform_plan(path) == ([], None)


@pytest.mark.parametrize(
    ("rtype", "expected"),
    [
        ("aws_db_instance", True),
        ("aws_rds_cluster_instance", True),
        ("aws_elasticache_replication_group", True),
        ("aws_elasticache_subnet_group", False),
        ("aws_s3_bucket", True),
        ("aws_s3_bucket_policy", False),
        ("azurerm_mssql_database", True),
        ("azurerm_mssql_firewall_rule", False),
        ("azurerm_postgresql_flexible_server", True),
        ("azurerm_postgresql_flexible_server_configuration", False),
        ("google_spanner_database", True),
        ("kubernetes_persistent_volume_claim_v1", True),
        ("aws_fsx_lustre_file_system", True),
        ("aws_instance", False),
        ("aws_security_group", False),
    ],
)
def test_which_types_hold_data(rtype: str, expected: bool) -> None:
    assert holds_data(rtype) is expected


# --- Terraform: cost from a price table -----------------------------------------------------------

PRICES_YAML = """\
# monthly on-demand prices, USD
aws_db_instance: 120
aws_db_instance.instance_class=db.r6g.large: 350.40
aws_db_instance.instance_class=db.t3.medium: 58.40
aws_instance: 30
aws_nat_gateway: 32.85
"""


def test_price_table_prices_creates_deletes_and_changed_priced_attributes(tmp_path: Path) -> None:
    prices = _write(tmp_path, "prices.yaml", PRICES_YAML)
    plan = _plan(
        tmp_path,
        # created: the attribute-specific price wins over the type price
        _change("aws_db_instance.replica", "aws_db_instance", ["create"], None, {**DB_BEFORE, "identifier": "r"}),
        # updated with a priced attribute change: after - before = 350.40 - 58.40
        _change(
            "aws_db_instance.main",
            "aws_db_instance",
            ["update"],
            {**DB_BEFORE, "instance_class": "db.t3.medium"},
            DB_BEFORE,
        ),
        # replaced without a priced change: net 0
        _change("aws_instance.web", "aws_instance", ["delete", "create"], WEB_BEFORE, {**WEB_BEFORE, "ami": "ami-2"}),
        # deleted: minus its price
        _change("aws_nat_gateway.b", "aws_nat_gateway", ["delete"], {"subnet_id": "subnet-1"}, None),
        # created but not in the table
        _change("aws_lb.front", "aws_lb", ["create"], None, {"name": "front"}),
        _change("aws_security_group.web", "aws_security_group", ["update"], {"name": "a"}, {"name": "b"}),
    )
    findings, delta = terraform_plan(plan, prices=prices)
    assert delta == pytest.approx(350.40 + (350.40 - 58.40) - 32.85)
    cost = [f for f in findings if f.kind == "terraform.cost"]
    assert len(cost) == 1
    assert cost[0].severity is Severity.MEDIUM
    assert cost[0].message == (
        "adds about $609.55/month (4 resources priced, 1 created or changed resources not in the price table)"
    )
    assert cost[0].evidence.startswith("aws_db_instance.replica +$350.40; aws_db_instance.main +$292.00")
    assert {f.kind for f in findings} == {"terraform.cost", "terraform.replace", "terraform.delete"}


@pytest.mark.parametrize(
    ("price", "severity"),
    [(99.99, Severity.LOW), (100, Severity.MEDIUM), (999.99, Severity.MEDIUM), (1000, Severity.HIGH)],
)
def test_price_table_cost_thresholds(tmp_path: Path, price: float, severity: Severity) -> None:
    prices = _write(tmp_path, "prices.json", json.dumps({"aws_instance": price}))
    plan = _plan(tmp_path, _change("aws_instance.web", "aws_instance", ["create"], None, WEB_BEFORE))
    findings, delta = terraform_plan(plan, prices=prices)
    assert delta == pytest.approx(price)
    assert [(f.kind, f.severity) for f in findings] == [("terraform.cost", severity)]
    assert findings[0].message == f"adds about ${price:.2f}/month (1 resources priced)"


def test_a_cheaper_plan_returns_a_negative_delta_and_no_cost_finding(tmp_path: Path) -> None:
    prices = _write(tmp_path, "prices.yaml", PRICES_YAML)
    plan = _plan(tmp_path, _change("aws_db_instance.main", "aws_db_instance", ["delete"], DB_BEFORE, None))
    findings, delta = terraform_plan(plan, prices=prices)
    assert delta == pytest.approx(-350.40)
    assert [f.kind for f in findings] == ["terraform.delete"]


# --- Terraform: malformed input -------------------------------------------------------------------


def test_plan_that_is_not_json(tmp_path: Path) -> None:
    path = _write(tmp_path, "plan.json", "Terraform will perform the following actions:\n")
    assert _error(lambda: terraform_plan(path)) == (
        f"Terraform plan {path}: is not valid JSON (Expecting value at line 1, column 1); "
        "expected the output of `terraform show -json PLANFILE` (a saved plan)"
    )


def test_plan_without_resource_changes(tmp_path: Path) -> None:
    path = _write(tmp_path, "plan.json", json.dumps({"terraform_version": "1.7.5"}))
    assert _error(lambda: terraform_plan(path)) == (
        f"Terraform plan {path}: has no `resource_changes` list; "
        "expected the output of `terraform show -json PLANFILE` (a saved plan)"
    )


def test_state_instead_of_plan_is_named(tmp_path: Path) -> None:
    state = {"format_version": "1.0", "terraform_version": "1.7.5", "values": {"root_module": {}}}
    path = _write(tmp_path, "state.json", json.dumps(state))
    assert "(it looks like state: `terraform show -json` was run without a plan file)" in _error(
        lambda: terraform_plan(path)
    )


@pytest.mark.parametrize(
    ("doc", "problem"),
    [
        ([], "holds a JSON array, not an object"),
        ({"resource_changes": {"a": 1}}, "`resource_changes` is a JSON object, not a list"),
        ({"resource_changes": ["x"]}, "resource_changes[0] is a JSON string, not an object"),
        ({"resource_changes": [{"address": "aws_instance.a"}]}, "resource_changes[0] has no `address` and `type`"),
        (
            {
                "resource_changes": [
                    {"address": "aws_instance.a", "type": "aws_instance", "change": {"actions": "delete"}}
                ]
            },
            "resource_changes[0] (aws_instance.a) has no `change.actions` list of strings",
        ),
    ],
)
def test_plan_with_malformed_structure(tmp_path: Path, doc: object, problem: str) -> None:
    path = _write(tmp_path, "plan.json", json.dumps(doc))
    message = _error(lambda: terraform_plan(path))
    assert message.startswith(f"Terraform plan {path}: {problem}")
    assert message.endswith("expected the output of `terraform show -json PLANFILE` (a saved plan)")


def test_errored_plan_is_refused(tmp_path: Path) -> None:
    path = _write(tmp_path, "plan.json", json.dumps({"format_version": "1.2", "errored": True, "resource_changes": []}))
    assert _error(lambda: terraform_plan(path)) == (
        f"Terraform plan {path}: records a plan that errored, so its resource changes are incomplete"
    )


def test_missing_and_empty_plan_files(tmp_path: Path) -> None:
    missing = tmp_path / "nope.json"
    assert _error(lambda: terraform_plan(missing)).startswith(f"Terraform plan {missing}: no such file; expected")
    empty = _write(tmp_path, "empty.json", "")
    assert _error(lambda: terraform_plan(empty)).startswith(f"Terraform plan {empty}: is empty; expected")


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("aws_instance: [30\n", "is not valid YAML at line 2, column 1"),
        ("- aws_instance\n", "is not a non-empty mapping"),
        ("aws_instance.instance_type: 30\n", "key 'aws_instance.instance_type' is neither a resource type nor"),
        ("aws_instance: cheap\n", "the price of 'aws_instance' is 'cheap', not a non-negative number"),
        ("aws_instance: -5\n", "the price of 'aws_instance' is -5, not a non-negative number"),
    ],
)
def test_malformed_price_table(tmp_path: Path, text: str, problem: str) -> None:
    prices = _write(tmp_path, "prices.yaml", text)
    plan = _plan(tmp_path, _change("aws_instance.web", "aws_instance", ["create"], None, WEB_BEFORE))
    assert _error(lambda: terraform_plan(plan, prices=prices)).startswith(f"price table {prices}: {problem}")


def test_ambiguous_price_keys_are_refused(tmp_path: Path) -> None:
    prices = _write(
        tmp_path,
        "prices.yaml",
        "aws_db_instance.instance_class=db.r6g.large: 350\naws_db_instance.engine=postgres: 90\n",
    )
    plan = _plan(tmp_path, _change("aws_db_instance.main", "aws_db_instance", ["create"], None, DB_BEFORE))
    assert _error(lambda: terraform_plan(plan, prices=prices)) == (
        f"price table {prices}: the keys aws_db_instance.engine=postgres, "
        "aws_db_instance.instance_class=db.r6g.large all match aws_db_instance.main with different prices; keep one"
    )


# --- Infracost ------------------------------------------------------------------------------------


def _infracost(tmp_path: Path, **totals: str | None) -> Path:
    """Infracost JSON (`infracost diff --format json`), trimmed to its top-level shape."""
    doc: dict[str, Any] = {
        "version": "0.2",
        "metadata": {"infracostCommand": "diff", "vcsBranch": "agent/feature"},
        "currency": "USD",
        "projects": [
            {
                "name": "acme/infra/prod",
                "displayName": "prod",
                "metadata": {"path": "prod", "type": "terraform_dir"},
                "pastBreakdown": {"resources": [], "totalHourlyCost": "0.5", "totalMonthlyCost": "365"},
                "breakdown": {"resources": [], "totalHourlyCost": "0.71", "totalMonthlyCost": "517.3"},
                "diff": {"resources": [], "totalHourlyCost": "0.21", "totalMonthlyCost": "152.3"},
                "summary": {"totalDetectedResources": 4, "totalSupportedResources": 4},
            }
        ],
        "totalHourlyCost": "0.708630136986301358",
        "totalMonthlyCost": "517.3",
        "totalMonthlyUsageCost": "0",
        "pastTotalHourlyCost": "0.5",
        "pastTotalMonthlyCost": "365",
        "diffTotalHourlyCost": "0.208630136986301358",
        "diffTotalMonthlyCost": "152.3",
        "timeGenerated": "2024-03-01T10:00:00.000000Z",
        "summary": {"totalDetectedResources": 4, "totalSupportedResources": 4},
    }
    for key, value in totals.items():
        if value == "omit":
            doc.pop(key)
        else:
            doc[key] = value
    path = tmp_path / "infracost.json"
    path.write_text(json.dumps(doc, indent=2))
    return path


def test_infracost_diff_total_is_the_delta(tmp_path: Path) -> None:
    findings, delta = infracost(_infracost(tmp_path))
    assert delta == pytest.approx(152.3)
    assert [(f.kind, f.severity) for f in findings] == [("terraform.cost", Severity.MEDIUM)]
    assert findings[0].message == "adds about $152.30/month (USD; Infracost monthly total $365.00 → $517.30)"


def test_infracost_without_diff_uses_total_minus_past_and_names_the_currency(tmp_path: Path) -> None:
    path = _infracost(tmp_path, diffTotalMonthlyCost="omit", currency="EUR", totalMonthlyCost="1412.5")
    findings, delta = infracost(path)
    assert delta == pytest.approx(1047.5)
    assert findings[0].severity is Severity.HIGH
    assert findings[0].message == "adds about €1047.50/month (EUR; Infracost monthly total €365.00 → €1412.50)"


@pytest.mark.parametrize(
    ("diff", "kinds"),
    [
        ("12.4", [("terraform.cost", Severity.LOW)]),
        ("0", []),
        ("-80.25", []),
        ("1000", [("terraform.cost", Severity.HIGH)]),
    ],
)
def test_infracost_thresholds(tmp_path: Path, diff: str, kinds: list[tuple[str, Severity]]) -> None:
    findings, delta = infracost(_infracost(tmp_path, diffTotalMonthlyCost=diff))
    assert delta == pytest.approx(float(diff))
    assert [(f.kind, f.severity) for f in findings] == kinds


def test_infracost_without_comparable_totals_has_no_delta(tmp_path: Path) -> None:
    path = _infracost(tmp_path, diffTotalMonthlyCost=None, pastTotalMonthlyCost=None)
    assert infracost(path) == ([], None)


def test_infracost_malformed(tmp_path: Path) -> None:
    expected = "expected the output of `infracost breakdown --format json` or `infracost diff --format json`"
    bad = _write(tmp_path, "bad.json", '{"totalMonthlyCost": "12.5",}')
    assert _error(lambda: infracost(bad)) == (
        f"Infracost output {bad}: is not valid JSON (Expecting property name enclosed in double quotes"
        f" at line 1, column 29); {expected}"
    )
    plan = _plan(tmp_path)
    assert _error(lambda: infracost(plan)) == (
        f"Infracost output {plan}: has none of `totalMonthlyCost`, `pastTotalMonthlyCost`, `diffTotalMonthlyCost`;"
        f" {expected}"
    )
    word = _infracost(tmp_path, diffTotalMonthlyCost="about 12 dollars")
    assert _error(lambda: infracost(word)) == (
        f"Infracost output {word}: `diffTotalMonthlyCost` is 'about 12 dollars', not a decimal number; {expected}"
    )


def test_infracost_project_error_is_refused(tmp_path: Path) -> None:
    path = _infracost(tmp_path)
    doc = json.loads(path.read_text())
    doc["projects"][0]["metadata"]["errors"] = [{"code": 101, "message": "Error loading Terraform modules"}]
    path.write_text(json.dumps(doc))
    assert _error(lambda: infracost(path)) == (
        f"Infracost output {path}: project acme/infra/prod was not priced (Error loading Terraform modules),"
        " so the totals leave it out"
    )


# --- SARIF ----------------------------------------------------------------------------------------

CODEQL_RULES = [
    {
        "id": "py/sql-injection",
        "name": "py/sql-injection",
        "shortDescription": {"text": "SQL query built from user-controlled sources"},
        "defaultConfiguration": {"enabled": True, "level": "error"},
        "properties": {"tags": ["security", "external/cwe/cwe-089"], "precision": "high", "security-severity": "8.8"},
    },
    {
        "id": "py/unused-import",
        "name": "py/unused-import",
        "shortDescription": {"text": "Unused import"},
        "defaultConfiguration": {"enabled": True, "level": "note"},
        "properties": {"tags": ["maintainability"], "precision": "very-high"},
    },
    {
        "id": "py/clear-text-logging-sensitive-data",
        "defaultConfiguration": {"enabled": True, "level": "error"},
        "properties": {"security-severity": 9.8},
    },
]


def _codeql_result(rule: int, uri: str, line: int, text: str, line_hash: str) -> dict[str, Any]:
    rule_id = CODEQL_RULES[rule]["id"]
    return {
        "ruleId": rule_id,
        "ruleIndex": rule,
        "rule": {"id": rule_id, "index": rule},
        "message": {"text": text},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": {"uri": uri, "uriBaseId": "%SRCROOT%", "index": 0},
                    "region": {"startLine": line, "startColumn": 5, "endColumn": 42},
                }
            }
        ],
        "partialFingerprints": {"primaryLocationLineHash": line_hash, "primaryLocationStartColumnFingerprint": "0"},
    }


def _sarif(tmp_path: Path, name: str, results: list[dict[str, Any]], **run: Any) -> Path:
    doc = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [
            {
                "tool": {"driver": {"name": "CodeQL", "semanticVersion": "2.16.1", "rules": CODEQL_RULES}},
                "artifacts": [{"location": {"uri": "app/db.py", "uriBaseId": "%SRCROOT%", "index": 0}}],
                "results": results,
                "columnKind": "utf16CodeUnits",
                "properties": {"semmle.formatSpecifier": "sarif-latest"},
                **run,
            }
        ],
    }
    path = tmp_path / name
    path.write_text(json.dumps(doc, indent=2))
    return path


SQLI = "This SQL query depends on a [user-provided value](1)."


def test_sarif_against_base_ignores_shifted_results_and_reports_new_ones(tmp_path: Path) -> None:
    base = _sarif(
        tmp_path,
        "base.sarif",
        [
            _codeql_result(0, "app/db.py", 10, SQLI, "8e9a1c0b2f3d4e5a:1"),
            _codeql_result(1, "app/db.py", 1, "x", "aa:1"),
        ],
    )
    head = _sarif(
        tmp_path,
        "head.sarif",
        [
            _codeql_result(0, "app/db.py", 14, SQLI, "8e9a1c0b2f3d4e5a:1"),  # same result, 4 lines down
            _codeql_result(1, "app/db.py", 5, "x", "aa:1"),
            _codeql_result(0, "app/db.py", 31, SQLI, "17f3b2a9c0d1e2f3:1"),  # same text, new place
        ],
    )
    findings = sarif(head, base=base)
    assert findings == [
        Finding(
            "sarif.new",
            Severity.HIGH,
            f"CodeQL py/sql-injection: {SQLI}",
            path="app/db.py",
            line=31,
            evidence="level error, security-severity 8.8",
        )
    ]


def test_sarif_without_fingerprints_matches_by_rule_file_and_message(tmp_path: Path) -> None:
    def result(
        line: int, text: str = "Use of possibly insecure function - consider using safer ast.literal_eval."
    ) -> Any:
        return {
            "ruleId": "B307",
            "level": "warning",
            "message": {"text": text},
            "locations": [
                {"physicalLocation": {"artifactLocation": {"uri": "src/app/calc.py"}, "region": {"startLine": line}}}
            ],
        }

    driver = {"tool": {"driver": {"name": "Bandit", "rules": [{"id": "B307", "name": "blacklist"}]}}}
    base = _sarif(tmp_path, "base.sarif", [result(20)], **driver)
    head = _sarif(tmp_path, "head.sarif", [result(25), result(40), result(41, "eval used")], **driver)
    findings = sarif(head, base=base)
    # one occurrence existed (now at 25); a second occurrence and a different message are new
    assert [(f.line, f.severity, f.message) for f in findings] == [
        (
            40,
            Severity.MEDIUM,
            "Bandit B307: Use of possibly insecure function - consider using safer ast.literal_eval.",
        ),
        (41, Severity.MEDIUM, "Bandit B307: eval used"),
    ]


def test_sarif_level_falls_back_to_rule_default_and_security_severity_wins(tmp_path: Path) -> None:
    results = [
        {"ruleId": "py/unused-import", "message": {"text": "Import of 'os' is not used."}},  # rule default: note
        {"ruleId": "py/sql-injection", "level": "note", "message": {"text": "q"}},  # 8.8 beats note
        {"ruleId": "py/clear-text-logging-sensitive-data", "message": {"text": "logs a password"}},  # 9.8 (number)
        {"ruleId": "custom/unknown", "message": {"text": "no rule, no level"}},  # SARIF default: warning
        {"ruleId": "custom/noted", "level": "none", "message": {"text": "fyi"}},
    ]
    findings = sarif(_sarif(tmp_path, "head.sarif", results))
    assert [(f.message, f.severity) for f in findings] == [
        ("CodeQL py/unused-import: Import of 'os' is not used.", Severity.LOW),
        ("CodeQL py/sql-injection: q", Severity.HIGH),
        ("CodeQL py/clear-text-logging-sensitive-data: logs a password", Severity.CRITICAL),
        ("CodeQL custom/unknown: no rule, no level", Severity.MEDIUM),
        ("CodeQL custom/noted: fyi", Severity.INFO),
    ]
    assert findings[0].path is None and findings[0].line is None


def test_sarif_rules_in_extensions_are_found_by_tool_component(tmp_path: Path) -> None:
    result = {
        "ruleId": "js/xss",
        "rule": {"id": "js/xss", "index": 0, "toolComponent": {"index": 0}},
        "message": {"text": "Cross-site scripting vulnerability due to a user-provided value."},
    }
    tool = {
        "driver": {"name": "CodeQL", "rules": []},
        "extensions": [
            {
                "name": "codeql/javascript-queries",
                "rules": [{"id": "js/xss", "properties": {"security-severity": "6.1"}}],
            }
        ],
    }
    [finding] = sarif(_sarif(tmp_path, "head.sarif", [result], tool=tool))
    assert finding.severity is Severity.MEDIUM
    assert finding.evidence == "level warning, security-severity 6.1"


def test_sarif_by_changed_lines_and_uri_forms(tmp_path: Path) -> None:
    def at(uri: str, line: int) -> dict[str, Any]:
        return {
            "ruleId": "py/unused-import",
            "message": {"text": f"unused at {line}"},
            "locations": [{"physicalLocation": {"artifactLocation": {"uri": uri}, "region": {"startLine": line}}}],
        }

    results = [
        at("file:///home/runner/work/app/app/src/app/views.py", 12),  # absolute, under %SRCROOT%
        at("./src/app/views.py", 13),  # not a changed line
        at("src/app/my%20module.py", 3),  # percent-encoded
        at("src/app/other.py", 12),  # not a changed file
    ]
    results.append(at("lib/views.py", 1))  # a relative path longer than a changed key is another file
    results.append(at("app/views.py", 11))  # relative to src/ (the tool ran there)
    bases = {"%SRCROOT%": {"uri": "file:///home/runner/work/app/app/"}}
    head = _sarif(tmp_path, "head.sarif", results, originalUriBaseIds=bases)
    changed = {"src/app/views.py": {11, 12}, "./src/app/my module.py": {3}, "views.py": {1}}
    findings = sarif(head, changed_lines=changed)
    assert [(f.path, f.line) for f in findings] == [
        ("src/app/views.py", 12),
        ("src/app/my module.py", 3),
        ("app/views.py", 11),
    ]
    assert len(sarif(head)) == 6  # neither base nor changed lines: every result is new


def test_sarif_deduplicates_and_skips_suppressed_passing_and_absent_results(tmp_path: Path) -> None:
    same = _codeql_result(0, "app/db.py", 10, SQLI, "8e:1")
    results = [
        same,
        dict(same),
        {**same, "suppressions": [{"kind": "inSource", "justification": "false positive"}]},
        {**same, "kind": "pass", "message": {"text": "checked"}},
        {**same, "baselineState": "absent", "message": {"text": "fixed"}},
        {**same, "suppressions": [{"kind": "external", "status": "rejected"}], "message": {"text": "kept"}},
    ]
    findings = sarif(_sarif(tmp_path, "head.sarif", results))
    assert [f.message for f in findings] == [f"CodeQL py/sql-injection: {SQLI}", "CodeQL py/sql-injection: kept"]


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(shifts=st.lists(st.integers(min_value=-9, max_value=300), min_size=3, max_size=3))
def test_sarif_line_shifts_never_make_results_new(tmp_path: Path, shifts: list[int]) -> None:
    texts = ["a", "b", SQLI]
    base_results = [_codeql_result(i % 2, "app/db.py", 10 + i, t, f"h{i}:1") for i, t in enumerate(texts)]
    head_results = [
        {**r, "partialFingerprints": {}} if i == 2 else r for i, r in enumerate(json.loads(json.dumps(base_results)))
    ]
    for result, shift in zip(head_results, shifts, strict=True):
        result["locations"][0]["physicalLocation"]["region"]["startLine"] += shift
    base = _sarif(tmp_path, "base.sarif", base_results)
    head = _sarif(tmp_path, "head.sarif", head_results)
    assert sarif(head, base=base) == []


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("<html>", "is not valid JSON (Expecting value at line 1, column 1)"),
        ('{"version": "2.1.0"}', "has no `runs` list"),
        ('{"version": "2.1.0", "runs": {}}', "`runs` is a JSON object, not a list"),
        ('{"runs": []}', "has no `version`"),
        ('{"version": "1.0.0", "runs": []}', "is SARIF version '1.0.0', not 2.1.0"),
        ('{"version": "2.1.0", "runs": [{"results": {}}]}', "runs[0].results is a JSON object, not a list"),
        ('{"version": "2.1.0", "runs": [7]}', "runs[0] is a JSON number, not an object"),
    ],
)
def test_sarif_malformed(tmp_path: Path, text: str, problem: str) -> None:
    path = _write(tmp_path, "head.sarif", text)
    assert _error(lambda: sarif(path)) == (
        f'SARIF log {path}: {problem}; expected a SARIF 2.1.0 log (`version` "2.1.0" and a `runs` list)'
    )


def test_sarif_malformed_base_is_named_as_base(tmp_path: Path) -> None:
    head = _sarif(tmp_path, "head.sarif", [])
    base = _write(tmp_path, "base.sarif", '{"version": "2.0.0", "runs": []}')
    assert _error(lambda: sarif(head, base=base)).startswith(f"SARIF base log {base}: is SARIF version '2.0.0'")


# --- coverage -------------------------------------------------------------------------------------


def _cobertura(tmp_path: Path, name: str, rate: str, files: dict[str, dict[int, int]], source: str) -> Path:
    """A report as coverage.py 7 `coverage xml` writes it."""
    classes = []
    for filename, lines in files.items():
        rows = "\n".join(f'\t\t\t\t\t\t<line number="{n}" hits="{h}"/>' for n, h in sorted(lines.items()))
        classes.append(
            f'\t\t\t\t<class name="{filename.rsplit("/", 1)[-1]}" filename="{filename}" complexity="0" '
            f'line-rate="{rate}" branch-rate="0">\n\t\t\t\t\t<methods/>\n\t\t\t\t\t<lines>\n{rows}\n'
            "\t\t\t\t\t</lines>\n\t\t\t\t</class>"
        )
    body = "\n".join(classes)
    text = f"""<?xml version="1.0" ?>
<coverage version="7.4.1" timestamp="1709287200000" lines-valid="200" lines-covered="174" line-rate="{rate}" \
branches-covered="0" branches-valid="0" branch-rate="0" complexity="0">
\t<!-- Generated by coverage.py: https://coverage.readthedocs.io/en/7.4.1 -->
\t<!-- Based on https://raw.githubusercontent.com/cobertura/web/master/htdocs/xml/coverage-04.dtd -->
\t<sources>
\t\t<source>{source}</source>
\t</sources>
\t<packages>
\t\t<package name="app" line-rate="{rate}" branch-rate="0" complexity="0">
\t\t\t<classes>
{body}
\t\t\t</classes>
\t\t</package>
\t</packages>
</coverage>
"""
    path = tmp_path / name
    path.write_text(text)
    return path


SRC = "/home/runner/work/app/app/src"


@pytest.mark.parametrize(
    ("before", "after", "severity", "message"),
    [
        ("0.87", "0.815", Severity.HIGH, "line coverage fell from 87.0% to 81.5% (−5.5 points)"),
        ("0.87", "0.84", Severity.MEDIUM, "line coverage fell from 87.0% to 84.0% (−3.0 points)"),
        ("0.87", "0.862", Severity.LOW, "line coverage fell from 87.0% to 86.2% (−0.8 points)"),
    ],
)
def test_coverage_drop(tmp_path: Path, before: str, after: str, severity: Severity, message: str) -> None:
    base = _cobertura(tmp_path, "base.xml", before, {"app/views.py": {1: 1}}, SRC)
    head = _cobertura(tmp_path, "head.xml", after, {"app/views.py": {1: 1}}, SRC)
    findings, delta = coverage(head, base=base)
    assert delta == pytest.approx((float(after) - float(before)) * 100)
    assert findings == [
        Finding("coverage.drop", severity, message, evidence=f"line-rate {float(before):g} → {float(after):g}")
    ]


@pytest.mark.parametrize(("after", "delta"), [("0.866", -0.4), ("0.87", 0.0), ("0.91", 4.0)])
def test_coverage_small_drops_and_rises_are_not_findings(tmp_path: Path, after: str, delta: float) -> None:
    base = _cobertura(tmp_path, "base.xml", "0.87", {}, SRC)
    head = _cobertura(tmp_path, "head.xml", after, {}, SRC)
    findings, got = coverage(head, base=base)
    assert findings == []
    assert got == pytest.approx(delta)
    if delta < -0.3:
        assert [f.kind for f in coverage(head, base=base, drop_threshold=0.3)[0]] == ["coverage.drop"]


def test_coverage_uncovered_changed_lines_matched_through_the_source_root(tmp_path: Path) -> None:
    head = _cobertura(
        tmp_path,
        "coverage.xml",
        "0.9",
        {
            "app/views.py": {10: 3, 11: 0, 12: 0, 30: 0},
            "app/models.py": {5: 1, 6: 0, 7: 2, 8: 4},
            "app/clean.py": {1: 1},
        },
        SRC,
    )
    changed = {
        "src/app/views.py": {10, 11, 12, 20},  # 20 is not code (not listed)
        "src/app/models.py": {5, 6, 7, 8},
        "src/app/clean.py": {1},
        "tests/app/views.py": {11},  # same suffix, but not under the report's source root
        "README.md": {1},
    }
    findings, delta = coverage(head, changed_lines=changed)
    assert delta is None
    assert findings == [
        Finding(
            "coverage.uncovered",
            Severity.LOW,
            "1 of 4 changed lines in src/app/models.py are not covered by the tests",
            path="src/app/models.py",
            line=6,
            evidence="uncovered changed lines: 6",
        ),
        Finding(
            "coverage.uncovered",
            Severity.MEDIUM,
            "2 of 3 changed lines in src/app/views.py are not covered by the tests",
            path="src/app/views.py",
            line=11,
            evidence="uncovered changed lines: 11-12",
        ),
    ]


def test_coverage_exact_filenames_and_absolute_ones_match(tmp_path: Path) -> None:
    head = _cobertura(
        tmp_path,
        "coverage.xml",
        "0.5",
        {"src/app/a.py": {1: 0}, "/builds/app/src/app/b.py": {2: 0, 3: 1}},
        ".",
    )
    findings, _ = coverage(head, changed_lines={"src/app/a.py": {1}, "src/app/b.py": {2, 3}})
    assert [(f.path, f.line, f.severity) for f in findings] == [
        ("src/app/a.py", 1, Severity.MEDIUM),
        ("src/app/b.py", 2, Severity.LOW),
    ]


COVERAGE_EXPECTED = "expected a Cobertura XML report (as `coverage xml` writes) with a <coverage line-rate=...> root"


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("{}", "is not well-formed XML (not well-formed (invalid token): line 1, column 0)"),
        ('<coverage line-rate="0.8"><packages>', "is not well-formed XML (no element found: line 1, column 36)"),
        ('<report line-rate="0.8"/>', "has root element <report>, not <coverage>"),
        ('<coverage version="7.4.1"/>', "has no line-rate attribute on <coverage>"),
        ('<coverage line-rate="87%"/>', "has line-rate='87%' on <coverage>, not a number from 0 to 1"),
        ('<coverage line-rate="1.7"/>', "has line-rate='1.7' on <coverage>, not a number from 0 to 1"),
        (
            '<coverage line-rate="1"><packages><package><classes><class name="x">'
            "</class></classes></package></packages></coverage>",
            "has a <class name='x'> without a filename attribute",
        ),
        (
            '<coverage line-rate="1"><packages><package><classes><class filename="x.py"><lines>'
            '<line number="a" hits="0"/></lines></class></classes></package></packages></coverage>',
            "has a <line> in x.py with number='a' hits='0'",
        ),
    ],
)
def test_coverage_malformed(tmp_path: Path, text: str, problem: str) -> None:
    path = _write(tmp_path, "coverage.xml", text)
    assert _error(lambda: coverage(path)) == f"coverage report {path}: {problem}; {COVERAGE_EXPECTED}"


def test_coverage_entity_declarations_and_oversized_files_are_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bomb = _write(
        tmp_path,
        "bomb.xml",
        '<?xml version="1.0"?><!DOCTYPE coverage [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;">]>'
        '<coverage line-rate="&b;"/>',
    )
    assert _error(lambda: coverage(bomb)) == (
        f"coverage report {bomb}: declares XML entities, which a coverage report never needs; refused"
    )
    monkeypatch.setattr(evidence, "MAX_INPUT_BYTES", 1024 * 1024)
    big = _write(tmp_path, "big.xml", '<coverage line-rate="1">' + " " * (1024 * 1024) + "</coverage>")
    assert _error(lambda: coverage(big)) == f"coverage report {big}: is larger than 1 MiB, refused"


def test_coverage_malformed_base_is_named_as_base(tmp_path: Path) -> None:
    head = _cobertura(tmp_path, "head.xml", "0.8", {}, SRC)
    base = _write(tmp_path, "base.xml", "<coverage/>")
    assert _error(lambda: coverage(head, base=base)) == (
        f"coverage base report {base}: has no line-rate attribute on <coverage>; {COVERAGE_EXPECTED}"
    )
