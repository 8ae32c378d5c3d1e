"""Raw -> normalised loading: real X v2 pages, idempotency, atomic batches with cursors."""

from __future__ import annotations

import json

import duckdb
import pytest

from tracker.config import Campaign, Schedule
from tracker.hashtags import normalise_tag
from tracker.models import build
from tracker.pages import RawPage
from tracker.store import ledger
from tracker.store.db import SCHEMA_DIR, connect, migrations, schema_version
from tracker.store.load import store_batch
from tracker.store.normalise import prepare

from .conftest import FIXTURES, counts, jsonl
from .models_oracle import x_entities

TWARC_FILES = sorted((FIXTURES / "x_v2").glob("twarc2_*.jsonl"))


def pages_of(path):
    return [RawPage("x_v2_page", "x", json.dumps(p), request=f"{path.name}")
            for p in jsonl(path)]


def x_post_key(tweet: dict) -> str:
    """An X post's identity: an edited tweet is one post, keyed by the first id of its edit
    history (every version has its own tweet id)."""
    return (tweet.get("edit_history_tweet_ids") or [tweet["id"]])[0]


def expected_from_payloads(payloads: list[dict]) -> dict:
    """Independent computation in plain Python over the same payloads."""
    posts, authors, tags = set(), set(), set()
    for page in payloads:
        data = page.get("data")
        tweets = data if isinstance(data, list) else [data] if isinstance(data, dict) else []
        tweets = tweets + page.get("includes", {}).get("tweets", [])
        for t in tweets:
            posts.add(x_post_key(t))
            for h in x_entities(t).get("hashtags", []):
                tags.add((x_post_key(t), normalise_tag(h["tag"])))
        for u in page.get("includes", {}).get("users", []):
            authors.add(u["id"])
    return {"posts": posts, "authors": authors, "tags": tags}


def test_fixture_files_exist():
    assert len(TWARC_FILES) >= 8


@pytest.mark.parametrize("path", TWARC_FILES, ids=lambda p: p.name)
def test_real_x_v2_fixtures_load_with_right_counts(warehouse, path):
    run = ledger.start_run(warehouse, "test", None, "import")
    pages = pages_of(path)
    assert pages, "fixture has no readable page"
    store_batch(warehouse, pages, run_id=run, source="import", campaign=None)
    want = expected_from_payloads(jsonl(path))
    got_posts = {r[0] for r in warehouse.execute("select post_id from norm.posts").fetchall()}
    got_authors = {r[0] for r in warehouse.execute(
        "select author_id from norm.authors").fetchall()}
    got_tags = set(warehouse.execute("select post_id, tag from norm.post_hashtags").fetchall())
    assert got_posts == want["posts"]
    assert got_authors == want["authors"]
    assert got_tags == want["tags"]


def test_x_v2_fields_and_kinds(warehouse):
    run = ledger.start_run(warehouse, "test", None, "import")
    store_batch(warehouse, pages_of(FIXTURES / "x_v2" / "twarc2_two_tweets.jsonl"),
                run_id=run, source="import", campaign=None)
    row = warehouse.execute(
        "select kind, parent_id, author_id, lang, text from norm.posts "
        "where post_id = '1394735776701816833'").fetchone()
    assert row == ("repost", "1391677057810288641", "1379899464345923590", "und",
                   "RT @bibaigna96: #POIUYTREWQ")
    followers = warehouse.execute(
        "select followers, following, posts from norm.author_observations "
        "where author_id = '1380086327023169540'").fetchall()
    assert followers == [(1, 0, 3)]


def test_geo_place_is_joined(warehouse):
    run = ledger.start_run(warehouse, "test", None, "import")
    store_batch(warehouse, pages_of(FIXTURES / "x_v2" / "twarc2_geo_tweets.jsonl"),
                run_id=run, source="import", campaign=None)
    places = warehouse.execute(
        "select count(*) from norm.posts where country_code is not null").fetchone()[0]
    assert places >= 1


