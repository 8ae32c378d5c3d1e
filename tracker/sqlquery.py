"""Ad-hoc SQL: always on a read-only connection, so it can never change the warehouse."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb

from .errors import TrackerError
from .store.db import connect


def run_query(path: Path, query: str, *, wait: float = 30.0,
              on_wait: Callable[[str], None] | None = None) -> tuple[list[str], list[tuple]]:
    con = connect(path, read_only=True, wait=wait, on_wait=on_wait)
    try:
        try:
            cur = con.execute(query)
        except duckdb.Error as exc:
            raise TrackerError(f"query failed: {str(exc).splitlines()[0]}") from None
        if cur.description is None:
            return [], []
        return [d[0] for d in cur.description], cur.fetchall()
    finally:
        con.close()


def _cell(value: Any) -> str:
    return "" if value is None else str(value)


def format_table(columns: list[str], rows: list[tuple]) -> str:
    """A plain aligned text table (stable output, easy to assert and to read)."""
    if not columns:
        return "(no result)"
    cells = [[_cell(v) for v in row] for row in rows]
    widths = [max([len(c)] + [len(r[i]) for r in cells]) for i, c in enumerate(columns)]
    line = "  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip()
    sep = "  ".join("-" * w for w in widths)
    body = ["  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip() for r in cells]
    return "\n".join([line, sep, *body, f"({len(rows)} row{'s' if len(rows) != 1 else ''})"])
