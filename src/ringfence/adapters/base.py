"""What every runtime adapter shares: reading a payload, naming the agent, building
actions, wording the answer, and the one loop that turns payload bytes into the
runtime's stdout line without ever raising.

An adapter is a :class:`Adapter`: ``parse`` turns the runtime's payload into an
:class:`Event` (an action to decide, or an after-the-fact event with nothing to
decide) and ``render`` turns a :class:`~ringfence.model.Decision` into the exact line
the runtime reads. :func:`handle` runs the gate between the two; every failure — an
off-contract payload, a configuration that does not load, a crash in analysis — is a
deny in the runtime's own format, because runtimes treat a crashed hook as "allow".
"""

from __future__ import annotations

import json
import os
import posixpath
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from ringfence.errors import PayloadError
from ringfence.model import Action, ActionKind, Decision, Outcome, Principal, PrincipalType

MAX_PAYLOAD_BYTES = 4 * 1024 * 1024


@dataclass(frozen=True)
class Event:
    """One parsed hook call: the action and who takes it. ``after`` marks an event for a
    tool that already ran (nothing to decide; the adapter may record it)."""

    action: Action
    principal: Principal
    after: bool = False
    extra: Mapping[str, Any] = field(default_factory=dict)


class Adapter(Protocol):
    """A runtime's hook contract."""

    runtime: str

    def parse(self, raw: bytes, env: Mapping[str, str]) -> Event:
        """The event in ``raw``. Raises :class:`PayloadError` saying what is off-contract."""
        ...

    def render(self, decision: Decision, *, runtime_prompt: bool) -> str:
        """The exact stdout line for ``decision``. ``runtime_prompt`` is the
        configuration's consent to let the runtime's own prompt answer an approval."""
        ...

    def is_after(self, raw: bytes) -> bool:
        """Whether ``raw`` (possibly off-contract) is an after-the-fact event, which is
        never denied: the tool already ran."""
        ...

    def after_output(self) -> str:
        """The line printed for an after-the-fact event."""
        ...


@dataclass
class HookAdapter:
    """An :class:`Adapter` made of a runtime module's functions.

    ``parse(raw, env=)`` returns the ``(action, principal)`` to decide on. A runtime whose
    after-the-fact events (``after_events``, read from ``hook_event_name``) are parsed
    too, to record a prompt's answer, gives ``parse_event(raw, env=)`` returning
    ``(event name, action, principal)`` instead. ``render(decision, runtime_prompt=)``
    returns the answer line; ``after_line`` is printed for an after-the-fact event.
    """

    runtime: str
    render_line: Callable[..., str]
    parse_action: Callable[..., tuple[Action, Principal]] | None = None
    parse_event: Callable[..., tuple[str, Action, Principal]] | None = None
    after_events: frozenset[str] = frozenset()
    after_line: str = "{}"

    def parse(self, raw: bytes, env: Mapping[str, str]) -> Event:
        if self.parse_event is not None:
            event, action, principal = self.parse_event(raw, env=env)
            return Event(action, principal, after=event in self.after_events)
        if self.parse_action is None:
            raise TypeError(f"the {self.runtime} adapter has no parser")
        action, principal = self.parse_action(raw, env=env)
        return Event(action, principal)

    def render(self, decision: Decision, *, runtime_prompt: bool) -> str:
        return self.render_line(decision, runtime_prompt=runtime_prompt)

    def is_after(self, raw: bytes) -> bool:
        if not self.after_events:
            return False
        event = peek(raw).get("hook_event_name")
        return isinstance(event, str) and event in self.after_events  # a list is not hashable

    def after_output(self) -> str:
        return self.after_line

    def handle(self, raw: bytes, gate_for: Callable[[str], Any], *, env: Mapping[str, str] | None = None) -> str:
        """Payload bytes → stdout line. Never raises; every failure is a deny."""
        return handle(self, raw, gate_for, env=env)


# --- reading payloads ----------------------------------------------------------------------


def read_object(raw: bytes, what: str = "hook payload") -> dict[str, Any]:
    """``raw`` as a JSON object. Raises :class:`PayloadError` with a precise message."""
    if len(raw) > MAX_PAYLOAD_BYTES:
        raise PayloadError(f"{what} is {len(raw)} bytes; the limit is {MAX_PAYLOAD_BYTES}")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise PayloadError(f"{what} is not UTF-8 (byte {exc.start})") from None
    doc = decode_json(text, what)
    if not isinstance(doc, dict):
        raise PayloadError(f"{what} must be a JSON object, not {type(doc).__name__}")
    return doc


