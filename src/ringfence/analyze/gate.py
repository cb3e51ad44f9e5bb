"""The gate itself: anything that edits, removes, kills or disables ringfence or agent hooks.

Sees every command and emits ``gate.tamper`` (attributes ``targets``, ``operation`` and,
for variables, ``variable``) when a command:

- deletes, truncates, moves, writes or re-permissions a gate path — ringfence's own
  configuration and state (``.ringfence/``, ``ringfence.yaml``, ``~/.config/ringfence``,
  ``~/.local/state/ringfence``), or an agent runtime's hook configuration
  (``.claude/settings*.json``, ``.codex/``, ``.gemini/settings.json``,
  ``.cursor/hooks.json``, ``.github/hooks/``, ``.git/hooks/``, OpenCode plugins) — or a
  directory holding one (``rm -rf .claude``); paths come from :func:`fs.file_ops`, so
  ``rm``, ``mv``, ``cp``, ``tee``, ``sed -i``, ``ln -sf``, ``truncate``, ``chmod`` and
  ``git rm`` are all covered; ``>`` redirections are covered by :func:`files.write_effects`;
- kills or stops it (``pkill -f ringfence``, ``killall ringfence``, ``systemctl stop
  ringfence``, ``launchctl bootout …ringfence…``, ``docker stop ringfence``);
- sets or unsets its variables (``RINGFENCE_*=…`` assignments, ``export``/``unset``/
  ``declare``/``readonly``);
- uninstalls it (``pip``/``pipx``/``uv``/``brew``/``npm`` … ``uninstall ringfence``,
  ``ringfence uninstall``);
- acts as a human would on its controls (``ringfence resume``, ``ringfence approvals
  approve``, ``ringfence keys create``, ``ringfence countersign``): an agent may never
  approve, countersign or lift a halt.

Hook bypass through git (``--no-verify``, ``core.hooksPath``) belongs to the git domain.
"""

from __future__ import annotations

from collections.abc import Iterator

from ringfence.analyze import files, fs
from ringfence.analyze.command import Command
from ringfence.analyze.context import Context
from ringfence.analyze.files import words
from ringfence.analyze.registry import effect
from ringfence.model import Effect

COMMANDS: frozenset[str] | None = None

_VAR_PREFIX = "RINGFENCE_"
_VAR_COMMANDS = frozenset({"export", "unset", "declare", "typeset", "readonly", "local"})
_KILLERS = frozenset({"kill", "pkill", "killall", "skill"})
_SERVICE_STOP = frozenset(words("stop disable mask kill unload bootout remove rm down halt"))
_SERVICE_MANAGERS = frozenset(words("systemctl launchctl service supervisorctl docker podman pm2 brew rc-service sv"))
_UNINSTALL = frozenset(words("uninstall remove rm un purge erase"))
_PACKAGE_MANAGERS = frozenset(
    words("pip pip3 pipx uv brew npm pnpm yarn bun apt apt-get dnf yum conda mamba poetry port")
)
# ringfence subcommands that only a human may run (approving, lifting a halt, keys,
# countersigning an attestation or signing a runbook: an approver's signature).
_HUMAN_ONLY: dict[str, frozenset[str] | None] = {
    "uninstall": None,
    "countersign": None,
    "runbook": frozenset({"sign"}),
    "resume": None,
    "approve": None,
    "grant": None,
    "approvals": frozenset({"approve", "grant"}),
    "keys": frozenset(words("create add import rotate rm delete remove revoke")),
    "ledger": frozenset(words("prune truncate reset rm delete rewrite")),
    "config": frozenset(words("set unset edit")),
}


def classify(cmd: Command, ctx: Context) -> Iterator[Effect]:
    yield from _variables(cmd)
    if not cmd.argv:
        return
    yield from _paths(cmd, ctx)
    name = cmd.name
    if name in _KILLERS:
        yield from _kill(cmd)
    elif name in _SERVICE_MANAGERS:
        yield from _service(cmd)
    if name in _PACKAGE_MANAGERS or _python_m(cmd, "pip"):
        yield from _uninstall(cmd)
    if name == "ringfence" or _python_m(cmd, "ringfence"):
        yield from _ringfence(cmd)


