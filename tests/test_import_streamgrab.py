"""Containers (tar, zip, bz2, xz, nested per-member compression) and the stream-grab campaign
filter, on the real v1.1 statuses of the tweepy cassette packed in the test."""

from __future__ import annotations

import bz2
import copy
import io
import json
import lzma
import zipfile
from collections import Counter

import pytest

from tracker.hashtags import normalise_tag
from tracker.importers.prefilter import Prefilter
from tracker.importers.streamgrab import Scanned, scan_stream
from tracker.store.db import connect
from tracker.store.rebuild import rebuild

from .grab_helpers import (
    CAMPAIGN_TAGS,
    COMPRESS,
    carries,
    grab_tar,
    minute_lines,
    statuses,
    write_tar,
)
from .import_helpers import build_and_query, make_config, query, run_import, v11_search_body


def _all_ids() -> set[str]:
    out = set()
    for s in statuses():
        out.add(s["id_str"])
        for k in ("retweeted_status", "quoted_status"):
            if isinstance(s.get(k), dict):
                out.add(s[k]["id_str"])
    return out


def _matched(cfg) -> set[str]:
    return {r[0] for r in query(cfg, "select post_id from norm.posts where matched")}


@pytest.mark.parametrize("comp", ["bz2", "gz", "xz", "zst", ""])
def test_tar_members_each_decompressed_all_statuses_stored(tmp_path, comp):
    cfg = make_config(tmp_path)
    tar = grab_tar(tmp_path / "month.tar", minutes=2, comp=comp)
    summary = run_import(cfg, [tar], filter_campaigns="no")
    assert {r[0] for r in query(cfg, "select post_id from norm.posts")} == _all_ids()
    assert _matched(cfg) == {s["id_str"] for s in statuses()}
    lines = minute_lines(0)
    deletes = sum(ln.startswith('{"delete"') for ln in lines)
    # unfiltered, delete and limit notices are not statuses: they go to the quarantine
    assert summary.bad == 2 * (deletes + 1)
    assert summary.scan.lines == 0


def test_zip_whole_file_bz2_xz_and_compressed_tar(tmp_path):
    text = ("\n".join(json.dumps(s) for s in statuses()) + "\n").encode()
    zpath = tmp_path / "a.zip"
    with zipfile.ZipFile(zpath, "w") as zf:
        zf.writestr("x/one.json.bz2", bz2.compress(text))
        zf.writestr("x/two.jsonl", text)
    (tmp_path / "b.jsonl.bz2").write_bytes(bz2.compress(text))
    (tmp_path / "c.jsonl.xz").write_bytes(lzma.compress(text))
    tar = grab_tar(tmp_path / "d.tar", minutes=1)
    (tmp_path / "e.tar.xz").write_bytes(lzma.compress(tar.read_bytes()))
    tar.unlink()
    for name in ("a.zip", "b.jsonl.bz2", "c.jsonl.xz", "e.tar.xz"):
        (tmp_path / name.replace(".", "_")).mkdir()
        cfg = make_config(tmp_path / name.replace(".", "_"))
        summary = run_import(cfg, [tmp_path / name], filter_campaigns="no")
        assert _matched(cfg) == {s["id_str"] for s in statuses()}, name
        assert {r[0] for r in query(cfg, "select post_id from norm.posts")} == _all_ids(), name
        assert summary.records >= len(statuses())


def test_stream_grab_keeps_only_campaign_statuses_and_counts_notices(tmp_path):
    cfg = make_config(tmp_path)
    tar = grab_tar(tmp_path / "archiveteam-twitter-stream-2016-04.tar", minutes=3)
    summary = run_import(cfg, [tar])        # auto: a tar of .json.bz2 minute files
    expected = {s["id_str"] for s in statuses() if carries(s)}
    assert len(expected) == 6     # own tag x4 spellings, by a retweet, by a quote
    assert _matched(cfg) == expected
    lines = minute_lines(0)
    assert summary.scan.lines == 3 * len(lines)
    assert summary.scan.deletes == 3 * sum(ln.startswith('{"delete"') for ln in lines)
    assert summary.scan.other == 3
    assert summary.scan.statuses == 3 * len(statuses())
    assert summary.scan.matched == 3 * len(expected)
    assert summary.bad == 0
    assert query(cfg, "select count(*) from ledger.quarantine")[0][0] == 0
    assert "delete notices" in summary.line()
    # the campaigns: by their own tags or the retweeted / quoted status's
    assert query(cfg, "select count(distinct post_id) from norm.campaign_posts "
                      "where post_id in (select unnest(?))", [sorted(expected)])[0][0] > 0


