"""End-to-end latency of ``ringfence hook claude-code`` per call, against ``python -c pass``.

Each call is a fresh process fed one PreToolUse payload on stdin, exactly as Claude Code
runs it. Baseline and hook calls are interleaved so machine noise hits both alike.
Modes: ``warm`` (the local daemon answers; what users get after the first call) and
``cold`` (RINGFENCE_DAEMON=0: every call loads the gate in-process). Peak RSS is the
child's ru_maxrss.

    python bench/hook_latency.py [--calls 240]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import isolated_env, pct, summary, tempdir, workspace
from bench.corpus import payloads


def _run_rss(argv: list[str], data: bytes, env: dict[str, str], cwd: Path) -> tuple[float, int, bytes, int]:
    """Like _run, but reaps the child ourselves to read its peak RSS (KiB)."""
    t0 = time.perf_counter()
    r_in, w_in = os.pipe()
    r_out, w_out = os.pipe()
    pid = os.fork()
    if pid == 0:  # child
        os.dup2(r_in, 0)
        os.dup2(w_out, 1)
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 2)
        for fd in (r_in, w_in, r_out, w_out):
            os.close(fd)
        os.chdir(cwd)
        try:
            os.execve(argv[0], argv, env)
        finally:
            os._exit(127)
    os.close(r_in)
    os.close(w_out)
    os.write(w_in, data)
    os.close(w_in)
    chunks = []
    while True:
        chunk = os.read(r_out, 65536)
        if not chunk:
            break
        chunks.append(chunk)
    os.close(r_out)
    _, status, usage = os.wait4(pid, 0)
    return time.perf_counter() - t0, os.waitstatus_to_exitcode(status), b"".join(chunks), usage.ru_maxrss


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--calls", type=int, default=240)
    ap.add_argument("--cold-calls", type=int, default=40)
    ns = ap.parse_args()
    exe = shutil.which("ringfence", path=str(Path(sys.executable).parent)) or shutil.which("ringfence")
    if exe is None:
        print("ringfence is not installed in this environment", file=sys.stderr)
        return 3
    with tempdir() as tmp:
        root = Path(tmp)
        env = isolated_env(root)
        ws = workspace(root)
        corpus = [json.dumps(p).encode() for p in payloads(str(ws), ns.calls)]
        base = [sys.executable, "-c", "pass"]
        hook = [exe, "hook", "claude-code"]
        # start the daemon and wait until it answers
        _run_rss(hook, corpus[0], env, ws)
        for _ in range(100):
            if any((root / "run").rglob("*.sock")):
                break
            time.sleep(0.05)
        time.sleep(0.3)
        results: dict[str, list[float]] = {
            "python -c pass": [],
            "hook (warm daemon)": [],
            "hook (cold, in-process)": [],
        }
        rss: dict[str, int] = {k: 0 for k in results}
        outcomes: dict[str, int] = {}
        for data in corpus:
            t, _, _, r = _run_rss(base, b"", env, ws)
            results["python -c pass"].append(t)
            rss["python -c pass"] = max(rss["python -c pass"], r)
            t, code, out, r = _run_rss(hook, data, env, ws)
            results["hook (warm daemon)"].append(t)
            rss["hook (warm daemon)"] = max(rss["hook (warm daemon)"], r)
            decision = json.loads(out)["hookSpecificOutput"]["permissionDecision"] if code == 0 else f"exit {code}"
            outcomes[decision] = outcomes.get(decision, 0) + 1
        cold_env = dict(env, RINGFENCE_DAEMON="0")
        for data in corpus[: ns.cold_calls]:
            t, _, _, r = _run_rss(hook, data, cold_env, ws)
            results["hook (cold, in-process)"].append(t)
            rss["hook (cold, in-process)"] = max(rss["hook (cold, in-process)"], r)
        base_p50 = pct(results["python -c pass"], 50)
        print(f"hook latency, {len(corpus)} mixed payloads ({outcomes})")
        for name, values in results.items():
            ratio = pct(values, 50) / base_p50
            print(f"  {name:<26} {summary(values)}  p50 ratio {ratio:4.2f}x  peak RSS {rss[name] / 1024:5.1f} MiB")
        daemon_rss = _daemon_rss(root)
        if daemon_rss:
            print(f"  daemon resident set: {daemon_rss / 1024:.1f} MiB (one per user, shared by every call)")
        subprocess.run([exe, "daemon", "stop"], env=env, capture_output=True, check=False)
    return 0


def _daemon_rss(root: Path) -> int:
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes()
            if b"ringfence.daemon.server" in cmdline and str(root).encode() in cmdline:
                for line in (proc / "status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        return int(line.split()[1])
        except OSError:
            continue
    return 0


if __name__ == "__main__":
    sys.exit(main())