def _variables(cmd: Command) -> Iterator[Effect]:
    found: dict[str, str] = {}
    for key in cmd.env:
        if key.upper().startswith(_VAR_PREFIX):
            found[key] = "set_variable"
    if cmd.name in _VAR_COMMANDS:
        operation = "unset_variable" if cmd.name == "unset" or "-n" in cmd.args else "set_variable"
        for a in cmd.args:
            var = a.split("=", 1)[0]
            if not a.startswith("-") and var.upper().startswith(_VAR_PREFIX):
                found[var] = operation
    for var, operation in found.items():
        yield effect("gate.tamper", cmd, targets=(var,), variable=var, operation=operation)


def _paths(cmd: Command, ctx: Context) -> Iterator[Effect]:
    ops = fs.file_ops(cmd, ctx)
    hits: dict[str, str] = {}
    for op, t in ops.touched():
        if t.path is None:
            continue
        holder = op in ("delete", "move") or (op == "permission" and ops.recursive)
        path = _glob_dir(t.path) if t.glob else t.path
        if files.is_gate_path(path, ctx) or (holder and files.contains_gate_path(path, ctx)):
            hits.setdefault(t.path, op)
    if hits:
        first = next(iter(hits.values()))
        yield effect("gate.tamper", cmd, targets=tuple(hits), operation=first, tool=ops.tool)


def _glob_dir(path: str) -> str:
    """The directory a glob expands in (``.claude/*`` -> ``.claude``)."""
    parts = path.split("/")
    for k, part in enumerate(parts):
        if files.has_glob(part):
            return "/".join(parts[:k]) or "/"
    return path


def _mentions_ringfence(word: str) -> bool:
    return "ringfence" in word.lower()


def _kill(cmd: Command) -> Iterator[Effect]:
    targets = tuple(a for a in cmd.args if not a.startswith("-") and _mentions_ringfence(a))
    if targets:
        yield effect("gate.tamper", cmd, targets=targets, operation="kill", tool=cmd.name)


def _service(cmd: Command) -> Iterator[Effect]:
    args = [a.lower() for a in cmd.args]
    if any(a in _SERVICE_STOP for a in args) or (cmd.name == "service" and "stop" in args):
        targets = tuple(a for a in cmd.args if _mentions_ringfence(a))
        if targets:
            yield effect("gate.tamper", cmd, targets=targets, operation="stop", tool=cmd.name)


def _python_m(cmd: Command, module: str) -> bool:
    return cmd.name.startswith("python") and len(cmd.args) >= 2 and cmd.args[0] == "-m" and cmd.args[1] == module


def _uninstall(cmd: Command) -> Iterator[Effect]:
    args = cmd.args
    if not any(a in _UNINSTALL for a in args):
        return
    verb = next(a for a in args if a in _UNINSTALL)
    after = args[args.index(verb) + 1 :]
    targets = tuple(a for a in after if not a.startswith("-") and _mentions_ringfence(a))
    if targets:
        yield effect("gate.tamper", cmd, targets=targets, operation="uninstall", tool=cmd.name)


def _ringfence(cmd: Command) -> Iterator[Effect]:
    tail = cmd.args if cmd.name == "ringfence" else cmd.args[2:]  # python -m ringfence ...
    args = [a for a in tail if not a.startswith("-")]
    if not args:
        return
    sub = args[0]
    if sub not in _HUMAN_ONLY:
        return
    verbs = _HUMAN_ONLY[sub]
    if verbs is None or (len(args) > 1 and args[1] in verbs):
        operation = " ".join(args[:2]) if verbs is not None else sub
        yield effect("gate.tamper", cmd, targets=("ringfence",), operation=operation, tool="ringfence")
