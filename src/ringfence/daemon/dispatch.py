"""Runtime name → adapter, shared by the in-process hook and the daemon."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ringfence.adapters.contracts import RUNTIMES, deny_line
from ringfence.gate import Gate

__all__ = ["RUNTIMES", "answer"]


def answer(runtime: str, raw: bytes, env: Mapping[str, str], gate_for: Callable[[str], Any] | None = None) -> str:
    """The stdout line for one hook call. Never raises."""
    from ringfence.adapters import adapter
    from ringfence.adapters.base import handle

    factory = gate_for or (lambda cwd: Gate.for_cwd(cwd))
    if runtime not in RUNTIMES:
        return deny_line(runtime, f"ringfence: unknown runtime {runtime!r} (known: {', '.join(RUNTIMES)}); denied.")
    try:
        chosen = adapter(runtime)
    except Exception as exc:
        return deny_line(
            runtime,
            f"ringfence could not load its {runtime} adapter ({type(exc).__name__}: {exc}); denied because "
            "ringfence fails closed. Run `ringfence doctor`.",
        )
    return handle(chosen, raw, factory, env=env)
