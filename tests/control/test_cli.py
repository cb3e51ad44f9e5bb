"""Every bad input to the human-facing control CLI is a clear error that changes nothing.

Through the real ``ringfence`` executable in an isolated environment: each refusal exits 3,
says on stderr what is wrong and what to do, and leaves the control state (every table)
and the ledger exactly as they were.
"""

from __future__ import annotations

import json
import re
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from ringfence.control.keys import create_key, public_text
from tests.control.flow import EXAMPLE_POLICY, cli, deploy, release_config, request_id, write_config
from tests.helpers import isolated_env, make_workspace

Snapshot = dict[str, list[tuple[Any, ...]]]

#: Approvers in release-managers who may answer (carol is too, but owns the agent).
MANAGERS = ("alice", "bob", "frank")


@dataclass
class Setup:
    env: dict[str, str]
    ws: Path
    keys_dir: Path

    def run(self, *args: str, **extra_env: str) -> subprocess.CompletedProcess[str]:
        return cli(self.env, self.ws, *args, extra_env=extra_env or None)

    def fail(self, *args: str, **extra_env: str) -> str:
        """Run a command that must be refused; its stderr (one ``error:`` line or argparse usage)."""
        proc = self.run(*args, **extra_env)
        assert proc.returncode == 3, (proc.returncode, proc.stdout, proc.stderr)
        assert "Traceback" not in proc.stderr, proc.stderr
        return " ".join(proc.stderr.split())  # rich may wrap long lines

    def ok(self, *args: str, **extra_env: str) -> str:
        proc = self.run(*args, **extra_env)
        assert proc.returncode == 0, (proc.returncode, proc.stdout, proc.stderr)
        return proc.stdout

    def held(self) -> str:
        """The id of the request the agent's production deploy is held as."""
        answer = deploy(self.env, self.ws)
        assert answer["permissionDecision"] == "deny", answer
        return request_id(answer)

    def show(self, rid: str) -> dict[str, Any]:
        doc: dict[str, Any] = json.loads(self.ok("approvals", "show", rid, "--json"))
        return doc

    def snapshot(self) -> Snapshot:
        """Every row of every table of the control state and the ledger."""
        state = Path(self.env["XDG_STATE_HOME"]) / "ringfence"
        out: Snapshot = {}
        for db in ("control.db", "ledger.db"):
            if not (state / db).exists():
                continue
            conn = sqlite3.connect(f"file:{state / db}?mode=ro", uri=True)
            try:
                tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
                for table in sorted(tables):
                    rows = conn.execute(f'SELECT * FROM "{table}"').fetchall()
                    out[f"{db}:{table}"] = sorted(rows, key=repr)
            finally:
                conn.close()
        return out


def make_setup(root: Path, *, ttl: int = 3600) -> Setup:
    """Keys for alice, bob, carol (the agent's owner), frank (release managers), dave (no
    approver), erin (configured with alice's public key), sam (sre only), nokey
    (configured without a key); a policy holding production deploys for two release managers."""
    env = isolated_env(root)
    ws = make_workspace(root)
    keys_dir = Path(env["XDG_CONFIG_HOME"]) / "ringfence" / "keys"
    public = {name: public_text(create_key(name, directory=keys_dir)[1]) for name in (*MANAGERS, "carol", "dave")}
    for name in ("erin", "sam", "nokey"):
        public[name] = public_text(create_key(name, directory=keys_dir)[1])
    policy = yaml.safe_load(EXAMPLE_POLICY.read_text())
    policy["rules"][0]["approval"]["ttl"] = ttl
    pack = root / "release.yaml"
    pack.write_text(yaml.safe_dump(policy))
    config = release_config({n: public[n] for n in (*MANAGERS, "carol")}, policy=[str(pack)])
    config["approvers"].update(
        {
            "erin": {"groups": ["release-managers"], "key": public["alice"]},
            "sam": {"groups": ["sre"], "key": public["sam"]},
            "nokey": {"groups": ["release-managers"]},
        }
    )
    write_config(env, config)
    return Setup(env, ws, keys_dir)


