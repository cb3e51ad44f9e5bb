"""A real repository in which an agent worked through the real hook, and what verifies it.

The agent ``deploy-bot`` (owned by carol) runs a command, writes a file and ships a
production deploy that alice and bob approve, all through ``ringfence hook claude-code``
with a real ledger and control state; then the change is committed. Approver and agent
keys are real ``ringfence keys``; the verify policy trusts them and the ledger's key.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from tests.control.flow import cli, create_keys, deploy, release_config, request_id, write_config
from tests.git.gitrepo import git, git_env
from tests.helpers import hook_answer, payload, run_hook

SESSION = "sess-1"  # tests.helpers.payload's session


@dataclass
class World:
    root: Path
    env: dict[str, str]
    repo: Path
    base: str
    head: str
    keys: dict[str, str]  # name -> ed25519:<base64>
    ledger_vkey: str
    request: str

    @property
    def state(self) -> Path:
        return Path(self.env["XDG_STATE_HOME"]) / "ringfence"

    @property
    def ledger_path(self) -> Path:
        return self.state / "ledger.db"

    def ringfence(self, *args: str, cwd: Path | None = None, **extra: str) -> Any:
        return cli(self.env, cwd or self.repo, *args, extra_env=extra)

    def policy(self, path: Path | None = None, **changes: Any) -> Path:
        """A verify policy trusting the agent and two approvers; ``changes`` replace top-level keys."""
        doc: dict[str, Any] = {
            "version": 1,
            "keys": {n: self.keys[n] for n in ("deploy-bot", "alice", "bob")},
            "ledger": {"keys": [self.ledger_vkey]},
            "subjects": [{"match": "*", "signers": ["deploy-bot", "alice", "bob"], "require": ["deploy-bot"]}],
            "predicate": {"required": ["agent.runtime", "task.ref"]},
        }
        doc.update(changes)
        target = path or self.root / "verify.yaml"
        target.write_text(yaml.safe_dump(doc, sort_keys=False))
        return target

    def copy(self, dest: Path) -> World:
        """An independent copy (repository, keys, state) to change without touching this one."""
        shutil.copytree(self.root, dest, symlinks=True)
        env = {k: v.replace(str(self.root), str(dest)) if isinstance(v, str) else v for k, v in self.env.items()}
        return World(dest, env, dest / "repo", self.base, self.head, self.keys, self.ledger_vkey, self.request)


def hook(env: dict[str, str], repo: Path, tool: str, tool_input: dict[str, Any]) -> dict[str, Any]:
    data = json.dumps(payload(tool, tool_input, repo, "bypassPermissions")).encode()
    return hook_answer(run_hook(data, env, repo))


def build(root: Path) -> World:
    env = git_env(root)
    repo = root / "repo"
    repo.mkdir()
    git(env, repo, "init", "-q", "-b", "main")
    (repo / "README.md").write_text("# app\n")
    git(env, repo, "add", ".")
    git(env, repo, "commit", "-q", "-m", "base", "--date", "2026-01-01T00:00:00Z")
    base = git(env, repo, "rev-parse", "HEAD").stdout.strip()
    approvers = create_keys(env, repo, "alice", "bob", "carol")
    agent_key = create_keys(env, repo, "deploy-bot")
    write_config(env, release_config(approvers))

    assert hook(env, repo, "Bash", {"command": "git status"})["permissionDecision"] == "allow"
    (repo / "src").mkdir()
    written = hook(env, repo, "Write", {"file_path": str(repo / "src" / "app.py"), "content": "print('hi')\n"})
    assert written["permissionDecision"] == "allow", written
    (repo / "src" / "app.py").write_text("print('hi')\n")
    held = deploy(env, repo)
    rid = request_id(held)
    for who in ("alice", "bob"):
        done = cli(env, repo, "approvals", "approve", rid, "--as", who)
        assert done.returncode == 0, done.stderr
    assert deploy(env, repo)["permissionDecision"] == "allow"
    git(env, repo, "add", ".")
    git(env, repo, "commit", "-q", "-m", "agent: add app")
    head = git(env, repo, "rev-parse", "HEAD").stdout.strip()
    spec = root / "task.md"
    spec.write_text("Add a hello-world app and ship it.\n")
    attested = cli(env, repo, "attest", "--base", base, "--head", head, "--task", "APP-1", "--spec", str(spec))
    assert attested.returncode == 0, attested.stderr
    vkey = (Path(env["XDG_STATE_HOME"]) / "ringfence" / "ledger.vkey").read_text().strip()
    return World(root, env, repo, base, head, {**approvers, **agent_key}, vkey, rid)
