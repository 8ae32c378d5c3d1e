"""Updating an incremental model in place from what changed since its last build.

`update` picks the strategy: `reapply`, `merge`, or recomputing the changed keys (`recompute`,
the default); each returns the step's mode, or None when the model must be built in full.
See the package docstring (tracker.build) for what each strategy relies on.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb

from ..store.db import scalar
from . import sql as sqltree
from .asof import changed_posts
from .model import MERGE_KEY, POST_KEY, Change, Lookup, Model, merge_key_sql
from .state import POSTS, BuildState, Delta, Marks, temp_name

# below this many driving rows, recomputing changed keys is cheap whatever their number
_LARGE_INPUT = 1_000_000
# above this many rows, a model's keys are not counted (its changed keys are never most)
_SMALL_MODEL = 1_000_000


@dataclass
class Context:
    """One build: its connection, the remembered state, and the deltas of the models built
    incrementally so far (by table)."""
    con: duckdb.DuckDBPyConnection
    state: BuildState
    deltas: dict[str, Delta] = field(default_factory=dict)

    def run(self, sql: str) -> None:
        self.con.execute(sql)

    def count(self, source: str) -> int:
        return scalar(self.con, f"select count(*) from {source}")


def update(ctx: Context, m: Model) -> str | None:
    """Update `m` from the changes since its last build: its mode, or None (build in full)."""
    marks = ctx.state.marks(m)
    if marks is None:
        return None
    if m.reapply:
        return reapply(ctx, m)
    if _can_merge(ctx, m):
        return merge(ctx, m)
    return recompute(ctx, m, marks)


def _columns(names) -> str:
    return ", ".join(names)


# -- matching rows by key: a key column may hold null (a post without a known language or
# author), and a key with a null is one key like any other (as `group by` treats it), so rows
# match when their keys are not distinct. `is not distinct from` alone would cost the scan of
# the large side the key filter DuckDB hands it for `=` (a 10M-row table read whole instead of
# one hour's row groups): keys without a null are matched with `=`, keys with one apart, over
# an input that is empty (and so not scanned) in the usual case of no null.

def _on(left: str, left_cols, right: str, right_cols, op: str = "=") -> str:
    return " and ".join(f"{left}.{a} {op} {right}.{b}"
                        for a, b in zip(left_cols, right_cols, strict=True))


def _some_null(cols) -> str:
    return " or ".join(f"{c} is null" for c in cols)


def semi(rows: str, keys: str, cols, key_cols=None, select: str = "r.*") -> str:
    """SQL: `select` of the rows of `rows` (a table, or a query in parentheses) whose `cols`
    match a key of `keys` (in its `key_cols`, default the same names)."""
    key_cols = key_cols or cols
    return (f"select {select} from {rows} r semi join {keys} k on "
            f"{_on('r', cols, 'k', key_cols)}\nunion all\n"
            f"select {select} from {rows} r semi join (select * from {keys} where "
            f"{_some_null(key_cols)}) k on {_on('r', cols, 'k', key_cols, 'is not distinct from')}")


def anti(rows: str, keys: str, cols, key_cols=None) -> str:
    """SQL: the rows of `rows` whose `cols` match no key of `keys`."""
    key_cols = key_cols or cols
    return (f"select r.* from (select * from {rows} where not ({_some_null(cols)})) r "
            f"anti join {keys} k on {_on('r', cols, 'k', key_cols)}\nunion all\n"
            f"select r.* from (select * from {rows} where {_some_null(cols)}) r anti join "
            f"(select * from {keys} where {_some_null(key_cols)}) k on "
            f"{_on('r', cols, 'k', key_cols, 'is not distinct from')}")


def _driving_key(m: Model) -> tuple[str, ...]:
    """The model's columns that hold the driving table's @changes columns."""
    return m.incremental_key[:len(m.changes[0].columns)]


# -- recompute: delete the changed keys' rows, insert the SQL run over their driving rows --

def recompute(ctx: Context, m: Model, marks: Marks) -> str | None:
    driving = m.changes[0]
    drive_t, fresh_t = _driving_rows(ctx, m, marks)
    changed_t = _changed_keys(ctx, m, marks, drive_t, fresh_t)
    if changed_t is None:
        return None  # an upstream model was rebuilt in full: so must this one be
    touched_t = temp_name("touched", m)
    ctx.run(f"create or replace temp table {touched_t} as "
            + anti(changed_t, fresh_t, driving.columns))
    restricted = drive_t
    n_touched = ctx.count(touched_t)
    if n_touched and _mostly(ctx, m, driving, n_touched):
        return None  # e.g. posts spread over every hour: recomputing every bucket costs more
    if n_touched:
        restricted = _with_touched(ctx, m, drive_t, touched_t)
    replacements = {driving.table: restricted}
    if m.lookups:
        posts_t = _changed_posts(ctx, m, marks, restricted)
        for lk in m.lookups:
            replacements[lk.table] = _lookup(ctx, m, lk, marks, posts_t)
    # the inserted rows are kept for downstream models that ask for other columns
    rows_t = temp_name("rows", m)
    ctx.run(f"create or replace temp table {rows_t} as\n"
            + sqltree.substitute(m.sql, replacements))
    ctx.run(f"insert into {m.table} by name " + with_merge_key(m, rows_t))
    ctx.state.advance(m, marks)
    _publish(ctx, m, changed_t, fresh_t, rows_t, appended=not n_touched)
    return "incremental"


def _driving_rows(ctx: Context, m: Model, marks: Marks) -> tuple[str, str]:
    """Temp tables of the driving rows known to be new, and of their (fresh) keys: keys that
    cannot have rows in the model yet."""
    driving = m.changes[0]
    key = _columns(driving.columns)
    drive_t, fresh_t = temp_name("drive", m), temp_name("fresh", m)
    up = ctx.deltas.get(driving.table)
    if driving.table.startswith("norm."):
        # the driving rows appended since the last build: their keys are fresh
        ctx.run(f"create or replace temp table {drive_t} as select * from "
                f"{driving.table} where {marks.new_rows(driving.table)}")
        ctx.run(f"create or replace temp table {fresh_t} as select {key} from {drive_t}")
    elif up is not None and set(driving.columns) == set(up.key):
        # keyed like its upstream model: the upstream's rows for its changed keys are exactly
        # the rows it inserted in this build, and its fresh keys are fresh here too
        if driving.columns == up.key == _driving_key(m):
            # read as they are (only a model's own copies are renamed, by _publish)
            return up.rows, up.fresh
        ctx.run(f"create or replace temp table {fresh_t} as select {key} from {up.fresh}")
        ctx.run(f"create or replace temp table {drive_t} as select * from {up.rows}")
    else:
        ctx.run(f"create or replace temp table {fresh_t} as select {key} from "
                f"{driving.table} limit 0")
        ctx.run(f"create or replace temp table {drive_t} as select * from "
                f"{driving.table} limit 0")
    return drive_t, fresh_t


def _changed_keys(ctx: Context, m: Model, marks: Marks, drive_t: str,
                  fresh_t: str) -> str | None:
    """A temp table of every changed key (in the driving columns), or None when an upstream
    model's changes are unknown (it was built in full)."""
    driving = m.changes[0]
    key = _columns(driving.columns)
    parts = [f"select {key} from {fresh_t}"]
    for ch in m.changes:
        rows = _changed_rows(ctx, m, ch, marks)
        if rows is None:
            return None
        if ch.keys != driving.columns:
            rows = _widened(m, ch, marks, rows, drive_t)
        parts.append(rows)
    changed_t = temp_name("changed", m)
    ctx.run(f"create or replace temp table {changed_t} as\n" + "\nunion\n".join(parts))
    return changed_t


