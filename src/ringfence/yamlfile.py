"""Reading the YAML documents people write: guard specs, runbooks, task files, review settings.

One place for the three things every such reader does — read the file, parse it with the
safe loader (the C one when available), insist on a mapping — so each says what went wrong
the same way and raises its own module's error type.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ringfence.errors import RingfenceError


def parse_yaml(text: str, where: str, error: type[RingfenceError]) -> Any:
    import yaml

    try:
        return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError as exc:
        raise error(f"{where}: not valid YAML: {exc}") from None


def read_mapping(path: Path, what: str, shape: str, error: type[RingfenceError]) -> Mapping[str, Any]:
    """The YAML mapping in ``path``; ``what`` names the document (``the runbook``), ``shape``
    what it holds (``version, name and steps``)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise error(f"cannot read {what} {path}: {exc.strerror}") from None
    doc = parse_yaml(text, str(path), error)
    if not isinstance(doc, Mapping):
        raise error(f"{path}: {what.removeprefix('the ')} is a mapping with {shape}")
    return doc
