"""Routing: auto-merge eligible, one reviewer, or senior reviewers with k-of-n.

* **senior** — any finding at or above ``routes.senior.min_severity`` (default high), or a
  score below ``routes.senior.below_score`` (default 40): ``k`` (default 2) senior
  reviewers, suggested from CODEOWNERS of the files behind the findings, plus
  ``routes.senior.reviewers``.
* **auto_merge** — score at least ``routes.auto_merge.min_score`` (default 85), no finding
  above ``routes.auto_merge.max_severity`` (default low), **and** the head commit's
  provenance verifies: a change without valid provenance is never auto-merge eligible,
  whatever the configuration says.
* **one_reviewer** — everything else, with a reviewer suggested from CODEOWNERS.

Exit codes: 0 auto_merge, 1 one_reviewer, 2 senior (3 is an error).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ringfence.review.config import Routes
from ringfence.review.findings import Finding, Severity

EXIT = {"auto_merge": 0, "one_reviewer": 1, "senior": 2}
LABEL = {"auto_merge": "auto-merge eligible", "one_reviewer": "one reviewer", "senior": "senior reviewers"}


@dataclass(frozen=True)
class Route:
    name: str  # auto_merge | one_reviewer | senior
    reasons: tuple[str, ...]
    approvals: int  # reviews needed: 0, 1 or k
    reviewers: tuple[str, ...]

    @property
    def exit_code(self) -> int:
        return EXIT[self.name]

    @property
    def label(self) -> str:
        return LABEL[self.name]


def _suggest(paths: Sequence[str], owners: Mapping[str, Sequence[str]], exclude: set[str]) -> list[str]:
    out: list[str] = []
    for path in paths:
        for owner in owners.get(path, ()):
            if owner not in out and owner.lstrip("@") not in exclude:
                out.append(owner)
    return out


def route(
    findings: Sequence[Finding],
    value: int,
    *,
    provenance_valid: bool,
    routes: Routes,
    owners: Mapping[str, Sequence[str]],
    changed: Sequence[str],
    exclude: set[str] = frozenset(),  # type: ignore[assignment]
) -> Route:
    worst = max((f.severity.rank for f in findings), default=Severity.INFO.rank)
    serious = [f for f in findings if f.severity.rank >= routes.senior_min_severity.rank]
    if serious or value < routes.senior_below_score:
        reasons = [
            f"{f.severity.value} finding: {f.kind}" + (f" ({f.location})" if f.location else "") for f in serious
        ]
        if value < routes.senior_below_score:
            reasons.append(f"score {value} is below {routes.senior_below_score}")
        flagged = [f.path for f in serious if f.path] or list(changed)
        reviewers = _suggest(flagged, owners, exclude)
        reviewers += [r for r in routes.senior_reviewers if r not in reviewers]
        return Route("senior", tuple(reasons), routes.senior_k, tuple(reviewers))
    if value >= routes.auto_min_score and worst <= routes.auto_max_severity.rank and provenance_valid:
        return Route("auto_merge", (f"score {value} ≥ {routes.auto_min_score}, provenance verified",), 0, ())
    reasons = []
    if not provenance_valid:
        reasons.append("the head commit's provenance does not verify, so it is never auto-merge eligible")
    if value < routes.auto_min_score:
        reasons.append(f"score {value} is below {routes.auto_min_score}")
    if worst > routes.auto_max_severity.rank:
        reasons.append(f"a finding above {routes.auto_max_severity.value}")
    flagged = [f.path for f in findings if f.path and f.severity.rank > Severity.INFO.rank] or list(changed)
    return Route("one_reviewer", tuple(reasons), 1, tuple(_suggest(flagged, owners, exclude)[:3]))
