"""Mastodon hashtag timelines through Mastodon.py, on every configured instance.

Paging is forward in time with `min_id`: the server answers with the statuses immediately
after `min_id` (newest first within that window), so the next request uses the newest id of
the page. A page shorter than the limit means "caught up": in steady state one request per
full page of new statuses, plus one, per (instance, tag).

The cursor, committed with each page: {"min_id": {"<instance> #<tag>": "<status id>"}}.
Status ids are per instance; a status seen on two instances is one post (its `uri`).
"""

from __future__ import annotations

import datetime as dt
import warnings
from collections.abc import Callable, Iterator
from importlib.metadata import version
from typing import Any, ClassVar

import mastodon
from mastodon import Mastodon

from .. import credentials
from ..config import Campaign, SourceConfig
from ..hashtags import normalise_tag
from ..pages import RawPage, RunLog
from ..timeutil import utcnow
from .retry import (
    TIMEOUT_SECONDS,
    CallFailed,
    Malformed,
    RateLimited,
    Refused,
    TimeoutSession,
    Transient,
    body_text,
    call,
    join_message,
    parse_json,
    resume_at,
)

LIMIT = 40                           # the most statuses a timeline page returns
DEFAULT_RESET_SECONDS = 5 * 60       # Mastodon's rate-limit window
DEFAULT_BACKFILL = dt.timedelta(days=7)
CLIENT = f"Mastodon.py/{version('Mastodon.py')}"


def snowflake(at: dt.datetime) -> str:
    """The smallest Mastodon status id at or after `at` (ids are time-based)."""
    return str((int(at.timestamp()) * 1000) << 16)


def newest_id(statuses: list[Any]) -> str | None:
    """The id to page on from: the largest numeric id (Mastodon), else the first status's id
    (servers with non-numeric ids answer newest first too)."""
    ids = [str(s.get("id")) for s in statuses if isinstance(s, dict) and s.get("id")]
    if ids and all(i.isdigit() for i in ids):
        return max(ids, key=int)
    return ids[0] if ids else None


