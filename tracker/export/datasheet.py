"""The datasheet written beside an export: what the file holds and how it was collected.

Every definition is taken from where it is written once: which posts count from the header of
queries/core/campaign_posts.sql, column meanings from the models' column docs (or
export.COLUMN_DOCS), tags, window and sources from the config, collection runs and coverage
gaps from the ledger. No credential is written: source options naming secrets are left out
and the text passes through credentials.redact.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb

from .. import __version__, credentials
from ..config import Campaign, SourceConfig
from ..models import QUERIES_DIR, parse_model
from ..store.db import scalar
from . import COLUMN_DOCS, ID_COLUMNS, POST_COLUMNS, Selection, counts

_SECRET_OPTIONS = {"tokens"}


def column_docs() -> dict[str, str]:
    """Meaning of each exported column, from the models it comes from."""
    posts = parse_model("core", QUERIES_DIR / "core" / "posts.sql").columns
    counted = parse_model("core", QUERIES_DIR / "core" / "campaign_posts.sql").columns
    docs = {**posts, **counted, **COLUMN_DOCS}
    return {c: docs.get(c, "") for c in POST_COLUMNS}


def membership_rule() -> str:
    return parse_model("core", QUERIES_DIR / "core" / "campaign_posts.sql").description


def _cell(value: object) -> str:
    """A markdown table cell: text from the ledger or the config cannot break the table."""
    return str(value).replace("|", "\\|").replace("\n", " ")


def _utc(value: dt.datetime | None) -> str:
    if value is None:
        return "unknown"
    return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def _window(c: Campaign) -> str:
    if not c.start and not c.end:
        return "open (no start or end configured)"
    return (f"{c.start or 'open'} to {c.end or 'open'} (calendar dates in {c.timezone}, "
            "both included)")


def _source_line(c: Campaign, s: SourceConfig) -> str:
    opts = {k: v for k, v in s.options.items() if k not in _SECRET_OPTIONS}
    if s.type == "x":
        from ..sources.x import build_query
        what = (f"X API v2 search ({opts.get('endpoint', 'recent')}), query "
                f"`{build_query(c.hashtags, opts.get('extra_query'))}`")
    elif s.type == "mastodon":
        tags = ", ".join(f"#{t.lstrip('#')}" for t in c.hashtags)
        what = (f"Mastodon hashtag timelines ({tags}) on "
                f"{', '.join(opts.get('instances', []))}")
    elif s.type == "bluesky":
        what = ("Bluesky searchPosts, one query per tag: "
                + ", ".join(f"`#{t.lstrip('#')}`" for t in c.hashtags))
    else:
        what = f"{s.type} source (synthetic data)" if s.type == "simulated" else s.type
    rest = {k: v for k, v in opts.items() if k not in ("endpoint", "extra_query", "instances")}
    extra = "; " + ", ".join(f"{k} = {v}" for k, v in sorted(rest.items())) if rest else ""
    return f"- `{s.name}`: {what}{extra}"


def _runs(con: duckdb.DuckDBPyConnection, sel: Selection) -> list[tuple]:
    """Per (kind, source): runs of the campaign, and runs that first stored an exported post."""
    return con.execute("""
        with
        loaded as (
            select distinct r.load_id from norm.posts p
            join raw.pages r on r.page_id = p.first_page_id
            where (p.platform, p.post_id) in (select platform, post_id from export_counted)
        )
        select kind, coalesce(source, ''), count(*), min(started_at), max(ended_at),
               string_agg(distinct status, ', ' order by status)
        from ledger.runs
        where campaign = ? or run_id in (select load_id from loaded)
        group by all order by min(started_at)""", [sel.campaign]).fetchall()


def _gaps(con: duckdb.DuckDBPyConnection, campaign: str) -> list[tuple]:
    return con.execute("select coalesce(source, ''), gap_start, gap_end, reason "
                       "from ledger.gaps where campaign = ? order by gap_start nulls first, "
                       "source", [campaign]).fetchall()


def render(con: duckdb.DuckDBPyConnection, campaign: Campaign, sel: Selection, *,
           file_name: str, fmt: str, ids_only: bool, rows: int,
           now: dt.datetime | None = None) -> str:
    now = now or dt.datetime.now(dt.UTC)
    lines = [f"# {campaign.title} (`{campaign.name}`): {'post ids' if ids_only else 'posts'}",
             "",
             f"File: `{file_name}`, {fmt}, {rows} rows. Exported by hashtag-tracker "
             f"{__version__} on {_utc(now)}.", ""]
    if ids_only:
        lines += ["Post ids only, one row per post (columns `platform`, `id`), so that the "
                  "dataset can be shared under the platforms' terms (X allows sharing tweet "
                  "ids, not their content); the posts can be looked up again (hydrated) from "
                  "the ids.", ""]
    lines += ["## Which posts", "",
              "The posts the tracker counts for the campaign, as defined in "
              "`queries/core/campaign_posts.sql`:", "", f"> {membership_rule()}", ""]
    cut = ("the whole campaign window" if not sel.since and not sel.until else
           f"posts made from {sel.since or 'the start'} to {sel.until or 'the end'} "
           f"(calendar dates in {campaign.timezone}, both included)")
    lines += ["## Campaign", "",
              f"- Hashtags: {', '.join('#' + t.lstrip('#') for t in campaign.hashtags)}",
              f"- Window: {_window(campaign)}",
              f"- Time zone: {campaign.timezone}",
              f"- This export: {cut}",
              "- Times in the file are UTC.", ""]
    lines += ["## Counts", "", "| platform | posts | first post | last post |",
              "|---|---:|---|---|"]
    per = counts(con)
    lines += [f"| {p} | {n} | {_utc(a)} | {_utc(b)} |" for p, n, a, b in per]
    lines += [f"| all | {sum(r[1] for r in per)} | | |", ""]
    forgotten = scalar(con, "select count(*) from ledger.forgotten where post_id is not null "
                            "and restored_by is null")
    if forgotten:
        lines += [f"{forgotten} post(s) were removed from the warehouse on request before this "
                  "export (`tracker forget`; ids in ledger.forgotten).", ""]
    lines += ["## Sources and queries", ""]
    lines += [_source_line(campaign, s) for s in campaign.sources] or [
        "- No collection source configured (the posts were imported from archives)."]
    lines += ["", "## Collection", "",
              "Runs of this campaign and runs that first stored an exported post "
              "(ledger.runs):", "",
              "| kind | source | runs | first started | last ended | outcomes |",
              "|---|---|---:|---|---|---|"]
    runs = _runs(con, sel)
    lines += [f"| {_cell(k)} | {_cell(s)} | {n} | {_utc(a)} | {_utc(b)} | {_cell(st)} |"
              for k, s, n, a, b, st in runs]
    if runs:
        lines += ["", f"Collection dates: first run started {_utc(min(r[3] for r in runs))}, "
                      f"last run ended {_utc(max((r[4] for r in runs if r[4]), default=None))}."]
    lines += ["", "## Coverage gaps", ""]
    gaps = _gaps(con, campaign.name)
    if gaps:
        lines += ["Periods a source could not cover (ledger.gaps):", "",
                  "| source | from | to | reason |", "|---|---|---|---|"]
        lines += [f"| {_cell(s)} | {_utc(a)} | {_utc(b)} | {_cell(r)} |"
                  for s, a, b, r in gaps]
    else:
        lines += ["None recorded in the ledger."]
    lines += ["", "## Columns", "", "| column | meaning |", "|---|---|"]
    docs = column_docs()
    for c in ID_COLUMNS if ids_only else POST_COLUMNS:
        lines.append(f"| {c} | {docs[c]} |")
    lines += ["", "Unknown values are empty (CSV) or null, never 0.", ""]
    return credentials.redact("\n".join(lines))


def write(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")
