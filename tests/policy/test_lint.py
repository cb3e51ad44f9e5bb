"""`lint_files`: every problem, each with its exact line and column."""

from __future__ import annotations

from pathlib import Path

import pytest

from ringfence.errors import PolicyError
from ringfence.policy.layers import Layer, build
from ringfence.policy.lint import lint_files

BAD = """\
pack: acme
colour: red
rules:
  - id: r1
    effect: git.teleport
    when: {branch: {glob: "release/[0-9"}, name: {regex: "(a+)+"}, x: {near: 3}}
    decision: maybe
    tier: huge
    reason: 42
    flavour: sweet
  - id: r1
    effect: deploy
    decision: require_approval
    reason: dup
    approval: {approvers: [release-wizards], k: 0}
    unless:
      - {when: {a: 1}}
  - id: r3
    effect: deploy
    match: {principal: {shoe: 9}, time: {days: [caturday], tz: Mars/Olympus}, planet: x}
    decision: deny
    reason: three
    when: {n: {gte: many}, l: [a, b]}
exceptions:
  - {exception_for: no.such.rule, reason: x, expires: 2027-01-01}
  - {exception_for: git.force-push-protected, reason: x}
groups: [maintainers]
"""

EXPECTED = [
    (2, 1, "pack: unknown field 'colour'"),
    (5, 13, "unknown effect kind 'git.teleport'"),
    (6, 27, "bad glob 'release/[0-9'"),
    (6, 58, "unsafe regular expression '(a+)+'"),
    (6, 72, "unknown operator 'near' on 'x'"),
    (7, 15, "'decision' must be allow, require_approval or deny"),
    (8, 11, "'tier' must be one of"),
    (9, 13, "'reason' must be a non-empty string"),
    (10, 5, "rule r1: unknown field 'flavour'"),
    (11, 9, "duplicate rule id 'r1'"),
    (15, 28, "approval group 'release-wizards' does not exist"),
    (15, 49, "'approval.k' must be a whole number"),
    (17, 9, "exception without 'reason'"),
    (17, 9, "exception without 'expires'"),
    (20, 25, "'match.principal': unknown field 'shoe'"),
    (20, 48, "'time.days' must list days"),
    (20, 64, "'time.tz' 'Mars/Olympus' is not a known time zone"),
    (20, 79, "'match': unknown field 'planet'"),
    (23, 21, "'gte' on 'n' needs a number"),
    (23, 31, "condition on 'l' is a list"),
    (25, 5, "exception_for names no rule of this or an earlier layer: 'no.such.rule'"),
    (26, 5, "exception without 'expires'"),
]


def test_every_problem_with_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(BAD)
    problems = lint_files([path])
    got = [(p.line, p.column, p.message) for p in problems]
    for line, col, text in EXPECTED:
        assert any(g[0] == line and g[1] == col and text in g[2] for g in got), (line, col, text, got)
    assert len(problems) == len(EXPECTED), "\n".join(map(str, problems))
    assert all(p.path == str(path) for p in problems)
    assert (
        str(problems[0])
        == f"{path}:2:1: pack: unknown field 'colour' (known: description, exceptions, groups, pack, rules, tiers)"
    )


