"""Mastodon statuses by uri, one request each: GET /api/v1/statuses/:id on the status's home
instance (the host of its uri), through Mastodon.py with the Mastodon collector's clients
(tokens configured for that instance are used). The home instance holds the current counts;
a status it no longer has (404: deleted, or not visible) is answered `not_found`. A uri that is
not a Mastodon status uri (https://HOST/users/NAME/statuses/ID, e.g. another server software)
is answered `error`. An instance that fails is not asked again in the same pass."""

from __future__ import annotations

import datetime as dt
import re
import warnings
from collections.abc import Callable
from typing import Any, ClassVar

import mastodon

from ..config import Campaign, SourceConfig
from ..pages import RawPage, RunLog
from ..sources.mastodon import CLIENT, MastodonSource
from ..sources.retry import CallFailed, RateLimited, Transient, body_text, call, parse_json
from ..timeutil import utcnow
from .x import ERROR, FOUND, NOT_FOUND

STATUS_URI = re.compile(r"https://([^/\s]+)/users/[^/\s]+/statuses/([0-9A-Za-z]+)")


class _Gone(CallFailed):
    """404 for one status: an answer, not a failure of the pass."""


class MastodonLookup:
    platform: ClassVar[str] = "mastodon"
    batch: ClassVar[int] = 1

    def __init__(self, campaign: Campaign, cfg: SourceConfig | None, *,
                 now: Callable[[], dt.datetime] = utcnow):
        cfg = cfg or SourceConfig("mastodon", "mastodon", {"instances": []})
        self.source = MastodonSource(campaign, cfg, now=now)
        self.now = now
        self.clients: dict[str, Any] = {}
        self.failed: dict[str, str] = {}      # instance -> why it is not asked again

    def lookup(self, uris: list[str], log: RunLog
               ) -> tuple[RawPage | None, dict[str, tuple[str, str | None]]]:
        (uri,) = uris
        m = STATUS_URI.fullmatch(uri)
        if not m:
            return None, {uri: (ERROR, "not a Mastodon status uri (https://HOST/users/NAME/"
                                       "statuses/ID): its home instance cannot be asked")}
        host, local = m.group(1).lower(), m.group(2)
        if host in self.failed:
            return None, {}
        if host not in self.clients:
            self.clients[host] = self.source.client(host)
        client, session = self.clients[host]

        def get() -> Any:
            session.last = None
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                client.status(local)
            return session.last

        def classify(exc: BaseException) -> CallFailed | None:
            if isinstance(exc, mastodon.MastodonNotFoundError):
                return _Gone(f"{host}: 404")
            return self.source.classify(exc, client, session, host)

        try:
            response = call(get, log=log, classify=classify, sleep=self.source.sleep)
        except _Gone:
            return None, {uri: (NOT_FOUND, f"{host} answered 404 Not Found (deleted, or not "
                                           "visible)")}
        except RateLimited:
            raise
        except CallFailed as exc:
            self.failed[host] = exc.message
            log.errors += 1
            return None, {}
        if response is None:
            raise Transient(f"{host}: no response")
        origin = response.url
        text = body_text(response.content, origin)
        parse_json(text, origin, dict)
        page = RawPage("mastodon_statuses", "mastodon", text, request=origin, client=CLIENT,
                       retrieved_at=self.now())
        return page, {uri: (FOUND, None)}
