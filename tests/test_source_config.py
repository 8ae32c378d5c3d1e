"""Options of the live sources: mistakes are one line naming the key."""

from __future__ import annotations

import pytest

from tracker.config import load_config
from tracker.errors import ConfigError

from .conftest import write_config

BASE = """
[[campaigns]]
name = "c"
hashtags = ["AleppoIsBurning"]
[[campaigns.sources]]
{source}
"""


@pytest.mark.parametrize("source, message", [
    ('type = "x"\nendpoint = "archive"', "campaigns[0].sources[0].endpoint: expected 'recent' "
                                         "or 'all', got 'archive'"),
    ('type = "x"\nmonthly_budget = 5', "campaigns[0].sources[0].monthly_budget: expected a "
                                       "whole number of at least 10, got 5"),
    ('type = "bluesky"\nmax_pages = 0', "campaigns[0].sources[0].max_pages: expected a whole "
                                        "number of at least 1, got 0"),
    ('type = "mastodon"\ninstances = []', "campaigns[0].sources[0].instances: expected a "
                                          "non-empty list of instance host names"),
    ('type = "mastodon"\ninstances = ["a.example"]\ntokens = { "b.example" = "T" }',
     "campaigns[0].sources[0].tokens.b.example: expected one of the instances listed"),
    ('type = "mastodon"\ninstances = ["a.example"]\ntokens = { "a.example" = "my token" }',
     "campaigns[0].sources[0].tokens.a.example: expected the name of an environment variable"),
])
def test_bad_source_options_are_one_line(tmp_path, source, message):
    with pytest.raises(ConfigError) as err:
        load_config(write_config(tmp_path, BASE.format(source=source)))
    assert message in str(err.value) and "\n" not in str(err.value)


def test_valid_live_sources_load(tmp_path):
    cfg = load_config(write_config(tmp_path, BASE.format(source=(
        'type = "mastodon"\ninstances = ["a.example"]\ntokens = { "a.example" = "A_TOKEN" }\n'
        '[[campaigns.sources]]\ntype = "x"\nendpoint = "all"\nmonthly_budget = 10000\n'
        '[[campaigns.sources]]\ntype = "bluesky"\nlang = "ar"'))))
    assert [s.name for s in cfg.campaigns[0].sources] == ["mastodon", "x", "bluesky"]
