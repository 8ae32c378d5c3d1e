"""API fault matrix: each platform's real client against mocked HTTP faults.

For every platform and fault: the collection pass returns (a daemon job would go on), the
ledger row records the fault, nothing is stored wrongly, and a later healthy pass fills in
everything. Reuses the fakes of tests/test_source_{x,mastodon,bluesky}.py.
"""

from __future__ import annotations

import datetime as dt
import json
import os

import httpx
import pytest
import requests
import responses
import respx

from tracker.config import load_config
from tracker.pipeline import collect
from tracker.sources import retry
from tracker.sources import x as x_source

from .. import test_source_bluesky as bsky
from .. import test_source_mastodon as masto
from .. import test_source_x as xs
from ..conftest import BACKENDS, open_warehouse, write_config
from .backends import on_backend

pytestmark = pytest.mark.reliability

IN_10_MIN = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=10)
# fault -> expected run status; each platform turns a fault into its own HTTP answer
FAULTS = {"429+headers": "rate_limited", "429": "rate_limited", "401": "failed",
          "403": "failed", "500": "failed", "503": "failed", "timeout": "failed",
          "reset": "failed", "truncated": "failed", "malformed": "failed"}
# On the lake, by default, one fault of each kind the warehouse records differently (a rate
# limit with its resume time, a failure, a quarantined body); all of them with
# TRACKER_TEST_LAKE_ALL=1 (about 3 more minutes: every cell opens a new lake).
LAKE_FAULTS = FAULTS if os.environ.get("TRACKER_TEST_LAKE_ALL") == "1" else \
    {f: FAULTS[f] for f in ("429+headers", "500", "malformed")}
CELLS = [(b, f) for b in BACKENDS for f in FAULTS if b == "duckdb" or f in LAKE_FAULTS]


