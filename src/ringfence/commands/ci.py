"""``ringfence ci gate``: a pipeline step asks before it deploys, migrates, merges or publishes.

The step becomes an :class:`~ringfence.model.Action` bound to its artifact digest, the
principal is the pipeline's actor (:mod:`ringfence.adapters.ci`), and the gate decides
— locally, or on the server when ``RINGFENCE_SERVER`` and ``RINGFENCE_TOKEN`` are set.
A held step waits for its approval request (printing progress), then asks again so the
approval's single-use grant is spent and recorded.

Exit codes: **0** allowed or approved; **2** denied, rejected or expired; **3** an error,
bad input, a timeout, or a request left pending with ``--no-wait``. The summary on
stdout is plain text for a job log (``--json`` for a machine), and Markdown is appended
to ``$GITHUB_STEP_SUMMARY`` when it is set.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

EXIT_OK = 0
EXIT_DENIED = 2
EXIT_ERROR = 3

#: ``--action`` → (action kind, step).
ACTIONS: dict[str, tuple[str, str]] = {
    "deploy": ("deploy", "deploy"),
    "migration": ("migration", "migrate"),
    "merge": ("merge", "merge"),
    "publish": ("deploy", "publish"),
    "release": ("deploy", "publish"),
}
ENVIRONMENTS = ("development", "staging", "production")
MAX_SQL_FILE = 1024 * 1024
PROGRESS_EVERY = 30.0  # seconds between progress lines in a job log


class GateError(Exception):
    """Bad input or an unusable setup: exit 3 with this message."""


class Transient(GateError):
    """The server is unreachable or failing (5xx): worth asking again while there is time."""


def add_parser(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "ci",
        help="gate pipeline steps (deploys, migrations, merges, publishes) and review changes in CI",
        description="Commands for CI/CD pipelines.",
    )
    ci_sub = p.add_subparsers(title="ci commands", metavar="COMMAND")
    g: argparse.ArgumentParser = ci_sub.add_parser(
        "gate",
        help="decide a pipeline step; wait for its approval when it is held (exit 0 go, 2 denied, 3 error)",
        allow_abbrev=False,
        description="Decide a pipeline step bound to its artifact digest, open an approval request when it needs "
        "one, and wait for the answer. Exit 0: allowed or approved; 2: denied, rejected or expired; 3: error, "
        "bad input, timeout, or still pending with --no-wait.",
    )
    g.add_argument("--action", required=True, choices=sorted(ACTIONS), help="what the step does")
    g.add_argument("--artifact", required=True, help="digest of what is shipped: sha256:<64 hex>, image@sha256:…")
    g.add_argument("--env", dest="environment", help="environment the step targets (required for deploy, migration)")
    g.add_argument("--service", "--app", dest="service", help="service, app or package the step ships")
    g.add_argument("--description", help="one line for the approvers (shown in the request)")
    g.add_argument("--direction", choices=("up", "down"), default=None, help="migration direction (default up)")
    g.add_argument("--database", help="database a migration runs on (default: the service)")
    g.add_argument("--sql-file", help="the migration's SQL, judged statement by statement")
    g.add_argument("--target-branch", help="branch a merge goes into")
    g.add_argument("--source", help="what a merge brings in (branch or pull request)")
    g.add_argument("--bypass-review", action="store_true", help="the merge skips required review")
    g.add_argument("--registry", help="registry a publish goes to")
    g.add_argument("--timeout", default="30m", help="how long to wait for an approval (default 30m)")
    g.add_argument("--interval", default="5s", help="how often to check the request locally (default 5s)")
    g.add_argument("--no-wait", action="store_true", help="open the request and exit 3 instead of waiting")
    g.add_argument("--json", action="store_true", help="print the result as one JSON object")
    g.add_argument("--cwd", default=None, help="directory whose configuration applies (default: here)")
    v = g.add_argument_group(
        "provenance", "refuse what cannot prove its lineage: verify before the gate decides (see `ringfence verify`)"
    )
    v.add_argument("--verify", dest="verify_policy", metavar="POLICY", help="the verify policy the artifact must pass")
    v.add_argument("--artifact-file", help="the artifact file itself; its SHA-256 must be --artifact's digest")
    v.add_argument("--attestations", help="its attestations (default: <artifact-file>.intoto.jsonl)")
    v.add_argument("--commit", help="verify this commit's attestations (git notes) instead of an artifact's")
    r = g.add_argument_group(
        "guarded rollout",
        "stay running through the metric analysis once the step may go (see `ringfence guard run`)",
    )
    r.add_argument(
        "--guard", metavar="SPEC", help="after go: run the guard spec; exit 0 successful, 2 failed, 3 paused"
    )
    r.add_argument(
        "deploy_command",
        nargs="*",
        metavar="-- COMMAND",
        help="with --guard: the deploy command to run after go and before the analysis (an argv, no shell)",
    )
    g.set_defaults(run=run_gate)
    from ringfence.commands.review import add_ci_parser

    add_ci_parser(ci_sub)


# --- the action ------------------------------------------------------------------------------


def build_action(ns: argparse.Namespace, env: Mapping[str, str]) -> Any:
    """The :class:`~ringfence.model.Action` for the step. Raises :class:`GateError`."""
    from ringfence.analyze.pipeline import PipelineError, check_payload, valid_artifact
    from ringfence.model import Action, ActionKind

    kind_name, step = ACTIONS[ns.action]
    kind = ActionKind(kind_name)
    artifact = ns.artifact.strip()
    algo, sep, hexpart = artifact.rpartition(":")
    if sep and algo.rsplit("@", 1)[-1] in ("sha256", "sha384", "sha512", "git"):
        artifact = f"{algo}:{hexpart.lower()}"
    payload: dict[str, Any] = {"step": step, "artifact": artifact}
    repo = env.get("GITHUB_REPOSITORY") or env.get("CI_PROJECT_PATH") or None
    optional = {
        "environment": ns.environment,
        "service": ns.service,
        "description": ns.description,
        "database": ns.database,
        "target_branch": ns.target_branch,
        "source": ns.source,
        "registry": ns.registry,
        "repository": repo,
    }
    payload.update({k: v for k, v in optional.items() if v is not None})
    if ns.direction is not None:
        if step != "migrate":
            raise GateError("--direction applies to --action migration only")
        payload["direction"] = ns.direction
    if ns.bypass_review:
        if step != "merge":
            raise GateError("--bypass-review applies to --action merge only")
        payload["bypass_review"] = True
    if ns.sql_file is not None:
        if step != "migrate":
            raise GateError("--sql-file applies to --action migration only")
        payload["sql"] = _read_sql(ns.sql_file)
        payload["sql_file"] = os.path.basename(ns.sql_file)
    if not valid_artifact(artifact):
        raise GateError(
            f"--artifact {ns.artifact[:80]!r} is not a digest: use sha256:<64 hex> (or sha384:/sha512:, "
            "name@sha256:<64 hex> for an image, git:<40 hex> for a commit)"
        )
    if step in ("deploy", "migrate") and not ns.environment:
        raise GateError(f"--action {ns.action} needs --env, the environment it targets")
    if step == "merge" and not ns.target_branch:
        raise GateError("--action merge needs --target-branch, the branch it merges into")
    try:
        check_payload(kind, payload)
    except PipelineError as exc:
        raise GateError(f"invalid step: {exc}") from None
    environment = ns.environment if ns.environment in ENVIRONMENTS else None
    cwd = os.path.abspath(ns.cwd or os.getcwd())
    return Action(kind, payload, cwd=cwd, tool="ci", repo=repo, environment=environment)


def _read_sql(path: str) -> str:
    try:
        with open(path, "rb") as fh:
            data = fh.read(MAX_SQL_FILE + 1)
    except OSError as exc:
        raise GateError(f"--sql-file {path}: {exc.strerror or exc}") from None
    if len(data) > MAX_SQL_FILE:
        raise GateError(f"--sql-file {path} is larger than {MAX_SQL_FILE // 1024} KiB")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise GateError(f"--sql-file {path} is not UTF-8 text") from None


# --- one result, local or remote --------------------------------------------------------------


@dataclass
class Result:
    """What the gate said, in the shape the summary needs (local or from the server)."""

    decision: str  # allow | deny | require_approval
    reason: str
    rules: list[str] = field(default_factory=list)
    tier: str = ""
    request: str | None = None
    action_digest: str = ""
    record: int | None = None
    effects: list[str] = field(default_factory=list)
    control: str | None = None

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any]) -> Result:
        decision = doc.get("decision")
        if decision not in ("allow", "deny", "require_approval"):
            raise GateError(f"the server's answer is not a decision: {json.dumps(doc)[:200]}")
        return cls(
            decision=str(decision),
            reason=str(doc.get("reason", "")),
            rules=[str(r) for r in doc.get("rules") or []],
            tier=str(doc.get("tier", "")),
            request=doc.get("request") if isinstance(doc.get("request"), str) else None,
            action_digest=str(doc.get("action_digest", "")),
            record=doc.get("record") if isinstance(doc.get("record"), int) else None,
            effects=[str(e.get("kind")) for e in doc.get("effects") or [] if isinstance(e, dict)],
            control=doc.get("control") if isinstance(doc.get("control"), str) else None,
        )


class Backend:
    """Where decisions are made and requests waited on."""

    dashboard: str | None = None

    def decide(self, action: Any, principal: Any) -> Result:
        raise NotImplementedError

    def status(self, rid: str, wait: float) -> tuple[str, str | None]:
        """The request's status after waiting at most ``wait`` seconds for it to change,
        and what it still needs (None when unknown)."""
        raise NotImplementedError

    def approved_by(self, rid: str) -> list[str]:
        raise NotImplementedError

    def close(self) -> None:
        return None


class LocalBackend(Backend):
    def __init__(self, cwd: str, interval: float) -> None:
        from ringfence.gate import Gate

        self.gate = Gate.for_cwd(cwd)
        self.interval = interval
        self.dashboard = self.gate.settings.control.dashboard_url

    def decide(self, action: Any, principal: Any) -> Result:
        d = self.gate.decide(action, principal)
        return Result.from_doc(d.to_dict())

    def _store(self) -> Any:
        if self.gate.control is None:
            raise GateError("no control state is configured, so approval requests cannot be waited on")
        return self.gate.control.store

    def status(self, rid: str, wait: float) -> tuple[str, str | None]:
        from ringfence.control.approvals import tally

        store = self._store()
        deadline = time.monotonic() + wait
        while True:
            request = store.get(rid)
            status = request.effective_status(store.clock())
            left = deadline - time.monotonic()
            if status != "pending" or left <= 0:
                t = tally(request, store.approvals(rid), self.gate.settings.control)
                return status, t.missing or None
            time.sleep(min(self.interval, max(left, 0.01)))

    def approved_by(self, rid: str) -> list[str]:
        return [a.approver for a in self._store().approvals(rid) if a.verdict == "approve"]

    def close(self) -> None:
        if self.gate.control is not None:
            self.gate.control.store.close()
        if self.gate.ledger is not None:
            self.gate.ledger.close()


class RemoteBackend(Backend):
    """The server's ``POST /api/v1/decide`` and ``GET /api/v1/requests/{rid}/wait``."""

    def __init__(self, env: Mapping[str, str]) -> None:
        from ringfence.daemon.remote import settings_from_env

        try:
            self.server, self.token, self.timeout = settings_from_env(env)
        except ValueError as exc:
            raise GateError(str(exc)) from None
        self.dashboard = (env.get("RINGFENCE_DASHBOARD_URL") or self.server.url).rstrip("/")
        self.last_error: str | None = None

    def _call(self, method: str, path: str, body: bytes = b"", *, timeout: float | None = None) -> Any:
        from ringfence.daemon.remote import Unreachable, exchange, loads

        headers = {"Authorization": f"Bearer {self.token}"}
        if body:
            headers["Content-Type"] = "application/json"
        try:
            reply = exchange(self.server, method, path, body, headers, timeout=timeout or self.timeout)
        except Unreachable as exc:
            raise Transient(f"the ringfence server at {self.server.url} is unreachable: {exc}") from None
        if reply.status >= 500:
            raise Transient(
                f"the ringfence server at {self.server.url} answered {reply.status}: {reply.error_message()}"
            )
        if reply.status != 200:
            raise GateError(
                f"the ringfence server at {self.server.url} answered {reply.status}: {reply.error_message()}"
            )
        doc = loads(reply.body)
        if not isinstance(doc, dict):
            raise GateError(f"the ringfence server at {self.server.url} answered something that is not a JSON object")
        return doc

    def decide(self, action: Any, principal: Any) -> Result:
        who = {k: v for k, v in (("runtime", principal.runtime), ("session", principal.session)) if v}
        body = json.dumps({"action": action.to_dict(), "principal": who}).encode("utf-8")
        return Result.from_doc(self._call("POST", "/api/v1/decide", body))

    def status(self, rid: str, wait: float) -> tuple[str, str | None]:
        seconds = max(0, min(60, int(wait)))
        started = time.monotonic()
        try:
            doc = self._call("GET", f"/api/v1/requests/{rid}/wait?timeout={seconds}", timeout=seconds + self.timeout)
        except Transient as exc:  # keep waiting: the request lives on the server, not in this connection
            self.last_error = str(exc)
            time.sleep(max(0.0, min(5.0, wait - (time.monotonic() - started))))
            return "pending", None
        self.last_error = None
        status = str(doc.get("status", "pending"))
        if status != "pending":
            return status, None
        try:
            detail = self._call("GET", f"/api/v1/requests/{rid}")
        except GateError:
            return status, None
        missing = detail.get("missing")
        return status, missing if isinstance(missing, str) and missing else None

    def approved_by(self, rid: str) -> list[str]:
        try:
            doc = self._call("GET", f"/api/v1/requests/{rid}")
        except GateError:
            return []
        return [str(x) for x in doc.get("approved_by") or []]


