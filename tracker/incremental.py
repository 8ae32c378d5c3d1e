"""Incremental builds: recompute only the rows whose inputs changed since the last build.

A model opts in with header lines:

    -- @incremental campaign, platform, post_id
    -- @changes norm.campaign_posts(campaign, platform, post_id)
    -- @changes norm.engagement_observations(platform, post_id)
    -- @lookup core.posts(platform, post_id) rows norm.posts(norm_row)
    -- @lookup norm.post_hashtags(platform, post_id)
    -- @merge posts sum, followers max
    -- @reapply

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

Fresh keys. A key first appended to a norm driving table since the last build (the driving
table's `@changes` columns are its unique key) cannot have rows in the model yet, so nothing
is deleted for it, and its driving rows are read by rowid, without scanning the table. A model
keyed like its upstream model inherits the upstream's fresh keys. Only the other changed keys
("touched": e.g. a newer engagement observation of an older post) are looked up by key, which
scans; when there are none, nothing is scanned.

Lookups. `@lookup T(platform, post_id)` replaces T in the model's SQL, in an incremental
build, by T's rows for the posts of the restricted driving rows. Posts first stored since the
last build (fresh in norm.posts) find their rows among T's rows appended since then (by rowid,
or by the `rows` column that carries norm.posts' rowid when T is a view over it): every row
keyed by a post is written in the transaction that first stores the post, or later. Only the
other posts are looked up by key, with a scan.

Merges. `@merge posts sum, followers max, first_day min`: when the upstream model only added
new rows in this build (every changed key fresh), the model's SQL runs over those rows alone
and each result row is combined with the model's existing row of the same key (sum, max or
min per column; the old row is deleted, the combined one inserted). Otherwise the changed keys
are recomputed as above. `@reapply` is for a model whose SQL chooses some of its driving
table's rows (the leaders by a metric): when the upstream was merged, so that changed rows
only grew, the SQL runs again over the model's own rows and the upstream's changed rows;
otherwise the model is built in full.

A full build happens instead when the model's table is missing, when its SQL or the campaigns
changed since the last build, or when a listed table shrank (fingerprints and high-water marks
live in core.build_state). What an incremental build does not see, and `tracker build --full`
does: a change to a row that was not appended, e.g. a late author observation dated before
posts already built, or an author's first observation arriving after their posts were built
(their followers at posting come from it); and a repost stored before the post it reposts,
which joins that post's campaigns when a full build links stored posts again.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

import duckdb

from .store.db import scalar

_CHANGES = re.compile(r"([\w.]+)\s*\(([^)]*)\)")
_LOOKUP = re.compile(r"^([\w.]+)\s*\(([^)]*)\)(?:\s+rows\s+([\w.]+)\s*\((\w+)\))?$")
STATE_TABLE = "core.build_state"
POSTS = "norm.posts"
POST_KEY = ("platform", "post_id")


@dataclass(frozen=True)
class Change:
    table: str
    columns: tuple[str, ...]


@dataclass(frozen=True)
class Lookup:
    """`table` read for the changed posts only; `rows_table`.rowid is `row_column` in it."""
    table: str
    columns: tuple[str, ...]
    rows_table: str
    row_column: str


@dataclass(frozen=True)
class Upstream:
    """What an incremental model changed in this build, for the models downstream of it."""
    key: tuple[str, ...]  # its changed_/fresh_ tables' columns
    rows: bool = True  # whether rows_ holds its new rows for the changed keys
    merged: bool = False  # @merge: changed rows only grew (sums of new posts added)


_OPS = ("sum", "max", "min")


def parse_merge(text: str) -> tuple[tuple[str, str], ...] | None:
    """`posts sum, followers max, first_day min` -> ((column, op), ...); None if malformed."""
    pairs = [part.split() for part in text.split(",")]
    if not all(len(p) == 2 and p[1] in _OPS for p in pairs):
        return None
    return tuple((c, op) for c, op in pairs)


def parse_changes(text: str) -> tuple[Change, ...]:
    return tuple(Change(t, _columns(cols)) for t, cols in _CHANGES.findall(text))


def parse_lookup(text: str) -> Lookup | None:
    """`norm.t(platform, post_id)` or `core.v(platform, post_id) rows norm.t(column)`."""
    m = _LOOKUP.match(text.strip())
    if not m or _columns(m.group(2)) != POST_KEY:
        return None
    table, rows_table, row_column = m.group(1), m.group(3), m.group(4)
    if rows_table is None:
        if not table.startswith("norm."):
            return None
        rows_table, row_column = table, "rowid"
    return Lookup(table, POST_KEY, rows_table, row_column)


def _columns(text: str) -> tuple[str, ...]:
    return tuple(c.strip() for c in text.split(",") if c.strip())


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
    mark = int(scalar(con, f"select coalesce(max(rowid), -1) from {table}"))
    if mark >= _LOCAL_ROWIDS:
        raise RuntimeError(f"{table} has uncommitted rows: cannot take a high-water mark")
    return mark


def _name(prefix: str, model_table: str) -> str:
    return f"{prefix}_{model_table.replace('.', '_')}"


def _marked_tables(model) -> list[str]:
    """The norm tables whose high-water marks the model keeps."""
    tables = [ch.table for ch in model.changes if ch.table.startswith("norm.")]
    if model.lookups or any(ch.columns == POST_KEY for ch in model.changes[1:]):
        tables += [lk.rows_table for lk in model.lookups] + [POSTS]
    return list(dict.fromkeys(tables))


def record_full(con: duckdb.DuckDBPyConnection, model, sql: str) -> None:
    """After a full build of an incremental model: remember its fingerprint and marks."""
    _ensure_state(con)
    fp = fingerprint(con, sql)
    con.execute(f"delete from {STATE_TABLE} where model = ?", [model.table])
    for table in _marked_tables(model):
        con.execute(f"insert into {STATE_TABLE} values (?, ?, ?, ?)",
                    [model.table, fp, table, _high_water(con, table)])
    con.execute(f"insert into {STATE_TABLE} values (?, ?, '', -1)", [model.table, fp])
    # every row is new: downstream incremental models must rebuild in full too
    for prefix in ("changed", "rows", "fresh"):
        con.execute(f"drop table if exists {_name(prefix, model.table)}")


def _count(con: duckdb.DuckDBPyConnection, table: str) -> int:
    return int(scalar(con, f"select count(*) from {table}"))


def _marks(con: duckdb.DuckDBPyConnection, model, sql: str) -> dict[str, tuple[int, int]] | None:
    """{norm table: (mark at the last build, mark now)}, or None when a full build is due."""
    schema, name = model.table.split(".")
    exists = scalar(con, "select count(*) from duckdb_tables() where not temporary and "
                         "schema_name = ? and table_name = ?", [schema, name])
    if not exists:
        return None
    _ensure_state(con)
    state = dict(con.execute(f"select source, high_water from {STATE_TABLE} where model = ? "
                             "and fingerprint = ?",
                             [model.table, fingerprint(con, sql)]).fetchall())
    if "" not in state:
        return None
    marks = {}
    for table in _marked_tables(model):
        if table not in state:
            return None
        now = _high_water(con, table)
        if now < state[table]:
            return None
        marks[table] = (state[table], now)
    return marks


def try_incremental(con: duckdb.DuckDBPyConnection, model, sql: str,
                    changed: dict[str, Upstream]) -> str | None:
    """Update `model` in place from the changes since the last build: 'incremental' or
    'merge' (see @merge), or None when it must be built in full."""
    if not model.changes:
        return None
    marks = _marks(con, model, sql)
    if marks is None:
        return None
    if model.reapply:
        return _reapply(con, model, sql, changed)
    driving = model.changes[0]
    key = ", ".join(driving.columns)
    changed_t, fresh_t = _name("changed", model.table), _name("fresh", model.table)
    drive_t, rows_t = _name("drive", model.table), _name("rows", model.table)
    if driving.table.startswith("norm."):
        # the driving rows appended since the last build: their keys are fresh
        con.execute(f"create or replace temp table {drive_t} as select * from "
                    f"{driving.table} where rowid > {marks[driving.table][0]}")
        con.execute(f"create or replace temp table {fresh_t} as select {key} from {drive_t}")
    elif _appended_only(con, model, changed):
        return _merge(con, model, sql, changed)
    elif (driving.table in changed and set(driving.columns) == set(changed[driving.table].key)
          and changed[driving.table].rows):
        # keyed like its upstream model: the upstream's rows for its changed keys are exactly
        # the rows it inserted in this build, and its fresh keys are fresh here too
        con.execute(f"create or replace temp table {fresh_t} as select {key} from "
                    f"{_name('fresh', driving.table)}")
        con.execute(f"create or replace temp table {drive_t} as select * from "
                    f"{_name('rows', driving.table)}")
    else:
        con.execute(f"create or replace temp table {fresh_t} as select {key} from "
                    f"{driving.table} limit 0")
        con.execute(f"create or replace temp table {drive_t} as select * from "
                    f"{driving.table} limit 0")
    parts = [f"select {key} from {fresh_t}"]
    for ch in model.changes:
        rows = _changed_rows(ch, marks, changed)
        if rows is None:
            return None  # an upstream model was rebuilt in full: so must this one be
        if ch.columns != driving.columns:
            cols = ", ".join(ch.columns)
            rest = rows
            if ch.columns == POST_KEY:
                # a post first stored since the last build has only new driving rows (they
                # are written with the post or later, and so are the rows derived from
                # them): only older posts need the scan
                rest = (f"({rows}) anti join (select {cols} from {POSTS} "
                        f"where rowid > {marks[POSTS][0]}) using ({cols})")
            # widen through the driving table: its new rows, and by key for the rest
            rows = (f"select {key} from {drive_t} semi join ({rows}) using ({cols})\nunion\n"
                    f"select {key} from {driving.table} semi join ({rest}) using ({cols})")
        parts.append(rows)
    con.execute(f"create or replace temp table {changed_t} as\n" + "\nunion\n".join(parts))
    touched = _name("touched", model.table)
    con.execute(f"create or replace temp table {touched} as "
                f"select * from {changed_t} anti join {fresh_t} using ({key})")
    restricted = drive_t
    n_touched = _count(con, touched)
    if n_touched and _mostly(con, model, driving, n_touched):
        return None  # e.g. posts spread over every hour: recomputing every bucket costs more
    if n_touched:
        # keys that may have rows: their old rows deleted, their driving rows read by key
        # (in the model's query, so that only the columns it needs are read)
        # (keys whose rows drive_t holds already are not read again)
        restricted = (f"(select * from {drive_t} union all by name select * from "
                      f"{driving.table} semi join ({touched} anti join {drive_t} "
                      f"using ({key})) using ({key}))")
        match = " and ".join(f"t.{k} = n.{c}" for k, c in
                             zip(model.incremental_key, driving.columns, strict=False))
        con.execute(f"delete from {model.table} t using {touched} n where {match}")
    body = re.sub(rf"\b{re.escape(driving.table)}\b", restricted, sql)
    if model.lookups:
        _changed_posts(con, model, marks, restricted)
    for lk in model.lookups:
        body = re.sub(rf"\b{re.escape(lk.table)}\b", _lookup(con, model, lk, marks), body)
    # the inserted rows are kept for downstream models that ask for other columns
    con.execute(f"create or replace temp table {rows_t} as\n{body}")
    con.execute(f"insert into {model.table} by name select * from {rows_t}")
    for table, (_, now) in marks.items():
        con.execute(f"update {STATE_TABLE} set high_water = ? where model = ? and source = ?",
                    [now, model.table, table])
    # downstream models see the changed keys under the model's own column names
    rename = ", ".join(f"{c} as {k}" for k, c in zip(model.incremental_key, driving.columns,
                                                      strict=False))
    for t in (changed_t, fresh_t):
        con.execute(f"create or replace temp table {t} as select {rename} from {t}")
    changed[model.table] = Upstream(model.incremental_key[:len(driving.columns)])
    return "incremental"


# below this many driving rows, recomputing changed keys is cheap whatever their number
_LARGE_INPUT = 1_000_000
# above this many rows, a model's keys are not counted (its changed keys are never most)
_SMALL_MODEL = 1_000_000


def _mostly(con: duckdb.DuckDBPyConnection, model, driving: Change, n: int) -> bool:
    """Whether `n` changed keys of a large input are at least half of the model's keys: a
    full build is then cheaper than deleting and inserting nearly everything. Only for
    models with fewer rows than that (per-bucket models), whose keys are cheap to count."""
    if (_count(con, driving.table) < _LARGE_INPUT
            or _count(con, model.table) > _SMALL_MODEL):
        return False
    cols = ", ".join(model.incremental_key[:len(driving.columns)])
    return 2 * n >= _count(con, f"(select distinct {cols} from {model.table})")


def _appended_only(con: duckdb.DuckDBPyConnection, model, changed: dict[str, Upstream]) -> bool:
    """Whether `model` can be merged: it has @merge, and its upstream model only appended
    rows in this build (every changed key is fresh), so its rows_ are all new rows."""
    driving = model.changes[0]
    up = changed.get(driving.table)
    if not model.merge or len(model.changes) != 1 or up is None or not up.rows:
        return False
    cols = ", ".join(up.key)
    return not _count(con, f"(select {cols} from {_name('changed', driving.table)} anti join "
                           f"{_name('fresh', driving.table)} using ({cols}))")


def _merge(con: duckdb.DuckDBPyConnection, model, sql: str,
           changed: dict[str, Upstream]) -> str:
    """Add the model's SQL run over the upstream's new rows to the existing rows (@merge)."""
    driving = model.changes[0]
    delta_t = _name("delta", model.table)
    body = re.sub(rf"\b{re.escape(driving.table)}\b", _name("rows", driving.table), sql)
    con.execute(f"create or replace temp table {delta_t} as\n{body}")
    # delete and insert rather than update: DuckDB scans and checkpoints updated rows slowly
    keys = ", ".join(model.incremental_key)
    old_t = _name("old", model.table)
    con.execute(f"create or replace temp table {old_t} as select rowid as old_row, * "
                f"from {model.table} semi join {delta_t} using ({keys})")
    # by row number: a join on one integer instead of the key's strings
    con.execute(f"delete from {model.table} where rowid in (select old_row from {old_t})")
    merged = ", ".join(f"{op}({c}) as {c}" for c, op in model.merge)
    rows_t = _name("rows", model.table)
    con.execute(f"create or replace temp table {rows_t} as select {keys}, {merged} from "
                f"(select * exclude (old_row) from {old_t} union all by name "
                f"select * from {delta_t}) group by {keys}")
    con.execute(f"insert into {model.table} by name select * from {rows_t}")
    key = ", ".join(model.incremental_key[:len(driving.columns)])
    con.execute(f"create or replace temp table {_name('changed', model.table)} as "
                f"select distinct {key} from {delta_t}")
    con.execute(f"create or replace temp table {_name('fresh', model.table)} as "
                f"select {key} from {delta_t} limit 0")
    changed[model.table] = Upstream(model.incremental_key[:len(driving.columns)], merged=True)
    return "merge"


def _reapply(con: duckdb.DuckDBPyConnection, model, sql: str,
             changed: dict[str, Upstream]) -> str | None:
    """@reapply: run the model's SQL (a choice among its driving table's rows) over its own
    rows and the upstream's changed rows, when the upstream was merged; else build in full."""
    driving = model.changes[0]
    up = changed.get(driving.table)
    if up is None or not up.merged or not up.rows:
        return None
    keys = ", ".join(model.incremental_key)
    rows_up = _name("rows", driving.table)
    inputs = (f"(select * from {model.table} anti join {rows_up} using ({keys}) "
              f"union all by name select * from {rows_up})")
    body = re.sub(rf"\b{re.escape(driving.table)}\b", inputs, sql)
    new_t = _name("reapplied", model.table)
    con.execute(f"create or replace temp table {new_t} as\n{body}")
    con.execute(f"delete from {model.table}")
    con.execute(f"insert into {model.table} by name select * from {new_t}")
    # downstream incremental models cannot tell what changed here: they build in full
    changed.pop(model.table, None)
    return "reapply"


