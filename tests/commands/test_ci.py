"""``ringfence ci gate``, the CI principal and the pipeline analysis.

The command runs in-process against real configuration, a real ledger and real control
state; approvers answer from another thread while the gate waits, as they would from
their own terminals."""

from __future__ import annotations

import base64
import json
import os
import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from ringfence.adapters.ci import CIEnvironmentError, classify, principal_from_env
from ringfence.analyze.context import Context
from ringfence.analyze.kinds import EFFECT_KINDS
from ringfence.analyze.pipeline import analyze_pipeline
from ringfence.cli import main
from ringfence.commands._control import open_control
from ringfence.control.answers import answer
from ringfence.control.keys import create_key, load_key
from ringfence.gate import Gate
from ringfence.model import Action, ActionKind, Principal, PrincipalType
from tests.control.flow import EXAMPLE_POLICY
from tests.helpers import isolated_env, make_workspace

ARTIFACT = "sha256:" + "ab" * 32
OTHER_ARTIFACT = "sha256:" + "cd" * 32
GITHUB = {
    "GITHUB_ACTIONS": "true",
    "GITHUB_ACTOR": "erin",
    "GITHUB_TRIGGERING_ACTOR": "erin",
    "GITHUB_REPOSITORY": "acme/web",
    "GITHUB_RUN_ID": "9001",
    "GITHUB_SHA": "1" * 40,
    "GITHUB_REF": "refs/heads/main",
    "GITHUB_EVENT_NAME": "push",
}
ANSI = re.compile(r"\x1b\[")
BOT_PACK = """\
pack: acme
rules:
  - id: acme.no-bot-production
    effect: deploy
    when: {environment: production}
    match: {principal: {type: agent}}
    decision: deny
    tier: high
    reason: Bots never deploy to production.
"""


# --- who acts --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("login", "account_type", "kind", "bot_kind"),
    [
        ("alice", None, PrincipalType.HUMAN, None),
        ("dependabot[bot]", None, PrincipalType.AGENT, "dependency"),
        ("renovate[bot]", None, PrincipalType.AGENT, "dependency"),
        ("renovate-bot", None, PrincipalType.AGENT, "dependency"),
        ("copilot-swe-agent[bot]", None, PrincipalType.AGENT, "app"),
        ("some-app", "Bot", PrincipalType.AGENT, "app"),
        ("github-actions[bot]", None, PrincipalType.SERVICE, "ci"),
        ("project_4711_bot_1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d", None, PrincipalType.SERVICE, "access-token"),
        ("group_12_bot_0f0f0f0f", None, PrincipalType.SERVICE, "access-token"),
        ("project_4711_bot", None, PrincipalType.SERVICE, "access-token"),
        ("project_manager", None, PrincipalType.HUMAN, None),
        ("robotnik", None, PrincipalType.HUMAN, None),
    ],
)
def test_bots_are_told_from_people_by_account_name(
    login: str, account_type: str | None, kind: PrincipalType, bot_kind: str | None
) -> None:
    actor = classify(login, account_type=account_type)
    assert (actor.type, actor.bot_kind, actor.bot) == (kind, bot_kind, bot_kind is not None)


def test_github_principal_is_the_actor_with_the_run_as_session() -> None:
    p = principal_from_env(GITHUB)
    assert (p.type, p.id, p.runtime, p.session) == (PrincipalType.HUMAN, "erin", "github-actions", "9001")
    assert p.attributes["bot"] == "false" and p.attributes["repository"] == "acme/web"
    assert p.attributes["pipeline_url"] == "https://github.com/acme/web/actions/runs/9001"
    bot = principal_from_env({**GITHUB, "GITHUB_ACTOR": "dependabot[bot]", "GITHUB_TRIGGERING_ACTOR": "erin"})
    assert (bot.type, bot.id, bot.attributes["bot_kind"]) == (PrincipalType.AGENT, "dependabot[bot]", "dependency")
    assert bot.attributes["triggering_actor"] == "erin"
    rerun = principal_from_env({**GITHUB, "GITHUB_TRIGGERING_ACTOR": "github-actions[bot]"})
    assert (rerun.type, rerun.id) == (PrincipalType.SERVICE, "erin")  # automation re-ran a person's run


