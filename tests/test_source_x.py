"""X collector: tweepy's real request path, HTTP mocked with `responses` and real payloads."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
import requests
import responses

from tracker.config import load_config
from tracker.pipeline import collect
from tracker.sources import retry
from tracker.sources import x as x_source
from tracker.store import ledger
from tracker.store.db import connect

from .cassettes import body
from .conftest import fixture_path, write_config

RECENT = "https://api.twitter.com/2/tweets/search/recent"
ALL = "https://api.twitter.com/2/tweets/search/all"
# Page 1: a real search/recent response (10 tweets, a next_token); page 2: a real v2 page with
# expansions (users with followers, a referenced tweet) and no next_token.
PAGE1 = body("x_v2", "tweepy_cassette_search_recent_tweets.yaml", uri_contains="recent")
PAGE1_NEXT = json.loads(PAGE1)["meta"]["next_token"]
PAGE1_NEWEST = json.loads(PAGE1)["meta"]["newest_id"]
_two = json.loads(fixture_path("x_v2", "twarc2_two_tweets.jsonl").read_text().splitlines()[0])
_two.pop("__twarc")
PAGE2 = json.dumps(_two).encode()
EMPTY = b'{"meta":{"result_count":0}}'
# What the X search asks for: what warehouse/normalise/x_v2_page.sql reads (media, places,
# edit history, context posts and their authors, long posts), as query-string parameters.
ASKED = {
    "expansions": {"author_id", "referenced_tweets.id", "referenced_tweets.id.author_id",
                   "attachments.media_keys", "geo.place_id"},
    "tweet.fields": {"created_at", "lang", "public_metrics", "entities", "conversation_id",
                     "referenced_tweets", "in_reply_to_user_id", "note_tweet", "attachments",
                     "geo", "edit_history_tweet_ids"},
    "user.fields": {"public_metrics", "created_at", "verified"},
    "media.fields": {"media_key", "type", "url", "preview_image_url", "alt_text", "variants"},
    "place.fields": {"id", "full_name", "country_code"},
}


def asked(params: dict[str, str]) -> dict[str, set[str]]:
    """The expansions and fields a request asked for."""
    return {k: set(v.split(",")) for k, v in params.items() if k in ASKED or
            k.endswith(".fields")}


def recorded_line(name: str, n: int) -> dict[str, Any]:
    return json.loads(fixture_path("x_v2", name).read_text(encoding="utf-8").splitlines()[n])


def as_search_page(line: dict[str, Any], next_token: str | None = None) -> dict[str, Any]:
    """A recorded twarc2 line as a search page: its data (one object on a streaming line) as
    the list search returns, its includes unchanged, a meta; twarc's __twarc dropped."""
    data = line["data"] if isinstance(line["data"], list) else [line["data"]]
    ids = sorted((t["id"] for t in data), key=int)
    meta = {"newest_id": ids[-1], "oldest_id": ids[0], "result_count": len(data)}
    return {"data": data, "includes": line["includes"],
            "meta": {**meta, **({"next_token": next_token} if next_token else {})}}


# The X API v2 data dictionary (developer.x.com .../data-dictionary/object-model: tweet, media,
# place): a tweet carries id, text and edit_history_tweet_ids by default, the tweet.fields asked
# and the id field of each expansion asked; includes.media comes only with the expansion
# attachments.media_keys, each item with media_key and type by default plus the media.fields
# asked; includes.places only with geo.place_id, with id and full_name plus the place.fields.
# (Users are left as recorded: not what these tests are about.)
EXPANSION_FIELD = {"author_id": "author_id", "referenced_tweets.id": "referenced_tweets",
                   "attachments.media_keys": "attachments", "geo.place_id": "geo"}
INCLUDED = {"media": ("attachments.media_keys", {"media_key", "type"}, "media.fields"),
            "places": ("geo.place_id", {"id", "full_name"}, "place.fields")}


def as_x_answers(page: dict[str, Any]) -> Callable[[dict[str, str]], bytes]:
    """The recorded page cut down to what X sends for the request's expansions and fields."""
    def answer(params: dict[str, str]) -> bytes:
        want = asked(params)
        expansions = want.get("expansions", set())
        tweet_keys = ({"id", "text", "edit_history_tweet_ids"} | want.get("tweet.fields", set())
                      | {EXPANSION_FIELD[e] for e in expansions if e in EXPANSION_FIELD})

        def tweet(t: dict[str, Any]) -> dict[str, Any]:
            return {k: v for k, v in t.items() if k in tweet_keys}
        includes = dict(page["includes"])
        if "tweets" in includes:
            includes["tweets"] = [tweet(t) for t in includes["tweets"]]
        for key, (expansion, default, fields) in INCLUDED.items():
            if key in includes and expansion in expansions:
                keep = default | want.get(fields, set())
                includes[key] = [{k: v for k, v in o.items() if k in keep}
                                 for o in includes[key]]
            else:
                includes.pop(key, None)
        return json.dumps({**page, "data": [tweet(t) for t in page["data"]],
                           "includes": includes}).encode()
    return answer


