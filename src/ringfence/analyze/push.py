"""A git push as git's own hooks report it: the ref updates, not a command line.

The ``pre-push`` hook on a client and the ``pre-receive`` hook on a server both know
exactly which refs a push changes, from which object to which, and whether each change is
a fast-forward (the hook asks git; see :mod:`ringfence.adapters.git_hooks`). The payload
of a :attr:`~ringfence.model.ActionKind.PUSH` action carries that::

    {"remote": "origin", "url": "git@example.com:team/app.git",
     "updates": [{"local_ref": "refs/heads/main", "local_sha": "…", "remote_ref": "refs/heads/main",
                  "remote_sha": "…", "delete": false, "force": true, "new": false}]}

This module turns it into the effects :mod:`ringfence.analyze.git` finds in a
``git push`` command — ``git.push``, ``git.force_push``, ``git.push_protected`` and
``git.ref_delete``, with the same attributes — so the ``git`` policy pack (and any
organisation rule written against those effects) judges a push identically whether an
agent typed ``git push --force origin main`` or git's hook reported the update. Which
branches are protected comes from the same configuration (``protected_branches``,
:meth:`Context.is_protected_branch`).

Pure: no filesystem, no git, no network. The payload is checked strictly; anything
off-shape becomes an ``analysis.error`` effect, which the core pack denies.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ringfence.analyze.context import Context
from ringfence.errors import AnalysisLimit
from ringfence.model import Action, AttrValue, Effect

MAX_UPDATES = 100_000
TOOL = "git"
_SHA = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")
_FLAGS = ("delete", "force", "new")
_TEXT_FIELDS = ("local_ref", "local_sha", "remote_ref", "remote_sha")


class PushPayloadError(ValueError):
    """The push payload does not have the documented shape."""


@dataclass(frozen=True, slots=True)
class Update:
    """One ref a push changes, as the payload states it."""

    local_ref: str
    local_sha: str
    remote_ref: str
    remote_sha: str
    delete: bool
    force: bool
    new: bool

    @property
    def name(self) -> str:
        """The ref as the git analysis names it: ``main`` for ``refs/heads/main``, ``v1`` for a tag."""
        return ref_name(self.remote_ref)[0]

    @property
    def kind(self) -> str:
        """``branch``, ``tag`` or ``other`` (``refs/notes/…``, ``refs/for/…``)."""
        return ref_name(self.remote_ref)[1]

    def describe(self) -> str:
        """The update in git's own words: ``main 1a2b3c4...9f8e7d6 (forced update)``."""
        ref = self.remote_ref
        if self.delete:
            return f"delete {ref} (was {self.remote_sha[:7]})"
        if self.new:
            return f"create {ref} at {self.local_sha[:7]}"
        if self.force:
            return f"{ref} {self.remote_sha[:7]}...{self.local_sha[:7]} (not a fast-forward)"
        return f"{ref} {self.remote_sha[:7]}..{self.local_sha[:7]}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "local_ref": self.local_ref,
            "local_sha": self.local_sha,
            "remote_ref": self.remote_ref,
            "remote_sha": self.remote_sha,
            "delete": self.delete,
            "force": self.force,
            "new": self.new,
        }


def ref_name(ref: str) -> tuple[str, str]:
    """``(name, kind)`` of a full ref, as :mod:`ringfence.analyze.git` names push destinations."""
    if ref.startswith("refs/heads/"):
        return ref[len("refs/heads/") :], "branch"
    if ref.startswith("refs/tags/"):
        return ref[len("refs/tags/") :], "tag"
    if ref.startswith("refs/"):
        return ref, "other"
    return ref, "branch"  # not a full ref: a branch name is the stricter reading


