"""The command line a runtime calls to reach ringfence's hook."""

from __future__ import annotations

import shlex
import shutil
import sys
from pathlib import Path


def ringfence_executable() -> str:
    """How to start the installed ``ringfence``, as a shell word (or words): the console
    script next to the running interpreter, else the one on ``PATH``, else
    ``<python> -m ringfence``. Paths are absolute, so the hook does not depend on the
    ``PATH`` the runtime happens to have."""
    beside = Path(sys.executable).parent / "ringfence"
    if beside.is_file():
        return shlex.quote(str(beside.absolute()))
    found = shutil.which("ringfence")
    if found:
        return shlex.quote(str(Path(found).absolute()))
    return f"{shlex.quote(sys.executable)} -m ringfence"


def hook_command(runtime: str) -> str:
    """The hook command for ``runtime``, e.g. ``/abs/.venv/bin/ringfence hook claude-code``."""
    return f"{ringfence_executable()} hook {runtime}"