def expected_media_and_places(page: dict[str, Any]) -> tuple[set[tuple], set[tuple]]:
    """From a page, in plain Python: each result post's media rows (post id, position, key,
    type, url: a photo's url or a video's mp4 variant of the highest bit rate, preview, alt
    text) and its place (post id, full name, country code)."""
    media = {m["media_key"]: m for m in page["includes"].get("media", [])}
    places = {p["id"]: p for p in page["includes"].get("places", [])}
    kinds = {"photo": "photo", "video": "video", "animated_gif": "gif"}
    rows, where = set(), set()
    for t in page["data"]:
        post = (t.get("edit_history_tweet_ids") or [t["id"]])[0]
        for position, key in enumerate((t.get("attachments") or {}).get("media_keys", []), 1):
            m = media.get(key, {})
            mp4 = [v for v in m.get("variants", []) if v.get("content_type") == "video/mp4"]
            best = max(mp4, key=lambda v: v.get("bit_rate", 0))["url"] if mp4 else None
            rows.add((post, position, key, kinds.get(m.get("type"), "unknown"),
                      m.get("url") or best, m.get("preview_image_url"), m.get("alt_text")))
        place = places.get((t.get("geo") or {}).get("place_id"), {})
        where.add((post, place.get("full_name"), place.get("country_code")))
    return rows, where
RECORDED_AT = dt.datetime(2022, 10, 8, tzinfo=dt.UTC)  # just after the cassette's tweets

CONFIG = """
[warehouse]
path = "wh/tracker.duckdb"
[[campaigns]]
name = "aleppo"
hashtags = ["AleppoIsBurning", "POIUYTREWQ"]
start = {start}
[[campaigns.sources]]
type = "x"
endpoint = "{endpoint}"
extra_query = "-is:retweet"
{extra}
[[campaigns.sources]]
type = "simulated"
platform = "mastodon"
posts = 40
"""


class FakeX:
    """Answers search requests by next_token; records every request's parameters."""

    def __init__(self, rsps: responses.RequestsMock, url: str = RECENT):
        self.pages: dict[str | None, tuple[int, dict, bytes]] = {}
        self.calls: list[dict[str, str]] = []
        rsps.add_callback(responses.GET, url, callback=self._answer)

    def page(self, token: str | None, body: bytes | Exception | Callable[[dict], bytes],
             status: int = 200, headers: dict | None = None) -> None:
        """`body` as is, or `body(params)`: the answer to the request's parameters."""
        self.pages[token] = (status, headers or {}, body)

    def _answer(self, request):
        params = {k: v[0] for k, v in parse_qs(urlparse(request.url).query).items()}
        self.calls.append(params)
        status, headers, payload = self.pages[params.get("next_token")]
        if isinstance(payload, Exception):
            raise payload
        if callable(payload):
            payload = payload(params)
        return status, {"content-type": "application/json", **headers}, payload


@pytest.fixture
def setup(tmp_path, monkeypatch):
    monkeypatch.setenv("X_BEARER_TOKEN", "test-bearer-token")
    sleeps: list[float] = []
    monkeypatch.setattr(retry, "backoff_sleep", sleeps.append)

    def make(endpoint="recent", extra="", start=None, now=None):
        if now is not None:  # the recorded tweets are from October 2022
            monkeypatch.setattr(x_source, "utcnow", lambda: now)
        start = start or ((now or dt.datetime.now(dt.UTC)).date()
                          - dt.timedelta(days=2)).isoformat()
        cfg = load_config(write_config(tmp_path, CONFIG.format(endpoint=endpoint, extra=extra,
                                                               start=start)))
        return cfg, connect(cfg.warehouse)
    make.sleeps = sleeps
    yield make


def run(con, cfg, source="x"):
    return collect(con, cfg, source=source)[0]


