"""What the live collectors share: bounded retries, and how a failed call ends a run.

A collector never sleeps for minutes and never retries in a tight loop. Each platform maps its
client library's exceptions onto four outcomes (`classify`):

- `RateLimited`: end the run now, record when it may resume; the next run continues from the
  committed cursor (and is deferred until then by the pipeline).
- `Refused` (401/403): one line naming the credential or access tier; the source fails, the
  other sources carry on.
- `Transient` (5xx, timeouts, network): retried a few times with a short backoff, then a
  recorded failure.
- `Malformed` (a body that is not the JSON the endpoint promises): the body goes to quarantine
  and is never parsed into rows.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable
from typing import Any, TypeVar

import requests

from ..pages import RunLog
from ..timeutil import utcnow

T = TypeVar("T")

ATTEMPTS = 3              # tries per call for transient failures
BACKOFF_SECONDS = 2.0     # first backoff; doubled per retry, capped at MAX_BACKOFF
MAX_BACKOFF = 20.0
TIMEOUT_SECONDS = 30.0    # per HTTP request


class CallFailed(Exception):
    """A call that ends the current run (or the current instance, for Mastodon)."""

    status = "failed"

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message

    def apply(self, log: RunLog) -> None:
        """Record this outcome on the run log."""
        log.errors += 1
        log.status = self.status
        log.message = join_message(log.message, self.message)


class RateLimited(CallFailed):
    status = "rate_limited"

    def __init__(self, message: str, resume_after: dt.datetime):
        super().__init__(message)
        self.resume_after = resume_after

    def apply(self, log: RunLog) -> None:
        log.rate_limit_waits += 1
        if log.status != "failed":
            log.status = self.status
        log.resume_after = max(filter(None, [log.resume_after, self.resume_after]))
        log.message = join_message(log.message, f"{self.message}; resumes after "
                                          f"{self.resume_after:%Y-%m-%d %H:%M:%S} UTC")


class Refused(CallFailed):
    """401/403: a credential or access tier is missing."""


class Transient(CallFailed):
    """5xx, timeout or network failure, after the retries."""


class Malformed(CallFailed):
    def __init__(self, message: str, origin: str, raw: str | bytes | None):
        super().__init__(message)
        self.origin = origin
        self.raw = raw

    def apply(self, log: RunLog) -> None:
        raw = self.raw.decode("utf-8", "backslashreplace") if isinstance(self.raw, bytes) \
            else self.raw
        log.quarantine.append((self.origin, self.message, raw or ""))
        super().apply(log)


def join_message(old: str | None, new: str) -> str:
    return f"{old}; {new}" if old else new


def resume_at(reset_epoch: Any, default_seconds: int, now: dt.datetime | None = None
              ) -> dt.datetime:
    """When a rate-limited source may call again: the server's reset time (epoch seconds) if
    it gave a usable one, else `default_seconds` from now."""
    now = now or utcnow()
    try:
        at = dt.datetime.fromtimestamp(int(float(reset_epoch)), dt.UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return now + dt.timedelta(seconds=default_seconds)
    if at <= now:  # a reset in the past means "now"; still wait a moment, never loop
        return now + dt.timedelta(seconds=5)
    return min(at, now + dt.timedelta(hours=24))


def backoff_sleep(seconds: float) -> None:
    """The only sleep of a collector: a short backoff between retries (tests replace it)."""
    time.sleep(seconds)


def call(fn: Callable[[], T], *, log: RunLog, classify: Callable[[BaseException], Any],
         sleep: Callable[[float], None] | None = None, attempts: int = ATTEMPTS) -> T:
    """Run `fn` (one HTTP request), retrying `Transient` failures with a bounded backoff.

    `classify` maps a library exception to a `CallFailed` (or None to let it propagate).
    Every attempt counts as one request in the run log.
    """
    for attempt in range(attempts):
        log.requests += 1
        try:
            return fn()
        except Exception as exc:  # noqa: BLE001 - classified below, re-raised otherwise
            outcome = classify(exc)
            if outcome is None:
                raise
            if isinstance(outcome, Transient) and attempt + 1 < attempts:
                log.errors += 1
                (sleep or backoff_sleep)(min(BACKOFF_SECONDS * 2 ** attempt, MAX_BACKOFF))
                continue
            if isinstance(outcome, Transient):
                outcome.message += f" (gave up after {attempts} attempts)"
            raise outcome from exc
    raise AssertionError("unreachable")


def parse_json(raw: bytes | str, origin: str, expect: type) -> Any:
    """Parse a response body, or raise `Malformed` carrying the body for quarantine."""
    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
        value = json.loads(text)
    except (UnicodeDecodeError, ValueError) as exc:
        raise Malformed(f"malformed response from {origin}: {exc}", origin, raw) from None
    if not isinstance(value, expect):
        raise Malformed(f"malformed response from {origin}: expected a JSON "
                        f"{'array' if expect is list else 'object'}", origin, raw)
    return value


def body_text(raw: bytes, origin: str) -> str:
    """The body as text, exactly as received (UTF-8), or `Malformed`."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise Malformed(f"malformed response from {origin}: {exc}", origin, raw) from None


def is_timeout_or_network(exc: BaseException) -> bool:
    return isinstance(exc, requests.Timeout | requests.ConnectionError)


class TimeoutSession(requests.Session):
    """A requests session with a default timeout (tweepy passes none) that keeps the last
    response, so the raw body is available exactly as received."""

    def __init__(self, timeout: float = TIMEOUT_SECONDS):
        super().__init__()
        self.default_timeout = timeout
        self.last: requests.Response | None = None
        self.urls: list[str] = []
        self.hooks["response"].append(self._keep)

    def _keep(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        self.last = response
        self.urls.append(response.url)

    def request(self, method: str, url: str | bytes,
                *args: Any, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", self.default_timeout)
        if kwargs["timeout"] is None:
            kwargs["timeout"] = self.default_timeout
        return super().request(method, url, *args, **kwargs)


def month_key(now: dt.datetime | None = None) -> str:
    return f"{(now or utcnow()):%Y-%m}"