def decode_json(text: str, what: str) -> Any:
    """``text`` parsed as JSON. Raises :class:`PayloadError` saying where it is not JSON."""
    try:
        return json.loads(text)
    except (json.JSONDecodeError, RecursionError) as exc:
        where = f" at line {exc.lineno} column {exc.colno}" if isinstance(exc, json.JSONDecodeError) else ""
        raise PayloadError(f"{what} is not valid JSON{where}") from None


def peek(raw: bytes) -> dict[str, Any]:
    """``raw`` as a JSON object, or ``{}`` if it is not one (for failure paths)."""
    try:
        doc = json.loads(raw)
    except (ValueError, RecursionError):
        return {}
    return doc if isinstance(doc, dict) else {}


def required_str(doc: Mapping[str, Any], key: str, where: str = "") -> str:
    """``doc[key]``, a non-empty string without NUL bytes."""
    value = doc.get(key)
    name = f"{where}.{key}" if where else key
    if not isinstance(value, str) or not value:
        raise PayloadError(f"{name} is missing or not a string")
    if "\x00" in value:
        raise PayloadError(f"{name} contains a NUL byte")
    return value


def optional_str(doc: Mapping[str, Any], key: str, where: str = "") -> str | None:
    """``doc[key]`` when it is a non-empty string; None when absent or null."""
    value = doc.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise PayloadError(f"{f'{where}.{key}' if where else key} must be a string")
    return value


def optional_text(value: Any) -> str | None:
    """``value`` when it is a non-empty string, else None (for informational fields)."""
    return value if isinstance(value, str) and value else None


def required_object(doc: Mapping[str, Any], key: str, *, default_empty: bool = False) -> dict[str, Any]:
    """``doc[key]``, a JSON object (an absent key is ``{}`` when ``default_empty``)."""
    if key not in doc and default_empty:
        return {}
    value = doc.get(key)
    if not isinstance(value, dict):
        raise PayloadError(f"{key} must be a JSON object")
    return value


def texts(doc: Mapping[str, Any], names: Mapping[str, str]) -> dict[str, str]:
    """``{name: doc[key]}`` for each ``key: name`` of ``names`` whose value is a non-empty
    string (informational fields the principal carries as attributes)."""
    found = {name: optional_text(doc.get(key)) for key, name in names.items()}
    return {name: value for name, value in found.items() if value}


def absolute_dir(value: Any, key: str = "cwd") -> str:
    """``value``, which must be an absolute path."""
    if not isinstance(value, str) or not value.startswith("/"):
        raise PayloadError(f"{key} must be an absolute path")
    if "\x00" in value:
        raise PayloadError(f"{key} contains a NUL byte")
    return value


def event_name(doc: Mapping[str, Any], expected: str) -> str:
    """``doc["hook_event_name"]``, which must be ``expected``, the one event decided on."""
    event = doc.get("hook_event_name")
    if event != expected:
        if not isinstance(event, str) or not event:
            raise PayloadError(f"hook_event_name is missing or not a string; ringfence decides on {expected}")
        raise PayloadError(f"hook_event_name is {event!r}; ringfence decides on {expected}")
    return expected


def workdir(value: Any, cwd: str, where: str) -> str:
    """The directory a tool names (``where``), resolved against ``cwd``; ``cwd`` when absent."""
    if value in (None, ""):
        return cwd
    if not isinstance(value, str) or "\x00" in value:
        raise PayloadError(f"{where} must be a path")
    return posixpath.normpath(posixpath.join(cwd, value))


def joined_edits(edits: Any, key: str, where: str) -> str:
    """The new text of a multi-edit: every edit's ``key``, one per line (``where`` names
    the list in errors)."""
    if not isinstance(edits, list):
        raise PayloadError(f"{where} must be a list")
    return "\n".join(str(e.get(key, "")) for e in edits if isinstance(e, dict))


# --- who acts --------------------------------------------------------------------------------