def test_loading_the_same_payload_twice_changes_nothing(warehouse):
    run = ledger.start_run(warehouse, "test", None, "import")
    pages = [p for f in TWARC_FILES for p in pages_of(f)]
    first = store_batch(warehouse, pages, run_id=run, source="import", campaign=None)
    before = counts(warehouse)
    again = store_batch(warehouse, pages, run_id=run, source="import", campaign=None)
    assert first.posts_new == before["norm.posts"] > 0
    assert (again.pages_new, again.posts_new) == (0, 0)
    assert counts(warehouse) == before


def test_same_post_on_two_pages_is_stored_once(warehouse):
    page = jsonl(FIXTURES / "x_v2" / "twarc2_two_tweets.jsonl")[0]
    other = dict(page, meta={"result_count": 1, "next_token": "b"})
    run = ledger.start_run(warehouse, "test", None, "import")
    store_batch(warehouse, [RawPage("x_v2_page", "x", json.dumps(page))],
                run_id=run, source="import", campaign=None)
    res = store_batch(warehouse, [RawPage("x_v2_page", "x", json.dumps(other))],
                      run_id=run, source="import", campaign=None)
    assert res.pages_new == 1 and res.posts_new == 0 and res.duplicates == 2
    assert warehouse.execute("select count(*) from raw.pages").fetchone()[0] == 2
    assert warehouse.execute("select count(*) from norm.posts").fetchone()[0] == 2


def test_failed_batch_stores_nothing_and_keeps_cursor(warehouse):
    run = ledger.start_run(warehouse, "test", "c", "s")
    good = pages_of(FIXTURES / "x_v2" / "twarc2_two_tweets.jsonl")[0]
    good.cursor = {"n": 1}
    store_batch(warehouse, [good], run_id=run, source="s", campaign="c", cursor={"n": 1},
                set_cursor=True)
    bad = RawPage("no_such_format", "x", "{}")
    before = counts(warehouse)
    with pytest.raises(Exception, match="no normalisation for raw format 'no_such_format'"):
        store_batch(warehouse, [bad], run_id=run, source="s", campaign="c", cursor={"n": 2},
                    set_cursor=True)
    assert counts(warehouse) == before
    assert ledger.get_cursor(warehouse, "c", "s") == {"n": 1}


def test_schema_is_versioned_and_migration_is_idempotent(tmp_path):
    con = connect(tmp_path / "a.duckdb")
    v = schema_version(con)
    con.close()
    con = connect(tmp_path / "a.duckdb")
    assert schema_version(con) == v >= 1
    con.close()


CAMPAIGN = Campaign("c", "c", ("AleppoIsBurning",), (), Schedule(900))
NORM_KEYS = {"norm.posts": "platform, post_id", "norm.authors": "platform, author_id",
             "norm.author_observations": "platform, author_id, observed_at",
             "norm.post_hashtags": "platform, post_id, tag",
             "norm.post_mentions": "platform, post_id, mentioned_handle",
             "norm.campaign_posts": "campaign, platform, post_id",
             "norm.engagement_observations": "platform, post_id, observed_at"}


V1_POST_COLUMNS = ("platform, post_id, url, created_at, author_id, text, lang, kind, parent_id, "
                   "conversation_id, place, country_code, synthetic, first_page_id, "
                   "first_seen_at")
# the tables whose columns later versions extended: their columns in version 1
V1_COLUMNS = {"norm.posts": V1_POST_COLUMNS,
              "norm.authors": "platform, author_id, handle, name, created_at, verified, "
                              "last_seen_at"}


def _norm_rows(con) -> dict[str, list]:
    """The rows of norm.* in the columns of schema version 1."""
    return {t: con.execute(f"select {V1_COLUMNS.get(t, '*')} "
                           f"from {t} order by all").fetchall() for t in NORM_KEYS}


