"""Decision latency with the control checks included, on SQLite and PostgreSQL.

Measures ``Gate.decide`` (no ledger, so only control state differs) in one run for:

* **policy only** — the baseline: analysis and policy, no control state;
* **allow + control** — the same allowed commands with the kill-switch check and a
  budget spent per decision;
* **held + control** — a require_approval action: grant lookup, denial lookup and the
  deduplicated pending request;
* **grant use** — an approved action: window check, budget, and the atomic single-use
  consumption of its grant.

Usage: ``python bench/control.py [--n 2000] [--pg postgresql://…]`` (PostgreSQL is
skipped with a note when unreachable). Reports p50/p95 per case and the ratio of p50
to the policy-only baseline measured in the same run.
"""

from __future__ import annotations

import argparse
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._common import git_rev, pct, summary, tempdir

ALLOWED = ["git status", "ls -la src", "npm test", "python -m pytest -q", "git diff --stat", "cat README.md"]


def build(location: str | None, tmp: Path, budgets: bool = True):  # type: ignore[no-untyped-def]
    from ringfence.config import Settings
    from ringfence.control.engine import Controller
    from ringfence.control.keys import create_key, load_key
    from ringfence.control.settings import Approver, Budget, ControlSettings
    from ringfence.control.store import open_store
    from ringfence.gate import Gate, builtin_policy

    policy = builtin_policy()
    keydir = tmp / f"keys-{uuid.uuid4().hex[:6]}"
    approvers = {}
    keys = {}
    for name in ("alice", "bob"):
        _, public = create_key(name, directory=keydir)
        approvers[name] = Approver(name, frozenset({"maintainers"}), public)
        keys[name] = load_key(name, directory=keydir)
    control = ControlSettings(
        approvers=approvers,
        budgets=(Budget("shell", limit=1e12, per=60.0, action="shell"),) if budgets else (),
        grant_uses=1_000_000,
    )
    settings = Settings(control=control, ledger_path=None)
    if location is None:
        return Gate(settings, policy, None), None, keys, control
    store = open_store(location)
    return Gate(settings, policy, None, control=Controller(control, store, policy.gate_type)), store, keys, control


def timed(fn, n: int) -> list[float]:  # type: ignore[no-untyped-def]
    out = []
    for i in range(n):
        t0 = time.perf_counter()
        fn(i)
        out.append(time.perf_counter() - t0)
    return out


def measure(location: str | None, label: str, n: int, tmp: Path) -> dict[str, list[float]]:
    from ringfence.control.answers import answer
    from ringfence.model import Action, ActionKind, Principal, PrincipalType

    agent = Principal(PrincipalType.AGENT, "bench-agent", runtime="claude-code", owner="carol")

    def act(command: str) -> Action:
        return Action(ActionKind.SHELL, {"command": command}, cwd=str(tmp), tool="Bash")

    results = {}
    if location is not None:  # the kill-switch check alone (no budgets configured)
        gate, store, keys, control = build(location, tmp, budgets=False)
        for c in ALLOWED:
            gate.decide(act(c), agent)
        results[f"allow {label} halt only"] = timed(lambda i: gate.decide(act(ALLOWED[i % len(ALLOWED)]), agent), n)
        store.close()
    gate, store, keys, control = build(location, tmp)
    for c in ALLOWED:  # warm the analysis cache and the connection
        gate.decide(act(c), agent)
    results[f"allow {label}"] = timed(lambda i: gate.decide(act(ALLOWED[i % len(ALLOWED)]), agent), n)
    if store is None:
        return results
    held = act("git reset --hard HEAD~1")
    results[f"held {label}"] = timed(lambda i: gate.decide(held, agent), n)
    rid = gate.decide(held, agent).request_id
    assert rid is not None
    answer(store, control, rid, "approve", keys["alice"])
    assert gate.decide(held, agent).outcome.value == "allow"
    results[f"grant use {label}"] = timed(lambda i: gate.decide(held, agent), n)
    store.close()
    return results


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/test")
    ns = ap.parse_args()
    print(f"ringfence {git_rev()} — Gate.decide latency with control checks (n={ns.n} each, no ledger)")
    with tempdir() as d:
        tmp = Path(d)
        results = measure(None, "policy only", ns.n, tmp)
        results.update(measure(str(tmp / "control.db"), "SQLite", ns.n, tmp))
        pg_schema = None
        try:
            import psycopg

            admin = psycopg.connect(ns.pg, autocommit=True, connect_timeout=3)
            pg_schema = f"rf_bench_{uuid.uuid4().hex[:8]}"
            admin.execute(f"CREATE SCHEMA {pg_schema}")
            sep = "&" if "?" in ns.pg else "?"
            results.update(measure(f"{ns.pg}{sep}options=-csearch_path%3D{pg_schema}", "PostgreSQL", ns.n, tmp))
        except Exception as exc:
            print(f"PostgreSQL skipped: {exc}")
        finally:
            if pg_schema is not None:
                admin.execute(f"DROP SCHEMA {pg_schema} CASCADE")
                admin.close()
    base = pct(results["allow policy only"], 50)
    for name, values in results.items():
        print(f"{name:<30} {summary(values)}  ×{pct(values, 50) / base:5.2f} vs policy only")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
