"""Load beside readers: collection goes on while two processes query in a loop."""

from __future__ import annotations

import os

import pytest

from .readers import beside_readers

pytestmark = pytest.mark.reliability


def test_two_readers_in_a_loop_beside_collection_fail_never_and_lose_nothing(tmp_path):
    seconds = float(os.environ.get("TRACKER_RELIABILITY_SECONDS", "30"))
    fig = beside_readers(tmp_path, seconds)
    assert fig["reader_exit_codes"] == [0, 0], fig
    assert fig["reader_failures"] == 0 and fig["count_went_down"] == 0, fig
    assert fig["posts_lost"] == 0 and fig["posts_extra"] == 0 and fig["tables_equal"], fig
    assert fig["daemon_exit"] == 0, fig
    assert fig["reader_queries"] > 100 and fig["loads"] >= 3, fig   # it loaded beside them
    # the readers saw runs arrive as they ran (how many depends on the machine's load: 10-14
    # alone, 4 in a CI run with two test workers on two cores)
    assert fig["delay_s"]["n"] >= 3, fig