def _changed_rows(ctx: Context, m: Model, ch: Change, marks: Marks) -> str | None:
    """SQL for the keys (in `ch.keys`) that `ch.table` changed since the last build."""
    if ch.asof:
        return f"select {_columns(ch.keys)} from {changed_posts(ctx, m, ch, marks)}"
    cols = _columns(ch.columns)
    if ch.table.startswith("norm."):
        return f"select {cols} from {ch.table} where {marks.new_rows(ch.table)}"
    up = ctx.deltas.get(ch.table)
    if up is None:
        return None
    if set(ch.columns) <= set(up.key):
        return f"select {cols} from {up.changed}"
    # e.g. the (campaign, hour) buckets of the changed (campaign, post) rows, from the rows
    # the upstream model has for them after its update
    return f"select distinct {cols} from {up.rows}"


def _widened(m: Model, ch: Change, marks: Marks, rows: str, drive_t: str) -> str:
    """`rows` (keys in `ch.keys`, fewer than the driving table's) widened to the driving
    table's keys: through its new rows, and by key for the rest."""
    driving = m.changes[0]
    cols = _columns(ch.keys)
    rest = rows
    if ch.keys == POST_KEY:
        # a post first stored since the last build has only new driving rows (the loader
        # rule: they are written with the post or later, and so are the rows derived from
        # them): only older posts need the scan
        rest = anti(f"({rows})", f"(select {cols} from {POSTS} where "
                    f"{marks.new_rows(POSTS)})", ch.keys)
    chosen = ", ".join(f"r.{c}" for c in driving.columns)
    return (f"select distinct * from (\n{semi(drive_t, f'({rows})', ch.keys, select=chosen)}"
            f"\nunion all\n{semi(driving.table, f'({rest})', ch.keys, select=chosen)})")


