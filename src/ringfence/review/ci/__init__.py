"""How a change weakens CI: parse a CI file before and after, compare the structures.

:func:`ci_weakening` never runs anything and never greps blindly: GitHub Actions workflows
and GitLab CI files are parsed as YAML and compared job by job and step by step (steps are
paired by id, content, action, name and the checks they run, so renaming a step or bumping
an action is quiet); other YAML CI files get a conservative structural comparison and
non-YAML ones (``Jenkinsfile``) line-level checks for shell no-op patterns. A finding is
``ci.weakened`` (``ci.deleted`` for a deleted file), high when tests, lint, type checks or
security scans stop running or stop failing the build, or when the token or triggers
become more dangerous, medium otherwise. Lines point into the *after* text.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from ringfence.review.ci.commands import categories, nouns, shell_tools
from ringfence.review.ci.generic import all_text, compare, text_noise
from ringfence.review.ci.github import GitHub
from ringfence.review.ci.gitlab import GitLab
from ringfence.review.ci.report import DELETED, HIGH, MEDIUM, WEAKENED, Report
from ringfence.review.ci.yamldoc import MAX_NODES, PARSE_ERRORS, Doc, expanded_size
from ringfence.review.findings import Finding

__all__ = ["DELETED", "WEAKENED", "ci_weakening", "is_ci_config"]

# --- which files are CI configuration ---------------------------------------------------------

_GITHUB = re.compile(r"^\.(?:github|gitea|forgejo)/workflows/[^/]+\.ya?ml$")
_GITLAB = re.compile(r"(?:^|/|\.)gitlab-ci\.ya?ml$|^\.gitlab/ci/.+\.ya?ml$")
_OTHER_YAML = re.compile(
    r"^\.circleci/config\.ya?ml$|(?:^|/)azure-pipelines[^/]*\.ya?ml$|^\.azure-pipelines/.+\.ya?ml$"
    r"|^\.buildkite/.+\.ya?ml$|(?:^|/)bitbucket-pipelines\.ya?ml$|^\.travis\.ya?ml$|^\.drone\.ya?ml$"
    r"|^\.woodpecker(?:\.ya?ml|/.+\.ya?ml)$|^\.?appveyor\.ya?ml$|(?:^|/)cloudbuild\.ya?ml$|^\.cirrus\.ya?ml$"
)
_OTHER_TEXT = re.compile(r"(?:^|/)(?:[^/]*\.)?Jenkinsfile(?:\.[^/]*)?$|^\.buildkite/.+$", re.IGNORECASE)


def _dialect(path: str) -> str | None:
    """Which comparison ``path`` gets: ``github``, ``gitlab``, ``yaml``, ``text``, or None (not CI)."""
    p = path.replace("\\", "/").removeprefix("./").lstrip("/")
    for name, regex in (("github", _GITHUB), ("gitlab", _GITLAB), ("yaml", _OTHER_YAML), ("text", _OTHER_TEXT)):
        if regex.search(p):
            return name
    return None


def is_ci_config(path: str) -> bool:
    """Whether ``path`` (relative to the repository root) is a CI configuration file this module reads."""
    return _dialect(path) is not None


# --- entry point ------------------------------------------------------------------------------


def _unparsable(path: str, exc: BaseException) -> Finding:
    """The finding for an after text that does not parse, at the line YAML reports."""
    mark = getattr(exc, "problem_mark", None)
    reason = getattr(exc, "problem", None) or type(exc).__name__
    message = f"{path}: does not parse as YAML ({reason}), so the pipeline may not run"
    return Finding(WEAKENED, MEDIUM, message, path, mark.line + 1 if mark is not None else None, str(exc)[:300])


def _deleted(path: str, before: str, dialect: str) -> Finding:
    """The ``ci.deleted`` finding, naming the checks the file ran."""
    try:
        text = before if dialect == "text" else all_text(Doc.parse(before).data)
    except PARSE_ERRORS:
        text = before
    cats = categories(shell_tools(text))
    consequence = f"the {nouns(cats)} it ran no longer run" if cats else "the pipeline it defined no longer runs"
    return Finding(DELETED, HIGH, f"{path}: CI configuration deleted, so {consequence}", path)


def ci_weakening(path: str, before: str | None, after: str | None) -> list[Finding]:
    """Findings on how changing CI file ``path`` from ``before`` to ``after`` weakens CI (``None``: no file)."""
    dialect = _dialect(path)
    if dialect is None or before == after or (before is None and after is None):
        return []
    if after is None:
        return [_deleted(path, before or "", dialect)]
    if dialect == "text":
        out = Report(path, Doc(None, None, tuple(after.splitlines())))
        if before is not None:
            text_noise(out, before, after, [])
        return out.findings
    try:
        new = Doc.parse(after)
    except PARSE_ERRORS as exc:
        return [_unparsable(path, exc)]
    if expanded_size(new.data, MAX_NODES) >= MAX_NODES:
        message = f"{path}: holds too many values once aliases are expanded, so it was not reviewed"
        return [Finding(WEAKENED, MEDIUM, message, path)]
    if dialect in ("github", "gitlab") and new.data is not None and not isinstance(new.data, Mapping):
        message = f"{path}: is not a mapping of CI configuration, so the pipeline may not run"
        return [Finding(WEAKENED, MEDIUM, message, path, 1)]
    try:
        old = Doc.parse(before).data if before is not None else None
        if expanded_size(old, MAX_NODES) >= MAX_NODES:
            return []
    except PARSE_ERRORS:
        return []  # it did not parse before either: there is nothing to compare against
    out = Report(path, new)
    try:
        if dialect == "github":
            GitHub(out, old, new.data).run(before is None)
        elif dialect == "gitlab":
            GitLab(out, old, new.data).run(before is None)
        elif before is not None:
            compare(out, old, new.data)
    except RecursionError:
        out.add(MEDIUM, "is nested too deeply to compare, so it was not reviewed", None)
    return out.findings