def _changed_rows(ch: Change, marks: dict[str, tuple[int, int]],
                  changed: dict[str, Upstream]) -> str | None:
    """SQL for the keys (in `ch.columns`) that `ch.table` changed since the last build."""
    cols = ", ".join(ch.columns)
    if ch.table.startswith("norm."):
        return f"select {cols} from {ch.table} where rowid > {marks[ch.table][0]}"
    up = changed.get(ch.table)
    if up is None:
        return None
    if set(ch.columns) <= set(up.key):
        return f"select {cols} from {_name('changed', ch.table)}"
    # e.g. the (campaign, hour) buckets of the changed (campaign, post) rows, from the rows
    # the upstream model inserted in this build
    if not up.rows:
        return None
    return f"select distinct {cols} from {_name('rows', ch.table)}"


def _changed_posts(con: duckdb.DuckDBPyConnection, model, marks: dict[str, tuple[int, int]],
                   drive_t: str) -> None:
    """The posts of the model's driving rows, each marked fresh when first stored since the
    last build (then all its rows in a lookup table are newer too)."""
    con.execute(f"create or replace temp table {_name('posts', model.table)} as "
                f"select platform, post_id, (platform, post_id) in (select platform, post_id "
                f"from {POSTS} where rowid > {marks[POSTS][0]}) as fresh "
                f"from (select distinct platform, post_id from {drive_t})")


def _lookup(con: duckdb.DuckDBPyConnection, model, lk: Lookup,
            marks: dict[str, tuple[int, int]]) -> str:
    """A temp table with `lk.table`'s rows for the posts of `_changed_posts`: new rows for
    fresh posts, a look-up by key (a scan) only for the others."""
    posts_t = _name("posts", model.table)
    name = f"{_name('lookup', model.table)}_{lk.table.replace('.', '_')}"
    con.execute(f"create or replace temp table {name} as\n"
                f"select * from (select * from {lk.table} "
                f"where {lk.row_column} > {marks[lk.rows_table][0]}) "
                f"semi join (select * from {posts_t} where fresh) using (platform, post_id)\n"
                f"union all\n"
                f"select * from {lk.table} "
                f"semi join (select * from {posts_t} where not fresh) using (platform, post_id)")
    return name
