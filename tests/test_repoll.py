"""Engagement re-measured as posts age (`tracker repoll`): each platform's lookup through its
real client (tweepy and Mastodon.py with `responses`, atproto with respx), answered with real
recorded payloads whose counts the test changes, and marts.engagement_at_age against a
plain-Python computation of the same readings."""

from __future__ import annotations

import copy
import datetime as dt
import json
import re
import statistics
from urllib.parse import urlparse

import httpx
import pytest
import responses
import respx

from tracker.config import load_config
from tracker.lookup.hydrate import hydrate
from tracker.lookup.repoll import repoll, single
from tracker.models import build
from tracker.pages import RawPage
from tracker.sources import retry
from tracker.store import ledger
from tracker.store.db import connect
from tracker.store.load import store_batch
from tracker.store.normalise import prepare

from .cassettes import body
from .conftest import FIXTURES, write_config
from .test_source_bluesky import XRPC, session_body
from .x_lookup import FakeLookup, recorded_pool

T0 = dt.datetime(2026, 3, 2, 12, 0, tzinfo=dt.UTC)
HOUR = dt.timedelta(hours=1)
CONFIG = """
[warehouse]
path = "wh/tracker.duckdb"
[repoll]
max_posts = {max_posts}
[[campaigns]]
name = "aleppo"
hashtags = ["AleppoIsBurning"]
[[campaigns.sources]]
type = "x"
{budget}
[[campaigns.sources]]
type = "bluesky"
[[campaigns.sources]]
type = "mastodon"
instances = ["localhost:3000"]
"""
REAL_TWEET, REAL_INCLUDES = recorded_pool()["1558553189766631429"]   # with public_metrics
REAL_BSKY = json.loads((FIXTURES / "bluesky" / "bskyr_getPosts.json").read_text())["posts"][0]
REAL_STATUS = json.loads(body("mastodon", "mastodonpy_cassette_hashtag_tl.yaml",
                              uri_contains="timelines/tag/hoot"))[0]


def tweet(n: int, likes: int, created: dt.datetime = T0) -> tuple[str, tuple[dict, dict]]:
    t = copy.deepcopy(REAL_TWEET)
    tid = str(1_900_000_000_000_000_000 + n)
    t.update(id=tid, created_at=created.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
             edit_history_tweet_ids=[tid])
    t["public_metrics"] = {**t["public_metrics"], "like_count": likes}
    return tid, (t, REAL_INCLUDES)


def metrics(likes: int) -> dict[str, int]:
    return {"like_count": likes, "retweet_count": likes // 2, "reply_count": 1,
            "quote_count": 0}


@pytest.fixture
def env(tmp_path, monkeypatch):
    for var, value in (("X_BEARER_TOKEN", "t"), ("BLUESKY_HANDLE", "tester.bsky.social"),
                       ("BLUESKY_APP_PASSWORD", "app-pass-1234")):
        monkeypatch.setenv(var, value)
    monkeypatch.setattr(retry, "backoff_sleep", lambda s: None)

    def make(max_posts: int = 1000, budget: str = ""):
        cfg = load_config(write_config(tmp_path, CONFIG.format(max_posts=max_posts,
                                                               budget=budget)))
        con = connect(cfg.warehouse)
        prepare(con, cfg.campaigns)
        return cfg, con
    return make


def at(when: dt.datetime):
    return lambda: when


def observations(con, post_id):
    return con.execute("select observed_at, likes from norm.engagement_observations "
                       "where post_id = ? order by observed_at", [post_id]).fetchall()


