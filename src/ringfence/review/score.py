"""The trust score: 0–100, every point explained.

The formula (also in docs/review.md)::

    score = 60                                   the base: a change nobody knows anything about
          + 15  the head commit's provenance attestation verifies
          + 15  a task file declares the scope and the change stays inside it
          +  5  the agent's track record is clean (≥ 10 gate decisions, ≤ 5 % denied,
                ≥ 3 reviewed changes, none reverted)
          +  5  coverage was measured and did not drop
          − per finding: critical 40, high 20, medium 8, low 3, info 0
            (at most 40 from findings of one kind, so twenty out-of-scope files weigh as
            much as one critical finding and no more)
    clamped to 0–100

The same findings always give the same score; :class:`Point` lists each gain and loss.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from ringfence.review.findings import Finding, Severity

BASE = 60
GAINS = {"provenance": 15, "scope": 15, "track": 5, "coverage": 5}
LOSS = {Severity.CRITICAL: 40, Severity.HIGH: 20, Severity.MEDIUM: 8, Severity.LOW: 3, Severity.INFO: 0}
KIND_CAP = 40


@dataclass(frozen=True)
class Point:
    delta: int
    reason: str
    finding: Finding | None = None


@dataclass(frozen=True)
class Score:
    value: int
    points: tuple[Point, ...]


def score(
    findings: Sequence[Finding],
    *,
    provenance_valid: bool,
    in_scope: bool,
    clean_track: bool,
    coverage_ok: bool,
) -> Score:
    points: list[Point] = [Point(BASE, "base")]
    gains = (
        (provenance_valid, "provenance", "the head commit's provenance attestation verifies"),
        (in_scope, "scope", "a task declares the scope and the change stays inside it"),
        (clean_track, "track", "the agent's track record is clean"),
        (coverage_ok, "coverage", "coverage was measured and did not drop"),
    )
    points += [Point(GAINS[key], reason) for ok, key, reason in gains if ok]
    spent: dict[str, int] = defaultdict(int)
    for f in findings:
        loss = min(LOSS[f.severity], KIND_CAP - spent[f.kind])
        if loss <= 0:
            if LOSS[f.severity]:
                points.append(Point(0, f"{f.kind}: already {KIND_CAP} points for this kind", f))
            continue
        spent[f.kind] += loss
        points.append(Point(-loss, f"{f.severity.value}: {f.message}", f))
    total = sum(p.delta for p in points)
    return Score(max(0, min(100, total)), tuple(points))
