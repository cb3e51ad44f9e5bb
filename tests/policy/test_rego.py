"""Rego policies in-process: the seed rule, the output contract, errors, input shape, cost."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from ringfence.analyze.context import Context
from ringfence.errors import PolicyError
from ringfence.model import Action, ActionKind, Effect, Outcome, Principal, PrincipalType, RiskTier
from ringfence.policy.rego import RegoModules, evaluate_rego, input_document

pytest.importorskip("regopy")

SEED = """package policies

violation["infra-change-without-approval"] {
  input.change_type == "infra"
  not input.approval == true
}
"""


def load(tmp_path: Path, **modules: str) -> RegoModules:
    paths = []
    for name, text in modules.items():
        path = tmp_path / f"{name}.rego"
        path.write_text(text)
        paths.append(path)
    return RegoModules.load(paths)


def ids(matches: list) -> list[str]:  # type: ignore[type-arg]
    return sorted(m.rule_id for m in matches)


# -- the seed rule, unchanged -------------------------------------------------------------


def test_seed_rule_denies_infra_change_without_approval(tmp_path: Path) -> None:
    modules = load(tmp_path, seed=SEED)
    matches = evaluate_rego(modules, {"change_type": "infra"})
    assert len(matches) == 1
    m = matches[0]
    assert m.rule_id == "rego:policies.violation:infra-change-without-approval"
    assert m.outcome is Outcome.DENY
    assert m.tier is RiskTier.CRITICAL
    assert m.reason == "infra-change-without-approval"
    assert m.effect is None


def test_seed_rule_allows_with_approval(tmp_path: Path) -> None:
    modules = load(tmp_path, seed=SEED)
    assert evaluate_rego(modules, {"change_type": "infra", "approval": True}) == []


def test_seed_rule_ignores_other_changes_and_non_true_approval(tmp_path: Path) -> None:
    modules = load(tmp_path, seed=SEED)
    assert evaluate_rego(modules, {"change_type": "docs"}) == []
    assert ids(evaluate_rego(modules, {"change_type": "infra", "approval": "yes"})) == [
        "rego:policies.violation:infra-change-without-approval"
    ]


def test_seed_rule_against_full_input_document(tmp_path: Path) -> None:
    modules = load(tmp_path, seed=SEED)
    doc = input_document(shell_action(), agent(), [], None, {"change_type": "infra"})
    assert ids(evaluate_rego(modules, doc)) == ["rego:policies.violation:infra-change-without-approval"]
    doc = input_document(shell_action(), agent(), [], None, {"change_type": "infra", "approval": True})
    assert evaluate_rego(modules, doc) == []


# -- the output contract ------------------------------------------------------------------

OUTPUTS_V1 = """package gate.outputs

import rego.v1

deny contains "no force pushes" if {
  some e in input.effects
  e.kind == "git.force_push"
}

deny contains {"id": "prod-deploy", "msg": "production deploys go through the pipeline"} if {
  input.context.environment == "production"
}

violation contains {"message": "touches secrets", "alternative": "use the vault CLI"} if {
  some e in input.effects
  e.kind == "secrets.write"
}

require_approval contains "database migrations need a DBA" if {
  input.action.kind == "migration"
}

require_approval contains {"id": "big-delete", "msg": "large deletion"} if {
  some e in input.effects
  e.kind == "fs.delete"
}
"""


def test_deny_string_and_object_messages(tmp_path: Path) -> None:
    modules = load(tmp_path, outputs=OUTPUTS_V1)
    doc = {"effects": [{"kind": "git.force_push"}], "context": {"environment": "production"}}
    matches = evaluate_rego(modules, doc)
    by_id = {m.rule_id: m for m in matches}
    assert sorted(by_id) == [
        "rego:gate.outputs.deny:no force pushes",
        "rego:gate.outputs.deny:prod-deploy",
    ]
    assert by_id["rego:gate.outputs.deny:prod-deploy"].reason == "production deploys go through the pipeline"
    assert all(m.outcome is Outcome.DENY and m.tier is RiskTier.CRITICAL for m in matches)


def test_violation_object_with_message_key_and_alternative(tmp_path: Path) -> None:
    modules = load(tmp_path, outputs=OUTPUTS_V1)
    (m,) = evaluate_rego(modules, {"effects": [{"kind": "secrets.write"}]})
    assert m.rule_id == "rego:gate.outputs.violation:touches secrets"
    assert m.outcome is Outcome.DENY
    assert m.reason == "touches secrets"
    assert m.alternative == "use the vault CLI"


def test_require_approval_string_and_object(tmp_path: Path) -> None:
    modules = load(tmp_path, outputs=OUTPUTS_V1)
    matches = evaluate_rego(modules, {"action": {"kind": "migration"}, "effects": [{"kind": "fs.delete"}]})
    assert ids(matches) == [
        "rego:gate.outputs.require_approval:big-delete",
        "rego:gate.outputs.require_approval:database migrations need a DBA",
    ]
    assert all(m.outcome is Outcome.REQUIRE_APPROVAL and m.tier is RiskTier.HIGH for m in matches)
    assert {m.reason for m in matches} == {"large deletion", "database migrations need a DBA"}


def test_v0_partial_sets_with_string_and_object_elements(tmp_path: Path) -> None:
    modules = load(
        tmp_path,
        v0="""package legacy

