"""Mastodon collector: Mastodon.py's real request path, HTTP mocked with `responses`, built
from a real recorded tag timeline (tests/fixtures/shared/mastodon)."""

from __future__ import annotations

import copy
import datetime as dt
import json
import re
from urllib.parse import parse_qs, urlparse

import pytest
import requests
import responses

from tracker.config import load_config
from tracker.models import build
from tracker.pipeline import collect
from tracker.sources import retry
from tracker.sources.mastodon import snowflake
from tracker.store import ledger
from tracker.store.db import connect

from .cassettes import body, body_json
from .conftest import FIXTURES, write_config

CASSETTE = ("mastodon", "mastodonpy_cassette_hashtag_tl.yaml")
TIMELINE = body(*CASSETTE, uri_contains="timelines/tag/hoot")   # real: one #hoot status
REAL = json.loads(TIMELINE)[0]
INSTANCE = body_json(*CASSETTE, uri_contains="/api/v2/instance")
START = dt.date(2026, 7, 30)

CONFIG = """
[warehouse]
path = "wh/tracker.duckdb"
[[campaigns]]
name = "hoot"
hashtags = ["hoot", "#Hoot"]
start = 2026-07-30
[[campaigns.sources]]
type = "mastodon"
instances = {instances}
{extra}
"""


def statuses(n: int, first_id: int, host: str = "localhost:3000") -> list[dict]:
    """n statuses in the real status shape, newest first, ids first_id .. first_id+n-1."""
    out = []
    for i in reversed(range(n)):
        s = copy.deepcopy(REAL)
        sid = str(first_id + i)
        s["id"] = sid
        s["uri"] = f"https://{host}/users/u{i}/statuses/{sid}"
        s["url"] = f"https://{host}/@u{i}/{sid}"
        s["account"]["url"] = f"https://{host}/@u{i}"
        s["account"]["followers_count"] = 100 + i
        out.append(s)
    return out


class FakeMastodon:
    """Tag timelines per (host, min_id); instance info per host; every call recorded."""

    def __init__(self, rsps: responses.RequestsMock):
        self.timelines: dict[tuple[str, str | None], tuple[int, dict, bytes | Exception]] = {}
        self.instance: dict[str, dict] = {}
        self.calls: list[tuple[str, str, dict]] = []
        rsps.add_callback(responses.GET, re.compile(r"https://[^/]+/api/v1/timelines/tag/.*"),
                          callback=self._timeline)
        rsps.add_callback(responses.GET, re.compile(r"https://[^/]+/api/v2/instance/?"),
                          callback=self._instance)

    def page(self, host: str, min_id: str | None, payload, status: int = 200,
             headers: dict | None = None) -> None:
        if isinstance(payload, list):
            payload = json.dumps(payload).encode()
        self.timelines[(host, min_id)] = (status, headers or {}, payload)

    def _timeline(self, request):
        url = urlparse(request.url)
        params = {k: v[0] for k, v in parse_qs(url.query).items()}
        self.calls.append((url.netloc, url.path, params))
        status, headers, payload = self.timelines.get((url.netloc, params.get("min_id")),
                                                      (200, {}, b"[]"))
        if isinstance(payload, Exception):
            raise payload
        return status, {"content-type": "application/json", **headers}, payload

    def _instance(self, request):
        host = urlparse(request.url).netloc
        self.calls.append((host, "/api/v2/instance/", {}))
        return 200, {"content-type": "application/json"}, json.dumps(
            self.instance.get(host, INSTANCE))


@pytest.fixture
def setup(tmp_path, monkeypatch):
    sleeps: list[float] = []
    monkeypatch.setattr(retry, "backoff_sleep", sleeps.append)

    def make(instances=("a.example", "b.example"), extra=""):
        cfg = load_config(write_config(tmp_path, CONFIG.format(
            instances=json.dumps(list(instances)), extra=extra)))
        return cfg, connect(cfg.warehouse)
    make.sleeps = sleeps
    return make


def run(con, cfg):
    return collect(con, cfg)[0]


FIRST = snowflake(dt.datetime.combine(START, dt.time(), dt.UTC))


