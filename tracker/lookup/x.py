"""X posts by id: GET /2/tweets?ids= (tweepy `Client.get_tweets`), 100 ids a request, with the
expansions and fields of the X collector (tracker.sources.x), so a looked-up page is an
`x_v2_page` like a search page and is normalised by the same SQL.

The API answers every id it was asked: in `data` (found) or in `errors`, one problem per id:

    {"value": "ID", "detail": "Could not find tweet with ids: [ID].", "title": "Not Found Error",
     "resource_type": "tweet", "parameter": "ids", "resource_id": "ID",
     "type": "https://api.twitter.com/2/problems/resource-not-found"}

`not-authorized-for-resource` ("Authorization Error": the author's posts are protected),
and a detail saying the user "has been suspended". Problems about expanded objects (a
referenced tweet, an author: `section: includes`, other parameters) say nothing about the
ids asked and are not answers.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from typing import Any, ClassVar

from ..pages import RawPage, RunLog
from ..sources.retry import CallFailed, Malformed, body_text, call, parse_json
from ..sources.x import CLIENT, FIELDS, classify, client
from ..timeutil import utcnow

BATCH = 100     # ids per GET /2/tweets (the endpoint's maximum)
FOUND = "found"
# why an id asked was not returned, from its problem in `errors`
NOT_FOUND, PROTECTED, SUSPENDED, ERROR = "not_found", "protected", "suspended", "error"


def problem_status(problem: dict[str, Any]) -> str:
    """What one problem of `errors` says of the id it names."""
    detail = str(problem.get("detail") or "")
    kind = str(problem.get("type") or "")
    title = str(problem.get("title") or "")
    if "suspended" in detail.lower():
        return SUSPENDED
    if kind.endswith("/not-authorized-for-resource") or title == "Authorization Error":
        return PROTECTED
    if kind.endswith("/resource-not-found") or title == "Not Found Error":
        return NOT_FOUND
    return ERROR


def answers(body: dict[str, Any], asked: list[str]) -> dict[str, tuple[str, str | None]]:
    """{id asked: (status, reason)} for the ids the page answers (found, or a problem)."""
    wanted = set(asked)
    out: dict[str, tuple[str, str | None]] = {}
    data = body.get("data")
    for tweet in data if isinstance(data, list) else [data] if isinstance(data, dict) else []:
        tid = str(tweet.get("id")) if isinstance(tweet, dict) else None
        if tid in wanted:
            out[tid] = (FOUND, None)
    for problem in body.get("errors") or []:
        if not isinstance(problem, dict):
            continue
        if problem.get("parameter") not in (None, "ids", "id") or problem.get("section") \
                not in (None, "data"):
            continue
        tid = str(problem.get("resource_id") or problem.get("value") or "")
        if tid in wanted and tid not in out:
            reason = ": ".join(str(problem[k]) for k in ("title", "detail") if problem.get(k))
            out[tid] = (problem_status(problem), reason or None)
    return out


class XLookup:
    """Look X posts up by id; one request per call of `lookup` (statuses: FOUND, or why
    not)."""

    platform: ClassVar[str] = "x"
    batch: ClassVar[int] = BATCH

    def __init__(self, needed_by: str, *, sleep: Callable[[float], None] | None = None,
                 now: Callable[[], dt.datetime] = utcnow):
        self.api = client(needed_by)
        self.sleep = sleep
        self.now = now

    def lookup(self, ids: list[str], log: RunLog
               ) -> tuple[RawPage, dict[str, tuple[str, str | None]]]:
        """The page answering `ids` (at most 100) and the answer for each id it answers.
        Raises `CallFailed` (rate limit, refused token, server errors, a malformed body)."""
        if not 0 < len(ids) <= BATCH:
            raise ValueError(f"ask 1 to {BATCH} ids, not {len(ids)}")
        response = call(functools.partial(self.api.get_tweets, ids, **FIELDS, user_auth=False),
                        log=log, classify=self._classify, sleep=self.sleep)
        origin = response.url
        text = body_text(response.content, origin)
        body = parse_json(text, origin, dict)
        if not isinstance(body.get("data", []), list | dict) or not isinstance(
                body.get("errors", []), list):
            raise Malformed(f"malformed response from {origin}: data or errors not a list",
                            origin, text)
        page = RawPage("x_v2_page", "x", text, request=origin, client=CLIENT,
                       retrieved_at=self.now())
        return page, answers(body, ids)

    def _classify(self, exc: BaseException) -> CallFailed | None:
        return classify(exc, "X tweet lookup", "looking posts up by id needs Basic access or "
                                               "above", self.now())
