"""Runtime adapters: each converts one runtime's hook payload into an
:class:`~ringfence.model.Action` and a :class:`~ringfence.model.Decision` back into the
runtime's answer. :func:`adapter` finds the one for a runtime name; the names are in
:data:`~ringfence.adapters.contracts.RUNTIMES`.

This package is imported by the hook process, so importing it costs nothing: each
adapter module loads only when it is asked for.
"""

from __future__ import annotations

TYPE_CHECKING = False  # not typing.TYPE_CHECKING: importing typing costs ~8 ms per call
if TYPE_CHECKING:
    from ringfence.adapters.base import Adapter

_MODULES = {
    "claude-code": "claude_code",
    "codex": "codex",
    "gemini": "gemini",
    "cursor": "cursor",
    "copilot": "copilot",
    "opencode": "opencode",
}


def adapter(runtime: str) -> Adapter:
    """The adapter for ``runtime``. Raises KeyError for an unknown runtime."""
    import importlib

    module = importlib.import_module(f"ringfence.adapters.{_MODULES[runtime]}")
    found: Adapter = module.ADAPTER
    return found