def test_version_1_warehouse_migrates_keeping_rows_and_keys_unique(tmp_path):
    """Schemas 2 and 3: norm.* rebuilt without primary keys, posts gain columns; rows kept,
    keys still unique, and the first build after the migration is a full one."""
    pages = [p for path_ in TWARC_FILES for p in pages_of(path_)]
    # rows as this version normalises them, stored in a version-1 warehouse
    donor = connect(tmp_path / "donor.duckdb")
    prepare(donor, [CAMPAIGN])
    store_batch(donor, pages, run_id=ledger.start_run(donor, "collect", "c", "s"),
                source="s", campaign="c", assign_campaign="c")
    before = _norm_rows(donor)
    donor.close()
    assert before["norm.posts"] and before["norm.campaign_posts"]
    path = tmp_path / "v1.duckdb"
    con = duckdb.connect(str(path))
    con.execute((SCHEMA_DIR / "001_init.sql").read_text(encoding="utf-8"))
    con.execute("create table schema_migrations (version integer primary key, name varchar, "
                "applied_at timestamptz default now())")
    con.execute("insert into schema_migrations (version, name) values (1, '001_init')")
    con.execute(f"attach '{tmp_path / 'donor.duckdb'}' as donor (read_only)")
    for table in NORM_KEYS:
        con.execute(f"insert into {table} select {V1_COLUMNS.get(table, '*')} "
                    f"from donor.{table}")
    con.execute("detach donor")
    # a build's high-water marks from version 1 (as `tracker build` left them)
    con.execute("create schema core")
    con.execute("create table core.build_state (model varchar, fingerprint varchar, "
                "source varchar, high_water bigint, primary key (model, source))")
    con.execute("insert into core.build_state values ('core.campaign_posts', 'x', '', -1)")
    con.close()

    con = connect(path)
    assert schema_version(con) == max(v for v, _ in migrations())
    # the tables are new: no incremental build from high-water marks of the old ones
    assert {s.mode for s in build(con, [CAMPAIGN])} == {"view", "full"}
    assert _norm_rows(con) == before
    # posts stored before schema 3 have no record of how they arrived; their links are kept
    assert con.execute("select count(*) from norm.posts where matched is not null"
                       ).fetchone()[0] == 0
    assert con.execute("select count(*) from norm.posts where kind = 'reply' "
                       "and reply_to_id is distinct from parent_id").fetchone()[0] == 0
    keys = con.execute("select table_name from information_schema.table_constraints "
                       "where table_schema = 'norm' and constraint_type = 'PRIMARY KEY'")
    assert keys.fetchall() == []
    prepare(con, [CAMPAIGN])
    run = ledger.start_run(con, "collect", "c", "s")
    store_batch(con, pages[::-1], run_id=run, source="s", campaign="c",
                assign_campaign="c")   # the same content
    again = [RawPage(p.format, p.platform, p.payload.replace('"data"', ' "data"'),
                     retrieved_at=p.retrieved_at) for p in pages]   # new pages, the same posts
    store_batch(con, again, run_id=run, source="s", campaign="c", assign_campaign="c")
    assert _norm_rows(con) == before
    for table, key in NORM_KEYS.items():
        dupes = con.execute(f"select count(*) from (select {key} from {table} group by all "
                            "having count(*) > 1)").fetchone()[0]
        assert dupes == 0, table
    con.close()


def test_a_schema_file_numbered_below_the_newest_applied_one_is_still_applied(tmp_path,
                                                                             monkeypatch):
    """Work lands out of numbering order: a warehouse at version N gets a new file N-1."""
    import tracker.store.db as db_module
    schema = tmp_path / "schema"
    schema.mkdir()
    for _, p in migrations():
        (schema / p.name).write_text(p.read_text(encoding="utf-8"), encoding="utf-8")
    newest = max(v for v, _ in migrations())
    monkeypatch.setattr(db_module, "SCHEMA_DIR", schema)
    connect(tmp_path / "a.duckdb").close()
    (schema / "000_late.sql").write_text("create table main.late_arrival (x integer);",
                                         encoding="utf-8")
    con = connect(tmp_path / "a.duckdb")
    assert con.execute("select count(*) from main.late_arrival").fetchone() == (0,)
    assert con.execute("select max(version) from schema_migrations").fetchone() == (newest,)
    assert con.execute("select name from schema_migrations where version = 0"
                       ).fetchone() == ("000_late",)
    con.close()
