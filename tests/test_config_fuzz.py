"""Property-based fuzzing of the config parser: any input gives a Config or one ConfigError line."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tracker.config import load_config, parse_config, slugify
from tracker.errors import ConfigError

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False),
    st.text(max_size=30), st.dates(min_value=dt.date(1990, 1, 1)),
)
values = st.recursive(scalars, lambda children: st.one_of(
    st.lists(children, max_size=4),
    st.dictionaries(st.sampled_from(["name", "hashtags", "type", "platform", "posts", "timezone",
                                     "schedule", "interval", "cron", "events", "date", "label",
                                     "sources", "start", "end", "path", "x"]),
                    children, max_size=5)), max_leaves=20)
campaign = st.fixed_dictionaries({}, optional={
    "name": values, "hashtags": st.one_of(values, st.lists(st.text(max_size=12), max_size=3)),
    "timezone": st.one_of(values, st.sampled_from(["UTC", "Asia/Damascus", "Nope/Zone"])),
    "schedule": values, "sources": values, "events": values, "start": values, "end": values,
    "title": values,
})
documents = st.fixed_dictionaries({}, optional={
    "campaigns": st.one_of(values, st.lists(campaign, max_size=3)),
    "warehouse": values, "reports": values, "log": values, "daemon": values,
})


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents)
def test_parse_config_never_crashes(doc):
    try:
        cfg = parse_config(doc, Path("tracker.toml"))
    except ConfigError as exc:
        msg = str(exc)
        assert msg.startswith("tracker.toml: ")
        assert "\n" not in msg
    else:
        for c in cfg.campaigns:
            assert c.tags and all(c.tags)
            assert "/" not in c.slug and ".." not in c.slug


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
def test_load_config_on_arbitrary_bytes(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("cfg") / "tracker.toml"
    path.write_bytes(data)
    try:
        load_config(path)
    except ConfigError as exc:
        assert "\n" not in str(exc)


@pytest.mark.parametrize("name", ["../../etc/passwd", "a/b", "; rm -rf ~", "..", "حلب", "$(id)"])
def test_slug_cannot_escape_a_folder(name):
    slug = slugify(name)
    assert slug and "/" not in slug and "\\" not in slug and slug not in {".", ".."}
    assert all(ch.isalnum() or ch == "-" for ch in slug)
