"""``ringfence export codex-rules``: the prefix-matchable part of the policy as Codex
``execpolicy`` rules, a second line of defence behind the hook.

Codex CLI loads Starlark ``.rules`` files from ``rules/`` under each configuration layer
(``~/.codex/rules/*.rules``; ``<repo>/.codex/rules/`` for a trusted project) at start-up
and checks every command it is about to run against their ``prefix_rule`` entries
(https://developers.openai.com/codex/rules)::

    prefix_rule(
        pattern = ["git", "reset", "--hard"],     # tokens in order; a list is alternatives
        decision = "forbidden",                   # allow | prompt | forbidden (strictest wins)
        justification = "...",                    # shown when the rule applies
        match = ["git reset --hard HEAD~1"],      # examples Codex validates at load time
    )

A prefix rule cannot see what a command means (``psql -c 'DROP …'``, redirections,
``bash -c`` strings), so only a catalogue of canonical dangerous prefixes is exported,
and a prefix becomes a rule only when the **real gate** (``Gate.for_cwd(cwd)``, with
the policy in force there) denies or holds every one of its example commands:
``forbidden`` when all are denied, ``prompt`` when some need approval. A policy that
allows one of them drops the rule. The ringfence hook stays authoritative: it judges
every command, these rules only repeat part of its answer where Codex itself enforces it.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MARKER = "# ringfence:generated codex-rules"
EXIT_OK, EXIT_ERROR, EXIT_USAGE = 0, 1, 2

Token = str | tuple[str, ...]


@dataclass(frozen=True)
class Prefix:
    """A canonical dangerous command prefix and commands that start with it: the most
    dangerous forms and the mildest ones, since the rule will apply to all of them."""

    pattern: tuple[Token, ...]
    examples: tuple[str, ...]


_RF = ("-rf", "-fr", "-Rf", "-rF", "-fR", "-FR")
_DANGER_ROOTS = ("/", "/*", "~", "~/", "$HOME", "/home", "/etc", "/usr", "/var")

#: Prefixes drawn from the analyzers' knowledge (git, fs, cloud, k8s, db, publish).
CATALOGUE: tuple[Prefix, ...] = (
    Prefix(
        ("git", "push", ("--force", "-f")),
        ("git push --force origin main", "git push -f origin HEAD:main", "git push --force origin feature/login"),
    ),
    Prefix(
        ("git", "push", "--force-with-lease"),
        ("git push --force-with-lease origin main", "git push --force-with-lease origin feature/login"),
    ),
    Prefix(("git", "push", "--mirror"), ("git push --mirror origin",)),
    Prefix(
        ("git", "push", "origin", ("--delete", "-d")),
        ("git push origin --delete main", "git push origin --delete feature/login"),
    ),
    Prefix(("git", "reset", "--hard"), ("git reset --hard", "git reset --hard HEAD~3", "git reset --hard origin/main")),
    Prefix(("git", "clean", ("-fdx", "-xfd", "-fxd", "-dfx")), ("git clean -fdx", "git clean -fdx src")),
    Prefix(("git", "checkout", "--", "."), ("git checkout -- .",)),
    Prefix(("git", "filter-branch"), ("git filter-branch --tree-filter 'rm -f secrets' HEAD",)),
    Prefix(("rm", _RF, _DANGER_ROOTS), ("rm -rf /", "rm -rf ~", "rm -fr /*", "rm -rf /etc", "rm -Rf $HOME")),
    Prefix(("rm", _RF, ".git"), ("rm -rf .git",)),
    Prefix(("terraform", "destroy"), ("terraform destroy", "terraform destroy -auto-approve")),
    Prefix(("terraform", "apply", "-destroy"), ("terraform apply -destroy -auto-approve",)),
    Prefix(("tofu", "destroy"), ("tofu destroy -auto-approve",)),
    Prefix(("pulumi", "destroy"), ("pulumi destroy --yes",)),
    Prefix(
        ("kubectl", "delete"),
        ("kubectl delete namespace prod", "kubectl delete deployment api -n production", "kubectl delete pod web-1"),
    ),
    Prefix(("helm", ("uninstall", "delete")), ("helm uninstall api -n production", "helm uninstall api")),
    Prefix(("dropdb",), ("dropdb app_production", "dropdb -h db.internal app", "dropdb app")),
    Prefix(("aws", "s3", "rb"), ("aws s3 rb s3://prod-bucket --force", "aws s3 rb s3://scratch-bucket")),
    Prefix(("aws", "s3", "rm"), ("aws s3 rm s3://prod-bucket --recursive", "aws s3 rm s3://scratch-bucket/tmp.txt")),
    Prefix(("gcloud", "projects", "delete"), ("gcloud projects delete my-project",)),
    Prefix(("mkfs",), ("mkfs /dev/sda1", "mkfs disk.img")),
    Prefix(("mkfs.ext4",), ("mkfs.ext4 /dev/sda1", "mkfs.ext4 disk.img")),
    Prefix(("npm", "publish"), ("npm publish", "npm publish --access public")),
    Prefix(("cargo", "publish"), ("cargo publish",)),
    Prefix(("twine", "upload"), ("twine upload dist/*",)),
    Prefix(("gh", "repo", "delete"), ("gh repo delete acme/api --yes",)),
    Prefix(("redis-cli", ("flushall", "FLUSHALL")), ("redis-cli flushall",)),
    Prefix(("crontab", "-r"), ("crontab -r",)),
)


@dataclass(frozen=True)
class Rule:
    pattern: tuple[Token, ...]
    decision: str  # forbidden | prompt
    justification: str
    examples: tuple[str, ...]


def add_parser(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "export",
        help="export part of the policy in another tool's format (codex-rules: Codex execpolicy rules)",
        description="Write the prefix-matchable part of the policy in force here as Codex execpolicy "
        "rules (a second line of defence; the ringfence hook stays authoritative). Each rule comes "
        "from running canonical dangerous commands through the gate.",
    )
    p.add_argument("format", choices=["codex-rules"], help="what to export")
    p.add_argument("--output", "-o", type=Path, help="write to FILE (atomically) instead of stdout")
    p.add_argument("--force", action="store_true", help="overwrite --output even if ringfence did not write it")
    p.add_argument("--cwd", type=Path, default=None, help="judge as if in this directory (default: here)")
    p.set_defaults(run=run)


def derive_rules(cwd: str) -> tuple[list[Rule], str]:
    """The rules the gate's policy in ``cwd`` supports, in catalogue order, and the
    policy's digest."""
    from ringfence.gate import Gate
    from ringfence.model import Action, ActionKind, Outcome, Principal, PrincipalType

    gate = Gate.for_cwd(cwd, record=False)
    principal = Principal(PrincipalType.AGENT, "codex", runtime="codex")
    rules: list[Rule] = []
    digest = ""
    for prefix in CATALOGUE:
        decisions = [
            gate.evaluate(Action(ActionKind.SHELL, {"command": e}, cwd=cwd), principal) for e in prefix.examples
        ]
        failed = next((d for d in decisions if d.error), None)
        if failed is not None:  # a broken policy denies everything: that is no rule to export
            raise RuntimeError(failed.reason)
        digest = digest or decisions[0].verdict.policy_digest
        if any(d.outcome is Outcome.ALLOW for d in decisions):
            continue
        forbidden = all(d.outcome is Outcome.DENY for d in decisions)
        rules.append(Rule(prefix.pattern, "forbidden" if forbidden else "prompt", _why(decisions), prefix.examples))
    return rules, digest