@pytest.fixture(scope="module")
def pending(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Setup, str]]:
    """One setup with one pending request, shared by tests that must not change it."""
    s = make_setup(tmp_path_factory.mktemp("pending"))
    yield s, s.held()


@pytest.fixture
def fresh(tmp_path: Path) -> Setup:
    return make_setup(tmp_path)


def assert_refused(s: Setup, args: tuple[str, ...], expected: tuple[str, ...], **extra_env: str) -> str:
    before = s.snapshot()
    err = s.fail(*args, **extra_env)
    assert err.startswith(("error: ", "usage: ")), err
    for fragment in expected:
        assert fragment in err, f"{fragment!r} not in {err!r}"
    assert s.snapshot() == before, f"`ringfence {' '.join(args)}` changed the state"
    return err


NO_SUCH = ("no approval request 'AR-00000000'", "`ringfence approvals list` shows the pending ones")
NOT_AN_ID = ("is not an approval request id", "they look like AR-")


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param(("approvals", "approve", "AR-00000000", "--as", "alice"), NO_SUCH, id="approve-unknown"),
        pytest.param(("approvals", "deny", "AR-00000000", "--as", "alice"), NO_SUCH, id="deny-unknown"),
        pytest.param(("approvals", "show", "AR-00000000"), NO_SUCH, id="show-unknown"),
        pytest.param(("wait", "AR-00000000", "--timeout", "5s"), NO_SUCH, id="wait-unknown"),
        pytest.param(("approvals", "approve", "hello", "--as", "alice"), ("'hello'", *NOT_AN_ID), id="approve-hello"),
        pytest.param(("approvals", "approve", "AR-1", "--as", "alice"), ("'AR-1'", *NOT_AN_ID), id="approve-short"),
        pytest.param(("approvals", "show", "AR-1"), ("'AR-1'", *NOT_AN_ID), id="show-short"),
        pytest.param(("wait", "hello"), ("'hello'", *NOT_AN_ID), id="wait-hello"),
    ],
)
def test_unknown_or_malformed_request_id(
    pending: tuple[Setup, str], args: tuple[str, ...], expected: tuple[str, ...]
) -> None:
    s, _rid = pending
    assert_refused(s, args, expected)


# (arguments after `approvals approve <id>`, extra environment, what stderr must say)
REFUSED_ANSWERS = [
    pytest.param(
        ("--as", "nobody"),
        {},
        ("no key 'nobody' in", "create it with `ringfence keys create nobody`"),
        id="no-such-key",
    ),
    pytest.param((), {}, ("several keys in", "alice, bob", "say which with --as NAME"), id="several-keys-no-as"),
    pytest.param(
        ("--as", "dave"),
        {},
        ("dave is not a configured approver (alice, bob, carol, erin, frank, nokey, sam)", "under approvers:"),
        id="not-configured",
    ),
    pytest.param(
        ("--as", "erin"),
        {},
        ("erin.key", "is not the key configured for erin", "approvers.erin.key"),
        id="key-mismatch",
    ),
    pytest.param(
        ("--as", "nokey"),
        {},
        ("approvers.nokey has no key", "`ringfence keys show nokey`"),
        id="approver-without-key",
    ),
    pytest.param(
        ("--as", "carol"),
        {},
        ("carol cannot answer", "carol owns the agent that asked", "owner can never approve"),
        id="agent-owner",
    ),
    pytest.param(
        ("--as", "sam"),
        {},
        ("sam cannot answer", "sam is not in release-managers", "2 approvals from release-managers"),
        id="wrong-group",
    ),
    pytest.param(
        ("--as", "alice"),
        {"CLAUDECODE": "1"},
        ("refusing to approve", "belongs to an agent (CLAUDECODE is set)", "your own terminal"),
        id="claude-code-shell",
    ),
    pytest.param(
        ("--as", "alice"),
        {"RINGFENCE_AGENT_ID": "x"},
        ("refusing to approve", "belongs to an agent (RINGFENCE_AGENT_ID is set)"),
        id="agent-id-shell",
    ),
]