def test_load_raises_the_first_problem(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(BAD)
    with pytest.raises(PolicyError, match=rf"^{path}:2:1: pack: unknown field 'colour'"):
        build([Layer("repository", (path,))])


@pytest.mark.parametrize(
    ("text", "line", "col", "message"),
    [
        ("pack: [a\n", 2, 1, "not valid YAML"),
        ("- a\n", 1, 1, "a pack is a mapping"),
        ("rules: []\n", 1, 1, "'pack' is missing"),
        ("pack: t\nrules: {}\n", 2, 8, "'rules' must be a list"),
        ("pack: t\npack: u\n", 2, 1, "duplicate key 'pack'"),
        ("pack: t\nrules:\n  - 3\n", 3, 5, "a rule is a mapping"),
        ("pack: t\nrules:\n  - {effect: deploy, decision: deny, reason: x}\n", 3, 5, "'id' is missing"),
        ("pack: t\nrules:\n  - {id: a, decision: deny, reason: x}\n", 3, 5, "needs 'effect', 'match' or both"),
        ("pack: t\nrules:\n  - {id: a, effect: [], decision: deny, reason: x}\n", 3, 21, "'effect' must be"),
        ("pack: t\nrules:\n  - {id: a, effect: deploy, reason: x}\n", 3, 5, "'decision' is missing"),
        ("pack: t\nrules:\n  - {id: a, effect: deploy, decision: deny}\n", 3, 5, "'reason' is missing"),
        (
            "pack: t\nrules:\n  - {id: a, effect: deploy, decision: deny, reason: x, approval: {k: 2}}\n",
            3,
            56,
            "'approval' only applies",
        ),
        (
            "pack: t\nrules:\n  - {id: a, match: {time: {hours: 9-5}}, decision: deny, reason: x}\n",
            3,
            35,
            "'time.hours'",
        ),
        ("pack: t\nrules:\n  - {id: a, match: {repo: {present: 1}}, decision: deny, reason: x}\n", 3, 37, "'present'"),
        (
            "pack: t\nrules:\n  - {id: a, match: {branch: {eq: [a]}}, decision: deny, reason: x}\n",
            3,
            34,
            "single value",
        ),
        (
            "pack: t\nrules:\n  - {id: a, match: {action: {kind: {in: x}}}, decision: deny, reason: x}\n",
            3,
            41,
            "needs a list",
        ),
        ("pack: t\nrules:\n  - {id: a, match: {}, when: {x: 1}, decision: deny, reason: x}\n", 3, 24, "needs 'effect'"),
        ("pack: t\ntiers: {high: sometimes}\n", 2, 15, "gate type must be one of"),
        ("pack: t\ntiers: {enormous: never}\n", 2, 9, "unknown field 'enormous'"),
        ("pack: t\nexceptions:\n  - {reason: x, expires: 2027-01-01}\n", 3, 5, "'exception_for' is missing"),
        (
            "pack: t\nrules:\n  - {id: git.force-push-protected, effect: deploy, decision: deny, reason: x}\n",
            3,
            10,
            "duplicate rule id 'git.force-push-protected' (already defined in <builtin>)",
        ),
    ],
)
def test_single_problem(tmp_path: Path, text: str, line: int, col: int, message: str) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(text)
    problems = lint_files([path])
    assert problems, text
    assert (problems[0].line, problems[0].column) == (line, col), problems
    assert message in problems[0].message, problems


def test_groups_are_checked_only_when_declared(tmp_path: Path) -> None:
    rule = (
        "pack: t\nrules:\n"
        "  - {id: a, effect: deploy, decision: require_approval, reason: x, approval: {approvers: [ops]}}\n"
    )
    (tmp_path / "a.yaml").write_text(rule)
    assert lint_files([tmp_path / "a.yaml"]) == []
    (tmp_path / "org.yaml").write_text("pack: org\ngroups: {ops: {members: [alice]}, dba: {}}\n")
    assert lint_files([tmp_path / "org.yaml", tmp_path / "a.yaml"]) == []
    (tmp_path / "org.yaml").write_text("pack: org\ngroups: [dba]\n")
    problems = lint_files([tmp_path / "org.yaml", tmp_path / "a.yaml"])
    assert [(p.path, p.line, p.column) for p in problems] == [(str(tmp_path / "a.yaml"), 3, 91)]


def test_unreadable_file(tmp_path: Path) -> None:
    problems = lint_files([tmp_path / "missing.yaml"])
    assert len(problems) == 1 and "cannot read policy file" in problems[0].message


def test_builtin_packs_lint_clean() -> None:
    from importlib import resources

    from ringfence.policy.load import BUILTIN_PACKS

    base = resources.files("ringfence.policy") / "packs"
    paths = [Path(str(base / f"{n}.yaml")) for n in BUILTIN_PACKS]
    assert lint_files(paths, builtin=False) == []
