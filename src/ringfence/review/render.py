"""A review for people (Markdown for a check run or PR comment) and for machines (JSON).

The Markdown leads with the verdict — route and score in one line — then why, then the
findings worst first with ``file:line``, then the score's arithmetic, point by point.
"""

from __future__ import annotations

import json

from ringfence.review.engine import Report

ICON = {"auto_merge": "🟢", "one_reviewer": "🟡", "senior": "🔴"}
SEVERITY_ICON = {"critical": "🟥", "high": "🟧", "medium": "🟨", "low": "🟦", "info": "⬜"}


def _md(text: str) -> str:
    out = " ".join(text.split())
    for ch in "\\|*_[]<>":
        out = out.replace(ch, "\\" + ch)
    return out


def _code(text: str) -> str:
    return "`" + text.replace("`", "'") + "`"


def markdown(r: Report) -> str:
    route = r.route
    need = {
        "auto_merge": "no review needed",
        "one_reviewer": "1 approving review",
        "senior": f"{route.approvals} senior approving reviews (k-of-n)",
    }[route.name]
    lines = [
        f"### {ICON[route.name]} ringfence review: **{route.label}** — trust score {r.score.value}/100",
        "",
        f"{_md(need)}" + (f"; suggested: {', '.join(_md(x) for x in route.reviewers)}" if route.reviewers else ""),
    ]
    if route.reasons:
        lines += ["", "Why: " + "; ".join(_md(x) for x in route.reasons)]
    added = sum(f.added for f in r.diff.files)
    removed = sum(f.removed for f in r.diff.files)
    rows = [
        (
            "change",
            f"{_code(r.diff.base[:12])} → {_code(r.diff.head[:12])}: {len(r.diff.files)} files, +{added} −{removed}",
        ),
        ("task", _md(r.task.label) if r.task else "none given"),
        ("agent", _md(r.agent) if r.agent else "unknown"),
        ("provenance", _md(r.provenance.status)),
    ]
    if r.record is not None:
        rec = r.record
        rows.append(
            (
                "track record",
                f"{rec.decisions} decisions, {rec.denials} denied, {rec.approved} approved, "
                f"{rec.reviews} reviewed, {len(rec.reverted)} reverted",
            )
        )
    if r.cost_delta is not None:
        rows.append(("monthly cost", f"{'+' if r.cost_delta >= 0 else '−'}{abs(r.cost_delta):,.2f}"))
    if r.coverage_delta is not None:
        rows.append(("coverage", f"{r.coverage_delta:+.1f} points"))
    if r.evidence:
        rows.append(("evidence", _md(", ".join(r.evidence))))
    lines += ["", "| | |", "|---|---|", *(f"| {k} | {v} |" for k, v in rows)]
    shown = [f for f in r.findings if f.severity.value != "info"]
    quiet = [f for f in r.findings if f.severity.value == "info"]
    lines += ["", f"#### Findings ({len(shown)})", ""]
    if not shown:
        lines.append("Nothing found that needs a reviewer's attention.")
    for f in shown:
        where = f" {_code(f.location)}" if f.location else ""
        lines.append(
            f"- {SEVERITY_ICON[f.severity.value]} **{f.severity.value}** {_code(f.kind)}{where} — {_md(f.message)}"
        )
    if quiet:
        lines += ["", *(f"- ⬜ {_md(f.message)}" for f in quiet)]
    lines += ["", f"<details><summary>Score {r.score.value}: how it adds up</summary>", ""]
    for p in r.score.points:
        lines.append(f"- {p.delta:+d} {_md(p.reason)}")
    total = sum(p.delta for p in r.score.points)
    if total != r.score.value:
        lines.append(f"- = {total}, clamped to {r.score.value}")
    lines += ["", "</details>", ""]
    return "\n".join(lines)


def as_json(r: Report) -> str:
    return json.dumps(r.to_dict(), indent=2, ensure_ascii=False)