# --- the command ------------------------------------------------------------------------------


@dataclass
class Outcome:
    exit_code: int
    verdict: str  # allowed | approved | denied | rejected | expired | pending | timeout | error | unproven
    first: Result | None = None
    final: Result | None = None
    request: str | None = None
    approved_by: list[str] = field(default_factory=list)
    waited: float = 0.0
    message: str = ""
    needs: str | None = None  # what a request still pending needs
    guard: Any = None  # the guard's outcome, with --guard


def run_gate(ns: argparse.Namespace) -> int:
    from rich.console import Console

    out = Console(highlight=False, soft_wrap=True)
    err = Console(stderr=True, highlight=False, soft_wrap=True)
    env = os.environ
    principal = action = None
    backend: Backend | None = None
    try:
        from ringfence.adapters.ci import CIEnvironmentError, principal_from_env
        from ringfence.control.settings import parse_duration
        from ringfence.errors import ConfigError

        try:
            timeout = parse_duration(ns.timeout, "--timeout")
            interval = parse_duration(ns.interval, "--interval")
        except ConfigError as exc:
            raise GateError(str(exc)) from None
        try:
            principal = principal_from_env(env)
        except CIEnvironmentError as exc:
            raise GateError(str(exc)) from None
        action = build_action(ns, env)
        guard_spec = load_guard(ns)
        unproven = check_provenance(ns, action)
        if unproven is not None:
            outcome = unproven
        else:
            backend = RemoteBackend(env) if env.get("RINGFENCE_SERVER") else LocalBackend(action.cwd, interval)
            outcome = gate(backend, action, principal, timeout=timeout, wait=not ns.no_wait, progress=_progress(err))
            if guard_spec is not None and outcome.exit_code == EXIT_OK:
                outcome = guarded(outcome, guard_spec, ns, action.cwd, err)
    except GateError as exc:
        outcome = Outcome(EXIT_ERROR, "error", message=str(exc))
    except Exception as exc:  # a configuration that does not load, a broken state: never a go
        from ringfence.errors import RingfenceError

        text = str(exc) if isinstance(exc, RingfenceError) else f"{type(exc).__name__}: {exc}"
        outcome = Outcome(EXIT_ERROR, "error", message=text)
    finally:
        if backend is not None:
            backend.close()
    dashboard = backend.dashboard if backend is not None else None
    if ns.json:
        out.print_json(json.dumps(outcome_json(outcome, ns, principal, dashboard)))
    else:
        out.print(summary_text(outcome, ns, principal, dashboard), markup=False)
    summary_file = env.get("GITHUB_STEP_SUMMARY")
    if summary_file:
        try:
            with open(summary_file, "a", encoding="utf-8") as fh:
                fh.write(summary_markdown(outcome, ns, principal, dashboard))
        except OSError as exc:
            err.print(f"warning: cannot append to GITHUB_STEP_SUMMARY ({exc})", markup=False)
    return outcome.exit_code


