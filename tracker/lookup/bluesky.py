"""Bluesky posts by uri: app.bsky.feed.getPosts, 25 uris a request, through atproto with the
Bluesky collector's login and session (tracker.sources.bluesky). The page is a
`bluesky_posts` page like a search page. getPosts leaves out posts it cannot show (deleted,
or hidden): those are answered `not_found`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

from atproto import Client

from ..config import Campaign, SourceConfig
from ..pages import RawPage, RunLog
from ..sources.bluesky import CLIENT, BlueskySource
from ..sources.retry import Malformed
from ..timeutil import utcnow
from .x import FOUND, NOT_FOUND

BATCH = 25      # uris per getPosts (the endpoint's maximum)
MISSING = "not returned by app.bsky.feed.getPosts (deleted, or hidden by its author)"


class BlueskyLookup:
    platform: ClassVar[str] = "bluesky"
    batch: ClassVar[int] = BATCH

    def __init__(self, campaign: Campaign, cfg: SourceConfig, state_dir: Path, *,
                 now: Callable[[], dt.datetime] = utcnow):
        self.source = BlueskySource(campaign, cfg, state_dir=state_dir, now=now)
        self.now = now
        self.client: Client | None = None

    def lookup(self, uris: list[str], log: RunLog
               ) -> tuple[RawPage | None, dict[str, tuple[str, str | None]]]:
        if self.client is None:
            client = self.source.client()
            self.source.login(client, log)
            self.client = client
        client = self.client
        params: dict[str, Any] = {"uris": uris}
        body, text, origin = self.source.query(client, log, client.app.bsky.feed.get_posts,
                                                params)
        posts = body.get("posts")
        if not isinstance(posts, list):
            raise Malformed(f"malformed response from {origin}: no posts", origin, text)
        got = {p.get("uri") for p in posts if isinstance(p, dict)}
        page = RawPage("bluesky_posts", "bluesky", text, request=origin, client=CLIENT,
                       retrieved_at=self.now())
        return page, {u: (FOUND, None) if u in got else (NOT_FOUND, MISSING) for u in uris}
