"""``ringfence export codex-rules``: Codex execpolicy rules derived from the real gate."""

from __future__ import annotations

import ast
import os
import re
import shlex
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ringfence.commands.export import CATALOGUE, MARKER, quote
from ringfence.gate import Gate
from ringfence.model import Action, ActionKind, Outcome, Principal, PrincipalType
from tests.helpers import RINGFENCE, isolated_env

KEYWORDS = {"pattern", "decision", "justification", "match"}


def parse_rules(text: str) -> list[dict[str, Any]]:
    """The prefix_rule calls of a .rules file, checked strictly: the Starlark subset the
    exporter writes (calls with keyword arguments, lists and double-quoted strings) is also
    Python syntax, so Python's parser reads it; anything else fails the test."""
    assert text.startswith(MARKER + "\n")
    rules = []
    for stmt in ast.parse(text).body:
        assert isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call), ast.dump(stmt)
        call = stmt.value
        assert isinstance(call.func, ast.Name) and call.func.id == "prefix_rule" and not call.args
        kwargs = {k.arg: ast.literal_eval(k.value) for k in call.keywords}
        assert set(kwargs) == KEYWORDS, kwargs
        pattern = kwargs["pattern"]
        assert isinstance(pattern, list) and pattern
        for token in pattern:
            assert isinstance(token, str) or (isinstance(token, list) and all(isinstance(t, str) for t in token))
        assert kwargs["decision"] in ("forbidden", "prompt")
        assert isinstance(kwargs["justification"], str) and kwargs["justification"].startswith("ringfence")
        assert kwargs["match"] and all(isinstance(m, str) for m in kwargs["match"])
        rules.append(kwargs)
    return rules


def prefix_matches(pattern: list[Any], command: str) -> bool:
    """Codex's prefix match: the example, split like a shell would, starts with the
    pattern's tokens (a list token is a set of alternatives)."""
    words = shlex.split(command)
    if len(words) < len(pattern):
        return False
    return all(w in t if isinstance(t, list) else w == t for t, w in zip(pattern, words, strict=False))


@pytest.fixture()
def project(tmp_path: Path) -> Iterator[Path]:
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    yield repo


def export(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = isolated_env(project.parent)
    return subprocess.run(
        [RINGFENCE, "export", "codex-rules", "--cwd", str(project), *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=project,
        timeout=120,
        check=False,
    )


def decide(project: Path, command: str) -> Outcome:
    gate = Gate.for_cwd(str(project), record=False)
    action = Action(ActionKind.SHELL, {"command": command}, cwd=str(project))
    return gate.evaluate(action, Principal(PrincipalType.AGENT, "codex", runtime="codex")).outcome


def test_the_file_parses_and_every_example_is_denied_or_held(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    proc = export(project)
    assert proc.returncode == 0, proc.stderr
    text = proc.stdout
    assert "SECOND line of defence" in text and "hook stays authoritative" in text
    rules = parse_rules(text)
    assert len(rules) >= 12
    patterns = [r["pattern"] for r in rules]
    assert ["git", "reset", "--hard"] in patterns and ["terraform", "destroy"] in patterns
    monkeypatch.setenv("HOME", str(project.parent / "home"))
    for rule in rules:
        want = Outcome.DENY if rule["decision"] == "forbidden" else None
        outcomes = set()
        for example in rule["match"]:
            assert prefix_matches(rule["pattern"], example), (rule["pattern"], example)
            outcome = decide(project, example)
            assert outcome in (Outcome.DENY, Outcome.REQUIRE_APPROVAL), (example, outcome)
            outcomes.add(outcome)
        if want is Outcome.DENY:
            assert outcomes == {Outcome.DENY}, rule
        else:
            assert Outcome.REQUIRE_APPROVAL in outcomes, rule


def test_a_prefix_the_gate_allows_in_any_form_is_not_exported(project: Path) -> None:
    rules = parse_rules(export(project).stdout)
    # `git push --force origin feature/login` is allowed (a feature branch), so a
    # `git push --force` prefix rule would block more than ringfence does.
    assert ["git", "push", ["--force", "-f"]] not in [r["pattern"] for r in rules]
    assert len(rules) < len(CATALOGUE)


def test_a_policy_exception_changes_the_output(project: Path) -> None:
    original = export(project).stdout
    before = parse_rules(original)
    assert ["terraform", "destroy"] in [r["pattern"] for r in before]
    policy = project / ".ringfence" / "policy"
    policy.mkdir(parents=True)
    (policy / "team.yaml").write_text(
        "pack: team\n"
        "description: The sandbox account is torn down freely.\n"
        "rules: []\n"
        "exceptions:\n"
        "  - exception_for: cloud.destroy\n"
        "    when: {tool: {in: [terraform, tofu]}}\n"
        "    reason: Terraform here only manages the throwaway sandbox account.\n"
        "    expires: 2099-12-31\n"
    )
    proc = export(project)
    assert proc.returncode == 0, proc.stderr
    after = parse_rules(proc.stdout)
    patterns = [r["pattern"] for r in after]
    assert ["terraform", "destroy"] not in patterns and ["tofu", "destroy"] not in patterns
    assert ["pulumi", "destroy"] in patterns  # the exception is for terraform and tofu only
    digest = re.compile(r"policy digest (sha256:[0-9a-f]+)")
    first, second = digest.search(original), digest.search(proc.stdout)
    assert first and second and first.group(1) != second.group(1)  # the header names the policy


def test_output_file_is_written_atomically_and_a_foreign_file_is_kept(project: Path) -> None:
    out = project / "rules" / "ringfence.rules"
    proc = export(project, "--output", str(out))
    assert proc.returncode == 0, proc.stderr and "wrote" in proc.stderr
    first = out.read_text()
    assert parse_rules(first) and proc.stdout == ""
    assert export(project, "--output", str(out)).returncode == 0  # ours: replaced without --force
    assert out.read_text() == first
    foreign = project / "rules" / "mine.rules"
    foreign.write_text('prefix_rule(pattern = ["ls"])\n')
    proc = export(project, "--output", str(foreign))
    assert proc.returncode == 2 and "not written by ringfence" in proc.stderr
    assert foreign.read_text() == 'prefix_rule(pattern = ["ls"])\n'
    assert sorted(os.listdir(foreign.parent)) == ["mine.rules", "ringfence.rules"]
    assert export(project, "--output", str(foreign), "--force").returncode == 0
    assert foreign.read_text() == first


def test_a_broken_policy_is_an_error_not_an_empty_file(project: Path) -> None:
    policy = project / ".ringfence" / "policy"
    policy.mkdir(parents=True)
    (policy / "bad.yaml").write_text("pack: [\n")
    out = project / "ringfence.rules"
    proc = export(project, "--output", str(out))
    assert proc.returncode == 1 and "cannot load the policy" in proc.stderr
    assert not out.exists()


def test_quote_escapes_for_starlark() -> None:
    assert quote('a "b" \\ c\nd\te\x01') == '"a \\"b\\" \\\\ c\\nd\\te "'
    assert ast.literal_eval(quote("it's — ok")) == "it's — ok"
