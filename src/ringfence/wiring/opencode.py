"""Wiring ringfence into OpenCode as a plugin file.

OpenCode loads every ``*.js``/``*.ts`` file in ``<project>/.opencode/plugins/`` (project
scope) and ``~/.config/opencode/plugins/`` (user scope; ``$XDG_CONFIG_HOME/opencode``),
and, from older releases on, the same directories named ``plugin/``. ringfence's wiring
is one file there, :data:`FILE_NAME`, made from the plugin shipped in the package
(``ringfence/integrations/opencode/ringfence.js``) with two lines changed:

* the first line carries a SHA-256 of the rest of the file, so ``doctor``, ``init`` and
  ``uninstall`` can tell ringfence's own, unmodified plugin from an edited one (and then
  refuse to touch it, showing what differs);
* the ``RINGFENCE_COMMAND`` line names this ringfence by absolute path, so the plugin does
  not depend on the ``PATH`` OpenCode happens to have.

The plan is a :class:`~ringfence.wiring.jsonfile.Plan` of the file's text: ``init``
creates or updates it, ``uninstall`` deletes it (``after`` is ``None``).
"""

from __future__ import annotations

import difflib
import hashlib
import json
import os
import re
import shlex
import uuid
from collections.abc import Mapping, Sequence
from importlib import resources
from pathlib import Path

from ringfence.wiring.base import Found, Probe, RuntimeWiring, Scope, first_line
from ringfence.wiring.jsonfile import Plan, SettingsFileError, read_text

RUNTIME = "opencode"
FILE_NAME = "ringfence.js"
MARKER = "// ringfence:opencode-plugin"
DIRS = ("plugins", "plugin")  # the current name first; OpenCode loads both
SCOPES: tuple[Scope, ...] = ("project", "user")
#: OpenCode's tools the plugin sees (``tool.execute.before`` fires for every tool).
PROTECTED: tuple[str, ...] = ("bash", "write", "edit", "patch", "read", "mcp")

_COMMAND_LINE = re.compile(r"^const RINGFENCE_COMMAND = (.*); // ringfence:command$", re.MULTILINE)
_HEADER = re.compile(r"^// ringfence:opencode-plugin(?: sha256=([0-9a-f]{64}))?\r?\n")


class PluginError(SettingsFileError):
    """The plugin file is not ringfence's, or was changed after ringfence wrote it."""


def template() -> str:
    """The plugin as shipped in the package."""
    return resources.files("ringfence").joinpath("integrations/opencode/ringfence.js").read_text("utf-8")


def _digest(body: str) -> str:
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def command_argv(command: str) -> list[str]:
    """The argv that starts ringfence, from a hook command (``/abs/ringfence hook opencode``
    or ``/abs/python -m ringfence hook opencode``): the words before ``hook``."""
    words = shlex.split(command)
    if len(words) >= 2 and words[-2:] == ["hook", RUNTIME]:
        words = words[:-2]
    if not words:
        raise ValueError(f"no program in the hook command {command!r}")
    return words


def render(command: str) -> str:
    """The plugin file for the hook ``command``: the template with this ringfence's
    absolute command baked in and the checksum line on top."""
    text = template()
    header = _HEADER.match(text)
    if header is None or len(_COMMAND_LINE.findall(text)) != 1:
        raise RuntimeError("the packaged OpenCode plugin lacks its marker or command line; reinstall ringfence")
    argv = json.dumps(command_argv(command), ensure_ascii=False)
    body = _COMMAND_LINE.sub(lambda _: f"const RINGFENCE_COMMAND = {argv}; // ringfence:command", text[header.end() :])
    return f"{MARKER} sha256={_digest(body)}\n{body}"


def baked_argv(text: str) -> list[str] | None:
    """The ringfence argv baked into a plugin file's text (None when there is none)."""
    match = _COMMAND_LINE.search(text)
    if match is None:
        return None
    try:
        argv = json.loads(match.group(1))
    except ValueError:
        return None
    if not isinstance(argv, list) or not argv or not all(isinstance(w, str) and w for w in argv):
        return None
    return argv


def is_ours(text: str) -> bool:
    """Whether ``text`` is a ringfence plugin (modified or not)."""
    return _HEADER.match(text) is not None


def unmodified(text: str) -> bool:
    """Whether ``text`` is ringfence's plugin exactly as ringfence wrote it (its checksum
    matches), or the packaged template itself (copied by hand)."""
    header = _HEADER.match(text)
    if header is None:
        return False
    body = text[header.end() :]
    if header.group(1) is not None:
        return header.group(1) == _digest(body)
    return text == template()


def _diff(path: Path, before: str, after: str, what: str) -> str:
    lines = difflib.unified_diff(
        before.splitlines(keepends=True), after.splitlines(keepends=True), str(path), what, n=1
    )
    return "".join(list(lines)[:60])


def _refuse(path: Path, text: str, command: str | None) -> PluginError:
    if not is_ours(text):
        return PluginError(
            path,
            f"is not ringfence's OpenCode plugin (its first line is not {MARKER!r}); move it away or rename it, "
            "then run again — nothing was changed",
        )
    argv = baked_argv(text)
    expected = render(command if command is not None else shlex.join(argv or ["ringfence"]))
    return PluginError(
        path,
        "was modified after ringfence wrote it (its checksum does not match), so ringfence leaves it alone; "
        "review the difference below, then delete the file (or move it away) and run again — nothing was changed\n"
        + _diff(path, expected, text, "as it is now"),
    )


def settings_path(scope: Scope, project_dir: Path | None = None, home: Path | None = None) -> Path:
    """``<project>/.opencode/plugins/ringfence.js`` or ``~/.config/opencode/plugins/ringfence.js``."""
    return plugin_dirs(scope, project_dir, home)[0] / FILE_NAME