@pytest.mark.parametrize(("extra", "extra_env", "expected"), REFUSED_ANSWERS)
def test_refused_approval(
    pending: tuple[Setup, str], extra: tuple[str, ...], extra_env: dict[str, str], expected: tuple[str, ...]
) -> None:
    s, rid = pending
    assert_refused(s, ("approvals", "approve", rid, *extra), expected, **extra_env)


def test_refused_denial_from_an_agent_shell_or_by_the_owner(pending: tuple[Setup, str]) -> None:
    s, rid = pending
    assert_refused(s, ("approvals", "deny", rid, "--as", "alice"), ("refusing to deny",), CLAUDECODE="1")
    assert_refused(s, ("approvals", "deny", rid, "--as", "carol"), ("owns the agent",))


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param(("--timeout", "soon"), ("--timeout must be a duration", "30s, 15m, 1h", "'soon'"), id="word"),
        pytest.param(("--timeout", "0"), ("--timeout must be longer than zero",), id="zero"),
        pytest.param(("--timeout=-5s",), ("--timeout must be a duration", "'-5s'"), id="negative"),
        pytest.param(("--interval", "often"), ("--interval must be a duration",), id="interval"),
    ],
)
def test_wait_with_a_bad_duration(pending: tuple[Setup, str], args: tuple[str, ...], expected: tuple[str, ...]) -> None:
    s, rid = pending
    started = time.monotonic()
    assert_refused(s, ("wait", rid, *args), expected)
    assert time.monotonic() - started < 10  # refused at once, not after waiting


def test_list_shows_the_pending_request(pending: tuple[Setup, str]) -> None:
    s, rid = pending
    before = s.snapshot()
    text = s.ok("approvals", "list")
    assert "1 pending request(s)" in text
    row = next(line for line in text.splitlines() if rid in line)
    assert "pending" in row and "agent:deploy-bot" in row and "high" in row
    assert "needs 2 more from release-managers" in text
    lines = s.ok("approvals", "list", "--json").splitlines()
    docs = [json.loads(line) for line in lines]
    assert [d["id"] for d in docs] == [rid]
    assert docs[0]["status"] == "pending" and docs[0]["missing"] == "2 more from release-managers"
    assert docs[0]["requester"] == {"type": "agent", "id": "deploy-bot", "owner": "carol"}
    assert [json.loads(line)["id"] for line in s.ok("approvals", "list", "--all", "--json").splitlines()] == [rid]
    assert s.ok("approvals", "list", "--status", "approved", "--json") == ""
    assert_refused(s, ("approvals", "list", "--limit", "0"), ("--limit must be at least 1",))
    assert_refused(s, ("approvals", "list", "--status", "done"), ("invalid choice: 'done'",))
    assert s.snapshot() == before


def test_show_accepts_a_lower_case_id(pending: tuple[Setup, str]) -> None:
    s, rid = pending
    doc = s.show(f"  {rid.lower()} ")
    assert doc["id"] == rid and doc["status"] == "pending" and doc["answers"] == []
    assert rid in s.ok("approvals", "show", rid.lower())


def test_answering_twice_or_after_the_decision_is_refused(fresh: Setup) -> None:
    s = fresh
    rid = s.held()
    before = s.snapshot()
    first = s.ok("approvals", "approve", rid.lower(), "--as", "alice", "-m", "fine")
    assert s.snapshot() != before  # the snapshot sees an answer
    assert f"alice approved {rid}; still pending: needs 1 more from release-managers" in " ".join(first.split())
    assert s.show(rid)["approved_by"] == ["alice"]

    twice = ("alice already answered", rid, "(approve)", "each approver answers a request once")
    assert_refused(s, ("approvals", "approve", rid, "--as", "alice"), twice)
    assert_refused(s, ("approvals", "deny", rid, "--as", "alice"), twice)

    assert "approved" in s.ok("approvals", "approve", rid, "--as", "bob")
    decided = s.show(rid)
    assert decided["status"] == "approved" and sorted(decided["approved_by"]) == ["alice", "bob"]

    already = (f"{rid} is approved, not pending", "already approved", "the agent can retry the action")
    assert_refused(s, ("approvals", "approve", rid, "--as", "frank"), already)
    assert_refused(s, ("approvals", "deny", rid, "--as", "frank"), already)
    assert_refused(s, ("approvals", "approve", rid, "--as", "bob"), already)
    assert s.show(rid)["answers"] == decided["answers"]