def parse_updates(raw: Any) -> tuple[Update, ...]:
    """The ``updates`` list of a push payload. Raises :class:`PushPayloadError`."""
    if not isinstance(raw, list | tuple):
        raise PushPayloadError("updates must be a list")
    if len(raw) > MAX_UPDATES:
        raise AnalysisLimit(f"the push updates {len(raw)} refs; the analysis limit is {MAX_UPDATES}")
    out: list[Update] = []
    for i, item in enumerate(raw):
        if not isinstance(item, Mapping):
            raise PushPayloadError(f"updates[{i}] must be an object")
        texts: dict[str, str] = {}
        for key in _TEXT_FIELDS:
            value = item.get(key)
            if not isinstance(value, str):
                raise PushPayloadError(f"updates[{i}].{key} is missing or not a string")
            texts[key] = value
        flags: dict[str, bool] = {}
        for key in _FLAGS:
            value = item.get(key)
            if not isinstance(value, bool):
                raise PushPayloadError(f"updates[{i}].{key} is missing or not true/false")
            flags[key] = value
        for key in ("local_sha", "remote_sha"):
            if not _SHA.fullmatch(texts[key]):
                raise PushPayloadError(f"updates[{i}].{key} is not a full hexadecimal object name")
        remote_ref = texts["remote_ref"]
        if not remote_ref.startswith("refs/") or any(c.isspace() or c == "\x00" for c in remote_ref):
            raise PushPayloadError(f"updates[{i}].remote_ref {remote_ref!r} is not a full ref name (refs/…)")
        zero_local = set(texts["local_sha"]) == {"0"}
        zero_remote = set(texts["remote_sha"]) == {"0"}
        if zero_local and zero_remote:
            raise PushPayloadError(f"updates[{i}] neither creates, changes nor deletes {remote_ref}")
        if flags["delete"] != zero_local or flags["new"] != zero_remote:
            raise PushPayloadError(
                f"updates[{i}]: delete and new must say whether the local and remote object names are all zeroes"
            )
        if flags["force"] and (flags["delete"] or flags["new"]):
            raise PushPayloadError(f"updates[{i}]: a ref that is created or deleted cannot be force-updated")
        out.append(
            Update(
                texts["local_ref"],
                texts["local_sha"],
                remote_ref,
                texts["remote_sha"],
                delete=flags["delete"],
                force=flags["force"],
                new=flags["new"],
            )
        )
    return tuple(out)


def summary(payload: Mapping[str, Any]) -> str:
    """The push in one line for an approval request: ``git push to origin: refs/heads/main a..b``."""
    try:
        updates = parse_updates(payload.get("updates"))
    except (PushPayloadError, AnalysisLimit):
        return f"git push to {payload.get('remote')} (malformed updates)"
    return f"git push to {payload.get('remote')}: " + "; ".join(u.describe() for u in updates)


def analyze_push(action: Action, ctx: Context) -> list[Effect]:
    """The git effects of a push (see the module docstring)."""
    payload = action.payload
    remote = payload.get("remote")
    try:
        if not isinstance(remote, str) or not remote:
            raise PushPayloadError("remote is missing or not a string")
        if not isinstance(payload.get("url", ""), str):
            raise PushPayloadError("url must be a string")
        updates = parse_updates(payload.get("updates"))
    except PushPayloadError as exc:
        return [Effect("analysis.error", {"reason": f"push payload: {exc}"}, evidence="git push")]
    return list(effects_for(remote, updates, ctx))


def effects_for(remote: str, updates: Sequence[Update], ctx: Context) -> list[Effect]:
    """The effects of ``updates`` to ``remote``, shaped as :func:`ringfence.analyze.git._push` shapes them."""

    def emit(kind: str, which: Sequence[Update], **attrs: AttrValue) -> Effect:
        evidence = f"git push to {remote}: " + "; ".join(u.describe() for u in which)
        return Effect(kind, {"remote": remote, **attrs, "tool": TOOL}, evidence=evidence)

    def protected(u: Update) -> bool:
        return u.kind == "branch" and ctx.is_protected_branch(u.name)

    def branches(which: Sequence[Update]) -> tuple[str, ...]:
        return tuple(u.name for u in which if u.kind == "branch")

    updated = [u for u in updates if not u.delete]
    forced = [u for u in updated if u.force]
    out = [
        emit(
            "git.push",
            updates,
            branches=branches(updated),
            branch_unknown=False,
            force=bool(forced),
            dry_run=False,
        )
    ]
    if forced:
        out.append(
            emit(
                "git.force_push",
                forced,
                branches=branches(forced),
                branch_unknown=False,
                refs=tuple(u.name for u in forced),
                protected=any(protected(u) for u in forced),
                mirror=False,
                lease=False,
            )
        )
    plain = [u for u in updated if not u.force and protected(u)]
    if plain:
        out.append(emit("git.push_protected", plain, branches=branches(plain)))
    deleted = [u for u in updates if u.delete]
    if deleted:
        out.append(
            emit(
                "git.ref_delete",
                deleted,
                refs=tuple(u.name for u in deleted),
                protected=any(protected(u) for u in deleted),
            )
        )
    return out
