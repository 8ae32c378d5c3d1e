"""Bluesky through atproto: app.bsky.feed.searchPosts per hashtag, follower counts through
app.bsky.actor.getProfiles.

Per tag the cursor holds {"since", "cursor", "pending_since", "oldest", "count"}: a pagination
runs newest first from `since`; while it is under way `cursor` is kept so a restart continues
it, and `since` moves to the newest post time (`pending_since`) only after its last page.
Authors whose profile was fetched today are listed under "profiled" so each is asked once a
day. The login session is reused across runs (createSession allows 30 per 5 minutes) and kept
in `<warehouse folder>/.bluesky-session`, readable by its owner only.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Callable, Iterator
from importlib.metadata import version
from pathlib import Path
from typing import Any, ClassVar

import httpx
from atproto import Client, SessionEvent
from atproto_client import exceptions as atx
from atproto_client.request import Request

from .. import credentials
from ..config import Campaign, SourceConfig
from ..hashtags import normalise_tag
from ..pages import Gap, RawPage, RunLog
from ..timeutil import iso, parse_iso, utcnow
from .retry import (
    TIMEOUT_SECONDS,
    CallFailed,
    Malformed,
    RateLimited,
    Refused,
    Transient,
    body_text,
    call,
    parse_json,
    resume_at,
)

LIMIT = 100               # posts per searchPosts page
PROFILE_BATCH = 25        # actors per getProfiles call
CEILING = 10_000          # searchPosts stops paging at about this many results per query
DEFAULT_RESET_SECONDS = 5 * 60
SESSION_FILE = ".bluesky-session"
CLIENT = f"atproto/{version('atproto')}"


class SessionExpired(Refused):
    """The saved session was refused: log in again with the app password, once."""


def sort_time(post: dict[str, Any]) -> str | None:
    """The time Bluesky sorts and filters by (`since`): the earlier of createdAt/indexedAt."""
    times = []
    for value in ((post.get("record") or {}).get("createdAt"), post.get("indexedAt")):
        try:
            times.append(dt.datetime.fromisoformat(str(value).replace("Z", "+00:00")))
        except ValueError:
            continue
    times = [t if t.tzinfo else t.replace(tzinfo=dt.UTC) for t in times]
    return iso(min(times)) if times else None


class BlueskySource:
    platform: ClassVar[str] = "bluesky"
    primary_key: ClassVar[tuple[str, ...]] = ("platform", "uri")
    cursor_field: ClassVar[str] = "since"

    def __init__(self, campaign: Campaign, cfg: SourceConfig, *, state_dir: Path,
                 sleep: Callable[[float], None] | None = None,
                 now: Callable[[], dt.datetime] = utcnow):
        self.campaign = campaign
        self.name = cfg.name
        self.max_pages = cfg.options.get("max_pages", 50)
        self.lang = cfg.options.get("lang")
        seen: dict[str, str] = {}
        for tag in campaign.hashtags:
            seen.setdefault(normalise_tag(tag), tag.lstrip("#"))
        self.tags = list(seen.values())
        self.session_path = Path(state_dir) / SESSION_FILE
        self.sleep = sleep
        self.now = now
        self._last: httpx.Response | None = None
        self._from_saved = False
        self._needed_by = f"source '{self.name}' of campaign '{campaign.name}'"

    # --- session ---------------------------------------------------------------------------
    def client(self) -> Client:
        """An atproto client that keeps each raw response (also used by tracker/lookup)."""
        def keep(response: httpx.Response) -> None:
            response.read()
            self._last = response

        client = Client(request=Request(timeout=TIMEOUT_SECONDS,
                                        event_hooks={"response": [keep]}))
        client.on_session_change(self._save_session)
        return client

    def _save_session(self, event: SessionEvent, session: Any) -> None:
        if event not in (SessionEvent.CREATE, SessionEvent.REFRESH):
            return
        self.session_path.parent.mkdir(parents=True, exist_ok=True)
        text = json.dumps({"handle": session.handle, "session": session.encode()})
        fd = os.open(self.session_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.chmod(self.session_path, 0o600)

    def login(self, client: Client, log: RunLog, *, fresh: bool = False) -> None:
        """Log in from the saved session, else with the app password."""
        handle = credentials.require("BLUESKY_HANDLE", self._needed_by)
        if not fresh and self.session_path.exists():
            try:
                saved = json.loads(self.session_path.read_text(encoding="utf-8"))
                if saved.get("handle", "").lower() == handle.lower().lstrip("@"):
                    client.login(session_string=saved["session"], fetch_bsky_profile=False)
                    self._from_saved = True
                    return  # no request: the session is refreshed on use when due
            except (ValueError, KeyError, TypeError, atx.AtProtocolError):
                pass  # unreadable or foreign: log in again
        self._from_saved = False
        password = credentials.require("BLUESKY_APP_PASSWORD", self._needed_by)
        call(lambda: client.login(handle, password, fetch_bsky_profile=False), log=log,
             classify=self._classify, sleep=self.sleep)

    def query(self, client: Client, log: RunLog, method: Callable[[dict], Any],
               params: dict[str, Any]) -> tuple[Any, str, str]:
        """One XRPC query; returns (parsed JSON, raw body, url). Re-logs in once if the saved
        session is refused."""
        for attempt in (0, 1):
            self._last = None
            try:
                call(lambda: method(params), log=log, classify=self._classify, sleep=self.sleep)
                break
            except SessionExpired:
                if attempt:
                    raise
                self.session_path.unlink(missing_ok=True)
                self.login(client, log, fresh=True)
        response = self._last
        if response is None:
            raise Transient("Bluesky: no response")
        origin = str(response.url)
        text = body_text(response.content, origin)
        return parse_json(text, origin, dict), text, origin

    # --- paging ----------------------------------------------------------------------------
    def pages(self, cursor: Any, log: RunLog) -> Iterator[RawPage]:
        state: dict[str, Any] = json.loads(json.dumps(cursor or {}))
        state.setdefault("tags", {})
        today = self.now().date().isoformat()
        if (state.get("profiled") or {}).get("day") != today:
            state["profiled"] = {"day": today, "dids": []}
        client = self.client()
        try:
            self.login(client, log)
            for tag in self.tags:
                yield from self._tag(client, tag, state, log)
        except CallFailed as exc:
            exc.apply(log)

    def _tag(self, client: Client, tag: str, state: dict[str, Any], log: RunLog
             ) -> Iterator[RawPage]:
        st = state["tags"].setdefault(tag, {})
        start = self.campaign.start_at
        if st.get("since") is None and start and not st.get("cursor"):
            st["since"] = iso(start)
        for _ in range(self.max_pages):
            asked = st.get("cursor")
            params: dict[str, Any] = {"q": f"#{tag}", "tag": [tag], "sort": "latest",
                                      "limit": LIMIT}
            for key in ("since", "cursor"):
                if st.get(key):
                    params[key] = st[key]
            if self.lang:
                params["lang"] = self.lang
            if self.campaign.end_at:
                params["until"] = iso(self.campaign.end_at)
            body, text, origin = self.query(client, log, client.app.bsky.feed.search_posts,
                                             params)
            posts = body.get("posts")
            if not isinstance(posts, list):
                raise Malformed(f"malformed response from {origin}: no posts", origin, text)
            if not posts and not st.get("cursor"):
                return  # nothing new: nothing stored, nothing to remember
            times = [t for p in posts if isinstance(p, dict) and (t := sort_time(p))]
            st["pending_since"] = st.get("pending_since") or (max(times) if times else None)
            if times:
                st["oldest"] = min(times + ([st["oldest"]] if st.get("oldest") else []))
            st["count"] = st.get("count", 0) + len(posts)
            profiles = list(self._profiles(client, posts, state, log))
            if body.get("cursor") and posts:
                st["cursor"] = body["cursor"]
            else:
                self._finish(tag, st, log)
            at = self.now()
            snapshot = json.loads(json.dumps(state))
            yield RawPage("bluesky_posts", "bluesky", text, request=origin, client=CLIENT,
                          retrieved_at=at, cursor=snapshot)
            for ptext, porigin in profiles:
                yield RawPage("bluesky_profiles", "bluesky", ptext, request=porigin,
                              client=CLIENT, retrieved_at=at, cursor=snapshot)
            if not st.get("cursor"):
                return
            if st["cursor"] == asked:   # the API repeats itself: asking again would too
                # an error, not the end of the results: the run fails (the other tags are
                # still collected) and the next run asks the same cursor again
                CallFailed(f"Bluesky #{tag}: the page at cursor {asked!r} pointed to itself; "
                           "stopped (the next run asks again)").apply(log)
                return
        log.message = f"stopped after max_pages={self.max_pages}; continues next run"

    def _finish(self, tag: str, st: dict[str, Any], log: RunLog) -> None:
        if st.get("count", 0) >= CEILING:
            log.gaps.append(Gap(
                parse_iso(st.get("since")), parse_iso(st.get("oldest")),
                f"possible gap: Bluesky search for #{tag} stopped at {st['count']} results "
                f"(its ceiling is about {CEILING} per query)"))
        st.update(since=st.get("pending_since") or st.get("since"), cursor=None,
                  pending_since=None, oldest=None, count=0)

    def _profiles(self, client: Client, posts: list[Any], state: dict[str, Any],
                  log: RunLog) -> Iterator[tuple[str, str]]:
        done = set(state["profiled"]["dids"])
        dids = list(dict.fromkeys(
            d for p in posts if isinstance(p, dict)
            and isinstance(d := (p.get("author") or {}).get("did"), str) and d not in done))
        for i in range(0, len(dids), PROFILE_BATCH):
            batch = dids[i:i + PROFILE_BATCH]
            body, text, origin = self.query(client, log, client.app.bsky.actor.get_profiles,
                                             {"actors": batch})
            if not isinstance(body.get("profiles"), list):
                raise Malformed(f"malformed response from {origin}: no profiles", origin, text)
            state["profiled"]["dids"].extend(batch)
            yield text, origin

    def _classify(self, exc: BaseException) -> CallFailed | None:
        if isinstance(exc, CallFailed):
            return exc
        response = getattr(exc, "response", None)
        status = getattr(response, "status_code", None)
        error = getattr(getattr(response, "content", None), "error", None)
        if isinstance(exc, atx.RateLimitExceededError):
            headers = getattr(response, "headers", None) or {}
            return RateLimited("Bluesky: rate limited (429)",
                               resume_at(headers.get("ratelimit-reset"), DEFAULT_RESET_SECONDS,
                                         self.now()))
        if self._from_saved and (error in ("ExpiredToken", "InvalidToken")
                                 or isinstance(exc, atx.UnauthorizedError)):
            return SessionExpired("Bluesky: the saved session was refused")
        if isinstance(exc, atx.UnauthorizedError) or error == "AuthenticationRequired":
            return Refused(f"Bluesky refused BLUESKY_HANDLE / BLUESKY_APP_PASSWORD ({status}"
                           f"{' ' + error if error else ''}): check the handle and app password")
        if isinstance(exc, atx.InvokeTimeoutError | atx.NetworkError) or (
                status is not None and status >= 500):
            what = f"server error {status}" if status else "network error or timeout"
            return Transient(f"Bluesky: {what}")
        if isinstance(exc, ValueError | atx.ModelError) and self._last is not None:
            return Malformed(f"malformed response from {self._last.url}", str(self._last.url),
                             self._last.content)
        if isinstance(exc, atx.RequestErrorBase):
            return CallFailed(f"Bluesky: HTTP {status} {error or ''}".rstrip())
        return None
