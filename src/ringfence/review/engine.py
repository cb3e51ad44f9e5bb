"""One review: read the change, run every check, weigh the evidence, score and route it."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ringfence.ledger.store import MerkleLedger
from ringfence.review import checks, route, score, track
from ringfence.review import config as review_config
from ringfence.review import task as review_task
from ringfence.review.diff import Diff, read_diff
from ringfence.review.findings import Finding, ReviewInputError

SEVERITY_ORDER = {"critical": 0, "high": 1, "medium": 2, "low": 3, "info": 4}


@dataclass
class Inputs:
    repo: Path
    base: str
    head: str
    task: Path | None = None
    config: Path | None = None
    terraform_plan: Path | None = None
    prices: Path | None = None
    infracost: Path | None = None
    sarif: Path | None = None
    sarif_base: Path | None = None
    coverage: Path | None = None
    coverage_base: Path | None = None
    verify_policy: Path | None = None
    agent: str | None = None
    ledger: MerkleLedger | None = None


@dataclass
class Report:
    diff: Diff
    config: review_config.ReviewConfig
    task: review_task.Task | None
    findings: list[Finding]
    score: score.Score
    route: route.Route
    provenance: track.Provenance
    record: track.Record | None
    agent: str | None
    cost_delta: float | None = None
    coverage_delta: float | None = None
    owners_source: str | None = None
    evidence: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "route": self.route.name,
            "route_label": self.route.label,
            "exit_code": self.route.exit_code,
            "score": self.score.value,
            "approvals_needed": self.route.approvals,
            "reviewers": list(self.route.reviewers),
            "reasons": list(self.route.reasons),
            "base": self.diff.base,
            "head": self.diff.head,
            "files": len(self.diff.files),
            "lines": {
                "added": sum(f.added for f in self.diff.files),
                "removed": sum(f.removed for f in self.diff.files),
            },
            "task": {"id": self.task.id, "title": self.task.title, "source": self.task.source} if self.task else None,
            "agent": self.agent,
            "provenance": {"status": self.provenance.status, "detail": self.provenance.detail},
            "track_record": self.record.to_dict() if self.record else None,
            "cost_delta_monthly": self.cost_delta,
            "coverage_delta_points": self.coverage_delta,
            "evidence": self.evidence,
            "config": self.config.source,
            "findings": [f.to_dict() for f in self.findings],
            "points": [
                {"delta": p.delta, "reason": p.reason, **({"kind": p.finding.kind} if p.finding else {})}
                for p in self.score.points
            ],
        }


def _need(path: Path | None, flag: str) -> Path | None:
    if path is not None and not path.is_file():
        raise ReviewInputError(f"{flag} {path}: no such file")
    return path


def review(inp: Inputs) -> Report:
    """Review ``inp.base``..``inp.head``. Raises :class:`ReviewInputError` on bad input."""
    from ringfence.review import evidence as evidence
    from ringfence.review.codeowners import read_at

    for flag, path in (
        ("--task", inp.task),
        ("--config", inp.config),
        ("--terraform-plan", inp.terraform_plan),
        ("--prices", inp.prices),
        ("--infracost", inp.infracost),
        ("--sarif", inp.sarif),
        ("--sarif-base", inp.sarif_base),
        ("--coverage", inp.coverage),
        ("--coverage-base", inp.coverage_base),
        ("--verify-policy", inp.verify_policy),
    ):
        _need(path, flag)
    if inp.prices is not None and inp.terraform_plan is None:
        raise ReviewInputError("--prices prices a Terraform plan: give --terraform-plan too")
    for flag, base_path, head_path in (
        ("--sarif-base", inp.sarif_base, inp.sarif),
        ("--coverage-base", inp.coverage_base, inp.coverage),
    ):
        if base_path is not None and head_path is None:
            raise ReviewInputError(f"{flag} is compared with the head's report: give {flag.removesuffix('-base')} too")
    diff = read_diff(inp.repo, inp.base, inp.head)
    cfg = review_config.load(diff.repo, diff.base, inp.config)
    the_task = review_task.load(inp.task, cfg.subsystems) if inp.task is not None else None
    classifier = checks.Classifier(cfg)
    findings: list[Finding] = []
    findings += checks.scope(diff, the_task, cfg, classifier)
    findings += checks.sensitive(diff, classifier)
    findings += checks.migrations(diff)
    findings += checks.ci(diff)
    findings += checks.secrets(diff)
    used: list[str] = []
    cost: float | None = None
    cover: float | None = None
    changed = diff.changed_lines()
    if inp.terraform_plan is not None:
        found, cost = evidence.terraform_plan(inp.terraform_plan, prices=inp.prices)
        findings += found
        used.append(f"terraform plan {inp.terraform_plan.name}")
    if inp.infracost is not None:
        found, infracost_delta = evidence.infracost(inp.infracost)
        findings += found
        cost = infracost_delta if infracost_delta is not None else cost
        used.append(f"infracost {inp.infracost.name}")
    if inp.sarif is not None:
        findings += evidence.sarif(inp.sarif, base=inp.sarif_base, changed_lines=None if inp.sarif_base else changed)
        used.append(f"SARIF {inp.sarif.name}")
    if inp.coverage is not None:
        found, cover = evidence.coverage(
            inp.coverage, base=inp.coverage_base, changed_lines=changed, drop_threshold=cfg.coverage_drop
        )
        findings += found
        used.append(f"coverage {inp.coverage.name}")

    policy = inp.verify_policy or cfg.verify_policy
    prov, found = track.provenance(diff, policy, from_base=inp.verify_policy is None and cfg.from_base)
    findings += found
    agent = inp.agent or prov.agent
    record = None
    if agent:
        record = track.record(inp.ledger, agent, diff.repo, diff.head)
        findings += track.track_findings(record)
    findings.sort(key=lambda f: (SEVERITY_ORDER[f.severity.value], f.path or "", f.line or 0, f.kind))

    in_scope = the_task is not None and not any(f.kind.startswith("scope.") and f.severity.rank > 0 for f in findings)
    coverage_ok = inp.coverage is not None and not any(f.kind == "coverage.drop" for f in findings)
    result = score.score(
        findings,
        provenance_valid=prov.valid,
        in_scope=in_scope,
        clean_track=record is not None and record.clean,
        coverage_ok=coverage_ok,
    )
    owners = read_at(diff.repo, diff.base)
    paths = [f.path for f in diff.files]
    owner_map = owners.owners_for(paths) if owners is not None else {}
    chosen = route.route(
        findings,
        result.value,
        provenance_valid=prov.valid,
        routes=cfg.routes,
        owners=owner_map,
        changed=paths,
        exclude={agent} if agent else set(),
    )
    return Report(
        diff=diff,
        config=cfg,
        task=the_task,
        findings=findings,
        score=result,
        route=chosen,
        provenance=prov,
        record=record,
        agent=agent,
        cost_delta=cost,
        coverage_delta=cover,
        owners_source=owners.source if owners is not None else None,
        evidence=used,
    )


def ledger_entry(report: Report) -> dict[str, Any]:
    """The ledger's record of a review (what agent metrics count)."""
    counts: dict[str, int] = {}
    for f in report.findings:
        counts[f.kind] = counts.get(f.kind, 0) + 1
    return {
        "kind": "review",
        "principal_type": "agent" if report.agent else "service",
        "principal_id": report.agent or "unknown",
        "decision": report.route.name,
        "head": report.diff.head,
        "base": report.diff.base,
        "route": report.route.name,
        "score": report.score.value,
        "approvals_needed": report.route.approvals,
        "task": report.task.id if report.task else None,
        "provenance": report.provenance.status,
        "findings": counts,
        "reverted": list(report.record.reverted) if report.record else [],
    }
