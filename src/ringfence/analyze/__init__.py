"""Action → effects: the deterministic analysis of what an action would do.

:func:`analyze` is the one entry point the gate uses; :func:`analyze_shell` and
:func:`trace_shell` expose the shell layer directly (``ringfence explain`` shows a trace,
:func:`trace_action` picks bash or PowerShell as the action says).
Heavy modules (the tree-sitter grammar, sqlglot) load on first use only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ringfence.analyze.context import AnalysisConfig, Context
from ringfence.model import Action, ActionKind, Effect

if TYPE_CHECKING:
    from ringfence.analyze.shell import Trace

__all__ = ["AnalysisConfig", "Context", "analyze", "analyze_shell", "shell_language", "trace_action", "trace_shell"]

# payload["shell"] of a shell action → the language its command is parsed as
_SHELLS = {
    None: "bash",
    "": "bash",
    "bash": "bash",
    "sh": "bash",
    "zsh": "bash",
    "dash": "bash",
    "ksh": "bash",
    "powershell": "powershell",
    "pwsh": "powershell",
}


def shell_language(action: Action) -> str | None:
    """``bash`` or ``powershell`` for a shell action (``payload["shell"]``, absent: bash);
    ``None`` for a shell ringfence cannot parse (the action is then denied)."""
    shell = action.payload.get("shell")
    if shell is not None and not isinstance(shell, str):
        return None
    return _SHELLS.get(shell.lower() if isinstance(shell, str) else None)


def analyze(action: Action, ctx: Context) -> list[Effect]:
    """Every effect ``action`` would have. Raises AnalysisLimit past a bound."""
    if action.kind is ActionKind.SHELL:
        language = shell_language(action)
        if language == "bash":
            return analyze_shell(action.command, ctx)
        if language == "powershell":
            return trace_action(action, ctx).effects
        shell = str(action.payload.get("shell"))[:40]
        reason = f"commands for the shell {shell!r} cannot be parsed (ringfence reads bash and PowerShell)"
        return [Effect("analysis.error", {"reason": reason}, evidence=action.command[:500])]
    from ringfence.analyze import tools

    return tools.analyze_tool(action, ctx)


def analyze_shell(source: str, ctx: Context) -> list[Effect]:
    from ringfence.analyze.shell import trace_shell as _trace

    return _trace(source, ctx).effects


def trace_shell(source: str, ctx: Context) -> Trace:
    from ringfence.analyze.shell import trace_shell as _trace

    return _trace(source, ctx)


def trace_action(action: Action, ctx: Context) -> Trace:
    """The trace of a shell action's command, parsed as its shell (bash or PowerShell).
    A shell ringfence cannot parse gives an empty trace (:func:`analyze` reports it)."""
    from ringfence.analyze.shell import Trace
    from ringfence.analyze.shell import trace_powershell as _trace_ps
    from ringfence.analyze.shell import trace_shell as _trace

    language = shell_language(action)
    if language == "powershell":
        return _trace_ps(action.command, ctx)
    if language == "bash":
        return _trace(action.command, ctx)
    return Trace()
