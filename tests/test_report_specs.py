"""Every chart the report draws is valid Vega-Lite.

The report embeds specs without Altair's schema check (`charts.spec`: the check made a
10M-post page's specs 0.39 s instead of 0.25 s), so this is where an invalid spec is caught:
each chart object of a campaign page (the page embeds them, and the images are rendered from
them, with the synthetic-data label added), the page's composed timeline, and the comparison
page's charts, over a campaign collected and built by the real pipeline, with and without a
window.
"""

from __future__ import annotations

import datetime as dt

import altair as alt
import pytest

from tracker.models import build
from tracker.pipeline import collect
from tracker.report import Window, campaign, charts
from tracker.store.db import connect

from .test_report_browser import make_config

DRAWN = {"volume", "platforms", "contributors", "impressions", "top_contributors",
         "hashtags", "languages", "heatmap"}


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    cfg = make_config(tmp_path_factory.mktemp("specs"))
    con = connect(cfg.warehouse)
    collect(con, cfg)
    build(con, cfg.campaigns)
    yield cfg, con
    con.close()


@pytest.mark.parametrize("window", [Window(), Window(dt.date(2016, 4, 23), dt.date(2016, 4, 25))],
                         ids=["all", "window"])
def test_every_chart_of_a_campaign_page_is_valid_vega_lite(warehouse, window):
    cfg, con = warehouse
    c = next(c for c in cfg.campaigns if c.name == "aleppo")
    d = campaign.load(con, c, window)
    objects = campaign.chart_objects(d)
    assert DRAWN <= set(objects)
    for name, chart in objects.items():
        # the spec embedded is the one Altair's checked rendering gives (which raises when
        # the spec breaks the schema)
        assert charts.spec(chart) == chart.to_dict(validate=True), name
    page = campaign.page_specs(d)
    assert "chart-timeline" in page
    for spec in page.values():
        alt.TopLevelSpec.validate(spec)


def test_an_invalid_spec_is_caught_by_the_check_used_here():
    spec = charts.spec(alt.Chart(alt.Data(values=[{"a": 1}])).mark_bar().encode(x="a:Q"))
    spec["mark"] = {"type": "no such mark"}
    with pytest.raises(Exception, match="no such mark"):
        alt.TopLevelSpec.validate(spec)


def test_the_comparison_page_charts_are_valid_vega_lite(warehouse):
    cfg, con = warehouse
    from tracker.report import data
    names = [c.name for c in cfg.campaigns]
    sov, vol = data.share_of_voice(con, names), data.daily_volume_all(con, names)
    assert sov and vol
    for chart in (charts.share_of_voice(sov), charts.campaigns_volume(vol)):
        assert charts.spec(chart) == chart.to_dict(validate=True)
