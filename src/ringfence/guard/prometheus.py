"""The Prometheus HTTP API's instant query, ``GET /api/v1/query``.

The response is ``{"status": "success", "data": {"resultType": ..., "result": ...}}``;
a ``vector`` becomes a list of floats (one per series, in the order returned), a
``scalar`` a float. ``"NaN"``, ``"+Inf"`` and ``"-Inf"`` are parsed as such, so the
analysis can treat NaN (for example ``0/0`` when there was no traffic) as no data.
"""

from __future__ import annotations

import json
import math
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

USER_AGENT = "ringfence-guard/1"


class QueryError(Exception):
    """The query could not be run or answered (unreachable, HTTP error, bad PromQL)."""


@dataclass(frozen=True)
class QueryResult:
    kind: str  # vector | scalar
    values: tuple[float, ...]
    labels: tuple[dict[str, str], ...] = field(default_factory=tuple)

    @property
    def empty(self) -> bool:
        return not self.values

    @property
    def has_nan(self) -> bool:
        return any(math.isnan(v) for v in self.values)

    def for_condition(self) -> Any:
        """``result`` as conditions see it: a float for a scalar, a list for a vector."""
        return self.values[0] if self.kind == "scalar" else list(self.values)


Query = Callable[[str], QueryResult]


def _float(text: Any) -> float:
    try:
        return float(text)
    except (TypeError, ValueError):
        raise QueryError(f"Prometheus returned a sample value that is not a number: {text!r}") from None


def parse_response(body: bytes) -> QueryResult:
    try:
        doc = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise QueryError("Prometheus answered something that is not JSON") from None
    if not isinstance(doc, dict):
        raise QueryError("Prometheus answered JSON that is not an object")
    if doc.get("status") != "success":
        raise QueryError(f"Prometheus: {doc.get('errorType', 'error')}: {doc.get('error', 'no detail')}")
    data = doc.get("data") or {}
    kind, result = data.get("resultType"), data.get("result")
    if kind == "scalar" and isinstance(result, list) and len(result) == 2:
        return QueryResult("scalar", (_float(result[1]),))
    if kind == "vector" and isinstance(result, list):
        values, labels = [], []
        for item in result:
            if not isinstance(item, dict) or not isinstance(item.get("value"), list) or len(item["value"]) != 2:
                raise QueryError("Prometheus returned a vector sample without [timestamp, value]")
            values.append(_float(item["value"][1]))
            labels.append({str(k): str(v) for k, v in (item.get("metric") or {}).items()})
        return QueryResult("vector", tuple(values), tuple(labels))
    raise QueryError(f"the query returned a {kind!r}; a guard needs an instant vector or a scalar (not a range vector)")


def client(address: str, *, timeout: float = 10.0, headers: dict[str, str] | None = None) -> Query:
    """A function running instant queries against the Prometheus at ``address``."""
    base = address.rstrip("/")

    def run(promql: str) -> QueryResult:
        url = f"{base}/api/v1/query?{urllib.parse.urlencode({'query': promql})}"
        request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT, **(headers or {})})
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return parse_response(response.read(4 * 1024 * 1024))
        except urllib.error.HTTPError as exc:  # 400/422 carry Prometheus's own error JSON
            try:
                return parse_response(exc.read(65536))
            except QueryError as inner:
                raise QueryError(f"{inner} (HTTP {exc.code})") from None
        except (urllib.error.URLError, OSError, TimeoutError) as exc:
            reason = getattr(exc, "reason", exc)
            raise QueryError(f"cannot reach Prometheus at {base}: {reason}") from None

    return run
