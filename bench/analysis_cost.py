"""Analysis cost per action: by corpus, by command length, and on adversarial inputs.

The baseline in the same run is tree-sitter's parse of the same text; adversarial
inputs must end in a bounded time with a deny, never a hang or a crash.

    python bench/analysis_cost.py
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import isolated_env, tempdir, workspace
from bench.corpus import DANGEROUS, ORDINARY


def per_call(fn: Callable[[], object], budget: float = 1.0, max_n: int = 100_000) -> float:
    n = 0
    t0 = time.perf_counter()
    while n < max_n and time.perf_counter() - t0 < budget:
        fn()
        n += 1
    return (time.perf_counter() - t0) / n


def main() -> int:
    import os

    with tempdir() as tmp:
        root = Path(tmp)
        os.environ.update(isolated_env(root))
        ws = workspace(root)
        from ringfence.analyze import Context, analyze_shell
        from ringfence.analyze.context import AnalysisConfig
        from ringfence.analyze.shell import _get_parser
        from ringfence.errors import AnalysisLimit
        from ringfence.gate import Gate
        from ringfence.model import Action, ActionKind, Principal, PrincipalType

        parser = _get_parser()
        ctx = Context.for_cwd(str(ws))
        gate = Gate()
        principal = Principal(PrincipalType.AGENT, "bench")
        for c in ORDINARY + DANGEROUS:
            analyze_shell(c, ctx)
        print("analysis cost per action (mean), baseline = tree-sitter parse of the same text")
        for name, corpus in (("ordinary", ORDINARY), ("dangerous", DANGEROUS)):
            a = per_call(lambda corpus=corpus: [analyze_shell(c, ctx) for c in corpus]) / len(corpus)
            p = per_call(lambda corpus=corpus: [parser.parse(c.encode()) for c in corpus]) / len(corpus)
            print(
                f"  {name:<10} {len(corpus):3d} commands   analyse {a * 1e6:8.1f} µs   parse {p * 1e6:6.1f} µs   "
                f"ratio {a / p:5.1f}x"
            )
        print("by command length (a chain of ordinary commands joined with &&)")
        unit = "git add -A && pytest -q tests/test_x.py && "
        big = AnalysisConfig(max_command_bytes=16 * 1024 * 1024)
        big_ctx = Context.for_cwd(str(ws), big)
        for size in (100, 1_000, 10_000, 100_000):
            text = (unit * (size // len(unit) + 1))[:size].rsplit("&&", 1)[0]
            try:
                a = per_call(lambda text=text: analyze_shell(text, big_ctx), budget=1.0, max_n=2000)
            except AnalysisLimit as exc:
                print(f"  {len(text):>7} bytes   analysis limit: {exc}")
                continue
            p = per_call(lambda text=text: parser.parse(text.encode()), budget=0.5, max_n=2000)
            print(f"  {len(text):>7} bytes   analyse {a * 1e3:9.3f} ms   parse {p * 1e3:8.3f} ms   ratio {a / p:5.1f}x")
        print("adversarial inputs (time to a decision, default limits)")
        cases = {
            "10k-deep $( nesting": "echo " + "$(" * 10_000 + "x" + ")" * 10_000,
            "10k-deep eval nesting": "eval " * 10_000 + "rm -rf /",
            "bash -c nested 6 deep": _nested_bash(6),
            "10k nested subshells": "(" * 10_000 + "true" + ")" * 10_000,
            "1 MiB heredoc": "cat <<'EOF' > notes.txt\n" + ("x" * 79 + "\n") * ((1 << 20) // 80) + "EOF\n",
            "1 MiB single argument": "echo " + "a" * (1 << 20),
        }
        for name, text in cases.items():
            action = Action(ActionKind.SHELL, {"command": text}, cwd=str(ws))
            t0 = time.perf_counter()
            d = gate.evaluate(action, principal)
            elapsed = time.perf_counter() - t0
            t1 = time.perf_counter()
            try:
                analyze_shell(text, big_ctx)
                raw = "analysed"
            except AnalysisLimit as exc:
                raw = f"limit: {exc}"
            raw_t = time.perf_counter() - t1
            print(
                f"  {name:<26} {len(text):>9} bytes  gate {elapsed * 1e3:8.1f} ms → {d.outcome.value:<8} "
                f"| with 16 MiB limit {raw_t * 1e3:8.1f} ms ({raw[:60]})"
            )
    return 0


def _nested_bash(depth: int) -> str:
    text = "rm -rf /"
    for _ in range(depth):
        text = "bash -c " + _q(text)
    return text


def _q(s: str) -> str:
    import shlex

    return shlex.quote(s)


if __name__ == "__main__":
    sys.exit(main())