def requests_fault(name: str, page: bytes, reset_headers: dict) -> tuple:
    """The fake's answer (body or exception, status, headers) for a requests-based client:
    the fault instead of `page`."""
    error = json.dumps({"error": name}).encode()
    return {
        "429+headers": (error, 429, reset_headers), "429": (error, 429),
        "401": (error, 401), "403": (error, 403),
        "500": (b"<html>oops</html>", 500), "503": (b"", 503),
        "timeout": (requests.exceptions.ReadTimeout("read timed out"),),
        "reset": (requests.exceptions.ConnectionError("Connection reset by peer"),),
        "truncated": (page[: len(page) // 2],),
        "malformed": (b"<html>not json</html>",)}[name]


class X:
    expected_posts = 12

    def __init__(self, tmp_path, monkeypatch, backend):
        monkeypatch.setenv("X_BEARER_TOKEN", "test-bearer-token")
        monkeypatch.setattr(x_source, "utcnow", lambda: xs.RECORDED_AT)
        self.cfg = load_config(write_config(tmp_path, on_backend(xs.CONFIG.format(
            endpoint="recent", extra="", start="2022-10-06"), backend)))
        self.mock = responses.RequestsMock(assert_all_requests_are_fired=False)
        self.mock.start()
        self.fake = xs.FakeX(self.mock)

    def healthy(self):
        self.fake.page(None, xs.PAGE1)
        self.fake.page(xs.PAGE1_NEXT, xs.PAGE2)

    def fault(self, name: str):
        self.fake.page(None, xs.PAGE1)
        self.fake.page(xs.PAGE1_NEXT, *requests_fault(
            name, xs.PAGE2, {"x-rate-limit-reset": str(int(IN_10_MIN.timestamp()))}))

    def repeat(self):
        """The second page comes back as the first, with the same next_token."""
        self.fake.page(None, xs.PAGE1)
        self.fake.page(xs.PAGE1_NEXT, xs.PAGE1)

    def close(self):
        self.mock.stop()
        self.mock.reset()


class Mastodon:
    expected_posts = 80

    def __init__(self, tmp_path, monkeypatch, backend):
        self.cfg = load_config(write_config(tmp_path, on_backend(masto.CONFIG.format(
            instances='["a.example"]', extra=""), backend)))
        self.mock = responses.RequestsMock(assert_all_requests_are_fired=False)
        self.mock.start()
        self.fake = masto.FakeMastodon(self.mock)

    def healthy(self):
        self.fake.page("a.example", masto.FIRST, masto.statuses(40, 1000))
        self.fake.page("a.example", "1039", masto.statuses(40, 1040))

    def fault(self, name: str):
        self.fake.page("a.example", masto.FIRST, masto.statuses(40, 1000))
        reset = IN_10_MIN.strftime("%Y-%m-%dT%H:%M:%S.000Z")
        page2 = json.dumps(masto.statuses(40, 1040)).encode()
        self.fake.page("a.example", "1039", *requests_fault(
            name, page2, {"X-RateLimit-Reset": reset, "X-RateLimit-Remaining": "0"}))

    def repeat(self):
        """The page after min_id 1039 repeats the first page (min_id goes backwards)."""
        self.fake.page("a.example", masto.FIRST, masto.statuses(40, 1000))
        self.fake.page("a.example", "1039", masto.statuses(40, 1000))

    def close(self):
        self.mock.stop()
        self.mock.reset()


class Bluesky:
    expected_posts = 140

    def __init__(self, tmp_path, monkeypatch, backend):
        monkeypatch.setenv("BLUESKY_HANDLE", "tester.bsky.social")
        monkeypatch.setenv("BLUESKY_APP_PASSWORD", "app-pass-1234")
        self.cfg = load_config(write_config(tmp_path, on_backend(bsky.CONFIG.format(extra=""),
                                                                 backend)))
        self.mock = respx.mock(assert_all_mocked=True, assert_all_called=False)
        self.mock.start()
        self.fake = bsky.FakeBluesky(self.mock)

    def healthy(self):
        self.fake.page(None, {"posts": bsky.posts(100, 100, authors=30), "cursor": "100"})
        self.fake.page("100", {"posts": bsky.posts(40, 60, authors=30)})

    def fault(self, name: str):
        self.fake.page(None, {"posts": bsky.posts(100, 100, authors=30), "cursor": "100"})
        page2 = json.dumps({"posts": bsky.posts(40, 60, authors=30)}).encode()
        json_type = {"content-type": "application/json"}
        self.fake.page("100", {
            "429+headers": httpx.Response(429, json={"error": "RateLimitExceeded"}, headers={
                "ratelimit-reset": str(int(IN_10_MIN.timestamp()))}),
            "429": httpx.Response(429, json={"error": "RateLimitExceeded"}),
            "401": httpx.Response(401, json={"error": "AuthenticationRequired"}),
            "403": httpx.Response(403, json={"error": "Forbidden"}),
            "500": httpx.Response(500, content=b"<html>oops</html>"),
            "503": httpx.Response(503, content=b""),
            "timeout": httpx.ReadTimeout("timed out"),
            "reset": httpx.ConnectError("Connection reset by peer"),
            "truncated": httpx.Response(200, content=page2[: len(page2) // 2],
                                        headers=json_type),
            "malformed": httpx.Response(200, content=b"<html>not json</html>",
                                        headers=json_type)}[name])

    def repeat(self):
        """The page at cursor 100 repeats the first page and its cursor."""
        self.fake.page(None, {"posts": bsky.posts(100, 100, authors=30), "cursor": "100"})
        self.fake.page("100", {"posts": bsky.posts(100, 100, authors=30), "cursor": "100"})

    def close(self):
        self.mock.stop()


PLATFORMS = {"x": X, "mastodon": Mastodon, "bluesky": Bluesky}
for _name, _cls in PLATFORMS.items():
    _cls.name = _name


@pytest.fixture
def api(request, tmp_path, monkeypatch, backend):
    monkeypatch.setattr(retry, "backoff_sleep", lambda s: None)
    p = PLATFORMS[request.param](tmp_path, monkeypatch, backend)
    p.con = open_warehouse(p.cfg)
    yield p
    p.con.close()
    p.close()


def stored(p) -> tuple[int, int]:
    """Posts of the platform under test (not referenced ones): (rows, distinct keys)."""
    return p.con.execute("select count(*), count(distinct post_id) from norm.posts "
                         "where kind <> 'referenced' and platform = ?", [p.name]).fetchone()


def source_run(p) -> object:
    return [r for r in collect(p.con, p.cfg) if not r.source.startswith("simulated")][0]


@pytest.mark.parametrize("api", PLATFORMS, indirect=True)
@pytest.mark.parametrize("backend,fault", CELLS)
def test_fault_is_recorded_and_a_later_run_fills_in(api, backend, fault):
    api.fault(fault)
    s = source_run(api)                         # returns: the daemon's job would go on
    assert s.status == FAULTS[fault], (s.status, s.message)
    row = api.con.execute("select status, message, errors, rate_limit_waits, resume_after "
                          "from ledger.runs where run_id = ?", [s.run_id]).fetchone()
    status, message, errors, waits, resume = row
    assert status == FAULTS[fault] and message, row
    if status == "rate_limited":
        assert waits >= 1 and resume is not None, row
    else:
        assert errors >= 1, row
    if fault in ("truncated", "malformed"):
        assert api.con.execute("select count(*) from ledger.quarantine where run_id = ?",
                               [s.run_id]).fetchone()[0] == 1
    first_page = stored(api)
    assert first_page[0] == first_page[1] > 0       # the good first page is kept, once
    # later: the API is healthy again (and any rate-limit window has passed)
    api.con.execute("update ledger.runs set resume_after = null")
    api.healthy()
    s = source_run(api)
    assert s.status == "ok", s.message
    assert stored(api) == (api.expected_posts, api.expected_posts)


@pytest.mark.parametrize("api", PLATFORMS, indirect=True)
def test_repeated_page_or_backward_cursor_ends_without_duplicates(api):
    api.repeat()
    s = source_run(api)
    # a Bluesky cursor pointing to itself is an error (issue 12); X and Mastodon stop quietly
    assert s.status == ("failed" if api.name == "bluesky" else "ok"), s.message
    assert s.requests <= 5, (s.requests, s.message)     # it stops instead of asking again
    n, distinct = stored(api)
    assert n == distinct > 0
    api.con.execute("update ledger.runs set resume_after = null")
    api.healthy()
    assert source_run(api).status == "ok"
    assert stored(api) == (api.expected_posts, api.expected_posts)
