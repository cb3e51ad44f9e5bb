"""An in-process gate with control state, a settable clock and approver keys."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ringfence.config import Settings
from ringfence.control.answers import Answer, answer
from ringfence.control.engine import Controller
from ringfence.control.keys import SigningKey, create_key, load_key
from ringfence.control.settings import Approver, ControlSettings
from ringfence.control.store import ControlStore, open_store
from ringfence.gate import Gate
from ringfence.model import Action, ActionKind, Decision, Principal, PrincipalType
from ringfence.policy.load import Policy, parse_pack

# 2026-11-23 is a Monday; 10:00 UTC is 11:00 in Berlin.
MONDAY_10_UTC = 1795428000.0

PACK = b"""
pack: test
rules:
  - id: release.production
    effect: deploy
    when: {environment: production}
    decision: require_approval
    tier: high
    reason: Production deploys are reviewed by two release managers.
    approval: {approvers: [release-managers], k: 2}
  - id: release.staging-window
    effect: deploy
    when: {environment: staging}
    decision: require_approval
    tier: medium
    reason: Staging deploys happen inside business hours.
    approval: {approvers: [sre], window: business-hours}
  - id: infra.sre
    effect: infra.apply
    decision: require_approval
    tier: medium
    reason: Infrastructure changes need an SRE and a release manager.
    approval: {approvers: [release-managers], k: 1, at_least: {sre: 1}}
"""


@dataclass
class Clock:
    now: float = MONDAY_10_UTC

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class Harness:
    gate: Gate
    store: ControlStore
    clock: Clock
    keys: dict[str, SigningKey]
    settings: ControlSettings
    principal: Principal = field(
        default_factory=lambda: Principal(PrincipalType.AGENT, "deploy-bot", runtime="claude-code", owner="carol")
    )

    def decide(self, command: str, *, principal: Principal | None = None) -> Decision:
        action = Action(ActionKind.SHELL, {"command": command}, cwd="/home/dev/src/app", tool="Bash")
        return self.gate.decide(action, principal or self.principal)

    def answer(self, rid: str, who: str, verdict: str = "approve", **kw: Any) -> Answer:
        return answer(self.store, self.settings, rid, verdict, self.keys[who], **kw)

    def approve_all(self, rid: str, *who: str) -> None:
        for name in who:
            self.answer(rid, name)


GROUPS = {
    "alice": ["release-managers"],
    "bob": ["release-managers", "sre"],
    "carol": ["release-managers"],
    "dave": ["sre"],
}


SLACK_IDS = {"alice": "U0ALICE1", "bob": "U0BOB22"}


def harness(location: str, tmp_path: Path, **control: Any) -> Harness:
    clock = Clock()
    keydir = tmp_path / "keys"
    keys = {}
    approvers = {}
    for name, groups in GROUPS.items():
        _, public = create_key(name, directory=keydir)
        keys[name] = load_key(name, directory=keydir)
        approvers[name] = Approver(name, frozenset(groups), public, slack=SLACK_IDS.get(name))
    from ringfence.control.windows import parse_window

    control.setdefault("windows", {"business-hours": parse_window("Mon-Thu 09:00-16:00 Europe/Berlin")})
    settings = ControlSettings(approvers=approvers, **control)
    store = open_store(location, clock=clock)
    policy = Policy.from_rules(parse_pack(PACK, "test"), [PACK])
    gate = Gate(
        Settings(control=settings, ledger_path=None),
        policy,
        None,
        control=Controller(settings, store, policy.gate_type, clock=clock),
    )
    return Harness(gate, store, clock, keys, settings)
