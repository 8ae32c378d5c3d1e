"""Bad archives: truncated lines, binary garbage, empty files, wrong formats, huge lines,
compression, stdin, --strict, and idempotent re-import."""

from __future__ import annotations

import gzip
import json

import pytest
import zstandard
from click.testing import CliRunner

from tracker.cli import cli
from tracker.errors import ImportFormatError
from tracker.importers import formats
from tracker.pages import RawPage
from tracker.store import ledger
from tracker.store.db import connect
from tracker.store.load import store_batch
from tracker.store.normalise import prepare

from .conftest import FIXTURES, counts, jsonl
from .import_helpers import make_config, query, run_import
from .test_warehouse import expected_from_payloads

STREAM = FIXTURES / "x_v2" / "twarc2_streaming_output_with_error.jsonl"
TWO = FIXTURES / "x_v2" / "twarc2_two_tweets.jsonl"


def good_pages() -> list[str]:
    return [ln for ln in STREAM.read_text().splitlines()[:-1]]  # the last line is truncated


def all_counts(cfg) -> dict[str, int]:
    con = connect(cfg.warehouse, read_only=True)
    try:
        return counts(con)
    finally:
        con.close()


def test_truncated_last_line_is_quarantined_and_the_rest_imported(tmp_path):
    cfg = make_config(tmp_path)
    s = run_import(cfg, [STREAM])
    pages = [json.loads(p) for p in good_pages()]
    assert (s.records, s.pages_new, s.bad) == (8, 7, 1)
    ids = {r[0] for r in query(cfg, "select post_id from norm.posts")}
    assert ids == expected_from_payloads(pages)["posts"]
    assert query(cfg, "select origin, line, reason, raw from ledger.quarantine") == [
        (str(STREAM), 8, "truncated JSON: the line ends inside a value (44 bytes)",
         '{"data": {"author_id": "1021159080151404544"')]
    run = query(cfg, "select kind, status, records, pages, posts_new, errors from ledger.runs")
    assert run == [("import", "partial", 8, 7, len(ids), 1)]


def test_reimports_do_not_quarantine_a_bad_record_again(tmp_path):
    """Each run counts the bad records it read; the quarantine holds each record once."""
    bad_lines = [i for i, ln in enumerate(STREAM.read_text().splitlines(), 1)
                 if not _is_json(ln)]
    cfg = make_config(tmp_path)
    summaries = [run_import(cfg, [STREAM]) for _ in range(3)]
    assert [s.bad for s in summaries] == [len(bad_lines)] * 3
    assert [s.quarantined_before for s in summaries] == [0, len(bad_lines), len(bad_lines)]
    assert summaries[1].status == "partial"           # this run read a bad record too
    assert query(cfg, "select origin, line from ledger.quarantine") == [
        (str(STREAM), line) for line in bad_lines]
    assert query(cfg, "select errors from ledger.runs order by started_at") == [
        (len(bad_lines),)] * 3
    assert "already in the quarantine from an earlier import" in summaries[2].line()


def _is_json(line: str) -> bool:
    try:
        json.loads(line)
    except json.JSONDecodeError:
        return False
    return True


def test_garbage_lines_between_good_ones(tmp_path):
    lines = good_pages()
    data = (b"\x89PNG\x1a\x00\x00binary\xff\xfe\n" + lines[0].encode() + b"\n"
            + b'{"data": [1, 2\n' + b"\n" + lines[1].encode() + b"\n" + b"\xc3\x28 not utf8\n"
            + b'{"hello": "world"}\n' + b"[1, 2, 3]\n" + lines[2].encode())
    path = tmp_path / "messy.jsonl"
    path.write_bytes(data)
    cfg = make_config(tmp_path)
    s = run_import(cfg, [path])
    assert s.pages_new == 3
    bad = query(cfg, "select line, reason from ledger.quarantine order by line")
    assert [b[0] for b in bad] == [1, 3, 6, 7, 8]
    reasons = dict(bad)
    assert reasons[1] == "not UTF-8 text (byte 1): binary data?"
    assert reasons[3].startswith("truncated JSON")
    assert reasons[6] == "not UTF-8 text (byte 1): binary data?"
    assert reasons[7] == reasons[8] == "not a record (looks like unrecognised JSON)"
    want = expected_from_payloads([json.loads(x) for x in lines[:3]])["posts"]
    assert {r[0] for r in query(cfg, "select post_id from norm.posts")} == want


