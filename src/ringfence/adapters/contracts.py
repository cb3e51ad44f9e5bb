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


def _pre_tool_use(answer: str, reason: str) -> str:  # Claude Code
    return (
        f'{{"hookSpecificOutput": {{"hookEventName": "PreToolUse", "permissionDecision": {quote(answer)}, '
        f'"permissionDecisionReason": {quote(reason)}}}}}'
    )


def _codex(answer: str, reason: str) -> str:
    # Codex rejects a bare allow (a failed hook, and the tool runs): "no opinion" lets it go on.
    return NOTHING if answer == "allow" else _pre_tool_use(answer, reason)


def _decision(answer: str, reason: str) -> str:  # Gemini CLI and ringfence's OpenCode plugin
    return f'{{"decision": {quote(answer)}, "reason": {quote(reason)}}}'


def _cursor(answer: str, reason: str) -> str:
    # Cursor versions read either spelling of the two messages; give both.
    q = quote(reason)
    return (
        f'{{"continue": true, "permission": {quote(answer)}, "user_message": {q}, "agent_message": {q}, '
        f'"userMessage": {q}, "agentMessage": {q}}}'
    )


def _copilot(answer: str, reason: str) -> str:
    return f'{{"permissionDecision": {quote(answer)}, "permissionDecisionReason": {quote(reason)}}}'


_LINES = {
    "claude-code": _pre_tool_use,
    "codex": _codex,
    "gemini": _decision,
    "cursor": _cursor,
    "copilot": _copilot,
    "opencode": _decision,
}


def answer_line(runtime: str, answer: str, reason: str) -> str:
    """The line ``runtime`` reads as ``answer`` (``allow``, ``deny`` or ``ask``, as
    :func:`ringfence.adapters.base.wording` words a decision) with ``reason``."""
    return _LINES.get(runtime, _pre_tool_use)(answer, reason)


def deny_line(runtime: str, reason: str) -> str:
    """A deny with ``reason`` in ``runtime``'s format (Claude Code's for an unknown one)."""
    return answer_line(runtime, "deny", reason)


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
