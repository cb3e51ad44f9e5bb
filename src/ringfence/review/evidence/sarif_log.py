"""SARIF 2.1.0 logs: the results a change introduced, against a base log or on the changed lines."""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from ringfence.jsontype import json_type
from ringfence.review.evidence._read import Source, as_list, as_object, as_str
from ringfence.review.findings import Finding, Severity

_SARIF_EXPECTED = 'a SARIF 2.1.0 log (`version` "2.1.0" and a `runs` list)'
_LEVEL_SEVERITY = {"error": Severity.HIGH, "warning": Severity.MEDIUM, "note": Severity.LOW, "none": Severity.INFO}


@dataclass(frozen=True, slots=True)
class _Result:
    """One SARIF result, reduced to what identifies and describes it."""

    tool: str
    rule_id: str
    text: str
    uri: str | None
    line: int | None
    severity: Severity
    why: str
    fingerprints: frozenset[tuple[str, str]]

    @property
    def key(self) -> tuple[str, str, str | None, str]:
        """The line-free identity used when a result has no comparable fingerprint."""
        return self.tool, self.rule_id, self.uri, self.text


def _cvss_severity(score: object) -> Severity | None:
    """The severity of a ``security-severity`` CVSS score, None when it is not a number."""
    try:
        value = float(score) if isinstance(score, str | int | float) and not isinstance(score, bool) else math.nan
    except ValueError:
        return None
    if not math.isfinite(value):
        return None
    if value >= 9.0:
        return Severity.CRITICAL
    if value >= 7.0:
        return Severity.HIGH
    if value >= 4.0:
        return Severity.MEDIUM
    return Severity.LOW if value > 0 else Severity.INFO


def _sarif_path(uri: str, bases: Iterable[str] = ()) -> str:
    """A repository path from an artifact URI: no ``file://``, no leading ``./``, percent-decoded."""
    parts = urlsplit(uri)
    if parts.scheme == "file":
        path = unquote((parts.netloc if parts.netloc not in ("", "localhost") else "") + parts.path)
    elif len(parts.scheme) > 1:  # another scheme; a one-letter one is a Windows drive
        return uri
    else:
        path = unquote(uri)
    for base in sorted(bases, key=len, reverse=True):
        prefix = base.rstrip("/") + "/"
        if base and path.startswith(prefix):
            path = path[len(prefix) :]
            break
    while path.startswith("./"):
        path = path[2:]
    return path