@responses.activate
def test_backfill_two_pages_then_steady_state(setup):
    cfg, con = setup(now=RECORDED_AT)
    x = FakeX(responses.mock)
    x.page(None, PAGE1)
    x.page(PAGE1_NEXT, PAGE2)
    s = run(con, cfg)
    assert (s.status, s.requests, s.pages, s.posts_new) == ("ok", 2, 2, 12)
    first = x.calls[0]
    assert first["query"] == "(#AleppoIsBurning OR #POIUYTREWQ) -is:retweet"
    assert first["max_results"] == "100" and "start_time" in first and "since_id" not in first
    assert asked(first) == ASKED                                 # see test_search_asks_...
    assert x.calls[1]["next_token"] == PAGE1_NEXT
    assert x.calls[1]["start_time"] == first["start_time"]
    # raw pages byte for byte, with provenance
    stored = {r[0] for r in con.execute("select payload::varchar from raw.pages").fetchall()}
    assert {PAGE1.decode(), PAGE2.decode()} == stored
    req, client = con.execute("select request, client from raw.pages limit 1").fetchone()
    assert req.startswith(RECENT) and client.startswith("tweepy/")
    # follower count at the time, from includes.users
    assert con.execute("select followers from norm.author_observations "
                       "where author_id = '1380086327023169540'").fetchone() == (1,)
    cur = ledger.get_cursor(con, "aleppo", "x")
    assert cur["since_id"] == PAGE1_NEWEST and cur["next_token"] is None

    # steady state: one request with since_id, nothing new, nothing stored
    x.page(None, EMPTY)
    s = run(con, cfg)
    assert (s.status, s.requests, s.pages, s.posts_new) == ("ok", 1, 0, 0)
    assert x.calls[2]["since_id"] == PAGE1_NEWEST and "start_time" not in x.calls[2]
    con.close()


@responses.activate
@pytest.mark.parametrize("endpoint, url", [("recent", RECENT), ("all", ALL)])
def test_search_asks_for_media_places_and_edit_history(setup, endpoint, url):
    cfg, con = setup(endpoint=endpoint, start="2022-10-01", now=RECORDED_AT)
    x = FakeX(responses.mock, url=url)
    x.page(None, EMPTY)
    assert run(con, cfg).status == "ok"
    assert len(x.calls) == 1 and asked(x.calls[0]) == ASKED
    con.close()


@responses.activate
def test_collected_posts_keep_their_media_and_places(setup):
    """Two real recorded pages, served as X answers the collector's request: a post with a
    photo, a place and a quoted post (a filtered-stream line), then a post with a video."""
    cfg, con = setup()
    photo_place = as_search_page(recorded_line("twarc2_streaming_output_with_error.jsonl", 0),
                                 next_token="video")
    video = as_search_page(recorded_line("twarc2_media_tweet.jsonl", 0))
    assert photo_place["includes"]["media"] and photo_place["includes"]["places"]
    x = FakeX(responses.mock)
    x.page(None, as_x_answers(photo_place))
    x.page("video", as_x_answers(video))
    s = run(con, cfg)
    assert (s.status, s.pages, s.posts_new) == ("ok", 2, 3)      # and the quoted post

    media, places = set(), set()
    for page in (photo_place, video):
        rows, where = expected_media_and_places(page)
        media |= rows
        places |= where
    posts = sorted({p for p, _, _ in places})
    assert len(posts) == 2 and {m[3] for m in media} == {"photo", "video"}
    assert {p[1:] for p in places} == {("Malawi", "MW"), (None, None)}
    got = con.execute("select post_id, position, media_id, media_type, url, preview_url, "
                      "alt_text from norm.post_media where platform = 'x' and post_id in ?",
                      [posts]).fetchall()
    assert len(got) == len(media) and set(got) == media
    assert set(con.execute("select post_id, place, country_code from norm.posts "
                           "where platform = 'x' and post_id in ?", [posts]).fetchall()) == places
    con.close()


@responses.activate
def test_crash_mid_backfill_resumes_same_pagination(setup):
    cfg, con = setup()
    x = FakeX(responses.mock)
    x.page(None, PAGE1)
    x.page(PAGE1_NEXT, b'{"title":"Service Unavailable"}', status=503)
    s = run(con, cfg)
    assert s.status == "failed" and "server error 503" in s.message
    assert s.requests == 4 and s.pages == 1 and setup.sleeps == [2.0, 4.0]  # bounded backoff
    cur = ledger.get_cursor(con, "aleppo", "x")
    assert cur["next_token"] == PAGE1_NEXT and cur["pending_newest_id"] == PAGE1_NEWEST
    assert cur["since_id"] is None

    # "restart": a new process continues the same pagination, then advances since_id
    x.page(PAGE1_NEXT, PAGE2)
    s = run(con, cfg)
    assert (s.status, s.requests, s.posts_new) == ("ok", 1, 2)
    assert x.calls[-1]["next_token"] == PAGE1_NEXT
    assert x.calls[-1]["start_time"] == x.calls[0]["start_time"]
    assert ledger.get_cursor(con, "aleppo", "x")["since_id"] == PAGE1_NEWEST
    assert con.execute("select count(*) from norm.posts").fetchone() == (12,)
    con.close()