def _with_touched(ctx: Context, m: Model, drive_t: str, touched_t: str) -> str:
    """Delete the touched keys' rows (keys that may have rows: not fresh); the driving rows as
    a query: the new ones, and the touched keys' read by key, in the model's query so that
    only the columns it needs are read (keys whose rows drive_t holds already are not read
    again)."""
    driving = m.changes[0]
    mine = _driving_key(m)
    ctx.run(f"delete from {m.table} t using {touched_t} n where "
            + _on("t", mine, "n", driving.columns))
    ctx.run(f"delete from {m.table} t using (select * from {touched_t} where "
            f"{_some_null(driving.columns)}) n where "
            + _on("t", mine, "n", driving.columns, "is not distinct from"))
    unread = f"({anti(touched_t, drive_t, driving.columns)})"
    return (f"(select * from {drive_t} union all by name "
            f"select * from ({semi(driving.table, unread, driving.columns)}))")


def _mostly(ctx: Context, m: Model, driving: Change, n: int) -> bool:
    """Whether `n` changed keys of a large input are at least half of the model's keys: a
    full build is then cheaper than deleting and inserting nearly everything. Only for
    models with fewer rows than that (per-bucket models), whose keys are cheap to count."""
    if ctx.count(driving.table) < _LARGE_INPUT or ctx.count(m.table) > _SMALL_MODEL:
        return False
    return 2 * n >= ctx.count(f"(select distinct {_columns(_driving_key(m))} from {m.table})")


def _changed_posts(ctx: Context, m: Model, marks: Marks, driving_rows: str) -> str:
    """A temp table of the posts of the model's driving rows, each marked fresh when first
    stored since the last build (then all its rows in a lookup table are newer too)."""
    posts_t = temp_name("posts", m)
    ctx.run(f"create or replace temp table {posts_t} as "
            f"select platform, post_id, (platform, post_id) in (select platform, post_id "
            f"from {POSTS} where {marks.new_rows(POSTS)}) as fresh "
            f"from (select distinct platform, post_id from {driving_rows})")
    return posts_t


def _lookup(ctx: Context, m: Model, lk: Lookup, marks: Marks, posts_t: str) -> str:
    """A temp table with `lk.table`'s rows for the posts of `posts_t`: new rows for fresh
    posts, a look-up by key (a scan) only for the others."""
    name = f"{temp_name('lookup', m)}_{lk.table.replace('.', '_')}"
    ctx.run(f"create or replace temp table {name} as\n"
            f"select * from (select * from {lk.table} "
            f"where {lk.row_column} > {marks.last[lk.rows_table]}) "
            f"semi join (select * from {posts_t} where fresh) using (platform, post_id)\n"
            f"union all\n"
            f"select * from {lk.table} "
            f"semi join (select * from {posts_t} where not fresh) using (platform, post_id)")
    return name


def _publish(ctx: Context, m: Model, changed_t: str, fresh_t: str, rows_t: str, *,
             appended: bool) -> None:
    """Hand the changed and fresh keys to downstream models, in the model's own columns;
    `appended`: every changed key was fresh (no touched key)."""
    driving = m.changes[0]
    if _driving_key(m) != driving.columns:
        rename = ", ".join(f"{c} as {k}" for k, c in zip(_driving_key(m), driving.columns,
                                                          strict=True))
        for t in (changed_t, fresh_t):
            ctx.run(f"create or replace temp table {t} as select {rename} from {t}")
    ctx.deltas[m.table] = Delta(_driving_key(m), changed_t, fresh_t, rows_t,
                                appended=appended)


# -- merge: add the new rows' sums to the existing rows (@merge) --

# how each @merge op combines a column's values (the others: the aggregate of that name)
# union: texts of sorted distinct values separated by U+001F (cheaper to scan than lists)
_MERGE_OPS = {"union": "array_to_string(list_sort(list_distinct(flatten(list("
                       "string_split({0}, chr(31)))))), chr(31))",
              "count": "sum({0})"}


def _can_merge(ctx: Context, m: Model) -> bool:
    """Whether `m` can be merged: it has @merge, and its upstream model either only appended
    rows in this build (every changed key fresh: the upstream's rows are all new rows) or was
    merged itself (its rows before and after this build are known: `Delta.replaced`)."""
    up = ctx.deltas.get(m.changes[0].table)
    if not m.merge or up is None:
        return False
    return (up.merged and up.replaced is not None) or up.appended


