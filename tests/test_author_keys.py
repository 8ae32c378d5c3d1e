"""The numeric keys of norm.authors (tracker/store/keys.py): every author has the keys of its
id and current handle, whatever wrote the row (loads of X v2, X v1.1, Mastodon, Bluesky and
CrowdTangle CSV, a rename, the migration of a warehouse from before the keys), and the marts
that find handles by them show after the migration what they showed before it. Keys are
computed here with hashlib, not with the project's macro. (That the marts' handles are right
is checked against plain Python in tests/test_models_marts.py, on the same fixtures.)"""

from __future__ import annotations

import hashlib
import json

import pytest

from tracker.models import build
from tracker.pages import RawPage
from tracker.store import ledger
from tracker.store.load import store_batch
from tracker.store.normalise import prepare

from .conftest import BACKENDS, FIXTURES, jsonl, open_warehouse
from .import_helpers import make_config, query, run_import, v11_search_body
from .test_import_csv import CT_HEADER, ct_row, write_csv

TWO_TWEETS = FIXTURES / "x_v2" / "twarc2_two_tweets.jsonl"
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


def import_every_format(cfg, tmp_path) -> None:
    v11 = tmp_path / "v11.json"
    v11.write_text(json.dumps(v11_search_body()), encoding="utf-8")
    crowdtangle = tmp_path / "crowdtangle.csv"
    write_csv(crowdtangle, CT_HEADER, [ct_row(1, "2016-04-29 10:00:00 EDT", "#MakeFacebookRed"),
                                       ct_row(2, "2016-04-29 11:00:00 EDT", "#Aleppo")])
    run_import(cfg, [*FILES, v11, crowdtangle])


def wrong_keys(cfg) -> tuple[int, list[tuple]]:
    rows = query(cfg, "select platform, author_id, handle, author_key, handle_key "
                      "from norm.authors")
    wrong = [r for r in rows if (r[3], r[4]) != (key(r[0], r[1]), key(r[0], r[2]))]
    return len(rows), wrong


@pytest.mark.parametrize("backend", BACKENDS)
def test_every_author_has_the_keys_of_its_id_and_current_handle(tmp_path, backend):
    cfg = make_config(tmp_path, backend=backend)
    import_every_format(cfg, tmp_path)
    n, wrong = wrong_keys(cfg)
    platforms = {r[0] for r in query(cfg, "select distinct platform from norm.authors")}
    assert platforms == {"x", "mastodon", "bluesky", "facebook"} and n > 20
    assert wrong == []


def test_a_renamed_authors_handle_key_follows_the_handle(tmp_path):
    page = jsonl(TWO_TWEETS)[0]
    user = page["includes"]["users"][0]
    renamed = json.loads(json.dumps(page))
    renamed["includes"]["users"][0] = dict(user, username="Renamed_Later")
    cfg = make_config(tmp_path)
    run_import(cfg, [TWO_TWEETS])
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


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_warehouse_from_before_the_keys_gets_them_and_the_same_marts(tmp_path, backend):
    cfg = make_config(tmp_path, backend=backend)
    import_every_format(cfg, tmp_path)
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
    # handles were shown: the leading authors' (looked up by id) and the leading posts'
    # authors'
    leaders = before["top_contributors"]
    assert all(r[5] for r in leaders if r[1] != "mentions" and r[3] != "facebook")
    # (the ids of mentioned accounts, looked up by handle, are checked against plain Python
    # in tests/test_models_marts.py: these archives mention known accounts only in reposts,
    # which do not count as mentions)
    assert all(r[5] for r in before["top_posts"] if r[2] != "facebook")
    assert after == before


def test_tracker_sql_finds_an_author_by_key_as_the_docs_show(tmp_path):
    from click.testing import CliRunner

    from tracker.cli import cli

    cfg = make_config(tmp_path)
    run_import(cfg, [TWO_TWEETS])
    user = jsonl(TWO_TWEETS)[0]["includes"]["users"][0]
    name = user["username"].lower()
    # docs/querying.md: filter on the key, then compare the text
    query_text = (f"select author_id, handle from norm.authors where handle_key = "
                  f"author_key('x', '{name}') and lower(handle) = '{name}'")
    result = CliRunner().invoke(cli, ["--config", str(tmp_path / "tracker.toml"), "sql",
                                      query_text, "--format", "csv"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == ["author_id,handle",
                                          f"{user['id']},{user['username']}"]
