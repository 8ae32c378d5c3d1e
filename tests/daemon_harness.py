"""Run `tracker` with mocked sources, for the daemon tests (a real subprocess).

Usage: python tests/daemon_harness.py --config FILE run

Environment (all optional):
  HARNESS_PAGE_DELAY=0.2         sleep this long before each page (a slow network)
  HARNESS_FAIL=source-name       that source raises SourceError on every run
  HARNESS_RATE_LIMIT=source-name that source stops after its pages with status
                                 'rate_limited' and resume_after = now + HARNESS_RESUME s
  HARNESS_MAX_HOLD=0             the loader's session limit (a slow machine: each load
                                 session ends after one entry)
  HARNESS_REPORT_DELAY=5         the daemon's reports take 5 s longer (a large warehouse);
                                 `<reports dir>/.rendering` exists meanwhile
"""

from __future__ import annotations

import datetime as dt
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tracker import pipeline, sources  # noqa: E402
from tracker.errors import SourceError  # noqa: E402


class MockedSource:
    def __init__(self, inner, name: str):
        self.inner = inner
        self.name = name

    def pages(self, cursor, log):
        if os.environ.get("HARNESS_FAIL") == self.name:
            log.requests += 1
            raise SourceError(f"{self.name}: simulated outage (HTTP 503)")
        delay = float(os.environ.get("HARNESS_PAGE_DELAY", "0"))
        for page in self.inner.pages(cursor, log):
            time.sleep(delay)
            yield page
        if os.environ.get("HARNESS_RATE_LIMIT") == self.name:
            log.status = "rate_limited"
            log.message = "rate limit reached"
            log.resume_after = (dt.datetime.now(dt.UTC)
                                + dt.timedelta(seconds=float(os.environ["HARNESS_RESUME"])))


def build(campaign, cfg, **kwargs):
    return MockedSource(sources.build_source(campaign, cfg, **kwargs), cfg.name)


pipeline.build_source = build
if "HARNESS_REPORT_DELAY" in os.environ:
    from tracker.daemon import build as daemon_build

    real_write_reports = daemon_build.write_reports

    def slow_write_reports(con, cfg):
        marker = cfg.reports / ".rendering"
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.touch()
        try:
            time.sleep(float(os.environ["HARNESS_REPORT_DELAY"]))
            return real_write_reports(con, cfg)
        finally:
            marker.unlink()

    daemon_build.write_reports = slow_write_reports
if "HARNESS_MAX_HOLD" in os.environ:
    from tracker.daemon import loader

    loader.MAX_HOLD = float(os.environ["HARNESS_MAX_HOLD"])

if __name__ == "__main__":
    from tracker.cli import main

    main()
