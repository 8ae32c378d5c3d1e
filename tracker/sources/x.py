"""X (Twitter) API v2 search through tweepy: recent search, or full-archive when configured.

The cursor is committed with every page:
    {"since_id", "start_time", "next_token", "pending_newest_id", "budget": {"month", "read"}}
A pagination runs newest-first. While it is under way `next_token` and `pending_newest_id`
are kept, so a restart continues the same pagination (nothing skipped, nothing lost);
`since_id` moves to `pending_newest_id` only after its last page. Steady state: one request
per full page of new posts, plus one.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Iterator
from typing import Any, ClassVar

import requests
import tweepy

from .. import credentials
from ..config import Campaign, SourceConfig
from ..pages import Gap, RawPage, RunLog
from ..timeutil import iso, utcnow
from .retry import (
    CallFailed,
    Malformed,
    RateLimited,
    Refused,
    TimeoutSession,
    Transient,
    body_text,
    call,
    is_timeout_or_network,
    month_key,
    parse_json,
    resume_at,
)

# Expansions and fields: what warehouse/normalise/x_v2_page.sql reads (twarc2 asks for all of
# these too, so a collected page carries what an imported twarc2 page does):
#   author_id, referenced_tweets.id(.author_id): includes.users (authors, also of the posts
#     referred to: n_authors reads every user) and includes.tweets (context posts);
#   attachments.media_keys: includes.media (norm.post_media: type, url or a video's mp4
#     variants, preview_image_url, alt_text); X sends media_key and type by default only;
#   geo.place_id: includes.places (posts.place = full_name, posts.country_code); X sends id and
#     full_name by default only.
EXPANSIONS = ["author_id", "referenced_tweets.id", "referenced_tweets.id.author_id",
              "attachments.media_keys", "geo.place_id"]
# note_tweet: a long post's full text and its entities (text and entities hold only the first
# 280 characters); tweepy's field lists predate it, the API takes it by this name.
# edit_history_tweet_ids (a default field; asked for all the same, as twarc2 does) keys an
# edited post by its first id.
TWEET_FIELDS = ["created_at", "lang", "public_metrics", "entities", "conversation_id",
                "referenced_tweets", "in_reply_to_user_id", "note_tweet", "attachments", "geo",
                "edit_history_tweet_ids"]
USER_FIELDS = ["public_metrics", "created_at", "verified"]
MEDIA_FIELDS = ["media_key", "type", "url", "preview_image_url", "alt_text", "variants"]
PLACE_FIELDS = ["id", "full_name", "country_code"]
# tweepy's keyword arguments (it sends them as expansions, tweet.fields, user.fields,
# media.fields, place.fields); search and lookup by id ask for the same
FIELDS: dict[str, list[str]] = {
    "expansions": EXPANSIONS, "tweet_fields": TWEET_FIELDS, "user_fields": USER_FIELDS,
    "media_fields": MEDIA_FIELDS, "place_fields": PLACE_FIELDS,
}
MAX_RESULTS = 100
MIN_RESULTS = 10                       # the endpoint refuses max_results below 10
RECENT_WINDOW = dt.timedelta(days=7)   # what search/recent reaches back
DEFAULT_RESET_SECONDS = 15 * 60        # one X rate-limit window, when no reset header
TWITTER_EPOCH_MS = 1288834974657
CLIENT = f"tweepy/{tweepy.__version__}"


def build_query(hashtags: tuple[str, ...], extra: str | None) -> str:
    """`(#a OR #b) extra` for the search endpoints."""
    tags = " OR ".join(f"#{t.lstrip('#')}" for t in dict.fromkeys(hashtags))
    query = f"({tags})" if len(hashtags) > 1 else tags
    return f"{query} {extra.strip()}" if extra and extra.strip() else query


def tweet_time(tweet_id: str) -> dt.datetime | None:
    """The time encoded in a tweet id (snowflake), or None."""
    try:
        ms = (int(tweet_id) >> 22) + TWITTER_EPOCH_MS
    except (TypeError, ValueError):
        return None
    return dt.datetime.fromtimestamp(ms / 1000, dt.UTC)


class XSource:
    platform: ClassVar[str] = "x"
    primary_key: ClassVar[tuple[str, ...]] = ("platform", "post_id")
    cursor_field: ClassVar[str] = "since_id"

    def __init__(self, campaign: Campaign, cfg: SourceConfig, *,
                 sleep: Callable[[float], None] | None = None,
                 now: Callable[[], dt.datetime] | None = None):
        self.campaign = campaign
        self.name = cfg.name
        opts = cfg.options
        self.endpoint = opts.get("endpoint", "recent")
        self.query = build_query(campaign.hashtags, opts.get("extra_query"))
        self.budget = opts.get("monthly_budget")
        self.max_pages = opts.get("max_pages", 50)
        self.sleep = sleep
        self.now = now or (lambda: utcnow())

    def _client(self) -> tweepy.Client:
        return client(f"source '{self.name}' of campaign '{self.campaign.name}'")

    def _start(self, log: RunLog) -> dt.datetime | None:
        """Where a first run starts: the campaign start, as far as the endpoint reaches."""
        now = self.now()
        start = self.campaign.start_at
        if self.endpoint == "all":
            return start
        earliest = now - RECENT_WINDOW + dt.timedelta(minutes=1)
        if start is None or start < earliest:
            if start is not None:
                log.gaps.append(Gap(start, earliest, "X recent search reaches back 7 days only; "
                                                     "use endpoint = 'all' for older posts"))
            return earliest
        return start

    def _expire_since_id(self, state: dict[str, Any], log: RunLog) -> bool:
        """Recent search refuses a since_id older than 7 days: start again from the window's
        edge and record what was missed while the collector did not run."""
        if self.endpoint != "recent" or not state.get("since_id") or state.get("next_token"):
            return False
        at = tweet_time(state["since_id"])
        earliest = self.now() - RECENT_WINDOW + dt.timedelta(minutes=1)
        if at is not None and at < earliest:
            log.gaps.append(Gap(at, earliest, "X recent search reaches back 7 days only; the "
                                              "collector did not run in between"))
            state.update(since_id=None, start_time=iso(earliest))
            return True
        return False

    def _end(self) -> dt.datetime | None:
        end = self.campaign.end_at
        if end is None:
            return None
        latest = self.now() - dt.timedelta(seconds=30)  # the API wants end_time in the past
        return end if end < latest else None

    def pages(self, cursor: Any, log: RunLog) -> Iterator[RawPage]:
        state = {"since_id": None, "start_time": None, "next_token": None,
                 "pending_newest_id": None, **(cursor or {})}
        month = month_key(self.now())
        budget = state.get("budget") or {}
        read = budget.get("read", 0) if budget.get("month") == month else 0
        api = self._client()
        search = (api.search_all_tweets if self.endpoint == "all"
                  else api.search_recent_tweets)
        expired = self._expire_since_id(state, log)
        if not expired and not state.get("next_token") and not state.get("since_id"):
            start = self._start(log if cursor is None else RunLog())  # gap once, not per run
            state["start_time"] = iso(start) if start else None
        end = self._end()
        if (end and state["start_time"] and not state["since_id"]
                and not state["next_token"] and state["start_time"] >= iso(end)):
            log.message = "the campaign ended before the endpoint's reach; nothing to collect"
            return
        for _ in range(self.max_pages):
            size = MAX_RESULTS
            if self.budget is not None:
                size = min(MAX_RESULTS, self.budget - read)
                if size < MIN_RESULTS:
                    log.status = "budget"
                    log.message = (f"monthly budget of {self.budget} posts reached "
                                   f"({read} read in {month}); resumes next month")
                    if log.requests:  # the run that reached it; later runs add no gap
                        log.gaps.append(Gap(None, self.now(), log.message))
                    return
            params = self._params(state, size)
            try:
                response = call(functools.partial(search, **params), log=log,
                                classify=self._classify, sleep=self.sleep)
                origin = response.url
                text = body_text(response.content, origin)
                body = parse_json(text, origin, dict)
                if not isinstance(body.get("meta", {}), dict):
                    raise Malformed(f"malformed response from {origin}: no meta", origin, text)
            except CallFailed as exc:
                exc.apply(log)
                return
            meta = body.get("meta", {})
            before = dict(state)
            count = int(meta.get("result_count") or len(body.get("data") or []))
            read += count
            newest = state.get("pending_newest_id") or meta.get("newest_id")
            if meta.get("next_token"):
                state.update(next_token=meta["next_token"], pending_newest_id=newest)
            else:
                state.update(next_token=None, pending_newest_id=None,
                             since_id=newest or state.get("since_id"))
                if state["since_id"]:
                    state["start_time"] = None
            state["budget"] = {"month": month, "read": read}
            if count == 0 and state == {**before, "budget": state["budget"]}:
                return  # nothing new and nothing to remember
            yield RawPage("x_v2_page", "x", text, request=origin, client=CLIENT,
                          retrieved_at=self.now(), cursor=dict(state))
            if not state["next_token"]:
                return
            if state["next_token"] == before.get("next_token"):  # would only repeat itself
                log.errors += 1
                log.message = ("X sent back the next_token it was asked for; stopped (the "
                               "next run asks again)")
                return
        log.message = f"stopped after max_pages={self.max_pages}; continues next run"

    def _params(self, state: dict[str, Any], size: int) -> dict[str, Any]:
        params: dict[str, Any] = {
            "query": self.query, **FIELDS, "max_results": size,
        }
        if state.get("since_id"):
            params["since_id"] = state["since_id"]
        elif state.get("start_time"):
            params["start_time"] = state["start_time"]
        if state.get("next_token"):
            params["next_token"] = state["next_token"]
        end = self._end()
        if end:
            params["end_time"] = iso(end)
        return params

    def _classify(self, exc: BaseException) -> CallFailed | None:
        tier = ("full-archive search (endpoint = 'all') needs Pro or Enterprise access"
                if self.endpoint == "all" else "recent search needs Basic access or above")
        return classify(exc, f"X {self.endpoint} search", tier, self.now())


def client(needed_by: str) -> tweepy.Client:
    """A tweepy client on X_BEARER_TOKEN that returns the raw response (body as received)."""
    token = credentials.require("X_BEARER_TOKEN", needed_by)
    out = tweepy.Client(bearer_token=token, wait_on_rate_limit=False,
                        return_type=requests.Response)
    out.session = TimeoutSession()
    return out


def classify(exc: BaseException, where: str, tier: str, now: dt.datetime) -> CallFailed | None:
    """What a tweepy exception means for the run (tracker.sources.retry); `tier` names the
    access a 403 is about."""
    if isinstance(exc, tweepy.TooManyRequests):
        return RateLimited(f"{where}: rate limited (429)",
                           resume_at(exc.reset_time, DEFAULT_RESET_SECONDS, now))
    if isinstance(exc, tweepy.Unauthorized):
        return Refused("X_BEARER_TOKEN was refused by the X API (401 Unauthorized): "
                       "check the token")
    if isinstance(exc, tweepy.Forbidden):
        detail = "; ".join(exc.api_messages)[:200]
        return Refused(f"X API refused X_BEARER_TOKEN's access tier (403 Forbidden): {tier}"
                       + (f" ({detail})" if detail else ""))
    if isinstance(exc, tweepy.TwitterServerError):
        return Transient(f"{where}: server error {exc.response.status_code}")
    if isinstance(exc, tweepy.HTTPException):
        detail = "; ".join(exc.api_messages)[:300]
        return CallFailed(f"{where}: HTTP {exc.response.status_code}: {detail}")
    if is_timeout_or_network(exc):
        return Transient(f"{where}: {type(exc).__name__}")
    return None
