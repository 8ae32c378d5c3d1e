"""`tracker export`: a campaign's counted posts (or only their ids) as CSV, JSONL or Parquet.

The posts are exactly those core.campaign_posts counts for the campaign (membership is never
derived again here), optionally cut to local dates `since`..`until`. Files are written by
DuckDB's COPY, which streams the result to disk with bounded memory; to stdout (CSV, JSONL),
rows are fetched and written a few thousand at a time. A file is written under a temporary
name beside the target and renamed into place, with its datasheet (export.datasheet).
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import duckdb

from ..errors import TrackerError
from ..store.db import has_table, scalar

FORMATS = ("csv", "jsonl", "parquet")
FETCH_ROWS = 5_000
# DuckDB's memory for an export: beyond it, its sort (rows come out in time order) and the
# temp tables spill to a temporary file, so a large campaign does not need its size in memory.
MEMORY_LIMIT = "512MB"

# Columns that are not columns of core.campaign_posts or core.posts, defined once here (the
# others are described by those models' headers; see datasheet.column_docs).
COLUMN_DOCS = {
    "id": "the platform's identity of the post (X: tweet id; Mastodon: status uri; Bluesky: "
          "at:// uri); post_id in the warehouse",
    "author_handle": "the author's latest handle seen (X username, Mastodon acct, Bluesky "
                     "handle); null if no profile was stored",
    "reply_to_id": "the post it replies to (also for a quote that is a reply)",
    "quote_of_id": "the post it quotes (also for a reply that quotes)",
    "hashtags": "the post's hashtags as written, one per tag (CSV: separated by spaces)",
    "mentions": "the handles the post mentions, lowercased (CSV: separated by spaces)",
}
POST_COLUMNS = ("platform", "id", "url", "created_at", "author_id", "author_handle", "text",
                "kind", "reply_to_id", "quote_of_id", "parent_id", "hashtags", "mentions",
                "lang", "likes", "reposts", "replies", "quotes", "impressions",
                "engagement_observed_at", "followers_at_post", "synthetic")
ID_COLUMNS = ("platform", "id")

# The selection is prepared in temp tables first, each statement with DuckDB's whole memory
# budget (one query holding every join and the list aggregates at once ran out of memory on
# 1M posts); temp tables go to a temporary file under memory pressure. Lists are aggregated
# as strings (a lighter state than list()), split on a character no tag or handle holds.
_SEP = "chr(31)"
PREPARE = (
    """create or replace temp table export_counted as
    select platform, post_id, created_at, kind, parent_id, lang, author_id, followers_at_post,
           likes, reposts, replies, quotes, impressions, engagement_observed_at, synthetic
    from core.campaign_posts
    where campaign = $campaign
      and ($since::date is null or local_day >= $since::date)
      and ($until::date is null or local_day <= $until::date)""",
    f"""create or replace temp table export_tags as
    select platform, post_id, string_agg(coalesce(tag_text, tag), {_SEP}) as hashtags
    from norm.post_hashtags
    where (platform, post_id) in (select platform, post_id from export_counted)
    group by all""",
    f"""create or replace temp table export_mentions as
    select platform, post_id, string_agg(mentioned_handle, {_SEP}) as mentions
    from norm.post_mentions
    where (platform, post_id) in (select platform, post_id from export_counted)
    group by all""",
)


@dataclass(frozen=True)
class Selection:
    """Which counted posts: a campaign, cut to local dates (inclusive) when given."""

    campaign: str
    since: dt.date | None = None
    until: dt.date | None = None

    @property
    def params(self) -> dict[str, object]:
        return {"campaign": self.campaign, "since": self.since, "until": self.until}


def prepare(con: duckdb.DuckDBPyConnection, sel: Selection, ids_only: bool) -> None:
    """Fill the temp tables the export query reads (export_counted: the selected posts)."""
    con.execute(PREPARE[0], sel.params)
    if not ids_only:
        for sql in PREPARE[1:]:
            con.execute(sql)


def _time(column: str, fmt: str) -> str:
    if fmt == "parquet":
        return column
    return f"strftime(timezone('UTC', {column}), '%Y-%m-%dT%H:%M:%S.%gZ')"


def _list(column: str, fmt: str) -> str:
    items = f"list_sort(coalesce(string_split({column}, {_SEP}), []))"
    return f"array_to_string({items}, ' ')" if fmt == "csv" else items


def rows_sql(fmt: str, ids_only: bool) -> str:
    """The export query over the prepared temp tables, rows in time order."""
    if ids_only:
        return "select platform, post_id as id from export_counted " \
               "order by platform, created_at, post_id"
    return f"""select c.platform, c.post_id as id, p.url,
       {_time('c.created_at', fmt)} as created_at, c.author_id, a.handle as author_handle,
       p.text, c.kind, n.reply_to_id, n.quote_of_id, c.parent_id,
       {_list('t.hashtags', fmt)} as hashtags, {_list('m.mentions', fmt)} as mentions, c.lang,
       c.likes, c.reposts, c.replies, c.quotes, c.impressions,
       {_time('c.engagement_observed_at', fmt)} as engagement_observed_at,
       c.followers_at_post, c.synthetic
