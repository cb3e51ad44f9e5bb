"""``ringfence review`` and ``ringfence ci review``: review an agent's change and route it.

Exit codes by route: **0** auto-merge eligible, **1** one reviewer, **2** senior reviewers
(k-of-n), **3** bad input or an error.
"""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

EXIT_ERROR = 3


def _evidence_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--task", type=Path, help="the task file: what the change is for and its allowed scope")
    p.add_argument("--format", choices=("markdown", "json"), default="markdown", help="output (default markdown)")
    p.add_argument("--output", type=Path, help="also write the report here")
    p.add_argument("--config", type=Path, help="review configuration (default: .ringfence/review.yaml at the base)")
    p.add_argument("--repo", type=Path, default=Path("."), help="the repository (default: here)")
    p.add_argument("--agent", help="the agent whose change it is (default: from the provenance attestation)")
    e = p.add_argument_group("evidence from tools you already run")
    e.add_argument("--terraform-plan", type=Path, help="`terraform show -json plan.out` output")
    e.add_argument("--prices", type=Path, help="monthly prices per resource type, for the plan's cost delta")
    e.add_argument("--infracost", type=Path, help="`infracost diff --format json` output")
    e.add_argument("--sarif", type=Path, help="SARIF from a static analyser, run on the head")
    e.add_argument(
        "--sarif-base", type=Path, help="the same analyser's SARIF on the base (new findings = the difference)"
    )
    e.add_argument("--coverage", type=Path, help="Cobertura / coverage.py XML for the head")
    e.add_argument("--coverage-base", type=Path, help="the same for the base (coverage delta)")
    e.add_argument("--verify-policy", type=Path, help="verify the head commit's provenance with this policy")


def add_parser(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "review",
        help="review an agent's change: scope vs task, sensitive changes, evidence, trust score, route",
        allow_abbrev=False,
        description="Review BASE...HEAD deterministically and route it: exit 0 auto-merge eligible, 1 one reviewer, "
        "2 senior reviewers (k-of-n), 3 error.",
    )
    p.add_argument("--base", required=True, help="what the change is compared with (its merge base is used)")
    p.add_argument("--head", default="HEAD", help="the change (default HEAD)")
    p.add_argument("--record", action="store_true", help="record the review in the ledger (agent metrics count it)")
    _evidence_args(p)
    p.set_defaults(run=run_review)

    a: argparse.ArgumentParser = sub.add_parser(
        "agents",
        help="per-agent metrics from the ledger: changes reviewed, routes, approvals, denials, reverts, time to merge",
    )
    a.add_argument("--json", action="store_true", help="print JSON")
    a.set_defaults(run=run_agents)


def add_ci_parser(ci_sub: Any) -> None:
    p: argparse.ArgumentParser = ci_sub.add_parser(
        "review",
        help="review the pull/merge request's change in CI; exit by route (0 auto-merge, 1 one reviewer, 2 senior)",
        allow_abbrev=False,
        description="`ringfence review` in a pipeline: base and head from the CI system (GitHub pull_request events, "
        "GitLab merge request pipelines) unless given, the Markdown appended to $GITHUB_STEP_SUMMARY, the review "
        "recorded in the ledger.",
    )
    p.add_argument("--base", help="default: the pull/merge request's base commit")
    p.add_argument("--head", help="default: the pull/merge request's head commit")
    p.add_argument("--comment-file", type=Path, help="write the Markdown here too (for a PR-comment step)")
    p.add_argument("--exit-zero", action="store_true", help="always exit 0 after reporting (routing is advisory)")
    _evidence_args(p)
    p.set_defaults(run=run_ci_review)


def _inputs(ns: argparse.Namespace, base: str, head: str, ledger: Any) -> Any:
    from ringfence.review.engine import Inputs

    return Inputs(
        repo=ns.repo,
        base=base,
        head=head,
        task=ns.task,
        config=ns.config,
        terraform_plan=ns.terraform_plan,
        prices=ns.prices,
        infracost=ns.infracost,
        sarif=ns.sarif,
        sarif_base=ns.sarif_base,
        coverage=ns.coverage,
        coverage_base=ns.coverage_base,
        verify_policy=ns.verify_policy,
        agent=ns.agent,
        ledger=ledger,
    )