@responses.activate
def test_x_posts_are_read_again_at_each_age_most_engaged_first(env, tmp_path):
    cfg, con = env(max_posts=2)
    pool = dict(tweet(n, likes) for n, likes in ((1, 5), (2, 50), (3, 1)))
    a, b, c = sorted(pool)
    x = FakeLookup(responses.mock, pool)
    (tmp_path / "ids.txt").write_text("\n".join(pool) + "\n")
    hydrate(con, cfg, "aleppo", [tmp_path / "ids.txt"], clock=at(T0 + 5 * dt.timedelta(
        minutes=1)))
    x.calls.clear()

    # 1 h: two posts may be read (max_posts = 2): the most engaged two, in one request
    x.metrics = {a: metrics(7), b: metrics(60), c: metrics(2)}
    (run,) = repoll(single(con), cfg, platform="x", clock=at(T0 + HOUR + dt.timedelta(
        minutes=5)))
    assert x.asked == [[b, a]]
    assert (run.status, run.due, run.asked, run.read, run.requests) == ("ok", 3, 2, 2, 1)
    polled = con.execute("select post_id, age_seconds, status from ledger.repolls "
                         "order by post_id").fetchall()
    assert polled == [(a, 3600, "read"), (b, 3600, "read")]
    assert [likes for _, likes in observations(con, b)] == [50, 60]
    # the run in the ledger like a collection
    assert con.execute("select kind, source, status, requests from ledger.runs "
                       "where kind = 'repoll'").fetchall() == [("repoll", "repoll-x", "ok", 1)]

    # the next pass (still inside the 1 h window): only c is left
    (run,) = repoll(single(con), cfg, platform="x", clock=at(T0 + HOUR + dt.timedelta(
        minutes=20)))
    assert x.asked[1:] == [[c]] and run.read == 1
    # past the 1 h window (1.5 h) and before 24 h: nothing due, no request, no run
    (run,) = repoll(single(con), cfg, platform="x", clock=at(T0 + 2 * HOUR))
    assert (run.due, len(x.calls), run.run_id) == (0, 2, None)
    # 24 h: c is gone now
    del x.pool[c]
    x.metrics = {a: metrics(9), b: metrics(80)}
    repoll(single(con), cfg, platform="x", clock=at(T0 + 25 * HOUR))
    repoll(single(con), cfg, platform="x", clock=at(T0 + 26 * HOUR))
    assert x.asked[2:] == [[b, a], [c]]
    assert con.execute("select status, reason from ledger.repolls where post_id = ? and "
                       "age_seconds = 86400", [c]).fetchone() == (
        "not_found", f"Not Found Error: Could not find tweet with ids: [{c}].")

    # marts: engagement at each age, against the readings served (plain Python)
    build(con, cfg.campaigns)
    served = {3600: [metrics(7), metrics(60), metrics(2)], 86400: [metrics(9), metrics(80)]}
    rows = con.execute("select age, age_seconds, posts, gone, median_likes, median_reposts, "
                       "median_replies, median_engagement, mean_engagement "
                       "from marts.engagement_at_age where platform = 'x' order by age_seconds"
                       ).fetchall()
    expected = []
    for age, label in ((3600, "1h"), (86400, "24h")):
        ms = served[age]
        eng = [m["like_count"] + m["retweet_count"] + m["reply_count"] + m["quote_count"]
               for m in ms]
        expected.append((label, age, len(ms), 1 if age == 86400 else 0,
                         statistics.median(m["like_count"] for m in ms),
                         statistics.median(m["retweet_count"] for m in ms),
                         statistics.median(m["reply_count"] for m in ms),
                         statistics.median(eng), statistics.mean(eng)))
    assert [r[:4] for r in rows] == [e[:4] for e in expected]
    assert [r[4:] for r in rows] == [pytest.approx(e[4:]) for e in expected]
    # totals keep the latest reading
    latest = dict(con.execute("select post_id, likes from core.campaign_posts").fetchall())
    assert latest == {a: 9, b: 80, c: 2}

    # the report shows the ages, with the mart's definitions
    from tracker.report.campaign import write_report

    page = write_report(con, cfg, cfg.campaign("aleppo"), tmp_path / "out", images=False
                        ).read_text(encoding="utf-8")
    section = page[page.index('id="engagement-at-age"'):]
    section = section[:section.index("</section>")]
    assert 'data-age="x-1h"' in section and 'data-age="x-24h"' in section
    row_24h = section[section.index('data-age="x-24h"'):].split("</tr>")[0]
    cells = re.findall(r'<td class="num">([^<]*)</td>', row_24h)
    e = expected[1]
    assert cells == [str(e[2]), str(e[3]), *(f"{float(v):,.2f}" for v in e[4:8])]
    assert "posts read at that age" in section
    # --since/--until: the readings of the posts made in the period (all posts are of T0's day)
    from tracker.report.data import Window

    def windowed(day: dt.date) -> str:
        html = write_report(con, cfg, cfg.campaign("aleppo"), tmp_path / str(day),
                            Window(day, day), images=False).read_text(encoding="utf-8")
        return html[html.index('id="engagement-at-age"'):].split("</section>")[0]
    same_day = windowed(T0.date())
    assert re.findall(r'<td class="num">([^<]*)</td>', same_day.split('data-age="x-24h"')[1]
                      .split("</tr>")[0]) == cells
    assert "Posts made in the period selected." in same_day
    day_before = windowed(T0.date() - dt.timedelta(days=1))
    assert "data-age=" not in day_before and "No re-polls of these posts yet" in day_before
    con.close()