@responses.activate
def test_backfill_pages_forward_with_min_id_then_steady_state(setup):
    cfg, con = setup(instances=("a.example",))
    m = FakeMastodon(responses.mock)
    full = statuses(40, 1000)
    m.page("a.example", FIRST, full)
    m.page("a.example", "1039", TIMELINE)  # the real response: one status, newer
    s = run(con, cfg)
    timeline_calls = [c for c in m.calls if "timelines" in c[1]]
    assert [c[2]["min_id"] for c in timeline_calls] == [FIRST, "1039"]
    assert timeline_calls[0][1] == "/api/v1/timelines/tag/hoot"  # one tag: hoot == #Hoot
    assert all(c[2]["limit"] == "40" for c in timeline_calls)
    assert (s.status, s.pages, s.posts_new) == ("ok", 2, 41)
    assert s.requests == 3  # two timeline pages + Mastodon.py's one instance check
    assert ledger.get_cursor(con, "hoot", "mastodon") == {
        "min_id": {"a.example #hoot": REAL["id"]}}
    stored = {r[0] for r in con.execute("select payload::varchar from raw.pages").fetchall()}
    assert TIMELINE.decode() in stored  # byte for byte
    assert con.execute("select followers from norm.author_observations "
                       "where author_id = ?", [REAL["account"]["url"]]).fetchone() == (
        REAL["account"]["followers_count"],)
    assert con.execute("select post_id from norm.posts where post_id = ?",
                       [REAL["uri"]]).fetchone() == (REAL["uri"],)

    # steady state: one request per instance and tag (plus the instance check)
    s = run(con, cfg)
    timeline_calls = [c for c in m.calls if "timelines" in c[1]]
    assert timeline_calls[-1][2]["min_id"] == REAL["id"] and len(timeline_calls) == 3
    assert (s.status, s.pages, s.posts_new, s.requests) == ("ok", 0, 0, 2)
    con.close()


@responses.activate
def test_same_status_on_two_instances_is_one_post(setup):
    cfg, con = setup()
    m = FakeMastodon(responses.mock)
    m.page("a.example", FIRST, TIMELINE)
    seen_on_b = json.loads(TIMELINE)
    seen_on_b[0]["id"] = "5550001"  # another instance, another local id, same uri
    m.page("b.example", FIRST, seen_on_b)
    s = run(con, cfg)
    assert s.status == "ok" and s.posts_new == 1 and s.duplicates == 1
    assert con.execute("select count(*) from norm.posts").fetchone() == (1,)
    assert ledger.get_cursor(con, "hoot", "mastodon")["min_id"] == {
        "a.example #hoot": REAL["id"], "b.example #hoot": "5550001"}
    con.close()


@responses.activate
def test_restart_resumes_from_committed_min_id(setup):
    cfg, con = setup(instances=("a.example",), extra="max_pages = 1")
    m = FakeMastodon(responses.mock)
    m.page("a.example", FIRST, statuses(40, 1000))
    m.page("a.example", "1039", statuses(40, 1040))
    m.page("a.example", "1079", statuses(3, 1080))
    assert run(con, cfg).posts_new == 40
    assert run(con, cfg).posts_new == 40
    assert run(con, cfg).posts_new == 3
    mins = [c[2]["min_id"] for c in m.calls if "timelines" in c[1]]
    assert mins == [FIRST, "1039", "1079"]
    assert con.execute("select count(*) from norm.posts").fetchone() == (83,)
    con.close()


@responses.activate
def test_401_names_the_instance_and_other_instances_carry_on(setup):
    cfg, con = setup()
    m = FakeMastodon(responses.mock)
    m.page("a.example", FIRST, b'{"error":"This API requires an authenticated user"}',
           status=401)
    m.page("b.example", FIRST, TIMELINE)
    s = run(con, cfg)
    assert s.status == "partial" and s.posts_new == 1
    assert s.message.startswith("a.example: 401 Unauthorized: its public hashtag timeline "
                                "needs an account")
    assert 'tokens = { "a.example" = "ENV_VAR_NAME" }' in s.message
    con.close()


@responses.activate
def test_hashtag_feed_closed_to_visitors_is_named(setup):
    cfg, con = setup(instances=("a.example",))
    m = FakeMastodon(responses.mock)
    closed = copy.deepcopy(INSTANCE)
    closed["configuration"]["timelines_access"]["hashtag_feeds"] = {
        "local": "authenticated", "remote": "disabled"}
    m.instance["a.example"] = closed
    s = run(con, cfg)  # the server answers [] to visitors
    assert s.status == "failed"
    assert "a.example: its public hashtag timeline is closed to visitors" in s.message
    con.close()


@responses.activate
def test_token_for_an_instance_is_sent_and_required(setup, monkeypatch):
    cfg, con = setup(instances=("a.example",), extra='tokens = { "a.example" = "A_TOKEN" }')
    m = FakeMastodon(responses.mock)
    m.page("a.example", FIRST, TIMELINE)
    s = run(con, cfg)
    assert s.status == "failed" and s.message.startswith("A_TOKEN is not set (needed by "
                                                         "instance a.example")
    monkeypatch.setenv("A_TOKEN", "secret-a-token")
    s = run(con, cfg)
    assert s.status == "ok" and s.posts_new == 1
    sent = [c.request.headers.get("Authorization") for c in responses.calls]
    assert "Bearer secret-a-token" in sent
    con.close()


@responses.activate
def test_429_ends_run_with_resume_time_and_no_sleep(setup):
    cfg, con = setup(instances=("a.example",))
    m = FakeMastodon(responses.mock)
    reset = (dt.datetime.now(dt.UTC) + dt.timedelta(minutes=4)).replace(microsecond=0)
    m.page("a.example", FIRST, b'{"error":"Too many requests"}', status=429,
           headers={"X-RateLimit-Reset": reset.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
                    "X-RateLimit-Remaining": "0"})
    s = run(con, cfg)
    assert s.status == "rate_limited" and setup.sleeps == []
    assert abs((s.resume_after - reset).total_seconds()) < 5
    assert len([c for c in m.calls if "timelines" in c[1]]) == 1
    assert run(con, cfg).status == "deferred"
    con.close()


