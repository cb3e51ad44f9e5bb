"""Real temporary git repositories for review tests, and real provenance for their commits.

:func:`make_repo` lays down a small service (an API and a web subsystem, tests, a CI
workflow that runs pytest, a first migration, dependencies, CODEOWNERS and a review
configuration) as the base commit on ``main``. :meth:`Repo.attest` gives a commit a real
agent-change attestation: gate decisions appended to a real Merkle ledger, a checkpoint
signed with a ledger key, the statement signed with the agent's Ed25519 key.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

import yaml

from ringfence.control.keys import create_key, public_text
from ringfence.ledger import signer
from ringfence.ledger.checkpoint import SigningKey
from ringfence.ledger.store import MerkleLedger, open_ledger
from ringfence.provenance import attest, dsse, statement, store
from ringfence.provenance.keys import load_signer

IDENTITY = {
    "GIT_AUTHOR_NAME": "Dev Eloper",
    "GIT_AUTHOR_EMAIL": "dev@example.com",
    "GIT_COMMITTER_NAME": "Dev Eloper",
    "GIT_COMMITTER_EMAIL": "dev@example.com",
    "GIT_CONFIG_GLOBAL": "/dev/null",
    "GIT_CONFIG_NOSYSTEM": "1",
}

WORKFLOW = """\
name: ci
on:
  pull_request:
  push:
    branches: [main]
jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - name: install
        run: pip install -r requirements.txt
      - name: pytest
        run: pytest -q
"""

BASE_FILES = {
    "README.md": "# users service\n",
    "src/api/users.py": "def list_users(db):\n    return db.query('SELECT * FROM users')\n",
    "src/web/app.js": "export const app = () => 'users';\n",
    "tests/test_users.py": "def test_list():\n    assert True\n",
    ".github/workflows/ci.yml": WORKFLOW,
    "db/migrate/001_init.sql": "CREATE TABLE users (id integer primary key, email text);\n",
    "requirements.txt": "requests==2.32.3\n",
    ".github/CODEOWNERS": "* @acme/devs\n/db/ @acme/dba\n/.github/ @acme/platform\n/src/api/ @alice\n",
    ".ringfence/review.yaml": yaml.safe_dump(
        {
            "version": 1,
            "subsystems": {"api": ["src/api/**", "tests/**"], "web": ["src/web/**"]},
            "routes": {"senior": {"k": 2, "reviewers": ["@acme/senior"]}},
        }
    ),
}


@dataclass
class Repo:
    root: Path
    path: Path
    ledger_path: Path
    keys: Path

    def git(self, *args: str) -> str:
        env = {**os.environ, **IDENTITY}
        done = subprocess.run(["git", *args], cwd=self.path, env=env, capture_output=True, text=True, check=False)
        assert done.returncode == 0, f"git {' '.join(args)}: {done.stderr}"
        return done.stdout.strip()

    def write(self, files: dict[str, str]) -> None:
        for name, text in files.items():
            target = self.path / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text)

    def commit(self, message: str, files: dict[str, str] | None = None, delete: tuple[str, ...] = ()) -> str:
        if files:
            self.write(files)
        for name in delete:
            self.git("rm", "-q", name)
        self.git("add", "-A")
        self.git("commit", "-q", "--allow-empty", "-m", message)
        return self.git("rev-parse", "HEAD")

    def branch(self, name: str, start: str = "main") -> None:
        self.git("checkout", "-q", "-B", name, start)

    def ledger(self) -> MerkleLedger:
        return open_ledger(self.ledger_path)

    def decisions(self, agent: str, outcomes: list[str], session: str = "s-1") -> None:
        """Gate decisions of ``agent``, as the hook would record them."""
        ledger = self.ledger()
        try:
            for i, outcome in enumerate(outcomes):
                ledger.append(
                    {
                        "ts": "2026-12-01T10:00:00Z",
                        "principal_type": "agent",
                        "principal_id": agent,
                        "principal": {"type": "agent", "id": agent, "runtime": "claude-code", "session": session},
                        "runtime": "claude-code",
                        "session": session,
                        "action_kind": "shell",
                        "action": {"kind": "shell", "payload": {"command": f"pytest -k case{i}"}},
                        "decision": outcome,
                        "rules": [] if outcome == "allow" else ["core.example"],
                    }
                )
        finally:
            ledger.close()

    def signing_key(self, name: str) -> Path:
        path = self.keys / f"{name}.key"
        if not path.exists():
            create_key(name, directory=self.keys)
        return path

    def ledger_key(self) -> SigningKey:
        return signer.load_or_create_key(self.root / "ledger-state", "ringfence.test/review")

    def attest(self, head: str, base: str = "main", agent: str = "deploy-bot") -> None:
        """A real, verifiable agent-change attestation for ``head`` as a git note."""
        self.decisions(agent, ["allow", "allow"])
        ledger = self.ledger()
        try:
            note = signer.checkpoint_now(ledger, self.ledger_key(), "ringfence.test/review")
            doc = attest.agent_change(
                attest.Change.resolve(self.path, base, head),
                agent={"id": agent, "model": "claude-opus-4"},
                task_ref="APP-1",
                spec=None,
                artifacts=[],
                ledger=ledger,
                note=note,
                size=ledger.size(),
                since="2026-01-01T00:00:00Z",
            )
        finally:
            ledger.close()
        key = load_signer(str(self.signing_key(agent)))
        store.attach_to_commit(self.path, head, dsse.sign(dsse.Envelope(statement.encode(doc)), key))

    def verify_policy(self, agent: str = "deploy-bot") -> Path:
        key = load_signer(str(self.signing_key(agent)))
        doc = {
            "version": 1,
            "keys": {agent: public_text(key.public)},
            "ledger": {"keys": [self.ledger_key().to_vkey()]},
            "subjects": [{"match": "*", "signers": [agent]}],
            "decisions": {"min": 1},
        }
        path = self.root / "verify.yaml"
        path.write_text(yaml.safe_dump(doc))
        return path


def make_repo(tmp_path: Path) -> Repo:
    path = tmp_path / "repo"
    path.mkdir(parents=True)
    repo = Repo(tmp_path, path, tmp_path / "ledger.db", tmp_path / "keys")
    repo.git("init", "-q", "-b", "main")
    repo.commit("base", BASE_FILES)
    return repo


def write_task(tmp_path: Path, **scope: object) -> Path:
    doc: dict[str, object] = {"id": "APP-1", "title": "Paginate GET /users", "scope": scope or {"subsystems": ["api"]}}
    path = tmp_path / "task.yaml"
    path.write_text(yaml.safe_dump(doc))
    return path
