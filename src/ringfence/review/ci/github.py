"""GitHub Actions workflows (also Gitea and Forgejo) compared job by job and step by step."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ringfence.review.ci.commands import (
    NOISES,
    NOUN,
    Tool,
    categories,
    code_lines,
    failing,
    name_categories,
    noisy,
    nouns,
    quoted,
    shell_tools,
)
from ringfence.review.ci.report import HIGH, MEDIUM, Report
from ringfence.review.ci.values import as_map, expression, is_never, is_true, renamed_keys, strs
from ringfence.review.ci.yamldoc import Where

_MAX_STEPS = 500
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
    return frozenset(found) | (shell_tools(run) if isinstance(run, str) else frozenset())


def _events(raw: Any) -> dict[str, Any]:
    """A workflow's triggers as ``{event: config}``, whatever form ``on:`` takes (YAML 1.1 reads it as True)."""
    on = raw.get("on", raw.get(True)) if isinstance(raw, Mapping) else None
    if isinstance(on, str):
        return {on: None}
    if isinstance(on, list):
        return {str(e): None for e in on}
    return as_map(on)


def _grants(value: Any) -> frozenset[str]:
    """Scopes a ``permissions:`` value grants write (``*`` for ``write-all``)."""
    if isinstance(value, str):
        return frozenset({"*"}) if value.strip() == "write-all" else frozenset()
    return frozenset(str(k) for k, v in as_map(value).items() if str(v).strip() == "write")


def _new_writes(before: Any, after: Any) -> frozenset[str]:
    old, new = _grants(before), _grants(after)
    if "*" in old:
        return frozenset()
    return frozenset({"*"}) if "*" in new else new - old


def _perm_message(who: str, scopes: frozenset[str]) -> str:
    if "*" in scopes:
        return f"{who} now grants the token `write-all` permissions, so any step can push, release and change settings"
    return f"{who} now grants the token write access to {quoted(sorted(scopes))}"


def _steps(job: Mapping[str, Any]) -> list[dict[str, Any]]:
    """A job's steps, index for index (a step that is not a mapping becomes ``{}``)."""
    steps = job.get("steps")
    return [as_map(s) for s in steps[:_MAX_STEPS]] if isinstance(steps, list) else []


def _label(step: Mapping[str, Any], index: int) -> str:
    """How a message names a step: its name, id, action or first command."""
    for key in ("name", "id", "uses"):
        if isinstance(step.get(key), str) and step[key].strip():
            return str(step[key]).strip()
    run = code_lines(step["run"]) if isinstance(step.get("run"), str) else []
    return run[0][:40] if run else f"#{index + 1}"


def _step_keys() -> list[Callable[[Mapping[str, Any]], object]]:
    """The keys steps are paired by, strictest first."""

    def named(key: str) -> Callable[[Mapping[str, Any]], object]:
        return lambda s: s.get(key) if isinstance(s.get(key), str) and s.get(key) else None

    def quiet(s: Mapping[str, Any]) -> object:
        """The run text with no-op patterns taken out: ``make`` and ``make || true`` pair up."""
        run = _run(s)
        for noise in NOISES:
            run = noise.regex.sub("", run)
        return " ".join(run.split()) or None

    def command(s: Mapping[str, Any]) -> object:
        lines = code_lines(s["run"]) if isinstance(s.get("run"), str) else []
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
        is_true(unit.get("continue-on-error")) or is_never(unit.get("if")) or (isinstance(run, str) and noisy(run))
    )


def _job_cats(name: str, job: Mapping[str, Any]) -> list[str]:
    """The kinds of check a job runs, from its steps and its name."""
    tools = {t for s in _steps(job) for t in _step_tools(s)}
    extra = name_categories(f"{name} {job.get('name', '')} {job.get('uses', '')}")
    return [c for c in NOUN if c in extra or c in {cat for cat, _ in tools}]


