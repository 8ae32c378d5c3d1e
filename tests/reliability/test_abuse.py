"""Abuse: hostile campaign names, write attempts through `tracker sql`, credential leaks.

Covered elsewhere and not repeated here (see docs/reliability.md):
hostile post text in the HTML report, checked in Chromium (tests/test_report_browser.py::
test_hostile_text_shows_as_text_and_runs_nothing), the Bluesky session file being owner-only
(tests/test_source_bluesky.py::test_backfill_pages_profiles_and_session_reuse), the plain
refusals of `tracker sql` (tests/test_sql.py), slugs never escaping (tests/test_config_fuzz.py).
"""

from __future__ import annotations

import hashlib
import json
import os

import httpx
import pytest
import responses
import respx
from click.testing import CliRunner

from tracker.cli import cli
from tracker.sources import retry
from tracker.sources import x as x_source
from tracker.store.db import connect

from .. import test_source_bluesky as bsky
from .. import test_source_mastodon as masto
from .. import test_source_x as xs
from ..conftest import write_config

pytestmark = pytest.mark.reliability


def sql(*args: str):
    """`tracker sql ARGS` (the warehouse given as `--db FILE` among them)."""
    return CliRunner().invoke(cli, ["sql", *args])

HOSTILE = ["../../../../tmp/escape", "a/b/../../c", "$(touch pwned)", "`touch pwned2`",
           "x; rm -rf ~ && echo pwned > p", "..", "/etc/passwd", "..\\..\\win",
           "<script>alert(1)</script>", "name\nwith newline", "%2e%2e%2f"]


def campaign(name: str, start: str, source: str) -> str:
    """One [[campaigns]] table (tag AleppoIsBurning, or hoot for Mastodon) with one source."""
    tag = "hoot" if "mastodon" in source else "AleppoIsBurning"
    return (f"[[campaigns]]\nname = {json.dumps(name)}\nhashtags = [\"{tag}\"]\n"
            f"start = {start}\n[[campaigns.sources]]\n{source}\n")


def files_under(root) -> set[str]:
    return {os.path.relpath(os.path.join(d, f), root) for d, _, fs in os.walk(root)
            for f in fs}


def test_hostile_campaign_names_write_only_inside_reports_and_warehouse(tmp_path,
                                                                       monkeypatch):
    project = tmp_path / "project"
    project.mkdir()
    campaigns = "".join(campaign(name, "2016-04-22", 'type = "simulated"\nplatform = "x"\n'
                                                    "posts = 30")
                        for name in HOSTILE)
    cfg = write_config(project, '[warehouse]\npath = "warehouse/tracker.duckdb"\n'
                                '[reports]\ndir = "reports"\n' + campaigns)
    monkeypatch.chdir(project)
    runner = CliRunner()
    for args in (["collect"], ["build"], ["report", "--no-images"], ["status"]):
        result = runner.invoke(cli, ["--config", str(cfg), *args])
        assert result.exit_code in (0, 2), (args, result.output)
    outside = {f for f in files_under(tmp_path)
               if not f.startswith(("project/reports/", "project/warehouse/"))}
    assert outside == {"project/tracker.toml"}
    reports = files_under(project / "reports")
    assert len({f.split("/")[0] for f in reports if "/" in f}) == len(HOSTILE)  # one each
    # nothing ran the names as shell: no file the commands in them would create
    assert not {"pwned", "pwned2", "p"} & {os.path.basename(f) for f in files_under(tmp_path)}


@pytest.fixture
def db(tmp_path):
    path = tmp_path / "wh.duckdb"
    con = connect(path)
    con.execute("create schema marts; create table marts.t as select 1 as a")
    con.close()
    return path


@pytest.mark.parametrize("query", [
    "with x as (select 1) insert into marts.t select * from x",
    "/* comment */ attach 'other.duckdb' as o",
    "ATTACH DATABASE ':memory:' AS m",
    "  \n-- leading comment\nCOPY marts.t TO 'out.csv'",
    "copy (select * from marts.t) to 'out.parquet' (format parquet)",
    "INSTALL httpfs FROM 'http://127.0.0.1/'",
    "force install httpfs",
    "pragma enable_profiling",
    "call pragma_database_size()",
    "update marts.t set a = 2",
    "select 1; attach 'x.duckdb'",
    "checkpoint",
    "vacuum",
    "select * from read_text('/etc/passwd')",
    "select * from 'out.csv'",
    "create or replace macro m() as 1",
])
def test_sql_cannot_write_attach_or_read_other_files(db, tmp_path, monkeypatch, query):
    monkeypatch.chdir(tmp_path)
    before = hashlib.sha256(db.read_bytes()).hexdigest()
    files = files_under(tmp_path)
    result = sql(query, "--db", str(db))
    assert result.exit_code == 1, result.output
    assert result.output.startswith("Error: ") and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert files_under(tmp_path) == files
    assert hashlib.sha256(db.read_bytes()).hexdigest() == before


