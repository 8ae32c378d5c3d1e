"""Scheduling policy: triggers with jitter and a misfire grace that fit the interval, backoff."""

from __future__ import annotations

import datetime as dt

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from ..config import DaemonSettings, Schedule

MAX_DEFAULT_JITTER = 30


def period_seconds(schedule: Schedule) -> int:
    """The (typical) time between two runs of a schedule."""
    if schedule.interval_seconds:
        return schedule.interval_seconds
    assert schedule.cron, "a schedule has an interval or a cron expression (config.py)"
    trig = CronTrigger(**_cron_fields(schedule.cron), timezone=dt.UTC)
    now = dt.datetime.now(dt.UTC)
    first = trig.get_next_fire_time(None, now)
    second = trig.get_next_fire_time(first, first + dt.timedelta(seconds=1))
    return max(1, int((second - first).total_seconds())) if first and second else 3600


def trigger(schedule: Schedule, settings: DaemonSettings) -> BaseTrigger:
    """Interval or cron trigger (cron in UTC) with jitter."""
    jitter = settings.jitter
    if jitter is None:
        jitter = min(MAX_DEFAULT_JITTER, period_seconds(schedule) // 10)
    if schedule.cron:
        return CronTrigger(**_cron_fields(schedule.cron), timezone=dt.UTC, jitter=jitter or None)
    return IntervalTrigger(seconds=schedule.interval_seconds, timezone=dt.UTC,
                           jitter=jitter or None)


def _cron_fields(expr: str) -> dict[str, str]:
    minute, hour, day, month, dow = expr.split()
    return {"minute": minute, "hour": hour, "day": day, "month": month, "day_of_week": dow}


def misfire_grace(schedule: Schedule, settings: DaemonSettings) -> int:
    """How late a run may start and still run: one period unless configured.

    APScheduler's default (1 s) silently skips a run whenever the pool was busy for a moment.
    Late runs of the same job are coalesced into one, so a long grace never piles up runs.
    """
    return settings.misfire_grace or period_seconds(schedule)


def backoff_seconds(failures: int, settings: DaemonSettings) -> int:
    """Delay before retrying after `failures` consecutive failed runs (1, 2, ...)."""
    if failures <= 0:
        return 0
    return min(settings.backoff_max, settings.backoff_base * 2 ** min(failures - 1, 30))
