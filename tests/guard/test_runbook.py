"""Signed runbooks and their executor, in process: the signatures (k of n, bound to the
digest and version), and every step through the gate with the runbook's grant."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from ringfence.config import Settings
from ringfence.control.engine import Controller
from ringfence.control.keys import SigningKey, create_key, load_key
from ringfence.control.settings import Approver, ControlSettings
from ringfence.control.store import open_store
from ringfence.errors import GuardError
from ringfence.gate import Gate, builtin_policy
from ringfence.guard import execute, runbook
from ringfence.ledger.store import open_ledger
from ringfence.model import Principal, PrincipalType

WHO = Principal(PrincipalType.SERVICE, "ringfence-guard", runtime="guard")


class World:
    def __init__(self, tmp_path: Path) -> None:
        self.tmp = tmp_path
        self.keys: dict[str, SigningKey] = {}
        approvers = {}
        for name, groups in (("alice", ["sre"]), ("bob", ["sre"]), ("carol", ["finance"])):
            _, public = create_key(name, directory=tmp_path / "keys")
            self.keys[name] = load_key(name, directory=tmp_path / "keys")
            approvers[name] = Approver(name, frozenset(groups), public)
        self.approvers = approvers
        self.control = ControlSettings(approvers=approvers, runbook_k=2, runbook_groups=("sre",))
        self.store = open_store(str(tmp_path / "control.db"))
        self.ledger = open_ledger(tmp_path / "ledger.db")
        policy = builtin_policy()
        self.gate = Gate(
            Settings(control=self.control, ledger_path=None),
            policy,
            self.ledger,
            control=Controller(self.control, self.store, policy.gate_type),
        )
        self.path = tmp_path / "rollback.yaml"
        self.ran: list[tuple[str, ...]] = []

    def write(self, steps: list[dict[str, Any]], version: int = 1) -> runbook.Runbook:
        self.path.write_text(yaml.safe_dump({"version": version, "name": "rollback-web", "environment": "production",
                                             "steps": steps}))  # fmt: skip
        return runbook.load(self.path)

    def verify(self) -> runbook.Verified:
        return runbook.verify(runbook.load(self.path), self.approvers, k=2, groups=("sre",))

    def run(self, *, dry_run: bool = False) -> execute.RunbookRun:
        def fake_run(argv: tuple[str, ...], cwd: Path, timeout: float) -> tuple[bool, str]:
            self.ran.append(argv)
            return True, "exit 0"

        v = self.verify()
        return execute.execute(v.runbook, v, self.gate, WHO, dry_run=dry_run, run=fake_run)

    def close(self) -> None:
        self.store.close()
        self.ledger.close()


@pytest.fixture
def w(tmp_path: Path) -> Any:
    world = World(tmp_path)
    yield world
    world.close()


UNDO = {"name": "undo", "run": ["kubectl", "rollout", "undo", "deployment/web", "--context", "prod-eu"]}


def test_k_distinct_approvers_from_the_group_sign_it(w: World) -> None:
    rb = w.write([UNDO])
    runbook.sign(rb, w.keys["alice"], "alice")
    assert (
        not w.verify().ok and "needs 2 signature(s) from distinct approvers in sre; it has 1" in w.verify().problems[-1]
    )
    runbook.sign(rb, w.keys["alice"], "alice")  # signing twice replaces, does not count twice
    assert w.verify().signers == ["alice"]
    runbook.sign(rb, w.keys["carol"], "carol")  # not in sre
    assert "carol is not in sre" in " ".join(w.verify().problems)
    runbook.sign(rb, w.keys["bob"], "bob")
    assert w.verify().ok and w.verify().signers == ["alice", "bob"]


def test_any_edit_unsigns_it(w: World) -> None:
    rb = w.write([UNDO])
    for who in ("alice", "bob"):
        runbook.sign(rb, w.keys[who], who)
    assert w.verify().ok
    w.path.write_text(w.path.read_text() + "# a comment changes nothing\n")
    assert w.verify().ok  # the digest is of the parsed document
    w.write([{**UNDO, "run": ["kubectl", "delete", "namespace", "web"]}])  # same version, other steps
    v = w.verify()
    assert not v.ok and "the runbook changed after it was signed" in v.problems[0]
    w.write([UNDO], version=2)  # a new version of the same steps needs new signatures
    assert not w.verify().ok


def test_a_tampered_or_forged_signature_does_not_count(w: World) -> None:
    rb = w.write([UNDO])
    runbook.sign(rb, w.keys["alice"], "alice")
    forged = runbook.sign(rb, w.keys["alice"], "bob")  # alice's key, claiming to be bob
    assert forged["approver"] == "bob"
    problems = " ".join(w.verify().problems)
    assert "bob's signature is by key" in problems and not w.verify().ok
    lines = rb.signatures_path.read_text().splitlines()
    first = json.loads(lines[0])
    first["signature"] = first["signature"][:-4] + "AAA="
    rb.signatures_path.write_text(json.dumps(first) + "\n" + "not json\n")
    problems = " ".join(w.verify().problems)
    assert "alice's signature does not verify" in problems and "line 2 is not a signature" in problems


def test_a_gated_step_runs_on_the_runbooks_grant_and_is_recorded(w: World) -> None:
    assert w.gate.evaluate(execute.Action(execute.ActionKind.SHELL, {"command": " ".join(UNDO["run"])}, cwd=str(w.tmp)),
                           WHO).outcome.value == "require_approval"  # fmt: skip
    rb = w.write([UNDO, {"name": "announce", "run": ["echo", "done"]}])
    for who in ("alice", "bob"):
        runbook.sign(rb, w.keys[who], who)
    result = w.run()
    assert result.ok, result.message
    assert w.ran == [tuple(UNDO["run"]), ("echo", "done")]
    assert [s.decision for s in result.steps] == ["allow", "allow"]
    assert "approved in advance by signed runbook rollback-web v1 signed by alice, bob" in result.steps[0].reason
    entries = list(w.ledger.entries())
    assert [(e.get("control"), e["runbook"]["step"]) for e in entries] == [
        ("runbook", "undo"),
        (None, "announce"),
    ]
    assert entries[0]["runbook"]["digest"] == rb.digest and entries[0]["runbook"]["signers"] == ["alice", "bob"]


def test_a_denied_step_stops_the_runbook(w: World) -> None:
    rb = w.write([{"name": "wipe", "run": ["rm", "-rf", "/"]}, {"name": "announce", "run": ["echo", "done"]}])
    for who in ("alice", "bob"):
        runbook.sign(rb, w.keys[who], who)
    result = w.run()
    assert not result.ok and w.ran == []
    assert "stopped at 'wipe': the gate said deny" in result.message
    (entry,) = w.ledger.entries()  # the refusal is recorded too
    assert entry["decision"] == "deny"


def test_the_kill_switch_beats_a_signed_runbook(w: World) -> None:
    rb = w.write([UNDO])
    for who in ("alice", "bob"):
        runbook.sign(rb, w.keys[who], who)
    w.store.halt(agent=None, environment=None, everyone=True, reason="incident 4711", by="alice")
    result = w.run()
    assert not result.ok and w.ran == [] and "incident 4711" in result.message


def test_unsigned_runs_nothing_and_dry_run_runs_nothing(w: World) -> None:
    rb = w.write([UNDO])
    result = w.run()
    assert not result.ok and result.message.startswith("refused: ") and w.ran == []
    for who in ("alice", "bob"):
        runbook.sign(rb, w.keys[who], who)
    dry = w.run(dry_run=True)
    assert dry.ok and w.ran == [] and list(w.ledger.entries()) == []


def test_no_ledger_no_run(w: World) -> None:
    rb = w.write([UNDO])
    for who in ("alice", "bob"):
        runbook.sign(rb, w.keys[who], who)
    w.gate.ledger = None
    with pytest.raises(GuardError, match="configure the ledger"):
        w.run()
    assert w.ran == []


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ({"version": 1, "name": "x", "steps": [{"name": "s", "run": "kubectl rollout undo"}]}, "argv list"),
        ({"version": 0, "name": "x", "steps": []}, "version must be a whole number"),
        ({"version": 1, "name": "x", "steps": [{"name": "s", "http": {"url": "ftp://x"}}]}, "http:// or https://"),
        ({"version": 1, "name": "x", "steps": [{"name": "s", "run": ["a"], "http": {}}]}, "exactly one of run"),
        ({"version": 1, "name": "x", "steps": [{"run": ["a"]}]}, "name must say what the step does"),
    ],
)
def test_a_bad_runbook_names_the_problem(tmp_path: Path, doc: dict[str, Any], message: str) -> None:
    path = tmp_path / "rb.yaml"
    path.write_text(yaml.safe_dump(doc))
    with pytest.raises(GuardError, match=message):
        runbook.load(path)