class _Run:
    """One SARIF run: its tool, rules and path bases, for reading its results."""

    def __init__(self, src: Source, index: int, run: object) -> None:
        if not isinstance(run, dict):
            src.fail(f"runs[{index}] is a JSON {json_type(run)}, not an object")
        self.run = run
        tool = as_object(run.get("tool"))
        driver = as_object(tool.get("driver"))
        self.tool = as_str(driver.get("name")) or "SARIF"
        self.driver_rules = [as_object(r) for r in as_list(driver.get("rules"))]
        self.extension_rules = [
            [as_object(r) for r in as_list(as_object(x).get("rules"))] for x in as_list(tool.get("extensions"))
        ]
        self.rules_by_id: dict[str, dict[str, object]] = {}
        for rule in [*self.driver_rules, *(r for rules in self.extension_rules for r in rules)]:
            if (rule_id := as_str(rule.get("id"))) is not None:
                self.rules_by_id.setdefault(rule_id, rule)
        self.artifacts = [as_object(as_object(a).get("location")) for a in as_list(run.get("artifacts"))]
        self.bases = [
            _sarif_path(uri)
            for base in as_object(run.get("originalUriBaseIds")).values()
            if (uri := as_str(as_object(base).get("uri"))) is not None and urlsplit(uri).scheme == "file"
        ]

    def rule(self, result: Mapping[str, object]) -> dict[str, object]:
        """The rule a result refers to (by index into its tool component, else by id), or {}."""
        ref = as_object(result.get("rule"))
        rule_id = as_str(result.get("ruleId")) or as_str(ref.get("id"))
        index = ref.get("index", result.get("ruleIndex"))
        component = as_object(ref.get("toolComponent"))
        rules: list[dict[str, object]] = self.driver_rules
        if component:
            at = component.get("index")
            valid = isinstance(at, int) and not isinstance(at, bool) and 0 <= at < len(self.extension_rules)
            rules = self.extension_rules[at] if valid and isinstance(at, int) else []
        if isinstance(index, int) and not isinstance(index, bool) and 0 <= index < len(rules):
            rule = rules[index]
            if rule_id is None or rule.get("id") in (rule_id, rule_id.split("/")[0]):
                return rule
        if rule_id is None:
            return {}
        return self.rules_by_id.get(rule_id) or self.rules_by_id.get(rule_id.split("/")[0], {})

    def location(self, result: Mapping[str, object]) -> tuple[str | None, int | None]:
        """The path and start line of a result's first location."""
        physical = as_object(as_object(next(iter(as_list(result.get("locations"))), None)).get("physicalLocation"))
        artifact = as_object(physical.get("artifactLocation"))
        uri = as_str(artifact.get("uri"))
        index = artifact.get("index")
        if uri is None and isinstance(index, int) and 0 <= index < len(self.artifacts):
            uri = as_str(self.artifacts[index].get("uri"))
        line = as_object(physical.get("region")).get("startLine")
        valid_line = line if isinstance(line, int) and not isinstance(line, bool) and line > 0 else None
        return (_sarif_path(uri, self.bases) if uri is not None else None), valid_line

    def results(self, src: Source, index: int) -> list[_Result]:
        """The run's results that report a problem (not passes, not suppressed, not absent)."""
        results = self.run.get("results")
        if results is None:
            return []
        if not isinstance(results, list):
            src.fail(f"runs[{index}].results is a JSON {json_type(results)}, not a list")
        out: list[_Result] = []
        for result in results:
            if not isinstance(result, dict):
                src.fail(f"runs[{index}].results holds a JSON {json_type(result)}, not a result object")
            if _reported(result):
                out.append(self.reduce(result))
        return out

    def reduce(self, result: Mapping[str, object]) -> _Result:
        """A result reduced to identity, place, text and severity."""
        rule = self.rule(result)
        rule_id = (
            as_str(result.get("ruleId")) or as_str(as_object(result.get("rule")).get("id")) or as_str(rule.get("id"))
        )
        kind = result.get("kind", "fail")
        default = as_object(rule.get("defaultConfiguration")).get("level")
        level = result.get("level") or (default if kind == "fail" else "none") or "warning"
        level = level if isinstance(level, str) and level in _LEVEL_SEVERITY else "warning"
        score = as_object(result.get("properties")).get("security-severity")
        if score is None:
            score = as_object(rule.get("properties")).get("security-severity")
        cvss = _cvss_severity(score)
        why = f"level {level}" + (f", security-severity {score}" if cvss is not None else "")
        uri, line = self.location(result)
        fingerprints = frozenset(
            (f"{group}/{name}", value)
            for group in ("fingerprints", "partialFingerprints")
            for name, value in as_object(result.get(group)).items()
            if isinstance(value, str)
        )
        text = _message_text(result, rule)
        severity = cvss or _LEVEL_SEVERITY[level]
        return _Result(self.tool, rule_id or "(no rule)", text, uri, line, severity, why, fingerprints)


def _reported(result: Mapping[str, object]) -> bool:
    """Whether a result reports a current, unsuppressed problem."""
    if result.get("kind") in ("pass", "notApplicable") or result.get("baselineState") == "absent":
        return False
    suppressions = as_list(result.get("suppressions"))
    return not any(as_object(s).get("status", "accepted") == "accepted" for s in suppressions)


def _message_text(result: Mapping[str, object], rule: Mapping[str, object]) -> str:
    """A result's message, from ``text`` or the rule's ``messageStrings``, arguments filled in, whitespace collapsed."""
    message = as_object(result.get("message"))
    text = as_str(message.get("text"))
    if text is None and (message_id := as_str(message.get("id"))) is not None:
        text = as_str(as_object(as_object(rule.get("messageStrings")).get(message_id)).get("text"))
    arguments = [str(a) for a in as_list(message.get("arguments"))]
    text = re.sub(
        r"\{(\d+)\}", lambda m: arguments[int(m[1])] if int(m[1]) < len(arguments) else m[0], text or "(no message)"
    )
    return " ".join(text.split())