deny[msg] {
  input.user == "mallory"
  msg := sprintf("user %v is blocked", [input.user])
}

require_approval[{"id": "after-hours", "msg": "outside office hours"}] {
  input.hour > 18
}
""",
    )
    assert ids(evaluate_rego(modules, {"user": "mallory", "hour": 20})) == [
        "rego:legacy.deny:user mallory is blocked",
        "rego:legacy.require_approval:after-hours",
    ]
    assert evaluate_rego(modules, {"user": "alice", "hour": 9}) == []


def test_array_object_and_boolean_valued_rules(tmp_path: Path) -> None:
    modules = load(
        tmp_path,
        shapes="""package shapes

deny := ["from an array"] if input.a
violation := {"k-true": true, "k-false": false, "k-str": "from an object", "k-obj": {"msg": "nested"}} if input.b
require_approval if input.c
""",
    )
    assert ids(evaluate_rego(modules, {"a": True})) == ["rego:shapes.deny:from an array"]
    matches = evaluate_rego(modules, {"b": True})
    assert {m.rule_id: m.reason for m in matches} == {
        "rego:shapes.violation:k-true": "k-true",
        "rego:shapes.violation:k-str": "from an object",
        "rego:shapes.violation:k-obj": "nested",
    }
    (m,) = evaluate_rego(modules, {"c": True})
    assert m.rule_id == "rego:shapes.require_approval"
    assert m.outcome is Outcome.REQUIRE_APPROVAL
    assert evaluate_rego(modules, {}) == []


def test_undefined_and_other_rules_yield_nothing(tmp_path: Path) -> None:
    modules = load(tmp_path, other='package other\n\nallow := true\nwarn contains "x" if true\n')
    assert evaluate_rego(modules, {}) == []


def test_multiple_packages_are_all_queried(tmp_path: Path) -> None:
    modules = load(
        tmp_path,
        seed=SEED,
        team='package team.ci\n\nimport rego.v1\n\ndeny contains "no friday deploys" if input.day == "fri"\n',
        team_more='package team.ci\n\nimport rego.v1\n\nrequire_approval contains "release" if input.day == "fri"\n',
    )
    assert modules.packages == ("policies", "team.ci")
    assert ids(evaluate_rego(modules, {"change_type": "infra", "day": "fri"})) == [
        "rego:policies.violation:infra-change-without-approval",
        "rego:team.ci.deny:no friday deploys",
        "rego:team.ci.require_approval:release",
    ]


def test_entrypoints_restrict_the_packages(tmp_path: Path) -> None:
    (tmp_path / "a.rego").write_text(SEED)
    (tmp_path / "b.rego").write_text('package b\n\ndeny contains "b" if true\n')
    paths = [tmp_path / "a.rego", tmp_path / "b.rego"]
    modules = RegoModules.load(paths, entrypoints=["data.b"])
    assert modules.packages == ("b",)
    assert ids(evaluate_rego(modules, {"change_type": "infra"})) == ["rego:b.deny:b"]
    with pytest.raises(PolicyError, match="entrypoint"):
        RegoModules.load(paths, entrypoints=["not a package!"])


# -- errors ---------------------------------------------------------------------------------


def test_syntax_error_names_file_line_and_column(tmp_path: Path) -> None:
    good = tmp_path / "good.rego"
    good.write_text(SEED)
    bad = tmp_path / "bad.rego"
    bad.write_text("package bad\n\ndeny[msg] {\n  msg := \n}\n")
    with pytest.raises(PolicyError) as info:
        RegoModules.load([good, bad])
    message = str(info.value)
    assert message.startswith(f"{bad}:4:7: ")
    assert "Invalid assignment operator" in message
    assert "Traceback" not in message and "rego-errorseq" not in message


def test_compile_errors_print_nothing(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.rego"
    bad.write_text("package bad\n\ndeny[msg] {\n  msg := \n}\n")
    with pytest.raises(PolicyError):
        RegoModules.load([bad])
    out, err = capfd.readouterr()
    assert out == "" and err == ""  # the hook's stdout is the runtime's response


def test_missing_package_and_missing_file(tmp_path: Path) -> None:
    nopkg = tmp_path / "nopkg.rego"
    nopkg.write_text('deny["x"] { true }\n')
    with pytest.raises(PolicyError, match=r"nopkg\.rego"):
        RegoModules.load([nopkg])
    with pytest.raises(PolicyError, match=r"missing\.rego: cannot read"):
        RegoModules.load([tmp_path / "missing.rego"])
    with pytest.raises(PolicyError, match="no Rego modules"):
        RegoModules.load([])


@pytest.mark.parametrize(
    ("source", "fragment"),
    [
        ('package c\n\na := 1 if input.x\na := 2 if input.x\ndeny contains "c" if a == 1\n', "multiple outputs"),
        ("package e\n\ndeny contains msg if { input.x; msg := nosuch(1) }\n", "nosuch"),
        ('package d\n\ndeny contains msg if { input.x; msg := sprintf("%v", [1 / 0]) }\n', "zero"),
    ],
    ids=["conflict", "unknown-function", "builtin-error"],
)
def test_evaluation_errors_fail_closed(tmp_path: Path, source: str, fragment: str) -> None:
    modules = load(tmp_path, broken=source)
    assert evaluate_rego(modules, {"x": False}) == []  # the erring body is not reached
    (m,) = evaluate_rego(modules, {"x": True})
    assert m.rule_id == "rego:error"
    assert m.outcome is Outcome.DENY
    assert m.tier is RiskTier.CRITICAL
    assert fragment in m.reason.lower()


def test_unencodable_input_fails_closed(tmp_path: Path) -> None:
    modules = load(tmp_path, seed=SEED)
    (m,) = evaluate_rego(modules, {"change_type": float("nan")})
    assert m.rule_id == "rego:error"


# -- the input document ---------------------------------------------------------------------


def shell_action() -> Action:
    return Action(
        ActionKind.SHELL,
        {"command": "rm -rf build && git push --force origin main"},
        "/home/dev/src/app",
        tool="Bash",
        repo="acme/app",
    )


def agent() -> Principal:
    return Principal(PrincipalType.AGENT, "claude", runtime="claude_code", model="opus", session="s1")


def test_input_document_shape_for_shell_action_with_effects() -> None:
    effects = [
        Effect("fs.delete", {"targets": ("build",), "recursive": True}, "rm -rf build"),
        Effect("git.force_push", {"branch": "main", "protected": True}, "git push --force origin main", ("bash -c",)),
    ]
    ctx = Context(cwd="/home/dev/src/app", home="/home/dev", environment="staging", workspace="/home/dev/src/app")
    doc = input_document(shell_action(), agent(), effects, ctx, {"change_type": "infra", "approval": False})
    assert doc == {
        "action": {
            "kind": "shell",
            "cwd": "/home/dev/src/app",
            "payload": {"command": "rm -rf build && git push --force origin main"},
            "tool": "Bash",
            "repo": "acme/app",
        },
        "principal": {"type": "agent", "id": "claude", "runtime": "claude_code", "model": "opus", "session": "s1"},
        "effects": [
            {"kind": "fs.delete", "attrs": {"targets": ["build"], "recursive": True}, "evidence": "rm -rf build"},
            {
                "kind": "git.force_push",
                "attrs": {"branch": "main", "protected": True},
                "evidence": "git push --force origin main",
                "via": ["bash -c"],
            },
        ],
        "context": {
            "cwd": "/home/dev/src/app",
            "workspace": "/home/dev/src/app",
            "environment": "staging",
            "repo": "acme/app",
        },
        "change_type": "infra",
        "approval": False,
    }
    json.dumps(doc)  # plain JSON


def test_input_document_without_context_and_reserved_extra_keys() -> None:
    doc = input_document(shell_action(), agent(), [], None)
    assert doc["context"] == {"cwd": "/home/dev/src/app", "workspace": None, "environment": None, "repo": "acme/app"}
    assert set(doc) == {"action", "principal", "effects", "context"}
    with pytest.raises(ValueError, match="action"):
        input_document(shell_action(), agent(), [], None, {"action": {}})


def test_rules_see_the_input_document(tmp_path: Path) -> None:
    modules = load(
        tmp_path,
        doc="""package doc

