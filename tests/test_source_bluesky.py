"""Bluesky collector: atproto's real client (httpx), HTTP mocked with respx, payloads in the
shapes of app.bsky.feed.searchPosts / app.bsky.actor.getProfiles (tests/fixtures/bluesky)."""

from __future__ import annotations

import base64
import copy
import datetime as dt
import json
import stat
from pathlib import Path

import httpx
import pytest
import respx

from tracker.config import load_config
from tracker.pipeline import collect
from tracker.sources import bluesky, retry
from tracker.store import ledger
from tracker.store.db import connect

from .conftest import write_config

XRPC = "https://bsky.social/xrpc"
FIXTURES = Path(__file__).parent / "fixtures" / "bluesky"
POST = json.loads((FIXTURES / "post_view.json").read_text(encoding="utf-8"))
PROFILE = json.loads((FIXTURES / "profile_view_detailed.json").read_text(encoding="utf-8"))

CONFIG = """
[warehouse]
path = "wh/tracker.duckdb"
[[campaigns]]
name = "aleppo"
hashtags = ["AleppoIsBurning"]
start = 2026-11-20
[[campaigns.sources]]
type = "bluesky"
{extra}
"""


def jwt(exp_in: dt.timedelta, scope: str = "com.atproto.access") -> str:
    def b64(d: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(d).encode()).decode().rstrip("=")
    now = int(dt.datetime.now(dt.UTC).timestamp())
    return ".".join([b64({"typ": "at+jwt", "alg": "ES256K"}),
                     b64({"scope": scope, "sub": "did:plc:tester", "iat": now,
                          "exp": now + int(exp_in.total_seconds())}), "c2ln"])


def session_body(exp_in=dt.timedelta(hours=2)) -> dict:
    return {"did": "did:plc:tester", "handle": "tester.bsky.social", "active": True,
            "accessJwt": jwt(exp_in), "refreshJwt": jwt(dt.timedelta(days=60),
                                                       "com.atproto.refresh")}