def _sarif_results(path: Path, role: str) -> list[_Result]:
    """The deduplicated problem results of a SARIF file."""
    src = Source(f"SARIF {role}", path, _SARIF_EXPECTED)
    doc = src.json_object()
    version = doc.get("version")
    if version is None:
        src.fail("has no `version`")
    if version != "2.1.0":
        src.fail(f"is SARIF version {version!r}, not 2.1.0")
    runs = doc.get("runs")
    if not isinstance(runs, list):
        src.fail("has no `runs` list" if runs is None else f"`runs` is a JSON {json_type(runs)}, not a list")
    seen: dict[tuple[object, ...], _Result] = {}
    for index, raw in enumerate(runs):
        for result in _Run(src, index, raw).results(src, index):
            seen.setdefault((*result.key, result.line), result)
    return list(seen.values())


def _changed_in(path: str, changed: Mapping[str, set[int]]) -> set[int] | None:
    """The changed lines of ``path``: exact key, else by whole-component suffix.

    A relative path may be relative to a subdirectory (the tool ran there), so a key may end
    with it; an absolute path may end with a key."""
    normal = {key.removeprefix("./"): lines for key, lines in changed.items()}
    if path in normal:
        return normal[path]
    absolute = path.startswith("/")
    matches = [key for key in normal if key.endswith("/" + path) or (absolute and path.endswith("/" + key))]
    return normal[min(matches, key=lambda k: (-len(k), k))] if matches else None


def _same_fingerprints(a: _Result, b: _Result) -> bool:
    """Whether two results of the same tool and rule agree on every fingerprint both carry (and share one)."""
    mine, theirs = dict(a.fingerprints), dict(b.fingerprints)
    shared = mine.keys() & theirs.keys()
    return bool(shared) and all(mine[k] == theirs[k] for k in shared)


def _new_against(head: list[_Result], base: list[_Result]) -> list[_Result]:
    """Head results not in base: by fingerprints when base carries the same kind, else by line-free identity."""
    by_print: dict[tuple[str, str, str, str], list[_Result]] = {}
    for r in base:
        for fp in r.fingerprints:
            by_print.setdefault((r.tool, r.rule_id, *fp), []).append(r)
    base_kinds = {name for r in base for name, _ in r.fingerprints}
    base_keys = Counter(r.key for r in base)
    new: set[int] = set()
    for i, result in sorted(enumerate(head), key=lambda item: (item[1].uri or "", item[1].line or 0)):
        if any(name in base_kinds for name, _ in result.fingerprints):
            candidates = (b for fp in result.fingerprints for b in by_print.get((result.tool, result.rule_id, *fp), ()))
            if not any(_same_fingerprints(result, b) for b in candidates):
                new.add(i)
        elif base_keys[result.key] > 0:
            base_keys[result.key] -= 1
        else:
            new.add(i)
    return [r for i, r in enumerate(head) if i in new]


def sarif(
    head: Path, *, base: Path | None = None, changed_lines: Mapping[str, set[int]] | None = None
) -> list[Finding]:
    """``sarif.new`` findings for the results the change introduced.

    With ``base``, the head results whose identity (a fingerprint both logs carry, else
    tool, rule, file and message, never the line) is not in base; else, with
    ``changed_lines``, the results on a changed line of a changed file; else every result.
    Severity comes from the rule's ``security-severity`` when present, else from the level.
    """
    results = _sarif_results(head, "log")
    if base is not None:
        results = _new_against(results, _sarif_results(base, "base log"))
    elif changed_lines is not None:
        kept = []
        for result in results:
            lines = _changed_in(result.uri, changed_lines) if result.uri is not None else None
            if lines is not None and (result.line is None or result.line in lines):
                kept.append(result)
        results = kept
    return [
        Finding(
            "sarif.new",
            r.severity,
            f"{r.tool} {r.rule_id}: {_clip(r.text)}",
            path=r.uri,
            line=r.line,
            evidence=r.why,
        )
        for r in results
    ]


def _clip(text: str, limit: int = 400) -> str:
    """``text`` cut to ``limit`` characters."""
    return text if len(text) <= limit else text[: limit - 1] + "…"
