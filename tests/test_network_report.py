"""The report's network section: files, the most amplified accounts against the payloads, the
definitions beside the table, and the picture drawn in headless Chromium at phone and desktop
widths (marks drawn, no console errors, no request leaving file://)."""

from __future__ import annotations

import csv
import datetime as dt
import json
import xml.etree.ElementTree as ET

import pytest
import vl_convert

from tracker.network import PAGERANK_DOC
from tracker.report import Window, write_reports
from tracker.report import network as network_section
from tracker.report.network import AMPLIFIED, LABELS, NODES

from . import models_oracle_network as on
from .browser import Browser, chart_marks
from .test_network import build_hand_made
from .test_report_browser import assert_clean, make_config, simulated  # noqa: F401


def read_csv(path):
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def read_rows(page) -> list[dict]:
    """The picture's rows as the page embeds them (the chart's data)."""
    csv_rows = read_csv(page.parent / "network.csv")
    return [{k: (json.loads(v) if k in ("x", "y", "x2", "y2", "weight", "pagerank") and v
                 else v) for k, v in r.items()} for r in csv_rows]


def test_most_amplified_accounts_and_definitions(tmp_path):
    con, o = build_hand_made(tmp_path)
    cfg = make_config(tmp_path, extra='[[campaigns]]\nname = "net"\nhashtags = ["NetTag"]')
    # images=False: the top contributors chart cannot render a handle holding a control
    # character (vl-convert aborts); this section's picture can (below)
    page = write_reports(con, cfg, tmp_path / "out", "net", images=False)[0]
    con.close()
    c = next(c for c in o.campaigns if c.name == "net")
    accounts = on.accounts(o, c)
    amplified = sorted(((r["repost"] + r["quote"], r["in_strength"], k[2], r["handle"])
                        for k, r in accounts.items() if r["repost"] + r["quote"]),
                       key=lambda t: (-t[0], -t[1], t[2]))
    got = read_csv(page.parent / "amplified_accounts.csv")
    assert [(int(r["amplification"]), r["account"]) for r in got] == [
        (a, h) for a, _, _, h in amplified[:AMPLIFIED]] == [(2, "alice")]
    drawn = [r for r in read_csv(page.parent / "network.csv") if r["mark"] == "node"]
    assert len(drawn) == min(NODES, len(accounts)) == 5
    assert sum(1 for r in drawn if r["label"]) == min(LABELS, 5)
    assert {r["account"] for r in drawn} >= {"alice", 'evil<script>&"'}   # \x01 dropped
    svg = vl_convert.vegalite_to_svg(network_section.chart(read_rows(page)).to_dict())
    assert ET.fromstring(svg).tag.endswith("svg") and "alice" in svg
    html = page.read_text(encoding="utf-8")
    section = html[html.index('<section id="network">'):]
    section = section[:section.index("</section>")]
    assert "Most amplified accounts" in section
    assert "8 of 11 interactions" in section
    assert "reposts_received + quotes_received" in section       # the mart's column doc
    assert PAGERANK_DOC in section
    assert "evil<script>" not in html        # the hostile handle is in the chart's data only


def test_window_cuts_the_section(tmp_path):
    con, o = build_hand_made(tmp_path)
    cfg = make_config(tmp_path, extra='[[campaigns]]\nname = "net"\nhashtags = ["NetTag"]')
    page = write_reports(con, cfg, tmp_path / "out", "net",
                         Window(dt.date(2024, 5, 2), None), images=False)[0]
    con.close()
    c = next(c for c in o.campaigns if c.name == "net")
    want = on.interactions(o, c, dt.date(2024, 5, 2))
    html = page.read_text(encoding="utf-8")
    assert f"of {len(want)} interactions" in html and len(want) == 4


@pytest.mark.browser
@pytest.mark.parametrize("width", [375, 1400])
def test_network_picture_draws_at_phone_and_desktop_widths(simulated, width):  # noqa: F811
    cfg, con, _ = simulated
    page = cfg.reports / "aleppo" / "index.html"
    nodes = con.execute("select count(*) from marts.network_accounts "
                        "where campaign = 'aleppo'").fetchone()[0]
    browser = Browser()
    try:
        browser.send("Emulation.setDeviceMetricsOverride",
                     {"width": width, "height": 900, "deviceScaleFactor": 1,
                      "mobile": width < 600})
        run = browser.open(page)
        assert_clean(run, f"{page} at {width}px")
        marks = chart_marks(browser)
        assert marks["network"] and all(n > 0 for n in marks["network"]), marks
        circles = browser.evaluate(
            "document.querySelectorAll('#chart-network g.mark-symbol.role-mark path').length")
        assert circles == min(NODES, nodes) > 0
        rows = browser.evaluate("document.querySelectorAll('#network tbody tr').length")
        assert 0 < rows <= AMPLIFIED
        assert browser.evaluate("document.querySelectorAll('#network dl dt').length") >= 5
    finally:
        browser.close()


def test_a_graph_too_large_for_the_report_points_to_the_export(tmp_path, monkeypatch):
    con, o = build_hand_made(tmp_path)
    cfg = make_config(tmp_path, extra='[[campaigns]]\nname = "net"\nhashtags = ["NetTag"]')
    monkeypatch.setattr(network_section, "MAX_INTERACTIONS", 10)
    page = write_reports(con, cfg, tmp_path / "out", "net", images=False)[0]
    con.close()
    html = page.read_text(encoding="utf-8")
    assert ("11 interactions in this period, more than the report draws (10); export the "
            "graph with `tracker export network`") in html
    assert 'data-empty-chart="network"' in html and 'id="chart-network"' not in html
