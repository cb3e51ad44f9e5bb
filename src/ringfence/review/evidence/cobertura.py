"""Cobertura XML coverage reports: a coverage drop, and changed lines the tests do not run."""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from ringfence.review.evidence._read import Source
from ringfence.review.findings import Finding, Severity

_COVERAGE_EXPECTED = "a Cobertura XML report (as `coverage xml` writes) with a <coverage line-rate=...> root"


@dataclass(frozen=True, slots=True)
class _Coverage:
    """A Cobertura report: overall line rate, source roots, and hits per line per file."""

    line_rate: float
    sources: tuple[str, ...]
    files: dict[str, dict[int, int]]

    def lines_of(self, path: str) -> dict[int, int] | None:
        """The line hits of a repository path: exact filename, else one matching by suffix."""
        if path in self.files:
            return self.files[path]
        best: tuple[int, str] | None = None
        for name in self.files:
            if path.endswith("/" + name) and self._under_source(path[: -len(name) - 1]):
                score = len(name)
            elif name.endswith("/" + path):
                score = len(path)
            else:
                continue
            if best is None or (-score, name) < (-best[0], best[1]):
                best = (score, name)
        return self.files[best[1]] if best is not None else None

    def _under_source(self, prefix: str) -> bool:
        """Whether a repository directory can be a source root of the report (any, when none is listed)."""
        roots = [s for s in self.sources if s not in ("", ".")]
        return not roots or any(root == prefix or root.endswith("/" + prefix) for root in roots)


def _int_attr(element: ET.Element, name: str) -> int | None:
    """A non-negative integer attribute, None when absent or malformed."""
    text = element.get(name)
    return int(text) if text is not None and text.strip().isdigit() else None


def _cobertura(path: Path, role: str) -> _Coverage:
    """Read and validate a Cobertura XML report."""
    src = Source(f"coverage {role}", path, _COVERAGE_EXPECTED)
    data = src.read()
    if b"<!ENTITY" in data:
        src.fail("declares XML entities, which a coverage report never needs; refused", expectation=False)
    try:
        root = ET.fromstring(data)
    except ET.ParseError as exc:
        src.fail(f"is not well-formed XML ({exc})")
    if root.tag != "coverage":
        src.fail(f"has root element <{root.tag}>, not <coverage>")
    rate_text = root.get("line-rate")
    if rate_text is None:
        src.fail("has no line-rate attribute on <coverage>")
    try:
        rate = float(rate_text)
    except ValueError:
        rate = math.nan
    if not 0.0 <= rate <= 1.0:
        src.fail(f"has line-rate={rate_text!r} on <coverage>, not a number from 0 to 1")
    sources = tuple((s.text or "").strip().replace("\\", "/").rstrip("/") for s in root.iterfind("sources/source"))
    files: dict[str, dict[int, int]] = {}
    for cls in root.iter("class"):
        filename = cls.get("filename")
        if not filename:
            src.fail(f"has a <class name={cls.get('name', '?')!r}> without a filename attribute")
        name = filename.replace("\\", "/").removeprefix("./")
        hits = files.setdefault(name, {})
        for line in cls.iterfind("lines/line"):
            number, count = _int_attr(line, "number"), _int_attr(line, "hits")
            if number is None or count is None:
                src.fail(f"has a <line> in {filename} with number={line.get('number')!r} hits={line.get('hits')!r}")
            hits[number] = max(hits.get(number, 0), count)
    return _Coverage(rate, sources, files)


def _ranges(lines: Iterable[int], limit: int = 8) -> str:
    """``3, 7-9, 12`` for a set of line numbers (at most ``limit`` groups)."""
    groups: list[list[int]] = []
    for n in sorted(lines):
        if groups and n == groups[-1][1] + 1:
            groups[-1][1] = n
        else:
            groups.append([n, n])
    text = ", ".join(f"{a}-{b}" if a != b else str(a) for a, b in groups[:limit])
    return text + (", …" if len(groups) > limit else "")


def _uncovered(report: _Coverage, changed_lines: Mapping[str, set[int]]) -> list[Finding]:
    """One ``coverage.uncovered`` finding per changed file whose changed, measured lines include unrun ones."""
    findings = []
    for raw_path in sorted(changed_lines):
        path = raw_path.removeprefix("./")
        hits = report.lines_of(path)
        if hits is None:
            continue
        measured = {n for n in changed_lines[raw_path] if n in hits}
        missed = sorted(n for n in measured if hits[n] == 0)
        if not missed:
            continue
        severity = Severity.MEDIUM if 2 * len(missed) > len(measured) else Severity.LOW
        message = f"{len(missed)} of {len(measured)} changed lines in {path} are not covered by the tests"
        evidence = f"uncovered changed lines: {_ranges(missed)}"
        findings.append(Finding("coverage.uncovered", severity, message, path=path, line=missed[0], evidence=evidence))
    return findings


def coverage(
    head: Path,
    *,
    base: Path | None = None,
    changed_lines: Mapping[str, set[int]] | None = None,
    drop_threshold: float = 0.5,
) -> tuple[list[Finding], float | None]:
    """Coverage findings, and the line-coverage delta in percentage points (None without ``base``).

    A fall of more than ``drop_threshold`` points from ``base`` to ``head`` is a
    ``coverage.drop`` finding (low below 2 points, medium below 5, high from 5). With
    ``changed_lines``, changed lines the head report lists with no hits are
    ``coverage.uncovered`` findings, one per file.
    """
    report = _cobertura(head, "report")
    findings: list[Finding] = []
    delta: float | None = None
    if base is not None:
        before = _cobertura(base, "base report").line_rate
        delta = round((report.line_rate - before) * 100, 4) + 0.0
        if -delta > drop_threshold:
            drop = -delta
            severity = Severity.LOW if drop < 2 else Severity.MEDIUM if drop < 5 else Severity.HIGH
            message = (
                f"line coverage fell from {before * 100:.1f}% to {report.line_rate * 100:.1f}% (−{drop:.1f} points)"
            )
            findings.append(
                Finding("coverage.drop", severity, message, evidence=f"line-rate {before:g} → {report.line_rate:g}")
            )
    if changed_lines is not None:
        findings.extend(_uncovered(report, changed_lines))
    return findings, delta
