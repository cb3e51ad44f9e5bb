"""CI weakening: parsed GitHub Actions, GitLab CI and other CI files compared before and after."""

from __future__ import annotations

import pytest

from ringfence.review.ci import ci_weakening, is_ci_config
from ringfence.review.findings import Finding, Severity

WF = ".github/workflows/ci.yml"

CI = """\
name: CI
on:
  push:
    branches: [main]
  pull_request:
    paths-ignore:
      - "docs/**"
permissions:
  contents: read
jobs:
  lint:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-python@v5
        with:
          python-version: "3.11"
      - name: Install
        run: pip install -e .[dev] ruff mypy pytest
      - name: ruff
        run: ruff check src tests
      - name: mypy
        run: mypy src
  test:
    runs-on: ubuntu-latest
    strategy:
      matrix:
        python: ["3.11", "3.12"]
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-python@v5
        with:
          python-version: ${{ matrix.python }}
      - name: Install
        run: pip install -e .[dev]
      - name: pytest
        run: |
          pytest -q --cov=ringfence
      - name: Upload coverage
        uses: codecov/codecov-action@v4
  scan:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - name: trivy
        uses: aquasecurity/trivy-action@0.28.0
        with:
          scan-type: fs
          exit-code: "1"
  docs:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - run: mkdocs build --strict
  release:
    needs: [lint, test]
    if: github.ref == 'refs/heads/main'
    runs-on: ubuntu-latest
    permissions:
      contents: read
    steps:
      - uses: actions/checkout@v4
      - run: python -m build
      - uses: pypa/gh-action-pypi-publish@release/v1
"""


def edit(text: str, old: str, new: str, count: int = 1) -> str:
    """``text`` with ``old`` replaced by ``new``; fails loudly when ``old`` is not there."""
    assert old in text, old
    return text.replace(old, new, count)


def line_of(text: str, needle: str, nth: int = 1) -> int:
    """The 1-based line of the ``nth`` line of ``text`` containing ``needle``."""
    hits = [i for i, line in enumerate(text.splitlines(), start=1) if needle in line]
    return hits[nth - 1]


def only(findings: list[Finding]) -> Finding:
    assert len(findings) == 1, [f.message for f in findings]
    return findings[0]


def test_is_ci_config() -> None:
    for path in (
        ".github/workflows/ci.yml",
        ".github/workflows/release.yaml",
        ".gitlab-ci.yml",
        "ci/templates/test.gitlab-ci.yml",
        ".gitlab/ci/deploy.yml",
        "Jenkinsfile",
        "ci/Jenkinsfile.release",
        ".circleci/config.yml",
        "azure-pipelines.yml",
        ".buildkite/pipeline.yml",
        ".buildkite/hooks/pre-command",
        "bitbucket-pipelines.yml",
    ):
        assert is_ci_config(path), path
    for path in (".github/workflows/README.md", ".github/dependabot.yml", "src/ci.yml", "docs/gitlab-ci.md"):
        assert not is_ci_config(path), path
    assert ci_weakening("src/app.yml", "a: 1\n", "a: [\n") == []


# --- GitHub Actions: detections ---------------------------------------------------------------


def test_step_continue_on_error() -> None:
    after = edit(
        CI,
        "          pytest -q --cov=ringfence\n",
        "          pytest -q --cov=ringfence\n        continue-on-error: true\n",
    )
    finding = only(ci_weakening(WF, CI, after))
    assert finding.kind == "ci.weakened" and finding.severity is Severity.HIGH
    assert finding.message == (
        ".github/workflows/ci.yml: job `test` step `pytest` now has continue-on-error: true, "
        "so failing tests no longer fail the build"
    )
    assert finding.path == WF and finding.line == line_of(after, "continue-on-error")


def test_job_continue_on_error_on_a_scanner() -> None:
    after = edit(
        CI,
        "  scan:\n    runs-on: ubuntu-latest\n",
        "  scan:\n    runs-on: ubuntu-latest\n    continue-on-error: true\n",
    )
    finding = only(ci_weakening(WF, CI, after))
    assert finding.severity is Severity.HIGH
    assert "job `scan` now has continue-on-error: true, so security findings no longer fail" in finding.message
    assert finding.line == line_of(after, "continue-on-error")