def test_gitlab_and_generic_ci_principals() -> None:
    gl = principal_from_env(
        {
            "GITLAB_CI": "true",
            "GITLAB_USER_LOGIN": "project_42_bot_9c1e2d3f",
            "CI_PIPELINE_ID": "777",
            "CI_PROJECT_PATH": "acme/api",
            "CI_COMMIT_REF_NAME": "main",
        }
    )
    assert (gl.type, gl.runtime, gl.session) == (PrincipalType.SERVICE, "gitlab-ci", "777")
    assert gl.attributes["bot_kind"] == "access-token" and gl.attributes["ref"] == "refs/heads/main"
    generic = principal_from_env({"CI": "true", "RINGFENCE_CI_ACTOR": "renovate", "RINGFENCE_CI_RUN": "5"})
    assert (generic.type, generic.runtime, generic.session) == (PrincipalType.AGENT, "ci", "5")


@pytest.mark.parametrize(
    ("env", "needle"),
    [
        ({}, "no CI system detected"),
        ({"GITHUB_ACTIONS": "true"}, "GITHUB_ACTOR is not set"),
        ({"GITHUB_ACTIONS": "true", "GITHUB_ACTOR": "a b;rm"}, "not an account name"),
        ({"GITLAB_CI": "true"}, "GITLAB_USER_LOGIN is not set"),
        ({"CI": "true"}, "RINGFENCE_CI_ACTOR"),
    ],
)
def test_an_unattributable_pipeline_is_refused(env: dict[str, str], needle: str) -> None:
    with pytest.raises(CIEnvironmentError, match=re.escape(needle)):
        principal_from_env(env)


# --- what the step does -------------------------------------------------------------------------


