"""In-process decisions per second on the mixed corpus, via the Python API and ``check --batch``.

The baseline in the same run is the tree-sitter parse alone of the same shell commands:
the ratio says how much the analysis, classification and policy add on top of parsing.

    python bench/throughput.py [--seconds 5]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import isolated_env, tempdir, workspace
from bench.corpus import DANGEROUS, ORDINARY, payloads


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=5.0)
    ns = ap.parse_args()
    with tempdir() as tmp:
        root = Path(tmp)
        env = isolated_env(root)
        os.environ.update(env)
        ws = workspace(root)
        from ringfence.analyze.shell import _get_parser
        from ringfence.gate import Gate
        from ringfence.model import Action, ActionKind, Principal, PrincipalType

        commands = ORDINARY * 3 + DANGEROUS  # the mix an agent shows: mostly ordinary
        actions = [Action(ActionKind.SHELL, {"command": c}, cwd=str(ws)) for c in commands]
        principal = Principal(PrincipalType.AGENT, "bench")
        gate = Gate(cache=False)
        cached = Gate()
        for a in actions:
            gate.evaluate(a, principal)  # warm: imports, packs, sqlglot
        parser = _get_parser()
        encoded = [c.encode() for c in commands]

        def rate(fn: object, items: list[object]) -> float:
            n = 0
            t0 = time.perf_counter()
            while time.perf_counter() - t0 < ns.seconds:
                for it in items:
                    fn(it)  # type: ignore[operator]
                n += len(items)
            return n / (time.perf_counter() - t0)

        parse_rate = rate(parser.parse, encoded)  # type: ignore[arg-type]
        decide_rate = rate(lambda a: gate.evaluate(a, principal), actions)  # type: ignore[arg-type]
        cached_rate = rate(lambda a: cached.evaluate(a, principal), actions)  # type: ignore[arg-type]
        print(f"shell actions, {len(commands)} distinct commands ({len(DANGEROUS)} dangerous), one core:")
        print(f"  baseline: tree-sitter parse only      {parse_rate:10,.0f} /s")
        print(
            f"  Gate.evaluate (analysis + policy)     {decide_rate:10,.0f} /s   "
            f"({parse_rate / decide_rate:.1f}x the cost of parsing alone)"
        )
        print(
            f"  Gate.evaluate, repeated commands        {cached_rate:10,.0f} /s   "
            "(analysis reused: same command, same context, no file read)"
        )
        # check --batch: one process, JSONL in and out
        batch = root / "batch.jsonl"
        lines = [
            json.dumps({"tool_name": p["tool_name"], "tool_input": p["tool_input"], "cwd": str(ws)})
            for p in payloads(str(ws), 240)
        ]
        batch.write_text("\n".join(lines * 25) + "\n")
        exe = Path(sys.executable).parent / "ringfence"
        t0 = time.perf_counter()
        proc = subprocess.run(
            [str(exe), "check", "--batch", str(batch)], capture_output=True, env=env, cwd=ws, check=False
        )
        elapsed = time.perf_counter() - t0
        n_out = proc.stdout.count(b"\n")
        print(
            f"  check --batch, {n_out} mixed actions   {n_out / elapsed:10,.0f} /s   "
            f"(whole process, including start-up; exit {proc.returncode})"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
