"""``ringfence ci gate`` against a real ``ringfence serve``: decided on the server as the
token's agent, the pipeline waits on the server's long poll while approvers answer, then
asks again to spend the grant."""

from __future__ import annotations

import json
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from ringfence.ledger.store import open_ledger
from tests.control.flow import EXAMPLE_POLICY, cli, create_keys
from tests.daemon.test_remote import Served, local_ledger, serve
from tests.helpers import RINGFENCE, isolated_env

ARTIFACT = "sha256:" + "9e" * 32
GITHUB = {"GITHUB_ACTIONS": "true", "GITHUB_ACTOR": "erin", "GITHUB_RUN_ID": "77", "GITHUB_REPOSITORY": "acme/web"}


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    root = tmp_path_factory.mktemp("ci-served")
    keys = create_keys(isolated_env(root), root, "alice", "bob")
    config = {
        "policy": [str(EXAMPLE_POLICY)],
        "approvers": {name: {"groups": ["release-managers"], "key": key} for name, key in keys.items()},
    }
    s = serve(root, config)
    try:
        yield s
    finally:
        s.stop()


def gate(env: dict[str, str], cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [RINGFENCE, "ci", "gate", "--artifact", ARTIFACT, "--json", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_gate_decides_and_waits_on_the_server(served: Served, tmp_path: Path) -> None:
    token, _ = served.token("ci-web")
    env = isolated_env(tmp_path, RINGFENCE_SERVER=served.base, RINGFENCE_TOKEN=token, **GITHUB)
    staging = gate(env, tmp_path, "--action", "deploy", "--env", "staging")
    assert staging.returncode == 0, staging.stdout + staging.stderr
    assert json.loads(staging.stdout)["result"] == "allowed"

    rid: list[str] = []

    def approve() -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            listed = cli(served.env, served.ws, "approvals", "list", "--json")
            lines = listed.stdout.splitlines() if listed.returncode == 0 else []
            pending = [json.loads(line)["id"] for line in lines if line.strip()]
            if pending:
                rid.append(pending[0])
                for who in ("alice", "bob"):
                    cli(served.env, served.ws, "approvals", "approve", pending[0], "--as", who)
                return
            time.sleep(0.2)

    t = threading.Thread(target=approve, daemon=True)
    t.start()
    held = gate(env, tmp_path, "--action", "deploy", "--env", "production", "--timeout", "90s")
    t.join(30)
    doc = json.loads(held.stdout)
    assert held.returncode == 0, held.stdout + held.stderr
    assert doc["result"] == "approved" and doc["request"] == rid[0]
    assert sorted(doc["approved_by"]) == ["alice", "bob"]
    assert doc["url"] == f"{served.base}/requests/{rid[0]}"
    # recorded on the server as the token's agent, with the pipeline as its session; nothing locally
    assert not local_ledger(env).exists()
    mine = [e for e in open_ledger(local_ledger(served.env)).recent(50) if e.get("principal_id") == "ci-web"]
    assert [e["decision"] for e in mine][-2:] == ["require_approval", "allow"]
    assert mine[-1]["runtime"] == "github-actions" and mine[-1]["session"] == "77"


def test_an_unreachable_server_is_exit_3(tmp_path: Path) -> None:
    env = isolated_env(tmp_path, RINGFENCE_SERVER="http://127.0.0.1:9", RINGFENCE_TOKEN="rf1.x", **GITHUB)
    done = gate(env, tmp_path, "--action", "deploy", "--env", "staging")
    assert done.returncode == 3 and "unreachable" in json.loads(done.stdout)["message"]
