"""A mocked X tweet-lookup endpoint (GET /2/tweets?ids=) for tweepy's real request path, with
`responses`. It answers from real recorded tweets (tests/fixtures/shared/x_v2: the twarc2
pages' tweets with their includes, and the tweepy search cassette's tweets) and reports the
other ids in `errors` with the API's real problem shapes."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlparse

import responses

from .cassettes import body
from .conftest import FIXTURES

LOOKUP = "https://api.twitter.com/2/tweets"
TWARC_FILES = ("twarc2_two_tweets.jsonl", "twarc2_mentions_tweet.jsonl", "twarc2_cotweet.jsonl",
               "twarc2_media_tweet.jsonl", "twarc2_geo_tweets.jsonl", "twarc2_quoted_edit.jsonl")


def recorded_pool() -> dict[str, tuple[dict, dict]]:
    """{tweet id: (tweet, the includes of its recorded page)} of real recorded tweets."""
    pool: dict[str, tuple[dict, dict]] = {}
    for name in TWARC_FILES:
        for line in (FIXTURES / "x_v2" / name).read_text(encoding="utf-8").splitlines():
            page = json.loads(line)
            for tweet in page["data"]:
                pool[tweet["id"]] = (tweet, page.get("includes") or {})
    search = json.loads(body("x_v2", "tweepy_cassette_search_recent_tweets.yaml",
                             uri_contains="recent"))
    for tweet in search["data"]:
        pool.setdefault(tweet["id"], (tweet, {}))
    return pool


# The real shapes of GET /2/tweets `errors` (one problem per id not returned), as X sends them
# (seen in twarc, tweepy and client-library issue threads and tests).
def not_found(tid: str) -> dict[str, Any]:
    return {"value": tid, "detail": f"Could not find tweet with ids: [{tid}].",
            "title": "Not Found Error", "resource_type": "tweet", "parameter": "ids",
            "resource_id": tid, "type": "https://api.twitter.com/2/problems/resource-not-found"}


def protected(tid: str) -> dict[str, Any]:
    return {"resource_id": tid, "parameter": "ids", "resource_type": "tweet", "section": "data",
            "title": "Authorization Error", "value": tid,
            "detail": f"Sorry, you are not authorized to see the Tweet with ids: [{tid}].",
            "type": "https://api.twitter.com/2/problems/not-authorized-for-resource"}


def suspended(tid: str) -> dict[str, Any]:
    """X's suspended-account problem (title Forbidden, detail "User has been suspended: [..].",
    type resource-not-found), as the lookup reports it for an id asked."""
    return {"parameter": "ids", "resource_id": tid, "value": tid,
            "detail": f"User has been suspended: [{tid}].", "title": "Forbidden",
            "resource_type": "tweet",
            "type": "https://api.twitter.com/2/problems/resource-not-found"}


def includes_problem(tid: str) -> dict[str, Any]:
    """A problem about an expanded object (not an id asked): says nothing of the ids."""
    return {"value": tid, "detail": f"Could not find tweet with referenced_tweets.id: [{tid}].",
            "title": "Not Found Error", "resource_type": "tweet",
            "parameter": "referenced_tweets.id", "resource_id": tid, "section": "includes",
            "type": "https://api.twitter.com/2/problems/resource-not-found"}


class FakeLookup:
    """Answers GET /2/tweets: tweets of `pool` (with `metrics` overriding public_metrics),
    problems for `protected_ids` / `suspended_ids`, not-found for the rest. `fail` maps a
    request number (1-based) to a (status, headers, body) answer or an exception to raise."""

    def __init__(self, rsps: responses.RequestsMock, pool: dict[str, tuple[dict, dict]]):
        self.pool = pool
        self.protected_ids: set[str] = set()
        self.suspended_ids: set[str] = set()
        self.metrics: dict[str, dict[str, int]] = {}
        self.fail: dict[int, Any] = {}
        self.calls: list[dict[str, str]] = []
        self.on_call: Callable[[int], None] | None = None
        rsps.add_callback(responses.GET, LOOKUP, callback=self._answer)

    @property
    def asked(self) -> list[list[str]]:
        return [c["ids"].split(",") for c in self.calls]

    def page(self, ids: list[str]) -> dict[str, Any]:
        data, users, tweets, problems = [], {}, {}, []
        for tid in ids:
            if tid in self.pool:
                tweet, inc = self.pool[tid]
                tweet = dict(tweet)
                if tid in self.metrics:
                    tweet["public_metrics"] = {**tweet.get("public_metrics", {}),
                                               **self.metrics[tid]}
                data.append(tweet)
                users.update({u["id"]: u for u in inc.get("users", [])})
                tweets.update({t["id"]: t for t in inc.get("tweets", [])})
            elif tid in self.protected_ids:
                problems.append(protected(tid))
            elif tid in self.suspended_ids:
                problems.append(suspended(tid))
            else:
                problems.append(not_found(tid))
        out: dict[str, Any] = {}
        if data:
            out["data"] = data
            out["includes"] = {k: list(v.values()) for k, v in
                               (("users", users), ("tweets", tweets)) if v}
        if problems:
            out["errors"] = problems
        return out

    def _answer(self, request):
        params = {k: v[0] for k, v in parse_qs(urlparse(request.url).query).items()}
        self.calls.append(params)
        n = len(self.calls)
        if self.on_call is not None:
            self.on_call(n)
        if n in self.fail:
            answer = self.fail.pop(n)
            if isinstance(answer, BaseException):
                raise answer
            status, headers, payload = answer
            return status, {"content-type": "application/json", **headers}, payload
        return 200, {"content-type": "application/json"}, json.dumps(self.page(
            params["ids"].split(",")))
