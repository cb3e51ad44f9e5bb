"""Other CI files: a conservative structural comparison for YAML ones, no-op patterns line by line."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

from ringfence.review.ci.commands import (
    Tool,
    categories,
    failing,
    gained_noise,
    noise_consequence,
    nouns,
    shell_tools,
)
from ringfence.review.ci.report import HIGH, MEDIUM, Report
from ringfence.review.ci.values import allows_failure, is_never, is_true
from ringfence.review.ci.yamldoc import MAX_NODES, Where

_LAX_KEYS: dict[str, Callable[[Any], bool]] = {
    "continue-on-error": is_true,
    "continueOnError": is_true,
    "allow_failure": allows_failure,
    "allow_failures": bool,
    "soft_fail": bool,
    "ignore_failure": is_true,
    "failure": lambda v: str(v) == "ignore",
    "if": is_never,
    "condition": is_never,
}


def _walk(data: Any) -> Iterator[tuple[Where, Any]]:
    """Every value with its path, each shared (aliased) value once, bounded."""
    seen: set[int] = set()
    stack: list[tuple[Where, Any]] = [((), data)]
    count = 0
    while stack and count < MAX_NODES:
        where, value = stack.pop()
        count += 1
        yield where, value
        if isinstance(value, Mapping | list) and id(value) not in seen:
            seen.add(id(value))
            items = value.items() if isinstance(value, Mapping) else enumerate(value)
            stack.extend(((*where, k if isinstance(k, int) else str(k)), v) for k, v in items)


def all_text(data: Any) -> str:
    return "\n".join(v for _, v in _walk(data) if isinstance(v, str))


def _lax(data: Any) -> list[tuple[Where, str, str, frozenset[Tool]]]:
    """``(where, key, signature of its owner, tools in the owner)`` for each failure-tolerating key."""
    found = []
    for where, value in _walk(data):
        if not isinstance(value, Mapping):
            continue
        for key, check in _LAX_KEYS.items():
            if key in value and check(value[key]):
                scalars = sorted(f"{k}={v}" for k, v in value.items() if k != key and isinstance(v, str | int | float))
                found.append(((*where, key), key, "|".join(scalars), shell_tools(all_text(value))))
    return found


def compare(out: Report, old: Any, new: Any) -> None:
    """Conservative comparison for other YAML CI files: failure-tolerating keys, vanished checks, no-ops."""
    before, after = _lax(old), _lax(new)
    for key in _LAX_KEYS:
        olds = [o for o in before if o[1] == key]
        news = [o for o in after if o[1] == key]
        if len(news) > len(olds):
            for where, _, sig, tools in news:
                if sig not in {o[2] for o in olds}:
                    cats = categories(tools)
                    message = f"`{key}` now tolerates failure at `{'.'.join(map(str, where[:-1])) or 'top level'}`"
                    out.add(
                        HIGH if cats else MEDIUM,
                        f"{message}, so {failing(cats)} no longer fail the build",
                        out.at(where),
                        key,
                    )
    old_text, new_text = all_text(old), all_text(new)
    lost = [c for c in categories(shell_tools(old_text)) if c not in categories(shell_tools(new_text))]
    if lost:
        out.add(HIGH, f"no longer runs {nouns(lost)} anywhere in this file", None)
    text_noise(out, old_text, new_text, categories(shell_tools(new_text)))


def text_noise(out: Report, before: str, after: str, cats: list[str]) -> None:
    """Line-level check: no-op patterns the after text has more of, located on a new line."""
    old_lines = set(before.splitlines())
    for n in gained_noise(before, after):
        number = next(
            (i + 1 for i, line in enumerate(out.doc.lines) if line not in old_lines and n.regex.search(line)), None
        )
        out.add(HIGH if cats else MEDIUM, f"now uses `{n.label}`, so {noise_consequence(n, cats)}", number, n.label)
