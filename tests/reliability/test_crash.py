"""Crash loop: SIGKILL `tracker run`, `tracker import` and `tracker build` mid-way."""

from __future__ import annotations

import os
import time

import pytest

from .crashloop import crash_loop

pytestmark = pytest.mark.reliability


def test_sigkill_loop_of_the_daemon_loses_and_duplicates_nothing(tmp_path):
    kills = int(os.environ.get("TRACKER_RELIABILITY_KILLS", "20"))
    seed = int(os.environ.get("TRACKER_TEST_SEED", time.time_ns() % 100_000))
    fig = crash_loop(tmp_path, kills, seed)
    assert fig["posts_lost"] == 0 and fig["pages_lost"] == 0, fig
    assert fig["posts_extra"] == 0 and fig["duplicates"] == 0, fig
    assert fig["tables_equal"], fig
    assert fig["left_running"] == 0, fig
    # the kills hit collection, not an idle daemon: most land inside a run
    assert fig["kills_mid_run"] > kills // 3, fig
