"""The gate classifier: tampering with ringfence or agent hook configuration, and the gate pack."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

import pytest

from ringfence.analyze import gate
from ringfence.analyze.command import Command
from ringfence.analyze.context import AnalysisConfig, Context
from ringfence.model import Effect, Outcome, RiskTier
from ringfence.policy.evaluate import evaluate
from ringfence.policy.load import Policy
from tests.helpers import pack_policy

HOME = "/home/u"


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    return repo


@pytest.fixture
def ctx(ws: Path) -> Context:
    return Context.for_cwd(str(ws), home=HOME)


def policy() -> Policy:
    return pack_policy("fs", "secrets", "gate")


def run(line: str, ctx: Context, **kw: Any) -> list[Effect]:
    kw.setdefault("cwd", ctx.cwd)
    return list(gate.classify(Command(argv=tuple(shlex.split(line)), **kw), ctx))


def one(line: str, ctx: Context, **kw: Any) -> Effect:
    found = run(line, ctx, **kw)
    assert len(found) == 1 and found[0].kind == "gate.tamper", (line, found)
    return found[0]


def test_sees_every_command() -> None:
    assert gate.COMMANDS is None


@pytest.mark.parametrize(
    ("line", "operation"),
    [
        ("rm -rf .ringfence", "delete"),
        ("rm ringfence.yaml", "delete"),
        ("rm -rf ~/.config/ringfence", "delete"),
        ("truncate -s 0 ~/.local/state/ringfence/ledger.db", "destroy"),
        ("shred ~/.local/state/ringfence/ledger.db", "destroy"),
        ("tee .claude/settings.json", "write"),
        ("tee -a .claude/settings.local.json", "write"),
        ("sed -i 's/ringfence/true/' .claude/settings.json", "write"),
        ("cp /tmp/empty.json ~/.claude/settings.json", "write"),
        ("cp settings.json .claude/", "write"),
        ("mv .claude/settings.json /tmp/", "move"),
        ("mv /tmp/settings.json .claude/settings.json", "write"),
        ("rm .codex/config.toml", "delete"),
        ("rm -rf ~/.codex", "delete"),
        ("rm .gemini/settings.json", "delete"),
        ("rm .cursor/hooks.json", "delete"),
        ("rm -rf .github/hooks", "delete"),
        ("ln -sf /dev/null .git/hooks/pre-commit", "write"),
        ("chmod -x .git/hooks/pre-commit", "permission"),
        ("chmod 000 .ringfence", "permission"),
        ("rm .git/hooks/pre-push", "delete"),
        ("rm -rf .claude", "delete"),
        ("rm -rf .claude/*", "delete"),
        ("rm -rf ~/.config", "delete"),
        ("rm -rf .git", "delete"),
        ("mv .claude .claude.off", "move"),
        ("chmod -R 000 .codex", "permission"),
        ("git rm .github/hooks/ringfence.json", "delete"),
        ("install -m 644 x.js .opencode/plugin/ringfence.js", "write"),
        ("find .ringfence -delete", "delete"),
        ("dd if=/dev/zero of=.ringfence/config.yaml", "write"),
    ],
)
def test_gate_paths(line: str, operation: str, ctx: Context) -> None:
    e = one(line, ctx)
    assert e.attrs["operation"] == operation, e.attrs
    assert e.attrs["targets"]
    v = evaluate(policy(), [e])
    assert v.outcome is Outcome.DENY and v.tier is RiskTier.CRITICAL and v.rule_ids == ("gate.tamper",)


def test_targets_are_resolved(ctx: Context, ws: Path) -> None:
    e = one("rm .claude/settings.json", ctx)
    assert e.attrs["targets"] == (str(ws / ".claude/settings.json"),)
    assert e.attrs["tool"] == "rm"


@pytest.mark.parametrize(
    "line",
    [
        "cat .claude/settings.json",
        "jq . .claude/settings.json",
        "ls -la .ringfence",
        "mkdir -p .ringfence",
        "rm .claude/commands/old.md",
        "tee .claude/commands/review.md",
        "rm -rf node_modules",
        "cp a.txt b.txt",
        "chmod +x scripts/hook.sh",
        "chmod 644 .claude/agents/x.md",
        "rm -rf .github/workflows/old.yml",
        "cat ringfence.yaml",
        "git diff .claude/settings.json",
        "touch .claude/settings.json",
        "rm -rf src/.cache",
        "cp .git/hooks/pre-commit.sample /tmp/",
        "ls ~/.config",
        # the repository's git configuration needs approval (fs pack), it is not the gate
        "sed -i 's/a/b/' .git/config",
        "tee -a .git/config",
    ],
)
def test_not_gate_paths(line: str, ctx: Context) -> None:
    assert run(line, ctx) == []


def test_configured_gate_path(ws: Path) -> None:
    ctx = Context.for_cwd(str(ws), AnalysisConfig(gate_paths=("policy/",)), home=HOME)
    assert one("rm -rf policy", ctx).attrs["operation"] == "delete"
    assert one("tee policy/org.yaml", ctx).attrs["operation"] == "write"
    assert run("tee policies.md", ctx) == []


# -- processes ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "line",
    [
        "pkill -f ringfence",
        "pkill -9 -f 'ringfence daemon'",
        "killall ringfence",
        "killall -9 ringfence-daemon",
        "systemctl stop ringfence",
        "systemctl --user disable ringfence.service",
        "systemctl mask ringfence",
        "launchctl bootout gui/501/dev.ringfence.daemon",
        "launchctl unload ~/Library/LaunchAgents/dev.ringfence.plist",
        "service ringfence stop",
        "docker stop ringfence",
        "docker rm -f ringfence-server",
        "brew services stop ringfence",
    ],
)
def test_killing_the_gate(line: str, ctx: Context) -> None:
    e = one(line, ctx)
    assert e.attrs["operation"] in ("kill", "stop")
    assert evaluate(policy(), [e]).outcome is Outcome.DENY


@pytest.mark.parametrize(
    "line",
    [
        "kill 1234",
        "pkill -f node",
        "killall python",
        "systemctl status ringfence",
        "systemctl restart nginx",
        "docker stop web",
        "launchctl list",
        "pgrep -f ringfence",
        "docker logs ringfence",
    ],
)
def test_not_killing_the_gate(line: str, ctx: Context) -> None:
    assert run(line, ctx) == []


# -- variables ------------------------------------------------------------------------------


def test_assignment_in_env(ctx: Context) -> None:
    e = one("git commit -m x", ctx, env={"RINGFENCE_DISABLE": "1"})
    assert e.attrs["variable"] == "RINGFENCE_DISABLE" and e.attrs["operation"] == "set_variable"
    assert run("npm test", ctx, env={"NODE_ENV": "test"}) == []


@pytest.mark.parametrize(
    ("line", "operation"),
    [
        ("export RINGFENCE_ENV=development", "set_variable"),
        ("unset RINGFENCE_POLICY", "unset_variable"),
        ("export -n RINGFENCE_SERVER", "unset_variable"),
        ("declare -x RINGFENCE_MODE=off", "set_variable"),
        ("readonly RINGFENCE_X=1", "set_variable"),
    ],
)
def test_variable_commands(line: str, operation: str, ctx: Context) -> None:
    e = one(line, ctx)
    assert e.attrs["operation"] == operation and str(e.attrs["variable"]).startswith("RINGFENCE_")


def test_one_effect_per_variable(ctx: Context) -> None:
    assert len(run("export RINGFENCE_ENV=dev", ctx, env={"RINGFENCE_ENV": "dev"})) == 1


@pytest.mark.parametrize("line", ["export PATH=/usr/bin", "unset FOO", "export NODE_ENV=production", "declare -x X=1"])
def test_other_variables(line: str, ctx: Context) -> None:
    assert run(line, ctx) == []


# -- uninstalling and human-only controls ---------------------------------------------------------


@pytest.mark.parametrize(
    "line",
    [
        "pip uninstall -y ringfence",
        "pip3 uninstall ringfence",
        "pipx uninstall ringfence",
        "uv tool uninstall ringfence",
        "uv pip uninstall ringfence",
        "python -m pip uninstall -y ringfence",
        "python3 -m pip uninstall ringfence",
        "brew uninstall ringfence",
        "npm uninstall -g opencode-ringfence",
        "apt-get remove ringfence",
    ],
)
def test_uninstall(line: str, ctx: Context) -> None:
    assert one(line, ctx).attrs["operation"] == "uninstall"


@pytest.mark.parametrize(
    "line", ["pip install ringfence", "pip uninstall requests", "npm uninstall lodash", "uv remove httpx"]
)
def test_not_uninstall(line: str, ctx: Context) -> None:
    assert run(line, ctx) == []


@pytest.mark.parametrize(
    ("line", "operation"),
    [
        ("ringfence uninstall", "uninstall"),
        ("ringfence resume", "resume"),
        ("ringfence resume --all", "resume"),
        ("ringfence approvals approve AR-12", "approvals approve"),
        ("ringfence approve AR-12", "approve"),
        ("ringfence keys create", "keys create"),
        ("python -m ringfence approvals approve AR-1", "approvals approve"),
        ("/usr/local/bin/ringfence resume", "resume"),
        ("ringfence countersign --commit HEAD --key alice", "countersign"),
        ("ringfence runbook sign runbooks/rollback.yaml --as alice", "runbook sign"),
    ],
)
def test_human_only_controls(line: str, operation: str, ctx: Context) -> None:
    e = one(line, ctx)
    assert e.attrs["operation"] == operation
    assert evaluate(policy(), [e]).outcome is Outcome.DENY


@pytest.mark.parametrize(
    "line",
    [
        "ringfence check -- ls",
        "ringfence explain -- rm -rf /",
        "ringfence halt --reason runaway",
        "ringfence status",
        "ringfence approvals list",
        "ringfence wait AR-1 --timeout 30m",
        "ringfence attest --base HEAD~1 --push",
        "ringfence verify --commit HEAD --policy verify.yaml",
        "ringfence runbook run runbooks/rollback.yaml",
        "ringfence guard run guard.yaml",
        "ringfence doctor",
        "ringfence init --agent claude-code",
        "ringfence approvals show AR-1",
        "ringfence keys list",
    ],
)
def test_ordinary_ringfence_use(line: str, ctx: Context) -> None:
    assert run(line, ctx) == []


def test_empty_argv_with_assignment(ctx: Context) -> None:
    e = one("", ctx, env={"RINGFENCE_OFF": "1"})
    assert e.attrs["variable"] == "RINGFENCE_OFF"


# -- end to end through the shell layer (runs once every domain module exists) ---------------------


def shell(line: str, ctx: Context) -> list[Effect]:
    try:
        from ringfence.analyze import analyze_shell

        return analyze_shell(line, ctx)
    except ModuleNotFoundError as exc:  # a sibling domain not written yet
        pytest.skip(f"shell layer incomplete: {exc}")


@pytest.mark.parametrize(
    "line",
    [
        "echo '{}' > .claude/settings.json",
        "jq 'del(.hooks)' .claude/settings.json > /tmp/s && mv /tmp/s .claude/settings.json",
        "sudo pkill -f ringfence",
        "bash -c 'rm -rf .ringfence'",
        "RINGFENCE_DISABLE=1 git commit -m x",
        "cat /dev/null > ~/.local/state/ringfence/ledger.db",
        "printf '#!/bin/sh\\nexit 0\\n' > .git/hooks/pre-commit",
    ],
)
def test_end_to_end(line: str, ctx: Context) -> None:
    effects = shell(line, ctx)
    assert "gate.tamper" in {e.kind for e in effects}, effects
    assert evaluate(policy(), effects).outcome is Outcome.DENY


@pytest.mark.parametrize("line", ["cat .claude/settings.json", "echo 'pkill -f ringfence'", "ringfence check -- ls"])
def test_end_to_end_ordinary(line: str, ctx: Context) -> None:
    assert evaluate(policy(), shell(line, ctx)).outcome is Outcome.ALLOW
