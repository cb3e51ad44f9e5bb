"""Runtime name → adapter, shared by the in-process hook and the daemon."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from ringfence.gate import Gate

RUNTIMES = ("claude-code",)


def answer(runtime: str, raw: bytes, env: Mapping[str, str], gate_for: Callable[[str], Gate] | None = None) -> str:
    """The stdout line for one hook call. Never raises."""
    from ringfence.adapters import claude_code

    factory = gate_for or (lambda cwd: Gate.for_cwd(cwd))
    if runtime == "claude-code":
        return claude_code.handle(raw, factory, env=env)
    from ringfence.gate import failure

    return claude_code.render(failure(None, None, f"unknown runtime {runtime!r} (known: {', '.join(RUNTIMES)})"))