def test_continue_on_error_on_a_plain_job_is_medium() -> None:
    after = edit(
        CI,
        "  docs:\n    runs-on: ubuntu-latest\n",
        "  docs:\n    runs-on: ubuntu-latest\n    continue-on-error: true\n",
    )
    finding = only(ci_weakening(WF, CI, after))
    assert finding.severity is Severity.MEDIUM and "job `docs`" in finding.message


def test_matrix_expression_continue_on_error_is_not_a_constant() -> None:
    after = edit(CI, "    strategy:\n", "    continue-on-error: ${{ matrix.python == '3.13' }}\n    strategy:\n")
    assert ci_weakening(WF, CI, after) == []


def test_job_removed() -> None:
    after = edit(CI, CI[CI.index("  scan:\n") : CI.index("  docs:\n")], "")
    finding = only(ci_weakening(WF, CI, after))
    assert finding.severity is Severity.HIGH
    assert finding.message == ".github/workflows/ci.yml: job `scan` was removed, so security scans no longer run"
    assert finding.line == line_of(after, "jobs:")


def test_plain_job_removed_is_medium() -> None:
    after = edit(CI, CI[CI.index("  docs:\n") : CI.index("  release:\n")], "")
    finding = only(ci_weakening(WF, CI, after))
    assert finding.severity is Severity.MEDIUM and finding.message.endswith("job `docs` was removed")


def test_test_step_removed() -> None:
    after = edit(CI, "      - name: pytest\n        run: |\n          pytest -q --cov=ringfence\n", "")
    finding = only(ci_weakening(WF, CI, after))
    assert finding.severity is Severity.HIGH
    assert finding.message.endswith("job `test` step `pytest` was removed, so tests no longer run")
    assert finding.line == line_of(after, "steps:", 2)


def test_step_no_longer_runs_its_check() -> None:
    after = edit(CI, "        run: mypy src\n", "        run: echo 'mypy is slow, skipping'\n")
    finding = only(ci_weakening(WF, CI, after))
    assert finding.severity is Severity.HIGH
    assert "job `lint` step `mypy` no longer runs `mypy`, so type checks no longer run" in finding.message
    assert finding.line == line_of(after, "mypy is slow")


@pytest.mark.parametrize(
    ("old", "new", "label"),
    [
        ("pytest -q --cov=ringfence\n", "pytest -q --cov=ringfence || true\n", "|| true"),
        ("pytest -q --cov=ringfence\n", "pytest -q --cov=ringfence || exit 0\n", "|| exit 0"),
        ("pytest -q --cov=ringfence\n", "pytest -q --cov=ringfence; exit 0\n", "; exit 0"),
        ("pytest -q --cov=ringfence\n", "set +e\n          pytest -q --cov=ringfence\n", "set +e"),
        (
            "pytest -q --cov=ringfence\n",
            "pytest -q --continue-on-collection-errors\n",
            "--continue-on-collection-errors",
        ),
    ],
)
def test_test_command_made_to_pass(old: str, new: str, label: str) -> None:
    after = edit(CI, old, new)
    finding = only(ci_weakening(WF, CI, after))
    assert finding.severity is Severity.HIGH
    assert finding.message == (
        f".github/workflows/ci.yml: job `test` step `pytest` now uses `{label}`, "
        "so failing tests no longer fail the build"
    )
    assert finding.line == line_of(after, label.split()[-1] if label.startswith("-") else label)
    assert finding.evidence == label