@responses.activate
def test_same_post_on_two_pages_is_stored_once(setup):
    cfg, con = setup()
    x = FakeX(responses.mock)
    page1 = json.loads(PAGE1)
    overlap = json.loads(PAGE2)
    overlap["data"].append(page1["data"][-1])
    overlap["meta"]["result_count"] = 2
    x.page(None, PAGE1)
    x.page(PAGE1_NEXT, json.dumps(overlap).encode())
    s = run(con, cfg)
    assert s.posts_new == 12 and s.duplicates == 1
    assert con.execute("select count(*) from norm.posts").fetchone() == (12,)
    con.close()


@responses.activate
def test_429_with_reset_header_ends_run_and_defers_next(setup):
    cfg, con = setup()
    x = FakeX(responses.mock)
    reset = int(dt.datetime.now(dt.UTC).timestamp()) + 600
    x.page(None, b'{"title":"Too Many Requests","status":429}', status=429,
           headers={"x-rate-limit-reset": str(reset)})
    s = run(con, cfg)
    assert s.status == "rate_limited" and s.requests == 1 and setup.sleeps == []
    assert int(s.resume_after.timestamp()) == reset
    assert con.execute("select rate_limit_waits from ledger.runs where source = 'x'"
                       ).fetchone() == (1,)
    # the next pass before the reset does not call the API at all
    s = run(con, cfg)
    assert s.status == "deferred" and len(x.calls) == 1 and s.requests == 0
    # other sources carry on
    assert run(con, cfg, "simulated-mastodon").status == "ok"
    con.close()


@responses.activate
def test_429_without_reset_header_does_not_retry(setup):
    cfg, con = setup()
    x = FakeX(responses.mock)
    x.page(None, b'{"title":"Too Many Requests"}', status=429)
    before = dt.datetime.now(dt.UTC)
    s = run(con, cfg)
    assert s.status == "rate_limited" and len(x.calls) == 1 and setup.sleeps == []
    wait = (s.resume_after - before).total_seconds()
    assert 14 * 60 < wait < 16 * 60
    con.close()


@responses.activate
@pytest.mark.parametrize("status, expected", [
    (401, "X_BEARER_TOKEN was refused by the X API (401 Unauthorized)"),
    (403, "access tier (403 Forbidden): recent search needs Basic access"),
])
def test_refused_credentials_fail_this_source_only(setup, status, expected):
    cfg, con = setup()
    x = FakeX(responses.mock)
    x.page(None, json.dumps({"title": "Unauthorized", "detail": "Unauthorized",
                             "status": status}).encode(), status=status)
    results = collect(con, cfg)
    by = {r.source: r for r in results}
    assert by["x"].status == "failed" and expected in by["x"].message
    assert "test-bearer-token" not in by["x"].message
    assert len(x.calls) == 1
    assert by["simulated-mastodon"].status == "ok"
    con.close()


@responses.activate
def test_missing_token_is_one_clear_line(setup, monkeypatch):
    cfg, con = setup()
    monkeypatch.delenv("X_BEARER_TOKEN")
    s = run(con, cfg)
    assert s.status == "failed"
    assert s.message.startswith("X_BEARER_TOKEN is not set (needed by source 'x' of campaign "
                                "'aleppo')")
    con.close()


@responses.activate
def test_timeout_retries_then_records_failure(setup):
    cfg, con = setup()
    x = FakeX(responses.mock)
    x.page(None, requests.exceptions.ReadTimeout("read timed out"))
    s = run(con, cfg)
    assert s.status == "failed" and "ReadTimeout" in s.message and "3 attempts" in s.message
    assert len(x.calls) == 3 and s.requests == 3 and len(setup.sleeps) == 2
    assert ledger.get_cursor(con, "aleppo", "x") is None
    con.close()


@responses.activate
def test_malformed_json_is_quarantined_not_parsed(setup):
    cfg, con = setup()
    x = FakeX(responses.mock)
    bad = b'{"data":[{"id":"1","text":"cut off'
    x.page(None, bad)
    s = run(con, cfg)
    assert s.status == "failed" and "malformed response" in s.message
    assert con.execute("select count(*) from raw.pages").fetchone() == (0,)
    origin, raw = con.execute("select origin, raw from ledger.quarantine").fetchone()
    assert origin.startswith(RECENT) and raw == bad.decode()
    con.close()


