"""A push reported by git's hooks has the same effects as the ``git push`` command that
makes it, so the git pack (and any rule on those effects) decides both alike."""

from __future__ import annotations

from typing import Any

import pytest

from ringfence.analyze import analyze, analyze_shell
from ringfence.analyze.context import AnalysisConfig, Context
from ringfence.analyze.push import PushPayloadError, parse_updates
from ringfence.model import Action, ActionKind, Effect, Outcome, Principal, PrincipalType, Verdict
from ringfence.policy.evaluate import evaluate
from ringfence.policy.rules import EvalContext
from tests.helpers import pack_policy

WS = "/work/repo"
A = "a" * 40
B = "b" * 40
Z = "0" * 40
GIT_EFFECTS = ("git.push", "git.force_push", "git.push_protected", "git.ref_delete")


def ctx(branches: tuple[str, ...] | None = None) -> Context:
    config = AnalysisConfig() if branches is None else AnalysisConfig(protected_branches=branches)
    return Context(cwd=WS, home="/home/dev", workspace=WS, config=config)


def update(ref: str, *, old: str = A, new: str = B, force: bool = False) -> dict[str, Any]:
    return {
        "local_ref": "(delete)" if new == Z else ref,
        "local_sha": new,
        "remote_ref": ref,
        "remote_sha": old,
        "delete": new == Z,
        "force": force,
        "new": old == Z,
    }


def push(*updates: dict[str, Any], remote: str = "origin") -> Action:
    return Action(ActionKind.PUSH, {"remote": remote, "url": "/srv/git/app.git", "updates": list(updates)}, cwd=WS)


def judge(action: Action, effects: list[Effect]) -> Verdict:
    who = Principal(PrincipalType.HUMAN, "dev")
    return evaluate(pack_policy("core", "git"), effects, EvalContext(action, who, None))


def of(kind: str, action: Action, context: Context) -> Effect:
    [found] = [e for e in analyze(action, context) if e.kind == kind]
    return found


def shape(effects: list[Effect]) -> list[tuple[str, dict[str, Any]]]:
    return sorted(((e.kind, dict(e.attrs)) for e in effects if e.kind in GIT_EFFECTS), key=lambda t: t[0])


@pytest.mark.parametrize(
    ("command", "updates"),
    [
        ("git push --force origin main", [update("refs/heads/main", force=True)]),
        ("git push origin main", [update("refs/heads/main")]),
        ("git push origin feature/login", [update("refs/heads/feature/login")]),
        ("git push origin feature/login", [update("refs/heads/feature/login", old=Z)]),
        ("git push --force origin feature/login", [update("refs/heads/feature/login", force=True)]),
        ("git push origin --delete main", [update("refs/heads/main", new=Z)]),
        ("git push origin :old-feature", [update("refs/heads/old-feature", new=Z)]),
        ("git push origin --delete release/1.0", [update("refs/heads/release/1.0", new=Z)]),
        ("git push origin +release/2.x", [update("refs/heads/release/2.x", force=True)]),
        ("git push origin refs/tags/v1.0", [update("refs/tags/v1.0", old=Z)]),
        ("git push origin :refs/tags/v1.0", [update("refs/tags/v1.0", new=Z)]),
        (
            "git push origin +main feature/x",
            [update("refs/heads/main", force=True), update("refs/heads/feature/x")],
        ),
        (
            "git push origin main :old --force",
            [update("refs/heads/main", force=True), update("refs/heads/old", new=Z)],
        ),
    ],
)
def test_hook_push_has_the_effects_of_the_push_command(command: str, updates: list[dict[str, Any]]) -> None:
    from_hook = shape(analyze(push(*updates), ctx()))
    from_shell = shape(analyze_shell(command, ctx()))
    assert from_hook == from_shell
    assert "git.push" in [kind for kind, _ in from_hook]


