"""git's hook input, read strictly: anything off-contract refuses the push with a reason."""

from __future__ import annotations

import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ringfence.adapters import git_hooks as gh
from ringfence.errors import PayloadError
from ringfence.gate import Gate
from ringfence.model import ActionKind, PrincipalType

A = "a" * 40
B = "b" * 40
Z = "0" * 40
A256 = "c" * 64


def test_pre_push_lines() -> None:
    raw = (
        f"refs/heads/main {B} refs/heads/main {A}\n"
        f"(delete) {Z} refs/heads/old {A}\n"
        f"HEAD~1 {A} refs/heads/new {Z}\n"
        f"main@{{1 day ago}} {A} refs/heads/x {B}\n"
    ).encode()
    main, old, new, spaced = gh.parse_pre_push(raw)
    assert (main.local_ref, main.local_sha) == ("refs/heads/main", B)
    assert (main.remote_ref, main.remote_sha) == ("refs/heads/main", A)
    assert old.delete and not old.new
    assert new.new and not new.delete and new.local_ref == "HEAD~1"
    assert spaced.local_ref == "main@{1 day ago}"  # a refspec source may hold spaces
    assert gh.parse_pre_push(b"") == []


def test_pre_receive_lines_and_sha256() -> None:
    raw = f"{A} {B} refs/heads/main\n{'0' * 64} {A256} refs/tags/v1\n".encode()
    with pytest.raises(PayloadError, match="mixes SHA-1 and SHA-256"):
        gh.parse_pre_receive(raw)
    main, tag = gh.parse_pre_receive(f"{A} {B} refs/heads/main\n{Z} {A} refs/tags/v1\n".encode())
    assert main.remote_sha == A and main.local_sha == B and main.remote_ref == main.local_ref == "refs/heads/main"
    assert tag.new
    [wide] = gh.parse_pre_receive(f"{'0' * 64} {A256} refs/heads/x\n".encode())
    assert wide.new


BAD_PRE_PUSH = [
    (f"refs/heads/main {B} refs/heads/main {A}".encode(), "middle of a line"),
    (f"refs/heads/main {B} refs/heads/main\n".encode(), "is not '<local ref>"),
    (f"refs/heads/main HEAD refs/heads/main {A}\n".encode(), "hexadecimal"),
    (f"refs/heads/main {B.upper()} refs/heads/main {A}\n".encode(), "hexadecimal"),
    (f"refs/heads/main {B} main {A}\n".encode(), "full ref name"),
    (f"refs/heads/main {Z} refs/heads/main {A}\n".encode(), "(delete)"),
    (f"(delete) {B} refs/heads/main {A}\n".encode(), "(delete)"),
    (f"(delete) {Z} refs/heads/main {Z}\n".encode(), "all zeroes"),
    (b"refs/heads/m\xff " + f"{B} refs/heads/main {A}\n".encode(), "not UTF-8"),
    (f"refs/heads/main {B} refs/heads/main {A}\r\n".encode(), "carriage-return"),
    (f"refs/heads/main\x00 {B} refs/heads/main {A}\n".encode(), "NUL"),
    (b"x" * (gh.MAX_STDIN + 1), "more than"),
]


@pytest.mark.parametrize(("raw", "message"), BAD_PRE_PUSH)
def test_bad_pre_push_input_is_refused_with_a_reason_before_any_decision(raw: bytes, message: str) -> None:
    with pytest.raises(PayloadError) as caught:
        gh.parse_pre_push(raw)
    assert message in str(caught.value)
    err = io.StringIO()
    code = gh.run_pre_push(["origin", "/srv/app.git"], stdin=raw, env={}, cwd="/tmp", gate_for=_no_gate, err=err)
    assert code == 1
    said = " ".join(err.getvalue().split())
    assert said.startswith("ringfence: push refused:") and message in said and "fails closed" in said


BAD_PRE_RECEIVE = [
    (f"{A} {B}\n".encode(), "is not '<old sha> <new sha> <ref>'"),
    (f"{A} {B} refs/heads/a b\n".encode(), "is not '<old sha> <new sha> <ref>'"),
    (f"{A} {B} main\n".encode(), "full ref name"),
    (f"{A} {B} refs/\n".encode(), "full ref name"),
    (f"{Z} {Z} refs/heads/main\n".encode(), "all zeroes"),
    (f"{A[:-1]} {B} refs/heads/main\n".encode(), "hexadecimal"),
    (f"{A}  {B} refs/heads/main\n".encode(), "is not"),
    (f"{A} {A256} refs/heads/main\n".encode(), "different lengths"),
]


@pytest.mark.parametrize(("raw", "message"), BAD_PRE_RECEIVE)
def test_bad_pre_receive_input_is_refused(raw: bytes, message: str) -> None:
    with pytest.raises(PayloadError, match=message.replace("(", r"\(").replace(")", r"\)")):
        gh.parse_pre_receive(raw)
    err = io.StringIO()
    assert gh.run_pre_receive(stdin=raw, env={}, cwd="/tmp", gate_for=_no_gate, err=err) == 1
    assert "push refused" in err.getvalue()


