"""Canonical bytes of a ledger entry: the exact bytes that are hashed into the Merkle tree.

The encoding is JSON (RFC 8259) with these rules, so that one entry has exactly one
byte string and anyone can recompute it:

* **Values**: objects, arrays, strings, integers, ``true``, ``false``, ``null``. Floating
  point numbers are refused (their text form is not portable; store a string or an
  integer in a smaller unit instead), and so are NaN/Infinity, tuples, sets, bytes and
  any other Python type. ``bool`` is encoded as ``true``/``false``, never as ``1``/``0``.
* **Object keys** are strings, sorted by Unicode code point (Python's ``str`` order;
  for keys without surrogates this equals UTF-8 byte order). Duplicate keys cannot occur.
* **No insignificant whitespace**: separators are ``,`` and ``:`` exactly.
* **Strings** are emitted as UTF-8, not ``\\uXXXX`` escapes, except that JSON requires
  escaping ``"``, ``\\`` and the control characters U+0000..U+001F (written as ``\\n``,
  ``\\t``, ``\\"``, ``\\\\``, ``\\b``, ``\\f``, ``\\r`` or ``\\u00XX`` with lowercase hex, as
  Python's :func:`json.dumps` does). Lone surrogates are refused (not valid UTF-8).
* **Strings are NOT Unicode-normalised** (no NFC): the ledger records exactly what the
  agent sent. Normalising would make two different commands (e.g. a path with a
  decomposed and a precomposed "é", which are different files on most file systems)
  indistinguishable in the record. Consumers that compare text must normalise themselves.
* **Integers** are written in decimal without leading zeros or a plus sign; any size
  is accepted (consumers in other languages should expect 64-bit values at most).

:func:`decode` is strict: it accepts only bytes that :func:`encode` would produce for
the decoded value, so a re-encoded (tampered or foreign) body is detected as such.
"""

from __future__ import annotations

import json
from typing import Any

from ringfence.errors import LedgerError


class CanonicalError(LedgerError):
    """A value cannot be encoded canonically, or bytes are not canonical."""


def _check(value: Any, path: str) -> None:
    if value is None or isinstance(value, bool | int | str):
        if isinstance(value, str):
            try:
                value.encode("utf-8")
            except UnicodeEncodeError as exc:
                raise CanonicalError(f"{path}: string is not valid Unicode (lone surrogate)") from exc
        return
    if isinstance(value, float):
        raise CanonicalError(f"{path}: floats are not allowed in ledger entries ({value!r}); use an int or a str")
    if isinstance(value, list):
        for i, item in enumerate(value):
            _check(item, f"{path}[{i}]")
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise CanonicalError(f"{path}: object keys must be strings, got {type(key).__name__} {key!r}")
            _check(key, f"{path}.{key}")
            _check(item, f"{path}.{key}")
        return
    raise CanonicalError(f"{path}: {type(value).__name__} is not allowed in ledger entries")


_SCALARS = (str, int, type(None))  # bool is an int


def _plain(value: Any) -> bool:
    """Whether ``value`` holds only what the encoding allows (fast: no paths, no recursion
    for flat containers). Strings are checked when the text is encoded."""
    stack = [value]
    while stack:
        v = stack.pop()
        t = type(v)
        if t is dict:
            for key, item in v.items():
                if type(key) is not str:
                    return False
                if not isinstance(item, _SCALARS) or type(item) is float:
                    stack.append(item)
        elif t is list:
            for item in v:
                if not isinstance(item, _SCALARS):
                    stack.append(item)
        elif not isinstance(v, _SCALARS):
            return False
    return True


def encode(entry: dict[str, Any]) -> bytes:
    """The canonical bytes of ``entry`` (see the module docstring)."""
    if not isinstance(entry, dict):
        raise CanonicalError(f"a ledger entry must be a dict, got {type(entry).__name__}")
    if not _plain(entry):
        _check(entry, "entry")  # says exactly where and what
        raise CanonicalError("entry: holds a value ledger entries do not allow")
    text = json.dumps(entry, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        _check(entry, "entry")  # names the string with the lone surrogate
        raise


def _no_float(text: str) -> Any:
    raise CanonicalError(f"non-canonical entry: contains the number {text}")


def decode(data: bytes) -> dict[str, Any]:
    """The entry whose canonical bytes are ``data``; refuses bytes that are not canonical."""
    try:
        value = json.loads(data.decode("utf-8"), parse_float=_no_float, parse_constant=_no_float)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CanonicalError(f"non-canonical entry: not UTF-8 JSON ({exc})") from exc
    if not isinstance(value, dict):
        raise CanonicalError("non-canonical entry: not a JSON object")
    if encode(value) != bytes(data):
        raise CanonicalError("non-canonical entry: bytes differ from the canonical encoding of their value")
    return value