def _step_sig(job: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
    return tuple((_uses(s), _run(s)) for s in _steps(job))


def _same_gh_job(a: Any, b: Any) -> bool:
    """Whether two workflow jobs are one job renamed: same display name, same steps or same reusable workflow."""
    a, b = as_map(a), as_map(b)
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


class GitHub:
    """Compares two versions of a GitHub Actions workflow."""

    def __init__(self, out: Report, old: Any, new: Any) -> None:
        self.out = out
        self.old, self.new = (old if isinstance(old, Mapping) else {}), (new if isinstance(new, Mapping) else {})
        self.b_on, self.a_on = _events(self.old), _events(self.new)
        self.bj = {k: as_map(v) for k, v in as_map(self.old.get("jobs")).items()}
        self.aj = {k: as_map(v) for k, v in as_map(self.new.get("jobs")).items()}

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
                self.filters(event, as_map(self.b_on[event]), as_map(self.a_on[event]))

    def filters(self, event: str, old: dict[str, Any], new: dict[str, Any]) -> None:
        """``paths-ignore`` broadened, ``paths`` narrowed, PR ``types`` losing updates."""
        ignored = [p for p in strs(new.get("paths-ignore")) if p not in strs(old.get("paths-ignore"))]
        if ignored:
            message = (
                f"`on.{event}.paths-ignore` now also ignores {quoted(ignored)}, so changes there skip this workflow"
            )
            self.out.add(MEDIUM, message, self.out.at(("on", event, "paths-ignore")), ", ".join(ignored))
        if "paths" in new:
            lost = [p for p in strs(old.get("paths")) if p not in strs(new["paths"])]
            if "paths" not in old:
                message = (
                    f"`on.{event}.paths` now limits runs to {quoted(strs(new['paths']))}, so other changes skip it"
                )
                self.out.add(MEDIUM, message, self.out.at(("on", event, "paths")))
            elif lost:
                message = f"`on.{event}.paths` no longer includes {quoted(lost)}, so changes there skip this workflow"
                self.out.add(MEDIUM, message, self.out.at(("on", event, "paths")))
        if event == "pull_request" and "types" in new:
            default = ["opened", "synchronize", "reopened"]
            before = strs(old["types"]) if "types" in old else default
            lost = [t for t in default if t in before and t not in strs(new["types"])]
            if lost:
                message = f"`on.pull_request.types` no longer includes {quoted(lost)}, so those PR updates skip it"
                self.out.add(MEDIUM, message, self.out.at(("on", event, "types")))

    def jobs(self, top: frozenset[str]) -> None:
        """Pair jobs and steps, work out where moved checks went, then compare each job."""
        renames = renamed_keys(self.bj, self.aj, _same_gh_job)
        mapping = {k: k if k in self.aj else renames.get(k) for k in self.bj}
        pairs = {k: _pair_steps(_steps(self.bj[k]), _steps(self.aj[v])) for k, v in mapping.items() if v}
        targets = {v: k for k, v in mapping.items() if v}
        fresh_steps: list[dict[str, Any]] = []
        fresh_uses: set[str] = set()
        gained: set[Tool] = set()  # checks a kept step took over from another one
        for name, job in self.aj.items():
            job = as_map(job)
            if not _live(job):
                continue
            old = _steps(as_map(self.bj.get(targets.get(name, ""))))
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
                self.removed_job(k, as_map(self.bj[k]), fresh, fresh_uses)
            else:
                self.job(v, as_map(self.bj[k]), as_map(self.aj[v]), pairs[k], fresh, top)
        self.needs(mapping)

    def removed_job(self, key: str, job: dict[str, Any], fresh: _Fresh, fresh_uses: set[str]) -> None:
        """A job that is gone, unless what it ran now runs elsewhere (or it never ran: ``if: false``)."""
        if is_never(job.get("if")):
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
        consequence = f", so {nouns(cats)} no longer run" if cats else ""
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
            if tools and not is_never(step.get("if")) and not fresh.has(step):
                label = _label(step, i)
                message = f"{what} step `{label}` was removed, so {nouns(categories(tools))} no longer run"
                self.out.add(HIGH, message, self.out.at((*base, "steps")), label)

    def step(self, what: str, old: dict[str, Any], new: dict[str, Any], base: Where, fresh: _Fresh) -> None:
        """One step in both versions: disabled, lost its checks, gained no-ops or lax inputs."""
        before, after = _step_tools(old), _step_tools(new)
        cats = categories(before | after)
        self.disabled(what, old, new, cats, base)
        lost_cats = [c for c in categories(before) if c not in categories(after)]
        lost = frozenset(t for t in before if t[0] in lost_cats)
        if lost and not lost <= fresh.tools:
            message = f"{what} no longer runs {quoted(sorted(n for _, n in lost))}, so {nouns(lost_cats)} no longer run"
            self.out.add(HIGH, message, self.out.at((*base, "run")), _run(new)[:200])
        old_run, new_run = old.get("run"), new.get("run")
        if isinstance(new_run, str):
            self.out.noise(what, old_run if isinstance(old_run, str) else "", new_run, cats, [(*base, "run")])
        if before | after:
            old_with, new_with = as_map(old.get("with")), as_map(new.get("with"))
            for k, v in new_with.items():
                if _lax_input(k, v) and not _lax_input(k, old_with.get(k)):
                    message = f"{what} now sets `{k}: {v}`, so {failing(cats)} no longer fail the build"
                    self.out.add(HIGH, message, self.out.at((*base, "with", k)), f"{k}: {v}")

    def disabled(self, what: str, old: dict[str, Any], new: dict[str, Any], cats: list[str], base: Where) -> None:
        """``continue-on-error: true``, a constant-false ``if:``, or an ``if:`` that skips pull requests, added."""
        severity = HIGH if cats else MEDIUM
        if is_true(new.get("continue-on-error")) and not is_true(old.get("continue-on-error")):
            message = f"{what} now has continue-on-error: true, so {failing(cats)} no longer fail the build"
            self.out.add(severity, message, self.out.at((*base, "continue-on-error")), "continue-on-error: true")
        cond = new.get("if")
        if is_never(cond) and not is_never(old.get("if")):
            skipped = f" ({nouns(cats)} are skipped)" if cats else ""
            self.out.add(
                severity, f"{what} now has `if: {cond}`, so it never runs{skipped}", self.out.at((*base, "if"))
            )
        elif cats and isinstance(cond, str) and not old.get("if") and "pull_request" in self.a_on and _skips_prs(cond):
            message = f"{what} now runs only when `{expression(cond)}`, so {nouns(cats)} no longer run on pull requests"
            self.out.add(MEDIUM, message, self.out.at((*base, "if")), cond)

    def needs(self, mapping: dict[str, str | None]) -> None:
        """Deploy/release/publish jobs that no longer wait (even indirectly) for a check job."""
        for key, new_key in mapping.items():
            old = as_map(self.bj[key])
            if new_key is None or not _DEPLOY.search(f"{key} {old.get('name', '')}"):
                continue
            reach = _closure(self.aj, new_key)
            for need in strs(old.get("needs")):
                target = mapping.get(need)
                cats = _job_cats(need, as_map(self.bj.get(need)))
                if need in self.bj and cats and target is not None and target not in reach:
                    message = f"job `{new_key}` no longer needs `{need}`, so it can run even when {nouns(cats)} fail"
                    self.out.add(MEDIUM, message, self.out.at(("jobs", new_key, "needs")), f"needs: {need}")


_DEPLOY = re.compile(r"deploy|release|publish", re.IGNORECASE)
_PR_EVENTS = ("pull_request", "pull_request_target", "merge_group")


def _skips_prs(cond: str) -> bool:
    """Whether an ``if:`` only holds for some other event or for a branch/tag ref, never for a PR."""
    s = expression(cond)
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
        return is_true(value)
    if k == "exit-code":
        return str(value).strip() == "0"
    return k in ("fail-on-error", "fail-build", "fail-on-findings") and value is not None and not is_true(value)


def _closure(jobs: Mapping[str, Any], start: str) -> set[str]:
    """Every job ``start`` needs, directly or through other jobs."""
    seen: set[str] = set()
    todo = list(strs(as_map(jobs.get(start)).get("needs")))
    while todo:
        name = todo.pop()
        if name not in seen:
            seen.add(name)
            todo.extend(strs(as_map(jobs.get(name)).get("needs")))
    return seen