def test_lone_surrogate_escape_is_quarantined_and_the_rest_imported(tmp_path):
    """A `\\ud800` escape with no low surrogate after it is not text the raw layer can hold
    (DuckDB's JSON refuses it). In a page stored as read and in a flat tweet the import
    writes out again (which once crashed the import), it is quarantined with its reason,
    and the good pages around it are stored."""
    lines = good_pages()
    page = '{"data": [{"id": "4", "text": "y \\ud800 #AleppoIsBurning", "author_id": "2"}]}'
    flat = ('{"id": "3", "text": "x \\ud800 \\u062d\\u0644\\u0628", "author_id": "2", '
            '"author": {"id": "2", "username": "u"}, "created_at": "2016-04-29T10:00:00.000Z"}')
    path = tmp_path / "surrogates.jsonl"
    path.write_text("\n".join([lines[0], page, flat, lines[1]]) + "\n", encoding="utf-8")
    cfg = make_config(tmp_path)
    s = run_import(cfg, [path])
    assert (s.pages_new, s.bad) == (2, 2)
    bad = query(cfg, "select line, reason, raw from ledger.quarantine order by line")
    assert [b[0] for b in bad] == [2, 3]
    assert all("no low surrogate" in b[1] for b in bad)
    assert bad[0][2] == page and "\\ud800" in bad[1][2]
    want = expected_from_payloads([json.loads(x) for x in lines[:2]])["posts"]
    assert {r[0] for r in query(cfg, "select post_id from norm.posts")} == want


def test_empty_file_and_empty_lines(tmp_path):
    empty = tmp_path / "empty.jsonl"
    empty.write_bytes(b"")
    blank = tmp_path / "blank.jsonl"
    blank.write_text("\n\n   \n")
    cfg = make_config(tmp_path)
    s = run_import(cfg, [empty, blank, TWO])
    assert (s.records, s.bad, s.status) == (1, 0, "ok")
    assert f"{empty}: empty, nothing to import" in s.notes
    assert f"{blank}: empty, nothing to import" in s.notes


def test_wrong_format_forced_and_not_an_archive(tmp_path):
    cfg = make_config(tmp_path)
    s = run_import(cfg, [TWO], fmt="mastodon")
    assert (s.records, s.pages_new, s.bad) == (1, 0, 1)
    assert query(cfg, "select reason from ledger.quarantine") == [
        ("not a Mastodon status record (looks like twarc2 / X API v2 page)",)]
    yaml = FIXTURES / "mastodon" / "mastodonpy_cassette_hashtag_tl.yaml"
    s = run_import(cfg, [yaml])
    assert (s.records, s.bad) == (1, 1)      # one entry for the file, not one per line
    assert query(cfg, "select line, reason from ledger.quarantine where origin = ?",
                 [str(yaml)]) == [(None, "not JSON lines nor CSV (line 1 starts with "
                                         "b'interactions:')")]


def test_hundred_megabyte_line(tmp_path):
    """A 100 MB line that is not valid JSON between good lines: quarantined (raw cut to
    1 MB), the good lines imported, memory bounded (the line is checked by DuckDB)."""
    lines = good_pages()
    path = tmp_path / "huge.jsonl"
    with path.open("wb") as f:
        f.write(lines[0].encode() + b"\n")
        f.write(b'{"data": [{"id": "1", "text": "' + b"x" * (100 * 1024 * 1024) + b"\n")
        f.write(lines[1].encode() + b"\n")
    cfg = make_config(tmp_path)
    s = run_import(cfg, [path])
    assert (s.records, s.pages_new, s.bad) == (3, 2, 1)
    (line, reason, raw_len), = query(cfg, "select line, reason, length(raw) "
                                          "from ledger.quarantine")
    assert line == 2 and reason.startswith("invalid or truncated JSON")
    assert raw_len == ledger.QUARANTINE_RAW_LIMIT


def test_big_valid_line_goes_through_the_duckdb_path(tmp_path, monkeypatch):
    monkeypatch.setattr(formats, "BIG_LINE", 100)
    cfg = make_config(tmp_path)
    s = run_import(cfg, [STREAM])
    pages = [json.loads(p) for p in good_pages()]
    assert (s.pages_new, s.bad) == (7, 1)
    assert {r[0] for r in query(cfg, "select post_id from norm.posts")} == \
        expected_from_payloads(pages)["posts"]
    assert query(cfg, "select min(retrieved_at)::varchar from raw.pages") == [
        ("2021-04-01 15:52:42+00",)]