TOKENS = {"X_BEARER_TOKEN": "tok-SECRET-x-9f8e7d6c5b4a",
          "MASTO_TOKEN": "tok-SECRET-masto-1a2b3c4d5e",
          "BLUESKY_APP_PASSWORD": "tok-SECRET-bsky-abcd-efgh"}
CREDENTIAL_CONFIG = """
[warehouse]
path = "wh/tracker.duckdb"
[reports]
dir = "reports"
[log]
file = "logs/tracker.log"
level = "DEBUG"
""" + "".join(campaign(*c) for c in [
    ("x-camp", "2022-10-06", 'type = "x"\nendpoint = "recent"'),
    ("hoot", "2026-07-30", 'type = "mastodon"\ninstances = ["a.example"]\n'
                           'tokens = { "a.example" = "MASTO_TOKEN" }'),
    ("bsky", "2026-11-20", 'type = "bluesky"')])


def warehouse_text(path) -> str:
    """Every text value of every table (raw pages' requests and payloads, ledger messages...)."""
    con = connect(path, read_only=True)
    try:
        cols = con.execute("select table_schema, table_name, column_name from "
                           "information_schema.columns where data_type in ('VARCHAR', 'JSON')"
                           ).fetchall()
        return "\n".join(str(v) for s, t, c in cols for (v,) in con.execute(
            f'select "{c}"::varchar from "{s}"."{t}" where "{c}" is not null').fetchall())
    finally:
        con.close()


@responses.activate
@respx.mock(assert_all_mocked=True, assert_all_called=False)
def test_no_credential_appears_in_output_logs_reports_or_warehouse(tmp_path, monkeypatch,
                                                                     respx_mock):
    for name, value in TOKENS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("BLUESKY_HANDLE", "tester.bsky.social")
    monkeypatch.setattr(retry, "backoff_sleep", lambda s: None)
    monkeypatch.setattr(x_source, "utcnow", lambda: xs.RECORDED_AT)
    cfg = write_config(tmp_path, CREDENTIAL_CONFIG)
    x, m, b = xs.FakeX(responses.mock), masto.FakeMastodon(responses.mock), \
        bsky.FakeBluesky(respx_mock)
    # first every credential is refused, and the server echoes it back in its error
    for name, value in TOKENS.items():
        echo = json.dumps({"error": f"invalid token {value}"}).encode()
        if name == "X_BEARER_TOKEN":
            x.page(None, echo, status=401)
        elif name == "MASTO_TOKEN":
            m.page("a.example", masto.FIRST, echo, status=401)
    b.login.mock(return_value=httpx.Response(401, json={
        "error": "AuthenticationRequired",
        "message": f"bad password {TOKENS['BLUESKY_APP_PASSWORD']}"}))
    runner = CliRunner()
    outputs = [runner.invoke(cli, ["--config", str(cfg), "collect"])]
    assert outputs[0].exit_code == 1 and outputs[0].output.count(": failed") == 3, \
        outputs[0].output
    # then they work
    x.page(None, xs.PAGE1)
    x.page(xs.PAGE1_NEXT, xs.PAGE2)
    m.page("a.example", masto.FIRST, masto.statuses(5, 1000))
    b.login.mock(return_value=httpx.Response(200, json=bsky.session_body()))
    b.page(None, {"posts": bsky.posts(5, 100)})
    for args in (["collect"], ["build"], ["report", "--no-images"], ["status"],
                 ["status", "--json"], ["quarantine"],
                 ["sql", "select * from ledger.runs"]):
        outputs.append(runner.invoke(cli, ["--config", str(cfg), *args]))
    assert outputs[1].exit_code == 0, outputs[1].output
    assert (tmp_path / "reports" / "x-camp" / "index.html").exists()
    texts = {f"output of {r}": r.output for r in outputs}
    texts.update({f: (tmp_path / f).read_bytes().decode("utf-8", "replace")
                  for f in files_under(tmp_path) if not f.endswith((".duckdb", ".wal"))})
    texts["warehouse"] = warehouse_text(tmp_path / "wh" / "tracker.duckdb")
    assert "x-camp" in texts["warehouse"] and "tracker.log" in "".join(texts)
    # the failed runs' messages are in the ledger: they name the credential, not its value
    assert "X_BEARER_TOKEN" in texts["warehouse"] and "MASTO_TOKEN" in texts["warehouse"]
    leaks = [(where, name) for where, text in texts.items() for name, value in TOKENS.items()
             if value in text]
    assert leaks == []