@responses.activate
def test_x_rate_limit_and_budget(env, tmp_path):
    cfg, con = env(budget="monthly_budget = 10")
    pool = dict(tweet(n, n) for n in range(1, 4))
    ids = sorted(pool)
    x = FakeLookup(responses.mock, pool)
    (tmp_path / "ids.txt").write_text("\n".join(ids) + "\n")
    hydrate(con, cfg, "aleppo", [tmp_path / "ids.txt"], clock=at(T0))      # 3 of 10 read
    ledger.set_cursor(con, "aleppo", "x", {"budget": {"month": "2026-03", "read": 6}}, "r")
    reset = int((T0 + HOUR + dt.timedelta(minutes=30)).timestamp())
    x.fail[2] = (429, {"x-rate-limit-reset": str(reset)}, b"{}")
    (run,) = repoll(single(con), cfg, platform="x", clock=at(T0 + HOUR))
    assert x.asked[1:] == [[ids[2]]]                 # 1 post left of the budget: the most engaged
    assert run.status == "rate_limited" and "monthly budget of 10" in run.message
    assert con.execute("select resume_after from ledger.runs where kind = 'repoll'"
                       ).fetchone()[0] == dt.datetime.fromtimestamp(reset, dt.UTC)
    (later,) = repoll(single(con), cfg, platform="x", clock=at(T0 + HOUR + dt.timedelta(
        minutes=10)))
    assert later.status == "deferred" and len(x.calls) == 2
    con.close()


def bsky_post(n: int, likes: int) -> dict:
    p = copy.deepcopy(REAL_BSKY)
    p["uri"] = f"at://did:plc:ic6zqvuw5ulmfpjiwnhsr2ns/app.bsky.feed.post/3krepoll{n:04d}"
    p["record"]["createdAt"] = T0.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    p["likeCount"], p["repostCount"] = likes, 0
    return p