def _run(ns: argparse.Namespace, base: str, head: str, *, record: bool) -> Any:
    from ringfence.commands._ledger import open_configured
    from ringfence.config import load_settings
    from ringfence.ledger.store import open_ledger
    from ringfence.review.engine import ledger_entry, review

    ledger, _ = open_configured()
    if ledger is None and record:  # the first record creates the ledger
        configured = load_settings(os.getcwd()).ledger_location
        ledger = open_ledger(configured) if configured else None
    try:
        report = review(_inputs(ns, base, head, ledger))
        if record and ledger is not None:
            ledger.append({**ledger_entry(report), "ts": _now()})
    finally:
        if ledger is not None:
            ledger.close()
    return report


def _now() -> str:
    import time

    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def _emit(ns: argparse.Namespace, report: Any) -> str:
    from ringfence.review.render import as_json, markdown

    text = as_json(report) if ns.format == "json" else markdown(report)
    print(text)
    if ns.output is not None:
        ns.output.write_text(text + "\n", encoding="utf-8")
    return markdown(report) if ns.format == "json" else text


def run_review(ns: argparse.Namespace) -> int:
    report = _run(ns, ns.base, ns.head, record=ns.record)
    _emit(ns, report)
    code: int = report.route.exit_code
    return code


def pull_request_range(env: Mapping[str, str]) -> tuple[str, str] | None:
    """(base, head) of the pull or merge request this pipeline runs for, when the CI says."""
    if env.get("GITHUB_ACTIONS") == "true" and env.get("GITHUB_EVENT_PATH"):
        try:
            with open(env["GITHUB_EVENT_PATH"], encoding="utf-8") as fh:
                event = json.load(fh)
        except (OSError, ValueError):
            return None
        pr = event.get("pull_request") if isinstance(event, dict) else None
        if isinstance(pr, dict):
            base, head = (pr.get("base") or {}).get("sha"), (pr.get("head") or {}).get("sha")
            if isinstance(base, str) and isinstance(head, str):
                return base, head
        return None
    base = env.get("CI_MERGE_REQUEST_DIFF_BASE_SHA")
    head = env.get("CI_COMMIT_SHA")
    if env.get("GITLAB_CI") and base and head:
        return base, head
    return None


def run_ci_review(ns: argparse.Namespace) -> int:
    from ringfence.review.findings import ReviewInputError

    found = pull_request_range(os.environ)
    base = ns.base or (found[0] if found else None)
    head = ns.head or (found[1] if found else None)
    if not base or not head:
        raise ReviewInputError(
            "no pull or merge request found in this pipeline's environment: pass --base and --head "
            "(GitHub: run on pull_request events; GitLab: merge request pipelines)"
        )
    report = _run(ns, base, head, record=True)
    md = _emit(ns, report)
    for target in (os.environ.get("GITHUB_STEP_SUMMARY"), ns.comment_file):
        if target:
            with open(target, "a", encoding="utf-8") as fh:
                fh.write(md + "\n")
    code: int = report.route.exit_code
    return 0 if ns.exit_zero else code


def run_agents(ns: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.table import Table

    from ringfence.commands._ledger import open_configured
    from ringfence.review.metrics import agent_metrics

    ledger, location = open_configured()
    if ledger is None:
        Console(stderr=True).print(f"No ledger at {location}: nothing recorded yet.")
        return 0
    try:
        rows = agent_metrics(ledger)
    finally:
        ledger.close()
    if ns.json:
        print(json.dumps(rows, indent=2))
        return 0
    table = Table(title="Agents", title_justify="left")
    for col in ("agent", "decisions", "denied", "approvals", "reviewed", "auto / one / senior", "reverted", "to merge"):
        table.add_column(col, justify="left" if col == "agent" else "right")
    for r in rows:
        routes = r["routes"]
        table.add_row(
            r["agent"],
            str(r["decisions"]),
            f"{r['denials']} ({r['denial_rate']:.0%})" if r["decisions"] else "0",
            f"{r['approvals_granted']}/{r['approvals_requested']}",
            str(r["reviewed"]),
            f"{routes['auto_merge']} / {routes['one_reviewer']} / {routes['senior']}",
            f"{r['reverted']} ({r['revert_rate']:.0%})" if r["reviewed"] else str(r["reverted"]),
            _span(r["median_seconds_to_merge"]),
        )
    Console().print(table)
    return 0


def _span(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    s = int(seconds)
    if s >= 86400:
        return f"{s // 86400}d{(s % 86400) // 3600}h"
    if s >= 3600:
        return f"{s // 3600}h{(s % 3600) // 60:02d}m"
    return f"{s // 60}m{s % 60:02d}s"
