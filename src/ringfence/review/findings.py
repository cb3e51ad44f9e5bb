"""What a review finds: typed, located findings with a severity.

Every analysis of :mod:`ringfence.review` (scope, sensitive paths, migrations, CI
configuration, Terraform plans, SARIF, coverage, provenance, the agent's track record)
returns :class:`Finding` values; :mod:`~ringfence.review.score` turns them into points and
:mod:`~ringfence.review.route` into a route. A finding says what was found, where
(``path:line`` when it has a place), and why it matters, in one sentence a reviewer can
act on.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from ringfence.errors import ReviewError


class Severity(enum.StrEnum):
    INFO = "info"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return _RANK[self]


_RANK = {Severity.INFO: 0, Severity.LOW: 1, Severity.MEDIUM: 2, Severity.HIGH: 3, Severity.CRITICAL: 4}


@dataclass(frozen=True, slots=True)
class Finding:
    """One thing a reviewer should know about the change.

    ``kind`` is a stable dotted id (``scope.outside``, ``migration.destructive``,
    ``ci.weakened``, ``terraform.delete``, ``sarif.new``, ``coverage.drop``, …) that
    routing rules and the score table refer to."""

    kind: str
    severity: Severity
    message: str
    path: str | None = None
    line: int | None = None
    evidence: str = ""

    @property
    def location(self) -> str:
        if self.path is None:
            return ""
        return f"{self.path}:{self.line}" if self.line is not None else self.path

    def to_dict(self) -> dict[str, object]:
        out: dict[str, object] = {"kind": self.kind, "severity": self.severity.value, "message": self.message}
        if self.path is not None:
            out["path"] = self.path
        if self.line is not None:
            out["line"] = self.line
        if self.evidence:
            out["evidence"] = self.evidence
        return out


class ReviewInputError(ReviewError):
    """An input file (task, plan, SARIF, coverage, config) is missing or malformed; the message says which and why."""