def test_answering_a_denied_request_is_refused(fresh: Setup) -> None:
    s = fresh
    rid = s.held()
    assert "the request is denied" in " ".join(s.ok("approvals", "deny", rid, "--as", "alice").split())
    denied = (f"{rid} is denied, not pending", "denied by alice", "stands")
    assert_refused(s, ("approvals", "deny", rid, "--as", "bob"), denied)
    assert_refused(s, ("approvals", "approve", rid, "--as", "bob"), denied)
    assert_refused(s, ("approvals", "deny", rid, "--as", "alice"), denied)
    assert s.run("wait", rid, "--timeout", "5s").returncode == 2


def test_an_expired_request_cannot_be_answered(tmp_path: Path) -> None:
    s = make_setup(tmp_path, ttl=1)
    rid = s.held()
    time.sleep(1.2)
    expired = (f"{rid} is expired, not pending", "a new attempt by the agent creates a new request")
    assert_refused(s, ("approvals", "approve", rid, "--as", "alice"), expired)
    assert_refused(s, ("approvals", "deny", rid, "--as", "bob"), expired)
    assert s.show(rid)["status"] == "expired"
    waited = s.run("wait", rid, "--timeout", "5s")
    assert waited.returncode == 3 and "expired before enough approvers answered" in waited.stderr
    assert s.ok("approvals", "list", "--json") == ""
    assert "AR-" not in s.ok("approvals", "list")
    # the agent's retry opens a new request
    assert s.held() != rid


