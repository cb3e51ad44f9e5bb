"""One module per runtime: how that runtime would send an action to its hook, and how
to read the hook's answer. The cross-runtime tests (``tests/adapters/test_every_runtime.py``)
run the same actions through every module listed in :data:`RUNTIMES`.

A runtime module defines:

- ``RUNTIME``: the name used by ``ringfence hook <runtime>``;
- ``payload(tool, tool_input, cwd, **extra) -> dict`` (codex, gemini, copilot): one tool
  call as the runtime sends it, also used by that runtime's own hook tests;
- ``shell(command, cwd) -> dict``: the payload for running a shell command;
- ``write(path, content, cwd) -> dict | None`` and ``read(path, cwd) -> dict | None``:
  for a file write or read (None: the runtime's hooks never see that kind of action);
- ``mcp(server, tool, arguments, cwd) -> dict | None``: for an MCP tool call;
- ``answer(stdout) -> tuple[str, str]``: ``(decision, reason)`` with decision one of
  ``allow``, ``deny``, ``ask``, read exactly as the runtime reads it (an assertion
  error when the runtime would not understand it).
"""

from __future__ import annotations

import importlib
from types import ModuleType

RUNTIMES = ("claude-code", "codex", "gemini", "cursor", "copilot", "opencode")


def runtime_module(runtime: str) -> ModuleType:
    return importlib.import_module(f"tests.adapters.runtimes.{runtime.replace('-', '_')}")


def available() -> list[str]:
    """The runtimes whose test module exists (all of them once every adapter is built)."""
    found = []
    for runtime in RUNTIMES:
        try:
            runtime_module(runtime)
        except ModuleNotFoundError:
            continue
        found.append(runtime)
    return found
