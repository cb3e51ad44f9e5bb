"""Each runtime's answer format, as far as the hook process needs it without the gate.

The hook process must be able to deny in the runtime's own format when everything else
has failed (an import error, a crashed analyzer, an unreachable server with a broken
fallback), and must check that a server's answer is a decision *for this runtime*
before printing it. Both happen before every tool call, so this module imports nothing
but builtins: strings are quoted with the C JSON encoder and answers read with the C
JSON scanner.

A runtime that reads an answer it does not understand usually lets the tool run
(Gemini CLI treats non-JSON stdout as allow; Codex treats an unsupported decision as a
failed hook and continues), so every line here is exactly what the runtime documents.
"""

from __future__ import annotations

TYPE_CHECKING = False  # not typing.TYPE_CHECKING: importing typing costs ~8 ms per call
if TYPE_CHECKING:
    from typing import Any

#: Every runtime with a pre-action hook adapter (``ringfence hook <runtime>``).
RUNTIMES = ("claude-code", "codex", "gemini", "cursor", "copilot", "opencode")

#: What each runtime's hook prints for an event that has nothing to decide (the tool
#: already ran): an empty object is "no opinion" everywhere.
NOTHING = "{}"


def quote(text: str) -> str:
    """``text`` as a JSON string literal."""
    import _json

    quoted: str = _json.encode_basestring(text)
    return quoted


def _pre_tool_use(reason: str) -> str:  # Claude Code and Codex
    return (
        '{"hookSpecificOutput": {"hookEventName": "PreToolUse", "permissionDecision": "deny", '
        f'"permissionDecisionReason": {quote(reason)}}}}}'
    )


def _gemini(reason: str) -> str:
    return f'{{"decision": "deny", "reason": {quote(reason)}}}'


def _cursor(reason: str) -> str:
    # Cursor versions read either spelling of the two messages; give both.
    q = quote(reason)
    return (
        f'{{"continue": true, "permission": "deny", "user_message": {q}, "agent_message": {q}, '
        f'"userMessage": {q}, "agentMessage": {q}}}'
    )


def _copilot(reason: str) -> str:
    return f'{{"permissionDecision": "deny", "permissionDecisionReason": {quote(reason)}}}'


def _opencode(reason: str) -> str:
    return f'{{"decision": "deny", "reason": {quote(reason)}}}'


_DENY = {
    "claude-code": _pre_tool_use,
    "codex": _pre_tool_use,
    "gemini": _gemini,
    "cursor": _cursor,
    "copilot": _copilot,
    "opencode": _opencode,
}


def deny_line(runtime: str, reason: str) -> str:
    """A deny with ``reason`` in ``runtime``'s format (Claude Code's for an unknown one)."""
    return _DENY.get(runtime, _pre_tool_use)(reason)


# --- checking a server's answer ----------------------------------------------------------


def _is_pre_tool_use(doc: dict[str, Any], decisions: tuple[str, ...]) -> bool:
    out = doc.get("hookSpecificOutput")
    return isinstance(out, dict) and out.get("permissionDecision") in decisions


def is_answer(runtime: str, doc: Any) -> bool:
    """Whether ``doc`` (a parsed JSON value) is a decision ``runtime`` acts on."""
    if not isinstance(doc, dict):
        return False
    if runtime == "claude-code":
        return _is_pre_tool_use(doc, ("allow", "deny", "ask"))
    if runtime == "codex":  # Codex rejects a bare allow and ask: "no opinion" is {}
        return not doc or _is_pre_tool_use(doc, ("deny",))
    if runtime in ("gemini", "opencode"):
        return doc.get("decision") in ("allow", "deny")
    if runtime == "cursor":
        return doc.get("permission") in ("allow", "deny", "ask")
    if runtime == "copilot":  # Copilot CLI's ask can be approved without a person: never sent
        return doc.get("permissionDecision") in ("allow", "deny")
    return False