def load_guard(ns: argparse.Namespace) -> Any:
    """The ``--guard`` spec, loaded before anything is decided (a bad spec is exit 3 up front)."""
    command = list(getattr(ns, "deploy_command", None) or [])  # argparse has already dropped the `--`
    ns.deploy_command = command
    if getattr(ns, "guard", None) is None:
        if command:
            raise GateError(f"unexpected arguments {' '.join(command)!r}: a deploy command belongs with --guard SPEC")
        return None
    from pathlib import Path

    from ringfence.errors import RingfenceError
    from ringfence.guard import spec

    try:
        return spec.load(Path(ns.guard))
    except RingfenceError as exc:
        raise GateError(f"--guard: {exc}") from None


def guarded(go: Outcome, spec: Any, ns: argparse.Namespace, cwd: str, err: Any) -> Outcome:
    """After go: run the deploy command (if given), then the guard; the outcome by the analysis."""
    import subprocess
    import sys

    from ringfence.errors import RingfenceError
    from ringfence.gate import Gate
    from ringfence.guard import rollout

    if ns.deploy_command:
        err.print(f"ringfence: go — running {' '.join(ns.deploy_command)}", markup=False)
        try:
            done = subprocess.run(ns.deploy_command, cwd=cwd, stdout=sys.stderr, check=False)
        except OSError as exc:
            return replace_outcome(go, EXIT_ERROR, "error", f"the deploy command could not start: {exc}")
        if done.returncode != 0:
            return replace_outcome(go, EXIT_ERROR, "error", f"the deploy command failed (exit {done.returncode})")
    guard_gate = Gate.for_cwd(cwd)
    try:

        def show(m: Any) -> None:
            err.print(f"ringfence guard: {m.metric} {m.phase.value} {m.value!r} {m.message}", markup=False)

        result = rollout.run(spec, guard_gate, progress=show)
    except RingfenceError as exc:
        return replace_outcome(go, EXIT_ERROR, "error", f"guard: {exc}")
    finally:
        if guard_gate.control is not None:
            guard_gate.control.store.close()
        if guard_gate.ledger is not None:
            guard_gate.ledger.close()
    code = {"Successful": go.exit_code, "Failed": EXIT_DENIED}.get(result.phase, EXIT_ERROR)
    verdict = {"Successful": go.verdict, "Failed": "rolled back"}.get(result.phase, "paused")
    out = replace_outcome(go, code, verdict, "" if result.phase == "Successful" else result.headline)
    out.guard = result
    return out


