"""``ringfence review``, ``ci review`` and ``agents`` through the CLI: exit codes by route,
bad input, the ledger record and the metrics it feeds."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from ringfence.ledger.store import open_ledger
from tests.review.repo import Repo, make_repo, write_task

RINGFENCE = str(Path(sys.executable).parent / "ringfence")


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    r = make_repo(tmp_path)
    config = tmp_path / "home" / ".config" / "ringfence" / "config.yaml"
    config.parent.mkdir(parents=True)
    config.write_text(yaml.safe_dump({"ledger": str(r.ledger_path)}))
    r.branch("agent/work")
    return r


def cli(repo: Repo, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("RINGFENCE_", "GITHUB_", "GITLAB", "CI"))}
    base.update(
        HOME=str(repo.root / "home"),
        XDG_CONFIG_HOME=str(repo.root / "home" / ".config"),
        XDG_STATE_HOME=str(repo.root / "home" / ".state"),
        RINGFENCE_DAEMON="0",
        GIT_CONFIG_GLOBAL="/dev/null",
        COLUMNS="200",
    )
    base.update(env)
    return subprocess.run(
        [RINGFENCE, *args], cwd=repo.path, env=base, capture_output=True, text=True, timeout=120, check=False
    )


def test_exit_codes_follow_the_route(repo: Repo, tmp_path: Path) -> None:
    head = repo.commit("paginate", {"src/api/users.py": "def list_users(db, page=1):\n    return []\n"})
    repo.attest(head)
    fast = cli(repo, "review", "--base", "main", "--task", str(write_task(tmp_path)),
               "--verify-policy", str(repo.verify_policy()))  # fmt: skip
    assert fast.returncode == 0, fast.stdout + fast.stderr
    assert fast.stdout.startswith("### 🟢 ringfence review: **auto-merge eligible** — trust score 90/100")
    one = cli(repo, "review", "--base", "main", "--task", str(write_task(tmp_path)))
    assert one.returncode == 1 and "one reviewer" in one.stdout.splitlines()[0]
    repo.commit("drop", {"db/migrate/002.sql": "DROP TABLE users;\n"})
    senior = cli(repo, "review", "--base", "main", "--format", "json")
    assert senior.returncode == 2
    doc = json.loads(senior.stdout)
    assert doc["route"] == "senior" and doc["approvals_needed"] == 2 and doc["exit_code"] == 2
    assert any(f["kind"] == "migration.destructive" and f["line"] == 1 for f in doc["findings"])
    assert sum(p["delta"] for p in doc["points"]) <= doc["score"] or doc["score"] == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--base", "nope"], "'nope' does not name a commit"),
        (["--base", "main", "--task", "missing.yaml"], "--task missing.yaml: no such file"),
        (["--base", "main", "--sarif-base", "x.sarif"], "--sarif-base x.sarif: no such file"),
        (["--base", "main", "--prices", "p.yaml"], "--prices p.yaml: no such file"),
    ],
)
def test_bad_input_exits_3_and_records_nothing(repo: Repo, args: list[str], message: str) -> None:
    repo.commit("x", {"src/api/x.py": "x = 1\n"})
    proc = cli(repo, "review", "--record", *args)
    assert proc.returncode == 3 and message in proc.stderr
    assert not repo.ledger_path.exists() or open_ledger(repo.ledger_path).size() == 0


def test_a_bad_task_file_says_what_is_wrong(repo: Repo, tmp_path: Path) -> None:
    repo.commit("x", {"src/api/x.py": "x = 1\n"})
    for text, message in (
        (
            "scope: {subsystems: [billing]}\n",
            "scope.subsystems names 'billing', which the review configuration does not define",
        ),
        ("scope: {max_files: 0}\n", "scope.max_files must be a whole number ≥ 1"),
        ("allow: {nuclear: true}\n", "allow.nuclear is not a change class"),
        ("owner: me\n", "unknown key 'owner'"),
    ):
        task = tmp_path / "t.yaml"
        task.write_text(text)
        proc = cli(repo, "review", "--base", "main", "--task", str(task))
        assert proc.returncode == 3 and message in proc.stderr, proc.stderr


def test_ci_review_on_a_github_pull_request(repo: Repo, tmp_path: Path) -> None:
    base = repo.git("rev-parse", "main")
    head = repo.commit("drop", {"db/migrate/002.sql": "DROP TABLE users;\n"})
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"pull_request": {"number": 7, "base": {"sha": base}, "head": {"sha": head}}}))
    summary = tmp_path / "summary.md"
    proc = cli(repo, "ci", "review", "--agent", "deploy-bot", "--comment-file", str(tmp_path / "comment.md"),
               GITHUB_ACTIONS="true", GITHUB_EVENT_PATH=str(event), GITHUB_STEP_SUMMARY=str(summary))  # fmt: skip
    assert proc.returncode == 2, proc.stderr
    assert summary.read_text().startswith("### 🔴 ringfence review: **senior reviewers**")
    assert (tmp_path / "comment.md").read_text() == summary.read_text()
    ledger = open_ledger(repo.ledger_path)
    (entry,) = [e for e in ledger.entries() if e.get("kind") == "review"]
    ledger.close()
    assert (entry["principal_id"], entry["head"], entry["route"]) == ("deploy-bot", head, "senior")
    assert entry["findings"]["migration.destructive"] == 1
    advisory = cli(repo, "ci", "review", "--exit-zero", GITHUB_ACTIONS="true", GITHUB_EVENT_PATH=str(event))
    assert advisory.returncode == 0


def test_ci_review_outside_a_pull_request_says_what_to_pass(repo: Repo) -> None:
    proc = cli(repo, "ci", "review")
    assert proc.returncode == 3 and "pass --base and --head" in proc.stderr


def test_agent_metrics_from_recorded_reviews(repo: Repo) -> None:
    first = repo.commit("paginate", {"src/api/users.py": "def list_users(db, page=1):\n    return []\n"})
    assert cli(repo, "review", "--base", "main", "--record", "--agent", "deploy-bot").returncode == 1
    repo.git("revert", "--no-edit", first)
    second = repo.commit("drop", {"db/migrate/002.sql": "DROP TABLE users;\n"})
    assert cli(repo, "review", "--base", "main", "--record", "--agent", "deploy-bot").returncode == 2
    repo.decisions("deploy-bot", ["allow", "allow", "deny"])
    ledger = open_ledger(repo.ledger_path)
    merge = {"kind": "merge", "payload": {"artifact": f"git:{second}"}}
    ledger.append(
        {"ts": "2026-12-09T10:00:00Z", "principal_type": "service", "principal_id": "ci", "decision": "allow",
         "action_kind": "merge", "action": merge}
    )  # fmt: skip
    ledger.close()
    proc = cli(repo, "agents", "--json")
    assert proc.returncode == 0, proc.stderr
    (row,) = json.loads(proc.stdout)
    assert row["agent"] == "deploy-bot"
    assert (row["decisions"], row["denials"], row["reviewed"]) == (3, 1, 2)
    assert row["routes"] == {"auto_merge": 0, "one_reviewer": 1, "senior": 1}
    assert row["reverted"] == 1 and row["revert_rate"] == 0.5
    assert row["median_seconds_to_merge"] is not None and row["median_seconds_to_merge"] > 0
    table = cli(repo, "agents")
    assert "deploy-bot" in table.stdout and "0 / 1 / 1" in table.stdout
