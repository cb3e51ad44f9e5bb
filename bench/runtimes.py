"""Hook latency per runtime: ``ringfence hook <runtime>`` with the warm daemon, each call a
fresh process fed that runtime's payload, interleaved with ``python -c pass`` and with
Claude Code's hook so that machine noise hits all of them alike.

The payloads are the same shell commands (ordinary and dangerous, from bench/corpus.py)
spelled as each runtime sends them (the builders in tests/adapters/runtimes/). What
differs between runtimes is only the adapter: parsing the payload and rendering the
answer; the gate behind it is the same.

    python bench/runtimes.py [--calls 60]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.adapters.runtimes import RUNTIMES, runtime_module

from bench._common import isolated_env, pct, tempdir, workspace
from bench.corpus import DANGEROUS, ORDINARY

RINGFENCE = str(Path(sys.executable).parent / "ringfence")


def _time(argv: list[str], data: bytes, env: dict[str, str], cwd: Path) -> tuple[float, bytes]:
    t0 = time.perf_counter()
    proc = subprocess.run(argv, input=data, capture_output=True, env=env, cwd=cwd, check=False)
    return time.perf_counter() - t0, proc.stdout


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--calls", type=int, default=60, help="calls per runtime")
    args = ap.parse_args()
    with tempdir() as tmp:
        root = Path(tmp)
        env = isolated_env(root)
        env["RINGFENCE_DAEMON"] = "1"
        ws = workspace(root)
        commands = [c for pair in zip(ORDINARY, DANGEROUS * 10, strict=False) for c in pair]
        bodies = {rt: [json.dumps(runtime_module(rt).shell(c, str(ws))).encode() for c in commands] for rt in RUNTIMES}
        for rt in RUNTIMES:  # start the daemon and warm every adapter once; not timed
            for _ in range(3):
                _time([RINGFENCE, "hook", rt], bodies[rt][0], env, ws)
        times: dict[str, list[float]] = {"python -c pass": [], **{rt: [] for rt in RUNTIMES}}
        for i in range(args.calls):
            elapsed, _ = _time([sys.executable, "-c", "pass"], b"", env, ws)
            times["python -c pass"].append(elapsed)
            for rt in RUNTIMES:
                body = bodies[rt][i % len(bodies[rt])]
                elapsed, out = _time([RINGFENCE, "hook", rt], body, env, ws)
                runtime_module(rt).answer(out.decode())  # a real answer in the runtime's format, or fail
                times[rt].append(elapsed)
        subprocess.run([RINGFENCE, "daemon", "stop"], env=env, capture_output=True, check=False)
    base = pct(times["python -c pass"], 50)
    claude = pct(times["claude-code"], 50)
    print(f"{'':16} {'p50 ms':>8} {'p95 ms':>8} {'× baseline':>11} {'× claude-code':>14}")
    for name, values in times.items():
        p50 = pct(values, 50)
        print(f"{name:16} {p50 * 1000:8.1f} {pct(values, 95) * 1000:8.1f} {p50 / base:11.2f} {p50 / claude:14.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
