"""What the end-to-end tests of every runtime's hook share: running `ringfence hook
<runtime>` as the runtime does, reading its one answer line, golden answers and the
approval requests a held action opens."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any

from tests.helpers import RINGFENCE

GOLDEN = Path(__file__).parent / "golden"
#: An approval request id as a held decision's reason names it.
AR = re.compile(r"\bAR-[0-9A-Z]{8}\b")


def run_hook(
    runtime: str, data: bytes, env: dict[str, str], cwd: Path | str, **extra_env: str
) -> subprocess.CompletedProcess[bytes]:
    """`ringfence hook <runtime>` with ``data`` on stdin, in ``cwd``."""
    return subprocess.run(
        [RINGFENCE, "hook", runtime],
        input=data,
        capture_output=True,
        env={**env, **extra_env},
        cwd=cwd,
        timeout=60,
        check=False,
    )


def one_line(proc: subprocess.CompletedProcess[bytes]) -> str:
    """The hook's answer: exit 0 (runtimes let the tool run on a failed hook) and exactly
    one line on stdout."""
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.decode().splitlines()
    assert len(lines) == 1, f"stdout must be exactly one JSON line, got {proc.stdout!r}"
    return lines[0]


def placed(value: Any, env: dict[str, str], ws: Path) -> Any:
    """``value`` (JSON data) with ``{ws}`` and ``{home}`` filled in."""
    return json.loads(json.dumps(value).replace("{ws}", str(ws)).replace("{home}", env["HOME"]))


def redacted(reason: str, env: dict[str, str], ws: Path) -> str:
    """``reason`` without what differs from run to run: the workspace, home and request ids."""
    return AR.sub("AR-<id>", reason.replace(str(ws), "<ws>").replace(env["HOME"], "<home>"))


def check_outcome(decision: str, reason: str, expected: str) -> None:
    """``decision`` is ``expected``; a held action (``require_approval``), where the runtime
    cannot ask, is a deny that names its approval request."""
    if expected == "require_approval":
        assert decision == "deny" and "blocked until approved" in reason and AR.search(reason), reason
    else:
        assert decision == expected, reason


def check_golden(folder: str, name: str, got: dict[str, Any]) -> None:
    """``got`` equals the golden answer ``golden/<folder>/<name>.json`` (written when it
    is missing or ``$RINGFENCE_REGEN_GOLDEN`` is set)."""
    golden = GOLDEN / folder / f"{name}.json"
    if os.environ.get("RINGFENCE_REGEN_GOLDEN") or not golden.exists():
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(json.dumps(got, indent=2, ensure_ascii=False) + "\n")
    assert got == json.loads(golden.read_text())


def approval_ids(env: dict[str, str], ws: Path) -> list[str]:
    """The ids of the approval requests `ringfence approvals list` shows."""
    listed = subprocess.run(
        [RINGFENCE, "approvals", "list", "--json"], capture_output=True, env=env, cwd=ws, timeout=60, check=False
    )
    return [json.loads(line)["id"] for line in listed.stdout.decode().splitlines()]