def _why(decisions: list[Any]) -> str:
    """The deciding rule's reason and alternative, naming the rule."""
    from ringfence.model import Outcome

    strict = next((d for d in decisions if d.outcome is Outcome.DENY), decisions[0])
    deciding = strict.verdict.deciding
    if not deciding:
        return f"ringfence: {strict.reason}"
    m = deciding[0]
    text = f"ringfence rule {m.rule_id}: {m.reason}"
    if m.alternative:
        text += f" {m.alternative}"
    return text


def quote(text: str) -> str:
    """``text`` as a double-quoted Starlark string literal."""
    out = []
    for ch in text:
        if ch in '\\"':
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(" ")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def _token(token: Token) -> str:
    if isinstance(token, tuple):
        return "[" + ", ".join(quote(t) for t in token) + "]"
    return quote(token)


def render(rules: list[Rule], *, cwd: str, policy_digest: str) -> str:
    """The ``.rules`` file for ``rules``."""
    from ringfence import __version__

    lines = [
        MARKER,
        f"# Codex execpolicy rules exported by ringfence {__version__} from the policy in force in {cwd}",
        f"# (policy digest {policy_digest or 'unknown'}). Regenerate with `ringfence export codex-rules`;",
        "# edits are lost.",
        "#",
        "# These rules are a SECOND line of defence. The ringfence PreToolUse hook stays authoritative:",
        "# it judges every command, patch and MCP call, including what no prefix can express (SQL in",
        "# psql -c, bash -c strings, redirections), and opens approval requests. A rule is exported only",
        "# when the gate denies (forbidden) or holds for approval (prompt) every example command of it.",
        "# Install as ~/.codex/rules/ringfence.rules (or <repo>/.codex/rules/ in a trusted project) and",
        "# restart Codex.",
    ]
    for rule in rules:
        lines += [
            "",
            "prefix_rule(",
            f"    pattern = [{', '.join(_token(t) for t in rule.pattern)}],",
            f"    decision = {quote(rule.decision)},",
            f"    justification = {quote(rule.justification)},",
            f"    match = [{', '.join(quote(e) for e in rule.examples)}],",
            ")",
        ]
    return "\n".join(lines) + "\n"


def run(ns: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.markup import escape

    err = Console(stderr=True)
    cwd = str((ns.cwd or Path.cwd()).absolute())
    try:
        rules, digest = derive_rules(cwd)
    except Exception as exc:
        err.print(f"[bold red]error:[/] cannot load the policy in {escape(cwd)}: {escape(str(exc))}")
        return EXIT_ERROR
    text = render(rules, cwd=cwd, policy_digest=digest)
    if ns.output is None:
        sys.stdout.write(text)
        return EXIT_OK
    return _write(ns.output, text, force=ns.force, count=len(rules), err=err)


def _write(path: Path, text: str, *, force: bool, count: int, err: Any) -> int:
    from rich.markup import escape

    from ringfence.wiring.jsonfile import atomic_write

    try:
        existing = path.read_text(encoding="utf-8") if path.exists() else None
    except (OSError, UnicodeDecodeError) as exc:
        err.print(f"[bold red]error:[/] cannot read {escape(str(path))}: {escape(str(exc))}; nothing was written")
        return EXIT_ERROR
    if existing is not None and not existing.startswith(MARKER) and not force:
        err.print(
            f"[bold red]refused:[/] {escape(str(path))} exists and was not written by ringfence; "
            "nothing was written (choose another file, or pass --force to replace it)"
        )
        return EXIT_USAGE
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, text)
    except OSError as exc:
        err.print(f"[bold red]error:[/] cannot write {escape(str(path))}: {escape(str(exc))}")
        return EXIT_ERROR
    err.print(f"[green]wrote[/] {count} Codex rules to {escape(str(path))}; restart Codex to load them")
    return EXIT_OK