@pytest.mark.parametrize(
    ("run", "flag", "consequence"),
    [
        ("npm test", "npm test -- --passWithNoTests", "failing tests no longer fail the build"),
        ("mvn -B verify", "mvn -B verify -DskipTests", "tests are skipped"),
        ("mvn -B verify", "mvn -B verify -Dmaven.test.skip=true", "tests are skipped"),
        ("make test", "make test --skip-tests", "tests are skipped"),
        ("ruff check .", "ruff check . --exit-zero", "lint errors no longer fail the build"),
        ("make check", "git commit --no-verify -m x && make check", "git hooks are skipped"),
    ],
)
def test_flags_that_skip_failures(run: str, flag: str, consequence: str) -> None:
    before = edit(CI, "        run: mypy src\n", f"        run: {run}\n")
    after = edit(before, f"        run: {run}\n", f"        run: {flag}\n")
    finding = only(ci_weakening(WF, before, after))
    assert finding.severity is Severity.HIGH
    assert finding.message.endswith(consequence)
    assert finding.line == line_of(after, flag)


def test_or_true_on_a_build_step_is_medium() -> None:
    after = edit(CI, "      - run: python -m build\n", "      - run: python -m build || true\n")
    finding = only(ci_weakening(WF, CI, after))
    assert finding.severity is Severity.MEDIUM
    assert "job `release` step `python -m build || true` now uses `|| true`" in finding.message


@pytest.mark.parametrize("cond", ["false", "${{ false }}", "0", "'false && github.event_name == \"push\"'"])
def test_constant_false_if(cond: str) -> None:
    after = edit(CI, "      - name: ruff\n", f"      - name: ruff\n        if: {cond}\n")
    finding = only(ci_weakening(WF, CI, after))
    assert finding.severity is Severity.HIGH
    assert "job `lint` step `ruff` now has `if: " in finding.message
    assert finding.message.endswith("so it never runs (lint checks are skipped)")
    assert finding.line == line_of(after, "if: ")


def test_constant_false_if_on_a_job() -> None:
    after = edit(
        CI, "  test:\n    runs-on: ubuntu-latest\n", "  test:\n    if: ${{ false }}\n    runs-on: ubuntu-latest\n"
    )
    finding = only(ci_weakening(WF, CI, after))
    assert finding.severity is Severity.HIGH and "job `test` now has `if: ${{ false }}`" in finding.message
    assert finding.line == line_of(after, "if: ${{ false }}")


def test_if_that_skips_pull_requests() -> None:
    after = edit(
        CI,
        "  test:\n    runs-on: ubuntu-latest\n",
        "  test:\n    if: github.event_name == 'push'\n    runs-on: ubuntu-latest\n",
    )
    finding = only(ci_weakening(WF, CI, after))
    assert finding.severity is Severity.MEDIUM
    assert "job `test` now runs only when `github.event_name == 'push'`, so tests no longer run on pull requests" in (
        finding.message
    )


def test_scanner_action_told_not_to_fail() -> None:
    after = edit(CI, '          exit-code: "1"\n', '          exit-code: "0"\n')
    finding = only(ci_weakening(WF, CI, after))
    assert finding.severity is Severity.HIGH
    assert "job `scan` step `trivy` now sets `exit-code: 0`" in finding.message
    assert finding.line == line_of(after, "exit-code")


def test_permissions_write_all() -> None:
    after = edit(CI, "permissions:\n  contents: read\n", "permissions: write-all\n")
    finding = only(ci_weakening(WF, CI, after))
    assert finding.severity is Severity.HIGH and "the workflow now grants the token `write-all`" in finding.message
    assert finding.line == line_of(after, "permissions: write-all")


def test_permission_scope_read_to_write_top_level() -> None:
    after = edit(CI, "permissions:\n  contents: read\n", "permissions:\n  contents: write\n  pull-requests: write\n")
    finding = only(ci_weakening(WF, CI, after))
    assert finding.severity is Severity.HIGH
    assert finding.message.endswith("the workflow now grants the token write access to `contents` and `pull-requests`")
    assert finding.line == line_of(after, "permissions:")


def test_permission_scope_broadened_on_a_job() -> None:
    after = edit(
        CI,
        "    permissions:\n      contents: read\n",
        "    permissions:\n      contents: read\n      id-token: write\n",
    )
    finding = only(ci_weakening(WF, CI, after))
    assert finding.severity is Severity.HIGH
    assert finding.message.endswith("job `release` now grants the token write access to `id-token`")
    assert finding.line == line_of(after, "id-token")