def replace_outcome(o: Outcome, code: int, verdict: str, message: str) -> Outcome:
    from dataclasses import replace

    return replace(o, exit_code=code, verdict=verdict, message=message or o.message)


def check_provenance(ns: argparse.Namespace, action: Any) -> Outcome | None:
    """With ``--verify``: None when the artifact (or commit) proves its lineage, else the refusal.

    The refusal is recorded in the ledger (when one is configured here) before it is printed."""
    flags = [f for f in ("artifact_file", "attestations", "commit") if getattr(ns, f, None)]
    policy = getattr(ns, "verify_policy", None)
    if policy is None:
        if flags:
            raise GateError(f"--{flags[0].replace('_', '-')} belongs with --verify POLICY")
        return None
    from pathlib import Path

    from ringfence.commands.verify import verify_target
    from ringfence.errors import RingfenceError

    artifact = action.payload["artifact"]
    if ns.commit and ns.artifact_file:
        raise GateError("verify either --commit or --artifact-file, not both")
    if not ns.commit and not ns.artifact_file and not ns.attestations:
        raise GateError("--verify needs what to verify: --artifact-file FILE, --attestations FILE or --commit REV")
    try:
        if ns.commit:
            result = verify_target(
                policy_path=Path(policy),
                commit=ns.commit,
                repo=Path(action.cwd),
                attestations=Path(ns.attestations) if ns.attestations else None,
            )
        else:
            result = verify_target(
                policy_path=Path(policy),
                artifact=ns.artifact_file or artifact,
                attestations=Path(ns.attestations) if ns.attestations else None,
            )
    except RingfenceError as exc:
        raise GateError(f"provenance: {exc}") from None
    failures = result.failures() if not result.ok else []
    if not failures and not ns.commit and artifact.rpartition(":")[2] != result.target.sha256:
        failures = [
            f"--artifact {artifact} is not the verified file's digest (sha256:{result.target.sha256}): "
            "the gate decides for exactly what was verified"
        ]
    if not failures:
        return None
    _record_unproven(action, result.target.description, failures)
    reason = f"{result.target.description} cannot prove its lineage: " + "; ".join(failures[:3])
    return Outcome(EXIT_DENIED, "unproven", message=reason)


