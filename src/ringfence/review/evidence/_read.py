"""Reading an evidence file: size limit, JSON parsing, and errors that name the file and what was expected."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

from ringfence.jsontype import json_type
from ringfence.review.findings import ReviewInputError


def _limit() -> int:
    """:data:`ringfence.review.evidence.MAX_INPUT_BYTES`, looked up when a file is read (so setting it there works)."""
    from ringfence.review import evidence

    return evidence.MAX_INPUT_BYTES


@dataclass(frozen=True, slots=True)
class Source:
    """An input file, and how to say what is wrong with it."""

    what: str
    path: Path
    expected: str

    def fail(self, problem: str, *, expectation: bool = True) -> NoReturn:
        """Raise a :class:`ReviewInputError` naming this file, the problem and what was expected."""
        tail = f"; expected {self.expected}" if expectation else ""
        raise ReviewInputError(f"{self.what} {self.path}: {problem}{tail}")

    def read(self) -> bytes:
        """The file's bytes; refuse a missing, unreadable or oversized file."""
        limit = _limit()
        try:
            if self.path.stat().st_size > limit:
                self._too_big(limit)
            with self.path.open("rb") as fh:
                data = fh.read(limit + 1)
        except FileNotFoundError:
            self.fail("no such file")
        except IsADirectoryError:
            self.fail("is a directory, not a file")
        except OSError as exc:
            self.fail(f"cannot be read ({exc.strerror or exc})")
        if len(data) > limit:
            self._too_big(limit)
        if not data.strip():
            self.fail("is empty")
        return data

    def _too_big(self, limit: int) -> NoReturn:
        self.fail(f"is larger than {limit // (1024 * 1024)} MiB, refused", expectation=False)

    def json(self) -> object:
        """The file parsed as JSON."""
        data = self.read()
        try:
            return json.loads(data)
        except UnicodeDecodeError:
            self.fail("is not UTF-8 text")
        except json.JSONDecodeError as exc:
            self.fail(f"is not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})")
        except RecursionError:
            self.fail("is nested too deeply to parse")

    def json_object(self) -> dict[str, object]:
        """The file parsed as a JSON object."""
        doc = self.json()
        if not isinstance(doc, dict):
            self.fail(f"holds a JSON {json_type(doc)}, not an object")
        return doc


def as_object(value: object) -> dict[str, object]:
    """``value`` if it is a JSON object, else an empty one (for optional parts)."""
    return value if isinstance(value, dict) else {}


def as_list(value: object) -> list[object]:
    """``value`` if it is a JSON array, else an empty one (for optional parts)."""
    return value if isinstance(value, list) else []


def as_str(value: object) -> str | None:
    """``value`` if it is a non-empty string."""
    return value if isinstance(value, str) and value else None
