"""Incremental materialisation of `@incremental` models (placeholder: full rebuild)."""

from __future__ import annotations

import duckdb


def try_incremental(con: duckdb.DuckDBPyConnection, model, sql: str) -> bool:
    return False
