"""Schema 5: move the payloads of a warehouse's raw.pages table into a segment.

Runs inside the migration's transaction, after warehouse/schema/005_raw_segments.sql created
raw.page_index: the payloads are written to one segment (fsynced before the commit), the
provenance is copied to raw.page_index in the table's order, and the table is replaced by the
view. A crash before the commit leaves the table as it was and at most an unreferenced
segment, which the next open for writing after the migration removes.
"""

from __future__ import annotations

import duckdb

from . import segments
from .db import scalar

_COLUMNS = ("page_id, format, platform, source, campaign, request, retrieved_at, client, "
            "load_id, batch_id, synthetic, redacted_by, redacted_at, redaction")


def migrate(con: duckdb.DuckDBPyConnection) -> int:
    """Move raw.pages (a table) into a segment and raw.page_index; return pages moved."""
    segments.prepare(con, writer=True)
    is_table = scalar(con, "select count(*) from duckdb_tables() where schema_name = 'raw' "
                           "and table_name = 'pages' and not temporary")
    moved = 0
    if is_table:
        moved = int(scalar(con, "select count(*) from raw.pages"))
        if moved:
            name = segments.write(con, "select page_id, payload from raw.pages order by rowid")
            con.execute(f"insert into raw.page_index select {_COLUMNS}, ? from raw.pages "
                        "order by rowid", [name])
        con.execute("drop table raw.pages")
    con.execute(segments.view_sql(con))
    return moved