def test_job_permissions_added_where_absent() -> None:
    after = edit(
        CI,
        "  docs:\n    runs-on: ubuntu-latest\n",
        "  docs:\n    permissions:\n      pages: write\n    runs-on: ubuntu-latest\n",
    )
    finding = only(ci_weakening(WF, CI, after))
    assert "job `docs` now grants the token write access to `pages`" in finding.message


def test_pull_request_target_added() -> None:
    after = edit(CI, "  pull_request:\n", "  pull_request_target:\n")
    findings = ci_weakening(WF, CI, after)
    assert [f.severity for f in findings] == [Severity.HIGH, Severity.MEDIUM]
    assert "now triggers on `pull_request_target`" in findings[0].message
    assert findings[0].line == line_of(after, "pull_request_target")
    assert "no longer triggers on `pull_request`, so its checks no longer run for pull requests" in findings[1].message


def test_pull_request_trigger_removed() -> None:
    after = edit(CI, '  pull_request:\n    paths-ignore:\n      - "docs/**"\n', "  workflow_dispatch:\n")
    finding = only(ci_weakening(WF, CI, after))
    assert finding.severity is Severity.MEDIUM
    assert finding.message.endswith(
        "no longer triggers on `pull_request`, so its checks no longer run for pull requests"
    )
    assert finding.line == line_of(after, "on:")


def test_paths_ignore_broadened() -> None:
    after = edit(CI, '      - "docs/**"\n', '      - "docs/**"\n      - "src/**"\n')
    finding = only(ci_weakening(WF, CI, after))
    assert finding.severity is Severity.MEDIUM
    assert "`on.pull_request.paths-ignore` now also ignores `src/**`" in finding.message
    assert finding.line == line_of(after, "paths-ignore")


def test_pull_request_types_that_skip_new_commits() -> None:
    after = edit(CI, "  pull_request:\n", "  pull_request:\n    types: [opened]\n")
    finding = only(ci_weakening(WF, CI, after))
    assert "no longer includes `synchronize` and `reopened`" in finding.message


def test_deploy_loses_its_need_on_tests() -> None:
    after = edit(CI, "    needs: [lint, test]\n", "    needs: [lint]\n")
    finding = only(ci_weakening(WF, CI, after))
    assert finding.severity is Severity.MEDIUM
    assert finding.message.endswith("job `release` no longer needs `test`, so it can run even when tests fail")
    assert finding.line == line_of(after, "needs: [lint]")


def test_deploy_still_needs_tests_through_another_job() -> None:
    before = edit(
        CI, "  docs:\n    runs-on: ubuntu-latest\n", "  docs:\n    needs: [test]\n    runs-on: ubuntu-latest\n"
    )
    after = edit(before, "    needs: [lint, test]\n", "    needs: [lint, docs]\n")
    assert ci_weakening(WF, before, after) == []


# --- GitHub Actions: benign changes stay quiet ------------------------------------------------

BENIGN = {
    "rename a step": ("      - name: pytest\n", "      - name: Run the test suite\n"),
    "bump an action": ("aquasecurity/trivy-action@0.28.0", "aquasecurity/trivy-action@0.29.0"),
    "bump checkout everywhere": ("actions/checkout@v4", "actions/checkout@v5"),
    "add a new test job": (
        "  docs:\n",
        "  integration:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v4\n"
        "      - run: pytest tests/integration\n  docs:\n",
    ),
    "add a matrix entry": ('python: ["3.11", "3.12"]', 'python: ["3.11", "3.12", "3.13"]'),
    "run pytest through python -m": (
        "          pytest -q --cov=ringfence\n",
        "          python -m pytest -q --cov=ringfence\n",
    ),
    "rename a job and its needs": ("  test:\n", "  tests:\n"),
    "tighten permissions": ("permissions:\n  contents: read\n", "permissions: {}\n"),
    "remove a non-check step": ("      - name: Upload coverage\n        uses: codecov/codecov-action@v4\n", ""),
    "add comments and reformat": ("  pull_request:\n", "  # run on every PR\n  pull_request:\n"),
    "push filter narrowed while PRs still run": (
        "    branches: [main]\n",
        "    branches: [main]\n    paths: [src/**]\n",
    ),
    "add a step": (
        "      - name: ruff\n",
        "      - name: ruff format\n        run: ruff format --check .\n      - name: ruff\n",
    ),
    "narrower paths-ignore": ('    paths-ignore:\n      - "docs/**"\n', ""),
    "merge two lint steps into one": (
        "      - name: ruff\n        run: ruff check src tests\n      - name: mypy\n        run: mypy src\n",
        "      - name: lint\n        run: ruff check src tests && mypy src\n",
    ),
    "swap pytest for tox": ("          pytest -q --cov=ringfence\n", "          tox -e py\n"),
    "set +e that still propagates the status": (
        "          pytest -q --cov=ringfence\n",
        "          set +e\n          pytest -q --cov=ringfence\n          rc=$?\n          exit $rc\n",
    ),
    "pin an action to a sha": ("actions/checkout@v4", "actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683"),
    "gate the release on pushes only": (
        "    if: github.ref == 'refs/heads/main'\n",
        "    if: github.event_name == 'push'\n",
    ),
}