@respx.mock(assert_all_mocked=True, assert_all_called=False)
def test_bluesky_posts_are_read_25_uris_a_request(env, respx_mock):
    cfg, con = env()
    stored = [bsky_post(n, 1) for n in range(30)]
    store_batch(con, [RawPage("bluesky_posts", "bluesky", json.dumps({"posts": stored}),
                              retrieved_at=T0)], run_id="seed", source="bluesky",
                campaign="aleppo", assign_campaign="aleppo")
    gone = stored[7]["uri"]
    asked: list[list[str]] = []

    def get_posts(request: httpx.Request) -> httpx.Response:
        uris = request.url.params.get_list("uris")
        asked.append(uris)
        posts = [bsky_post(int(u[-4:]), 10 + int(u[-4:])) for u in uris if u != gone]
        for p, u in zip(posts, [u for u in uris if u != gone], strict=True):
            p["uri"] = u
        return httpx.Response(200, json={"posts": posts})

    respx_mock.post(f"{XRPC}/com.atproto.server.createSession").mock(
        return_value=httpx.Response(200, json=session_body()))
    respx_mock.get(f"{XRPC}/app.bsky.feed.getPosts").mock(side_effect=get_posts)
    (run,) = repoll(single(con), cfg, platform="bluesky", clock=at(T0 + HOUR))
    assert [len(a) for a in asked] == [25, 5]
    assert sorted(sum(asked, [])) == sorted(p["uri"] for p in stored)
    assert (run.status, run.read, run.missing) == ("ok", 29, 1)
    assert con.execute("select status from ledger.repolls where post_id = ?", [gone]
                       ).fetchone() == ("not_found",)
    uri = stored[3]["uri"]
    assert [likes for _, likes in observations(con, uri)] == [1, 13]
    con.close()


def status(n: int, favourites: int) -> dict:
    s = copy.deepcopy(REAL_STATUS)
    sid = str(110_000_000_000_000_000 + n)
    s.update(id=sid, uri=f"https://localhost:3000/users/u{n}/statuses/{sid}",
             url=f"https://localhost:3000/@u{n}/{sid}",
             created_at=T0.strftime("%Y-%m-%dT%H:%M:%S.000Z"), favourites_count=favourites)
    s["account"]["url"] = f"https://localhost:3000/@u{n}"
    return s


@responses.activate
def test_mastodon_statuses_are_read_on_their_home_instance(env):
    cfg, con = env()
    stored = [status(n, 1) for n in range(3)]
    store_batch(con, [RawPage("mastodon_statuses", "mastodon", json.dumps(stored),
                              retrieved_at=T0)], run_id="seed", source="mastodon",
                campaign="aleppo", assign_campaign="aleppo")
    paths: list[str] = []

    def answer(request):
        path = urlparse(request.url).path
        paths.append(path)
        n = next(i for i, s in enumerate(stored) if path.endswith("/" + s["id"]))
        if n == 2:
            return 404, {"content-type": "application/json"}, b'{"error":"Record not found"}'
        return 200, {"content-type": "application/json"}, json.dumps(status(n, 5 + n))

    responses.add_callback(responses.GET, re.compile(r"https://localhost:3000/api/v1/statuses/"
                                                     r"\d+"), callback=answer)
    (run,) = repoll(single(con), cfg, platform="mastodon", clock=at(T0 + HOUR))
    assert sorted(paths) == sorted(f"/api/v1/statuses/{s['id']}" for s in stored)
    assert (run.status, run.read, run.missing, run.requests) == ("ok", 2, 1, 3)
    assert [likes for _, likes in observations(con, stored[1]["uri"])] == [1, 6]
    assert con.execute("select status from ledger.repolls where post_id = ?",
                       [stored[2]["uri"]]).fetchone() == ("not_found",)
    con.close()


@responses.activate
def test_the_daemon_runs_the_repoll_pass(env, tmp_path, sim_config):
    import threading

    from tracker.daemon.loader import Loader
    from tracker.daemon.repoll import repoll_job
    from tracker.daemon.service import REPOLL_JOB, Daemon
    from tracker.daemon.spool import Spool
    from tracker.daemon.state import StateFile

    assert REPOLL_JOB not in Daemon(sim_config())._wanted()   # simulated sources only: off
    cfg, con = env()
    assert Daemon(cfg)._wanted()[REPOLL_JOB] == (cfg.repoll.schedule, ())
    posted = dt.datetime.now(dt.UTC) - HOUR - dt.timedelta(minutes=5)
    pool = dict([tweet(1, 3, posted)])
    x = FakeLookup(responses.mock, pool)
    (tmp_path / "ids.txt").write_text("\n".join(pool) + "\n")
    hydrate(con, cfg, "aleppo", [tmp_path / "ids.txt"])
    con.close()
    x.metrics = {next(iter(pool)): metrics(4)}
    loader = Loader(lambda: cfg, Spool(cfg.spool), StateFile(tmp_path / "s.json", 1),
                    threading.Event(), lambda: set())
    assert repoll_job(loader) == "ok"
    assert x.asked[1:] == [list(pool)]
    con = connect(cfg.warehouse, read_only=True)       # the job closed the warehouse
    assert con.execute("select source, status from ledger.runs where kind = 'repoll'"
                       ).fetchall() == [("repoll-x", "ok")]
    assert con.execute("select count(*) from ledger.repolls").fetchone() == (1,)
    con.close()