def test_halt_resume_and_status(fresh: Setup) -> None:
    s = fresh
    assert_refused(s, ("halt",), ("the following arguments are required: --reason",))
    assert_refused(s, ("halt", "--reason", ""), ("--reason must say why",))
    assert_refused(s, ("halt", "--reason", "   "), ("--reason must say why",))
    assert_refused(s, ("halt", "--agent", "", "--reason", "x"), ("--agent needs an agent id",))
    assert_refused(s, ("halt", "--env", "prod", "--reason", "x"), ("invalid choice: 'prod'",))
    assert "running: no halt is in force" in s.ok("status")

    first = s.ok("halt", "--agent", "deploy-bot", "--reason", "incident 42", "--as", "alice")
    second = s.ok("halt", "--env", "production", "--reason", "release freeze", "--as", "bob")
    ids = [line.split("(")[1].split(")")[0] for line in (" ".join(first.split()), " ".join(second.split()))]
    assert all(i.startswith("HALT-") for i in ids)
    assert "HALTED agent deploy-bot" in " ".join(first.split()) and f"ringfence resume {ids[0]}" in first

    status = " ".join(s.ok("status").split())
    assert re.search(rf"HALTED agent deploy-bot — by alice \d+s ago: incident 42 \({ids[0]}\)", status), status
    assert "HALTED every agent in production — by bob" in status and "release freeze" in status
    doc = json.loads(s.ok("status", "--json"))
    halts = {h["id"]: h for h in doc["halts"]}
    assert halts[ids[0]]["by"] == "alice" and halts[ids[0]]["reason"] == "incident 42"
    assert halts[ids[0]]["agent"] == "deploy-bot" and halts[ids[0]]["scope"] == "agent deploy-bot"
    assert halts[ids[1]]["environment"] == "production" and halts[ids[1]]["by"] == "bob"
    assert abs(halts[ids[0]]["at"] - time.time()) < 60
    assert doc["pending_requests"] == []

    # a halted agent is denied, naming the halt
    stopped = deploy(s.env, s.ws)
    assert stopped["permissionDecision"] == "deny" and "incident 42" in stopped["permissionDecisionReason"]

    refused: list[tuple[tuple[str, ...], tuple[str, ...], dict[str, str]]] = [
        (("resume", "--as", "alice"), ("the following arguments are required: --reason",), {}),
        (("resume", ids[0], "--reason", " ", "--as", "alice"), ("--reason must say why it is safe to go on",), {}),
        (
            ("resume", ids[0], "--reason", "ok", "--as", "alice"),
            ("refusing to lift a halt", "CLAUDECODE"),
            {"CLAUDECODE": "1"},
        ),
        (
            ("resume", ids[0], "--reason", "ok", "--as", "dave"),
            ("needs a human listed under approvers:", "dave is not listed"),
            {},
        ),
        (("resume", ids[0], "--reason", "ok", "--as", "erin"), ("erin is listed with a different key",), {}),
        (("resume", ids[0], "--reason", "ok", "--as", "nokey"), ("nokey is listed without a key",), {}),
        (("resume", ids[0], "--reason", "ok", "--as", "nobody"), ("no key 'nobody'",), {}),
        (("resume", ids[0], "--reason", "ok"), ("several keys in", "--as NAME"), {}),
        (
            ("resume", "HALT-000000000000", "--reason", "ok", "--as", "alice"),
            ("no active halt HALT-000000000000", f"active: {ids[0]}, {ids[1]}"),
            {},
        ),
        (
            ("resume", "--reason", "ok", "--as", "alice"),
            ("2 halts are active", ids[0], ids[1], "name the ones to lift, or pass --every-halt"),
            {},
        ),
        (
            ("resume", "--agent", "other-bot", "--reason", "ok", "--as", "alice"),
            ("no active halt has exactly that scope", "`ringfence status` lists them"),
            {},
        ),
    ]
    for args, expected, extra_env in refused:
        assert_refused(s, args, expected, **extra_env)

    lifted = " ".join(s.ok("resume", ids[0].lower(), "--reason", "incident over", "--as", "bob").split())
    assert f"resumed agent deploy-bot ({ids[0]})" in lifted
    assert [h["id"] for h in json.loads(s.ok("status", "--json"))["halts"]] == [ids[1]]
    assert_refused(
        s, ("resume", ids[0], "--reason", "again", "--as", "bob"), (f"no active halt {ids[0]}", f"active: {ids[1]}")
    )


def test_keys_create_refuses_to_overwrite_or_a_bad_name(fresh: Setup) -> None:
    s = fresh
    key = s.keys_dir / "alice.key"
    pem = key.read_bytes()
    shown = s.ok("keys", "show", "alice")
    err = s.fail("keys", "create", "alice")
    assert f"{key} already exists" in err and "--force to replace it" in err
    assert key.read_bytes() == pem and s.ok("keys", "show", "alice") == shown
    for bad in ("bad name", "../alice", ".hidden"):
        err = s.fail("keys", "create", bad)
        assert f"key name {bad!r} must be letters, digits, . _ @ -" in err
    assert sorted(p.name for p in s.keys_dir.iterdir()) == sorted(
        f"{n}.key" for n in (*MANAGERS, "carol", "dave", "erin", "sam", "nokey")
    )
    assert "belongs to an agent" in s.fail("keys", "create", "zoe", CLAUDECODE="1")
    assert not (s.keys_dir / "zoe.key").exists()
    assert "no key 'zoe'" in s.fail("keys", "show", "zoe")
    replaced = s.ok("keys", "create", "alice", "--force")
    assert "created" in replaced and key.read_bytes() != pem


def test_no_key_at_all(tmp_path: Path) -> None:
    env = isolated_env(tmp_path)
    ws = make_workspace(tmp_path)
    proc = cli(env, ws, "approvals", "approve", "AR-00000000")
    assert proc.returncode == 3
    assert "no signing key in" in proc.stderr and "`ringfence keys create <your-id>`" in proc.stderr
    assert not (Path(env["XDG_STATE_HOME"]) / "ringfence" / "control.db").exists()
