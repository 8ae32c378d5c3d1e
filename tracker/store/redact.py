"""Take forgotten posts and authors out of the raw layer's payloads (`tracker forget`).

A page that held one is rewritten without it: each JSON object that *is* a forgotten post
(an X tweet or v1.1 status, a Mastodon status, a Bluesky post view or embedded record, a CSV
row) or a forgotten author's profile (an X user, a Mastodon account, a Bluesky profile) is
removed from the list or object that holds it. A page that was itself the post (a one-status
record, a CSV row) is purged: its payload becomes `{}`. Either way the page is marked
(raw.pages.redacted_by, redacted_at, redaction). Ids that merely point at a forgotten post
(`referenced_tweets`, `in_reply_to_status_id`, a reply's parent uri) are kept: they are ids,
not content. page_id stays the hash of the page as received (see warehouse/schema/004).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import duckdb

from . import segments

_GONE = object()
CHUNK = 500


@dataclass
class Targets:
    """What to remove, per platform: post ids (X: every version's tweet id too), author ids."""

    posts: dict[str, set[str]] = field(default_factory=dict)
    authors: dict[str, set[str]] = field(default_factory=dict)

    def add(self, platform: str, post_id: str | None = None,
            author_id: str | None = None) -> None:
        if post_id:
            self.posts.setdefault(platform, set()).add(post_id)
        if author_id:
            self.authors.setdefault(platform, set()).add(author_id)

    @classmethod
    def of(cls, rows: Iterable[tuple[str, str | None, str | None]]) -> Targets:
        t = cls()
        for platform, post_id, author_id in rows:
            t.add(platform, post_id, author_id)
        return t

    def platforms(self) -> list[str]:
        return sorted(set(self.posts) | set(self.authors))

    def __bool__(self) -> bool:
        return any(self.posts.values()) or any(self.authors.values())


def _id(d: dict, *keys: str) -> str | None:
    for k in keys:
        if d.get(k) is not None:
            return str(d[k])
    return None


def post_key(d: dict, platform: str) -> str | None:
    """The post id of a JSON object that is a post on `platform`, else None."""
    fields = d.get("fields")
    if isinstance(fields, dict) and "columns" in d:          # a CSV row record
        return _id(fields, "post_id")
    if platform == "x":
        if "text" in d or "full_text" in d or "edit_history_tweet_ids" in d:
            return _id(d, "id_str", "id")
        return None
    if "uri" in d and any(k in d for k in ("content", "account", "record", "value")):
        return _id(d, "uri")
    return None


def author_key(d: dict, platform: str) -> str | None:
    """The author id of a JSON object that is a profile on `platform` (not a mention)."""
    fields = d.get("fields")
    if isinstance(fields, dict) and "columns" in d:
        return _id(fields, "author_id", "handle", "author_name")
    if platform == "x":
        if ("username" in d or "screen_name" in d) and "name" in d and "indices" not in d:
            return _id(d, "id_str", "id")
    elif platform == "mastodon":
        if "acct" in d and "display_name" in d:
            return _id(d, "url")
    elif "did" in d and "handle" in d:
        return _id(d, "did")
    return None


def scrub(value: Any, platform: str, posts: set[str], authors: set[str]) -> Any:
    """`value` without the forgotten posts and profiles; _GONE when it is one of them."""
    if isinstance(value, dict):
        if post_key(value, platform) in posts or author_key(value, platform) in authors:
            return _GONE
        out = {}
        for k, v in value.items():
            kept = scrub(v, platform, posts, authors)
            if kept is not _GONE:
                out[k] = kept
        return out
    if isinstance(value, list):
        return [k for k in (scrub(v, platform, posts, authors) for v in value) if k is not _GONE]
    return value


def _pattern(strings: Iterable[str]) -> str:
    """An RE2 alternation matching any of `strings` literally."""
    def lit(s: str) -> str:
        return "".join(c if c.isascii() and c.isalnum() else f"\\x{{{ord(c):x}}}" for c in s)
    return "|".join(sorted(lit(s) for s in strings))


def _redactions(con: duckdb.DuckDBPyConnection, targets: Targets, pages: str
                ) -> list[tuple[str, str, str]]:
    """(page_id, redacted payload, 'rewritten' or 'purged') for the pages of relation
    `pages` (columns page_id, platform, payload) that hold any of `targets`."""
    out: list[tuple[str, str, str]] = []
    for platform in targets.platforms():
        posts = targets.posts.get(platform, set())
        authors = targets.authors.get(platform, set())
        if not posts and not authors:
            continue
        # a scan for the ids as text narrows the pages to parse (some may only mention them)
        ids = [r[0] for r in con.execute(
            f"select page_id from {pages} "
            "where platform = ? and regexp_matches(payload::varchar, ?) order by page_id",
            [platform, _pattern(posts | authors)]).fetchall()]
        for lo in range(0, len(ids), CHUNK):
            chunk = ids[lo:lo + CHUNK]
            rows = con.execute(f"select page_id, payload from {pages} where page_id in "
                               f"({', '.join('?' * len(chunk))})", chunk).fetchall()
            for page_id, payload in rows:
                doc = json.loads(payload)
                kept = scrub(doc, platform, posts, authors)
                if kept is _GONE:
                    out.append((page_id, "{}", "purged"))
                elif kept != doc:
                    out.append((page_id, json.dumps(kept, ensure_ascii=False), "rewritten"))
    return out


def _counts(done: list[tuple[str, str, str]]) -> tuple[int, int]:
    purged = sum(1 for _, _, how in done if how == "purged")
    return len(done) - purged, purged


def redact_batch(con: duckdb.DuckDBPyConnection, targets: Targets, run_id: str,
                 table: str) -> tuple[int, int]:
    """Redact the pages of temp `table` (a batch not stored yet) in place, and list them in
    temp table n_redacted for raw.page_index. Returns (pages rewritten, pages purged)."""
    done = _redactions(con, targets, table)
    now = dt.datetime.now(dt.UTC)
    con.execute("create or replace temp table n_redacted (page_id varchar, redaction varchar, "
                "redacted_by varchar, redacted_at timestamptz)")
    for page_id, payload, how in done:
        con.execute(f"update {table} set payload = ? where page_id = ?", [payload, page_id])
        con.execute("insert into n_redacted values (?, ?, ?, ?)", [page_id, how, run_id, now])
    return _counts(done)


def redact_pages(con: duckdb.DuckDBPyConnection, targets: Targets, run_id: str
                 ) -> tuple[int, int]:
    """Redact the stored raw pages that hold any of `targets`: their redacted payloads go to
    a new segment, and the segments that held them are rewritten without them (the old
    files are removed after the commit, segments.remove_orphans). Returns (pages rewritten,
    pages purged). Runs in the caller's transaction."""
    done = _redactions(con, targets, "raw.pages")
    if not done:
        return 0, 0
    con.execute("create or replace temp table redacted_in (page_id varchar, payload json, "
                "redaction varchar)")
    con.executemany("insert into redacted_in values (?, ?, ?)",
                    [(pid, payload, how) for pid, payload, how in done])
    old = [r[0] for r in con.execute(
        "select distinct segment from raw.page_index "
        "where page_id in (select page_id from redacted_in)").fetchall()]
    name = segments.write(con, "select page_id, payload from redacted_in order by page_id")
    con.execute("""
        update raw.page_index i set segment = ?, redaction = r.redaction, redacted_by = ?,
               redacted_at = ?
        from redacted_in r where r.page_id = i.page_id""",
                [name, run_id, dt.datetime.now(dt.UTC)])
    segments.rewrite(con, old)
    con.execute("drop table redacted_in")
    return _counts(done)