def config_dir(home: Path | None = None, environ: Mapping[str, str] | None = None) -> Path:
    """OpenCode's global configuration directory: ``$XDG_CONFIG_HOME/opencode`` (else
    ``~/.config/opencode``); with ``home`` given, ``<home>/.config/opencode``."""
    if home is not None:
        return home / ".config" / "opencode"
    xdg = (os.environ if environ is None else environ).get("XDG_CONFIG_HOME")
    base = Path(xdg) if xdg and os.path.isabs(xdg) else Path.home() / ".config"
    return base / "opencode"


def plugin_dirs(scope: Scope, project_dir: Path | None = None, home: Path | None = None) -> list[Path]:
    root = config_dir(home) if scope == "user" else (project_dir or Path.cwd()) / ".opencode"
    return [root / name for name in DIRS]


def plan_install(path: Path, command: str) -> Plan:
    """Plan writing the plugin running ``command`` to ``path``: create it, update
    ringfence's own unmodified copy, and refuse (raise :class:`PluginError`) for a
    modified copy or someone else's file."""
    before = read_text(path)
    after = render(command)
    notes: list[str] = []
    for other in (path.parent.parent / name / FILE_NAME for name in DIRS if name != path.parent.name):
        if other.exists():
            notes.append(f"{other} is another copy OpenCode loads too; `ringfence uninstall` does not remove it")
    if before is None:
        change = f"write the OpenCode plugin {path} running {shlex.join(command_argv(command))}"
        return Plan(path, None, after, (change,), tuple(notes))
    if before == after:
        return Plan(path, before, before, (), (*notes, "ringfence is already wired; nothing to change"))
    if not unmodified(before):
        raise _refuse(path, before, command)
    old = baked_argv(before)
    change = (
        f"update the plugin's ringfence command: {shlex.join(old or [])} → {shlex.join(command_argv(command))}"
        if old != command_argv(command)
        else "update the plugin to the version shipped with this ringfence"
    )
    return Plan(path, before, after, (change,), tuple(notes))


def plan_uninstall(path: Path) -> Plan:
    """Plan deleting ringfence's plugin at ``path`` (refused when it was modified or is
    not ringfence's)."""
    before = read_text(path)
    if before is None:
        return Plan(path, None, None, (), ("no ringfence plugin found; nothing to change",))
    if not unmodified(before):
        raise _refuse(path, before, None)
    return Plan(path, before, None, (f"delete the OpenCode plugin {path}",))


# --- the runtime wiring the commands use ------------------------------------------------------


def hook_payload(tool: str, args: Mapping[str, object], directory: Path, tag: str) -> dict[str, object]:
    """The payload the plugin sends ``ringfence hook opencode`` for one tool call."""
    return {
        "hook_event_name": "tool.execute.before",
        "tool": tool,
        "sessionID": f"ses_ringfence_doctor_{uuid.uuid4().hex[:16]}",
        "callID": f"call_ringfence_doctor_{tag}",
        "args": dict(args),
        "directory": str(directory),
        "worktree": str(directory),
    }


def read_decision(stdout: str) -> tuple[str | None, str]:
    """The decision the plugin reads from ``ringfence hook opencode`` (exit 0), or
    ``(None, what is wrong)`` — for which the plugin blocks the call."""
    if not stdout.strip():
        return None, "exit 0 with empty stdout (the plugin blocks every call)"
    try:
        answer = json.loads(stdout)
    except ValueError:
        return None, f"stdout is not a single JSON document: {first_line(stdout)!r} (the plugin blocks every call)"
    if not isinstance(answer, dict) or answer.get("decision") not in ("allow", "deny"):
        return None, f"no decision allow or deny in {first_line(stdout)!r} (the plugin blocks every call)"
    reason = answer.get("reason")
    if not isinstance(reason, str):
        return None, "the answer has no reason string (the plugin blocks every call)"
    text = str(answer["decision"]) + (f": {first_line(reason)}" if reason.strip() else "")
    return str(answer["decision"]), text


class OpenCodeWiring:
    runtime = RUNTIME
    title = "OpenCode"
    scopes = SCOPES
    protected = PROTECTED
    restart = "OpenCode loads plugins at start-up: restart running OpenCode sessions."

    settings_path = staticmethod(settings_path)
    plan_install = staticmethod(plan_install)
    plan_uninstall = staticmethod(plan_uninstall)
    read_answer = staticmethod(read_decision)

    def read_paths(self, scopes: Sequence[Scope], project_dir: Path, home: Path | None = None) -> list[Path]:
        files: list[Path] = []
        for scope in SCOPES:
            if scope in scopes:
                files += [d / FILE_NAME for d in plugin_dirs(scope, project_dir, home)]
        return files

    def find(self, path: Path) -> list[Found]:
        text = read_text(path)
        if text is None:
            return []
        if not unmodified(text):
            raise _refuse(path, text, None)
        argv = baked_argv(text)
        if argv is None:
            raise PluginError(path, "has no ringfence command line; run `ringfence init --agent opencode` again")
        command = f"{shlex.join(argv)} hook {RUNTIME}"
        where = "plugin tool.execute.before (every tool)"
        return [Found(path, command, where, dict.fromkeys(PROTECTED, True))]

    def probe(self, shell_command: str, project_dir: Path, tag: str) -> Probe:
        args = {"command": shell_command, "description": "ringfence doctor probe"}
        payload = hook_payload("bash", args, project_dir, tag)
        return Probe(json.dumps(payload).encode(), {})


WIRING: RuntimeWiring = OpenCodeWiring()
