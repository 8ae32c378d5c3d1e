"""SQL models: the .sql files in `queries/`, materialised in dependency order.

`queries/<layer>/<name>.sql` becomes `<layer>.<name>` (layers: core, marts). What a
model file holds is in docs/models.md ("Adding a model"); the engine that reads and builds
them is tracker.build. This module binds it to the project: where the models are, the norm
tables they may name, and the config tables.

The campaigns of the config are written by Python into `core.campaigns` and
`core.campaign_tags`, and the platform registry (tracker.platforms) into `core.platforms`,
before the models run, so the models stay plain SQL.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from pathlib import Path

import duckdb

from .build import LAYERS, Model, Step, ordered, parse_model
from .build import build as build_models
from .build import discover as discover_models
from .config import Campaign
from .freshness import record_build
from .platforms import DOC as PLATFORMS_DOC
from .platforms import TABLE as PLATFORMS_TABLE
from .platforms import write_platforms
from .resources import QUERIES_DIR
from .store.db import reset_table
from .store.normalise import POST_KEYED, prepare, relink_campaigns

__all__ = ["LAYERS", "Model", "Step", "build", "describe", "discover", "ordered",
           "parse_model", "write_campaigns"]

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
    PLATFORMS_TABLE: PLATFORMS_DOC,
}


def discover(queries_dir: Path = QUERIES_DIR) -> list[Model]:
    """The models under `queries_dir`, parsed and checked (with the norm tables)."""
    return discover_models(queries_dir, norm_tables(), POST_KEYED)


@cache
def norm_tables() -> dict[str, list[str]]:
    """{norm table: its columns}, from the schema files applied to an empty database."""
    from .store.db import migrate
    con = duckdb.connect()
    try:
        migrate(con)
        return {t: cols for t, cols in con.execute(
            "select table_schema || '.' || table_name, list(column_name order by "
            "ordinal_position) from information_schema.columns where table_schema = 'norm' "
            "group by all").fetchall()}
    finally:
        con.close()


def write_campaigns(con: duckdb.DuckDBPyConnection, campaigns: Iterable[Campaign]) -> None:
    """Write the config's campaigns into core.campaigns and core.campaign_tags."""
    campaigns = list(campaigns)
    con.execute("create schema if not exists core")
    # one row per campaign and per (campaign, tag), from the validated config: no primary
    # keys, which a lake cannot have (store/lake.py)
    # emptied rather than replaced (on a lake a replaced table is a new one in the catalog at
    # every build: store/db.py, refill)
    reset_table(con, "core.campaigns", "campaign varchar not null, title varchar, timezone "
                "varchar not null, start_date date, end_date date")
    reset_table(con, "core.campaign_tags", "campaign varchar not null, tag varchar not null, "
                "tag_text varchar")
    if campaigns:
        con.executemany("insert into core.campaigns values (?, ?, ?, ?, ?)",
                        [(c.name, c.title, c.timezone, c.start, c.end) for c in campaigns])
        tags: dict[tuple[str, str], str] = {}
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


def build(con: duckdb.DuckDBPyConnection, campaigns: Iterable[Campaign],
          models: list[Model] | None = None, *, full: bool = False) -> list[Step]:
    """Link stored posts to the campaigns' current tags, write the campaigns, then
    materialise every model in dependency order, in one transaction: readers see either the
    previous build or the new one, never a half-built set.

    Models marked `@incremental` only add the rows that are new since the last build, unless
    `full` (see tracker.build).
    """
    campaigns = list(campaigns)
    models = models if models is not None else discover()
    link_campaigns(con, campaigns, full)

    def write_config_tables(c: duckdb.DuckDBPyConnection) -> None:
        write_campaigns(c, campaigns)
        write_platforms(c)

    return build_models(con, models, full=full, setup=write_config_tables,
                        finish=lambda c: record_build(c, campaigns, full),
                        config_tables=list(CONFIG_TABLES))


def describe(con: duckdb.DuckDBPyConnection | None, models: list[Model] | None = None
             ) -> list[tuple[str, str, list[tuple[str, str, str]]]]:
    """(table, description, [(column, type, meaning)]) for every model and config table.

    Types come from the warehouse when it is given and built; else they are empty.
    """
    models = ordered(models if models is not None else discover())
    entries = [(t, d, cols) for t, (d, cols) in CONFIG_TABLES.items()]
    entries += [(m.table, m.description, m.table_columns) for m in models]
    types: dict[tuple[str, str], str] = {}
    if con is not None:
        for schema, table, column, dtype in con.execute(
                "select table_schema, table_name, column_name, data_type "
                "from information_schema.columns "
                "where table_schema in ('core', 'marts')").fetchall():
            types[(f"{schema}.{table}", column)] = dtype
    out = []
    for table, desc, cols in entries:
        built = [c for (t, c) in types if t == table]
        names = list(cols) + [c for c in built if c not in cols]
        out.append((table, desc, [(c, types.get((table, c), ""), cols.get(c, ""))
                                  for c in names]))
    return out
