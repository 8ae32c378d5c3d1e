"""`tracker forget` on real recorded archives: a post (with its reposts) or an author leaves the
normalised tables, the raw payloads, the models after the next build and the reports; the
ledger keeps the ids; a re-import does not bring them back unless --allow-forgotten.

What should remain is computed here in plain Python from the JSON.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from tracker.cli import cli
from tracker.models import build
from tracker.store.db import connect

from .conftest import FIXTURES
from .import_helpers import make_config, query, run_import, v11_search_body
from .test_campaign_membership import TWARC_FILES

CAMPAIGN = '[[campaigns]]\nname = "tw"\nhashtags = ["gaming", "POIUYTREWQ"]\n'
NORM_TABLES = ("norm.posts", "norm.post_versions", "norm.post_hashtags", "norm.post_mentions",
               "norm.campaign_posts", "norm.engagement_observations", "norm.post_urls",
               "norm.post_media")


def invoke(cfg, *args):
    return CliRunner().invoke(cli, ["--config", str(cfg.path), *args])


def twarc_pages(files=TWARC_FILES) -> list[dict]:
    pages = []
    for path in files:
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                pages.append(json.loads(line))
            except json.JSONDecodeError:
                pass
    return pages


def tweets_of(page: dict) -> list[dict]:
    data = page.get("data")
    return ((data if isinstance(data, list) else [data] if data else [])
            + page.get("includes", {}).get("tweets", []))


def without(page: dict, ids: set[str], users: set[str] = frozenset()) -> dict:
    """The page as it should be stored after forgetting tweets `ids` and users `users`."""
    page = json.loads(json.dumps(page))
    if isinstance(page.get("data"), list):
        page["data"] = [t for t in page["data"] if t["id"] not in ids]
    inc = page.get("includes", {})
    if "tweets" in inc:
        inc["tweets"] = [t for t in inc["tweets"] if t["id"] not in ids]
    if "users" in inc:
        inc["users"] = [u for u in inc["users"] if u["id"] not in users]
    return page


def canon(doc) -> str:
    return json.dumps(doc, sort_keys=True, ensure_ascii=False)


def objects(doc):
    """Every JSON object inside `doc`."""
    if isinstance(doc, dict):
        yield doc
        for v in doc.values():
            yield from objects(v)
    elif isinstance(doc, list):
        for v in doc:
            yield from objects(v)


def traces(cfg, needles: list[str]) -> list[str]:
    """core.* and marts.* tables with a value containing any of `needles`."""
    con = connect(cfg.warehouse, read_only=True)
    try:
        found = []
        for schema, table in con.execute(
                "select schema_name, table_name from duckdb_tables() "
                "where schema_name in ('core', 'marts') and table_name <> 'build_state'"
                ).fetchall():
            rows = con.execute(f"select * from {schema}.{table}").fetchall()
            blob = repr(rows)
            found += [f"{schema}.{table}: {n}" for n in needles if n in blob]
        for view in ("core.posts", "core.authors"):
            blob = repr(con.execute(f"select * from {view}").fetchall())
            found += [f"{view}: {n}" for n in needles if n in blob]
        return found
    finally:
        con.close()


def build_all(cfg) -> list:
    con = connect(cfg.warehouse)
    try:
        return build(con, cfg.campaigns)
    finally:
        con.close()


@pytest.fixture
def twarc(tmp_path):
    cfg = make_config(tmp_path, CAMPAIGN)
    run_import(cfg, TWARC_FILES, campaign="tw")
    build_all(cfg)
    return cfg


def test_forget_a_post_and_its_reposts_everywhere(twarc, tmp_path):
    pages = twarc_pages()
    target = "1589671906718134272"
    reposts = {t["id"] for p in pages for t in tweets_of(p)
               if {"type": "retweeted", "id": target} in t.get("referenced_tweets", [])}
    gone = {target} | reposts
    assert reposts, "the archive holds a retweet of it"
    texts = {t["text"] for p in pages for t in tweets_of(p) if t["id"] in gone}
    assert traces(twarc, sorted(gone)), "the models showed it before"
    holding = [p for p in pages if any(t["id"] in gone for t in tweets_of(p))]

    res = invoke(twarc, "forget", "--post", target)
    (run_id,) = query(twarc, "select run_id from ledger.runs where kind = 'forget'")[0]
    assert res.exit_code == 0, res.output
    assert res.output.splitlines() == [
        f"Forgot x post {target}: 1 post and {len(reposts)} repost{'s' * (len(reposts) != 1)} "
        f"of it removed; raw pages: {len(holding)} rewritten, 0 purged.",
        f"Recorded in the ledger (ids only): run {run_id}.",
        "Next: tracker build, then tracker report, so that the models and reports no longer "
        "show them."]
    for table in NORM_TABLES:
        assert query(twarc, f"select count(*) from {table} where post_id in "
                            f"({', '.join('?' * len(gone))})", sorted(gone)) == [(0,)], table
    # raw: the pages that held them are the pages as received without them
    redacted = query(twarc, "select payload, redaction, redacted_by from raw.pages "
                            "where redacted_by is not null")
    assert sorted(canon(json.loads(p)) for p, _, _ in redacted) == sorted(
        canon(without(p, gone)) for p in holding)
    assert {(how, by) for _, how, by in redacted} == {("rewritten", run_id)}
    for (payload,) in query(twarc, "select payload from raw.pages"):
        assert not [o for o in objects(json.loads(payload)) if o.get("id") in gone
                    and "text" in o]
    # the ledger: ids only
    assert sorted(query(twarc, "select platform, post_id, author_id, request, run_id, "
                               "restored_by from ledger.forgotten"), key=repr) == sorted(
        [("x", target, None, "post", run_id, None)]
        + [("x", r, None, "repost", run_id, None) for r in reposts], key=repr)
    assert query(twarc, "select status, records from ledger.runs where run_id = ?",
                 [run_id]) == [("ok", len(gone))]
    # the next build is a full one and leaves no trace in any model
    steps = build_all(twarc)
    assert "incremental" not in {s.mode for s in steps}
    assert traces(twarc, sorted(gone) + sorted(texts)) == []


def test_the_models_after_forget_equal_an_import_without_the_post(twarc, tmp_path):
    target = "1558553189766631429"      # the campaign's most liked tweet
    assert invoke(twarc, "forget", "--post", target).exit_code == 0
    build_all(twarc)
    clean = tmp_path / "clean"
    clean.mkdir()
    files = []
    for path in TWARC_FILES:
        out = clean / path.name
        lines = []
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                page = json.loads(line)
            except json.JSONDecodeError:
                lines.append(line)
                continue
            lines.append(json.dumps(without(page, {target})) if any(
                t["id"] == target for t in tweets_of(page)) else line)
        out.write_text("\n".join(lines) + "\n", encoding="utf-8")
        files.append(out)
    other = make_config(clean, CAMPAIGN)
    run_import(other, files, campaign="tw")
    build_all(other)
    tables = [r[0] for r in query(twarc, "select schema_name || '.' || table_name from "
                                         "duckdb_tables() where schema_name = 'marts'")]
    assert len(tables) > 10
    for t in tables:
        assert sorted(query(twarc, f"select * from {t}"), key=repr) == sorted(
            query(other, f"select * from {t}"), key=repr), t


def test_reports_regenerated_after_forget_no_longer_show_it(twarc, tmp_path):
    target = "1558553189766631429"
    (text,) = [t["text"] for p in twarc_pages() for t in tweets_of(p)
               if t["id"] == target][:1]

    def shown() -> bool:
        out = tmp_path / "reports"
        res = invoke(twarc, "report", "--campaign", "tw", "--out", str(out), "--no-images")
        assert res.exit_code == 0, res.output
        blob = "".join(p.read_text(encoding="utf-8", errors="replace")
                       for p in out.rglob("*") if p.is_file())
        return target in blob or text[:40] in blob

    assert shown()
    invoke(twarc, "forget", "--post", target)
    invoke(twarc, "build")
    assert not shown()


def test_reimport_does_not_bring_it_back_unless_allowed(twarc, tmp_path):
    target = "1558553189766631429"
    invoke(twarc, "forget", "--post", target)
    stored = query(twarc, "select page_id, payload from raw.pages order by page_id")
    # the same archive again: every record is recognised as stored, nothing comes back
    summary = run_import(twarc, TWARC_FILES, campaign="tw")
    assert summary.posts_new == 0
    assert query(twarc, "select page_id, payload from raw.pages order by page_id") == stored
    # the same post in a record never seen (another serialisation): skipped, stored redacted
    (page,) = [p for p in twarc_pages() if any(t["id"] == target for t in tweets_of(p))][:1]
    other = tmp_path / "again.jsonl"
    other.write_text(json.dumps(page, indent=1).replace("\n", " ") + "\n", encoding="utf-8")
    summary = run_import(twarc, [other], campaign="tw")
    assert summary.notes == ["1 post(s) removed on request (tracker forget) were not stored "
                             "again (--allow-forgotten stores them)"]
    assert query(twarc, "select count(*) from norm.posts where post_id = ?", [target]) == [(0,)]
    (payload,) = query(twarc, "select payload from raw.pages where request like ?",
                       [f"%{other.name}:1"])[0]
    assert json.loads(payload) == without(page, {target})
    # --allow-forgotten: the post and the pages as received come back; the ledger says so
    res = invoke(twarc, "import", "--campaign", "tw", "--allow-forgotten",
                 *map(str, TWARC_FILES))
    assert res.exit_code == 0, res.output
    assert query(twarc, "select count(*) from norm.posts where post_id = ?", [target]) == [(1,)]
    (run_id,) = query(twarc, "select run_id from ledger.runs where kind = 'import' "
                             "order by started_at desc limit 1")[0]
    assert query(twarc, "select post_id, restored_by from ledger.forgotten") == [
        (target, run_id)]
    originals = {canon(p) for p in twarc_pages() if any(t["id"] == target
                                                        for t in tweets_of(p))}
    restored = {canon(json.loads(p)) for (p,) in query(
        twarc, "select payload from raw.pages where request not like ?", [f"%{other.name}%"])}
    assert originals <= restored
    build_all(twarc)
    assert query(twarc, "select count(*) from core.campaign_posts where post_id = ?",
                 [target]) == [(1,)]


def test_forget_an_author_by_handle_purges_one_status_records(tmp_path):
    body = v11_search_body()
    path = tmp_path / "statuses.jsonl"
    path.write_text("".join(json.dumps(s) + "\n" for s in body["statuses"]), encoding="utf-8")
    cfg = make_config(tmp_path, CAMPAIGN)
    run_import(cfg, [path], campaign="tw")
    build_all(cfg)
    author = "251602117"
    theirs = [s for s in body["statuses"] if s["user"]["id_str"] == author]
    handle = theirs[0]["user"]["screen_name"]
    assert len(theirs) == 2
    res = invoke(cfg, "forget", "--author", f"@{handle.lower()}")
    assert res.exit_code == 0, res.output
    assert res.output.splitlines()[0] == (
        f"Forgot x author {author} (@{handle}): 2 posts and 0 reposts of them removed; "
        "raw pages: 0 rewritten, 2 purged.")
    assert query(cfg, "select count(*) from norm.posts where author_id = ?", [author]) == [(0,)]
    for table in ("norm.authors", "norm.author_observations"):
        assert query(cfg, f"select count(*) from {table} where author_id = ?",
                     [author]) == [(0,)]
    assert sorted(query(cfg, "select payload, redaction from raw.pages "
                             "where redacted_by is not null")) == [("{}", "purged")] * 2
    assert query(cfg, "select count(*) from raw.pages") == [(len(body["statuses"]),)]
    kept = [json.loads(p) for (p,) in query(cfg, "select payload from raw.pages "
                                                 "where redacted_by is null")]
    assert sorted(canon(k) for k in kept) == sorted(canon(s) for s in body["statuses"]
                                                    if s["user"]["id_str"] != author)
    assert sorted(query(cfg, "select post_id, author_id, request from ledger.forgotten"),
                  key=repr) == sorted([(None, author, "author")]
                                      + [(s["id_str"], None, "author") for s in theirs], key=repr)
    build_all(cfg)
    assert traces(cfg, [author, handle] + [s["id_str"] for s in theirs]) == []
    # a later import of their statuses stores nothing of them
    again = tmp_path / "again.jsonl"
    again.write_text("".join(json.dumps(s, indent=1).replace("\n", "") + "\n" for s in theirs),
                     encoding="utf-8")
    run_import(cfg, [again], campaign="tw")
    assert query(cfg, "select count(*) from norm.posts where author_id = ?", [author]) == [(0,)]
    assert query(cfg, "select count(*) from norm.authors where author_id = ?",
                 [author]) == [(0,)]


@pytest.mark.parametrize("fixture, pick", [
    ("mastodon/mpy_public_timeline.json", lambda doc: doc[0]["uri"]),
    ("bluesky/bskyr_searchPosts_q-redistricting.json", lambda doc: doc["posts"][0]["uri"]),
])
def test_forget_rewrites_mastodon_and_bluesky_pages(tmp_path, fixture, pick):
    path = FIXTURES / fixture
    doc = json.loads(path.read_text(encoding="utf-8"))
    uri = pick(doc)
    cfg = make_config(tmp_path, CAMPAIGN)
    run_import(cfg, [path])
    res = invoke(cfg, "forget", "--post", uri)
    assert res.exit_code == 0, res.output
    assert "raw pages: 1 rewritten, 0 purged." in res.output
    (payload,) = query(cfg, "select payload from raw.pages")[0]
    stored = json.loads(payload)
    items = stored if isinstance(stored, list) else stored["posts"]
    before = doc if isinstance(doc, list) else doc["posts"]
    assert [i["uri"] for i in items] == [i["uri"] for i in before if i["uri"] != uri]
    assert uri not in {o.get("uri") for o in objects(stored) if "content" in o
                       or "record" in o or "value" in o}
    assert query(cfg, "select count(*) from norm.posts where post_id = ?", [uri]) == [(0,)]


def test_forget_errors_are_one_line(twarc):
    res = invoke(twarc, "forget", "--post", "123")
    assert (res.exit_code, res.output) == (1, "Error: no stored post '123' (add --platform to "
                                              "record it anyway, so that it is never stored)\n")
    res = invoke(twarc, "forget")
    assert res.output == "Error: give either --post ID or --author HANDLE_OR_ID\n"
    res = invoke(twarc, "forget", "--post", "123", "--platform", "x")
    assert res.exit_code == 0 and res.output.startswith(
        "Forgot x post 123: 0 posts and 0 reposts of it removed; raw pages: 0 rewritten")
    res = invoke(twarc, "forget", "--post", "123", "--platform", "x")
    assert res.output == "x post 123: already forgotten; nothing to do.\n"


def test_help_shows_examples():
    for cmd, example in (("export", "tracker export --campaign aleppo-is-burning --ids-only"),
                         ("forget", "tracker forget --author @someone --platform x")):
        res = CliRunner().invoke(cli, [cmd, "--help"])
        assert res.exit_code == 0 and example in res.output


def test_schema_4_keeps_page_ids_as_received():
    text = (Path(__file__).resolve().parent.parent / "warehouse" / "schema"
            / "004_forgotten.sql").read_text()
    assert "page_id stays the hash of the page as it was" in text


def test_collected_pages_skip_forgotten_posts(twarc):
    """The collector's path (store_batch, also the daemon's loader) skips them too."""
    from tracker.pages import RawPage
    from tracker.store import ledger
    from tracker.store.load import store_batch
    from tracker.store.normalise import prepare

    target = "1558553189766631429"
    invoke(twarc, "forget", "--post", target)
    (page,) = [p for p in twarc_pages() if any(t["id"] == target for t in tweets_of(p))][:1]
    page["meta"] = {"result_count": 1, "newest_id": target}   # a page never stored before
    con = connect(twarc.warehouse)
    try:
        prepare(con, twarc.campaigns)
        run_id = ledger.start_run(con, "collect", "tw", "x-recent")
        result = store_batch(con, [RawPage("x_v2_page", "x", json.dumps(page))], run_id=run_id,
                             source="x-recent", campaign="tw", assign_campaign="tw")
    finally:
        con.close()
    assert (result.pages_new, result.forgotten) == (1, 1)
    assert query(twarc, "select count(*) from norm.posts where post_id = ?", [target]) == [(0,)]
    (payload, by), = query(twarc, "select payload, redacted_by from raw.pages "
                                  "where load_id = ?", [run_id])
    assert (json.loads(payload), by) == (without(page, {target}), run_id)


def _lake_cells_holding(cfg, needles: set[str]) -> list[str]:
    """Where in the lake's files (data and payload segments, read as Parquet) and in its SQLite
    catalog's inlined rows any of `needles` is still held, in any snapshot."""
    import sqlite3

    import duckdb
    found = []
    files = [*cfg.lake.data_path.rglob("*.parquet"), *cfg.lake.raw_dir.rglob("*.parquet")]
    assert files
    for path in files:
        for row in duckdb.sql(f"select * from read_parquet('{path}')").fetchall():
            found += [path.name for cell in row for n in needles if n in str(cell)]
    db = sqlite3.connect(cfg.lake.catalog_file)
    try:
        for (table,) in db.execute("select name from sqlite_master where type = 'table' "
                                   "and name like 'ducklake_inlined_data%'").fetchall():
            for row in db.execute(f"select * from {table}").fetchall():
                found += [table for cell in row for n in needles if n in str(cell)]
    finally:
        db.close()
    return sorted(set(found))


