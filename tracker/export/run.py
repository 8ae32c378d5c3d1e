"""Run one export: the data to a file (with its datasheet beside it) or to a text stream."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import duckdb

from ..config import Campaign
from ..errors import TrackerError
from . import (
    FORMATS,
    MEMORY_LIMIT,
    Selection,
    check_built,
    check_targets,
    copy_to_file,
    prepare,
    publish,
    rows_sql,
    temp_beside,
    write_stream,
)
from . import datasheet as sheet


@dataclass
class Exported:
    rows: int
    path: Path | None = None
    datasheet: Path | None = None


def datasheet_path(out: Path) -> Path:
    """`posts.csv` -> `posts.README.md`, in the same directory."""
    return out.with_name(f"{out.name.split('.', 1)[0] or out.name}.README.md")


def export(con: duckdb.DuckDBPyConnection, campaign: Campaign, sel: Selection, fmt: str, *,
           ids_only: bool = False, out: Path | None = None, stream: IO[str] | None = None,
           force: bool = False) -> Exported:
    """Write the selection's rows to `out` (and its datasheet) or, without `out`, to `stream`."""
    if fmt not in FORMATS:
        raise TrackerError(f"unknown format '{fmt}' (expected one of {', '.join(FORMATS)})")
    if sel.since and sel.until and sel.since > sel.until:
        raise TrackerError(f"--since {sel.since} is after --until {sel.until}")
    if out is None and fmt == "parquet":
        raise TrackerError("--format parquet needs -o FILE (it is a binary file)")
    if out is not None:
        sheet_path = datasheet_path(out)
        if sheet_path == out:
            raise TrackerError(f"{out}: the datasheet would replace the export; choose "
                               "another name")
        check_targets([out, sheet_path], force)
    check_built(con, campaign.name)
    con.execute("set TimeZone = 'UTC'")
    con.execute(f"set memory_limit = '{MEMORY_LIMIT}'")
    prepare(con, sel, ids_only)
    sql = rows_sql(fmt, ids_only)
    if out is None:
        if stream is None:
            raise TypeError("export() needs `out` or `stream`")
        return Exported(write_stream(con, sql, fmt, stream))
    tmp_data, tmp_sheet = temp_beside(out), temp_beside(sheet_path)
    try:
        rows = copy_to_file(con, sql, fmt, tmp_data)
        tmp_sheet.write_text(sheet.render(con, campaign, sel, file_name=out.name, fmt=fmt,
                                          ids_only=ids_only, rows=rows), encoding="utf-8")
        publish([(tmp_data, out), (tmp_sheet, sheet_path)])
    finally:
        for t in (tmp_data, tmp_sheet):
            with contextlib.suppress(FileNotFoundError):
                t.unlink()
    return Exported(rows, out, sheet_path)