import rego.v1

deny contains sprintf("%v force-pushes %v via %v", [input.principal.id, e.attrs.branch, e.via[0]]) if {
  input.principal.type == "agent"
  some e in input.effects
  e.kind == "git.force_push"
  e.attrs.protected
}
""",
    )
    effects = [Effect("git.force_push", {"branch": "main", "protected": True}, "git push -f", ("bash -c",))]
    doc = input_document(shell_action(), agent(), effects, None)
    assert ids(evaluate_rego(modules, doc)) == ["rego:doc.deny:claude force-pushes main via bash -c"]


# -- cost -------------------------------------------------------------------------------------


def test_evaluation_cost_per_decision(tmp_path: Path) -> None:
    modules = load(tmp_path, seed=SEED, outputs=OUTPUTS_V1)
    effects = [Effect("fs.delete", {"targets": ("build",)}, "rm -rf build")]
    doc = input_document(shell_action(), agent(), effects, None, {"change_type": "infra"})
    for _ in range(50):
        evaluate_rego(modules, doc)
    n = 1000
    start = time.perf_counter()
    for _ in range(n):
        matches = evaluate_rego(modules, doc)
    per_decision_us = (time.perf_counter() - start) / n * 1e6
    assert len(matches) == 2
    print(f"rego: {per_decision_us:.0f} µs/decision over {n} queries")
    assert per_decision_us < 5000  # a generous bound; see docs/rego.md for the measured cost