def test_forget_on_a_lake_leaves_it_in_no_earlier_snapshot_or_file(tmp_path):
    """A lake keeps deleted rows for time travel (in data files and inlined in the catalog):
    there forget also builds the models without the post and purges the lake's history, so
    no snapshot, file or catalog row holds it, and --as-of cannot reach back before it."""
    from .conftest import open_warehouse
    cfg = make_config(tmp_path, CAMPAIGN, backend="ducklake")
    run_import(cfg, TWARC_FILES, campaign="tw")
    con = open_warehouse(cfg)
    build(con, cfg.campaigns)
    con.close()
    target = "1589671906718134272"
    gone = {target} | {t["id"] for p in twarc_pages() for t in tweets_of(p)
                       if {"type": "retweeted", "id": target} in t.get("referenced_tweets", [])}
    texts = {t["text"] for p in twarc_pages() for t in tweets_of(p) if t["id"] in gone}
    (before,) = query(cfg, "select max(snapshot_id) from lake.snapshots()")[0]
    assert _lake_cells_holding(cfg, texts), "the lake held its text before"

    res = invoke(cfg, "forget", "--post", target)
    assert res.exit_code == 0, res.output
    lines = res.output.splitlines()
    assert lines[0].startswith(f"Forgot x post {target}: 1 post and ")
    assert lines[2].startswith("Lake: the models were built without them, every earlier "
                               "snapshot was expired and ")
    assert lines[3:] == ["Next: tracker report, so that the reports no longer show them."]
    assert _lake_cells_holding(cfg, texts) == []
    assert query(cfg, "select count(*) from lake.snapshots()") == [(1,)]
    for table in NORM_TABLES:
        assert query(cfg, f"select count(*) from {table} where post_id in "
                          f"({', '.join('?' * len(gone))})", sorted(gone)) == [(0,)], table
    # the models were built: they no longer show it
    assert query(cfg, "select count(*) from core.campaign_posts where post_id in "
                      f"({', '.join('?' * len(gone))})", sorted(gone)) == [(0,)]
    res = invoke(cfg, "report", "--campaign", "tw", "--no-images", "--as-of", str(before),
                 "--out", str(tmp_path / "old"))
    assert res.exit_code == 1
    assert res.output.startswith("Error: ") and res.output.count("\n") == 1, res.output
