"""Incremental builds: recompute only the rows whose inputs changed since the last build.

A model opts in with two header lines:

    -- @incremental campaign, platform, post_id
    -- @changes norm.campaign_posts(campaign, platform, post_id)
    -- @changes norm.engagement_observations(platform, post_id)

The first `@changes` table drives the model. Rows appended to each listed table since the last
build (found by DuckDB's rowid, a high-water mark: the norm tables are append-only) name the
changed keys, in the driving table's columns; a table listed with fewer columns is widened
through the driving table. The build then deletes the model's rows for those keys and inserts
the model's own SQL run with the driving table restricted to them. A `@changes` table that is
itself an incremental model contributes the keys it changed in this build; when the model asks
for other columns of it (a bucket such as `(campaign, hour)` of changed posts), they are read
from the rows that model inserted in this build. So a key's bucket must not change between
builds (a post's hour does not), or its old bucket would not be recomputed.

The model's first `@incremental` columns hold the driving table's `@changes` columns, in order
(`@incremental campaign, day, platform` with `@changes core.campaign_posts(campaign,
local_day)`): deleting a key deletes the rows whose first columns match it.

A full build happens instead when the model's table is missing, when its SQL or the campaigns
changed since the last build, or when a listed table shrank (fingerprints and high-water marks
live in core.build_state). What an incremental build does not see, and `tracker build --full`
does: a change to a row that was not appended, e.g. a late author observation dated before
posts already built.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

import duckdb

_CHANGES = re.compile(r"([\w.]+)\s*\(([^)]*)\)")
STATE_TABLE = "core.build_state"


@dataclass(frozen=True)
class Change:
    table: str
    columns: tuple[str, ...]


def parse_changes(text: str) -> tuple[Change, ...]:
    return tuple(Change(t, tuple(c.strip() for c in cols.split(",") if c.strip()))
                 for t, cols in _CHANGES.findall(text))


def fingerprint(con: duckdb.DuckDBPyConnection, sql: str) -> str:
    campaigns = con.execute("select * from core.campaigns order by all").fetchall()
    tags = con.execute("select * from core.campaign_tags order by all").fetchall()
    return hashlib.sha256(repr((sql, campaigns, tags)).encode()).hexdigest()[:16]


def _ensure_state(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(f"create table if not exists {STATE_TABLE} (model varchar, fingerprint varchar,"
                " source varchar, high_water bigint, primary key (model, source))")


# Rows inserted in the open transaction have provisional rowids from 2**55 up; a mark taken
# then would be wrong after commit. Builds never write norm.* inside their transaction.
_LOCAL_ROWIDS = 1 << 55


def _high_water(con: duckdb.DuckDBPyConnection, table: str) -> int:
    mark = con.execute(f"select coalesce(max(rowid), -1) from {table}").fetchone()[0]
    if mark >= _LOCAL_ROWIDS:
        raise RuntimeError(f"{table} has uncommitted rows: cannot take a high-water mark")
    return mark


def _changed_name(model_table: str) -> str:
    return "changed_" + model_table.replace(".", "_")


def _rows_name(model_table: str) -> str:
    return "rows_" + model_table.replace(".", "_")


def record_full(con: duckdb.DuckDBPyConnection, model, sql: str) -> None:
    """After a full build of an incremental model: remember its fingerprint and marks."""
    _ensure_state(con)
    fp = fingerprint(con, sql)
    con.execute(f"delete from {STATE_TABLE} where model = ?", [model.table])
    for ch in model.changes:
        if not ch.table.startswith("norm."):
            continue
        con.execute(f"insert into {STATE_TABLE} values (?, ?, ?, ?)",
                    [model.table, fp, ch.table, _high_water(con, ch.table)])
    con.execute(f"insert into {STATE_TABLE} values (?, ?, '', -1)", [model.table, fp])
    # every row is new: downstream incremental models must rebuild in full too
    con.execute(f"drop table if exists {_changed_name(model.table)}")
    con.execute(f"drop table if exists {_rows_name(model.table)}")


def try_incremental(con: duckdb.DuckDBPyConnection, model, sql: str,
                    changed: dict[str, tuple[str, ...]]) -> bool:
    """Update `model` in place from the changes since the last build; False = build in full."""
    if not model.changes:
        return False
    exists = con.execute("select count(*) from information_schema.tables where "
                         "table_schema || '.' || table_name = ?", [model.table]).fetchone()[0]
    if not exists:
        return False
    _ensure_state(con)
    state = dict(con.execute(f"select source, high_water from {STATE_TABLE} where model = ? "
                             "and fingerprint = ?",
                             [model.table, fingerprint(con, sql)]).fetchall())
    if "" not in state:
        return False
    driving = model.changes[0]
    key = ", ".join(driving.columns)
    parts, marks = [], {}
    for ch in model.changes:
        cols = ", ".join(ch.columns)
        if ch.table.startswith("norm."):
            if ch.table not in state:
                return False
            mark = _high_water(con, ch.table)
            if mark < state[ch.table]:
                return False
            marks[ch.table] = mark
            rows = f"select {cols} from {ch.table} where rowid > {state[ch.table]}"
        elif ch.table in changed:
            up = changed[ch.table]
            rows = f"select {cols} from {_changed_name(ch.table)}"
            if not set(ch.columns) <= set(up):
                # e.g. the (campaign, hour) buckets of the changed (campaign, post) rows,
                # from the rows the upstream model inserted for its changed keys
                rows = f"select distinct {cols} from {_rows_name(ch.table)}"
        else:
            return False  # an upstream model was rebuilt in full: so must this one be
        if ch.columns != driving.columns:
            rows = (f"select {key} from {driving.table} "
                    f"semi join ({rows}) using ({cols})")
        parts.append(rows)
    name = _changed_name(model.table)
    con.execute(f"create or replace temp table {name} as\n" + "\nunion\n".join(parts))
    restricted = (f"(select * from {driving.table} semi join {name} using ({key}))")
    if (len(model.changes) == 1 and driving.table in changed
            and set(driving.columns) == set(changed[driving.table])):
        # keyed like its upstream model: the upstream's rows for the changed keys are
        # exactly the rows it inserted in this build (its old rows for them were deleted)
        restricted = f"(select * from {_rows_name(driving.table)})"
    body = re.sub(rf"\b{re.escape(driving.table)}\b", restricted, sql)
    # the model's first key columns hold the driving table's columns, in the same order
    match = " and ".join(f"t.{k} = n.{c}"
                         for k, c in zip(model.incremental_key, driving.columns, strict=False))
    con.execute(f"delete from {model.table} t using {name} n where {match}")
    # the inserted rows are kept for downstream models that ask for other columns
    con.execute(f"create or replace temp table {_rows_name(model.table)} as\n{body}")
    con.execute(f"insert into {model.table} by name select * from {_rows_name(model.table)}")
    for table, mark in marks.items():
        con.execute(f"update {STATE_TABLE} set high_water = ? where model = ? and source = ?",
                    [mark, model.table, table])
    # downstream models see the changed keys under the model's own column names
    con.execute(f"create or replace temp table {name} as select "
                + ", ".join(f"{c} as {k}" for k, c in zip(model.incremental_key,
                                                          driving.columns, strict=False))
                + f" from {name}")
    changed[model.table] = model.incremental_key[:len(driving.columns)]
    return True
