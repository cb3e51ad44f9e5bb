"""GitLab CI files compared job by job, with ``extends`` templates and ``!reference`` tags resolved."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from ringfence.review.ci.commands import (
    NOUN,
    Tool,
    categories,
    failing,
    name_categories,
    noisy,
    nouns,
    quoted,
    shell_tools,
)
from ringfence.review.ci.report import HIGH, MEDIUM, Report
from ringfence.review.ci.values import allows_failure, as_map, is_true, renamed_keys, strs
from ringfence.review.ci.yamldoc import Key, Ref, Where

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
        if isinstance(item, Ref) and depth < 10:
            target: Any = doc
            for part in item.path:
                target = as_map(target).get(str(part))
            stack.append((target, depth + 1))
        elif isinstance(item, list) and depth < 10:
            stack.extend((x, depth + 1) for x in reversed(item))
        elif item is not None and not isinstance(item, list | Ref):
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
        for parent in strs(job.get("extends")):
            if isinstance(doc.get(parent), Mapping):
                merged = _merge(merged, _gl_resolve(doc, doc[parent], depth + 1))
    return _merge(merged, {k: v for k, v in as_map(job).items() if k != "extends"})


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
    present = {cat for cat, _ in shell_tools(_gl_script(doc, job))} | name_categories(f"{name} {job.get('stage', '')}")
    return [c for c in NOUN if c in present]


def _gl_blocked(rules: list[Any]) -> bool:
    """Whether the rules never let the job run: only ``when: never`` rules up to an unconditional one."""
    for rule in rules:
        r = as_map(rule)
        if str(r.get("when", "")) != "never":
            return False
        if not any(k in r for k in ("if", "changes", "exists")):
            return True
    return False


def _gl_live(doc: Mapping[str, Any], job: Mapping[str, Any]) -> bool:
    """Whether a GitLab job still runs by itself and can fail the pipeline."""
    when = str(job.get("when", ""))
    blocked = _gl_blocked(_flatten(doc, job.get("rules")))
    return not (allows_failure(job.get("allow_failure")) or when in ("manual", "never") or blocked) and not noisy(
        _gl_script(doc, job)
    )


def _gl_where(doc: Mapping[str, Any], name: str, key: str, depth: int = 0) -> Where:
    """Where ``key`` of job ``name`` is written: in the job, else in the template it extends."""
    job = as_map(doc.get(name))
    if key in job:
        return (name, key)
    for parent in reversed(strs(job.get("extends"))):
        where = _gl_where(doc, parent, key, depth + 1) if depth < 10 else ()
        if where:
            return where
    return ()


def _gl_refs(job: Mapping[str, Any], key: str) -> list[str] | None:
    value = job.get(key)
    if isinstance(value, Mapping):
        return strs(value.get("refs")) if "refs" in value else None
    return None if value is None else strs(value)


def _include_sigs(value: Any) -> dict[str, str]:
    """Each include entry, keyed by what it pulls in (versions and inputs ignored)."""
    out: dict[str, str] = {}
    for item in value if isinstance(value, list) else [value]:
        if isinstance(item, str):
            out[item] = item
        elif isinstance(item, Mapping):
            if "project" in item:
                out.update({f"{item['project']}:{f}": f"{item['project']}:{f}" for f in strs(item.get("file"))})
            for key in ("local", "template", "remote", "component"):
                if isinstance(item.get(key), str):
                    out[item[key].split("@", 1)[0] if key == "component" else item[key]] = item[key]
    return out


class GitLab:
    """Compares two versions of a GitLab CI file."""

    def __init__(self, out: Report, old: Any, new: Any) -> None:
        self.out = out
        self.old, self.new = as_map(old), as_map(new)
        self.bj, self.aj = _gl_jobs(self.old), _gl_jobs(self.new)

    def run(self, fresh_file: bool) -> None:
        self.variables("the pipeline", self.old.get("variables") if not fresh_file else None, self.new, "")
        for name, job in self.aj.items():
            self.variables(f"job `{name}`", as_map(self.bj.get(name)).get("variables"), job, name)
        if fresh_file:
            return
        self.includes()
        self.workflow()
        for key in ("default", ""):
            old = as_map(self.old.get(key)) if key else self.old
            new = as_map(self.new.get(key)) if key else self.new
            what, where = (
                (f"`{key}:`", (key, "before_script")) if key else ("the global `before_script`", ("before_script",))
            )
            old_text = "\n".join(map(str, _flatten(self.old, old.get("before_script"))))
            self.out.noise(
                what, old_text, "\n".join(map(str, _flatten(self.new, new.get("before_script")))), [], [where]
            )
        renames = renamed_keys(
            self.bj, self.aj, lambda a, b: bool(a.get("script")) and a.get("script") == b.get("script")
        )
        sources = {new: old for old, new in renames.items()} | {n: n for n in self.aj if n in self.bj}
        fresh_tools: frozenset[Tool] = frozenset()
        for n, j in self.aj.items():
            if _gl_live(self.new, j):
                kept = shell_tools(_gl_script(self.old, self.bj[sources[n]])) if n in sources else frozenset()
                fresh_tools |= shell_tools(_gl_script(self.new, j)) - kept
        for name, job in self.bj.items():
            new_name = name if name in self.aj else renames.get(name)
            if new_name is not None:
                self.job(new_name, job, self.aj[new_name], fresh_tools)
                continue
            tools = shell_tools(_gl_script(self.old, job))
            never = str(job.get("when", "")) == "never" or _gl_blocked(_flatten(self.old, job.get("rules")))
            if not never and (not tools or not tools <= fresh_tools):
                cats = _gl_cats(self.old, name, job)
                consequence = f", so {nouns(cats)} no longer run" if cats else ""
                self.out.add(HIGH if cats else MEDIUM, f"job `{name}` was removed{consequence}", None, name)

    def variables(self, what: str, old: Any, new_owner: Mapping[str, Any], job: str) -> None:
        """Scanner ``*_DISABLED`` variables newly set true."""
        before = as_map(old)
        for var, value in as_map(new_owner.get("variables")).items():
            if _GL_SCANNERS.match(var) and is_true(value) and not is_true(before.get(var)):
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
        old = _flatten(self.old, as_map(self.old.get("workflow")).get("rules"))
        new = _flatten(self.new, as_map(self.new.get("workflow")).get("rules"))
        if _gl_blocked(new) and not _gl_blocked(old):
            self.out.add(HIGH, "workflow rules now never create a pipeline", self.out.at(("workflow", "rules")))
            return
        for i, rule in enumerate(new):
            r = as_map(rule)
            if rule not in old and str(r.get("when", "")) == "never" and _MR.search(str(r.get("if", ""))):
                message = f"workflow rules now skip pipelines when `{r['if']}`, so merge requests may get no checks"
                self.out.add(MEDIUM, message, self.out.at(("workflow", "rules", i)), str(r["if"]))

    def job(self, name: str, old: dict[str, Any], new: dict[str, Any], fresh_tools: frozenset[Tool]) -> None:
        """A GitLab job in both versions (templates resolved), compared keyword by keyword."""
        cats, what = _gl_cats(self.old, name, old), f"job `{name}`"
        severity = HIGH if cats else MEDIUM

        def at(key: str, *rest: Key) -> int | None:
            return self.out.at((*(_gl_where(self.new, name, key) or (name,)), *rest))

        if allows_failure(new.get("allow_failure")) and not allows_failure(old.get("allow_failure")):
            message = f"{what} now has allow_failure: true, so {failing(cats)} no longer fail the pipeline"
            self.out.add(severity, message, at("allow_failure"), "allow_failure: true")
        when, was = str(new.get("when", "")), str(old.get("when", ""))
        if when == "never" and was != "never":
            self.out.add(severity, f"{what} now has when: never, so it never runs", at("when"), "when: never")
        elif when == "manual" and was != "manual" and cats:
            message = f"{what} now has when: manual, so {nouns(cats)} only run if someone starts them"
            self.out.add(HIGH, message, at("when"), "when: manual")
        self.rules(what, name, old, new, cats, at)
        self.only_except(what, old, new, at)
        trigger_old, trigger_new = as_map(old.get("trigger")), as_map(new.get("trigger"))
        if trigger_old.get("strategy") == "depend" and trigger_new and trigger_new.get("strategy") != "depend":
            message = f"{what} no longer uses `strategy: depend`, so child pipeline failures no longer fail this one"
            self.out.add(MEDIUM, message, at("trigger"), "strategy: depend")
        before, after = _gl_script(self.old, old), _gl_script(self.new, new)
        lost_cats = [c for c in categories(shell_tools(before)) if c not in categories(shell_tools(after))]
        lost = frozenset(t for t in shell_tools(before) if t[0] in lost_cats)
        if lost and not lost <= fresh_tools:
            message = f"{what} no longer runs {quoted(sorted(n for _, n in lost))}, so {nouns(lost_cats)} no longer run"
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
            r = as_map(rule)
            if rule in before or not cats:
                continue
            cond = str(r.get("if", r.get("changes", r.get("exists", ""))))
            if str(r.get("when", "")) == "never" and cond:
                message = (
                    f"{what} now has a rule `{cond}` with `when: never`, so {nouns(cats)} are skipped when it holds"
                )
                self.out.add(HIGH if _MR.search(cond) else MEDIUM, message, at("rules", i), cond)
            if allows_failure(r.get("allow_failure")):
                message = (
                    f"{what} now has a rule with allow_failure: true, so {failing(cats)} no longer fail the pipeline"
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
