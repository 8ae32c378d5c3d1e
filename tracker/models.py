"""SQL models: the .sql files in `queries/`, materialised in dependency order.

`queries/<layer>/<name>.sql` becomes `<layer>.<name>` (layers: staging, core, marts). A model
depends on the models it names as `<layer>.<name>`; `tracker build` runs them in that order.

The header comment of a model (the `--` lines before the SQL) documents it:

    -- What one row is (the description, up to the first blank comment line).
    -- @materialized view            (optional: view | table, default table)
    -- @incremental key1, key2       (optional, with @changes: see tracker.incremental)
    -- @changes norm.table(key1, key2)
    -- @lookup norm.table(platform, post_id)   (optional, see tracker.incremental)
    -- @merge column sum, column max           (optional, see tracker.incremental)
    -- @reapply                               (optional, see tracker.incremental)
    --
    -- column: what it means
    --   continued on an indented line

The campaigns of the config are written by Python into `core.campaigns` and
`core.campaign_tags` before the models run, so the models stay plain SQL.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from .config import PROJECT_ROOT, Campaign
from .errors import TrackerError
from .freshness import record_build
from .incremental import (
    Change,
    Lookup,
    Upstream,
    parse_changes,
    parse_lookup,
    parse_merge,
    record_full,
    try_incremental,
)
from .store.normalise import prepare, relink_campaigns

QUERIES_DIR = PROJECT_ROOT / "queries"
LAYERS = ("staging", "core", "marts")
_COLUMN = re.compile(r"^(\w+): (.*)$")
_REF = re.compile(r"\b((?:staging|core|marts)\.\w+)\b")

# Tables written from the config by `write_campaigns`, documented like models.
CONFIG_TABLES = {
    "core.campaigns": ("One row per configured campaign (written from tracker.toml by "
                       "`tracker build`).",
                       {"campaign": "campaign name", "title": "display title",
                        "timezone": "IANA time zone for local days and hours",
                        "start_date": "configured start date (DATE, may be null)",
                        "end_date": "configured end date (DATE, may be null)"}),
    "core.campaign_tags": ("One row per (campaign, configured hashtag) (written from "
                           "tracker.toml by `tracker build`).",
                           {"campaign": "campaign name",
                            "tag": "normalised tag (NFKC + case folding, no '#')",
                            "tag_text": "the tag as written in the config"}),
}


@dataclass(frozen=True)
class Model:
    layer: str
    name: str
    path: Path
    sql: str
    description: str
    columns: dict[str, str] = field(default_factory=dict)
    materialized: str = "table"
    incremental_key: tuple[str, ...] = ()
    changes: tuple[Change, ...] = ()
    lookups: tuple[Lookup, ...] = ()
    merge: tuple[tuple[str, str], ...] = ()
    reapply: bool = False

    @property
    def table(self) -> str:
        return f"{self.layer}.{self.name}"

    @property
    def depends_on(self) -> set[str]:
        body = re.sub(r"--[^\n]*", "", self.sql)
        return set(_REF.findall(body)) - {self.table}


def parse_model(layer: str, path: Path) -> Model:
    text = path.read_text(encoding="utf-8")
    description: list[str] = []
    columns: dict[str, str] = {}
    materialized, key, changes, lookups, merge = "table", (), (), (), ()
    reapply = False
    in_columns, last = False, None
    for line in text.splitlines():
        if not line.startswith("--"):
            break
        body = line[2:]
        stripped = body.strip()
        if stripped.startswith("@materialized"):
            materialized = stripped.split(None, 1)[1].strip()
            if materialized not in ("view", "table"):
                raise TrackerError(f"{path}: @materialized: expected 'view' or 'table'")
        elif stripped.startswith("@incremental"):
            key = tuple(k.strip() for k in stripped.split(None, 1)[1].split(","))
        elif stripped.startswith("@changes"):
            changes += parse_changes(stripped.split(None, 1)[1])
        elif stripped.startswith("@lookup"):
            lookup = parse_lookup(stripped.split(None, 1)[1])
            if lookup is None:
                raise TrackerError(f"{path}: @lookup: expected 'norm.table(platform, post_id)' "
                                   "or 'layer.view(platform, post_id) rows norm.table(column)'")
            lookups += (lookup,)
        elif stripped == "@reapply":
            reapply = True
        elif stripped.startswith("@merge"):
            merge = parse_merge(stripped.split(None, 1)[1]) or ()
            if not merge:
                raise TrackerError(f"{path}: @merge: expected 'column sum|max|min, ...'")
        elif not stripped:
            in_columns = True
        elif in_columns and (m := _COLUMN.match(stripped)) and not body.startswith("   "):
            last = m.group(1)
            columns[last] = m.group(2).strip()
        elif in_columns and last:
            columns[last] += " " + stripped
        elif not in_columns:
            description.append(stripped)
    if bool(key) != bool(changes):
        raise TrackerError(f"{path}: @incremental and @changes go together")
    if changes and len(key) < len(changes[0].columns):
        raise TrackerError(f"{path}: @incremental: expected at least the columns of the first "
                           "@changes table (they name the same keys, in order)")
    if (lookups or merge or reapply) and not changes:
        raise TrackerError(f"{path}: @lookup, @merge and @reapply need @incremental and "
                           "@changes")
    if reapply and (len(changes) != 1 or changes[0].columns != key):
        raise TrackerError(f"{path}: @reapply: expected one @changes table with the "
                           "@incremental columns")
    return Model(layer, path.stem, path, text, " ".join(description).strip(), columns,
                 materialized, key, changes, lookups, merge, reapply)


def discover(queries_dir: Path = QUERIES_DIR) -> list[Model]:
    return [parse_model(layer, path) for layer in LAYERS
            for path in sorted((queries_dir / layer).glob("*.sql"))]


def ordered(models: list[Model]) -> list[Model]:
    """Topological order by references `<layer>.<name>` in each model's SQL."""
    by_table = {m.table: m for m in models}
    deps = {m.table: {r for r in m.depends_on if r in by_table} for m in models}
    done: list[Model] = []
    seen: set[str] = set()
    visiting: set[str] = set()

    def visit(table: str) -> None:
        if table in seen:
            return
        if table in visiting:
            raise TrackerError(f"{by_table[table].path}: models depend on each other in a cycle")
        visiting.add(table)
        for d in sorted(deps[table]):
            visit(d)
        visiting.discard(table)
        seen.add(table)
        done.append(by_table[table])

    for m in models:
        visit(m.table)
    return done


