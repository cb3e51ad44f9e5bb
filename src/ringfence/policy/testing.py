"""Policy tests: YAML files of actions and the decision the policy must give them.

A test file::

    defaults:                      # optional, for every case in the file
      cwd: /home/dev/src/app       # where the action runs (default shown)
      home: /home/dev              # the home directory the analysis assumes
      environment: production      # the action's environment, when nothing in it says
    tests:
      - name: force push to main is denied
        action: {command: "git push --force origin main"}
        expect: {decision: deny, rule: git.force-push-protected}
      - name: writing the CI workflow needs approval
        action: {tool: Write, path: .github/workflows/ci.yml, content: "on: push"}
        expect: {decision: require_approval}
      - name: a read-only MCP query is fine
        action: {tool: mcp__db__query, input: {sql: "SELECT 1"}}
        expect: {decision: allow}

``expect.rule`` (a rule id, or a list of them) must be among the rules that decided.
Cases run against the effective policy (built-in packs plus configuration) unless the
caller passes another. The workspace is assumed to be ``cwd`` (nothing on disk is read
for it), so a test means the same on every machine.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ringfence.errors import PolicyError
from ringfence.model import Action, ActionKind, Decision, Outcome, Principal, PrincipalType

DEFAULT_CWD = "/home/dev/src/app"
DEFAULT_HOME = "/home/dev"
_CASE_FIELDS = frozenset({"name", "action", "expect", "cwd", "home", "environment", "principal"})
_ACTION_FIELDS = frozenset({"command", "tool", "path", "content", "input"})


@dataclass(frozen=True, slots=True)
class Case:
    file: Path
    index: int
    name: str
    action: Action
    home: str
    principal: Principal
    decision: Outcome
    rules: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Result:
    case: Case
    decision: Decision

    @property
    def passed(self) -> bool:
        return not self.problems

    @property
    def problems(self) -> list[str]:
        out = []
        if self.decision.outcome is not self.case.decision:
            out.append(f"expected {self.case.decision.value}, got {self.decision.outcome.value}")
        deciding = {m.rule_id for m in self.decision.verdict.deciding}
        for rule in self.case.rules:
            if rule not in deciding:
                shown = ", ".join(sorted(deciding)) or "none"
                out.append(f"expected rule {rule} to decide; deciding rules: {shown}")
        return out


def discover(paths: list[Path]) -> list[Path]:
    """Test files under ``paths``: ``*.yaml``/``*.yml`` files holding a ``tests:`` list."""
    found: list[Path] = []
    for p in paths:
        if p.is_dir():
            found.extend(sorted(q for q in p.rglob("*") if q.suffix in (".yaml", ".yml") and _is_test_file(q)))
        elif p.exists():
            found.append(p)
        else:
            raise PolicyError(f"{p}: no such file or directory")
    return found


def _is_test_file(path: Path) -> bool:
    try:
        head = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return False
    return any(line.startswith("tests:") for line in head.splitlines())


def load_cases(path: Path) -> Iterator[Case]:
    import yaml

    try:
        doc = yaml.load(path.read_bytes(), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except (OSError, yaml.YAMLError) as exc:
        raise PolicyError(f"{path}: cannot read test file: {exc}") from exc
    if not isinstance(doc, dict) or not isinstance(doc.get("tests"), list):
        raise PolicyError(f"{path}: a test file is a mapping with a 'tests' list")
    defaults = doc.get("defaults") or {}
    if not isinstance(defaults, dict):
        raise PolicyError(f"{path}: 'defaults' must be a mapping")
    for i, raw in enumerate(doc["tests"]):
        yield _case(path, i, raw, defaults)


def _case(path: Path, index: int, raw: Any, defaults: dict[str, Any]) -> Case:
    where = f"{path}: test #{index + 1}"
    if not isinstance(raw, dict):
        raise PolicyError(f"{where}: a test is a mapping with name, action and expect")
    unknown = set(raw) - _CASE_FIELDS
    if unknown:
        raise PolicyError(f"{where}: unknown field(s) {', '.join(sorted(unknown))}")
    name = str(raw.get("name") or f"test #{index + 1}")
    where = f"{path}: test {name!r}"
    cwd = str(raw.get("cwd") or defaults.get("cwd") or DEFAULT_CWD)
    home = str(raw.get("home") or defaults.get("home") or DEFAULT_HOME)
    environment = raw.get("environment", defaults.get("environment"))
    if environment is not None and environment not in ("development", "staging", "production"):
        raise PolicyError(f"{where}: environment must be development, staging or production")
    action = _action(raw.get("action"), cwd, environment, where)
    expect = raw.get("expect")
    if not isinstance(expect, dict) or "decision" not in expect:
        raise PolicyError(f"{where}: 'expect' needs a 'decision' (allow, require_approval or deny)")
    try:
        decision = Outcome(str(expect["decision"]))
    except ValueError:
        raise PolicyError(f"{where}: expect.decision must be allow, require_approval or deny") from None
    rules_raw = expect.get("rule", [])
    rules = (rules_raw,) if isinstance(rules_raw, str) else tuple(str(r) for r in rules_raw or ())
    who = raw.get("principal", {}) or {}
    if not isinstance(who, dict):
        raise PolicyError(f"{where}: 'principal' must be a mapping with type and id")
    try:
        ptype = PrincipalType(str(who.get("type", "agent")))
    except ValueError:
        raise PolicyError(f"{where}: principal.type must be agent, human or service") from None
    principal = Principal(ptype, str(who.get("id", "policy-test")), runtime=who.get("runtime"))
    return Case(path, index, name, action, home, principal, decision, rules)


def _action(raw: Any, cwd: str, environment: str | None, where: str) -> Action:
    if not isinstance(raw, dict):
        raise PolicyError(f"{where}: 'action' must be a mapping (command, or tool with path/input)")
    unknown = set(raw) - _ACTION_FIELDS
    if unknown:
        raise PolicyError(f"{where}: unknown action field(s) {', '.join(sorted(unknown))}")
    if "command" in raw:
        return Action(ActionKind.SHELL, {"command": str(raw["command"])}, cwd=cwd, tool="Bash", environment=environment)
    tool = raw.get("tool")
    if not isinstance(tool, str):
        raise PolicyError(f"{where}: an action needs 'command' or 'tool'")
    from ringfence.adapters.claude_code import action_for
    from ringfence.errors import PayloadError

    path = raw.get("path")
    if isinstance(path, str) and not path.startswith("/"):
        path = os.path.join(cwd, path)
    if tool.startswith("mcp__"):
        tool_input = raw.get("input") or {}
    elif tool in ("Read", "Grep", "Glob"):
        tool_input = {"file_path": path, "path": path}
    elif tool == "NotebookEdit":
        tool_input = {"notebook_path": path, "new_source": raw.get("content", "")}
    elif tool == "Edit":
        tool_input = {"file_path": path, "old_string": "", "new_string": raw.get("content", "")}
    elif tool == "MultiEdit":
        tool_input = {"file_path": path, "edits": [{"old_string": "", "new_string": raw.get("content", "")}]}
    else:
        tool_input = {"file_path": path, "content": raw.get("content", "")}
    try:
        action = action_for(tool, tool_input, cwd)
    except PayloadError as exc:
        raise PolicyError(f"{where}: {exc}") from None
    return Action(action.kind, action.payload, action.cwd, action.tool, action.repo, environment)


def run_cases(cases: list[Case], gate: Any) -> list[Result]:
    """Evaluate every case with ``gate`` (a :class:`ringfence.gate.Gate`)."""
    from ringfence.analyze.context import AnalysisConfig

    results: list[Result] = []
    saved_home = os.environ.get("HOME")
    base = gate.settings.analysis
    try:
        for case in cases:
            os.environ["HOME"] = case.home
            # the test's cwd is its workspace: nothing on disk decides what a test means
            analysis = AnalysisConfig(**{**_fields(base), "workspace": case.action.cwd})
            case_gate = type(gate)(settings=_with_analysis(gate.settings, analysis), policy=gate.policy, ledger=None)
            results.append(Result(case, case_gate.evaluate(case.action, case.principal)))
    finally:
        if saved_home is None:
            os.environ.pop("HOME", None)
        else:
            os.environ["HOME"] = saved_home
    return results


def _fields(obj: Any) -> dict[str, Any]:
    import dataclasses

    return {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)}


def _with_analysis(settings: Any, analysis: Any) -> Any:
    import dataclasses

    return dataclasses.replace(settings, analysis=analysis)


def builtin_tests_dir() -> Path:
    return Path(__file__).resolve().parent / "packs" / "tests"
