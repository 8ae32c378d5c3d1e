"""The numeric keys of norm.authors (tracker/store/keys.py): every author has the keys of its
id and current handle, whatever wrote the row (a load of any format, a rename, the migration
of a warehouse from before the keys), and the marts that find handles by them show what they
showed before. Keys are computed here with hashlib, not with the project's macro."""

from __future__ import annotations

import hashlib

import pytest

from tracker.models import build

from .conftest import BACKENDS, FIXTURES, open_warehouse
from .import_helpers import make_config, query, run_import

FILES = [*sorted((FIXTURES / "x_v2").glob("twarc2_*.jsonl")),
         FIXTURES / "mastodon" / "mpy_tag_timeline_pages.jsonl",
         FIXTURES / "bluesky" / "bskyr_searchPosts_q-redistricting.json"]


def key(platform: str, text: str | None) -> int | None:
    """32 bits of the MD5 of platform, U+001F and the lowercased text: the digest's last four
    bytes read little-endian (the top of DuckDB's md5_number)."""
    if text is None:
        return None
    digest = hashlib.md5(f"{platform}\x1f{text.lower()}".encode()).digest()
    return int.from_bytes(digest[12:], "little")


def wrong_keys(cfg) -> tuple[int, list[tuple]]:
    rows = query(cfg, "select platform, author_id, handle, author_key, handle_key "
                      "from norm.authors")
    wrong = [r for r in rows if (r[3], r[4]) != (key(r[0], r[1]), key(r[0], r[2]))]
    return len(rows), wrong


@pytest.mark.parametrize("backend", BACKENDS)
def test_every_author_has_the_keys_of_its_id_and_current_handle(tmp_path, backend):
    cfg = make_config(tmp_path, backend=backend)
    run_import(cfg, FILES)
    n, wrong = wrong_keys(cfg)
    platforms = {r[0] for r in query(cfg, "select distinct platform from norm.authors")}
    assert platforms == {"x", "mastodon", "bluesky"} and n > 20
    assert wrong == []


def test_a_renamed_authors_handle_key_follows_the_handle(tmp_path):
    import json

    from tracker.pages import RawPage
    from tracker.store import ledger
    from tracker.store.load import store_batch
    from tracker.store.normalise import prepare

    page = json.loads((FIXTURES / "x_v2" / "twarc2_two_tweets.jsonl").read_text(
        encoding="utf-8").splitlines()[0])
    user = page["includes"]["users"][0]
    renamed = json.loads(json.dumps(page))
    renamed["includes"]["users"][0] = dict(user, username="Renamed_Later")
    cfg = make_config(tmp_path)
    run_import(cfg, [FIXTURES / "x_v2" / "twarc2_two_tweets.jsonl"])
    con = open_warehouse(cfg)
    try:
        prepare(con, [])
        run = ledger.start_run(con, "test", "aleppo", "hand")
        later = max(r[0] for r in con.execute("select last_seen_at from norm.authors")
                    .fetchall())
        store_batch(con, [RawPage("x_v2_page", "x", json.dumps(renamed),
                                  retrieved_at=later.replace(year=later.year + 1))],
                    run_id=run, source="hand", campaign="aleppo")
    finally:
        con.close()
    assert query(cfg, "select handle, handle_key from norm.authors where author_id = ?",
                 [user["id"]]) == [("Renamed_Later", key("x", "renamed_later"))]
    assert wrong_keys(cfg)[1] == []


def test_a_warehouse_from_before_the_keys_gets_them_and_the_same_marts(tmp_path):
    cfg = make_config(tmp_path)
    run_import(cfg, FILES)
    marts = "select * from marts.{} order by all"
    con = open_warehouse(cfg)
    try:
        build(con, cfg.campaigns)
        before = {m: con.execute(marts.format(m)).fetchall()
                  for m in ("top_contributors", "top_posts")}
        # the warehouse as schema 9 left it: no key columns, version 10 not applied
        con.execute("alter table norm.authors drop column author_key")
        con.execute("alter table norm.authors drop column handle_key")
        con.execute("delete from schema_migrations where version = 10")
    finally:
        con.close()
    con = open_warehouse(cfg)   # migrates
    try:
        assert con.execute("select max(version) from schema_migrations").fetchone()[0] >= 10
        build(con, cfg.campaigns, full=True)
        after = {m: con.execute(marts.format(m)).fetchall() for m in before}
    finally:
        con.close()
    n, wrong = wrong_keys(cfg)
    assert n > 20 and wrong == []
    assert any(r[5] for r in before["top_contributors"])      # handles were shown
    assert after == before