def write_campaigns(con: duckdb.DuckDBPyConnection, campaigns: Iterable[Campaign]) -> None:
    """Write the config's campaigns into core.campaigns and core.campaign_tags."""
    campaigns = list(campaigns)
    con.execute("create schema if not exists core")
    con.execute("create or replace table core.campaigns (campaign varchar primary key, "
                "title varchar, timezone varchar not null, start_date date, end_date date)")
    con.execute("create or replace table core.campaign_tags (campaign varchar not null, "
                "tag varchar not null, tag_text varchar, primary key (campaign, tag))")
    if campaigns:
        con.executemany("insert into core.campaigns values (?, ?, ?, ?, ?)",
                        [(c.name, c.title, c.timezone, c.start, c.end) for c in campaigns])
        tags = {}
        for c in campaigns:
            for text in c.hashtags:
                tags.setdefault((c.name, _norm(text)), text)
        con.executemany("insert into core.campaign_tags values (?, ?, ?)",
                        [(c, t, text) for (c, t), text in tags.items()])


def link_campaigns(con: duckdb.DuckDBPyConnection, campaigns: list[Campaign],
                   full: bool) -> None:
    """Link stored posts to tags added to a campaign since they were stored.

    Runs (in its own transaction, committed before the build reads high-water marks) on a
    full build and whenever the configured tags differ from the last build's; new posts are
    linked when they are stored.
    """
    prepare(con, campaigns)
    want = sorted({(c.name, _norm(t)) for c in campaigns for t in c.hashtags})
    try:
        have = con.execute("select campaign, tag from core.campaign_tags order by all").fetchall()
    except duckdb.CatalogException:
        have = None
    if full or have != want:
        con.execute("begin transaction")
        try:
            relink_campaigns(con)
            con.execute("commit")
        except BaseException:
            con.execute("rollback")
            raise