def _no_gate(cwd: str) -> Gate:
    raise AssertionError("bad input must be refused before the gate is asked")


def test_pre_push_needs_remote_and_url() -> None:
    err = io.StringIO()
    assert gh.run_pre_push(["origin"], stdin=b"", env={}, cwd="/tmp", gate_for=_no_gate, err=err) == 1
    assert "remote's name and URL" in err.getvalue()


def test_a_failing_configuration_refuses_the_push() -> None:
    def broken(cwd: str) -> Gate:
        raise RuntimeError("config.yaml: line 3: bad indentation")

    err = io.StringIO()
    raw = f"refs/heads/feature {B} refs/heads/feature {Z}\n".encode()
    code = gh.run_pre_push(["origin", "/srv/app.git"], stdin=raw, env={}, cwd="/tmp", gate_for=broken, err=err)
    assert code == 1
    said = " ".join(err.getvalue().split())
    assert "could not load its configuration" in said and "bad indentation" in said


def test_unknown_invocation_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert gh.main(["post-receive"]) == 1
    assert "unknown git hook invocation" in capsys.readouterr().err


# --- the action ------------------------------------------------------------------------------


def _ancestry(answers: dict[tuple[str, str], bool | None]) -> gh.Ancestry:
    return lambda old, new: answers[(old, new)]


def test_force_is_decided_by_ancestry_and_unknown_counts_as_force() -> None:
    c = "c" * 40
    updates = gh.parse_pre_push(
        f"refs/heads/ff {B} refs/heads/ff {A}\n"
        f"refs/heads/rewrite {B} refs/heads/rewrite {c}\n"
        f"refs/heads/unfetched {A} refs/heads/unfetched {c}\n"
        f"refs/tags/v1 {B} refs/tags/v1 {A}\n"
        f"refs/heads/new {B} refs/heads/new {Z}\n".encode()
    )
    asked: list[tuple[str, str]] = []

    def ancestry(old: str, new: str) -> bool | None:
        asked.append((old, new))
        return {(A, B): True, (c, B): False, (c, A): None}[(old, new)]

    judged = gh.push_action("origin", "x", updates, ancestry, cwd="/w", tool="git pre-push", env={})
    force = {u["remote_ref"]: u["force"] for u in judged.action.payload["updates"]}
    assert force == {
        "refs/heads/ff": False,
        "refs/heads/rewrite": True,
        "refs/heads/unfetched": True,
        "refs/tags/v1": True,  # moving a tag is never a fast-forward for git
        "refs/heads/new": False,
    }
    assert [u.remote_ref for u in judged.unknown] == ["refs/heads/unfetched"]
    assert sorted(asked) == sorted([(A, B), (c, B), (c, A)])  # no question for tags or new refs


def test_payload_is_deterministic_and_carries_no_credentials() -> None:
    lines = [f"refs/heads/b {B} refs/heads/b {Z}\n", f"refs/heads/a {A} refs/heads/a {Z}\n"]
    url = "https://x-access-token:ghs_secret@github.com/org/app.git"

    def judged(text: str) -> gh.Judged:
        return gh.push_action(
            "origin", url, gh.parse_pre_push(text.encode()), _ancestry({}), cwd="/w", tool="t", env={}
        )

    one, two = judged("".join(lines)), judged("".join(reversed(lines)))
    assert one.action == two.action
    assert one.action.kind is ActionKind.PUSH
    assert [u["remote_ref"] for u in one.action.payload["updates"]] == ["refs/heads/a", "refs/heads/b"]
    assert one.action.payload["url"] == "https://github.com/org/app.git"
    assert "ghs_secret" not in repr(one.action)
    assert gh.redact_url("git@github.com:org/app.git") == "git@github.com:org/app.git"


# --- who pushes ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("env", "kind", "ident", "runtime"),
    [
        ({"USER": "dana"}, PrincipalType.HUMAN, "dana", "git"),
        ({"USER": "dana", "CLAUDECODE": "1"}, PrincipalType.AGENT, "claude-code", "claude-code"),
        ({"GEMINI_CLI": "1"}, PrincipalType.AGENT, "gemini", "gemini"),
        ({"CODEX_THREAD_ID": "t-1"}, PrincipalType.AGENT, "codex", "codex"),
        ({"COPILOT_CLI": "1"}, PrincipalType.AGENT, "copilot", "copilot"),
        ({"CURSOR_AGENT": "1"}, PrincipalType.AGENT, "cursor", "cursor"),
        ({"AI_AGENT": "Amp"}, PrincipalType.AGENT, "amp", "amp"),
        ({"AI_AGENT": "rm -rf /"}, PrincipalType.HUMAN, "unknown", "git"),
        ({"RINGFENCE_AGENT_ID": "release-bot", "USER": "dana"}, PrincipalType.AGENT, "release-bot", "git"),
        ({"RINGFENCE_AGENT_ID": "rb", "OPENCODE": "1"}, PrincipalType.AGENT, "rb", "opencode"),
    ],
)
def test_client_principal(env: dict[str, str], kind: PrincipalType, ident: str, runtime: str) -> None:
    p = gh.client_principal(env)
    assert (p.type, p.id, p.runtime) == (kind, ident, runtime)


