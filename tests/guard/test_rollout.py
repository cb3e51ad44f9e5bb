"""Guarded rollouts against a real Prometheus scraping an application whose error rate the
test controls: a healthy rollout completes, a breach runs the signed rollback runbook and
its post-check, a missing metric pauses as inconclusive, an unsigned or modified runbook
is refused. Everything runs through the real CLI."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from ringfence.control.notify import verify_webhook
from ringfence.ledger.store import open_ledger
from tests.commands.test_ci import GITHUB
from tests.control.flow import cli, create_keys, write_config
from tests.guard.promserver import ERROR_RATIO, App, Prometheus, stack  # noqa: F401 - the fixture
from tests.helpers import isolated_env

SECRET = "hook-secret-for-tests"


def runbook(app: App, version: int = 1) -> dict[str, Any]:
    return {
        "version": version,
        "name": "rollback-web",
        "description": "Roll web back to the previous release",
        "environment": "production",
        "steps": [
            {"name": "announce", "run": ["echo", "rolling back web"]},
            {
                "name": "roll back",
                "http": {"method": "POST", "url": f"{app.url}/admin/rollback", "status": [200, 204]},
                "precondition": {"http": {"url": f"{app.url}/healthz", "status": 200}},
            },
        ],
        "postchecks": [
            {"name": "error ratio back under 2%", "prometheus": {"query": ERROR_RATIO, "condition": "result[0] < 0.02"},
             "retries": 30, "interval": "1s"},
            {"name": "healthy", "http": {"url": f"{app.url}/healthz", "status": 200}},
        ],
    }  # fmt: skip


def guard(prom: Prometheus, query: str = ERROR_RATIO, **metric: Any) -> dict[str, Any]:
    return {
        "version": 1,
        "name": "web-canary",
        "environment": "production",
        "service": "web",
        "prometheus": {"address": prom.url, "timeout": "5s"},
        "metrics": [
            {
                "name": "error-ratio",
                "query": query,
                "initialDelay": 0,
                "interval": "1s",
                "count": 4,
                "successCondition": "result[0] < 0.02",
                "failureCondition": "result[0] >= 0.02",
                "failureLimit": 1,
                **metric,
            }
        ],
        "on_failure": {"runbook": "rollback.yaml"},
    }


class World:
    def __init__(self, tmp_path: Path, app: App, prom: Prometheus) -> None:
        self.root, self.app, self.prom = tmp_path, app, prom
        self.env = isolated_env(tmp_path)
        self.ws = tmp_path / "ops"
        self.ws.mkdir()
        keys = create_keys(self.env, self.ws, "alice", "bob", "mallory")
        write_config(
            self.env,
            {
                "approvers": {
                    "alice": {"groups": ["sre"], "key": keys["alice"]},
                    "bob": {"groups": ["sre"], "key": keys["bob"]},
                },
                "approvals": {"runbooks": {"k": 2, "groups": ["sre"]}, "notify": ["oncall"]},
                "channels": {"oncall": {"kind": "webhook", "url": f"{app.url}/hooks", "secret": SECRET}},
            },
        )
        self.runbook = self.ws / "rollback.yaml"
        self.spec = self.ws / "guard.yaml"

    def write(self, spec: dict[str, Any], book: dict[str, Any] | None = None) -> None:
        self.spec.write_text(yaml.safe_dump(spec, sort_keys=False))
        self.runbook.write_text(yaml.safe_dump(book or runbook(self.app), sort_keys=False))

    def sign(self, *who: str) -> None:
        for name in who:
            proc = cli(self.env, self.ws, "runbook", "sign", str(self.runbook), "--as", name)
            assert proc.returncode == 0, proc.stderr

    def run(self, *extra: str) -> tuple[int, dict[str, Any]]:
        proc = cli(self.env, self.ws, "guard", "run", str(self.spec), "--json", *extra)
        assert proc.stdout, proc.stderr
        return proc.returncode, json.loads(proc.stdout)

    def ledger(self) -> list[dict[str, Any]]:
        ledger = open_ledger(Path(self.env["XDG_STATE_HOME"]) / "ringfence" / "ledger.db")
        try:
            return list(ledger.entries())
        finally:
            ledger.close()


@pytest.fixture
def world(tmp_path: Path, stack: tuple[App, Prometheus]) -> World:  # noqa: F811
    app, prom = stack
    app.set_error_rate(0.0)
    app.hooks.clear()
    time.sleep(5)  # let the 5s rate window forget the previous test
    return World(tmp_path, app, prom)


def test_a_healthy_rollout_completes(world: World) -> None:
    world.write(guard(world.prom))
    world.sign("alice", "bob")
    rollbacks = world.app.rollbacks
    code, out = world.run()
    assert (code, out["phase"]) == (0, "Successful"), out
    metric = out["analysis"]["metrics"][0]
    assert metric["counts"] == {"measured": 4, "failed": 0, "inconclusive": 0, "error": 0}
    assert all(m["value"][0] < 0.02 for m in metric["measurements"])
    assert out["runbook"] is None and world.app.rollbacks == rollbacks and world.app.hooks == []
    (entry,) = [e for e in world.ledger() if e.get("kind") == "guard"]
    assert entry["decision"] == "Successful" and entry["guard"] == "web-canary"


def test_a_breach_runs_the_signed_rollback_and_its_postcheck(world: World) -> None:
    world.write(guard(world.prom))
    world.sign("alice", "bob")
    world.app.set_error_rate(0.2)  # 20% of requests fail: well above 2%
    time.sleep(3)
    rollbacks = world.app.rollbacks
    code, out = world.run()
    assert (code, out["phase"]) == (2, "Failed"), out
    assert out["headline"] == "FAILED: rolled back"
    metric = out["analysis"]["metrics"][0]
    assert metric["counts"]["failed"] == 2  # failureLimit 1: the second failed measurement decides
    assert "failureCondition result[0] >= 0.02 holds" in metric["measurements"][-1]["message"]
    book = out["runbook"]
    assert book["ok"] is True and book["signers"] == ["alice", "bob"]
    assert [(s["name"], s["decision"], s["ran"], s["ok"]) for s in book["steps"]] == [
        ("announce", "allow", True, True),
        ("roll back", "allow", True, True),
    ]
    assert [c["ok"] for c in book["postchecks"]] == [True, True]
    assert world.app.rollbacks == rollbacks + 1 and world.app.error_rate == 0.0
    # the incident, with the metric evidence, and every step's decision, are in the ledger
    entries = world.ledger()
    steps = [e for e in entries if (e.get("runbook") or {}).get("step")]
    assert [e["runbook"]["step"] for e in steps] == ["announce", "roll back"]
    assert all(e["runbook"]["signers"] == ["alice", "bob"] for e in steps)
    assert steps[1]["action"]["payload"]["command"] == f"curl -X POST {world.app.url}/admin/rollback"
    (incident,) = [e for e in entries if e.get("kind") == "incident"]
    assert incident["decision"] == "Failed" and incident["environment"] == "production"
    assert incident["evidence"]["metrics"][0]["counts"]["failed"] == 2
    assert incident["runbook"]["ok"] is True
    # on-call was told, with a signature receivers can check
    (hook,) = world.app.hooks
    assert hook["body"]["event"] == "guard.failed"
    assert hook["body"]["guard"]["headline"] == "FAILED: rolled back"
    body = json.dumps(hook["body"], sort_keys=True, separators=(",", ":")).encode()
    verify_webhook(SECRET, {k: v for k, v in hook["headers"].items()}, body)  # type: ignore[misc]


def test_a_missing_metric_pauses_as_inconclusive(world: World) -> None:
    world.write(guard(world.prom, query='sum(rate(app_requests_missing_total{code=~"5.."}[5s]))'))
    world.sign("alice", "bob")
    rollbacks = world.app.rollbacks
    code, out = world.run()
    assert (code, out["phase"]) == (4, "Inconclusive"), out
    assert out["headline"] == "inconclusive: paused, not promoted"
    assert "no data" in out["analysis"]["message"]
    assert out["runbook"] is None and world.app.rollbacks == rollbacks
    (hook,) = world.app.hooks
    assert hook["body"]["event"] == "guard.inconclusive"


def test_an_unsigned_runbook_is_refused(world: World) -> None:
    world.write(guard(world.prom))
    world.sign("alice")  # one of the two required
    proc = cli(world.env, world.ws, "guard", "run", str(world.spec))
    assert proc.returncode == 3
    assert "refusing to guard with runbook" in proc.stderr and "needs 2 signature(s)" in proc.stderr


def test_a_modified_runbook_is_refused(world: World) -> None:
    world.write(guard(world.prom))
    world.sign("alice", "bob")
    assert cli(world.env, world.ws, "runbook", "verify", str(world.runbook)).returncode == 0
    edited = runbook(world.app)
    edited["steps"][0]["run"] = ["echo", "and something else"]  # an agent "improves" the runbook
    world.runbook.write_text(yaml.safe_dump(edited))
    verify = cli(world.env, world.ws, "runbook", "verify", str(world.runbook))
    assert verify.returncode == 2 and "the runbook changed after it was signed" in verify.stdout
    proc = cli(world.env, world.ws, "guard", "run", str(world.spec))
    assert proc.returncode == 3 and "refusing to guard" in proc.stderr
    run = cli(world.env, world.ws, "runbook", "run", str(world.runbook))
    assert run.returncode == 2 and "refused" in run.stdout


def test_an_agent_cannot_sign_a_runbook(world: World) -> None:
    world.write(guard(world.prom))
    proc = cli(world.env, world.ws, "runbook", "sign", str(world.runbook), "--as", "alice",
               extra_env={"CLAUDECODE": "1"})  # fmt: skip
    assert proc.returncode == 3 and "belongs to an agent" in proc.stderr
    stranger = cli(world.env, world.ws, "runbook", "sign", str(world.runbook), "--as", "mallory")
    assert stranger.returncode == 3 and "mallory is not a configured approver" in stranger.stderr


def test_dry_run_shows_what_would_happen(world: World) -> None:
    world.write(guard(world.prom))
    world.sign("alice", "bob")
    code, out = world.run("--dry-run")
    assert (code, out["phase"]) == (0, "DryRun"), out
    plan = "\n".join(out["plan"])
    assert "metric error-ratio: 4 measurement(s), first after 0s, every 1s" in plan
    assert "on failure: runbook rollback-web v1 signed by alice, bob (2 of 2)" in plan
    assert f"step roll back: `curl -X POST {world.app.url}/admin/rollback` → allow" in plan
    assert not [e for e in world.ledger() if e.get("kind") in ("guard", "incident")]


def test_the_deploy_step_stays_running_through_the_analysis(world: World) -> None:
    world.write(guard(world.prom))
    world.sign("alice", "bob")
    marker = world.root / "deployed"

    def gate(*extra: str) -> Any:
        return cli(world.env, world.ws, "ci", "gate", "--action", "deploy", "--env", "staging",
                   "--artifact", "sha256:" + "ab" * 32, "--json", "--guard", str(world.spec), *extra,
                   extra_env=GITHUB)  # fmt: skip

    ok = gate("--", "touch", str(marker))
    assert ok.returncode == 0, ok.stdout + ok.stderr
    doc = json.loads(ok.stdout)
    assert doc["result"] == "allowed" and doc["guard"]["phase"] == "Successful" and marker.exists()
    world.app.set_error_rate(0.25)
    time.sleep(3)
    bad = gate()
    assert bad.returncode == 2, bad.stdout
    doc = json.loads(bad.stdout)
    assert doc["result"] == "rolled back" and doc["guard"]["runbook"]["ok"] is True
    assert world.app.error_rate == 0.0


def test_guard_flags_are_checked_before_anything_runs(world: World) -> None:
    missing = cli(world.env, world.ws, "ci", "gate", "--action", "deploy", "--env", "staging", "--artifact",
                  "sha256:" + "ab" * 32, "--guard", str(world.root / "nope.yaml"), extra_env=GITHUB)  # fmt: skip
    assert missing.returncode == 3 and "--guard: cannot read the guard spec" in missing.stdout
    stray = cli(world.env, world.ws, "ci", "gate", "--action", "deploy", "--env", "staging", "--artifact",
                "sha256:" + "ab" * 32, "--", "./deploy.sh", extra_env=GITHUB)  # fmt: skip
    assert stray.returncode == 3 and "a deploy command belongs with --guard SPEC" in stray.stdout


def test_a_mistyped_flag_is_still_named(world: World) -> None:
    typo = cli(world.env, world.ws, "ci", "gate", "--action", "deploy", "--evn", "staging", "--artifact",
               "sha256:" + "ab" * 32, extra_env=GITHUB)  # fmt: skip
    assert typo.returncode == 3 and "unrecognized arguments: --evn" in typo.stderr