@responses.activate
def test_500_and_timeout_are_retried_then_recorded(setup):
    cfg, con = setup()
    m = FakeMastodon(responses.mock)
    m.page("a.example", FIRST, b"<html>oops</html>", status=500)
    m.page("b.example", FIRST, requests.exceptions.ConnectTimeout("timed out"))
    s = run(con, cfg)
    assert s.status == "failed"
    assert "a.example: server error 500 (gave up after 3 attempts)" in s.message
    assert "b.example: network error or timeout (gave up after 3 attempts)" in s.message
    assert len([c for c in m.calls if "timelines" in c[1]]) == 6
    assert len(setup.sleeps) == 4
    con.close()


@responses.activate
def test_malformed_json_is_quarantined(setup):
    cfg, con = setup(instances=("a.example",))
    m = FakeMastodon(responses.mock)
    m.page("a.example", FIRST, b'[{"id": "1", "uri": ')
    s = run(con, cfg)
    assert s.status == "failed" and "malformed response" in s.message
    assert con.execute("select raw from ledger.quarantine").fetchone() == ('[{"id": "1", "uri": ',)
    assert con.execute("select count(*) from raw.pages").fetchone() == (0,)
    m.page("a.example", FIRST, b'{"not": "a list"}')
    s = run(con, cfg)
    assert s.status == "failed" and "expected a JSON array" in s.message
    con.close()


@responses.activate
def test_empty_tag_is_reported_not_failed(setup):
    cfg, con = setup(instances=("a.example",))
    FakeMastodon(responses.mock)
    s = run(con, cfg)
    assert s.status == "ok" and s.pages == 0
    assert s.message == ("a.example returned no posts for #hoot (none yet, or its hashtag feed "
                         "is not public)")
    con.close()


@responses.activate
def test_429_without_reset_header_waits_the_default_window(setup):
    cfg, con = setup()
    m = FakeMastodon(responses.mock)
    m.page("a.example", FIRST, b'{"error":"Too many requests"}', status=429)
    m.page("b.example", FIRST, TIMELINE)
    before = dt.datetime.now(dt.UTC)
    s = run(con, cfg)
    assert s.status == "rate_limited" and setup.sleeps == [] and s.posts_new == 1  # b carried on
    assert 4.5 * 60 < (s.resume_after - before).total_seconds() < 5.5 * 60
    assert len([c for c in m.calls if c[0] == "a.example" and "timelines" in c[1]]) == 1
    con.close()


@responses.activate
def test_status_read_on_two_instances_keeps_the_largest_counts_and_one_handle(setup):
    """A remote instance (a) saw more reblogs than the status's home instance (b, read
    later), which saw more favourites: each count is the largest seen, not the last read's.
    The account is remote on a (`user@server`) and local on b (`acct` without a server):
    one handle, with its server, either way."""
    cfg, con = setup()
    m = FakeMastodon(responses.mock)
    host = urlparse(REAL["account"]["url"]).netloc
    remote = json.loads(TIMELINE)
    remote[0].update(id="5550001", favourites_count=2, reblogs_count=3)
    remote[0]["account"] = dict(remote[0]["account"], id="77",
                                acct=f"{REAL['account']['acct']}@{host}")
    home = json.loads(TIMELINE)
    home[0].update(favourites_count=5, reblogs_count=1)
    m.page("a.example", FIRST, remote)
    m.page("b.example", FIRST, home)
    assert run(con, cfg).status == "ok"
    build(con, cfg.campaigns)
    assert con.execute("select likes, reposts from core.campaign_posts where post_id = ?",
                       [REAL["uri"]]).fetchall() == [(5, 3)]
    assert "@" not in REAL["account"]["acct"]
    assert con.execute("select handle from norm.authors").fetchall() == [
        (f"{REAL['account']['acct']}@{host}",)]
    con.close()


@responses.activate
def test_edit_read_on_another_instance_updates_the_text_and_keeps_the_first(setup):
    edits = FIXTURES / "mastodon" / "mpy_statuses_quote_reblog_poll_edit.jsonl"
    statuses = [json.loads(line) for line in edits.read_text("utf-8").splitlines()]
    after = next(s for s in statuses if s.get("edited_at"))
    before = next(s for s in statuses if s["uri"] == after["uri"] and not s.get("edited_at"))
    cfg, con = setup()
    m = FakeMastodon(responses.mock)
    m.page("a.example", FIRST, [before])
    m.page("b.example", FIRST, [dict(after, id="5550002")])
    assert run(con, cfg).posts_new == 1
    text = con.execute("select text from norm.posts").fetchall()
    assert text == [(re.sub(r"<[^>]+>", "", after["content"]),)]
    versions = con.execute("select text from norm.post_versions order by version_at").fetchall()
    assert versions == [(re.sub(r"<[^>]+>", "", s["content"]),) for s in (before, after)]
    con.close()
