"""The raw layer (schema 5): payloads kept byte for byte in segment files beside the database,
readable through the view raw.pages and `tracker payload`; `tracker rebuild` gives the same
norm tables; a schema-002 warehouse is migrated on open; forget and purge take payloads out
of the files too."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import duckdb
from click.testing import CliRunner

from tracker.cli import cli
from tracker.pages import RawPage, page_id
from tracker.store import segments
from tracker.store.db import connect, migrations
from tracker.store.load import store_batch
from tracker.store.normalise import prepare

from .conftest import FIXTURES
from .import_helpers import make_config, query, run_import, v11_search_body
from .test_import_csv import CT_HEADER, ct_row, write_csv

OLD = dt.datetime(2016, 5, 1, tzinfo=dt.UTC)
NORM = ["norm.posts", "norm.authors", "norm.author_observations", "norm.post_hashtags",
        "norm.post_mentions", "norm.campaign_posts", "norm.engagement_observations",
        "norm.post_versions"]


def invoke(cfg, *args):
    return CliRunner().invoke(cli, ["--config", str(cfg.path), *args])


def norm_snapshot(cfg) -> dict[str, list[tuple]]:
    return {t: query(cfg, f"select * from {t} order by all") for t in NORM}


def every_format(tmp_path: Path) -> list[Path]:
    """One archive of each format: twarc2, v1.1, Mastodon, Bluesky, CSV."""
    v11 = tmp_path / "v11.jsonl"
    v11.write_text("\n".join(json.dumps(s, ensure_ascii=False)
                             for s in v11_search_body()["statuses"]) + "\n", encoding="utf-8")
    fb = tmp_path / "fb.csv"
    write_csv(fb, CT_HEADER, [ct_row(1, "2016-04-28 10:00:00 EEST", "#AleppoIsBurning é"),
                              ct_row(2, "2016-04-29 11:30:00 EEST", "حلب_تحترق#")])
    return [*sorted((FIXTURES / "x_v2").glob("twarc2_*.jsonl")),
            *sorted((FIXTURES / "mastodon").glob("*.jsonl")),
            FIXTURES / "mastodon" / "mpy_public_timeline.json",
            *sorted((FIXTURES / "bluesky").glob("*.json")), v11, fb]


def segment_files(cfg) -> list[Path]:
    folder = Path(str(cfg.warehouse) + ".raw")
    return sorted(p for p in folder.iterdir() if p.name != segments.EMPTY)


def all_segment_text(cfg) -> str:
    """Every payload in every segment file, read from the files themselves."""
    con = duckdb.connect()
    texts = [r[0] for f in segment_files(cfg) for r in con.execute(
        "select payload::varchar from read_parquet(?)", [str(f)]).fetchall()]
    return "\n".join(texts)


def test_every_format_round_trips_byte_for_byte(tmp_path):
    cfg = make_config(tmp_path)
    inputs = every_format(tmp_path)
    run_import(cfg, inputs)
    rows = query(cfg, "select page_id, format, payload::varchar, request from raw.pages")
    assert {r[1] for r in rows} >= {"x_v2_page", "x_v1_status", "mastodon_statuses",
                                    "bluesky_posts", "bluesky_profiles", "csv_row"}
    # page_id is the hash of the payload as received: the stored text hashes to it
    assert all(page_id(fmt, text) == pid for pid, fmt, text, _ in rows)
    # and a twarc2 record is its archive line, byte for byte, in SQL and from the CLI
    lines = {f"{p}:{i}": line for p in inputs if p.name.startswith("twarc2_")
             for i, line in enumerate(p.read_bytes().split(b"\n"), 1)}
    twarc = [(pid, text, req) for pid, fmt, text, req in rows if req in lines]
    assert len(twarc) > 10
    for pid, text, req in twarc:
        assert text.encode() == lines[req]
        out = invoke(cfg, "payload", pid)
        assert out.exit_code == 0, out.output
        assert out.stdout_bytes == lines[req]
    # the payloads are in the segment files, not in the database
    assert not query(cfg, "select count(*) from duckdb_columns() where schema_name = 'raw' "
                          "and table_name = 'page_index' and column_name = 'payload'")[0][0]
    assert all(text in all_segment_text(cfg) for _, text, _ in twarc[:3])


def test_collected_page_kept_as_received(tmp_path):
    """A live page whose body is not compact JSON (newlines, escapes, spacing) is kept so."""
    cfg = make_config(tmp_path)
    body = ('{\n  "data": [{"id": "1", "text": "caf\\u00e9 #AleppoIsBurning",\r\n'
            '  "author_id": "9", "created_at": "2016-04-28T10:00:00.000Z"}] ,\t"meta": {} }\n')
    con = connect(cfg.warehouse)
    try:
        prepare(con, cfg.campaigns)
        store_batch(con, [RawPage("x_v2_page", "x", body, request="https://api.x.com/2/t")],
                    run_id="r1", source="x", campaign="aleppo")
        assert con.execute("select payload::varchar from raw.pages").fetchall() == [(body,)]
        assert con.execute("select count(*) from norm.posts").fetchone() == (1,)
    finally:
        con.close()
    out = invoke(cfg, "payload", page_id("x_v2_page", body))
    assert out.stdout_bytes == body.encode()
    assert invoke(cfg, "payload", "nosuchpage").output.startswith("Error: no raw page")


def test_hundred_megabyte_line(tmp_path):
    cfg = make_config(tmp_path)
    tweet = {"id": "77", "text": "#AleppoIsBurning " + "x" * (100 * 2**20), "author_id": "5",
             "created_at": "2016-04-28T10:00:00.000Z"}
    line = json.dumps({"data": [tweet]}).encode()
    assert len(line) > 100 * 2**20
    path = tmp_path / "big.jsonl"
    path.write_bytes(line + b"\n")
    s = run_import(cfg, [path])
    assert s.pages_new == 1 and s.posts_new == 1
    (pid,) = query(cfg, "select page_id from raw.page_index")[0]
    out = invoke(cfg, "payload", pid)
    assert out.exit_code == 0
    assert out.stdout_bytes == line


def test_non_utf8_line_quarantined_with_its_bytes(tmp_path):
    cfg = make_config(tmp_path)
    bad = b'{"data": [{"id": "1", "text": "\xff\xfe caf\xe9"}]}'
    good = (FIXTURES / "x_v2" / "twarc2_two_tweets.jsonl").read_bytes().split(b"\n")[0]
    path = tmp_path / "mixed.jsonl"
    path.write_bytes(good + b"\n" + bad + b"\n")
    s = run_import(cfg, [path])
    assert s.bad == 1 and s.pages_new == 1
    assert query(cfg, "select line, raw_bytes from ledger.quarantine") == [(2, bad)]


def test_rebuild_gives_the_same_norm_tables(tmp_path, backend):
    cfg = make_config(tmp_path, backend=backend)
    run_import(cfg, every_format(tmp_path)[:8])
    run_import(cfg, every_format(tmp_path)[8:], campaign="aleppo")
    before = norm_snapshot(cfg)
    assert before["norm.posts"] and before["norm.post_versions"]
    con = connect(cfg.warehouse, lake=cfg.lake)
    con.execute("delete from norm.post_hashtags")     # a norm table gone wrong
    con.close()
    out = invoke(cfg, "rebuild")
    assert out.exit_code == 0, out.output
    assert out.output.startswith("Rebuilt norm.* from")
    assert norm_snapshot(cfg) == before


def _schema2_warehouse(path: Path, pages: list[tuple[str, str, str]]) -> None:
    """A warehouse as schema 2 left it: schema files 001-002, payloads in raw.pages."""
    con = duckdb.connect(str(path))
    con.execute("create table schema_migrations (version integer primary key, name varchar, "
                "applied_at timestamptz default now())")
    for version, file in migrations():
        if version <= 2:
            con.execute(file.read_text(encoding="utf-8"))
            con.execute("insert into schema_migrations (version, name) values (?, ?)",
                        [version, file.stem])
    for i, (fmt, platform, payload) in enumerate(pages):
        con.execute("insert into raw.pages values (?, ?, ?, 'import', null, ?, "
                    "'2016-05-01 00:00:00+00', 'tracker-import', 'old-run', ?, false, ?)",
                    [page_id(fmt, payload), fmt, platform, f"old.jsonl:{i + 1}",
                     f"old-run-{i // 3}", payload])
    con.close()


def _is_json(line: str) -> bool:
    try:
        json.loads(line)
    except json.JSONDecodeError:
        return False
    return True


def test_migration_from_schema_2(tmp_path):
    lines = [ln for p in sorted((FIXTURES / "x_v2").glob("twarc2_*.jsonl"))
             for ln in p.read_text(encoding="utf-8").splitlines() if _is_json(ln)]
    pages = [("x_v2_page", "x", ln) for ln in lines]
    cfg = make_config(tmp_path)
    cfg.warehouse.parent.mkdir(parents=True)
    _schema2_warehouse(cfg.warehouse, pages)
    con = connect(cfg.warehouse)   # migrates
    try:
        versions = con.execute("select version from schema_migrations").fetchall()
        assert (5,) in versions
        got = dict(con.execute("select page_id, payload::varchar from raw.pages").fetchall())
        assert got == {page_id(f, p): p for f, _, p in pages}
        assert con.execute("select count(distinct segment) from raw.page_index").fetchone() \
            == (1,)
    finally:
        con.close()
    # the old pages normalise (rebuild) to what a fresh import of them gives
    out = invoke(cfg, "rebuild")
    assert out.exit_code == 0, out.output
    (tmp_path / "fresh").mkdir()
    fresh = make_config(tmp_path / "fresh")
    con = connect(fresh.warehouse)
    try:
        prepare(con, fresh.campaigns)
        for i in range(0, len(pages), 3):
            store_batch(con, [RawPage(f, pl, p, retrieved_at=OLD) for f, pl, p in pages[i:i + 3]],
                        run_id="new", source="import", campaign=None)
    finally:
        con.close()
    assert norm_snapshot(cfg)["norm.posts"]
    assert norm_snapshot(cfg) == norm_snapshot(fresh)


def test_crash_leaves_only_unreferenced_segments_which_are_removed(tmp_path):
    cfg = make_config(tmp_path)
    run_import(cfg, [FIXTURES / "x_v2" / "twarc2_two_tweets.jsonl"])
    folder = Path(str(cfg.warehouse) + ".raw")
    (folder / "seg-deadbeef.parquet").write_bytes(b"PAR1 partial")
    (folder / "seg-cafe.parquet.tmp").write_bytes(b"partial")
    kept = segment_files(cfg)
    con = connect(cfg.warehouse)
    con.close()
    assert not (folder / "seg-cafe.parquet.tmp").exists()
    assert not (folder / "seg-deadbeef.parquet").exists()
    assert len(segment_files(cfg)) == len(kept) - 2
    assert query(cfg, "select count(*) from raw.pages")[0][0] == 1


def test_forget_takes_the_payload_out_of_the_files(tmp_path):
    cfg = make_config(tmp_path)
    path = FIXTURES / "x_v2" / "twarc2_two_tweets.jsonl"
    run_import(cfg, [path])
    (post,) = query(cfg, "select post_id from norm.posts order by post_id")[0]
    assert f'"id":"{post}"' in all_segment_text(cfg).replace(" ", "")
    out = invoke(cfg, "forget", "--post", post, "--platform", "x")
    assert out.exit_code == 0, out.output
    assert f'"id":"{post}"' not in all_segment_text(cfg).replace(" ", "")
    assert query(cfg, "select count(*) from raw.pages")[0][0] == \
        query(cfg, "select count(*) from raw.page_index")[0][0]


def test_small_batches_wait_inline_then_go_to_one_segment(tmp_path, monkeypatch):
    cfg = make_config(tmp_path)
    lines = [ln for p in sorted((FIXTURES / "x_v2").glob("twarc2_*.jsonl"))
             for ln in p.read_text(encoding="utf-8").splitlines() if _is_json(ln)]
    monkeypatch.setattr(segments, "INLINE_FLUSH_BYTES",
                        sum(len(ln.encode()) for ln in lines[:2]) + 1)
    con = connect(cfg.warehouse)
    try:
        prepare(con, cfg.campaigns)

        def where() -> list[tuple]:
            return con.execute("select segment = 'inline', count(*) from raw.page_index "
                               "group by all order by all").fetchall()

        store_batch(con, [RawPage("x_v2_page", "x", lines[0])], run_id="r", source="x",
                    campaign=None)
        store_batch(con, [RawPage("x_v2_page", "x", lines[1])], run_id="r", source="x",
                    campaign=None)
        assert where() == [(True, 2)]
        assert not segment_files(cfg)             # no file per small batch
        store_batch(con, [RawPage("x_v2_page", "x", lines[2])], run_id="r", source="x",
                    campaign=None)
        assert where() == [(False, 3)]            # the mark passed: all three in one file
        assert len(segment_files(cfg)) == 1
        assert con.execute("select count(*) from raw.page_inline").fetchone() == (0,)
        got = sorted(r[0] for r in con.execute("select payload::varchar from raw.pages")
                     .fetchall())
        assert got == sorted(lines[:3])
    finally:
        con.close()


def test_forget_removes_an_inline_payload(tmp_path):
    cfg = make_config(tmp_path)
    line = (FIXTURES / "x_v2" / "twarc2_two_tweets.jsonl").read_text(encoding="utf-8") \
        .splitlines()[0]
    con = connect(cfg.warehouse)
    try:
        prepare(con, cfg.campaigns)
        store_batch(con, [RawPage("x_v2_page", "x", line)], run_id="r", source="x",
                    campaign=None)
    finally:
        con.close()
    (post,) = query(cfg, "select post_id from norm.posts order by post_id")[0]
    assert invoke(cfg, "forget", "--post", post, "--platform", "x").exit_code == 0
    inline = query(cfg, "select payload::varchar from raw.page_inline")
    files = all_segment_text(cfg)
    assert all(f'"id":"{post}"' not in t.replace(" ", "") for (t,) in inline)
    assert f'"id":"{post}"' not in files.replace(" ", "")
    (payload,) = query(cfg, "select payload::varchar from raw.pages")[0]
    assert post not in json.dumps([t["id"] for t in json.loads(payload)["data"]])


def test_tracker_sql_reads_payloads_but_no_other_file(tmp_path):
    cfg = make_config(tmp_path)
    path = FIXTURES / "x_v2" / "twarc2_two_tweets.jsonl"
    run_import(cfg, [path])
    out = invoke(cfg, "sql", "--format", "csv",
                 "select payload->>'$.data[0].id' as id from raw.pages")
    assert out.exit_code == 0, out.output
    assert json.loads(path.read_text(encoding="utf-8").splitlines()[0])["data"][0]["id"] \
        in out.output
    other = tmp_path / "other.parquet"
    duckdb.connect().execute(f"copy (select 1 as x) to '{other}'")
    out = invoke(cfg, "sql", f"select * from read_parquet('{other}')")
    assert out.exit_code != 0
