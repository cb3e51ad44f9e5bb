"""What a command checks (tests, lint, type checks, security scans) and the no-op patterns that defeat it."""

from __future__ import annotations

import re
from dataclasses import dataclass

Tool = tuple[str, str]  # (category, name)

# --- what a command checks --------------------------------------------------------------------

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
_INSTALL = re.compile(
    r"^(?:sudo\s+)?(?:(?:python3?|py)\s+-m\s+)?(?:echo|printf|cd|export|pip3?|uv\s+(?:pip|tool|add|sync)|pipx|"
    r"npm\s+(?:install|i|ci|add)|yarn\s+(?:add|install)|pnpm\s+(?:add|install|i)|bun\s+(?:add|install)|"
    r"apt(?:-get)?|brew|go\s+(?:install|get)|cargo\s+(?:install|binstall)|gem\s+install|poetry\s+(?:add|install)|"
    r"conda|mamba|choco|apk|dnf|yum|curl|wget)\b"
)
_COMMENT = re.compile(r"(?:^|\s)(?:#|//).*$")
NOUN = {"tests": "tests", "lint": "lint checks", "types": "type checks", "security": "security scans"}
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


def code_lines(text: str) -> list[str]:
    return [c for c in (_COMMENT.sub("", line).strip() for line in text.splitlines()) if c]


def shell_tools(text: str) -> frozenset[Tool]:
    """The checks a shell script runs, per command (comments, ``echo`` and installers left out)."""
    found: set[Tool] = set()
    for line in code_lines(text):
        for seg in re.split(r"&&|\|\||;|\|", line):
            seg = seg.strip().lstrip("({").strip()
            if seg and not _INSTALL.match(seg):
                found.update((cat, name) for cat, name, rx in _SHELL_RES if rx.search(seg))
    return frozenset(found)


# --- naming the checks in messages ------------------------------------------------------------


def categories(tools: frozenset[Tool] | set[Tool]) -> list[str]:
    present = {cat for cat, _ in tools}
    return [c for c in NOUN if c in present]


def name_categories(name: str) -> set[str]:
    return {cat for cat, rx in _NAME_CATS if rx.search(name.lower())}


def nouns(cats: list[str]) -> str:
    return join_words([NOUN[c] for c in cats])


def failing(cats: list[str]) -> str:
    return join_words([_FAILING[c] for c in cats]) if cats else "its failures"


def join_words(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def quoted(words: list[str]) -> str:
    return join_words([f"`{w}`" for w in words])


# --- shell no-op patterns ---------------------------------------------------------------------


@dataclass(frozen=True)
class Noise:
    label: str
    regex: re.Pattern[str]
    effect: str  # "fail": failures stop failing; "skip": tests are skipped; "hooks": hooks are skipped


NOISES = tuple(
    Noise(label, re.compile(rx, re.MULTILINE), effect)
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
    code = "\n".join(code_lines(text))
    counts = {n.label: len(n.regex.findall(code)) for n in NOISES}
    if _PROPAGATES.search(code):  # `set +e; pytest; rc=$?; …; exit $rc` still fails
        counts["set +e"] = 0
    return counts


def gained_noise(before: str, after: str) -> list[Noise]:
    old, new = _noise_counts(before), _noise_counts(after)
    return [n for n in NOISES if new[n.label] > old[n.label]]


def noisy(text: str) -> bool:
    return any(_noise_counts(text).values())


def noise_consequence(noise: Noise, cats: list[str]) -> str:
    if noise.effect == "skip":
        return "the commands after it are skipped" if noise.label == "exit 0" else "tests are skipped"
    if noise.effect == "hooks":
        return "git hooks are skipped"
    return f"{failing(cats)} no longer fail the build"
