"""``ringfence review`` on real temporary repositories: each signal lowers the score with the
right explanation and routes as configured."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ringfence.review.engine import Inputs, Report, review
from ringfence.review.render import markdown
from tests.review.repo import Repo, make_repo, write_task


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    r = make_repo(tmp_path)
    r.branch("agent/paginate")
    return r


def run(repo: Repo, head: str, **kw: object) -> Report:
    ledger = repo.ledger()
    try:
        return review(Inputs(repo=repo.path, base="main", head=head, ledger=ledger, **kw))  # type: ignore[arg-type]
    finally:
        ledger.close()


def kinds(report: Report) -> list[str]:
    return [f.kind for f in report.findings]


def lost(report: Report, kind: str) -> int:
    return -sum(p.delta for p in report.score.points if p.finding is not None and p.finding.kind == kind)


IN_SCOPE = {
    "src/api/users.py": "def list_users(db, page=1):\n    return db.query('SELECT * FROM users LIMIT 50', page)\n",
    "tests/test_users.py": "def test_list():\n    assert True\n\n\ndef test_page():\n    assert True\n",
}


def test_an_in_scope_attested_change_routes_fast(repo: Repo, tmp_path: Path) -> None:
    head = repo.commit("paginate users", IN_SCOPE)
    repo.attest(head)
    report = run(repo, head, task=write_task(tmp_path), verify_policy=repo.verify_policy())
    assert report.provenance.status == "valid"
    assert [f for f in report.findings if f.severity.value not in ("info", "low")] == []
    assert report.score.value == 90  # 60 + 15 provenance + 15 in scope
    assert report.route.name == "auto_merge" and report.route.exit_code == 0
    reasons = [p.reason for p in report.score.points if p.delta > 0]
    assert "the head commit's provenance attestation verifies" in reasons
    assert "a task declares the scope and the change stays inside it" in reasons


def test_without_valid_provenance_never_auto_merge(repo: Repo, tmp_path: Path) -> None:
    head = repo.commit("paginate users", IN_SCOPE)
    report = run(repo, head, task=write_task(tmp_path))
    assert report.provenance.status == "missing"
    assert "provenance.missing" in kinds(report)
    assert report.route.name == "one_reviewer"
    assert "never auto-merge eligible" in " ".join(report.route.reasons)
    # even a configuration that would auto-merge everything cannot change that
    cfg = tmp_path / "lax.yaml"
    cfg.write_text("version: 1\nsubsystems: {api: ['src/api/**', 'tests/**']}\nroutes:\n"
                   "  auto_merge: {min_score: 0, max_severity: critical}\n"
                   "  senior: {below_score: 0, min_severity: critical}\n")  # fmt: skip
    assert run(repo, head, task=write_task(tmp_path), config=cfg).route.name == "one_reviewer"


def test_a_forged_attestation_routes_to_seniors(repo: Repo, tmp_path: Path) -> None:
    head = repo.commit("paginate users", IN_SCOPE)
    repo.attest(head)
    other = make_repo(tmp_path / "other")  # another agent key and ledger: not the trusted ones
    report = run(repo, head, task=write_task(tmp_path), verify_policy=other.verify_policy())
    assert report.provenance.status == "invalid"
    finding = next(f for f in report.findings if f.kind == "provenance.invalid")
    assert finding.severity.value == "high" and "does not verify" in finding.message
    assert report.route.name == "senior"


def test_an_out_of_scope_change_loses_points_and_says_where(repo: Repo, tmp_path: Path) -> None:
    head = repo.commit(
        "paginate users, and restyle the web app", {**IN_SCOPE, "src/web/app.js": "export const app = () => 'new';\n"}
    )
    repo.attest(head)
    report = run(repo, head, task=write_task(tmp_path), verify_policy=repo.verify_policy())
    outside = [f for f in report.findings if f.kind == "scope.outside"]
    assert [(f.path, f.line) for f in outside] == [("src/web/app.js", 1)]
    assert "outside the scope of APP-1 — Paginate GET /users" in outside[0].message
    sub = next(f for f in report.findings if f.kind == "scope.subsystem")
    assert "changes subsystem web (1 file), which APP-1 — Paginate GET /users does not name" in sub.message
    assert lost(report, "scope.outside") == 8 and lost(report, "scope.subsystem") == 8
    assert report.score.value == 90 - 15 - 16  # no in-scope bonus, two medium findings
    assert report.route.name == "one_reviewer"


def test_a_change_larger_than_the_task_warrants(repo: Repo, tmp_path: Path) -> None:
    files = {f"src/api/handler_{i}.py": "x = 1\n" * 30 for i in range(6)}
    head = repo.commit("many handlers", files)
    report = run(repo, head, task=write_task(tmp_path, subsystems=["api"], max_files=2, max_lines=50))
    sizes = [f.message for f in report.findings if f.kind == "scope.size"]
    assert "changes 6 files; APP-1 — Paginate GET /users warrants at most 2 — more than twice that" in sizes
    assert "changes 180 lines; APP-1 — Paginate GET /users warrants at most 50 — more than twice that" in sizes
    assert report.route.name == "senior"  # high findings


def test_a_destructive_migration_goes_to_senior_reviewers(repo: Repo, tmp_path: Path) -> None:
    sql = "-- clean up\nALTER TABLE users ADD COLUMN name text;\nDROP TABLE users;\n"
    head = repo.commit("tidy schema", {"db/migrate/002_tidy.sql": sql})
    repo.attest(head)
    report = run(repo, head, task=write_task(tmp_path, subsystems=["api"]), verify_policy=repo.verify_policy())
    finding = next(f for f in report.findings if f.kind == "migration.destructive")
    assert finding.severity.value == "critical"
    assert (finding.path, finding.line) == ("db/migrate/002_tidy.sql", 3)
    assert "`DROP TABLE` (users)" in finding.message and "data is lost" in finding.message
    assert lost(report, "migration.destructive") == 40
    assert "scope.forbidden" in kinds(report)  # the task does not allow migrations
    assert report.route.name == "senior" and report.route.approvals == 2
    assert report.route.reviewers[0] == "@acme/dba"  # CODEOWNERS of the migration, at the base
    assert "@acme/senior" in report.route.reviewers
    # an additive migration is only a sensitive change, not a destructive one
    repo.branch("agent/additive")
    head2 = repo.commit("add column", {"db/migrate/002_add.sql": "ALTER TABLE users ADD COLUMN name text;\n"})
    assert "migration.destructive" not in kinds(run(repo, head2))


def test_weakened_ci_lowers_the_score_and_routes_to_seniors(repo: Repo) -> None:
    weakened = (
        (repo.path / ".github/workflows/ci.yml")
        .read_text()
        .replace("        run: pytest -q\n", "        run: pytest -q\n        continue-on-error: true\n")
    )
    head = repo.commit("make CI green", {".github/workflows/ci.yml": weakened})
    report = run(repo, head)
    finding = next(f for f in report.findings if f.kind == "ci.weakened")
    assert finding.severity.value == "high" and finding.path == ".github/workflows/ci.yml"
    assert "continue-on-error" in finding.message
    assert "sensitive.ci" in kinds(report)
    assert lost(report, "ci.weakened") == 20
    assert report.route.name == "senior"
    assert report.route.reviewers[0] == "@acme/platform"


def test_a_terraform_plan_that_deletes_a_database(repo: Repo, tmp_path: Path) -> None:
    plan = {
        "format_version": "1.2",
        "terraform_version": "1.9.5",
        "resource_changes": [
            {
                "address": "aws_db_instance.main",
                "mode": "managed",
                "type": "aws_db_instance",
                "name": "main",
                "change": {"actions": ["delete"], "before": {"instance_class": "db.r6g.large"}, "after": None},
            },
            {
                "address": "aws_instance.web",
                "mode": "managed",
                "type": "aws_instance",
                "name": "web",
                "change": {"actions": ["no-op"], "before": {}, "after": {}},
            },
        ],
    }
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(plan))
    head = repo.commit("infra", {"infra/main.tf": 'resource "aws_instance" "web" {}\n'})
    report = run(repo, head, terraform_plan=path)
    finding = next(f for f in report.findings if f.kind == "terraform.delete")
    assert finding.severity.value == "critical" and "aws_db_instance.main" in finding.message
    assert "its data goes with it" in finding.message and lost(report, "terraform.delete") == 40
    assert "sensitive.infrastructure" in kinds(report)
    assert report.route.name == "senior"


def test_new_high_severity_sarif_findings(repo: Repo, tmp_path: Path) -> None:
    def sarif(results: list[dict[str, object]]) -> Path:
        doc = {
            "version": "2.1.0",
            "runs": [
                {
                    "tool": {
                        "driver": {
                            "name": "semgrep",
                            "rules": [{"id": "sql-injection", "properties": {"security-severity": "8.1"}}],
                        }
                    },
                    "results": results,
                }
            ],
        }
        path = tmp_path / f"r{len(results)}.sarif"
        path.write_text(json.dumps(doc))
        return path

    hit = {
        "ruleId": "sql-injection",
        "level": "error",
        "message": {"text": "user input reaches a SQL query"},
        "locations": [
            {"physicalLocation": {"artifactLocation": {"uri": "src/api/users.py"}, "region": {"startLine": 2}}}
        ],
    }
    head = repo.commit("paginate users", IN_SCOPE)
    report = run(repo, head, sarif=sarif([hit]), sarif_base=sarif([]))
    finding = next(f for f in report.findings if f.kind == "sarif.new")
    assert finding.severity.value == "high" and finding.location == "src/api/users.py:2"
    assert "semgrep sql-injection: user input reaches a SQL query" in finding.message
    assert lost(report, "sarif.new") == 20
    assert report.route.name == "senior"
    # the same finding already present on the base is not new
    assert "sarif.new" not in kinds(run(repo, head, sarif=sarif([hit]), sarif_base=sarif([hit])))


def test_a_coverage_drop(repo: Repo, tmp_path: Path) -> None:
    def cobertura(rate: float, name: str) -> Path:
        path = tmp_path / name
        path.write_text(
            f'<?xml version="1.0" ?>\n<coverage version="7.6.1" line-rate="{rate}" branch-rate="0" '
            'lines-covered="90" lines-valid="100" timestamp="1733500000000">\n'
            '<sources><source>/work/app</source></sources>\n<packages><package name="src.api" '
            f'line-rate="{rate}"><classes><class name="users.py" filename="src/api/users.py" line-rate="{rate}">'
            '<lines><line number="1" hits="1"/><line number="2" hits="0"/></lines></class></classes></package>'
            "</packages>\n</coverage>\n"
        )
        return path

    head = repo.commit("paginate users", IN_SCOPE)
    report = run(repo, head, coverage=cobertura(0.80, "head.xml"), coverage_base=cobertura(0.90, "base.xml"))
    finding = next(f for f in report.findings if f.kind == "coverage.drop")
    assert finding.severity.value == "high" and "90.0%" in finding.message and "80.0%" in finding.message
    assert report.coverage_delta == pytest.approx(-10.0)
    assert lost(report, "coverage.drop") == 20 and report.route.name == "senior"
    assert not any(p.reason.startswith("coverage was measured") for p in report.score.points)
    steady = run(repo, head, coverage=cobertura(0.90, "head2.xml"), coverage_base=cobertura(0.90, "base2.xml"))
    assert any(p.reason == "coverage was measured and did not drop" and p.delta == 5 for p in steady.score.points)


def test_an_agent_cannot_relax_its_own_review(repo: Repo) -> None:
    lax = (
        "version: 1\nroutes:\n  auto_merge: {min_score: 0, max_severity: critical}\n"
        "  senior: {below_score: 0, min_severity: critical}\n"
    )
    head = repo.commit("drop users", {".ringfence/review.yaml": lax, "db/migrate/002.sql": "DROP TABLE users;\n"})
    report = run(repo, head)
    assert report.config.source.startswith(".ringfence/review.yaml at ")  # read at the base
    assert "sensitive.gate" in kinds(report)
    assert report.route.name == "senior"


def test_a_task_that_forbids_dependency_changes(repo: Repo, tmp_path: Path) -> None:
    head = repo.commit("bump", {"requirements.txt": "requests==2.32.3\nleftpad==0.1\n"})
    report = run(repo, head, task=write_task(tmp_path, paths=["requirements.txt"]))
    forbidden = next(f for f in report.findings if f.kind == "scope.forbidden")
    assert "dependency manifests and lock files" in forbidden.message and forbidden.path == "requirements.txt"
    task = tmp_path / "allow.yaml"
    task.write_text("id: APP-2\nscope: {paths: [requirements.txt]}\nallow: {dependencies: true}\n")
    assert "scope.forbidden" not in kinds(run(repo, head, task=task))


def test_a_secret_in_the_change_is_critical_and_never_repeated(repo: Repo) -> None:
    token = "ghp_" + "A1b2C3d4E5" * 4
    head = repo.commit("config", {"src/api/settings.py": f"TOKEN = '{token}'\n"})
    report = run(repo, head)
    finding = next(f for f in report.findings if f.kind == "secrets.added")
    assert finding.location == "src/api/settings.py:1" and finding.severity.value == "critical"
    assert token not in json.dumps(report.to_dict()) and token not in markdown(report)


def test_track_record_counts_denials_and_reverts(repo: Repo) -> None:
    first = repo.commit("paginate users", IN_SCOPE)
    repo.attest(first)
    repo.git("revert", "--no-edit", first)
    repo.decisions("deploy-bot", ["allow"] * 6 + ["deny"] * 4)
    head = repo.commit("again", {"src/api/users.py": "def list_users(db):\n    return []\n"})
    report = run(repo, head, agent="deploy-bot")
    assert report.record is not None
    assert report.record.decisions == 12 and report.record.denials == 4  # 2 from the attested session
    assert report.record.reverted == [first]
    denials = next(f for f in report.findings if f.kind == "track.denials")
    assert "denied 4 of 12 times (33%)" in denials.message and denials.severity.value == "medium"
    assert "track.reverted" in kinds(report)


def test_markdown_leads_with_the_verdict(repo: Repo) -> None:
    head = repo.commit("drop", {"db/migrate/002.sql": "DROP TABLE users;\n"})
    text = markdown(run(repo, head))
    first = text.splitlines()[0]
    assert first.startswith("### 🔴 ringfence review: **senior reviewers** — trust score ")
    assert "`db/migrate/002.sql:1`" in text
    assert text.index("#### Findings") < text.index("<details>")
    assert "+60 base" in text


def test_the_verify_policy_named_by_the_base_config_is_read_at_the_base(repo: Repo, tmp_path: Path) -> None:
    import yaml

    repo.git("checkout", "-q", "main")
    policy = repo.verify_policy()
    config = yaml.safe_load((repo.path / ".ringfence/review.yaml").read_text())
    config["provenance"] = {"policy": ".ringfence/verify.yaml"}
    repo.commit("review config names the verify policy", {
        ".ringfence/review.yaml": yaml.safe_dump(config), ".ringfence/verify.yaml": policy.read_text(),
    })  # fmt: skip
    repo.branch("agent/x")
    head = repo.commit("paginate users", {**IN_SCOPE, ".ringfence/verify.yaml": "version: 1\n"})  # a gutted policy
    repo.attest(head)
    report = run(repo, head, task=write_task(tmp_path))
    assert report.provenance.status == "valid"  # judged by the base's policy, not the change's
    assert "sensitive.gate" in kinds(report)
    # an explicit --config outside the repository reads its policy from the file system
    outside = tmp_path / "cfg"
    outside.mkdir()
    (outside / "verify.yaml").write_text(policy.read_text())
    (outside / "review.yaml").write_text(yaml.safe_dump({**config, "provenance": {"policy": "verify.yaml"}}))
    assert run(repo, head, task=write_task(tmp_path), config=outside / "review.yaml").provenance.status == "valid"


def test_routes_follow_the_configuration(repo: Repo, tmp_path: Path) -> None:
    cfg = tmp_path / "review.yaml"
    cfg.write_text(
        "version: 1\nsubsystems: {api: ['src/api/**', 'tests/**']}\n"
        "routes:\n  senior: {min_severity: critical, below_score: 20, k: 3, reviewers: ['@acme/db-leads']}\n"
    )
    weakened = (
        (repo.path / ".github/workflows/ci.yml")
        .read_text()
        .replace("        run: pytest -q\n", "        run: pytest -q\n        continue-on-error: true\n")
    )
    head = repo.commit("make CI green", {".github/workflows/ci.yml": weakened})
    report = run(repo, head, config=cfg)
    assert "ci.weakened" in kinds(report)
    assert report.route.name == "one_reviewer" and report.route.approvals == 1  # high is below the configured bar
    repo.branch("agent/drop")
    head = repo.commit("drop", {"db/migrate/002.sql": "DROP TABLE users;\n"})
    report = run(repo, head, config=cfg)
    assert report.route.name == "senior" and report.route.approvals == 3
    assert report.route.reviewers == ("@acme/dba", "@acme/db-leads")