def _effects(kind: ActionKind, payload: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    ctx = Context.for_cwd("/tmp", home="/tmp")
    ctx.environment = None
    return [(e.kind, dict(e.attrs)) for e in analyze_pipeline(Action(kind, payload, cwd="/tmp"), ctx)]


def test_pipeline_steps_emit_the_effects_the_packs_judge() -> None:
    deploy = _effects(ActionKind.DEPLOY, {"step": "deploy", "artifact": ARTIFACT, "environment": "prod-eu"})
    assert deploy[0][0] == "deploy"
    assert deploy[0][1]["environment"] == "production" and deploy[0][1]["production"] is True
    assert deploy[0][1]["environment_name"] == "prod-eu" and deploy[0][1]["artifact"] == ARTIFACT
    publish = _effects(ActionKind.DEPLOY, {"step": "publish", "artifact": ARTIFACT, "service": "pkg"})
    assert [k for k, _ in publish] == ["publish"] and publish[0][1]["local"] is False
    migrate = _effects(
        ActionKind.MIGRATION,
        {"artifact": ARTIFACT, "environment": "staging", "direction": "down", "sql": "DROP TABLE users;"},
    )
    assert [k for k, _ in migrate] == ["db.migrate", "db.destructive"]
    assert migrate[0][1]["direction"] == "down" and migrate[0][1]["environment"] == "staging"
    assert migrate[1][1]["migration_file"] is True
    merge = _effects(ActionKind.MERGE, {"artifact": "git:" + "e" * 40, "target_branch": "main", "bypass_review": True})
    assert [k for k, _ in merge] == ["git.push", "merge.bypass_review"]
    assert merge[0][1]["branches"] == ("main",)
    for effects in (deploy, publish, migrate, merge):
        assert {k for k, _ in effects} <= set(EFFECT_KINDS)


@pytest.mark.parametrize(
    "payload",
    [
        {"step": "deploy", "environment": "production"},
        {"step": "deploy", "artifact": "sha256:" + "AB" * 32, "environment": "production"},
        {"step": "deploy", "artifact": "sha256:abc", "environment": "production"},
        {"step": "deploy", "artifact": "md5:" + "a" * 32, "environment": "production"},
        {"step": "deploy", "artifact": ARTIFACT},
        {"step": "deploy", "artifact": ARTIFACT, "environment": "production", "evil": 1},
        {"step": "migrate", "artifact": ARTIFACT, "environment": "production"},
        {"step": "deploy", "artifact": ARTIFACT, "environment": ["production"]},
    ],
)
def test_an_off_contract_step_is_denied(payload: dict[str, Any]) -> None:
    d = Gate().evaluate(Action(ActionKind.DEPLOY, payload, cwd="/tmp"), Principal(PrincipalType.HUMAN, "erin"))
    assert d.outcome.value == "deny" and d.rule_ids == ("core.analysis-error",), d.reason


def test_the_artifact_is_part_of_what_is_approved() -> None:
    p = Principal(PrincipalType.HUMAN, "erin")
    one = Gate().evaluate(Action(ActionKind.DEPLOY, {"artifact": ARTIFACT, "environment": "production"}, "/w"), p)
    two = Gate().evaluate(Action(ActionKind.DEPLOY, {"artifact": OTHER_ARTIFACT, "environment": "production"}, "/w"), p)
    assert one.action_digest != two.action_digest
    assert one.outcome.value == two.outcome.value == "require_approval"


# --- the command --------------------------------------------------------------------------------


class Pipeline:
    """An isolated CI job: its environment, configuration, approver keys and workspace."""

    def __init__(self, root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.root = root
        self.env = isolated_env(root, **GITHUB, GITHUB_STEP_SUMMARY=str(root / "summary.md"))
        for name in list(os.environ):
            if name.startswith(("RINGFENCE_", "GITHUB_", "GITLAB_")) or name == "CI":
                monkeypatch.delenv(name)
        for k, v in self.env.items():
            monkeypatch.setenv(k, v)
        self.ws = make_workspace(root)
        monkeypatch.chdir(self.ws)
        keydir = root / "keys"
        self.keys = {}
        approvers = {}
        for name in ("alice", "bob"):
            _, public = create_key(name, directory=keydir)
            self.keys[name] = load_key(name, directory=keydir)
            approvers[name] = {"groups": ["release-managers"], "key": "ed25519:" + base64.b64encode(public).decode()}
        pack = root / "acme.yaml"
        pack.write_text(BOT_PACK)
        conf = Path(self.env["XDG_CONFIG_HOME"]) / "ringfence" / "config.yaml"
        conf.parent.mkdir(parents=True, exist_ok=True)
        conf.write_text(
            yaml.safe_dump(
                {
                    "policy": [str(EXAMPLE_POLICY), str(pack)],
                    "approvers": approvers,
                    "approvals": {"dashboard_url": "https://rf.example/"},
                }
            )
        )

    def gate(self, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
        code = main(["ci", "gate", *args])
        return code, capsys.readouterr().out

    def answer_when_held(self, *answers: tuple[str, str]) -> threading.Thread:
        """A thread that waits for the pending request and answers it as ``answers``."""

        def run() -> None:
            ctx = open_control(str(self.ws))
            try:
                deadline = time.monotonic() + 30
                while not ctx.store.requests(status="pending"):
                    assert time.monotonic() < deadline
                    time.sleep(0.05)
                rid = ctx.store.requests(status="pending")[0].id
                for who, verdict in answers:
                    answer(ctx.store, ctx.settings.control, rid, verdict, self.keys[who])
            finally:
                ctx.close()

        t = threading.Thread(target=run, daemon=True)
        t.start()
        return t

    def summary(self) -> str:
        return (self.root / "summary.md").read_text()


@pytest.fixture
def pipeline(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Pipeline]:
    yield Pipeline(tmp_path, monkeypatch)


def test_a_staging_deploy_goes_at_once(pipeline: Pipeline, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = pipeline.gate(capsys, "--action", "deploy", "--env", "staging", "--artifact", ARTIFACT, "--app", "web")
    assert code == 0, out
    assert out.startswith("ringfence: ALLOWED") and "deploy web to staging" in out and not ANSI.search(out)
    assert "erin (human, github-actions)" in out
    summary = pipeline.summary()
    assert summary.startswith("### ✅ ringfence: allowed — deploy web to staging") and f"`{ARTIFACT}`" in summary


def test_a_production_deploy_waits_for_two_approvers_then_spends_the_grant(
    pipeline: Pipeline, capsys: pytest.CaptureFixture[str]
) -> None:
    t = pipeline.answer_when_held(("alice", "approve"), ("bob", "approve"))
    code, out = pipeline.gate(
        capsys, "--action", "deploy", "--env", "production", "--artifact", ARTIFACT, "--interval", "0.05s", "--json"
    )
    t.join(10)
    doc = json.loads(out)
    assert code == 0, doc
    assert doc["result"] == "approved" and sorted(doc["approved_by"]) == ["alice", "bob"]
    assert "release.two-approvers-for-production" in doc["rules"]
    assert doc["url"] == f"https://rf.example/requests/{doc['request']}"
    ctx = open_control(str(pipeline.ws))
    try:
        assert ctx.store.get(doc["request"]).effective_status(time.time()) == "used"  # the grant was spent
    finally:
        ctx.close()
    # the same artifact again needs a new approval: grants are single-use
    code, out = pipeline.gate(capsys, "--action", "deploy", "--env", "production", "--artifact", ARTIFACT, "--no-wait")
    assert code == 3 and "PENDING" in out and "re-run this job" in out


def test_a_rejected_deploy_exits_2_and_says_who(pipeline: Pipeline, capsys: pytest.CaptureFixture[str]) -> None:
    t = pipeline.answer_when_held(("alice", "deny"))
    code, out = pipeline.gate(
        capsys, "--action", "deploy", "--env", "production", "--artifact", ARTIFACT, "--interval", "0.05s"
    )
    t.join(10)
    assert code == 2, out
    assert out.startswith("ringfence: REJECTED") and re.search(r"request\s+AR-[0-9A-Z]{8}", out)
    assert "https://rf.example/requests/AR-" in out
    assert "⛔ ringfence: rejected" in pipeline.summary()


def test_no_answer_within_the_timeout_exits_3(pipeline: Pipeline, capsys: pytest.CaptureFixture[str]) -> None:
    started = time.monotonic()
    code, out = pipeline.gate(
        capsys, "--action", "deploy", "--env", "production", "--artifact", ARTIFACT, "--timeout=1s", "--interval=0.1s"
    )
    assert code == 3 and out.startswith("ringfence: TIMED OUT"), out
    assert re.search(r"needs\s+2 more from release-managers", out)
    assert time.monotonic() - started < 10


def test_a_bot_deploying_to_production_is_denied_by_policy(
    pipeline: Pipeline, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_ACTOR", "dependabot[bot]")
    code, out = pipeline.gate(capsys, "--action", "deploy", "--env", "production", "--artifact", ARTIFACT)
    assert code == 2, out
    assert out.startswith("ringfence: DENIED") and "acme.no-bot-production" in out
    assert "dependabot[bot] (agent, bot: dependency, github-actions)" in out
    code, out = pipeline.gate(capsys, "--action", "deploy", "--env", "staging", "--artifact", ARTIFACT)
    assert code == 0, out


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--action", "deploy", "--env", "production", "--artifact", "latest"], "--artifact 'latest' is not a digest"),
        (["--action", "deploy", "--artifact", ARTIFACT], "needs --env"),
        (["--action", "merge", "--artifact", ARTIFACT], "needs --target-branch"),
        (["--action", "deploy", "--env", "production", "--artifact", ARTIFACT, "--sql-file", "x.sql"], "migration"),
        (["--action", "migration", "--env", "production", "--artifact", ARTIFACT, "--sql-file", "nope.sql"], "nope"),
        (["--action", "deploy", "--env", "staging", "--artifact", ARTIFACT, "--timeout", "soon"], "--timeout"),
        (["--action", "deploy", "--env", "bad name!", "--artifact", ARTIFACT], "environment must be a name"),
    ],
)
def test_bad_input_exits_3_with_a_clear_error_and_records_nothing(
    pipeline: Pipeline, capsys: pytest.CaptureFixture[str], args: list[str], needle: str
) -> None:
    code, out = pipeline.gate(capsys, *args)
    assert code == 3 and out.startswith("ringfence: ERROR") and needle in out, out
    ledger = Path(pipeline.env["XDG_STATE_HOME"]) / "ringfence" / "ledger.db"
    assert not ledger.exists() or "ledger entry" not in out


def test_outside_ci_the_gate_refuses(
    pipeline: Pipeline, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GITHUB_ACTIONS")
    monkeypatch.delenv("CI", raising=False)  # set when this suite itself runs in CI
    code, out = pipeline.gate(capsys, "--action", "deploy", "--env", "staging", "--artifact", ARTIFACT)
    assert code == 3 and "no CI system detected" in out


def test_a_migration_with_destructive_sql_names_it(pipeline: Pipeline, capsys: pytest.CaptureFixture[str]) -> None:
    sql = pipeline.root / "0042_drop_legacy.sql"
    sql.write_text("ALTER TABLE orders DROP COLUMN legacy_id;\n")
    code, out = pipeline.gate(
        capsys,
        "--action",
        "migration",
        "--env",
        "staging",
        "--artifact",
        ARTIFACT,
        "--sql-file",
        str(sql),
        "--no-wait",
        "--json",
    )
    doc = json.loads(out)
    assert code == 3 and doc["rules"] == ["db.migration-file-destructive"], doc
