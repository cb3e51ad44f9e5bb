"""Shared helpers of the infrastructure classifier tests (cloud, k8s, deploy, credentials).

``run`` routes a command to every one of those classifiers that claims its name, as the
registry does; ``decide`` evaluates their packs on the result.
"""

from __future__ import annotations

import shlex
from typing import Any

from ringfence.analyze import cloud, credentials, deploy, k8s
from ringfence.analyze.command import Command
from ringfence.analyze.context import Context
from ringfence.analyze.kinds import EFFECT_KINDS
from ringfence.model import Effect, Outcome, RiskTier
from ringfence.policy.evaluate import evaluate
from tests.helpers import pack_policy

WS = "/work/repo"
CTX = Context(cwd=WS, home="/home/dev", workspace=WS)
MODULES = (cloud, k8s, deploy, credentials)
GATED = frozenset(
    {
        "infra.apply",
        "infra.destroy",
        "infra.state",
        "deploy",
        "publish",
        "credential.change",
        "merge.bypass_review",
        "fs.delete",
        "db.destructive",
    }
)


def run(line: str, ctx: Context = CTX, **kw: Any) -> list[Effect]:
    kw.setdefault("cwd", WS)
    cmd = Command(argv=tuple(shlex.split(line)), **kw)
    out: list[Effect] = []
    for module in MODULES:
        if module.COMMANDS is None or cmd.name in module.COMMANDS:
            out.extend(module.classify(cmd, ctx))
    for eff in out:
        assert eff.kind in EFFECT_KINDS, eff
    return out


def one(line: str, kind: str, ctx: Context = CTX, **kw: Any) -> Effect:
    found = [e for e in run(line, ctx, **kw) if e.kind == kind]
    assert len(found) == 1, (line, kind, run(line, ctx, **kw))
    return found[0]


def check(eff: Effect, **attrs: Any) -> None:
    for key, value in attrs.items():
        assert eff.attrs.get(key) == value, (key, eff.attrs.get(key), value, eff)


POLICY = pack_policy("cloud", "k8s", "deploy", "credentials")


def decide(line: str, ctx: Context = CTX, **kw: Any) -> tuple[Outcome, RiskTier, tuple[str, ...]]:
    verdict = evaluate(POLICY, run(line, ctx, **kw))
    return verdict.outcome, verdict.tier, verdict.rule_ids
