"""Layering: built-in packs → organisation → repository → user.

The effective policy for a working directory is built from four layers, in order:

1. **builtin** — the packs shipped in ``ringfence/policy/packs``;
2. **organisation** — the files named by the ``policy:`` setting of the configuration;
3. **repository** — ``<workspace>/.ringfence/policy/*.yaml`` (sorted by name);
4. **user** — ``$XDG_CONFIG_HOME/ringfence/policy/*.yaml`` (default ``~/.config``).

Semantics:

- A later layer may **add** rules (with new ids) and so **tighten**: every matching rule
  contributes and the strongest outcome wins (deny > require_approval > allow), so a
  later ``allow`` rule, or a later ``require_approval`` rule for something an earlier
  layer denies, has no effect on the outcome.
- A later layer may **not redefine** an earlier rule id: that is a load error.
- The only way to relax an earlier rule is an **exception** with a reason and an expiry,
  written in the later layer's ``exceptions:`` section::

      exceptions:
        - exception_for: db.destructive-production   # an id from this or an earlier layer
          when: {targets: {glob: "scratch.*"}}      # optional: effect conditions
          match: {repo: acme/analytics}             # optional: context conditions
          reason: The scratch schema holds throw-away data.
          expires: 2027-03-31                       # valid through that day (UTC)

  It is appended to the rule's ``unless`` list. While it is unexpired and its
  conditions hold, the rule does not match; the verdict lists it in
  ``Verdict.exceptions`` as ``"rule-id: reason (expires YYYY-MM-DD)"`` and the decision
  record carries it.
- Files holding policy tests (a top-level ``tests:`` and no ``pack:``) may sit next to
  the packs; they are not part of the policy.
- ``tiers:`` (risk tier → gate type) and ``groups:`` (approver groups) may only be set by
  the organisation layer. When groups are declared, every ``approval.approvers`` entry
  of a non-built-in rule must name one of them.

Any problem in any layer is a :class:`PolicyError` naming ``file:line:column``; the gate
then denies (a broken policy never loosens the gate). :func:`effective_policy` caches the
compiled policy keyed by every source file's path, size and modification time.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ringfence.errors import PolicyError
from ringfence.model import RiskTier
from ringfence.policy.load import (
    DEFAULT_TIERS,
    GateType,
    PackDoc,
    Policy,
    Problem,
    load_builtin,
    parse_document,
)
from ringfence.policy.rules import Rule

if TYPE_CHECKING:
    from ringfence.config import Settings

LAYERS = ("builtin", "organisation", "repository", "user")
_ORG_ONLY = ("tiers", "groups")


@dataclass(frozen=True, slots=True)
class Layer:
    name: str
    paths: tuple[Path, ...]


def gate_type(tier: RiskTier | str, tiers: Mapping[RiskTier, GateType] | None = None) -> GateType:
    """The gate type for ``tier`` under ``tiers`` (default: trivial/low → automatic,
    medium → single approver, high → k-of-n, critical → never)."""
    t = RiskTier(tier)
    return (tiers or DEFAULT_TIERS).get(t, DEFAULT_TIERS[t])


def repo_policy_files(workspace: str | None) -> tuple[Path, ...]:
    if not workspace:
        return ()
    return _yaml_files(Path(workspace) / ".ringfence" / "policy")


def user_policy_files() -> tuple[Path, ...]:
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return _yaml_files(Path(base) / "ringfence" / "policy")


def _yaml_files(d: Path) -> tuple[Path, ...]:
    return _files(d, (".yaml", ".yml"))


def _files(d: Path, suffixes: tuple[str, ...]) -> tuple[Path, ...]:
    try:
        names = sorted(os.listdir(d))
    except FileNotFoundError:
        return ()
    except NotADirectoryError:
        return ()
    except OSError as exc:
        raise PolicyError(f"{d}: cannot list policy directory: {exc.strerror}") from exc
    return tuple(d / n for n in names if n.endswith(suffixes) and not n.startswith("."))


def _policy_dirs(settings: Settings, cwd: str) -> tuple[Path, ...]:
    from ringfence.analyze.context import find_workspace

    workspace = settings.analysis.workspace or find_workspace(cwd)
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    dirs = [Path(base) / "ringfence" / "policy"]
    if workspace:
        dirs.insert(0, Path(workspace) / ".ringfence" / "policy")
    return tuple(dirs)


def rego_files(settings: Settings, cwd: str) -> tuple[Path, ...]:
    """Rego modules that apply to ``cwd``: ``.rego`` files named in ``policy:``, then those in
    the repository's and the user's policy directories."""
    out = [p for p in settings.policy_files if p.suffix == ".rego"]
    for d in _policy_dirs(settings, cwd):
        out.extend(_files(d, (".rego",)))
    return tuple(out)


def sources_stamp(settings: Settings, cwd: str) -> tuple[object, ...]:
    """A cheap fingerprint of every policy source for ``cwd``: the files (YAML and Rego) and
    the policy directories (a file added or removed changes the directory's mtime).
    A long-lived gate (the daemon's) rebuilds when it changes."""
    paths = [*settings.policy_files, *_policy_dirs(settings, cwd)]
    for layer in layers_for(settings, cwd)[1:]:
        paths.extend(layer.paths)
    paths.extend(rego_files(settings, cwd))
    stamp: list[object] = []
    for p in paths:
        try:
            st = p.stat()
            stamp.append((str(p), st.st_mtime_ns, st.st_size, st.st_ino))
        except OSError:
            stamp.append((str(p), None))
    return tuple(stamp)


def layers_for(settings: Settings, cwd: str) -> list[Layer]:
    """The non-built-in layers that apply to ``cwd``, in order."""
    from ringfence.analyze.context import find_workspace

    workspace = settings.analysis.workspace or find_workspace(cwd)
    return [
        Layer("organisation", tuple(p for p in settings.policy_files if p.suffix != ".rego")),
        Layer("repository", repo_policy_files(workspace)),
        Layer("user", user_policy_files()),
    ]


_cache: dict[tuple[object, ...], Policy] = {}
_CACHE_MAX = 64


def effective_policy(settings: Settings, cwd: str, base: Policy | None = None) -> Policy:
    """The compiled policy for ``cwd`` (built-in packs unless ``base`` is given, then
    each layer), cached until one of its files changes."""
    layers = layers_for(settings, cwd)
    if not any(layer.paths for layer in layers):
        return base if base is not None else load_builtin()
    stamp: list[object] = [base.digest if base is not None else "builtin"]
    for layer in layers:
        for p in layer.paths:
            try:
                st = p.stat()
            except OSError:
                stamp.append((layer.name, str(p), None))
                continue
            stamp.append((layer.name, str(p), st.st_mtime_ns, st.st_size, st.st_ino))
    key = tuple(stamp)
    hit = _cache.get(key)
    if hit is not None:
        return hit
    policy = build(layers, base=base if base is not None else load_builtin())
    if len(_cache) >= _CACHE_MAX:
        _cache.clear()
    _cache[key] = policy
    return policy


def read_docs(paths: Iterable[Path]) -> list[tuple[PackDoc, bytes]]:
    out: list[tuple[PackDoc, bytes]] = []
    for path in paths:
        try:
            data = path.read_bytes()
        except OSError as exc:
            doc = PackDoc(str(path))
            doc.problems.append(Problem(str(path), 1, 1, f"cannot read policy file: {exc.strerror}"))
            out.append((doc, b""))
            continue
        out.append((parse_document(data, str(path)), data))
    return out


def cross_check(
    docs: Sequence[PackDoc],
    known: dict[str, str],
    groups: frozenset[str] | None,
    *,
    org_only_allowed: bool = True,
) -> list[Problem]:
    """Problems that need more than one file: duplicate ids (``known`` maps earlier ids
    to their origin, and is extended), exceptions for unknown rules, approval groups that
    do not exist, organisation-only sections in other layers."""
    problems: list[Problem] = []
    for doc in docs:
        for rule in doc.rules:
            line, col = doc.rule_marks.get(rule.id, (1, 1))
            if rule.id in known:
                problems.append(
                    Problem(
                        doc.origin,
                        line,
                        col,
                        f"duplicate rule id {rule.id!r} (already defined in {known[rule.id]}); a later layer "
                        f"cannot redefine a rule: add a rule with a new id, or relax it with "
                        f"'exceptions: [{{exception_for: {rule.id}, reason: ..., expires: ...}}]'",
                    )
                )
            else:
                known[rule.id] = doc.origin
        if not org_only_allowed:
            for section in _ORG_ONLY:
                if section in doc.section_marks:
                    line, col = doc.section_marks[section]
                    problems.append(
                        Problem(doc.origin, line, col, f"'{section}' may only be set by the organisation policy")
                    )
    for doc in docs:
        for decl in doc.exceptions:
            if decl.target not in known:
                problems.append(
                    Problem(
                        doc.origin,
                        decl.line,
                        decl.column,
                        f"exception_for names no rule of this or an earlier layer: {decl.target!r}",
                    )
                )
    if groups is not None:
        for doc in docs:
            for name, line, col in doc.approver_refs:
                if name not in groups:
                    problems.append(
                        Problem(
                            doc.origin,
                            line,
                            col,
                            f"approval group {name!r} does not exist (declared groups: {', '.join(sorted(groups))})",
                        )
                    )
    return problems


def build(layers: Sequence[Layer], base: Policy | None = None) -> Policy:
    """``base`` (default: nothing) plus ``layers`` in order. Raises PolicyError."""
    rules: list[Rule] = list(base.rules) if base is not None else []
    index = {r.id: i for i, r in enumerate(rules)}
    known = {r.id: (r.origin or "an earlier layer") for r in rules}
    sources: list[bytes] = [base.digest.encode()] if base is not None else []
    tiers = dict(base.tiers) if base is not None else dict(DEFAULT_TIERS)
    groups = base.groups if base is not None else None
    parsed: list[tuple[Layer, list[PackDoc]]] = []
    for layer in layers:
        pairs = read_docs(layer.paths)
        for doc, _ in pairs:
            if doc.problems:
                raise PolicyError(str(doc.problems[0]))
        pairs = [(d, data) for d, data in pairs if not d.is_tests]
        docs = [d for d, _ in pairs]
        sources.extend(data for _, data in pairs)
        parsed.append((layer, docs))
        if layer.name in ("organisation", "policy"):
            for doc in docs:
                if doc.tiers is not None:
                    tiers.update(doc.tiers)
                if doc.groups is not None:
                    groups = (groups or frozenset()) | doc.groups
    for layer, docs in parsed:
        org = layer.name in ("organisation", "policy")
        problems = cross_check(docs, known, groups, org_only_allowed=org)
        if problems:
            raise PolicyError(str(problems[0]))
        for doc in docs:
            for rule in doc.rules:
                index[rule.id] = len(rules)
                rules.append(dataclasses.replace(rule, layer=layer.name))
        for doc in docs:
            for decl in doc.exceptions:
                i = index[decl.target]
                rules[i] = dataclasses.replace(rules[i], unless=(*rules[i].unless, decl.exception))
    return Policy.from_rules(rules, sources, tiers=tiers, groups=groups)