def test_line_over_the_limit_is_skipped_not_held(tmp_path, monkeypatch):
    from tracker.importers import archive

    monkeypatch.setattr(archive, "MAX_LINE", 1000)
    path = tmp_path / "long.jsonl"
    path.write_text(TWO.read_text().strip() + "\n" + "y" * 5000 + "\n")
    cfg = make_config(tmp_path)
    s = run_import(cfg, [path])
    assert (s.pages_new, s.bad) == (0, 2)   # the twarc2 page itself is > 1000 bytes too
    reasons = [r[0] for r in query(cfg, "select reason from ledger.quarantine order by line")]
    assert all("longer than" in r for r in reasons)


def test_gzip_zstd_directory_glob_and_stdin(tmp_path):
    raw = TWO.read_bytes()
    d = tmp_path / "archives"
    d.mkdir()
    (d / "a.jsonl.gz").write_bytes(gzip.compress(STREAM.read_bytes()))
    (d / "b.jsonl.zst").write_bytes(zstandard.ZstdCompressor().compress(raw))
    cfg = make_config(tmp_path)
    s = run_import(cfg, [d])
    assert (s.files, s.pages_new) == (2, 8)
    before = all_counts(cfg)
    s2 = run_import(cfg, [tmp_path / "archives" / "*.gz"])
    assert (s2.files, s2.pages_new, s2.pages_seen) == (1, 0, 7)
    result = CliRunner().invoke(cli, ["--config", str(cfg.path), "import", "-"],
                                input=gzip.compress(raw))
    assert result.exit_code == 0, result.output
    assert "0 new posts" in result.output and "1 records already imported" in result.output
    assert all_counts(cfg) == before


