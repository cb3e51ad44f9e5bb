"""Small helpers on parsed YAML values: coercions, constant conditions, renamed keys."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any


def as_map(value: Any) -> dict[str, Any]:
    return {str(k): v for k, v in value.items()} if isinstance(value, Mapping) else {}


def strs(value: Any) -> list[str]:
    if isinstance(value, str | int | float):
        return [str(value)]
    return [str(v) for v in value if isinstance(v, str | int | float)] if isinstance(value, list) else []


def expression(value: str) -> str:
    s = value.strip()
    return s[3:-2].strip() if s.startswith("${{") and s.endswith("}}") else s


def is_true(value: Any) -> bool:
    """A constant true (``true``, ``"true"``, ``${{ true }}``); expressions are not guessed at."""
    if isinstance(value, bool | int) and not isinstance(value, str):
        return bool(value)
    return isinstance(value, str) and expression(value).lower() in ("true", "1", "yes")


_FALSE = frozenset({"false", "0", "!true", "! true", "(false)"})


def is_never(value: Any) -> bool:
    """An ``if:``/``condition:`` that is constant false (``false``, ``0``, ``${{ false }}``, ``false && x``)."""
    if isinstance(value, bool):
        return not value
    if isinstance(value, int | float):
        return value == 0
    if not isinstance(value, str) or not value.strip():
        return False
    s = expression(value).lower()
    if "(" in s and s != "(false)":
        return False
    return all(any(c.strip() in _FALSE for c in d.split("&&")) for d in s.split("||"))


def allows_failure(value: Any) -> bool:
    return is_true(value) or (isinstance(value, Mapping) and bool(value.get("exit_codes")))


def renamed_keys(old: Mapping[str, Any], new: Mapping[str, Any], same: Callable[[Any, Any], bool]) -> dict[str, str]:
    """Old job keys that vanished mapped to new keys of the same job under another name."""
    gone, added = [k for k in old if k not in new], [k for k in new if k not in old]
    out: dict[str, str] = {}
    for k in gone:
        match = next((n for n in added if n not in out.values() and same(old[k], new[n])), None)
        if match is not None:
            out[k] = match
    return out