class MastodonSource:
    platform: ClassVar[str] = "mastodon"
    primary_key: ClassVar[tuple[str, ...]] = ("platform", "uri")
    cursor_field: ClassVar[str] = "min_id"

    def __init__(self, campaign: Campaign, cfg: SourceConfig, *,
                 sleep: Callable[[float], None] | None = None,
                 now: Callable[[], dt.datetime] = utcnow):
        self.campaign = campaign
        self.name = cfg.name
        self.instances = [i.strip().removeprefix("https://").rstrip("/")
                          for i in cfg.options["instances"]]
        self.tokens: dict[str, str] = dict(cfg.options.get("tokens") or {})
        self.max_pages = cfg.options.get("max_pages", 50)
        seen: dict[str, str] = {}
        for tag in campaign.hashtags:
            seen.setdefault(normalise_tag(tag), tag.lstrip("#"))
        self.tags = list(seen.values())
        self.sleep = sleep
        self.now = now
        self._feed_closed = False

    def _first_min_id(self) -> str:
        if self.campaign.start_at:
            return snowflake(self.campaign.start_at)
        return snowflake(self.now() - DEFAULT_BACKFILL)

    def client(self, instance: str) -> tuple[Mastodon, TimeoutSession]:
        """A Mastodon.py client for one instance (also used by tracker/lookup)."""
        token = None
        if instance in self.tokens:
            token = credentials.require(
                self.tokens[instance],
                f"instance {instance} of source '{self.name}' of campaign "
                f"'{self.campaign.name}'")
        session = TimeoutSession()
        client = Mastodon(api_base_url=f"https://{instance}", access_token=token,
                          ratelimit_method="throw", request_timeout=TIMEOUT_SECONDS,
                          session=session, version_check_mode="none", user_agent=CLIENT)
        return client, session

    def pages(self, cursor: Any, log: RunLog) -> Iterator[RawPage]:
        state: dict[str, str] = dict((cursor or {}).get("min_id") or {})
        worked, failed = 0, 0
        clients = {i: self.client(i) for i in self.instances}  # every token checked first
        for instance, (client, session) in clients.items():
            try:
                for tag in self.tags:
                    yield from self._tag(client, session, instance, tag, state, log)
                worked += 1
            except CallFailed as exc:
                exc.apply(log)
                failed += not isinstance(exc, RateLimited)
            # Mastodon.py asks the instance once whether its hashtag feed is public.
            log.requests += sum("/api/v2/instance" in url for url in session.urls)
        if failed:
            log.status = "failed" if not worked else "partial"

    def _tag(self, client: Mastodon, session: TimeoutSession, instance: str, tag: str,
             state: dict[str, str], log: RunLog) -> Iterator[RawPage]:
        key = f"{instance} #{tag}"
        first = key not in state
        min_id = state.get(key) or self._first_min_id()
        seen: set[str] = set()
        for _ in range(self.max_pages):
            statuses, text, origin = self._fetch(client, session, instance, tag, min_id, log)
            if not statuses:
                if self._feed_closed:
                    raise Refused(f"{instance}: its public hashtag timeline is closed to "
                                  f"visitors without an account; {_token_hint(instance)}")
                if first:
                    log.message = join_message(
                        log.message, f"{instance} returned no posts for #{tag} "
                                     "(none yet, or its hashtag feed is not public)")
                return
            newest = newest_id(statuses)
            if newest is None:
                raise Malformed(f"malformed response from {origin}: statuses without ids",
                                origin, text)
            # ids are opaque (snowflakes, flakes, ULIDs): a loop shows as a newest id again
            forward = newest != min_id and newest not in seen
            seen.add(newest)
            if forward:
                state[key] = min_id = newest
            yield RawPage("mastodon_statuses", "mastodon", text, request=origin, client=CLIENT,
                          retrieved_at=self.now(), cursor={"min_id": dict(state)})
            first = False
            if not forward:     # a repeated page, or ids going back: asking again would too
                log.errors += 1
                log.message = join_message(
                    log.message, f"{instance} #{tag}: the page after {min_id} did not move "
                                 "forward; stopped (the next run asks again)")
                return
            if len(statuses) < LIMIT:
                return

    def _fetch(self, client: Mastodon, session: TimeoutSession, instance: str, tag: str,
               min_id: str, log: RunLog) -> tuple[list[Any], str, str]:
        def get() -> Any:
            session.last = None
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                client.timeline_hashtag(tag, min_id=min_id, limit=LIMIT)
            self._feed_closed = any("unavailable" in str(w.message) for w in caught)
            return session.last

        def classify(exc: BaseException) -> CallFailed | None:
            return self.classify(exc, client, session, instance)

        response = call(get, log=log, classify=classify, sleep=self.sleep)
        if response is None:
            raise Transient(f"{instance}: no response")
        origin = response.url
        text = body_text(response.content, origin)
        return parse_json(text, origin, list), text, origin

    def classify(self, exc: BaseException, client: Mastodon, session: TimeoutSession,
                  instance: str) -> CallFailed | None:
        if isinstance(exc, CallFailed):
            return exc
        if isinstance(exc, mastodon.MastodonRatelimitError):
            return RateLimited(f"{instance}: rate limited (429)",
                               resume_at(client.ratelimit_reset, DEFAULT_RESET_SECONDS,
                                         self.now()))
        if isinstance(exc, mastodon.MastodonServerError):
            return Transient(f"{instance}: server error {_status(exc)}")
        if isinstance(exc, mastodon.MastodonNetworkError):
            return Transient(f"{instance}: network error or timeout")
        if isinstance(exc, mastodon.MastodonAPIError):
            code = _status(exc)
            if code in (401, 403):
                token = self.tokens.get(instance)
                what = (f"the token in {token} was refused" if token else
                        f"its public hashtag timeline needs an account; {_token_hint(instance)}")
                name = "Unauthorized" if code == 401 else "Forbidden"
                return Refused(f"{instance}: {code} {name}: {what}")
            if "parse" in str(exc) and session.last is not None:
                return Malformed(f"malformed response from {session.last.url}",
                                 session.last.url, session.last.content)
            return CallFailed(f"{instance}: HTTP {code}: {exc.args[-1] if exc.args else exc}")
        return None


def _token_hint(instance: str) -> str:
    return f'configure a token for it: tokens = {{ "{instance}" = "ENV_VAR_NAME" }}'


def _status(exc: BaseException) -> int | None:
    return next((a for a in exc.args if isinstance(a, int)), None)
