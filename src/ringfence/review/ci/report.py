"""The findings for one CI file, located in its after text."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ringfence.review.ci.commands import gained_noise, noise_consequence
from ringfence.review.ci.yamldoc import Doc, Where
from ringfence.review.findings import Finding, Severity

WEAKENED = "ci.weakened"
DELETED = "ci.deleted"
HIGH, MEDIUM = Severity.HIGH, Severity.MEDIUM


@dataclass
class Report:
    """Findings for one file, located in its after text."""

    path: str
    doc: Doc
    findings: list[Finding] = field(default_factory=list)

    def add(self, severity: Severity, message: str, line: int | None = None, evidence: str = "") -> None:
        finding = Finding(WEAKENED, severity, f"{self.path}: {message}", self.path, line, evidence)
        if finding not in self.findings:
            self.findings.append(finding)

    def at(self, where: Where, pattern: re.Pattern[str] | None = None) -> int | None:
        found = self.doc.find(where, pattern) if pattern is not None else None
        return found if found is not None else self.doc.line(where)

    def noise(self, what: str, before: str, after: str, cats: list[str], where: list[Where]) -> None:
        for n in gained_noise(before, after):
            line = next((f for w in where if (f := self.doc.find(w, n.regex)) is not None), None)
            message = f"{what} now uses `{n.label}`, so {noise_consequence(n, cats)}"
            self.add(HIGH if cats else MEDIUM, message, line if line is not None else self.at(where[0]), n.label)