def test_filter_in_process_and_in_worker_processes_agree(tmp_path):
    tar = grab_tar(tmp_path / "t.tar", minutes=4)
    results = {}
    for workers in (1, 2):
        (tmp_path / f"w{workers}").mkdir()
        cfg = make_config(tmp_path / f"w{workers}")
        s = run_import(cfg, [tar], workers=workers)
        results[workers] = (_matched(cfg), s.scan.lines, s.scan.deletes, s.scan.matched)
    assert results[1] == results[2]
    assert results[1][0]


def test_truncated_member_keeps_lines_before_and_quarantines_the_rest(tmp_path):
    cfg = make_config(tmp_path)
    text = ("\n".join(minute_lines(0)) + "\n").encode()
    whole = bz2.compress(text)
    tar = write_tar(tmp_path / "grab.tar", [("00.json.bz2", whole),
                                            ("01.json.bz2", whole[: len(whole) // 2]),
                                            ("02.json.bz2", whole)])
    summary = run_import(cfg, [tar])
    assert _matched(cfg) == {s["id_str"] for s in statuses() if carries(s)}
    rows = query(cfg, "select origin, reason from ledger.quarantine")
    assert len(rows) == 1 and rows[0][0].endswith("grab.tar/01.json.bz2")
    assert "cannot decompress" in rows[0][1]
    assert summary.scan.lines >= 2 * len(minute_lines(0))


def test_tagged_line_with_surrogate_bytes_is_quarantined_not_fatal(tmp_path):
    """Python's json reads UTF-8 bytes of a surrogate (not UTF-8 text); such a line carrying
    a campaign tag once stopped the import with a UnicodeDecodeError from the reader. It is
    quarantined as not UTF-8, and the member's other statuses are stored."""
    cfg = make_config(tmp_path)
    bad = (b'{"id_str": "1", "text": "#AleppoIsBurning \xed\xa0\x80", "user": {"id_str": '
           b'"2"}, "entities": {"hashtags": [{"text": "AleppoIsBurning"}]}}')
    text = ("\n".join(minute_lines(0)) + "\n").encode() + bad + b"\n"
    tar = write_tar(tmp_path / "grab.tar", [("00.json.bz2", bz2.compress(text))])
    summary = run_import(cfg, [tar])
    assert _matched(cfg) == {s["id_str"] for s in statuses() if carries(s)}
    rows = query(cfg, "select line, reason, raw_bytes from ledger.quarantine")
    assert summary.bad == 1 and len(rows) == 1
    assert rows[0][0] == len(minute_lines(0)) + 1
    assert rows[0][1].startswith("not UTF-8 text") and bytes(rows[0][2]) == bad


@pytest.mark.parametrize("workers", [1, 2])
def test_truncated_tar_keeps_members_before_the_cut(tmp_path, workers):
    cfg = make_config(tmp_path)
    tar = grab_tar(tmp_path / "grab.tar", minutes=6)
    data = tar.read_bytes()
    tar.write_bytes(data[: len(data) * 5 // 6 + 100])   # inside the 6th member's data
    summary = run_import(cfg, [tar], workers=workers)
    assert _matched(cfg) == {s["id_str"] for s in statuses() if carries(s)}
    assert any("tar archive broken" in n for n in summary.notes)
    assert summary.bad == 2       # the cut member, and the broken archive
    # the five whole members are done; the cut one is read, not whole: quarantined
    assert query(cfg, "select count(*) from ledger.import_members where lines > 0")[0][0] >= 5


def test_a_finished_import_is_read_again_whole_and_stores_nothing_twice(tmp_path):
    """Members are passed over only to resume an import that did not finish (the kill tests);
    after a finished one, the same archive (say, with a campaign added since) is read again."""
    cfg = make_config(tmp_path)
    tar = grab_tar(tmp_path / "grab.tar", minutes=3)
    first = run_import(cfg, [tar])
    stored = query(cfg, "select count(*) from norm.posts")
    again = run_import(cfg, [tar])
    assert again.scan.skipped_members == 0 and again.scan.lines == first.scan.lines > 0
    assert again.scan.matched == first.scan.matched > 0
    assert (again.pages_new, again.posts_new) == (0, 0)
    assert query(cfg, "select count(*) from norm.posts") == stored
    assert query(cfg, "select status, count(*), count(distinct member) "
                      "from ledger.import_members group by all") == [("read", 6, 3)]


def _lines_of(block: bytes) -> list[bytes]:
    return block.split(b"\n")


@pytest.mark.parametrize("ensure_ascii", [True, False])
def test_prefilter_passes_every_line_that_carries_a_tag(ensure_ascii):
    """Real statuses, raw or escaped, escapes in upper-case hex too: every line the oracle
    says carries a campaign tag passes; most lines that do not are never parsed."""
    pf = Prefilter(CAMPAIGN_TAGS)
    lines = [json.dumps(s, ensure_ascii=ensure_ascii) for s in statuses()]
    upper = [ln.replace("\\u062d", "\\u062D").replace("\\uff21", "\\uFF21") for ln in lines]
    for variant in (lines, upper):
        block = "\n".join(variant).encode()
        passed = {block[a:b] for a, b in pf.lines(block)}
        for s, ln in zip(statuses(), variant, strict=True):
            if carries(s):
                assert ln.encode() in passed, s["id_str"]
        assert len(passed) <= sum(map(carries, statuses())) + 1


@pytest.mark.parametrize("spelling", ["#ALEPPOISBURNING", "＃ＡｌｅｐｐｏＩｓＢｕｒｎｉｎｇ",
                                      "#ﺣﻠﺐ_ﺗﺤﺘﺮﻕ", "#𝐇𝐎𝐎𝐓", "#MakeFaceb\u006fokRed"])
def test_prefilter_spellings(spelling):
    pf = Prefilter(CAMPAIGN_TAGS)
    for line in (json.dumps({"t": spelling}), json.dumps({"t": spelling}, ensure_ascii=False)):
        block = b'{"a": 1}\n' + line.encode() + b'\n{"b": 2}'
        assert [block[a:b] for a, b in pf.lines(block)] == [line.encode()]
    assert list(pf.lines(json.dumps({"t": "#Aleppo"}).encode())) == []


def test_scan_counts_lines_by_kind():
    pf = Prefilter(CAMPAIGN_TAGS)
    lines = minute_lines(0)
    scan = scan_stream(io.BytesIO(("\n".join(lines) + "\n").encode()), pf, "m", "m")
    assert isinstance(scan, Scanned) and scan.error is None
    assert scan.lines == len(lines)
    assert scan.deletes == sum(ln.startswith('{"delete"') for ln in lines)
    assert scan.statuses == len(statuses())
    assert scan.other == 1        # the limit notice
    carrying = {i + 1 for i, ln in enumerate(lines)
                if ln.startswith('{"created_at"') and carries(json.loads(ln))}
    hits = dict(scan.hits)
    assert carrying and carrying <= set(hits)
    assert all(hits[n] == lines[n - 1].encode() for n in carrying)


def test_compress_table_covers_every_member_compression():
    assert set(COMPRESS) == {"bz2", "gz", "xz", "zst", ""}


def test_cli_filter_campaigns_yes_on_a_plain_file_and_no_on_a_grab(tmp_path):
    from click.testing import CliRunner

    from tracker.cli import cli

    cfg = make_config(tmp_path)
    plain = tmp_path / "statuses.jsonl.bz2"
    plain.write_bytes(bz2.compress(("\n".join(minute_lines(0)) + "\n").encode()))
    r = CliRunner().invoke(cli, ["--config", str(cfg.path), "import", str(plain),
                                 "--filter-campaigns", "yes"])
    assert r.exit_code == 0, r.output
    assert "campaign filter:" in r.output and "delete notices" in r.output
    assert _matched(cfg) == {s["id_str"] for s in statuses() if carries(s)}
    tar = grab_tar(tmp_path / "grab.tar", minutes=1)
    r = CliRunner().invoke(cli, ["--config", str(cfg.path), "import", str(tar),
                                 "--filter-campaigns", "no"])
    assert r.exit_code == 0, r.output
    assert "campaign filter:" not in r.output
    assert _matched(cfg) == {s["id_str"] for s in statuses()}


def test_zip_from_stdin_is_one_clear_error(tmp_path):
    from click.testing import CliRunner

    from tracker.cli import cli

    cfg = make_config(tmp_path)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("a.jsonl", "{}\n")
    r = CliRunner().invoke(cli, ["--config", str(cfg.path), "import", "-"],
                           input=buf.getvalue())
    assert "a zip archive cannot be read from stdin" in r.output


def test_a_line_longer_than_the_limit_ends_the_member_in_bounded_memory(monkeypatch):
    import tracker.importers.streamgrab as streamgrab
    monkeypatch.setattr(streamgrab, "MAX_LINE", 1000)
    pf = Prefilter(frozenset({"aleppoisburning"}))
    first = b'{"created_at": "x", "text": "#AleppoIsBurning"}\n'
    scan = scan_stream(io.BytesIO(first + b"x" * (3 * 2**20)), pf, "grab.tar", "m.json")
    assert scan.error == "line 2 is longer than 0 MB: the rest of the member is not read"
    assert [text for _, text in scan.hits] == [first.strip()]


def _quote_of_a_tagged_status() -> dict:
    """Cassette status 1149781555226828800 (no campaign tag) quoting cassette status
    1149788838430224391 given #حلب_تحترق (aleppo), in the v1.1 quote shape."""
    base = {s["id_str"]: s for s in v11_search_body()["statuses"]}
    quote = copy.deepcopy(base["1149781555226828800"])
    quoted = copy.deepcopy(base["1149788838430224391"])
    tag = "حلب_تحترق"
    quoted["entities"] = dict(quoted["entities"], hashtags=[
        *quoted["entities"]["hashtags"], {"text": tag, "indices": [0, len(tag) + 1]}])
    quoted["text"] = f"#{tag} {quoted['text']}"
    quote.update(quoted_status=quoted, quoted_status_id_str=quoted["id_str"],
                 quoted_status_id=quoted["id"], is_quote_status=True)
    return quote


def _campaigns_of(tags: set[str]) -> set[str]:
    config = {"aleppo": ["AleppoIsBurning", "حلب_تحترق"], "red": ["MakeFacebookRed"],
              "poiu": ["poiuytrewq"], "hoot": ["HOOT"]}
    return {c for c, ts in config.items() if tags & {normalise_tag(t) for t in ts}}


def _own_tags(s) -> set[str]:
    if not isinstance(s, dict):
        return set()
    return {normalise_tag(h["text"]) for h in s.get("entities", {}).get("hashtags", [])}


@pytest.mark.parametrize("campaign", [None, "aleppo"])
def test_campaign_option_on_a_filtered_grab_takes_only_statuses_carrying_a_tag(tmp_path,
                                                                              campaign):
    """A status kept by the campaign filter only for the tagged status it quotes is stored
    (so is the quoted campaign post), but `--campaign` does not make it a campaign post; nor
    a status carrying only another campaign's tag (the filter keeps every campaign's)."""
    lines = [*statuses(), _quote_of_a_tagged_status()]
    grab = tmp_path / "twitter-stream-2019-07-12.jsonl"
    grab.write_text("".join(json.dumps(s) + "\n" for s in lines))
    cfg = make_config(tmp_path)
    summary = run_import(cfg, [grab], campaign=campaign)
    # plain Python: the lines the filter keeps, every status they hold, and the campaigns
    kept = [s for s in lines if carries(s)]
    itself = [s for s in kept
              if _campaigns_of(_own_tags(s) | _own_tags(s.get("retweeted_status")))]
    stored = [x for s in kept for x in (s, s.get("retweeted_status"), s.get("quoted_status"),
                                         (s.get("retweeted_status") or {}).get("quoted_status"))
              if x]
    want = {(c, x["id_str"]) for x in stored for c in _campaigns_of(_own_tags(x))}
    want |= {(c, s["id_str"]) for s in kept if s.get("retweeted_status")
             for c in _campaigns_of(_own_tags(s["retweeted_status"]))}
    # `--campaign` takes the kept statuses carrying one of its own tags themselves, not those
    # carrying only another campaign's (they join that one by their tags)
    mine = [s for s in itself if campaign in _campaigns_of(
        _own_tags(s) | _own_tags(s.get("retweeted_status")))]
    if campaign:
        want |= {(campaign, s["id_str"]) for s in mine}
        assert len(mine) < len(itself)      # the grab holds other campaigns' statuses too
    assert ("aleppo", "1149788838430224391") in want
    assert ("aleppo", "1149781555226828800") not in want
    assert set(query(cfg, "select campaign, post_id from norm.campaign_posts")) == want
    assert {r[0] for r in query(cfg, "select post_id from norm.posts")} == \
        {x["id_str"] for x in stored}
    got = build_and_query(cfg, "select campaign, posts from marts.campaign_summary "
                               "where posts > 0 order by campaign")
    assert got == sorted(Counter(c for c, _ in want).items())
    assert summary.scan.matched == len(kept)
    quoting = len(kept) - len(itself)
    assert quoting == 2     # the test's quote and grab_helpers' quote of a tagged status
    others = (f" ({len(itself) - len(mine):,} of them only other campaigns', not given "
              "--campaign)" if campaign else "")
    assert (f"statuses ({len(itself):,} carrying a campaign tag{others}, {quoting:,} more "
            "quoting a status that carries one)") in summary.line()
    # `tracker rebuild` normalises the raw pages again: the same links
    con = connect(cfg.warehouse, lake=cfg.lake)
    try:
        rebuild(con, cfg.campaigns)
    finally:
        con.close()
    assert set(query(cfg, "select campaign, post_id from norm.campaign_posts")) == want