@responses.activate
def test_monthly_budget_stops_before_exceeding(setup):
    cfg, con = setup(extra="monthly_budget = 25")
    x = FakeX(responses.mock)
    page2 = json.loads(PAGE1)
    page2["meta"]["next_token"] = "third"
    x.page(None, PAGE1)
    x.page(PAGE1_NEXT, json.dumps(page2).encode())
    s = run(con, cfg)
    assert s.status == "budget" and "monthly budget of 25 posts" in s.message
    assert [c["max_results"] for c in x.calls] == ["25", "15"]  # never asks for more than left
    cur = ledger.get_cursor(con, "aleppo", "x")
    assert cur["budget"]["read"] == 20 and cur["next_token"] == "third"
    assert con.execute("select count(*) from ledger.gaps where source = 'x' "
                       "and reason like 'monthly budget%'").fetchone() == (1,)
    # the same month: no request at all
    s = run(con, cfg)
    assert s.status == "budget" and len(x.calls) == 2
    con.close()


@responses.activate
def test_recent_search_records_what_it_cannot_reach(setup):
    cfg, con = setup(start="2016-04-22")
    x = FakeX(responses.mock)
    x.page(None, EMPTY)
    s = run(con, cfg)
    assert s.status == "ok" and len(s.gaps) == 1 and "7 days" in s.gaps[0].reason
    assert s.gaps[0].start == dt.datetime(2016, 4, 22, tzinfo=dt.UTC)
    start = dt.datetime.fromisoformat(x.calls[0]["start_time"].replace("Z", "+00:00"))
    assert dt.datetime.now(dt.UTC) - start < dt.timedelta(days=7)
    con.close()


@responses.activate
def test_full_archive_search_from_campaign_start(setup):
    cfg, con = setup(endpoint="all", start="2016-04-22")
    x = FakeX(responses.mock, url=ALL)
    page = body("x_v2", "tweepy_cassette_search_all_tweets.yaml", uri_contains="all")
    nxt = json.loads(page)["meta"]["next_token"]
    x.page(None, page)
    x.page(nxt, EMPTY)
    s = run(con, cfg)
    assert s.status == "ok" and s.posts_new == 10 and not s.gaps
    assert x.calls[0]["start_time"] == "2016-04-22T00:00:00Z"
    con.close()


@responses.activate
def test_since_id_older_than_recent_window_restarts_at_its_edge(setup):
    cfg, con = setup()
    x = FakeX(responses.mock)
    x.page(None, PAGE2)  # a 2021 tweet: far older than 7 days
    x.page("unused", EMPTY)
    run(con, cfg)
    assert ledger.get_cursor(con, "aleppo", "x")["since_id"] == "1394735776701816833"
    x.page(None, EMPTY)
    s = run(con, cfg)
    last = x.calls[-1]
    assert "since_id" not in last and "start_time" in last
    assert s.status == "ok" and len(s.gaps) == 1
    assert s.gaps[0].start.replace(microsecond=0) == dt.datetime(2021, 5, 18, 19, 24, 56,
                                                                 tzinfo=dt.UTC)
    assert "did not run in between" in s.gaps[0].reason
    con.close()


@responses.activate
def test_cli_collect_reports_each_source_and_fails_without_leaking_token(setup, monkeypatch):
    from click.testing import CliRunner

    from tracker.cli import cli

    cfg, con = setup()
    con.close()
    x = FakeX(responses.mock)
    x.page(None, b'{"title":"Unauthorized","status":401}', status=401)
    monkeypatch.setenv("TRACKER_CONFIG", str(cfg.path))
    result = CliRunner().invoke(cli, ["collect"])
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if line.startswith("aleppo/")]
    assert lines[0].startswith("aleppo/x: failed, 0 new posts") and "X_BEARER_TOKEN" in lines[0]
    assert lines[1].startswith("aleppo/simulated-mastodon: ok, 40 new posts")
    assert "test-bearer-token" not in result.output and "Traceback" not in result.output


@responses.activate
def test_campaign_over_before_recent_window_costs_no_request(setup):
    cfg, con = setup(start="2016-04-22")
    text = cfg.path.read_text()
    cfg.path.write_text(text.replace("start = 2016-04-22", "start = 2016-04-22\nend = 2016-05-05"))
    cfg = load_config(cfg.path)
    x = FakeX(responses.mock)
    s = run(con, cfg)
    assert s.status == "ok" and x.calls == [] and "nothing to collect" in s.message
    assert "7 days" in s.gaps[0].reason
    con.close()