def posts(n: int, start: int, authors: int = 1000) -> list[dict]:
    """n post views, newest first, numbered start .. start+n-1 (higher = newer)."""
    out = []
    base = dt.datetime(2026, 11, 21, tzinfo=dt.UTC)
    for i in reversed(range(start, start + n)):
        p = copy.deepcopy(POST)
        did = f"did:plc:author{i % authors:04d}"
        at = (base + dt.timedelta(minutes=i)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
        p["uri"] = f"at://{did}/app.bsky.feed.post/3kpost{i:06d}"
        p["author"]["did"], p["author"]["handle"] = did, f"a{i % authors}.bsky.social"
        p["record"]["createdAt"] = at
        p["indexedAt"] = at
        out.append(p)
    return out


def profiles_for(request: httpx.Request) -> httpx.Response:
    actors = request.url.params.get_list("actors")
    out = []
    for n, did in enumerate(actors):
        p = copy.deepcopy(PROFILE)
        p["did"], p["handle"], p["followersCount"] = did, f"{did[-8:]}.bsky.social", 500 + n
        out.append(p)
    return httpx.Response(200, json={"profiles": out})


class FakeBluesky:
    """searchPosts answered by cursor; every searchPosts request's params recorded."""

    def __init__(self, router: respx.Router):
        self.pages: dict[str | None, httpx.Response | Exception] = {}
        self.search_calls: list[httpx.QueryParams] = []
        self.login = router.post(f"{XRPC}/com.atproto.server.createSession").mock(
            return_value=httpx.Response(200, json=session_body()))
        self.refresh = router.post(f"{XRPC}/com.atproto.server.refreshSession").mock(
            return_value=httpx.Response(200, json=session_body()))
        self.profiles = router.get(f"{XRPC}/app.bsky.actor.getProfiles").mock(
            side_effect=profiles_for)
        router.get(f"{XRPC}/app.bsky.feed.searchPosts").mock(side_effect=self._search)

    def page(self, cursor: str | None, answer) -> None:
        if isinstance(answer, dict):
            answer = httpx.Response(200, json=answer)
        self.pages[cursor] = answer

    def _search(self, request: httpx.Request):
        self.search_calls.append(request.url.params)
        answer = self.pages.get(request.url.params.get("cursor"),
                                httpx.Response(200, json={"posts": []}))
        if isinstance(answer, Exception):
            raise answer
        return answer


@pytest.fixture
def setup(tmp_path, monkeypatch):
    monkeypatch.setenv("BLUESKY_HANDLE", "tester.bsky.social")
    monkeypatch.setenv("BLUESKY_APP_PASSWORD", "app-pass-1234")
    sleeps: list[float] = []
    monkeypatch.setattr(retry, "backoff_sleep", sleeps.append)

    def make(extra=""):
        cfg = load_config(write_config(tmp_path, CONFIG.format(extra=extra)))
        return cfg, connect(cfg.warehouse)
    make.sleeps = sleeps
    make.session = tmp_path / "wh" / ".bluesky-session"
    return make


def run(con, cfg):
    return collect(con, cfg)[0]


@respx.mock(assert_all_mocked=True, assert_all_called=False)
def test_backfill_pages_profiles_and_session_reuse(setup, respx_mock):
    cfg, con = setup()
    b = FakeBluesky(respx_mock)
    b.page(None, {"posts": posts(100, 100, authors=30), "cursor": "100"})
    b.page("100", {"posts": posts(40, 60, authors=30)})
    s = run(con, cfg)
    assert (s.status, s.posts_new) == ("ok", 140)
    first = b.search_calls[0]
    assert first["q"] == "#AleppoIsBurning" and first.get_list("tag") == ["AleppoIsBurning"]
    assert first["sort"] == "latest" and first["limit"] == "100"
    assert first["since"] == "2026-11-20T00:00:00Z" and "cursor" not in first
    assert b.search_calls[1]["cursor"] == "100" and b.search_calls[1]["since"] == first["since"]
    # 30 authors: getProfiles in batches of 25, once per author per day
    assert [len(c.request.url.params.get_list("actors")) for c in b.profiles.calls] == [25, 5]
    assert s.requests == 1 + 2 + 2  # createSession, two search pages, two profile batches
    assert con.execute("select count(distinct author_id) from norm.author_observations "
                       "where followers >= 500").fetchone() == (30,)
    formats = con.execute("select format, count(*) from raw.pages group by all order by 1"
                          ).fetchall()
    assert formats == [("bluesky_posts", 2), ("bluesky_profiles", 2)]
    # the session is kept, owner-only, and reused: no second createSession
    assert stat.S_IMODE(setup.session.stat().st_mode) == 0o600
    assert "app-pass-1234" not in setup.session.read_text()
    newest = "2026-11-21T03:19:00Z"  # post 199
    assert ledger.get_cursor(con, "aleppo", "bluesky")["tags"]["AleppoIsBurning"]["since"] \
        == newest
    b.pages.clear()
    b.page(None, {"posts": posts(2, 200, authors=30) + posts(1, 199, authors=30)})
    s = run(con, cfg)
    assert (s.status, s.posts_new, s.duplicates) == ("ok", 2, 1)  # 199: the API's overlap
    assert b.login.call_count == 1 and b.search_calls[-1]["since"] == newest
    assert s.requests == 1  # authors profiled today are not asked again
    con.close()


@respx.mock(assert_all_mocked=True, assert_all_called=False)
def test_restart_mid_backfill_continues_cursor(setup, respx_mock):
    cfg, con = setup()
    b = FakeBluesky(respx_mock)
    b.page(None, {"posts": posts(100, 100), "cursor": "100"})
    b.page("100", httpx.Response(502, json={"error": "UpstreamFailure"}))
    s = run(con, cfg)
    assert s.status == "failed" and "server error 502" in s.message and s.posts_new == 100
    assert setup.sleeps == [2.0, 4.0]
    st = ledger.get_cursor(con, "aleppo", "bluesky")["tags"]["AleppoIsBurning"]
    assert st["cursor"] == "100" and st["since"] == "2026-11-20T00:00:00Z"
    b.page("100", {"posts": posts(5, 95)})
    s = run(con, cfg)
    assert (s.status, s.posts_new) == ("ok", 5)
    assert b.search_calls[-1]["cursor"] == "100"
    st = ledger.get_cursor(con, "aleppo", "bluesky")["tags"]["AleppoIsBurning"]
    assert st["cursor"] is None and st["since"] == "2026-11-21T03:19:00Z"
    con.close()


@respx.mock(assert_all_mocked=True, assert_all_called=False)
def test_expired_saved_session_logs_in_again_once(setup, respx_mock):
    cfg, con = setup()
    b = FakeBluesky(respx_mock)
    setup.session.parent.mkdir(parents=True, exist_ok=True)
    old = session_body(exp_in=dt.timedelta(minutes=1))  # due for refresh
    setup.session.write_text(json.dumps({"handle": "tester.bsky.social", "session": ":::".join(
        [old["handle"], old["did"], old["accessJwt"], old["refreshJwt"], XRPC])}))
    b.refresh.mock(return_value=httpx.Response(400, json={"error": "ExpiredToken",
                                                          "message": "Token has expired"}))
    b.page(None, {"posts": posts(3, 1)})
    s = run(con, cfg)
    assert (s.status, s.posts_new) == ("ok", 3)
    assert b.refresh.call_count == 1 and b.login.call_count == 1
    assert json.loads(setup.session.read_text())["session"].split(":::")[2] != old["accessJwt"]
    con.close()


@respx.mock(assert_all_mocked=True, assert_all_called=False)
def test_refused_login_is_one_line_naming_the_credentials(setup, respx_mock):
    cfg, con = setup()
    b = FakeBluesky(respx_mock)
    b.login.mock(return_value=httpx.Response(
        401, json={"error": "AuthenticationRequired", "message": "Invalid identifier or password"}))
    s = run(con, cfg)
    assert s.status == "failed"
    assert s.message == ("Bluesky refused BLUESKY_HANDLE / BLUESKY_APP_PASSWORD "
                         "(401 AuthenticationRequired): check the handle and app password")
    assert not setup.session.exists() and b.search_calls == []
    con.close()


@respx.mock(assert_all_mocked=True, assert_all_called=False)
def test_missing_password_without_saved_session(setup, respx_mock, monkeypatch):
    cfg, con = setup()
    FakeBluesky(respx_mock)
    monkeypatch.delenv("BLUESKY_APP_PASSWORD")
    s = run(con, cfg)
    assert s.status == "failed" and s.message.startswith(
        "BLUESKY_APP_PASSWORD is not set (needed by source 'bluesky' of campaign 'aleppo')")
    con.close()


@respx.mock(assert_all_mocked=True, assert_all_called=False)
def test_429_records_resume_time_without_sleeping(setup, respx_mock):
    cfg, con = setup()
    b = FakeBluesky(respx_mock)
    reset = int(dt.datetime.now(dt.UTC).timestamp()) + 240
    b.page(None, httpx.Response(429, json={"error": "RateLimitExceeded"},
                                headers={"ratelimit-reset": str(reset)}))
    s = run(con, cfg)
    assert s.status == "rate_limited" and setup.sleeps == [] and len(b.search_calls) == 1
    assert int(s.resume_after.timestamp()) == reset
    assert run(con, cfg).status == "deferred" and len(b.search_calls) == 1
    con.close()


@respx.mock(assert_all_mocked=True, assert_all_called=False)
def test_timeout_retries_then_fails(setup, respx_mock):
    cfg, con = setup()
    b = FakeBluesky(respx_mock)
    b.page(None, httpx.ReadTimeout("timed out"))
    s = run(con, cfg)
    assert s.status == "failed" and "network error or timeout (gave up after 3" in s.message
    assert len(b.search_calls) == 3
    con.close()


@respx.mock(assert_all_mocked=True, assert_all_called=False)
def test_malformed_json_is_quarantined(setup, respx_mock):
    cfg, con = setup()
    b = FakeBluesky(respx_mock)
    b.page(None, httpx.Response(200, content=b'{"posts": [{"uri": "at://x"',
                                headers={"content-type": "application/json"}))
    s = run(con, cfg)
    assert s.status == "failed" and "malformed response" in s.message
    assert con.execute("select raw from ledger.quarantine").fetchone() == (
        '{"posts": [{"uri": "at://x"',)
    assert con.execute("select count(*) from raw.pages").fetchone() == (0,)
    con.close()


@respx.mock(assert_all_mocked=True, assert_all_called=False)
def test_empty_result_stores_nothing(setup, respx_mock):
    cfg, con = setup()
    FakeBluesky(respx_mock)
    s = run(con, cfg)
    assert (s.status, s.pages, s.requests) == ("ok", 0, 2)  # createSession + one search
    con.close()


@respx.mock(assert_all_mocked=True, assert_all_called=False)
def test_search_ceiling_is_recorded_as_possible_gap(setup, respx_mock, monkeypatch):
    monkeypatch.setattr(bluesky, "CEILING", 150)
    cfg, con = setup()
    b = FakeBluesky(respx_mock)
    b.page(None, {"posts": posts(100, 100), "cursor": "100"})
    b.page("100", {"posts": posts(100, 0)})  # the API stops: no cursor
    s = run(con, cfg)
    assert s.status == "ok" and len(s.gaps) == 1
    gap = s.gaps[0]
    assert gap.reason.startswith("possible gap: Bluesky search for #AleppoIsBurning stopped "
                                 "at 200 results")
    assert gap.start == dt.datetime(2026, 11, 20, tzinfo=dt.UTC)
    assert gap.end == dt.datetime(2026, 11, 21, tzinfo=dt.UTC)  # oldest post seen
    assert con.execute("select count(*) from ledger.gaps").fetchone() == (1,)
    con.close()


@respx.mock(assert_all_mocked=True, assert_all_called=False)
def test_revoked_saved_session_logs_in_again_and_does_not_loop(setup, respx_mock):
    cfg, con = setup()
    b = FakeBluesky(respx_mock)
    b.page(None, {"posts": posts(2, 1)})
    assert run(con, cfg).posts_new == 2 and b.login.call_count == 1
    answers = iter([httpx.Response(401, json={"error": "AuthenticationRequired"}),
                    httpx.Response(200, json={"posts": posts(1, 3)})])
    respx_mock.get(f"{XRPC}/app.bsky.feed.searchPosts").mock(side_effect=lambda r: next(answers))
    s = run(con, cfg)
    assert (s.status, s.posts_new) == ("ok", 1) and b.login.call_count == 2

    # refused again right after a fresh login: one re-login only, then one clear failure
    respx_mock.get(f"{XRPC}/app.bsky.feed.searchPosts").mock(
        return_value=httpx.Response(401, json={"error": "AuthenticationRequired"}))
    s = run(con, cfg)
    assert s.status == "failed" and "BLUESKY_HANDLE / BLUESKY_APP_PASSWORD" in s.message
    assert b.login.call_count == 3
    con.close()


@respx.mock(assert_all_mocked=True, assert_all_called=False)
def test_429_without_reset_header_waits_the_default_window(setup, respx_mock):
    cfg, con = setup()
    b = FakeBluesky(respx_mock)
    b.page(None, httpx.Response(429, json={"error": "RateLimitExceeded"}))
    before = dt.datetime.now(dt.UTC)
    s = run(con, cfg)
    assert s.status == "rate_limited" and setup.sleeps == [] and len(b.search_calls) == 1
    assert 4.5 * 60 < (s.resume_after - before).total_seconds() < 5.5 * 60
    con.close()


@respx.mock(assert_all_mocked=True, assert_all_called=False)
def test_cursor_pointing_to_itself_fails_the_run(setup, respx_mock):
    cfg, con = setup()
    b = FakeBluesky(respx_mock)
    b.page(None, {"posts": posts(100, 100), "cursor": "100"})
    b.page("100", {"posts": posts(50, 50), "cursor": "100"})   # the same cursor again
    s = run(con, cfg)
    assert s.status == "failed" and s.errors == 1 and s.posts_new == 150
    assert s.message == ("Bluesky #AleppoIsBurning: the page at cursor '100' pointed to "
                         "itself; stopped (the next run asks again)")
    assert [c.get("cursor") for c in b.search_calls] == [None, "100"]   # not asked a third time
    assert con.execute("select status, errors, message from ledger.runs where run_id = ?",
                       [s.run_id]).fetchone() == ("failed", 1, s.message)
    st = ledger.get_cursor(con, "aleppo", "bluesky")["tags"]["AleppoIsBurning"]
    assert st["cursor"] == "100" and st["since"] == "2026-11-20T00:00:00Z"
    # the API mends: the next run continues from the same cursor and ends well
    b.page("100", {"posts": posts(50, 50)})
    s = run(con, cfg)
    assert (s.status, s.posts_new, s.duplicates) == ("ok", 0, 50)
    assert b.search_calls[-1]["cursor"] == "100"
    con.close()
