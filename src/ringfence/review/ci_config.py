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
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml

from ringfence.review.findings import Finding, Severity

__all__ = ["DELETED", "WEAKENED", "ci_weakening", "is_ci_config"]

WEAKENED = "ci.weakened"
DELETED = "ci.deleted"
HIGH, MEDIUM = Severity.HIGH, Severity.MEDIUM
_MAX_NODES = 200_000
_MAX_STEPS = 500

Key = str | int
Where = tuple[Key, ...]
Tool = tuple[str, str]  # (category, name)

# --- which files are CI configuration ------------------------------------------------------

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


# --- parsing, with line numbers ---------------------------------------------------------------


@dataclass(frozen=True)
class _Ref:
    """A GitLab ``!reference [job, key]`` tag, resolved when scripts and rules are read."""

    path: tuple[object, ...]


def _construct_tag(loader: Any, suffix: str, node: yaml.Node) -> object:
    """Any local tag (GitLab's ``!reference``, a vendor's ``!Ref``) is read as its plain value."""
    if isinstance(node, yaml.ScalarNode):
        return loader.construct_scalar(node)
    if isinstance(node, yaml.SequenceNode):
        items = loader.construct_sequence(node, deep=True)
        return _Ref(tuple(items)) if suffix == "reference" else items
    return loader.construct_mapping(node, deep=True)


_LOADER: Any = type("_CiLoader", (getattr(yaml, "CSafeLoader", yaml.SafeLoader),), {})
_LOADER.add_multi_constructor("!", _construct_tag)
_PARSE_ERRORS = (yaml.YAMLError, ValueError, TypeError, RecursionError)


@dataclass(frozen=True)
class _Doc:
    """A parsed CI file: its data, its node tree (for line numbers) and its lines."""

    data: Any
    root: yaml.Node | None
    lines: tuple[str, ...]

    @classmethod
    def parse(cls, text: str) -> _Doc:
        loader = _LOADER(text)
        try:
            nodes: list[yaml.Node] = []
            while loader.check_node():
                nodes.append(loader.get_node())
            docs = [loader.construct_document(n) for n in nodes]
        finally:
            loader.dispose()
        if len(docs) == 2 and isinstance(docs[0], Mapping) and "spec" in docs[0]:  # a GitLab `spec:` header
            docs, nodes = docs[1:], nodes[1:]
        if len(nodes) <= 1:
            return cls(docs[0] if docs else None, nodes[0] if nodes else None, tuple(text.splitlines()))
        seq = yaml.SequenceNode("tag:yaml.org,2002:seq", nodes, nodes[0].start_mark, nodes[-1].end_mark)
        return cls(docs, seq, tuple(text.splitlines()))

    def _walk(self, where: Where) -> tuple[yaml.Node | None, yaml.Node | None, bool]:
        mark: yaml.Node | None = None
        node = self.root
        for key in where:
            child = _child(node, key)
            if child is None:
                return mark, node, False
            mark, node = child
        return mark, node, True

    def line(self, where: Where) -> int | None:
        mark = self._walk(where)[0]
        return mark.start_mark.line + 1 if mark is not None else None

    def find(self, where: Where, pattern: re.Pattern[str]) -> int | None:
        _, node, complete = self._walk(where)
        if node is None or not complete:
            return None
        end = node.end_mark.line + (1 if node.end_mark.column else 0)
        for number in range(node.start_mark.line, min(max(end, node.start_mark.line + 1), len(self.lines))):
            if pattern.search(self.lines[number]):
                return number + 1
        return None


def _child(node: yaml.Node | None, key: Key) -> tuple[yaml.Node, yaml.Node] | None:
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            if isinstance(k, yaml.ScalarNode) and k.value == str(key):
                return k, v
    if isinstance(node, yaml.SequenceNode) and isinstance(key, int) and 0 <= key < len(node.value):
        item: yaml.Node = node.value[key]
        return item, item
    return None


def _expanded_size(data: Any, cap: int) -> int:
    """How many values ``data`` holds with aliases expanded, counting at most to ``cap``."""
    count, stack = 0, [data]
    while stack and count < cap:
        value = stack.pop()
        count += 1
        if isinstance(value, Mapping):
            stack.extend(value.values())
        elif isinstance(value, list | tuple):
            stack.extend(value)
        elif isinstance(value, _Ref):
            stack.extend(value.path)
    return count


# --- small helpers on parsed values -----------------------------------------------------------


def _map(value: Any) -> dict[str, Any]:
    return {str(k): v for k, v in value.items()} if isinstance(value, Mapping) else {}


def _strs(value: Any) -> list[str]:
    if isinstance(value, str | int | float):
        return [str(value)]
    return [str(v) for v in value if isinstance(v, str | int | float)] if isinstance(value, list) else []


def _expr(value: str) -> str:
    s = value.strip()
    return s[3:-2].strip() if s.startswith("${{") and s.endswith("}}") else s


def _true(value: Any) -> bool:
    """A constant true (``true``, ``"true"``, ``${{ true }}``); expressions are not guessed at."""
    if isinstance(value, bool | int) and not isinstance(value, str):
        return bool(value)
    return isinstance(value, str) and _expr(value).lower() in ("true", "1", "yes")


_FALSE = frozenset({"false", "0", "!true", "! true", "(false)"})


def _never(value: Any) -> bool:
    """An ``if:``/``condition:`` that is constant false (``false``, ``0``, ``${{ false }}``, ``false && x``)."""
    if isinstance(value, bool):
        return not value
    if isinstance(value, int | float):
        return value == 0
    if not isinstance(value, str) or not value.strip():
        return False
    s = _expr(value).lower()
    if "(" in s and s != "(false)":
        return False
    return all(any(c.strip() in _FALSE for c in d.split("&&")) for d in s.split("||"))