@pytest.mark.parametrize(
    ("updates", "outcome", "rule"),
    [
        ([update("refs/heads/main", force=True)], Outcome.DENY, "git.force-push-protected"),
        ([update("refs/heads/main", new=Z)], Outcome.DENY, "git.ref-delete-protected"),
        ([update("refs/heads/main")], Outcome.REQUIRE_APPROVAL, "git.push-protected"),
        ([update("refs/heads/feature/a", force=True)], Outcome.ALLOW, "git.force-push-feature"),
        ([update("refs/heads/feature/a", new=Z)], Outcome.REQUIRE_APPROVAL, "git.ref-delete"),
        ([update("refs/heads/feature/a", old=Z)], Outcome.ALLOW, None),
        (
            [update("refs/heads/feature/a"), update("refs/heads/main", force=True)],
            Outcome.DENY,
            "git.force-push-protected",
        ),
    ],
)
def test_git_pack_decides_hook_pushes(updates: list[dict[str, Any]], outcome: Outcome, rule: str | None) -> None:
    action = push(*updates)
    effects = analyze(action, ctx())
    verdict = judge(action, effects)
    assert verdict.outcome is outcome, verdict
    if rule is not None:
        assert rule in verdict.rule_ids


def test_protected_branches_come_from_the_configuration() -> None:
    forced = push(update("refs/heads/trunk", force=True), update("refs/heads/main", force=True))
    [fp] = [e for e in analyze(forced, ctx(("trunk",))) if e.kind == "git.force_push"]
    assert fp.attrs["protected"] is True and fp.attrs["branches"] == ("trunk", "main")
    main_only = of("git.force_push", push(update("refs/heads/main", force=True)), ctx(("trunk",)))
    assert main_only.attrs["protected"] is False  # main is not protected in this configuration
    glob = of("git.push_protected", push(update("refs/heads/deploy/eu")), ctx(("deploy/*",)))
    assert glob.attrs["branches"] == ("deploy/eu",)


def test_tags_and_other_refs_are_never_protected_branches() -> None:
    effects = analyze(push(update("refs/tags/main", new=Z), update("refs/notes/commits", force=True)), ctx())
    [rd] = [e for e in effects if e.kind == "git.ref_delete"]
    assert rd.attrs["refs"] == ("main",) and rd.attrs["protected"] is False
    [fp] = [e for e in effects if e.kind == "git.force_push"]
    assert fp.attrs["refs"] == ("refs/notes/commits",) and fp.attrs["branches"] == () and fp.attrs["protected"] is False


def test_evidence_names_the_update() -> None:
    [fp] = [e for e in analyze(push(update("refs/heads/main", force=True)), ctx()) if e.kind == "git.force_push"]
    assert fp.evidence == "git push to origin: refs/heads/main aaaaaaa...bbbbbbb (not a fast-forward)"


BAD = [
    ({"url": "x", "updates": []}, "remote is missing"),
    ({"remote": "origin", "url": 3, "updates": []}, "url must be a string"),
    ({"remote": "origin", "updates": "refs/heads/main"}, "updates must be a list"),
    ({"remote": "origin", "updates": ["x"]}, "must be an object"),
    ({"remote": "origin", "updates": [{**update("refs/heads/main"), "local_sha": "HEAD"}]}, "hexadecimal"),
    ({"remote": "origin", "updates": [{**update("refs/heads/main"), "force": "yes"}]}, "true/false"),
    ({"remote": "origin", "updates": [{**update("refs/heads/main"), "remote_ref": "main"}]}, "full ref name"),
    ({"remote": "origin", "updates": [{**update("refs/heads/main"), "delete": True}]}, "all zeroes"),
    ({"remote": "origin", "updates": [{**update("refs/heads/main", new=Z), "force": True}]}, "cannot be force"),
    ({"remote": "origin", "updates": [update("refs/heads/main", old=Z, new=Z)]}, "neither creates"),
]


@pytest.mark.parametrize(("payload", "message"), BAD)
def test_off_shape_payload_is_an_analysis_error_the_core_pack_denies(payload: dict[str, Any], message: str) -> None:
    action = Action(ActionKind.PUSH, payload, cwd=WS)
    effects = analyze(action, ctx())
    assert [e.kind for e in effects] == ["analysis.error"]
    assert message in str(effects[0].attrs["reason"])
    verdict = judge(action, effects)
    assert verdict.outcome is Outcome.DENY


def test_parse_updates_rejects_a_delete_flag_on_a_non_zero_sha() -> None:
    with pytest.raises(PushPayloadError):
        parse_updates([{**update("refs/heads/x"), "delete": True}])
