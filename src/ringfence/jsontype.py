"""The JSON name of a parsed value's type, for error messages that say what was found.

A leaf module with no imports, so the hook's adapters can use it as cheaply as the
configuration writers and the review's evidence readers.
"""

from __future__ import annotations

from typing import Any


def json_type(value: Any) -> str:
    """``object``, ``array``, ``string``, ``number``, ``boolean`` or ``null``."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"
