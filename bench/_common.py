"""Shared helpers for the benchmarks: an isolated home, percentiles, a report table."""

from __future__ import annotations

import os
import statistics
import subprocess
import tempfile
from pathlib import Path


def isolated_env(root: Path) -> dict[str, str]:
    """An environment whose config, state and runtime dirs live under ``root``."""
    env = dict(os.environ)
    for key in ("RINGFENCE_CONFIG", "RINGFENCE_LEDGER", "RINGFENCE_ENV"):
        env.pop(key, None)
    env["HOME"] = str(root / "home")
    env["XDG_CONFIG_HOME"] = str(root / "home" / ".config")
    env["XDG_STATE_HOME"] = str(root / "home" / ".local" / "state")
    env["XDG_RUNTIME_DIR"] = str(root / "run")
    (root / "home").mkdir(parents=True, exist_ok=True)
    (root / "run").mkdir(mode=0o700, parents=True, exist_ok=True)
    return env


def workspace(root: Path) -> Path:
    ws = root / "repo"
    (ws / ".git").mkdir(parents=True, exist_ok=True)
    (ws / "src").mkdir(exist_ok=True)
    return ws


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    k = max(0, min(len(s) - 1, round(q / 100 * (len(s) - 1))))
    return s[k]


def summary(values: list[float]) -> str:
    return (
        f"p50 {pct(values, 50) * 1000:7.2f} ms  p95 {pct(values, 95) * 1000:7.2f} ms  "
        f"mean {statistics.fmean(values) * 1000:7.2f} ms  n={len(values)}"
    )


def tempdir() -> tempfile.TemporaryDirectory[str]:
    return tempfile.TemporaryDirectory(prefix="ringfence-bench-")


def git_rev() -> str:
    try:
        return subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
        ).stdout.strip()
    except OSError:
        return "?"