def merge(ctx: Context, m: Model) -> str:
    """Run the model's SQL over the upstream's new rows, and combine the result with the
    existing rows of the same keys.

    When the upstream was merged, its changed rows are new versions of rows it had: the SQL
    also runs over the replaced versions, and a key's sums become existing + new - replaced
    (its max, min, bit_or and union columns take the new versions, which only grew); a key
    whose `count` column (the upstream's rows in it) falls to 0 is dropped. Its other rows
    may have left (an author who takes up a second tag leaves one tag combination for
    another) while others stay."""
    up = ctx.deltas[m.changes[0].table]
    replaced = up.replaced if up.merged else None
    delta_t = temp_name("delta", m)
    ctx.run(f"create or replace temp table {delta_t} as select * from (\n"
            + sqltree.substitute(m.sql, {m.changes[0].table: up.rows}) + "\n)")
    keys = _columns(m.incremental_key)
    if replaced is not None:
        # the replaced versions' results, counted against the existing rows
        minus_t = temp_name("minus", m)
        ctx.run(f"create or replace temp table {minus_t} as select * "
                f"from (\n" + sqltree.substitute(m.sql, {m.changes[0].table: replaced})
                + "\n)")
        negated = ", ".join(f"-{c} as {c}" if op in ("sum", "count") else f"null as {c}"
                            for c, op in m.merge)
        ctx.run(f"insert into {delta_t} by name select {keys}, {negated} from {minus_t}")
    # the existing rows of the changed keys, found by their digest (MERGE_KEY): a join on one
    # fixed-width column, which reads neither the key's texts nor any row's but those found
    # (and matches a key holding null like any other)
    keys_t, old_t = temp_name("keys", m), temp_name("old", m)
    ctx.run(f"create or replace temp table {keys_t} as select *, "
            f"{merge_key_sql(m.incremental_key)} as {MERGE_KEY} "
            f"from (select distinct {keys} from {delta_t})")
    values = ", ".join(f"r.{c}" for c, _ in m.merge)
    ctx.run(f"create or replace temp table {old_t} as select r.rowid as old_row, "
            f"{', '.join(f'k.{c}' for c in m.incremental_key)}, {values} "
            f"from {m.table} r join {keys_t} k on r.{MERGE_KEY} = k.{MERGE_KEY}")
    # delete and insert rather than update: DuckDB scans and checkpoints updated rows slowly;
    # by row number: a join on one integer
    ctx.run(f"delete from {m.table} where rowid in (select old_row from {old_t})")
    merged = ", ".join(f"{_MERGE_OPS.get(op, op + '({})').format(c)} as {c}"
                       for c, op in m.merge)
    rows_t = temp_name("rows", m)
    # over a merged upstream, a key whose count of the upstream's rows fell to 0 is dropped
    # (graph.check: such a model has a count column)
    ctx.run(f"create or replace temp table {rows_t} as select {keys}, {merged} from "
            f"(select * exclude (old_row) from {old_t} union all by name "
            f"select * from {delta_t}) group by {keys}"
            + (f" having sum({m.merge_count}) > 0" if replaced is not None else ""))
    ctx.run(f"insert into {m.table} by name " + with_merge_key(m, rows_t))
    key = _columns(_driving_key(m))
    changed_t, fresh_t = temp_name("changed", m), temp_name("fresh", m)
    ctx.run(f"create or replace temp table {changed_t} as select distinct {key} "
            f"from {delta_t}")
    ctx.run(f"create or replace temp table {fresh_t} as select {key} from {delta_t} limit 0")
    replaced_t = temp_name("replaced", m)
    ctx.run(f"create or replace temp table {replaced_t} as select * exclude (old_row) "
            f"from {old_t}")
    ctx.deltas[m.table] = Delta(_driving_key(m), changed_t, fresh_t, rows_t, merged=True,
                                replaced=replaced_t)
    return "merge"


def with_merge_key(m: Model, rows: str) -> str:
    """SQL: the rows of `rows` (the model's columns) as the model's table holds them: with
    their MERGE_KEY when the model has @merge."""
    if not m.merge:
        return f"select * from {rows}"
    return f"select *, {merge_key_sql(m.incremental_key)} as {MERGE_KEY} from {rows}"


# -- reapply: choose again among the model's rows and the upstream's changed rows --

def reapply(ctx: Context, m: Model) -> str | None:
    """@reapply: run the model's SQL (a choice among its driving table's rows) over its own
    rows and the upstream's changed rows, when the upstream was merged (its changed rows only
    grew); else None (build in full)."""
    driving = m.changes[0]
    up = ctx.deltas.get(driving.table)
    if up is None or not up.merged:
        return None
    inputs = (f"({anti(m.table, up.rows, m.incremental_key)} "
              f"union all by name select * from {up.rows})")
    new_t = temp_name("reapplied", m)
    ctx.run(f"create or replace temp table {new_t} as\n"
            + sqltree.substitute(m.sql, {driving.table: inputs}))
    ctx.run(f"delete from {m.table}")
    ctx.run(f"insert into {m.table} by name select * from {new_t}")
    # downstream incremental models cannot tell what changed here: they build in full
    return "reapply"