def _join(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def _codes(words: list[str]) -> str:
    return _join([f"`{w}`" for w in words])


# --- what a command checks -------------------------------------------------------------------

_SHELL_TOOLS: tuple[tuple[str, str, str], ...] = (
    ("tests", "pytest", r"\bpy\.?test\b"),
    ("tests", "unittest", r"-m\s+unittest\b"),
    ("tests", "tox", r"(?<![\w-])tox\b"),
    ("tests", "nox", r"(?<![\w-])nox\b"),
    ("tests", "npm test", r"\b(?:npm|pnpm|yarn|bun)\s+(?:run\s+)?test(?!\w)"),
    ("tests", "jest", r"\b(?:jest|vitest|mocha|karma|jasmine)\b"),
    ("tests", "playwright", r"\bplaywright\s+test\b|\bcypress\s+run\b"),
    ("tests", "go test", r"\bgo\s+test\b|\bgotestsum\b"),
    ("tests", "cargo test", r"\bcargo\s+(?:test|nextest)\b"),
    ("tests", "mvn test", r"\bmvnw?\b.*\b(?:test|verify|install|package)\b"),
    ("tests", "gradle test", r"\bgradlew?\b.*\b(?:test|check|build)\b"),
    ("tests", "make test", r"\bmake\b.*\b(?:tests?|check|verify)\b"),
    ("tests", "dotnet test", r"\bdotnet\s+test\b"),
    ("tests", "ctest", r"\bctest\b"),
    ("tests", "phpunit", r"\b(?:phpunit|pest)\b"),
    ("tests", "rspec", r"\brspec\b|\brake\s+(?:test|spec)\b"),
    ("tests", "mix test", r"\b(?:mix|swift)\s+test\b"),
    ("lint", "make lint", r"\bmake\b.*\blint\b"),
    ("lint", "ruff", r"\bruff\b"),
    ("lint", "flake8", r"\bflake8\b"),
    ("lint", "pylint", r"\bpylint\b"),
    ("lint", "black", r"\bblack\b.*--check\b"),
    ("lint", "isort", r"\bisort\b"),
    ("lint", "eslint", r"\beslint\b"),
    ("lint", "prettier", r"\bprettier\b.*--check\b"),
    ("lint", "golangci-lint", r"\bgolangci-lint\b"),
    ("lint", "go vet", r"\bgo\s+vet\b"),
    ("lint", "clippy", r"\bcargo\s+(?:clippy|fmt)\b"),
    ("lint", "shellcheck", r"\bshellcheck\b"),
    ("lint", "rubocop", r"\brubocop\b"),
    ("lint", "pre-commit", r"\bpre-commit\s+run\b"),
    ("lint", "hadolint", r"\b(?:hadolint|actionlint|yamllint|stylelint|tflint)\b"),
    ("lint", "npm run lint", r"\b(?:npm|pnpm|yarn|bun)\s+(?:run\s+)?lint(?!\w)"),
    ("types", "mypy", r"\bmypy\b"),
    ("types", "pyright", r"\b(?:based)?pyright\b|\bpytype\b"),
    ("types", "tsc", r"\b(?:vue-)?tsc\b"),
    ("types", "npm run typecheck", r"\b(?:npm|pnpm|yarn|bun)\s+(?:run\s+)?(?:typecheck|type-check)(?!\w)"),
    ("security", "codeql", r"\bcodeql\b"),
    ("security", "semgrep", r"\bsemgrep\b"),
    ("security", "trivy", r"\btrivy\b"),
    ("security", "bandit", r"\bbandit\b"),
    ("security", "snyk", r"\bsnyk\b"),
    ("security", "gitleaks", r"\b(?:gitleaks|trufflehog)\b"),
    ("security", "npm audit", r"\b(?:npm|yarn|pnpm)\s+audit\b|\bpip-audit\b|\bsafety\s+(?:check|scan)\b"),
    ("security", "gosec", r"\b(?:gosec|govulncheck)\b|\bcargo\s+(?:audit|deny)\b"),
    ("security", "grype", r"\b(?:grype|checkov|tfsec|osv-scanner|zizmor)\b"),
)
_SHELL_RES = tuple((cat, name, re.compile(rx)) for cat, name, rx in _SHELL_TOOLS)
_ACTION_TOOLS = tuple(
    (cat, re.compile(rx, re.IGNORECASE))
    for cat, rx in (
        ("security", r"codeql-action|semgrep|^aquasecurity/|^snyk/|gitleaks|trufflehog|trufflesecurity"),
        (
            "security",
            r"dependency-review-action|scorecard-action|^anchore/scan-action|checkov|zizmor|pip-audit|osv-scanner",
        ),
        (
            "lint",
            r"golangci-lint-action|super-linter|^pre-commit/action|ruff-action|^reviewdog/|lint-action|^psf/black",
        ),
        ("lint", r"actionlint|shellcheck|hadolint|markdownlint"),
        ("tests", r"^cypress-io/github-action"),
    )
)
_INSTALL = re.compile(
    r"^(?:sudo\s+)?(?:(?:python3?|py)\s+-m\s+)?(?:echo|printf|cd|export|pip3?|uv\s+(?:pip|tool|add|sync)|pipx|"
    r"npm\s+(?:install|i|ci|add)|yarn\s+(?:add|install)|pnpm\s+(?:add|install|i)|bun\s+(?:add|install)|"
    r"apt(?:-get)?|brew|go\s+(?:install|get)|cargo\s+(?:install|binstall)|gem\s+install|poetry\s+(?:add|install)|"
    r"conda|mamba|choco|apk|dnf|yum|curl|wget)\b"
)
_COMMENT = re.compile(r"(?:^|\s)(?:#|//).*$")
_NOUN = {"tests": "tests", "lint": "lint checks", "types": "type checks", "security": "security scans"}
_FAILING = {"tests": "failing tests", "lint": "lint errors", "types": "type errors", "security": "security findings"}
_NAME_CATS = tuple(
    (cat, re.compile(rx))
    for cat, rx in (
        ("tests", r"(?<![a-z])(?:py)?tests?|(?<![a-z])(?:spec|e2e|unit|integration)(?![a-z])"),
        ("lint", r"lint|(?<![a-z])(?:format|style)(?![a-z])"),
        ("types", r"type-?check|mypy|pyright|(?<![a-z])types(?![a-z])"),
        ("security", r"secur|(?<![a-z])scan|codeql|sast|audit|vuln|secret"),
    )
)


def _code_lines(text: str) -> list[str]:
    return [c for c in (_COMMENT.sub("", line).strip() for line in text.splitlines()) if c]


def _shell_tools(text: str) -> frozenset[Tool]:
    """The checks a shell script runs, per command (comments, ``echo`` and installers left out)."""
    found: set[Tool] = set()
    for line in _code_lines(text):
        for seg in re.split(r"&&|\|\||;|\|", line):
            seg = seg.strip().lstrip("({").strip()
            if seg and not _INSTALL.match(seg):
                found.update((cat, name) for cat, name, rx in _SHELL_RES if rx.search(seg))
    return frozenset(found)


def _uses(step: Mapping[str, Any]) -> str:
    uses = step.get("uses")
    return uses.split("@", 1)[0].strip().lower() if isinstance(uses, str) else ""


def _run(step: Mapping[str, Any]) -> str:
    run = step.get("run")
    return " ".join(run.split()) if isinstance(run, str) else ""


def _step_tools(step: Mapping[str, Any]) -> frozenset[Tool]:
    """The checks a workflow step runs, from its ``run`` script and its ``uses`` action."""
    uses = _uses(step)
    found = {(cat, uses) for cat, rx in _ACTION_TOOLS if uses and rx.search(uses)}
    run = step.get("run")
    return frozenset(found) | (_shell_tools(run) if isinstance(run, str) else frozenset())


def _cats(tools: frozenset[Tool] | set[Tool]) -> list[str]:
    present = {cat for cat, _ in tools}
    return [c for c in _NOUN if c in present]


def _name_cats(name: str) -> set[str]:
    return {cat for cat, rx in _NAME_CATS if rx.search(name.lower())}


def _nouns(cats: list[str]) -> str:
    return _join([_NOUN[c] for c in cats])


def _failing(cats: list[str]) -> str:
    return _join([_FAILING[c] for c in cats]) if cats else "its failures"


# --- shell no-op patterns --------------------------------------------------------------------


@dataclass(frozen=True)
class _Noise:
    label: str
    regex: re.Pattern[str]
    effect: str  # "fail": failures stop failing; "skip": tests are skipped; "hooks": hooks are skipped


_NOISES = tuple(
    _Noise(label, re.compile(rx, re.MULTILINE), effect)
    for label, rx, effect in (
        ("|| true", r"\|\|[ \t]*true\b", "fail"),
        ("|| :", r"\|\|[ \t]*:(?![\w:])", "fail"),
        ("|| exit 0", r"\|\|[ \t]*exit[ \t]+0\b", "fail"),
        ("|| echo", r"\|\|[ \t]*echo\b", "fail"),
        ("; exit 0", r";[ \t]*exit[ \t]+0\b", "fail"),
        ("exit 0", r"^[ \t]*exit[ \t]+0[ \t]*$(?=\s*\S)", "skip"),
        ("set +e", r"\bset[ \t]+\+e\b|\bset[ \t]+\+o[ \t]+errexit\b", "fail"),
        ("--continue-on-collection-errors", r"--continue-on-collection-errors\b", "fail"),
        ("--passWithNoTests", r"--passWithNoTests\b(?!=false)", "fail"),
        ("--exit-zero", r"--exit-zero\b", "fail"),
        ("--soft-fail", r"--soft-fail\b(?!=false)", "fail"),
        ("--exit-code 0", r"--exit-code[ =]0\b", "fail"),
        ("-DskipTests", r"-DskipTests(?:=true)?(?![=\w])", "skip"),
        ("-Dmaven.test.skip=true", r"-Dmaven\.test\.skip(?:=true)?(?![=\w.])", "skip"),
        ("--skip-tests", r"--skip-tests\b", "skip"),
        ("-x test", r"(?:^|\s)(?:-x|--exclude-task)[ \t]+test\b", "skip"),
        ("--no-verify", r"--no-verify\b", "hooks"),
    )
)


_PROPAGATES = re.compile(r"\bexit[ \t]+\"?\$")


def _noise_counts(text: str) -> dict[str, int]:
    """How often each no-op pattern occurs in the code (not the comments) of ``text``."""
    code = "\n".join(_code_lines(text))
    counts = {n.label: len(n.regex.findall(code)) for n in _NOISES}
    if _PROPAGATES.search(code):  # `set +e; pytest; rc=$?; …; exit $rc` still fails
        counts["set +e"] = 0
    return counts


def _gained_noise(before: str, after: str) -> list[_Noise]:
    old, new = _noise_counts(before), _noise_counts(after)
    return [n for n in _NOISES if new[n.label] > old[n.label]]


def _noisy(text: str) -> bool:
    return any(_noise_counts(text).values())


def _consequence(noise: _Noise, cats: list[str]) -> str:
    if noise.effect == "skip":
        return "the commands after it are skipped" if noise.label == "exit 0" else "tests are skipped"
    if noise.effect == "hooks":
        return "git hooks are skipped"
    return f"{_failing(cats)} no longer fail the build"


# --- collecting findings ----------------------------------------------------------------------


@dataclass
class _Out:
    """Findings for one file, located in its after text."""

    path: str
    doc: _Doc
    findings: list[Finding] = field(default_factory=list)

    def add(self, severity: Severity, message: str, line: int | None = None, evidence: str = "") -> None:
        finding = Finding(WEAKENED, severity, f"{self.path}: {message}", self.path, line, evidence)
        if finding not in self.findings:
            self.findings.append(finding)

    def at(self, where: Where, pattern: re.Pattern[str] | None = None) -> int | None:
        found = self.doc.find(where, pattern) if pattern is not None else None
        return found if found is not None else self.doc.line(where)

    def noise(self, what: str, before: str, after: str, cats: list[str], where: list[Where]) -> None:
        for n in _gained_noise(before, after):
            line = next((f for w in where if (f := self.doc.find(w, n.regex)) is not None), None)
            message = f"{what} now uses `{n.label}`, so {_consequence(n, cats)}"
            self.add(HIGH if cats else MEDIUM, message, line if line is not None else self.at(where[0]), n.label)


# --- GitHub Actions ---------------------------------------------------------------------------


def _events(raw: Any) -> dict[str, Any]:
    """A workflow's triggers as ``{event: config}``, whatever form ``on:`` takes (YAML 1.1 reads it as True)."""
    on = raw.get("on", raw.get(True)) if isinstance(raw, Mapping) else None
    if isinstance(on, str):
        return {on: None}
    if isinstance(on, list):
        return {str(e): None for e in on}
    return _map(on)


def _grants(value: Any) -> frozenset[str]:
    """Scopes a ``permissions:`` value grants write (``*`` for ``write-all``)."""
    if isinstance(value, str):
        return frozenset({"*"}) if value.strip() == "write-all" else frozenset()
    return frozenset(str(k) for k, v in _map(value).items() if str(v).strip() == "write")


def _new_writes(before: Any, after: Any) -> frozenset[str]:
    old, new = _grants(before), _grants(after)
    if "*" in old:
        return frozenset()
    return frozenset({"*"}) if "*" in new else new - old


def _perm_message(who: str, scopes: frozenset[str]) -> str:
    if "*" in scopes:
        return f"{who} now grants the token `write-all` permissions, so any step can push, release and change settings"
    return f"{who} now grants the token write access to {_codes(sorted(scopes))}"


def _steps(job: Mapping[str, Any]) -> list[dict[str, Any]]:
    """A job's steps, index for index (a step that is not a mapping becomes ``{}``)."""
    steps = job.get("steps")
    return [_map(s) for s in steps[:_MAX_STEPS]] if isinstance(steps, list) else []


def _label(step: Mapping[str, Any], index: int) -> str:
    """How a message names a step: its name, id, action or first command."""
    for key in ("name", "id", "uses"):
        if isinstance(step.get(key), str) and step[key].strip():
            return str(step[key]).strip()
    run = _code_lines(step["run"]) if isinstance(step.get("run"), str) else []
    return run[0][:40] if run else f"#{index + 1}"


def _step_keys() -> list[Callable[[Mapping[str, Any]], object]]:
    """The keys steps are paired by, strictest first."""

    def named(key: str) -> Callable[[Mapping[str, Any]], object]:
        return lambda s: s.get(key) if isinstance(s.get(key), str) and s.get(key) else None

    def quiet(s: Mapping[str, Any]) -> object:
        """The run text with no-op patterns taken out: ``make`` and ``make || true`` pair up."""
        run = _run(s)
        for noise in _NOISES:
            run = noise.regex.sub("", run)
        return " ".join(run.split()) or None

    def command(s: Mapping[str, Any]) -> object:
        lines = _code_lines(s["run"]) if isinstance(s.get("run"), str) else []
        return tuple(lines[0].split()[:2]) if lines else None

    return [
        named("id"),
        lambda s: (s.get("name"), _uses(s), _run(s)) if _uses(s) or _run(s) else None,
        lambda s: _run(s) or None,
        lambda s: _uses(s) if _uses(s) and not _run(s) else None,
        named("name"),
        lambda s: _step_tools(s) or None,
        quiet,
        command,
    ]


def _pair_steps(old: list[dict[str, Any]], new: list[dict[str, Any]]) -> dict[int, int]:
    """Pair old steps with new ones: by id, by content, by action, by name, by the checks they run."""
    pairs: dict[int, int] = {}
    for key in _step_keys():
        taken = set(pairs.values())
        new_keys = [None if j in taken else key(t) for j, t in enumerate(new)]
        for i, s in enumerate(old):
            k = None if i in pairs else key(s)
            if k is not None and k in new_keys:
                j = new_keys.index(k)
                pairs[i], new_keys[j] = j, None
    return pairs


def _live(unit: Mapping[str, Any]) -> bool:
    """Whether a job or step still runs and can fail (no continue-on-error, no constant-false if, no no-op)."""
    run = unit.get("run")
    return not (
        _true(unit.get("continue-on-error")) or _never(unit.get("if")) or (isinstance(run, str) and _noisy(run))
    )


def _job_cats(name: str, job: Mapping[str, Any]) -> list[str]:
    """The kinds of check a job runs, from its steps and its name."""
    tools = {t for s in _steps(job) for t in _step_tools(s)}
    extra = _name_cats(f"{name} {job.get('name', '')} {job.get('uses', '')}")
    return [c for c in _NOUN if c in extra or c in {cat for cat, _ in tools}]


def _step_sig(job: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
    return tuple((_uses(s), _run(s)) for s in _steps(job))


def _renames(old: Mapping[str, Any], new: Mapping[str, Any], same: Callable[[Any, Any], bool]) -> dict[str, str]:
    """Old job keys that vanished mapped to new keys of the same job under another name."""
    gone, added = [k for k in old if k not in new], [k for k in new if k not in old]
    out: dict[str, str] = {}
    for k in gone:
        match = next((n for n in added if n not in out.values() and same(old[k], new[n])), None)
        if match is not None:
            out[k] = match
    return out


def _same_gh_job(a: Any, b: Any) -> bool:
    """Whether two workflow jobs are one job renamed: same display name, same steps or same reusable workflow."""
    a, b = _map(a), _map(b)
    if isinstance(a.get("name"), str) and a.get("name") == b.get("name"):
        return True
    if _step_sig(a) and _step_sig(a) == _step_sig(b):
        return True
    return bool(a.get("uses")) and a.get("uses") == b.get("uses")


@dataclass(frozen=True)
class _Fresh:
    """Live steps (or jobs) of the new file that have no counterpart in the old one: where moved checks went."""

    tools: frozenset[Tool]
    runs: frozenset[str]
    uses: frozenset[str]

    def has(self, step: Mapping[str, Any]) -> bool:
        run, uses, tools = _run(step), _uses(step), _step_tools(step)
        return (
            (bool(run) and run in self.runs)
            or (bool(uses) and not run and uses in self.uses)
            or (bool(tools) and tools <= self.tools)
        )


class _GitHub:
    """Compares two versions of a GitHub Actions workflow."""

    def __init__(self, out: _Out, old: Any, new: Any) -> None:
        self.out = out
        self.old, self.new = (old if isinstance(old, Mapping) else {}), (new if isinstance(new, Mapping) else {})
        self.b_on, self.a_on = _events(self.old), _events(self.new)
        self.bj = {k: _map(v) for k, v in _map(self.old.get("jobs")).items()}
        self.aj = {k: _map(v) for k, v in _map(self.new.get("jobs")).items()}

    def run(self, fresh_file: bool) -> None:
        """Compare; for a new file (``fresh_file``) only report what is dangerous in itself."""
        if "pull_request_target" in self.a_on and "pull_request_target" not in self.b_on:
            message = "now triggers on `pull_request_target`, which runs with a write token and secrets for fork PRs"
            self.out.add(HIGH, message, self.out.at(("on", "pull_request_target")), "pull_request_target")
        top = _new_writes(self.old.get("permissions"), self.new.get("permissions"))
        if top and (not fresh_file or "*" in top):
            where = ("permissions", next(iter(top))) if len(top) == 1 else ("permissions",)
            self.out.add(HIGH, _perm_message("the workflow", top), self.out.at(where), f"permissions: {sorted(top)}")
        if fresh_file:
            return
        self.triggers()
        self.jobs(top)

    def triggers(self) -> None:
        """Triggers removed, and path or type filters that skip pull requests."""
        what = {"push": "pushes", "pull_request": "pull requests", "merge_group": "the merge queue"}
        for event, label in what.items():
            if event in self.b_on and event not in self.a_on:
                message = f"no longer triggers on `{event}`, so its checks no longer run for {label}"
                self.out.add(MEDIUM, message, self.out.at(("on",)), event)
        for event in ("pull_request", "push"):
            if (
                event in self.b_on
                and event in self.a_on
                and (event == "pull_request" or "pull_request" not in self.a_on)
            ):
                self.filters(event, _map(self.b_on[event]), _map(self.a_on[event]))

    def filters(self, event: str, old: dict[str, Any], new: dict[str, Any]) -> None:
        """``paths-ignore`` broadened, ``paths`` narrowed, PR ``types`` losing updates."""
        ignored = [p for p in _strs(new.get("paths-ignore")) if p not in _strs(old.get("paths-ignore"))]
        if ignored:
            message = (
                f"`on.{event}.paths-ignore` now also ignores {_codes(ignored)}, so changes there skip this workflow"
            )
            self.out.add(MEDIUM, message, self.out.at(("on", event, "paths-ignore")), ", ".join(ignored))
        if "paths" in new:
            lost = [p for p in _strs(old.get("paths")) if p not in _strs(new["paths"])]
            if "paths" not in old:
                message = (
                    f"`on.{event}.paths` now limits runs to {_codes(_strs(new['paths']))}, so other changes skip it"
                )
                self.out.add(MEDIUM, message, self.out.at(("on", event, "paths")))
            elif lost:
                message = f"`on.{event}.paths` no longer includes {_codes(lost)}, so changes there skip this workflow"
                self.out.add(MEDIUM, message, self.out.at(("on", event, "paths")))
        if event == "pull_request" and "types" in new:
            default = ["opened", "synchronize", "reopened"]
            before = _strs(old["types"]) if "types" in old else default
            lost = [t for t in default if t in before and t not in _strs(new["types"])]
            if lost:
                message = f"`on.pull_request.types` no longer includes {_codes(lost)}, so those PR updates skip it"
                self.out.add(MEDIUM, message, self.out.at(("on", event, "types")))

    def jobs(self, top: frozenset[str]) -> None:
        """Pair jobs and steps, work out where moved checks went, then compare each job."""
        renames = _renames(self.bj, self.aj, _same_gh_job)
        mapping = {k: k if k in self.aj else renames.get(k) for k in self.bj}
        pairs = {k: _pair_steps(_steps(self.bj[k]), _steps(self.aj[v])) for k, v in mapping.items() if v}
        targets = {v: k for k, v in mapping.items() if v}
        fresh_steps: list[dict[str, Any]] = []
        fresh_uses: set[str] = set()
        gained: set[Tool] = set()  # checks a kept step took over from another one
        for name, job in self.aj.items():
            job = _map(job)
            if not _live(job):
                continue
            old = _steps(_map(self.bj.get(targets.get(name, ""))))
            pairing = pairs.get(targets.get(name, ""), {})
            used = {j: i for i, j in pairing.items()}
            for j, step in enumerate(_steps(job)):
                if _live(step) and j in used:
                    gained |= _step_tools(step) - _step_tools(old[used[j]])
                elif _live(step):
                    fresh_steps.append(step)
            if name not in targets and isinstance(job.get("uses"), str):
                fresh_uses.add(_uses(job))
        tools = frozenset(t for s in fresh_steps for t in _step_tools(s)) | gained
        fresh = _Fresh(tools, frozenset(_run(s) for s in fresh_steps), frozenset(_uses(s) for s in fresh_steps))
        for k, v in mapping.items():
            if v is None:
                self.removed_job(k, _map(self.bj[k]), fresh, fresh_uses)
            else:
                self.job(v, _map(self.bj[k]), _map(self.aj[v]), pairs[k], fresh, top)
        self.needs(mapping)

    def removed_job(self, key: str, job: dict[str, Any], fresh: _Fresh, fresh_uses: set[str]) -> None:
        """A job that is gone, unless what it ran now runs elsewhere (or it never ran: ``if: false``)."""
        if _never(job.get("if")):
            return
        steps = _steps(job)
        checks = [s for s in steps if _step_tools(s)]
        if checks:
            moved = all(fresh.has(s) for s in checks)
        elif isinstance(job.get("uses"), str):
            moved = _uses(job) in fresh_uses
        else:
            runs = [s for s in steps if _run(s)]
            moved = bool(runs) and all(_run(s) in fresh.runs for s in runs)
        if moved:
            return
        cats = _job_cats(key, job)
        consequence = f", so {_nouns(cats)} no longer run" if cats else ""
        self.out.add(HIGH if cats else MEDIUM, f"job `{key}` was removed{consequence}", self.out.at(("jobs",)), key)

    def job(
        self,
        key: str,
        old: dict[str, Any],
        new: dict[str, Any],
        pairs: dict[int, int],
        fresh: _Fresh,
        top: frozenset[str],
    ) -> None:
        """A job in both versions: disabled, permissions broadened, steps removed or weakened."""
        cats, base, what = _job_cats(key, old), ("jobs", key), f"job `{key}`"
        self.disabled(what, old, new, cats, base)
        effective = [
            j["permissions"] if "permissions" in j else t.get("permissions")
            for j, t in ((old, self.old), (new, self.new))
        ]
        scopes = _new_writes(*effective) - (top if "permissions" not in new else frozenset())
        if scopes and "*" not in top:
            where = (*base, "permissions", next(iter(scopes))) if len(scopes) == 1 else (*base, "permissions")
            self.out.add(HIGH, _perm_message(what, scopes), self.out.at(where), f"permissions: {sorted(scopes)}")
        old_steps, new_steps = _steps(old), _steps(new)
        for i, step in enumerate(old_steps):
            if i in pairs:
                j = pairs[i]
                self.step(f"{what} step `{_label(new_steps[j], j)}`", step, new_steps[j], (*base, "steps", j), fresh)
                continue
            tools = _step_tools(step)
            if tools and not _never(step.get("if")) and not fresh.has(step):
                label = _label(step, i)
                message = f"{what} step `{label}` was removed, so {_nouns(_cats(tools))} no longer run"
                self.out.add(HIGH, message, self.out.at((*base, "steps")), label)

    def step(self, what: str, old: dict[str, Any], new: dict[str, Any], base: Where, fresh: _Fresh) -> None:
        """One step in both versions: disabled, lost its checks, gained no-ops or lax inputs."""
        before, after = _step_tools(old), _step_tools(new)
        cats = _cats(before | after)
        self.disabled(what, old, new, cats, base)
        lost_cats = [c for c in _cats(before) if c not in _cats(after)]
        lost = frozenset(t for t in before if t[0] in lost_cats)
        if lost and not lost <= fresh.tools:
            message = (
                f"{what} no longer runs {_codes(sorted(n for _, n in lost))}, so {_nouns(lost_cats)} no longer run"
            )
            self.out.add(HIGH, message, self.out.at((*base, "run")), _run(new)[:200])
        old_run, new_run = old.get("run"), new.get("run")
        if isinstance(new_run, str):
            self.out.noise(what, old_run if isinstance(old_run, str) else "", new_run, cats, [(*base, "run")])
        if before | after:
            old_with, new_with = _map(old.get("with")), _map(new.get("with"))
            for k, v in new_with.items():
                if _lax_input(k, v) and not _lax_input(k, old_with.get(k)):
                    message = f"{what} now sets `{k}: {v}`, so {_failing(cats)} no longer fail the build"
                    self.out.add(HIGH, message, self.out.at((*base, "with", k)), f"{k}: {v}")

    def disabled(self, what: str, old: dict[str, Any], new: dict[str, Any], cats: list[str], base: Where) -> None:
        """``continue-on-error: true``, a constant-false ``if:``, or an ``if:`` that skips pull requests, added."""
        severity = HIGH if cats else MEDIUM
        if _true(new.get("continue-on-error")) and not _true(old.get("continue-on-error")):
            message = f"{what} now has continue-on-error: true, so {_failing(cats)} no longer fail the build"
            self.out.add(severity, message, self.out.at((*base, "continue-on-error")), "continue-on-error: true")
        cond = new.get("if")
        if _never(cond) and not _never(old.get("if")):
            skipped = f" ({_nouns(cats)} are skipped)" if cats else ""
            self.out.add(
                severity, f"{what} now has `if: {cond}`, so it never runs{skipped}", self.out.at((*base, "if"))
            )
        elif cats and isinstance(cond, str) and not old.get("if") and "pull_request" in self.a_on and _skips_prs(cond):
            message = f"{what} now runs only when `{_expr(cond)}`, so {_nouns(cats)} no longer run on pull requests"
            self.out.add(MEDIUM, message, self.out.at((*base, "if")), cond)

    def needs(self, mapping: dict[str, str | None]) -> None:
        """Deploy/release/publish jobs that no longer wait (even indirectly) for a check job."""
        for key, new_key in mapping.items():
            old = _map(self.bj[key])
            if new_key is None or not _DEPLOY.search(f"{key} {old.get('name', '')}"):
                continue
            reach = _closure(self.aj, new_key)
            for need in _strs(old.get("needs")):
                target = mapping.get(need)
                cats = _job_cats(need, _map(self.bj.get(need)))
                if need in self.bj and cats and target is not None and target not in reach:
                    message = f"job `{new_key}` no longer needs `{need}`, so it can run even when {_nouns(cats)} fail"
                    self.out.add(MEDIUM, message, self.out.at(("jobs", new_key, "needs")), f"needs: {need}")


_DEPLOY = re.compile(r"deploy|release|publish", re.IGNORECASE)
_PR_EVENTS = ("pull_request", "pull_request_target", "merge_group")


def _skips_prs(cond: str) -> bool:
    """Whether an ``if:`` only holds for some other event or for a branch/tag ref, never for a PR."""
    s = _expr(cond)
    if "||" in s:
        return False
    events = re.findall(r"github\.event_name\s*==\s*['\"]([\w-]+)['\"]", s)
    return any(e not in _PR_EVENTS for e in events) or bool(
        re.search(r"github\.ref\s*==\s*['\"]refs/(?:heads|tags)/", s)
    )


def _lax_input(key: str, value: Any) -> bool:
    """An action input that stops a scanner or linter from failing (``soft-fail: true``, ``exit-code: 0``)."""
    k = key.lower().replace("_", "-")
    if k in ("soft-fail", "continue-on-error", "exit-zero", "only-new-issues-never-fail"):
        return _true(value)
    if k == "exit-code":
        return str(value).strip() == "0"
    return k in ("fail-on-error", "fail-build", "fail-on-findings") and value is not None and not _true(value)


def _closure(jobs: Mapping[str, Any], start: str) -> set[str]:
    """Every job ``start`` needs, directly or through other jobs."""
    seen: set[str] = set()
    todo = list(_strs(_map(jobs.get(start)).get("needs")))
    while todo:
        name = todo.pop()
        if name not in seen:
            seen.add(name)
            todo.extend(_strs(_map(jobs.get(name)).get("needs")))
    return seen


# --- GitLab CI --------------------------------------------------------------------------------

_GL_RESERVED = frozenset(
    {"stages", "variables", "default", "include", "workflow", "image", "services", "before_script"}
    | {"after_script", "cache", "types", "spec"}
)
_GL_SCANNERS = re.compile(
    r"^(?:SAST|SECRET_DETECTION|DEPENDENCY_SCANNING|CONTAINER_SCANNING|CLUSTER_IMAGE_SCANNING|CODE_QUALITY|DAST"
    r"|API_FUZZING|COVERAGE_FUZZING|LICENSE_MANAGEMENT|IAC_SCANNING|TEST)_DISABLED$"
)
_GL_RISKY_INCLUDE = re.compile(r"sast|secret|dependenc|scan|secur|test|lint|quality|dast|fuzz", re.IGNORECASE)
_MR = re.compile(r"merge_request|CI_MERGE_REQUEST")


def _flatten(doc: Mapping[str, Any], value: Any) -> list[Any]:
    """A script or rules list with nested lists and ``!reference`` tags expanded (bounded)."""
    out: list[Any] = []
    stack: list[tuple[Any, int]] = [(value, 0)]
    budget = 5000
    while stack and budget > 0:
        item, depth = stack.pop()
        budget -= 1
        if isinstance(item, _Ref) and depth < 10:
            target: Any = doc
            for part in item.path:
                target = _map(target).get(str(part))
            stack.append((target, depth + 1))
        elif isinstance(item, list) and depth < 10:
            stack.extend((x, depth + 1) for x in reversed(item))
        elif item is not None and not isinstance(item, list | _Ref):
            out.append(item)
    return out


def _merge(base: Mapping[str, Any], over: Mapping[str, Any], depth: int = 0) -> dict[str, Any]:
    out = dict(base)
    for k, v in over.items():
        deep = depth < 20 and isinstance(out.get(k), Mapping) and isinstance(v, Mapping)
        out[k] = _merge(out[k], v, depth + 1) if deep else v
    return out


def _gl_resolve(doc: Mapping[str, Any], job: Mapping[str, Any], depth: int = 0) -> dict[str, Any]:
    """A job with its ``extends`` templates merged in, as GitLab does (hashes deep, other values replaced)."""
    merged: dict[str, Any] = {}
    if depth < 10:
        for parent in _strs(job.get("extends")):
            if isinstance(doc.get(parent), Mapping):
                merged = _merge(merged, _gl_resolve(doc, doc[parent], depth + 1))
    return _merge(merged, {k: v for k, v in _map(job).items() if k != "extends"})


def _gl_jobs(doc: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """The GitLab jobs of a file (not keywords, not hidden templates), with ``extends`` resolved."""
    return {
        k: _gl_resolve(doc, v)
        for k, v in doc.items()
        if k not in _GL_RESERVED and not k.startswith(".") and isinstance(v, Mapping)
        if any(x in v for x in ("script", "trigger", "extends", "run"))
    }


def _gl_script(doc: Mapping[str, Any], job: Mapping[str, Any]) -> str:
    """A job's ``before_script`` and ``script`` as one shell text."""
    parts = _flatten(doc, job.get("before_script")) + _flatten(doc, job.get("script"))
    return "\n".join(str(p) for p in parts if isinstance(p, str | int | float))


def _gl_cats(doc: Mapping[str, Any], name: str, job: Mapping[str, Any]) -> list[str]:
    present = {cat for cat, _ in _shell_tools(_gl_script(doc, job))} | _name_cats(f"{name} {job.get('stage', '')}")
    return [c for c in _NOUN if c in present]


def _allows_failure(value: Any) -> bool:
    return _true(value) or (isinstance(value, Mapping) and bool(value.get("exit_codes")))


def _gl_blocked(rules: list[Any]) -> bool:
    """Whether the rules never let the job run: only ``when: never`` rules up to an unconditional one."""
    for rule in rules:
        r = _map(rule)
        if str(r.get("when", "")) != "never":
            return False
        if not any(k in r for k in ("if", "changes", "exists")):
            return True
    return False


def _gl_live(doc: Mapping[str, Any], job: Mapping[str, Any]) -> bool:
    """Whether a GitLab job still runs by itself and can fail the pipeline."""
    when = str(job.get("when", ""))
    blocked = _gl_blocked(_flatten(doc, job.get("rules")))
    return not (_allows_failure(job.get("allow_failure")) or when in ("manual", "never") or blocked) and not _noisy(
        _gl_script(doc, job)
    )


def _gl_where(doc: Mapping[str, Any], name: str, key: str, depth: int = 0) -> Where:
    """Where ``key`` of job ``name`` is written: in the job, else in the template it extends."""
    job = _map(doc.get(name))
    if key in job:
        return (name, key)
    for parent in reversed(_strs(job.get("extends"))):
        where = _gl_where(doc, parent, key, depth + 1) if depth < 10 else ()
        if where:
            return where
    return ()


def _gl_refs(job: Mapping[str, Any], key: str) -> list[str] | None:
    value = job.get(key)
    if isinstance(value, Mapping):
        return _strs(value.get("refs")) if "refs" in value else None
    return None if value is None else _strs(value)


def _include_sigs(value: Any) -> dict[str, str]:
    """Each include entry, keyed by what it pulls in (versions and inputs ignored)."""
    out: dict[str, str] = {}
    for item in value if isinstance(value, list) else [value]:
        if isinstance(item, str):
            out[item] = item
        elif isinstance(item, Mapping):
            if "project" in item:
                out.update({f"{item['project']}:{f}": f"{item['project']}:{f}" for f in _strs(item.get("file"))})
            for key in ("local", "template", "remote", "component"):
                if isinstance(item.get(key), str):
                    out[item[key].split("@", 1)[0] if key == "component" else item[key]] = item[key]
    return out


class _GitLab:
    """Compares two versions of a GitLab CI file."""

    def __init__(self, out: _Out, old: Any, new: Any) -> None:
        self.out = out
        self.old, self.new = _map(old), _map(new)
        self.bj, self.aj = _gl_jobs(self.old), _gl_jobs(self.new)

    def run(self, fresh_file: bool) -> None:
        self.variables("the pipeline", self.old.get("variables") if not fresh_file else None, self.new, "")
        for name, job in self.aj.items():
            self.variables(f"job `{name}`", _map(self.bj.get(name)).get("variables"), job, name)
        if fresh_file:
            return
        self.includes()
        self.workflow()
        for key in ("default", ""):
            old = _map(self.old.get(key)) if key else self.old
            new = _map(self.new.get(key)) if key else self.new
            what, where = (
                (f"`{key}:`", (key, "before_script")) if key else ("the global `before_script`", ("before_script",))
            )
            old_text = "\n".join(map(str, _flatten(self.old, old.get("before_script"))))
            self.out.noise(
                what, old_text, "\n".join(map(str, _flatten(self.new, new.get("before_script")))), [], [where]
            )
        renames = _renames(self.bj, self.aj, lambda a, b: bool(a.get("script")) and a.get("script") == b.get("script"))
        sources = {new: old for old, new in renames.items()} | {n: n for n in self.aj if n in self.bj}
        fresh_tools: frozenset[Tool] = frozenset()
        for n, j in self.aj.items():
            if _gl_live(self.new, j):
                kept = _shell_tools(_gl_script(self.old, self.bj[sources[n]])) if n in sources else frozenset()
                fresh_tools |= _shell_tools(_gl_script(self.new, j)) - kept
        for name, job in self.bj.items():
            new_name = name if name in self.aj else renames.get(name)
            if new_name is not None:
                self.job(new_name, job, self.aj[new_name], fresh_tools)
                continue
            tools = _shell_tools(_gl_script(self.old, job))
            never = str(job.get("when", "")) == "never" or _gl_blocked(_flatten(self.old, job.get("rules")))
            if not never and (not tools or not tools <= fresh_tools):
                cats = _gl_cats(self.old, name, job)
                consequence = f", so {_nouns(cats)} no longer run" if cats else ""
                self.out.add(HIGH if cats else MEDIUM, f"job `{name}` was removed{consequence}", None, name)

    def variables(self, what: str, old: Any, new_owner: Mapping[str, Any], job: str) -> None:
        """Scanner ``*_DISABLED`` variables newly set true."""
        before = _map(old)
        for var, value in _map(new_owner.get("variables")).items():
            if _GL_SCANNERS.match(var) and _true(value) and not _true(before.get(var)):
                where = (*(_gl_where(self.new, job, "variables") or (job,)), var) if job else ("variables", var)
                label = var.removesuffix("_DISABLED").replace("_", " ").lower()
                message = f"{what} now sets `{var}: {value}`, so the {label} jobs no longer run"
                self.out.add(HIGH, message, self.out.at(where), f"{var}: {value}")

    def includes(self) -> None:
        """Include entries that are gone (security and test templates are high)."""
        after = _include_sigs(self.new.get("include"))
        for sig, label in _include_sigs(self.old.get("include")).items():
            if sig not in after:
                severity = HIGH if _GL_RISKY_INCLUDE.search(sig) else MEDIUM
                message = f"no longer includes `{label}`, so the jobs it defined no longer run"
                self.out.add(severity, message, self.out.at(("include",)), label)

    def workflow(self) -> None:
        """``workflow: rules`` that stop pipelines, or stop them for merge requests."""
        old = _flatten(self.old, _map(self.old.get("workflow")).get("rules"))
        new = _flatten(self.new, _map(self.new.get("workflow")).get("rules"))
        if _gl_blocked(new) and not _gl_blocked(old):
            self.out.add(HIGH, "workflow rules now never create a pipeline", self.out.at(("workflow", "rules")))
            return
        for i, rule in enumerate(new):
            r = _map(rule)
            if rule not in old and str(r.get("when", "")) == "never" and _MR.search(str(r.get("if", ""))):
                message = f"workflow rules now skip pipelines when `{r['if']}`, so merge requests may get no checks"
                self.out.add(MEDIUM, message, self.out.at(("workflow", "rules", i)), str(r["if"]))

    def job(self, name: str, old: dict[str, Any], new: dict[str, Any], fresh_tools: frozenset[Tool]) -> None:
        """A GitLab job in both versions (templates resolved), compared keyword by keyword."""
        cats, what = _gl_cats(self.old, name, old), f"job `{name}`"
        severity = HIGH if cats else MEDIUM

        def at(key: str, *rest: Key) -> int | None:
            return self.out.at((*(_gl_where(self.new, name, key) or (name,)), *rest))

        if _allows_failure(new.get("allow_failure")) and not _allows_failure(old.get("allow_failure")):
            message = f"{what} now has allow_failure: true, so {_failing(cats)} no longer fail the pipeline"
            self.out.add(severity, message, at("allow_failure"), "allow_failure: true")
        when, was = str(new.get("when", "")), str(old.get("when", ""))
        if when == "never" and was != "never":
            self.out.add(severity, f"{what} now has when: never, so it never runs", at("when"), "when: never")
        elif when == "manual" and was != "manual" and cats:
            message = f"{what} now has when: manual, so {_nouns(cats)} only run if someone starts them"
            self.out.add(HIGH, message, at("when"), "when: manual")
        self.rules(what, name, old, new, cats, at)
        self.only_except(what, old, new, at)
        trigger_old, trigger_new = _map(old.get("trigger")), _map(new.get("trigger"))
        if trigger_old.get("strategy") == "depend" and trigger_new and trigger_new.get("strategy") != "depend":
            message = f"{what} no longer uses `strategy: depend`, so child pipeline failures no longer fail this one"
            self.out.add(MEDIUM, message, at("trigger"), "strategy: depend")
        before, after = _gl_script(self.old, old), _gl_script(self.new, new)
        lost_cats = [c for c in _cats(_shell_tools(before)) if c not in _cats(_shell_tools(after))]
        lost = frozenset(t for t in _shell_tools(before) if t[0] in lost_cats)
        if lost and not lost <= fresh_tools:
            message = (
                f"{what} no longer runs {_codes(sorted(n for _, n in lost))}, so {_nouns(lost_cats)} no longer run"
            )
            self.out.add(HIGH, message, at("script"), after[:200])
        wheres = [(*(_gl_where(self.new, name, k) or (name,)),) for k in ("script", "before_script")]
        self.out.noise(what, before, after, cats, wheres)

    def rules(
        self, what: str, name: str, old: Mapping[str, Any], new: Mapping[str, Any], cats: list[str], at: Any
    ) -> None:
        """``rules:`` that never run the job, skip a check job under a condition, or allow it to fail."""
        before, after = _flatten(self.old, old.get("rules")), _flatten(self.new, new.get("rules"))
        if _gl_blocked(after) and not _gl_blocked(before):
            message = f"{what} now has `rules:` that always end in `when: never`, so it never runs"
            self.out.add(HIGH if cats else MEDIUM, message, at("rules"), "when: never")
            return
        for i, rule in enumerate(after):
            r = _map(rule)
            if rule in before or not cats:
                continue
            cond = str(r.get("if", r.get("changes", r.get("exists", ""))))
            if str(r.get("when", "")) == "never" and cond:
                message = (
                    f"{what} now has a rule `{cond}` with `when: never`, so {_nouns(cats)} are skipped when it holds"
                )
                self.out.add(HIGH if _MR.search(cond) else MEDIUM, message, at("rules", i), cond)
            if _allows_failure(r.get("allow_failure")):
                message = (
                    f"{what} now has a rule with allow_failure: true, so {_failing(cats)} no longer fail the pipeline"
                )
                self.out.add(HIGH, message, at("rules", i), "allow_failure: true")

    def only_except(self, what: str, old: Mapping[str, Any], new: Mapping[str, Any], at: Any) -> None:
        """``only:``/``except:`` narrowed so the job stops running for merge requests, branches or pushes."""
        labels = {"merge_requests": "merge requests", "branches": "branch pipelines", "pushes": "pushes"}
        if "rules" not in new:
            before = _gl_refs(old, "only")
            after = _gl_refs(new, "only")
            for ref in [r for r in (before or []) if r in labels and r not in (after or ["branches", "tags"])]:
                message = f"{what} `only:` no longer includes `{ref}`, so it no longer runs for {labels[ref]}"
                self.out.add(MEDIUM, message, at("only"), ref)
        for ref in [
            r for r in (_gl_refs(new, "except") or []) if r in labels and r not in (_gl_refs(old, "except") or [])
        ]:
            message = f"{what} `except:` now includes `{ref}`, so it no longer runs for {labels[ref]}"
            self.out.add(MEDIUM, message, at("except"), ref)


# --- other CI files ---------------------------------------------------------------------------

_LAX_KEYS: dict[str, Callable[[Any], bool]] = {
    "continue-on-error": _true,
    "continueOnError": _true,
    "allow_failure": _allows_failure,
    "allow_failures": bool,
    "soft_fail": bool,
    "ignore_failure": _true,
    "failure": lambda v: str(v) == "ignore",
    "if": _never,
    "condition": _never,
}


def _walk(data: Any) -> Iterator[tuple[Where, Any]]:
    """Every value with its path, each shared (aliased) value once, bounded."""
    seen: set[int] = set()
    stack: list[tuple[Where, Any]] = [((), data)]
    count = 0
    while stack and count < _MAX_NODES:
        where, value = stack.pop()
        count += 1
        yield where, value
        if isinstance(value, Mapping | list) and id(value) not in seen:
            seen.add(id(value))
            items = value.items() if isinstance(value, Mapping) else enumerate(value)
            stack.extend(((*where, k if isinstance(k, int) else str(k)), v) for k, v in items)


def _all_text(data: Any) -> str:
    return "\n".join(v for _, v in _walk(data) if isinstance(v, str))


def _lax(data: Any) -> list[tuple[Where, str, str, frozenset[Tool]]]:
    """``(where, key, signature of its owner, tools in the owner)`` for each failure-tolerating key."""
    found = []
    for where, value in _walk(data):
        if not isinstance(value, Mapping):
            continue
        for key, check in _LAX_KEYS.items():
            if key in value and check(value[key]):
                scalars = sorted(f"{k}={v}" for k, v in value.items() if k != key and isinstance(v, str | int | float))
                found.append(((*where, key), key, "|".join(scalars), _shell_tools(_all_text(value))))
    return found


def _generic(out: _Out, old: Any, new: Any) -> None:
    """Conservative comparison for other YAML CI files: failure-tolerating keys, vanished checks, no-ops."""
    before, after = _lax(old), _lax(new)
    for key in _LAX_KEYS:
        olds = [o for o in before if o[1] == key]
        news = [o for o in after if o[1] == key]
        if len(news) > len(olds):
            for where, _, sig, tools in news:
                if sig not in {o[2] for o in olds}:
                    cats = _cats(tools)
                    message = f"`{key}` now tolerates failure at `{'.'.join(map(str, where[:-1])) or 'top level'}`"
                    out.add(
                        HIGH if cats else MEDIUM,
                        f"{message}, so {_failing(cats)} no longer fail the build",
                        out.at(where),
                        key,
                    )
    old_text, new_text = _all_text(old), _all_text(new)
    lost = [c for c in _cats(_shell_tools(old_text)) if c not in _cats(_shell_tools(new_text))]
    if lost:
        out.add(HIGH, f"no longer runs {_nouns(lost)} anywhere in this file", None)
    _text_noise(out, old_text, new_text, _cats(_shell_tools(new_text)))


def _text_noise(out: _Out, before: str, after: str, cats: list[str]) -> None:
    """Line-level check: no-op patterns the after text has more of, located on a new line."""
    old_lines = set(before.splitlines())
    for n in _gained_noise(before, after):
        number = next(
            (i + 1 for i, line in enumerate(out.doc.lines) if line not in old_lines and n.regex.search(line)), None
        )
        out.add(HIGH if cats else MEDIUM, f"now uses `{n.label}`, so {_consequence(n, cats)}", number, n.label)


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
        text = before if dialect == "text" else _all_text(_Doc.parse(before).data)
    except _PARSE_ERRORS:
        text = before
    cats = _cats(_shell_tools(text))
    consequence = f"the {_nouns(cats)} it ran no longer run" if cats else "the pipeline it defined no longer runs"
    return Finding(DELETED, HIGH, f"{path}: CI configuration deleted, so {consequence}", path)


def ci_weakening(path: str, before: str | None, after: str | None) -> list[Finding]:
    """Findings on how changing CI file ``path`` from ``before`` to ``after`` weakens CI (``None``: no file)."""
    dialect = _dialect(path)
    if dialect is None or before == after or (before is None and after is None):
        return []
    if after is None:
        return [_deleted(path, before or "", dialect)]
    if dialect == "text":
        out = _Out(path, _Doc(None, None, tuple(after.splitlines())))
        if before is not None:
            _text_noise(out, before, after, [])
        return out.findings
    try:
        new = _Doc.parse(after)
    except _PARSE_ERRORS as exc:
        return [_unparsable(path, exc)]
    if _expanded_size(new.data, _MAX_NODES) >= _MAX_NODES:
        message = f"{path}: holds too many values once aliases are expanded, so it was not reviewed"
        return [Finding(WEAKENED, MEDIUM, message, path)]
    if dialect in ("github", "gitlab") and new.data is not None and not isinstance(new.data, Mapping):
        message = f"{path}: is not a mapping of CI configuration, so the pipeline may not run"
        return [Finding(WEAKENED, MEDIUM, message, path, 1)]
    try:
        old = _Doc.parse(before).data if before is not None else None
        if _expanded_size(old, _MAX_NODES) >= _MAX_NODES:
            return []
    except _PARSE_ERRORS:
        return []  # it did not parse before either: there is nothing to compare against
    out = _Out(path, new)
    try:
        if dialect == "github":
            _GitHub(out, old, new.data).run(before is None)
        elif dialect == "gitlab":
            _GitLab(out, old, new.data).run(before is None)
        elif before is not None:
            _generic(out, old, new.data)
    except RecursionError:
        out.add(MEDIUM, "is nested too deeply to compare, so it was not reviewed", None)
    return out.findings
