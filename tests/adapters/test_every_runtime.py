"""The same actions through every runtime's adapter must get the same decision.

An evasion subset (every gated command of the corpus in several spellings), a benign
subset, and file, read and MCP actions go through ``ringfence hook <runtime>``'s code
path (:func:`ringfence.daemon.dispatch.answer`) for each runtime, with payloads shaped
as that runtime sends them. Each answer is read as the runtime reads it and normalised
(``ask``, or a deny that says it waits for an approval, is require_approval); it must
equal the gate's own outcome for the action.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from ringfence.daemon.dispatch import answer
from ringfence.model import Action, ActionKind, Principal, PrincipalType
from tests.adapters.runtimes import available, runtime_module
from tests.conftest import Sandbox
from tests.corpus import load
from tests.corpus.spellings import SPELLINGS

RUNTIMES = available()
GATED = load("gated")
BENIGN = load("benign")[::10]
_PICKED = SPELLINGS[:: max(1, len(SPELLINGS) // 6)]
EVASIONS = [s(cmd) for cmd in GATED for s in _PICKED if s.applies(cmd)]
SHELL = list(dict.fromkeys([*GATED, *EVASIONS, *BENIGN]))

FILES = [
    ("write", "src/app.py", "print('hello')\n"),
    ("write", "~/.ssh/authorized_keys", "ssh-ed25519 AAAA attacker\n"),
    ("write", ".github/workflows/ci.yml", "on: push\n"),
    ("write", "db/migrations/0002_drop.sql", "DROP TABLE users;\n"),
    ("write", ".env", "API_KEY=x\n"),
    ("read", "src/app.py", ""),
    ("read", "~/.ssh/id_ed25519", ""),
    ("read", ".env", ""),
    ("read", "/etc/shadow", ""),
]
MCP = [
    ("postgres", "query", {"sql": "SELECT id FROM users LIMIT 5"}),
    ("postgres", "query", {"sql": "DROP TABLE users"}),
    ("github", "merge_pull_request", {"owner": "o", "repo": "r", "pull_number": 7}),
    ("github", "get_issue", {"owner": "o", "repo": "r", "issue_number": 1}),
    ("deployer", "deploy_service", {"service": "api", "environment": "production"}),
]


def normalise(decision: str, reason: str) -> str:
    if decision == "ask" or (decision == "deny" and "blocked until approved" in reason):
        return "require_approval"
    return decision


def _claude_outcome(sandbox: Sandbox, action: Action) -> str:
    return sandbox.gate.decide(action, Principal(PrincipalType.AGENT, "test")).outcome.value


def _through(sandbox: Sandbox, runtime: str, payload: dict[str, Any]) -> str:
    out = answer(runtime, json.dumps(payload).encode(), {}, lambda cwd: sandbox.gate)
    decision, reason = runtime_module(runtime).answer(out)
    return normalise(decision, reason)


def test_every_adapter_is_under_test() -> None:
    assert RUNTIMES == ["claude-code", "codex", "gemini", "cursor", "copilot", "opencode"]


def test_the_corpus_subset_is_large_enough() -> None:
    assert len(EVASIONS) >= 400
    assert len(BENIGN) >= 60


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_shell_commands_decide_alike(sandbox: Sandbox, runtime: str) -> None:
    module = runtime_module(runtime)
    cwd = str(sandbox.workspace)
    differ = []
    for command in SHELL:
        expected = _claude_outcome(sandbox, Action(ActionKind.SHELL, {"command": command}, cwd=cwd))
        got = _through(sandbox, runtime, module.shell(command, cwd))
        if got != expected:
            differ.append((command, expected, got))
    assert differ == []


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_evasions_are_never_allowed(sandbox: Sandbox, runtime: str) -> None:
    module = runtime_module(runtime)
    cwd = str(sandbox.workspace)
    allowed = [c for c in EVASIONS if _through(sandbox, runtime, module.shell(c, cwd)) == "allow"]
    assert allowed == []


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_file_actions_decide_alike(sandbox: Sandbox, runtime: str) -> None:
    module = runtime_module(runtime)
    claude = runtime_module("claude-code")
    cwd = str(sandbox.workspace)
    seen = 0
    for kind, path, content in FILES:
        full = path.replace("~", str(sandbox.home), 1) if path.startswith("~") else path
        payload = module.write(full, content, cwd) if kind == "write" else module.read(full, cwd)
        if payload is None:
            continue
        reference = claude.write(full, content, cwd) if kind == "write" else claude.read(full, cwd)
        seen += 1
        assert _through(sandbox, runtime, payload) == _through(sandbox, "claude-code", reference), (kind, path)
    assert seen >= 4


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_mcp_calls_decide_alike(sandbox: Sandbox, runtime: str) -> None:
    module = runtime_module(runtime)
    claude = runtime_module("claude-code")
    cwd = str(sandbox.workspace)
    for server, tool, arguments in MCP:
        payload = module.mcp(server, tool, arguments, cwd)
        if payload is None:
            continue
        expected = _through(sandbox, "claude-code", claude.mcp(server, tool, arguments, cwd))
        assert _through(sandbox, runtime, payload) == expected, (server, tool, arguments)


def test_the_subset_has_every_outcome(sandbox: Sandbox) -> None:
    cwd = str(sandbox.workspace)
    outcomes = {_claude_outcome(sandbox, Action(ActionKind.SHELL, {"command": c}, cwd=cwd)) for c in SHELL}
    assert outcomes == {"allow", "deny", "require_approval"}


def test_the_hook_fast_path_knows_every_runtime() -> None:
    from ringfence.adapters.contracts import RUNTIMES as CONTRACTS
    from ringfence.cli import HOOK_RUNTIMES

    assert HOOK_RUNTIMES == CONTRACTS
