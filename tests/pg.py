"""The test PostgreSQL: a schema of its own per test; fails under CI, skips elsewhere, when unreachable."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

PG_DSN = os.environ.get("RINGFENCE_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")


def pg_admin() -> Any:
    """A connection to the test PostgreSQL; fails under CI, skips elsewhere, when it is unreachable."""
    import psycopg

    try:
        return psycopg.connect(PG_DSN, autocommit=True, connect_timeout=3)
    except psycopg.Error as exc:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL at {PG_DSN} is unreachable under CI: {exc}")
        pytest.skip(f"PostgreSQL at {PG_DSN} is unreachable: {exc}")


@contextmanager
def pg_schema() -> Iterator[str]:
    """A URL whose search_path is a fresh schema (dropped afterwards)."""
    admin = pg_admin()
    schema = f"rf_test_{uuid.uuid4().hex[:12]}"
    admin.execute(f"CREATE SCHEMA {schema}")
    try:
        sep = "&" if "?" in PG_DSN else "?"
        yield f"{PG_DSN}{sep}options=-csearch_path%3D{schema}"
    finally:
        admin.execute(f"DROP SCHEMA {schema} CASCADE")
        admin.close()