@pytest.mark.parametrize("change", sorted(BENIGN))
def test_benign_github_changes_are_quiet(change: str) -> None:
    old, new = BENIGN[change]
    after = edit(CI, old, new, count=-1)
    if change == "rename a job and its needs":
        after = after.replace("needs: [lint, test]", "needs: [lint, tests]")
    assert ci_weakening(WF, CI, after) == []


def test_removing_a_job_that_never_ran_is_quiet() -> None:
    before = edit(CI, "  scan:\n    runs-on: ubuntu-latest\n", "  scan:\n    if: false\n    runs-on: ubuntu-latest\n")
    after = edit(before, before[before.index("  scan:\n") : before.index("  docs:\n")], "")
    assert ci_weakening(WF, before, after) == []
    assert "job `scan` was removed" in only(ci_weakening(WF, CI, after)).message


def test_removing_continue_on_error_is_quiet() -> None:
    before = edit(
        CI,
        "      - run: mkdocs build --strict\n",
        "      - run: mkdocs build --strict\n        continue-on-error: true\n",
    )
    assert ci_weakening(WF, before, CI) == []
    assert len(ci_weakening(WF, CI, before)) == 1


def test_scanner_action_step_removed() -> None:
    after = edit(
        CI,
        CI[CI.index("      - name: trivy\n") : CI.index("  docs:\n")],
        "",
    )
    finding = only(ci_weakening(WF, CI, after))
    assert finding.severity is Severity.HIGH
    assert finding.message.endswith("job `scan` step `trivy` was removed, so security scans no longer run")


def test_moving_a_check_into_a_new_job_is_quiet() -> None:
    after = edit(CI, "      - name: mypy\n        run: mypy src\n", "")
    after = edit(
        after,
        "  test:\n",
        "  typecheck:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v4\n"
        "      - run: mypy src\n  test:\n",
    )
    assert ci_weakening(WF, CI, after) == []


def test_moving_a_check_into_a_disabled_job_is_not_quiet() -> None:
    after = edit(CI, "      - name: mypy\n        run: mypy src\n", "")
    after = edit(
        after,
        "  test:\n",
        "  typecheck:\n    if: false\n    runs-on: ubuntu-latest\n    steps:\n      - run: mypy src\n  test:\n",
    )
    assert "step `mypy` was removed" in only(ci_weakening(WF, CI, after)).message


def test_flow_style_triggers_equal_block_style() -> None:
    before = "on: [push, pull_request]\njobs:\n  t:\n    runs-on: x\n    steps:\n      - run: pytest\n"
    after = "on:\n  push:\n  pull_request:\njobs:\n  t:\n    runs-on: x\n    steps:\n      - run: pytest\n"
    assert ci_weakening(WF, before, after) == []


# --- parse failures, deletion, new files ------------------------------------------------------


def test_unparseable_workflow_is_a_finding() -> None:
    after = edit(CI, "    runs-on: ubuntu-latest\n", "    runs-on: [ubuntu-latest\n")
    finding = only(ci_weakening(WF, CI, after))
    assert finding.kind == "ci.weakened" and finding.severity is Severity.MEDIUM
    assert "does not parse as YAML" in finding.message and finding.message.endswith("so the pipeline may not run")
    assert finding.line is not None and finding.line > 1