def agent(
    runtime: str,
    env: Mapping[str, str],
    *,
    session: Any = None,
    model: Any = None,
    attributes: Mapping[str, str] | None = None,
) -> Principal:
    """The acting agent: ``$RINGFENCE_AGENT_ID`` (else the runtime's name) and
    ``$RINGFENCE_AGENT_OWNER`` (else the gate fills in ``agent.owner`` or ``$USER``), with
    the session and model the payload carries."""
    return Principal(
        type=PrincipalType.AGENT,
        id=env.get("RINGFENCE_AGENT_ID") or runtime,
        runtime=runtime,
        model=model if isinstance(model, str) and model else None,
        session=session if isinstance(session, str) and session else None,
        owner=env.get("RINGFENCE_AGENT_OWNER") or None,
        attributes=dict(attributes or {}),
    )


# --- actions -----------------------------------------------------------------------------------


def environment(env: Mapping[str, str] | None) -> str | None:
    return (env or {}).get("RINGFENCE_ENV") or None


def shell(command: Any, cwd: str, tool: str, env: Mapping[str, str] | None, *, where: str, dialect: str = "") -> Action:
    """A shell command (``dialect="powershell"`` for PowerShell)."""
    if not isinstance(command, str):
        raise PayloadError(f"{where} is missing or not a string")
    payload: dict[str, Any] = {"command": command}
    if dialect:
        payload["shell"] = dialect
    return Action(ActionKind.SHELL, payload, cwd=cwd, tool=tool, environment=environment(env))


def file_write(path: str, content: Any, cwd: str, tool: str, env: Mapping[str, str] | None) -> Action:
    if not isinstance(content, str):
        raise PayloadError(f"{tool}: the new content must be a string")
    return Action(
        ActionKind.FILE_WRITE, {"path": path, "content": content}, cwd=cwd, tool=tool, environment=environment(env)
    )


def file_read(path: str, cwd: str, tool: str, env: Mapping[str, str] | None, *, listing: bool | None = None) -> Action:
    payload: dict[str, Any] = {"path": path}
    if listing is not None:
        payload["listing"] = listing
    return Action(ActionKind.FILE_READ, payload, cwd=cwd, tool=tool, environment=environment(env))


def file_reads(paths: list[str], cwd: str, tool: str, env: Mapping[str, str] | None, *, listing: bool) -> Action:
    """A read of one or more paths (each once)."""
    unique = list(dict.fromkeys(paths))
    payload: dict[str, Any] = {"path": unique[0]} if len(unique) == 1 else {"paths": unique}
    payload["listing"] = listing
    return Action(ActionKind.FILE_READ, payload, cwd=cwd, tool=tool, environment=environment(env))


def glob_read(pattern: str, directory: str, cwd: str, tool: str, env: Mapping[str, str] | None) -> Action:
    """A listing of ``directory`` by ``pattern``; an absolute pattern reads outside it."""
    paths = [directory]
    if pattern.startswith(("/", "~")):
        paths.append(pattern)
    return file_reads(paths, cwd, tool, env, listing=True)


def directory_read(
    path: Any, cwd: str, tool: str, env: Mapping[str, str] | None, *, where: str, listing: bool
) -> Action:
    """A search (``listing=False``) or listing of the directory ``path`` (``cwd`` when empty)."""
    path = path or cwd
    if not isinstance(path, str):
        raise PayloadError(f"{where} must be a string")
    return file_read(path, cwd, tool, env, listing=listing)


def mcp(server: str, tool: str, arguments: Any, cwd: str, name: str, env: Mapping[str, str] | None) -> Action:
    """A call of MCP ``server``'s ``tool`` (``name`` as the runtime spells it)."""
    if not isinstance(arguments, dict):
        raise PayloadError(f"the arguments of MCP tool {name!r} must be a JSON object")
    return Action(
        ActionKind.MCP_CALL,
        {"server": server, "tool": tool, "arguments": dict(arguments)},
        cwd=cwd,
        tool=name,
        environment=environment(env),
    )


def mcp_name(tool: str, cwd: str) -> tuple[str, str] | None:
    """``(server, tool)`` of an MCP tool name in a runtime's spelling (see
    :func:`ringfence.analyze.mcp_names.parse_mcp_tool`), a configured server name winning."""
    from ringfence.analyze.mcp_names import parse_mcp_tool

    return parse_mcp_tool(tool, configured_servers(cwd))


