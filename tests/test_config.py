"""Every config mistake gets one line naming the file, the key and what is expected."""

from __future__ import annotations

import datetime as dt

import pytest
from click.testing import CliRunner

from tracker.cli import cli
from tracker.config import load_config
from tracker.errors import ConfigError
from tracker.hashtags import normalise_tag

from .conftest import write_config

GOOD = """
[[campaigns]]
name = "aleppo"
hashtags = ["AleppoIsBurning"]
"""


def error_of(tmp_path, body: str) -> str:
    path = write_config(tmp_path, body)
    with pytest.raises(ConfigError) as exc:
        load_config(path)
    return str(exc.value)


def test_valid_config_has_defaults(tmp_path):
    cfg = load_config(write_config(tmp_path, GOOD))
    (c,) = cfg.campaigns
    assert c.tags == ("aleppoisburning",)
    assert c.timezone == "UTC"
    assert c.schedule.interval_seconds == 900
    assert cfg.warehouse == tmp_path / "warehouse" / "tracker.duckdb"


@pytest.mark.parametrize("body, message", [
    (GOOD + 'hashtag = "x"\n',
     "tracker.toml: campaigns[0].hashtag: unknown key (expected one of: end, events, hashtags, "
     "name, schedule, sources, start, timezone, title)"),
    ('[[campaigns]]\nname = "a"\nhashtags = "AleppoIsBurning"\n',
     "tracker.toml: campaigns[0].hashtags: expected a non-empty list of hashtags"),
    ('[[campaigns]]\nname = "a"\nhashtags = []\n',
     "tracker.toml: campaigns[0].hashtags: expected a non-empty list of hashtags"),
    ('[[campaigns]]\nname = "a"\nhashtags = ["#"]\n',
     "tracker.toml: campaigns[0].hashtags: expected a non-empty list of hashtags"),
    ('[[campaigns]]\nname = "a"\nhashtags = ["AleppoIsBurning", "Aleppo Is Burning"]\n',
     "tracker.toml: campaigns[0].hashtags[1]: expected one hashtag (letters, digits, '_'; "
     "no spaces, no '#' inside), got 'Aleppo Is Burning'"),
    ('[[campaigns]]\nname = "a"\nhashtags = ["Aleppo#Burning"]\n',
     "tracker.toml: campaigns[0].hashtags[0]: expected one hashtag (letters, digits, '_'; "
     "no spaces, no '#' inside), got 'Aleppo#Burning'"),
    ('[[campaigns]]\nname = "a"\nhashtags = ["AleppoIsBurning,"]\n',
     "tracker.toml: campaigns[0].hashtags[0]: expected one hashtag (letters, digits, '_'; "
     "no spaces, no '#' inside), got 'AleppoIsBurning,'"),
    (GOOD + GOOD.replace('"aleppo"', '"Aleppo"'),
     "tracker.toml: campaigns[1].name: duplicate campaign 'Aleppo'"),
    (GOOD + 'timezone = "Mars/Olympus"\n',
     "tracker.toml: campaigns[0].timezone: expected an IANA time zone such as "
     "'Asia/Damascus', got 'Mars/Olympus'"),
    ('[[campaigns]]\nname = 5\nhashtags = ["a"]\n',
     "tracker.toml: campaigns[0].name: expected a campaign name, got 5"),
    (GOOD + 'start = "22 April"\n',
     "tracker.toml: campaigns[0].start: expected a date such as 2016-04-22, got '22 April'"),
    (GOOD + 'schedule = { interval = "soon" }\n',
     "tracker.toml: campaigns[0].schedule.interval: expected a duration of at least 10s "
     "such as '15m' or '1h', got 'soon'"),
    (GOOD + 'schedule = { cron = "every day" }\n',
     "tracker.toml: campaigns[0].schedule.cron: expected a 5-field crontab expression, "
     "got 'every day'"),
    (GOOD + '[[campaigns.sources]]\ntype = "myspace"\n',
     "tracker.toml: campaigns[0].sources[0].type: expected one of bluesky, mastodon, "
     "simulated, x, got 'myspace'"),
    (GOOD + '[[campaigns.sources]]\ntype = "x"\nmonthly_budget = "lots"\n',
     "tracker.toml: campaigns[0].sources[0].monthly_budget: expected a whole number of posts "
     "per month, got 'lots'"),
    (GOOD + '[[campaigns.sources]]\ntype = "x"\ntoken = "abc"\n',
     "tracker.toml: campaigns[0].sources[0].token: unknown key (expected one of: endpoint, "
     "extra_query, max_pages, monthly_budget, name, type)"),
    ('wharehouse = {}\n' + GOOD,
     "tracker.toml: wharehouse: unknown key (expected one of: campaigns, csv_mappings, daemon, "
     "log, repoll, reports, warehouse)"),
    ('[log]\nlevel = "LOUD"\n',
     "tracker.toml: log.level: expected one of DEBUG, INFO, WARNING, ERROR, got 'LOUD'"),
])
def test_config_errors(tmp_path, body, message):
    assert error_of(tmp_path, body) == message