def test_repoll_config_defaults_and_errors(tmp_path):
    from tracker.errors import ConfigError

    base = "[[campaigns]]\nname = 'a'\nhashtags = ['AleppoIsBurning']\n"
    cfg = load_config(write_config(tmp_path, base))
    assert (cfg.repoll.ages, cfg.repoll.max_posts) == ((3600, 86400, 604800), 1000)
    assert cfg.repoll.schedule.interval_seconds == 900
    cfg = load_config(write_config(tmp_path, "[repoll]\nages = ['7d', '90m']\nmax_posts = 5\n"
                                   "schedule = { interval = '1h' }\n" + base))
    assert (cfg.repoll.ages, cfg.repoll.max_posts) == ((5400, 604800), 5)
    assert cfg.repoll.schedule.interval_seconds == 3600
    for text, message in (
            ("[repoll]\nages = ['soon']\n", "tracker.toml: repoll.ages: expected a list of "
             "durations such as ['1h', '24h', '7d'] (each at least 1m), got a list"),
            ("[repoll]\nmax_posts = 0\n", "tracker.toml: repoll.max_posts: expected a whole "
             "number from 1 to 1000000, got 0"),
            ("[repoll]\nevery = '1h'\n", "tracker.toml: repoll.every: unknown key")):
        with pytest.raises(ConfigError) as err:
            load_config(write_config(tmp_path, text + base))
        assert str(err.value).startswith(message)


def test_repoll_command_lines_and_a_failed_platform(tmp_path, monkeypatch):
    """`tracker repoll`: one line per campaign and platform; a platform that cannot be re-polled
    (Bluesky posts, no Bluesky source to log in with) fails in one line, exit 1."""
    from click.testing import CliRunner

    from tracker.cli import cli

    cfg = load_config(write_config(tmp_path, "[warehouse]\npath = 'wh/t.duckdb'\n[[campaigns]]\n"
                                   "name = 'aleppo'\nhashtags = ['AleppoIsBurning']\n"))
    con = connect(cfg.warehouse)
    prepare(con, cfg.campaigns)
    page = json.dumps({"posts": [bsky_post(1, 2)]})
    store_batch(con, [RawPage("bluesky_posts", "bluesky", page, retrieved_at=T0)],
                run_id="seed", source="bluesky", campaign="aleppo", assign_campaign="aleppo")
    con.close()
    monkeypatch.setattr("tracker.lookup.repoll.utcnow", lambda: T0 + HOUR)
    out = CliRunner().invoke(cli, ["--config", str(cfg.path), "repoll", "--platform", "x"])
    assert (out.exit_code, out.output) == (
        0, "aleppo/repoll-x: ok, 0 posts due, 0 asked, 0 read, 0 gone, 0 requests\n")
    out = CliRunner().invoke(cli, ["--config", str(cfg.path), "repoll"])
    assert out.exit_code == 1
    lines = out.output.splitlines()
    assert lines[1] == ("aleppo/repoll-bluesky: failed, 1 posts due, 0 asked, 0 read, 0 gone, "
                        "0 requests - campaign 'aleppo' has no Bluesky source: its Bluesky posts "
                        "are not re-polled (the lookup logs in with it)")
    assert lines[-1] == ("Error: 1 re-poll(s) failed: aleppo/bluesky (the reasons are above and "
                         "in ledger.runs)")