def test_corrupt_compressed_file_keeps_what_was_read(tmp_path):
    data = gzip.compress(STREAM.read_bytes())
    path = tmp_path / "cut.jsonl.gz"
    path.write_bytes(data[: len(data) // 2])
    cfg = make_config(tmp_path)
    s = run_import(cfg, [path, TWO])
    assert s.pages_new >= 3 and s.bad == 1   # the lines before the break are kept
    (reason,), = query(cfg, "select reason from ledger.quarantine")
    assert "cannot decompress" in reason


def test_reimport_and_overlap_add_nothing(tmp_path):
    lines = good_pages()
    a = tmp_path / "a.jsonl"
    b = tmp_path / "b.jsonl"
    a.write_text("\n".join(lines[:5]) + "\n")
    b.write_text("\n".join(lines[3:]) + "\n")
    cfg = make_config(tmp_path)
    run_import(cfg, [a])
    s = run_import(cfg, [b])
    assert s.pages_seen == 2 and s.pages_new == 2
    after = all_counts(cfg)
    s = run_import(cfg, [a, b, STREAM])
    assert (s.pages_new, s.posts_new) == (0, 0)
    assert all_counts(cfg) == after
    ids = {r[0] for r in query(cfg, "select post_id from norm.posts")}
    assert ids == expected_from_payloads([json.loads(x) for x in lines])["posts"]


def test_posts_collected_live_are_not_stored_twice(tmp_path):
    cfg = make_config(tmp_path)
    page = json.loads(TWO.read_text())
    live = {k: v for k, v in page.items() if k != "__twarc"}   # as the API returned it
    con = connect(cfg.warehouse)
    prepare(con, cfg.campaigns)
    run = ledger.start_run(con, "collect", "poiu", "x")
    store_batch(con, [RawPage("x_v2_page", "x", json.dumps(live))], run_id=run, source="x",
                campaign="poiu")
    con.close()
    before = all_counts(cfg)
    s = run_import(cfg, [TWO])
    assert s.posts_new == 0 and s.duplicates == len(expected_from_payloads([page])["posts"])
    after = all_counts(cfg)
    assert after["norm.posts"] == before["norm.posts"]
    assert after["raw.pages"] == before["raw.pages"] + 1   # the archive record is kept


def test_campaign_option_assigns_the_archive_results_not_their_context(tmp_path):
    cfg = make_config(tmp_path)
    s = run_import(cfg, [STREAM], campaign="aleppo")
    results, context = set(), set()
    for page in jsonl(STREAM):
        data = page.get("data")
        results |= {t["id"] for t in (data if isinstance(data, list) else [data] if data else [])}
        context |= {t["id"] for t in page.get("includes", {}).get("tweets", [])}
    assert context - results, "the fixture has context tweets"
    linked = {r[0] for r in query(cfg, "select post_id from norm.campaign_posts "
                                       "where campaign = 'aleppo'")}
    assert linked == results
    assert s.posts_new == len(results | context)   # context posts are stored all the same
    assert query(cfg, "select distinct campaign from raw.pages") == [("aleppo",)]
    with pytest.raises(Exception, match="no campaign named 'nope'"):
        run_import(cfg, [STREAM], campaign="nope")


def test_strict_stops_at_first_bad_record_and_keeps_earlier_ones(tmp_path):
    cfg = make_config(tmp_path)
    with pytest.raises(ImportFormatError, match=r"twarc2_streaming_output_with_error.jsonl:8: "
                                                r"truncated JSON"):
        run_import(cfg, [STREAM, TWO], strict=True)
    assert query(cfg, "select count(*) from raw.pages") == [(7,)]
    assert query(cfg, "select status, errors from ledger.runs") == [("failed", 1)]


def test_missing_path_fails_before_importing(tmp_path):
    cfg = make_config(tmp_path)
    with pytest.raises(ImportFormatError, match="nope.jsonl: no such file or directory"):
        run_import(cfg, [TWO, tmp_path / "nope.jsonl"])
    assert not cfg.warehouse.exists() or query(cfg, "select count(*) from raw.pages") == [(0,)]


def test_cli_import_and_quarantine(tmp_path):
    cfg = make_config(tmp_path)
    runner = CliRunner()
    r = runner.invoke(cli, ["--config", str(cfg.path), "import", str(STREAM)])
    assert r.exit_code == 0, r.output
    assert "8 records read from 1 file(s)" in r.output and "1 bad records" in r.output
    r = runner.invoke(cli, ["--config", str(cfg.path), "quarantine"])
    assert r.exit_code == 0
    assert f"{STREAM}:8: truncated JSON" in r.output
    assert "1 of 1 quarantined record(s) shown." in r.output
    r = runner.invoke(cli, ["--config", str(cfg.path), "import", "--strict", str(STREAM)])
    assert r.exit_code == 1 and "Error: " in r.output and "Traceback" not in r.output
    r = runner.invoke(cli, ["import", "--help"])
    assert "Example: tracker import" in r.output


def test_batch_that_needs_more_memory_is_retried_with_more(tmp_path, monkeypatch):
    from tracker.importers import run

    monkeypatch.setattr(run, "MEMORY_FLOOR", 1024 * 1024)
    monkeypatch.setattr(run, "MEMORY_PER_RECORD_BYTE", 1)
    monkeypatch.setattr(run, "MEMORY_RETRIES", 12)
    warnings = []
    monkeypatch.setattr(run.log, "warning", lambda msg, **kw: warnings.append(kw["extra"]))
    cfg = make_config(tmp_path)
    s = run_import(cfg, [STREAM, TWO])
    assert warnings and warnings[0]["memory_limit_mb"] == 1   # it did run out, then retried
    pages = [json.loads(p) for p in good_pages()] + [json.loads(TWO.read_text())]
    assert s.pages_new == 8
    assert {r[0] for r in query(cfg, "select post_id from norm.posts")} == \
        expected_from_payloads(pages)["posts"]


NORM_TABLES = ["norm.posts", "norm.authors", "norm.author_observations", "norm.post_hashtags",
               "norm.post_mentions", "norm.campaign_posts", "norm.engagement_observations"]


def test_batch_parsed_in_slices_stores_the_same_rows(tmp_path, monkeypatch):
    """A batch is parsed in slices (bounded memory) and merged once: same rows as in one go."""
    from tracker.importers import run
    from tracker.store import normalise

    files = [STREAM, TWO, *sorted((FIXTURES / "x_v2").glob("twarc2_*.jsonl"))]
    (tmp_path / "whole").mkdir()
    (tmp_path / "sliced").mkdir()
    whole = make_config(tmp_path / "whole")
    monkeypatch.setattr(run, "SLICE_BYTES", 1 << 40)
    run_import(whole, files)
    ran = []
    sql = normalise._sql
    monkeypatch.setattr(normalise, "_sql", lambda name: ran.append(name) or sql(name))
    monkeypatch.setattr(run, "SLICE_BYTES", 1)       # every record a slice of its own
    sliced = make_config(tmp_path / "sliced")
    s = run_import(sliced, files)
    assert ran.count("x_v2_page") == s.pages_new > 1 and ran.count("_merge") == 1
    for table in NORM_TABLES:
        rows = f"select * exclude (first_page_id, first_seen_at) from {table} order by all" \
            if table == "norm.posts" else f"select * from {table} order by all"
        assert query(sliced, rows) == query(whole, rows), table