def _norm(tag: str) -> str:
    from .hashtags import normalise_tag
    return normalise_tag(tag)


@dataclass
class Step:
    model: Model
    seconds: float
    mode: str  # view, full, incremental, merge, reapply


def _materialise(con: duckdb.DuckDBPyConnection, m: Model, full: bool,
                 changed: dict[str, Upstream]) -> str:
    sql = m.sql.strip().rstrip(";")
    if m.materialized == "view":
        con.execute(f"create or replace view {m.table} as\n{sql}")
        return "view"
    if m.incremental_key and not full and (mode := try_incremental(con, m, sql, changed)):
        return mode
    con.execute(f"create or replace table {m.table} as\n{sql}")
    if m.incremental_key:
        record_full(con, m, sql)
    return "full"


def build(con: duckdb.DuckDBPyConnection, campaigns: Iterable[Campaign],
          models: list[Model] | None = None, *, full: bool = False) -> list[Step]:
    """Link stored posts to the campaigns' current tags, write the campaigns, then
    materialise every model in dependency order, in one transaction: readers see either the
    previous build or the new one, never a half-built set.

    Models marked `@incremental` only add the rows that are new since the last build, unless
    `full` (see tracker.incremental).
    """
    campaigns = list(campaigns)
    models = ordered(models if models is not None else discover())
    steps = []
    changed: dict[str, Upstream] = {}
    con.execute("set TimeZone = 'UTC'")
    # the row estimates of an incremental build's small inputs can fall under DuckDB's
    # threshold for planning an ASOF join as a nested loop (it was 0.5 s of 10k posts' build)
    con.execute("set asof_loop_join_threshold = 0")
    link_campaigns(con, campaigns, full)
    con.execute("begin transaction")
    try:
        for layer in LAYERS:
            con.execute(f"create schema if not exists {layer}")
        write_campaigns(con, campaigns)
        for m in models:
            t0 = time.perf_counter()
            try:
                mode = _materialise(con, m, full, changed)
            except duckdb.Error as exc:
                first = str(exc).splitlines()[0]
                raise TrackerError(f"{m.path}: model failed: {first}") from None
            steps.append(Step(m, time.perf_counter() - t0, mode))
        record_build(con, campaigns, full)
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    finally:
        con.execute("reset asof_loop_join_threshold")
    return steps


def describe(con: duckdb.DuckDBPyConnection | None, models: list[Model] | None = None
             ) -> list[tuple[str, str, list[tuple[str, str, str]]]]:
    """(table, description, [(column, type, meaning)]) for every model and config table.

    Types come from the warehouse when it is given and built; else they are empty.
    """
    models = ordered(models if models is not None else discover())
    entries = [(t, d, cols) for t, (d, cols) in CONFIG_TABLES.items()]
    entries += [(m.table, m.description, m.columns) for m in models]
    types: dict[tuple[str, str], str] = {}
    if con is not None:
        for schema, table, column, dtype in con.execute(
                "select table_schema, table_name, column_name, data_type "
                "from information_schema.columns "
                "where table_schema in ('staging', 'core', 'marts')").fetchall():
            types[(f"{schema}.{table}", column)] = dtype
    out = []
    for table, desc, cols in entries:
        built = [c for (t, c) in types if t == table]
        names = list(cols) + [c for c in built if c not in cols]
        out.append((table, desc, [(c, types.get((table, c), ""), cols.get(c, ""))
                                  for c in names]))
    return out