def test_workflow_that_is_not_a_mapping() -> None:
    assert "is not a mapping" in only(ci_weakening(WF, CI, "- just\n- a list\n")).message


def test_deleted_workflow() -> None:
    finding = only(ci_weakening(WF, CI, None))
    assert finding.kind == "ci.deleted" and finding.severity is Severity.HIGH
    assert finding.message == (
        ".github/workflows/ci.yml: CI configuration deleted, "
        "so the tests, lint checks, type checks and security scans it ran no longer run"
    )
    assert finding.line is None


def test_new_workflow_is_quiet_unless_dangerous() -> None:
    assert ci_weakening(".github/workflows/new.yml", None, CI) == []
    risky = edit(CI, "  pull_request:\n", "  pull_request_target:\n")
    finding = only(ci_weakening(".github/workflows/new.yml", None, risky))
    assert finding.severity is Severity.HIGH and "pull_request_target" in finding.message
    assert ci_weakening(WF, None, None) == [] and ci_weakening(WF, CI, CI) == []


def test_previously_broken_file_gives_nothing_to_compare() -> None:
    assert ci_weakening(WF, "jobs: [\n", CI) == []


def test_alias_bomb_is_reported_not_expanded() -> None:
    bomb = 'a: &a ["x","x","x","x","x","x","x","x","x"]\n'
    for i in range(1, 9):
        prev = chr(ord("a") + i - 1)
        name = chr(ord("a") + i)
        bomb += f"{name}: &{name} [{','.join('*' + prev for _ in range(9))}]\n"
    finding = only(ci_weakening(WF, CI, bomb))
    assert finding.severity is Severity.MEDIUM and "too many values once aliases are expanded" in finding.message


# --- GitLab CI --------------------------------------------------------------------------------

GL = ".gitlab-ci.yml"

GITLAB = """\
stages: [lint, test, deploy]

include:
  - template: Security/SAST.gitlab-ci.yml
  - local: ci/docs.yml
  - component: $CI_SERVER_FQDN/org/components/secret-detection@1.0.0

variables:
  PIP_CACHE_DIR: .cache/pip

.python:
  image: python:3.11
  before_script:
    - pip install -e .[dev]

.install: &install
  - pip install -e .[dev]

lint:
  extends: .python
  stage: lint
  script:
    - ruff check .
    - mypy src

test:
  extends: .python
  stage: test
  script:
    - !reference [.install]
    - pytest -q
  only:
    - merge_requests
    - main

e2e:
  stage: test
  image: mcr.microsoft.com/playwright:v1.45.0
  script:
    - npx playwright test
  rules:
    - if: $CI_PIPELINE_SOURCE == "merge_request_event"
    - if: $CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH

deploy:
  stage: deploy
  script:
    - ./deploy.sh
  when: manual
"""


def test_gitlab_allow_failure() -> None:
    after = edit(GITLAB, "    - pytest -q\n", "    - pytest -q\n  allow_failure: true\n")
    finding = only(ci_weakening(GL, GITLAB, after))
    assert finding.severity is Severity.HIGH
    assert finding.message == (
        ".gitlab-ci.yml: job `test` now has allow_failure: true, so failing tests no longer fail the pipeline"
    )
    assert finding.line == line_of(after, "allow_failure")


def test_gitlab_allow_failure_in_a_template_reaches_every_job() -> None:
    after = edit(GITLAB, "  image: python:3.11\n", "  image: python:3.11\n  allow_failure: true\n")
    findings = ci_weakening(GL, GITLAB, after)
    assert sorted(f.message.split("`")[1] for f in findings) == ["lint", "test"]
    assert {f.line for f in findings} == {line_of(after, "allow_failure")}


def test_gitlab_job_removed() -> None:
    after = edit(GITLAB, GITLAB[GITLAB.index("e2e:\n") : GITLAB.index("deploy:\n")], "")
    finding = only(ci_weakening(GL, GITLAB, after))
    assert finding.severity is Severity.HIGH
    assert finding.message == ".gitlab-ci.yml: job `e2e` was removed, so tests no longer run"


