"""`tracker export` on real recorded archives: the counted posts with the columns a researcher
expects, in CSV, JSONL and Parquet, ids only, and the datasheet beside the file.

Expected rows are computed here in plain Python from the twarc2 JSON (membership and followers
at posting with the helpers of test_campaign_membership, which read the JSON too).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from collections import defaultdict

import duckdb
import pytest
from click.testing import CliRunner

import tracker
from tracker.cli import cli
from tracker.models import QUERIES_DIR, build
from tracker.store.db import connect

from .conftest import jsonl
from .import_helpers import make_config, query, run_import
from .test_campaign_membership import TWARC_FILES, ts, twarc2_expected

TAGS = {"gaming", "poiuytrewq"}
CAMPAIGN = """
[[campaigns]]
name = "tw"
hashtags = ["gaming", "POIUYTREWQ"]
[[campaigns.sources]]
type = "x"
name = "x-recent"
extra_query = "-is:retweet"
[[campaigns.sources]]
type = "mastodon"
name = "masto"
instances = ["mastodon.social"]
tokens = { "mastodon.social" = "TRACKER_TEST_MASTO_TOKEN" }
"""


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("export")
    cfg = make_config(tmp, CAMPAIGN)
    run_import(cfg, TWARC_FILES, campaign="tw")
    con = connect(cfg.warehouse)
    try:
        con.execute("insert into ledger.gaps values ('r-gap', 'tw', 'x-recent', "
                    "'2021-04-01 00:00:00+00', '2021-04-01 06:00:00+00', 'rate limited')")
        build(con, cfg.campaigns)
    finally:
        con.close()
    return cfg


def expected_rows() -> dict[str, dict]:
    """id -> the exported row, from the JSON: latest version's content, first creation time,
    links through edit histories, latest engagement, latest handle, followers at posting."""
    want = twarc2_expected()
    deliveries: dict[str, list] = defaultdict(list)   # key -> [(retrieved_at, tweet)]
    version_of: dict[str, str] = {}
    handles: dict[str, tuple] = {}
    for path in TWARC_FILES:
        for page in jsonl(path):
            at = ts(page["__twarc"]["retrieved_at"])
            data = page.get("data")
            tweets = (data if isinstance(data, list) else [data] if data else [])
            for t in tweets + page.get("includes", {}).get("tweets", []):
                history = t.get("edit_history_tweet_ids") or [t["id"]]
                deliveries[history[0]].append((at, t))
                for v in history:
                    version_of[v] = history[0]
            for u in page.get("includes", {}).get("users", []):
                if u["id"] not in handles or handles[u["id"]][0] <= at:
                    handles[u["id"]] = (at, u["username"])
    out = {}
    for key, post in want.counted(TAGS).items():
        seen = deliveries[key]
        latest = max((t for _, t in seen), key=lambda t: ts(t["created_at"]))
        refs = {r["type"]: version_of.get(r["id"], r["id"])
                for r in latest.get("referenced_tweets", [])}
        kind = ("repost" if "retweeted" in refs else "quote" if "quoted" in refs
                else "reply" if "replied_to" in refs else "original")
        last_at = max(at for at, _ in seen)
        metrics = max((t for at, t in seen if at == last_at),
                      key=lambda t: ts(t["created_at"])).get("public_metrics")
        engaged = metrics is not None and kind != "repost"
        out[key] = {
            "platform": "x", "id": key, "url": f"https://x.com/i/web/status/{key}",
            "created_at": post["created"], "author_id": latest["author_id"],
            "author_handle": handles.get(latest["author_id"], (None, None))[1],
            "text": (latest.get("note_tweet") or {}).get("text", latest["text"]),
            "kind": kind, "reply_to_id": refs.get("replied_to"),
            "quote_of_id": refs.get("quoted"),
            "parent_id": refs.get("retweeted", refs.get("quoted", refs.get("replied_to"))),
            "hashtags": sorted({h["tag"].lower() for _, t in seen
                                for h in t.get("entities", {}).get("hashtags", [])}),
            "mentions": sorted({m["username"].lower() for _, t in seen
                                for m in t.get("entities", {}).get("mentions", [])}),
            "lang": latest.get("lang") or "und",
            **{col: metrics.get(field) if engaged else None for col, field in (
                ("likes", "like_count"), ("reposts", "retweet_count"),
                ("replies", "reply_count"), ("quotes", "quote_count"),
                ("impressions", "impression_count"))},
            "engagement_observed_at": last_at if engaged else None,
            "followers_at_post": want.followers_at(post), "synthetic": False,
        }
    return out


def _time(value):
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC)
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))


def typed(row: dict) -> dict:
    """A row read back from any format, in the types of expected_rows()."""
    out = {}
    for k, v in row.items():
        if k in ("created_at", "engagement_observed_at"):
            v = _time(v)
        elif k in ("hashtags", "mentions"):
            v = sorted(x.lower() for x in (v.split() if isinstance(v, str) else v))
        elif k in ("likes", "reposts", "replies", "quotes", "impressions", "followers_at_post"):
            v = None if v in ("", None) else int(v)
        elif k == "synthetic":
            v = v if isinstance(v, bool) else v == "true"
        elif v == "":
            v = None
        out[k] = v
    return out


def read_back(path, fmt: str) -> list[dict]:
    if fmt == "csv":
        with open(path, newline="", encoding="utf-8") as f:
            return list(csv.DictReader(f))
    if fmt == "jsonl":
        return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    con = duckdb.connect()
    cur = con.execute("select * from read_parquet(?)", [str(path)])
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


def invoke(cfg, *args, **kw):
    return CliRunner().invoke(cli, ["--config", str(cfg.path), *args], **kw)


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "parquet"])
def test_export_holds_exactly_the_counted_posts_with_their_columns(built, tmp_path, fmt):
    out = tmp_path / f"tw.{fmt}"
    res = invoke(built, "export", "--campaign", "tw", "--format", fmt, "-o", str(out))
    want = expected_rows()
    assert res.exit_code == 0, res.output
    assert res.output == (f"Wrote {len(want)} posts to {out}\n"
                          f"Datasheet: {tmp_path / 'tw.README.md'}\n")
    rows = [typed(r) for r in read_back(out, fmt)]
    assert list(rows[0]) == ["platform", "id", "url", "created_at", "author_id",
                             "author_handle", "text", "kind", "reply_to_id", "quote_of_id",
                             "parent_id", "hashtags", "mentions", "lang", "likes", "reposts",
                             "replies", "quotes", "impressions", "engagement_observed_at",
                             "followers_at_post", "synthetic"]
    assert {r["id"]: r for r in rows} == want
    assert [r["created_at"] for r in rows] == sorted(r["created_at"] for r in rows)
    # the campaign's figures count the same posts
    assert query(built, "select posts from marts.campaign_summary where campaign = 'tw'") == [
        (len(want),)]


def test_unknown_engagement_and_followers_stay_unknown(built, tmp_path):
    out = tmp_path / "tw.csv"
    invoke(built, "export", "--campaign", "tw", "-o", str(out))
    rows = read_back(out, "csv")
    want = expected_rows()
    # X v2 pages without impression_count: unknown, written empty, never 0
    assert {r["impressions"] for r in rows} == {""}
    reposts = [r for r in rows if r["kind"] == "repost"]
    assert reposts and all(r["likes"] == "" for r in reposts)
    no_followers = {k for k, r in want.items() if r["followers_at_post"] is None}
    assert {r["id"] for r in rows if r["followers_at_post"] == ""} == no_followers


def test_since_until_cut_local_days_and_stdout_has_only_data(built):
    res = invoke(built, "export", "--campaign", "tw", "--since", "2021-04-01", "--until",
                 "2022-10-03", "--format", "jsonl")
    assert res.exit_code == 0, res.output
    lo, hi = dt.date(2021, 4, 1), dt.date(2022, 10, 3)
    want = {k for k, r in expected_rows().items() if lo <= r["created_at"].date() <= hi}
    assert want and len(want) < len(expected_rows())
    got = [json.loads(line) for line in res.stdout.splitlines()]
    assert [r["id"] for r in got] and {r["id"] for r in got} == want

    res = invoke(built, "export", "--campaign", "tw", "--format", "csv")
    rows = list(csv.reader(io.StringIO(res.stdout)))
    assert rows[0][:3] == ["platform", "id", "url"]
    assert {r[1] for r in rows[1:]} == set(expected_rows())


def test_ids_only_and_the_datasheet(built, tmp_path, monkeypatch):
    monkeypatch.setenv("TRACKER_TEST_MASTO_TOKEN", "secret-token-value-123")
    out = tmp_path / "ids.csv"
    res = invoke(built, "export", "--campaign", "tw", "--ids-only", "-o", str(out))
    want = expected_rows()
    sheet = tmp_path / "ids.README.md"
    assert res.output == f"Wrote {len(want)} post ids to {out}\nDatasheet: {sheet}\n"
    rows = read_back(out, "csv")
    assert [list(r) for r in rows[:1]] == [["platform", "id"]]
    assert sorted(r["id"] for r in rows) == sorted(want)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ids.README.md", "ids.csv"]

    text = sheet.read_text(encoding="utf-8")
    # which posts count: the model's own header, not re-typed
    header = []
    for line in (QUERIES_DIR / "core" / "campaign_posts.sql").read_text().splitlines():
        if line.strip() == "--" or not line.startswith("--"):
            break
        if not line[2:].strip().startswith("@"):
            header.append(line[2:].strip())
    assert " ".join(header) in text
    assert "- Hashtags: #gaming, #POIUYTREWQ" in text
    assert "- Window: open (no start or end configured)" in text
    assert "- Time zone: UTC" in text
    assert f"| x | {len(want)} |" in text
    first, last = min(r["created_at"] for r in want.values()), max(
        r["created_at"] for r in want.values())
    assert f"| x | {len(want)} | {first:%Y-%m-%d %H:%M} UTC | {last:%Y-%m-%d %H:%M} UTC |" in text
    assert "query `(#gaming OR #POIUYTREWQ) -is:retweet`" in text
    assert "Mastodon hashtag timelines (#gaming, #POIUYTREWQ) on mastodon.social" in text
    assert "| x-recent | 2021-04-01 00:00 UTC | 2021-04-01 06:00 UTC | rate limited |" in text
    (run_id, started), = query(built, "select run_id, started_at from ledger.runs "
                                      "where kind = 'import'")
    assert f"| import | import | 1 | {started.astimezone(dt.UTC):%Y-%m-%d %H:%M} UTC |" in text
    assert f"hashtag-tracker {tracker.__version__}" in text
    assert "TRACKER_TEST_MASTO_TOKEN" not in text and "secret-token" not in text
    assert re.search(r"^\| id \| the platform's identity of the post", text, re.M)


def test_export_refuses_path_games_and_keeps_existing_files(built, tmp_path):
    out = tmp_path / "tw.csv"
    out.write_text("mine\n")
    res = invoke(built, "export", "--campaign", "tw", "-o", str(out))
    assert (res.exit_code, res.output) == (
        1, f"Error: {out}: already exists (use --force to replace it)\n")
    assert out.read_text() == "mine\n"
    # the datasheet would overwrite a file too: nothing is written
    (tmp_path / "b.README.md").write_text("notes\n")
    res = invoke(built, "export", "--campaign", "tw", "-o", str(tmp_path / "b.csv"))
    assert res.output == (f"Error: {tmp_path / 'b.README.md'}: already exists (use --force "
                          "to replace it)\n")
    assert not (tmp_path / "b.csv").exists()
    # a symlink is replaced with --force, its target is never written through
    target = tmp_path / "target.txt"
    target.write_text("keep\n")
    link = tmp_path / "link.csv"
    link.symlink_to(target)
    assert invoke(built, "export", "--campaign", "tw", "-o", str(link)).exit_code == 1
    assert invoke(built, "export", "--campaign", "tw", "-o", str(link), "--force"
                  ).exit_code == 0
    assert target.read_text() == "keep\n" and not link.is_symlink()
    # a quote in the file name is a file name, not SQL
    odd = tmp_path / "it's.csv"
    assert invoke(built, "export", "--campaign", "tw", "-o", str(odd)).exit_code == 0
    assert len(read_back(odd, "csv")) == len(expected_rows())
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".tracker-export")]
    res = invoke(built, "export", "--campaign", "tw", "--format", "parquet")
    assert res.output == "Error: --format parquet needs -o FILE (it is a binary file)\n"
    res = invoke(built, "export", "--campaign", "nope")
    assert res.exit_code == 1 and res.output.startswith("Error: tracker.toml: no campaign "
                                                        "named 'nope'")