from export_counted c
join core.posts p on p.platform = c.platform and p.post_id = c.post_id
left join norm.posts n on n.platform = c.platform and n.post_id = c.post_id
left join norm.authors a on a.platform = c.platform and a.author_id = c.author_id
left join export_tags t on t.platform = c.platform and t.post_id = c.post_id
left join export_mentions m on m.platform = c.platform and m.post_id = c.post_id
order by c.created_at, c.platform, c.post_id"""


def counts(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    """(platform, posts, first post, last post) of the prepared selection."""
    return con.execute("select platform, count(*), min(created_at), max(created_at) "
                       "from export_counted group by all order by platform").fetchall()


def check_built(con: duckdb.DuckDBPyConnection, campaign: str) -> None:
    if not (has_table(con, "core.campaign_posts") and has_table(con, "core.campaigns")):
        raise TrackerError("the models are not built: run `tracker build` first")
    if not scalar(con, "select count(*) from core.campaigns where campaign = ?", [campaign]):
        raise TrackerError(f"campaign '{campaign}' is not in the built models: run "
                           "`tracker build` first")


def stream_rows(con: duckdb.DuckDBPyConnection, sql: str
                ) -> tuple[list[str], Iterator[list[tuple]]]:
    """The query's column names and its rows, FETCH_ROWS at a time."""
    cur = con.execute(sql)
    names = [d[0] for d in cur.description]

    def chunks() -> Iterator[list[tuple]]:
        while rows := cur.fetchmany(FETCH_ROWS):
            yield rows
    return names, chunks()


def write_stream(con: duckdb.DuckDBPyConnection, sql: str, fmt: str, out: IO[str]) -> int:
    """Write the rows as CSV or JSONL to a text stream; returns the number of rows."""
    if fmt == "parquet":
        raise TrackerError("--format parquet needs -o FILE (it is a binary file)")
    names, chunks = stream_rows(con, sql)
    n = 0
    writer = csv.writer(out, lineterminator="\n")
    if fmt == "csv":
        writer.writerow(names)
    for rows in chunks:
        for row in rows:
            if fmt == "csv":
                writer.writerow(row)
            else:
                out.write(json.dumps(dict(zip(names, row, strict=True)), ensure_ascii=False,
                                     separators=(",", ":")) + "\n")
        n += len(rows)
    out.flush()
    return n


def _copy_options(fmt: str) -> str:
    return {"csv": "format csv, header", "jsonl": "format json",
            "parquet": "format parquet"}[fmt]


def temp_beside(target: Path) -> Path:
    """A new file name in the target's directory, keeping its extension (compression)."""
    return target.with_name(f".tracker-export-{uuid.uuid4().hex[:12]}.{target.name}")


def copy_to_file(con: duckdb.DuckDBPyConnection, sql: str, fmt: str, path: Path) -> int:
    """COPY the query's rows to `path` (streamed by DuckDB); returns the number of rows."""
    literal = str(path).replace("'", "''")
    row = con.execute(f"copy ({sql}) to '{literal}' ({_copy_options(fmt)})").fetchone()
    return int(row[0]) if row else 0


def check_targets(paths: list[Path], force: bool) -> None:
    """Refuse to write anywhere but the files asked for, and not over existing ones."""
    for p in paths:
        if p.is_dir():
            raise TrackerError(f"{p}: is a directory (give a file name)")
        if (p.exists() or p.is_symlink()) and not force:
            raise TrackerError(f"{p}: already exists (use --force to replace it)")
        if not p.parent.is_dir():
            raise TrackerError(f"{p.parent}: no such directory")


def publish(pairs: list[tuple[Path, Path]]) -> None:
    """Rename the written temporary files into place (a symlink is replaced, not followed)."""
    for tmp, target in pairs:
        os.replace(tmp, target)