def test_gitlab_script_or_true() -> None:
    after = edit(GITLAB, "    - pytest -q\n", "    - pytest -q || true\n")
    finding = only(ci_weakening(GL, GITLAB, after))
    assert finding.severity is Severity.HIGH
    assert finding.message.endswith("job `test` now uses `|| true`, so failing tests no longer fail the build")
    assert finding.line == line_of(after, "|| true")


def test_gitlab_script_no_longer_runs_a_check() -> None:
    after = edit(GITLAB, "    - mypy src\n", "")
    finding = only(ci_weakening(GL, GITLAB, after))
    assert "job `lint` no longer runs `mypy`, so type checks no longer run" in finding.message


@pytest.mark.parametrize(("when", "words"), [("manual", "only run if someone starts them"), ("never", "it never runs")])
def test_gitlab_when_added_to_a_test_job(when: str, words: str) -> None:
    after = edit(
        GITLAB,
        "  stage: test\n  script:\n    - !reference",
        f"  stage: test\n  when: {when}\n  script:\n    - !reference",
    )
    finding = only(ci_weakening(GL, GITLAB, after))
    assert finding.severity is Severity.HIGH and f"job `test` now has when: {when}" in finding.message
    assert words in finding.message and finding.line == line_of(after, f"when: {when}")


def test_gitlab_rules_when_never() -> None:
    after = edit(GITLAB, "  rules:\n    - if:", "  rules:\n    - when: never\n    - if:")
    finding = only(ci_weakening(GL, GITLAB, after))
    assert finding.severity is Severity.HIGH
    assert "job `e2e` now has `rules:` that always end in `when: never`, so it never runs" in finding.message


def test_gitlab_rules_skip_merge_requests() -> None:
    after = edit(
        GITLAB,
        '$CI_PIPELINE_SOURCE == "merge_request_event"\n',
        '$CI_PIPELINE_SOURCE == "merge_request_event"\n      when: never\n',
    )
    finding = only(ci_weakening(GL, GITLAB, after))
    assert finding.severity is Severity.HIGH
    assert "with `when: never`, so tests are skipped when it holds" in finding.message
    assert finding.line == line_of(after, "merge_request_event")


def test_gitlab_only_no_longer_runs_for_merge_requests() -> None:
    after = edit(GITLAB, "    - merge_requests\n", "")
    finding = only(ci_weakening(GL, GITLAB, after))
    assert finding.severity is Severity.MEDIUM
    assert "`only:` no longer includes `merge_requests`, so it no longer runs for merge requests" in finding.message
    assert finding.line == line_of(after, "only:")


def test_gitlab_except_merge_requests() -> None:
    after = edit(GITLAB, "    - mypy src\n", "    - mypy src\n  except: [merge_requests]\n")
    finding = only(ci_weakening(GL, GITLAB, after))
    assert finding.severity is Severity.MEDIUM
    assert "job `lint` `except:` now includes `merge_requests`" in finding.message
    assert finding.line == line_of(after, "except:")


def test_gitlab_security_include_and_scanner_variables() -> None:
    after = edit(GITLAB, "  - template: Security/SAST.gitlab-ci.yml\n", "")
    finding = only(ci_weakening(GL, GITLAB, after))
    assert finding.severity is Severity.HIGH and "no longer includes `Security/SAST.gitlab-ci.yml`" in finding.message
    after = edit(GITLAB, "  PIP_CACHE_DIR: .cache/pip\n", '  PIP_CACHE_DIR: .cache/pip\n  SAST_DISABLED: "true"\n')
    finding = only(ci_weakening(GL, GITLAB, after))
    assert finding.severity is Severity.HIGH and "SAST_DISABLED" in finding.message
    assert finding.line == line_of(after, "SAST_DISABLED")


