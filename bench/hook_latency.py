"""End-to-end latency of ``ringfence hook claude-code`` per call, against ``python -c pass``.

Each call is a fresh process fed one PreToolUse payload on stdin, exactly as Claude Code
runs it. Baseline and hook calls are interleaved so machine noise hits both alike.
Modes: ``warm`` (the local daemon answers; what users get after the first call) and
``cold`` (RINGFENCE_DAEMON=0: every call loads the gate in-process). Peak RSS is the
child's ru_maxrss.

Remote mode, against a ``ringfence serve`` started on loopback for the run (decisions
recorded in its ledger): ``hook → server`` is the command hook with ``RINGFENCE_SERVER``
set (a fresh process and a fresh TCP connection per call), and ``HTTP hook`` is Claude
Code's own ``"type": "http"`` form: one warm client POSTing each payload over a kept-alive
connection, which is what Claude Code does (no process is started at all).

    python bench/hook_latency.py [--calls 240] [--no-server]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
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
    ap.add_argument("--no-server", action="store_true", help="skip the remote-mode cases")
    ns = ap.parse_args()
    exe = shutil.which("ringfence", path=str(Path(sys.executable).parent)) or shutil.which("ringfence")
    if exe is None:
        print("ringfence is not installed in this environment", file=sys.stderr)
        return 3
    import compileall

    import ringfence

    # an installed package has its bytecode compiled; a work tree edited since may not
    compileall.compile_dir(str(Path(ringfence.__file__).parent), quiet=1)
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
        if not ns.no_server:
            results[REMOTE] = []
            results[HTTP_HOOK] = []
        rss: dict[str, int] = {k: 0 for k in results}
        outcomes: dict[str, int] = {}
        with _server(exe, root, ws, enabled=not ns.no_server) as remote:
            for data in corpus:
                t, _, _, r = _run_rss(base, b"", env, ws)
                results["python -c pass"].append(t)
                rss["python -c pass"] = max(rss["python -c pass"], r)
                t, code, out, r = _run_rss(hook, data, env, ws)
                results["hook (warm daemon)"].append(t)
                rss["hook (warm daemon)"] = max(rss["hook (warm daemon)"], r)
                decision = json.loads(out)["hookSpecificOutput"]["permissionDecision"] if code == 0 else f"exit {code}"
                outcomes[decision] = outcomes.get(decision, 0) + 1
                if remote is not None:
                    remote_env, conn, token = remote
                    t, code, out, r = _run_rss(hook, data, remote_env, ws)
                    results[REMOTE].append(t)
                    rss[REMOTE] = max(rss[REMOTE], r)
                    answer = json.loads(out)["hookSpecificOutput"] if code == 0 else {}
                    if "unreachable" in answer.get("permissionDecisionReason", "") or code != 0:
                        raise SystemExit(f"the remote hook did not reach the server: {out!r}")
                    results[HTTP_HOOK].append(_post(conn, token, data))
        cold_env = dict(env, RINGFENCE_DAEMON="0")
        for data in corpus[: ns.cold_calls]:
            t, _, _, r = _run_rss(hook, data, cold_env, ws)
            results["hook (cold, in-process)"].append(t)
            rss["hook (cold, in-process)"] = max(rss["hook (cold, in-process)"], r)
        base_p50 = pct(results["python -c pass"], 50)
        print(f"hook latency, {len(corpus)} mixed payloads ({outcomes})")
        for name, values in results.items():
            ratio = pct(values, 50) / base_p50
            ratio95 = pct(values, 95) / base_p50
            mem = f"  peak RSS {rss[name] / 1024:5.1f} MiB" if rss[name] else "  (no process)"
            print(f"  {name:<34} {summary(values)}  p50 ratio {ratio:4.2f}x  p95 ratio {ratio95:4.2f}x{mem}")
        daemon_rss = _daemon_rss(root)
        if daemon_rss:
            print(f"  daemon resident set: {daemon_rss / 1024:.1f} MiB (one per user, shared by every call)")
        subprocess.run([exe, "daemon", "stop"], env=env, capture_output=True, check=False)
    return 0


REMOTE = "hook → server (RINGFENCE_SERVER)"
HTTP_HOOK = "HTTP hook (warm client POST)"


@contextmanager
def _server(
    exe: str, root: Path, ws: Path, *, enabled: bool
) -> Iterator[tuple[dict[str, str], http.client.HTTPConnection, str] | None]:
    """A ``ringfence serve`` of its own (own state under ``root/server``) on a free loopback
    port, a token for it, the agent environment pointing at it and a kept-alive client."""
    if not enabled:
        yield None
        return
    senv = isolated_env(root / "server")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [exe, "serve", "--port", str(port), "--log-level", "warning"],
        env=senv,
        cwd=ws,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        for _ in range(200):
            try:
                conn.request("GET", "/readyz")
                ready = conn.getresponse()
                ready.read()
                if ready.status == 200:
                    break
            except OSError:
                conn.close()
                time.sleep(0.05)
        token = subprocess.run(
            [exe, "token", "issue", "--agent", "bench", "--ttl", "1h"],
            env=senv,
            cwd=ws,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        agent_env = isolated_env(root / "agent")
        agent_env.update(RINGFENCE_SERVER=f"http://127.0.0.1:{port}", RINGFENCE_TOKEN=token, RINGFENCE_DAEMON="0")
        yield agent_env, conn, token
        conn.close()
    finally:
        proc.terminate()
        proc.wait(30)


def _post(conn: http.client.HTTPConnection, token: str, data: bytes) -> float:
    """One Claude Code HTTP hook call over the kept-alive connection: POST, read the answer."""
    t0 = time.perf_counter()
    conn.request(
        "POST",
        "/api/v1/hooks/claude-code",
        body=data,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    resp = conn.getresponse()
    body = resp.read()
    elapsed = time.perf_counter() - t0
    if resp.status != 200 or b"permissionDecision" not in body:
        raise SystemExit(f"the HTTP hook answered {resp.status}: {body[:200]!r}")
    return elapsed


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