def test_client_principal_session_and_owner() -> None:
    p = gh.client_principal({"CODEX_THREAD_ID": "thread-9", "RINGFENCE_AGENT_OWNER": "carol"})
    assert p.session == "thread-9" and p.owner == "carol"


@pytest.mark.parametrize(
    ("env", "kind", "ident", "platform"),
    [
        ({"GITHUB_USER_LOGIN": "octocat", "USER": "git"}, PrincipalType.HUMAN, "octocat", "github-enterprise"),
        ({"GITHUB_USER_LOGIN": "dependabot[bot]"}, PrincipalType.SERVICE, "dependabot[bot]", "github-enterprise"),
        (
            {"GITHUB_USER_LOGIN": "copilot-swe-agent[bot]"},
            PrincipalType.AGENT,
            "copilot-swe-agent[bot]",
            "github-enterprise",
        ),
        ({"GL_USERNAME": "dana", "GL_ID": "user-4"}, PrincipalType.HUMAN, "dana", "gitlab"),
        ({"GL_USERNAME": "project_12_bot_3f9", "GL_ID": "u-7"}, PrincipalType.SERVICE, "project_12_bot_3f9", "gitlab"),
        ({"GL_USERNAME": "deployer", "GL_ID": "key-12"}, PrincipalType.SERVICE, "deployer", "gitlab"),
        ({"GITEA_PUSHER_NAME": "lee", "GITEA_PUSHER_EMAIL": "lee@x"}, PrincipalType.HUMAN, "lee", "gitea"),
        ({"GITEA_PUSHER_NAME": "renovate-bot"}, PrincipalType.SERVICE, "renovate-bot", "gitea"),
        ({"GL_USER": "sam"}, PrincipalType.HUMAN, "sam", "gitolite"),
        ({"REMOTE_USER": "kim", "USER": "www-data"}, PrincipalType.HUMAN, "kim", "git-http"),
        ({"USER": "git"}, PrincipalType.HUMAN, "git", "ssh"),
        ({}, PrincipalType.HUMAN, "unknown", "unknown"),
    ],
)
def test_server_principal(env: dict[str, str], kind: PrincipalType, ident: str, platform: str) -> None:
    p = gh.server_principal(env)
    assert (p.type, p.id, p.attributes["platform"]) == (kind, ident, platform)
    assert ("bot" in p.attributes) == (kind is not PrincipalType.HUMAN)


def test_server_principal_keeps_push_options_and_email() -> None:
    p = gh.server_principal(
        {
            "GITEA_PUSHER_NAME": "lee",
            "GITEA_PUSHER_EMAIL": "lee@x",
            "GIT_PUSH_OPTION_COUNT": "2",
            "GIT_PUSH_OPTION_0": "ci.skip",
            "GIT_PUSH_OPTION_1": "reason=hotfix",
        }
    )
    assert p.attributes["email"] == "lee@x"
    assert p.attributes["push_options"] == "ci.skip\nreason=hotfix"
    with pytest.raises(PayloadError):
        gh.server_principal({"GIT_PUSH_OPTION_COUNT": "lots"})


@pytest.mark.parametrize(
    ("env", "name"),
    [
        ({"GITHUB_REPO_NAME": "org/app"}, "org/app"),
        ({"GL_PROJECT_PATH": "group/app"}, "group/app"),
        ({"GITEA_REPO_USER_NAME": "team", "GITEA_REPO_NAME": "app"}, "team/app"),
        ({}, "app"),
    ],
)
def test_repository_name(env: dict[str, str], name: str) -> None:
    assert gh.repository_name(env, "/srv/git/app.git") == name
    assert gh.repository_name({}, "/home/dev/app/.git") == "app"


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=400) | st.text(alphabet="ref/shad0123456789 ()\n\t", max_size=300).map(str.encode))
def test_any_input_is_either_read_exactly_or_refused(raw: bytes) -> None:
    """Whatever git (or anything else) writes, the hook never lets an unread push through."""
    asked: list[str] = []

    def allow_all(cwd: str) -> Gate:
        asked.append(cwd)
        return Gate(cache=False)

    try:
        parsed: list[gh.RefUpdate] | None = gh.parse_pre_push(raw)
    except PayloadError:
        parsed = None
    err = io.StringIO()
    code = gh.run_pre_push(["origin", "/srv/app.git"], stdin=raw, env={}, cwd="/", gate_for=allow_all, err=err)
    if parsed is None:
        assert code == 1 and not asked and "push refused" in err.getvalue()
    else:
        assert bool(asked) == bool(parsed)