def _record_unproven(action: Any, target: str, failures: list[str]) -> None:
    from ringfence.commands._control import record
    from ringfence.config import load_settings

    try:
        record(
            load_settings(action.cwd),
            {
                "kind": "provenance",
                "decision": "deny",
                "action_kind": action.kind.value,
                "action": action.to_dict(),
                "target": target,
                "failures": failures[:20],
            },
        )
    except Exception:  # the refusal stands whether or not it could be recorded
        return


def gate(
    backend: Backend,
    action: Any,
    principal: Any,
    *,
    timeout: float,
    wait: bool = True,
    progress: Callable[[str, str | None, float], None] | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> Outcome:
    """Decide, wait for a held step's request, and ask again to spend the grant."""
    first = backend.decide(action, principal)
    if first.decision == "allow":
        return Outcome(EXIT_OK, "allowed", first, first)
    if first.decision == "deny":
        return Outcome(EXIT_DENIED, "denied", first, first, request=first.request)
    rid = first.request
    if rid is None:
        return Outcome(
            EXIT_ERROR, "error", first, first, message="the step needs approval but no approval request was opened"
        )
    if not wait:
        return Outcome(EXIT_ERROR, "pending", first, first, request=rid, message="left pending (--no-wait)")
    started = clock()
    deadline = started + timeout
    status = "pending"
    missing: str | None = None
    while True:
        left = deadline - clock()
        if left <= 0:
            break
        status, missing = backend.status(rid, min(left, 30.0))
        if status != "pending":
            break
        if progress is not None:
            progress(rid, missing, max(0.0, deadline - clock()))
    waited = clock() - started
    if status == "pending":
        return Outcome(EXIT_ERROR, "timeout", first, None, request=rid, waited=waited, needs=missing)
    if status == "denied":
        return Outcome(EXIT_DENIED, "rejected", first, None, request=rid, waited=waited)
    if status == "expired":
        return Outcome(EXIT_DENIED, "expired", first, None, request=rid, waited=waited)
    approvers = backend.approved_by(rid)
    final = backend.decide(action, principal)  # spends the single-use grant, and records it
    if final.decision == "allow":
        return Outcome(EXIT_OK, "approved", first, final, request=rid, approved_by=approvers, waited=waited)
    if final.decision == "deny":
        return Outcome(EXIT_DENIED, "denied", first, final, request=rid, approved_by=approvers, waited=waited)
    return Outcome(
        EXIT_ERROR,
        "pending",
        first,
        final,
        request=final.request or rid,
        approved_by=approvers,
        waited=waited,
        message=f"approved, but still held when asked again: {final.reason}",
    )


def _progress(err: Any) -> Callable[[str, str | None, float], None]:
    last = [0.0]

    def show(rid: str, missing: str | None, left: float) -> None:
        now = time.monotonic()
        if not err.is_terminal and now - last[0] < PROGRESS_EVERY:
            return
        last[0] = now
        need = f"needs {missing}" if missing else "waiting for approvers"
        err.print(f"ringfence: {rid} pending: {need}; {_duration(left)} left", markup=False)

    return show


# --- the summary ------------------------------------------------------------------------------

_HEADLINE = {
    "allowed": "ALLOWED",
    "approved": "APPROVED",
    "denied": "DENIED",
    "rejected": "REJECTED",
    "expired": "EXPIRED",
    "pending": "PENDING",
    "timeout": "TIMED OUT",
    "error": "ERROR",
    "unproven": "REFUSED",
    "rolled back": "ROLLED BACK",
    "paused": "PAUSED",
}


def _step(ns: argparse.Namespace) -> str:
    what = f"{ns.action}"
    if ns.service:
        what += f" {ns.service}"
    if ns.environment:
        what += f" to {ns.environment}"
    if ns.target_branch:
        what += f" into {ns.target_branch}"
    return what


def _link(dashboard: str | None, rid: str | None) -> str | None:
    return f"{dashboard.rstrip('/')}/requests/{rid}" if dashboard and rid else None


def _who(principal: Any) -> str | None:
    if principal is None:
        return None
    kind = principal.type.value
    bot = principal.attributes.get("bot_kind")
    return f"{principal.id} ({kind}{', bot: ' + bot if bot else ''}, {principal.runtime})"


def _lines(o: Outcome, ns: argparse.Namespace, principal: Any, dashboard: str | None) -> list[tuple[str, str]]:
    rows: list[tuple[str, str]] = [("step", _step(ns)), ("artifact", ns.artifact)]
    who = _who(principal)
    if who:
        rows.append(("actor", who))
    shown = o.final or o.first
    if shown is not None:
        rows.append(("decision", shown.decision + (f" ({shown.tier})" if shown.tier else "")))
        if o.first is not None and o.first.rules:
            rows.append(("rules", ", ".join(o.first.rules)))
        rows.append(("reason", (o.first or shown).reason))
        if o.needs and o.verdict in ("pending", "timeout"):
            rows.append(("needs", o.needs))
    if o.request:
        rows.append(("request", o.request))
    if o.approved_by:
        rows.append(("approved by", ", ".join(o.approved_by)))
    if o.waited:
        rows.append(("waited", _duration(o.waited)))
    link = _link(dashboard, o.request)
    if link:
        rows.append(("review", link))
    if shown is not None and shown.record is not None:
        rows.append(("ledger entry", str(shown.record)))
    if o.guard is not None:
        rows.append(("guard", f"{o.guard.spec.name}: {o.guard.phase} — {o.guard.headline}"))
        if o.guard.analysis is not None:
            rows.append(("analysis", o.guard.analysis.message))
    if o.message:
        label = {"error": "error", "unproven": "why"}.get(o.verdict, "note")
        rows.append((label, o.message))
    return rows


def _advice(o: Outcome, ns: argparse.Namespace) -> str:
    return {
        "allowed": "go: the step may run",
        "approved": "go: approved; the grant was used for this run",
        "denied": "stop: the step must not run",
        "rejected": "stop: an approver denied the step",
        "expired": "stop: the request expired before enough approvers answered; re-run to ask again",
        "pending": f"stop for now: re-run this job after {o.request or 'the request'} is approved",
        "timeout": f"stop: no answer within {ns.timeout}; re-run this job to keep waiting on {o.request}",
        "error": "stop: ringfence could not decide (see the error), so the step must not run",
        "unproven": "stop: the artifact's provenance does not verify, so it does not ship",
        "rolled back": "stop: the guard's analysis failed and the signed rollback runbook ran",
        "paused": "stop: the guard's analysis was inconclusive; the rollout is paused, not promoted",
    }[o.verdict]


def summary_text(o: Outcome, ns: argparse.Namespace, principal: Any, dashboard: str | None) -> str:
    head = f"ringfence: {_HEADLINE[o.verdict]} — {_advice(o, ns)} (exit {o.exit_code})"
    rows = _lines(o, ns, principal, dashboard)
    width = max(len(k) for k, _ in rows)
    return "\n".join([head, *(f"  {k.ljust(width)}  {v}" for k, v in rows)])


def summary_markdown(o: Outcome, ns: argparse.Namespace, principal: Any, dashboard: str | None) -> str:
    icon = {0: "✅", 2: "⛔"}.get(o.exit_code, "⚠️")
    lines = [
        f"### {icon} ringfence: {_HEADLINE[o.verdict].lower()} — {_md(_step(ns))}",
        "",
        f"{_md(_advice(o, ns))}",
        "",
    ]
    lines += ["| | |", "|---|---|"]
    for key, value in _lines(o, ns, principal, dashboard):
        if key == "review":
            lines.append(f"| review | [{_md(o.request or value)}]({value}) |")
        elif key in ("artifact", "request", "rules"):
            lines.append(f"| {key} | `{value.replace('`', '')}` |")
        else:
            lines.append(f"| {key} | {_md(value)} |")
    return "\n".join(lines) + "\n\n"


def _md(text: str) -> str:
    out = " ".join(text.split())
    for ch in "\\|*_[]<>`":
        out = out.replace(ch, "\\" + ch)
    return out


def outcome_json(o: Outcome, ns: argparse.Namespace, principal: Any, dashboard: str | None) -> dict[str, Any]:
    shown = o.final or o.first
    return {
        "result": o.verdict,
        "exit_code": o.exit_code,
        "step": {"action": ns.action, "environment": ns.environment, "service": ns.service, "artifact": ns.artifact},
        "principal": principal.to_dict() if principal is not None else None,
        "decision": shown.decision if shown else None,
        "rules": o.first.rules if o.first else [],
        "reason": o.first.reason if o.first else None,
        "request": o.request,
        "approved_by": o.approved_by,
        "waited_seconds": round(o.waited, 1),
        "action_digest": shown.action_digest if shown else None,
        "ledger_entry": shown.record if shown else None,
        "url": _link(dashboard, o.request),
        "guard": o.guard.to_dict() if o.guard is not None else None,
        **({"message": o.message} if o.message else {}),
    }


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    if seconds >= 3600:
        return f"{seconds // 3600}h{(seconds % 3600) // 60:02d}m"
    if seconds >= 60:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds}s"