def configured_servers(cwd: str) -> tuple[str, ...]:
    """The MCP servers named in the configuration for ``cwd`` (``mcp.servers``), to split
    tool names whose server part contains the separator. A configuration that does not
    load names none: the gate then loads it and denies with its error."""
    try:
        from ringfence.config import load_settings

        return tuple(load_settings(cwd).analysis.mcp.servers)
    except Exception:
        return ()


def inert(tool: str, cwd: str, env: Mapping[str, str] | None) -> Action:
    """A runtime-internal tool (plans, task lists, web search): nothing for the gate to judge."""
    return Action(ActionKind.OTHER, {"tool": tool}, cwd=cwd, tool=tool, environment=environment(env))


def unknown_tool(tool: str) -> PayloadError:
    return PayloadError(f"unknown tool {tool!r}: ringfence does not know what it does, so it is not allowed")


# --- answers -----------------------------------------------------------------------------------


def wording(decision: Decision, *, can_ask: bool) -> tuple[str, str]:
    """``("allow" | "deny" | "ask", reason)`` for ``decision``.

    A require_approval decision becomes ``ask`` only when ``can_ask`` (the runtime has
    a prompt someone can answer, the configuration consents, and the rule lets the
    runtime's prompt answer it); otherwise it is a deny that names the approval needed.
    """
    outcome = decision.outcome
    if outcome is Outcome.ALLOW:
        return "allow", f"ringfence: {decision.reason}"
    if outcome is Outcome.REQUIRE_APPROVAL:
        if can_ask and prompt_may_answer(decision):
            return "ask", f"ringfence: approval needed — {decision.reason}"
        return "deny", f"ringfence: blocked until approved — {decision.reason}"
    return "deny", f"ringfence denied this: {decision.reason}"


def answer(runtime: str, decision: Decision, *, can_ask: bool = False) -> str:
    """The exact stdout line for ``decision`` in ``runtime``'s format."""
    from ringfence.adapters.contracts import answer_line

    return answer_line(runtime, *wording(decision, can_ask=can_ask))


def prompt_may_answer(decision: Decision) -> bool:
    """Whether the rule (or the control layer) lets a runtime's own prompt answer."""
    if decision.runtime_prompt is not None:
        return decision.runtime_prompt
    approval = decision.verdict.approval
    return approval is not None and approval.runtime_prompt


# --- the loop ----------------------------------------------------------------------------------


def handle(
    adapter: Adapter, raw: bytes, gate_for: Callable[[str], Any], *, env: Mapping[str, str] | None = None
) -> str:
    """Payload bytes → the runtime's stdout line. Never raises; every failure is a deny."""
    from ringfence.gate import failure

    env = os.environ if env is None else env
    try:
        event = adapter.parse(raw, env)
    except PayloadError as exc:
        if adapter.is_after(raw):  # nothing to deny after the fact
            return adapter.after_output()
        return adapter.render(failure(None, None, exc, what="could not read the hook payload"), runtime_prompt=False)
    except Exception as exc:
        return adapter.render(failure(None, None, exc), runtime_prompt=False)
    if event.after:
        return _after(adapter, event, gate_for)
    action, principal = event.action, event.principal
    try:
        gate = gate_for(action.cwd)
    except Exception as exc:
        what = "could not load its configuration"
        return adapter.render(failure(action, principal, exc, what=what), runtime_prompt=False)
    try:
        decision = gate.decide(action, principal)
        return adapter.render(decision, runtime_prompt=gate.settings.runtime_prompt)
    except Exception as exc:
        on_error = getattr(getattr(gate, "settings", None), "on_error", "deny")
        return adapter.render(failure(action, principal, exc, on_error=on_error), runtime_prompt=False)


def _after(adapter: Adapter, event: Event, gate_for: Callable[[str], Any]) -> str:
    """The tool ran. If the runtime's own prompt was shown for it, the person there said
    yes: record that on the request. Nothing to decide, so nothing can be denied here; a
    failure only means the answer is not recorded."""
    try:
        gate_for(event.action.cwd).prompt_answered(event.action, event.principal)
    except Exception as exc:
        import sys

        sys.stderr.write(f"ringfence: could not record the prompt's answer: {exc}\n")
    return adapter.after_output()