@pytest.mark.parametrize("tag", ["#AleppoIsBurning", "حلب_تحترق", "#حلب_تحترق",
                                 "＃ＭａｋｅＦａｃｅｂｏｏｋＲｅｄ", "नमस्ते", "2016",
                                 "می‌خواهم"])
def test_hashtags_in_any_script_are_accepted(tmp_path, tag):
    body = f'[[campaigns]]\nname = "a"\nhashtags = ["{tag}"]\n'
    (c,) = load_config(write_config(tmp_path, body)).campaigns
    assert c.hashtags == (tag,)


def test_window_is_local_dates_in_the_campaign_time_zone(tmp_path):
    body = GOOD + 'start = 2016-04-22\nend = 2016-04-30\ntimezone = "Asia/Damascus"\n'
    (c,) = load_config(write_config(tmp_path, body)).campaigns
    # Damascus was UTC+3 in April 2016: local midnight is 21:00 UTC the day before
    assert c.start_at == dt.datetime(2016, 4, 21, 21, tzinfo=dt.UTC)
    assert c.end_at == dt.datetime(2016, 4, 30, 21, tzinfo=dt.UTC)


def test_invalid_toml_is_one_line(tmp_path):
    msg = error_of(tmp_path, "[[campaigns]\n")
    assert msg.startswith("tracker.toml: not valid TOML: ")
    assert "\n" not in msg


def test_cli_reports_config_error_in_one_line(tmp_path):
    path = write_config(tmp_path, '[[campaigns]]\nname = "a"\nhashtags = []\n')
    result = CliRunner().invoke(cli, ["--config", str(path), "collect"])
    assert result.exit_code == 1
    assert result.output == ("Error: tracker.toml: campaigns[0].hashtags: expected a non-empty "
                             "list of hashtags\n")


def test_missing_config_file(tmp_path):
    result = CliRunner().invoke(cli, ["--config", str(tmp_path / "nope.toml"), "collect"])
    assert result.exit_code == 1
    assert result.output == (f"Error: {tmp_path / 'nope.toml'}: config file not found "
                             "(create one with `tracker init`)\n")


def test_hashtag_normalisation_is_case_and_width_insensitive():
    assert normalise_tag("#AleppoIsBurning") == "aleppoisburning"
    assert normalise_tag("aleppoisburning") == "aleppoisburning"
    assert normalise_tag("＃ＡｌｅｐｐｏＩｓＢｕｒｎｉｎｇ") == "aleppoisburning"
    assert normalise_tag("#حلب_تحترق") == "حلب_تحترق"
    assert normalise_tag("#AleppoİsBurning") != "aleppoisburning"  # dotted capital I differs


def test_init_writes_a_config_that_loads(tmp_path):
    target = tmp_path / "tracker.toml"
    result = CliRunner().invoke(cli, ["init", str(target)])
    assert result.exit_code == 0, result.output
    cfg = load_config(target)
    assert cfg.campaigns[0].name == "aleppo-is-burning"
    again = CliRunner().invoke(cli, ["init", str(target)])
    assert again.exit_code == 1
    assert again.output == f"Error: {target}: already exists (use --force to overwrite)\n"
