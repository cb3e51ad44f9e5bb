"""Action → effects: the deterministic analysis of what an action would do.

:func:`analyze` is the one entry point the gate uses; :func:`analyze_shell` and
:func:`trace_shell` expose the shell layer directly (``ringfence explain`` shows a trace).
Heavy modules (the tree-sitter grammar, sqlglot) load on first use only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ringfence.analyze.context import AnalysisConfig, Context
from ringfence.model import Action, ActionKind, Effect

if TYPE_CHECKING:
    from ringfence.analyze.shell import Trace

__all__ = ["AnalysisConfig", "Context", "analyze", "analyze_shell", "trace_shell"]


def analyze(action: Action, ctx: Context) -> list[Effect]:
    """Every effect ``action`` would have. Raises AnalysisLimit past a bound."""
    if action.kind is ActionKind.SHELL:
        return analyze_shell(action.command, ctx)
    from ringfence.analyze import tools

    return tools.analyze_tool(action, ctx)


def analyze_shell(source: str, ctx: Context) -> list[Effect]:
    from ringfence.analyze.shell import trace_shell as _trace

    return _trace(source, ctx).effects


def trace_shell(source: str, ctx: Context) -> Trace:
    from ringfence.analyze.shell import trace_shell as _trace

    return _trace(source, ctx)