GITLAB_BENIGN = {
    "bump the image": ("image: python:3.11", "image: python:3.12"),
    "rename a job": ("lint:\n", "static-checks:\n"),
    "add a job": ("deploy:\n", "docs:\n  stage: test\n  script:\n    - mkdocs build --strict\n\ndeploy:\n"),
    "add a variable": ("  PIP_CACHE_DIR: .cache/pip\n", "  PIP_CACHE_DIR: .cache/pip\n  FORCE_COLOR: '1'\n"),
    "more verbose tests": ("    - pytest -q\n", "    - pytest -vv --durations=10\n"),
    "manual gate on deploy kept": ("    - ./deploy.sh\n", "    - ./deploy.sh --prod\n"),
    "skip e2e on schedules for the default branch": ("    - if: $CI_COMMIT_BRANCH", "    - if: $CI_COMMIT_BRANCH"),
    "version bump of an include": (
        "  - local: ci/docs.yml\n",
        "  - local: ci/docs.yml\n  - template: Jobs/Code-Quality.gitlab-ci.yml\n",
    ),
}


@pytest.mark.parametrize("change", sorted(GITLAB_BENIGN))
def test_benign_gitlab_changes_are_quiet(change: str) -> None:
    old, new = GITLAB_BENIGN[change]
    assert ci_weakening(GL, GITLAB, edit(GITLAB, old, new)) == []


def test_gitlab_spec_header_and_included_file() -> None:
    before = (
        "spec:\n  inputs:\n    stage:\n      default: test\n---\n"
        "unit:\n  stage: $[[ inputs.stage ]]\n  script: [go test ./...]\n"
    )
    after = before.replace("script: [go test ./...]", "script: [go test ./... || true]")
    finding = only(ci_weakening("templates/go.gitlab-ci.yml", before, after))
    assert "job `unit` now uses `|| true`" in finding.message and finding.line == 8


# --- other CI systems -------------------------------------------------------------------------

JENKINSFILE = """\
pipeline {
  agent any
  stages {
    stage('Test') {
      steps {
        sh 'mvn -B test'
      }
    }
  }
}
"""


def test_jenkinsfile_no_op_added() -> None:
    after = edit(JENKINSFILE, "sh 'mvn -B test'", "sh 'mvn -B test || true'")
    finding = only(ci_weakening("Jenkinsfile", JENKINSFILE, after))
    assert finding.message == "Jenkinsfile: now uses `|| true`, so its failures no longer fail the build"
    assert finding.line == 6
    assert ci_weakening("Jenkinsfile", JENKINSFILE, edit(JENKINSFILE, "agent any", "agent { label 'linux' }")) == []


AZURE = """\
trigger: [main]
pool:
  vmImage: ubuntu-latest
steps:
  - script: pip install -e .[dev]
    displayName: Install
  - script: pytest -q
    displayName: Test
  - script: bandit -r src
    displayName: Security
"""


def test_azure_continue_on_error_and_removed_scans() -> None:
    after = edit(AZURE, "    displayName: Test\n", "    displayName: Test\n    continueOnError: true\n")
    finding = only(ci_weakening("azure-pipelines.yml", AZURE, after))
    assert (
        finding.severity is Severity.HIGH and "`continueOnError` now tolerates failure at `steps.1`" in finding.message
    )
    assert finding.line == line_of(after, "continueOnError")
    after = edit(AZURE, "  - script: bandit -r src\n    displayName: Security\n", "")
    finding = only(ci_weakening("azure-pipelines.yml", AZURE, after))
    assert finding.message == "azure-pipelines.yml: no longer runs security scans anywhere in this file"
    inserted = edit(AZURE, "steps:\n", "steps:\n  - checkout: self\n")
    assert ci_weakening("azure-pipelines.yml", AZURE, inserted) == []


def test_circleci_unparseable_and_deleted() -> None:
    path = ".circleci/config.yml"
    before = (
        "version: 2.1\njobs:\n  test:\n    docker: [{image: cimg/python:3.11}]\n    steps: [checkout, {run: pytest}]\n"
    )
    assert "does not parse" in only(ci_weakening(path, before, before + "  bad: [\n")).message
    deleted = only(ci_weakening(path, before, None))
    assert deleted.kind == "ci.deleted" and deleted.message.endswith("so the tests it ran no longer run")
