"""`tracker --demo` and `tracker --db` work with every command; the demo's config file points
at the demo's warehouse; every config option is in the starter config or the docs."""

from __future__ import annotations

import dataclasses
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.conftest import ROOT, sim_toml, write_config
from tracker.cli import cli
from tracker.config import SOURCE_OPTIONS, DaemonSettings, load_config
from tracker.demo import demo_config

TRACKER = [sys.executable, "-m", "tracker.cli"]


def invoke(*args):
    return CliRunner().invoke(cli, list(args))


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory):
    """A folder where `tracker demo` ran (a small one), as after `make demo`."""
    base = tmp_path_factory.mktemp("demo")
    old = Path.cwd()
    os.chdir(base)
    try:
        result = invoke("demo", "--scale", "0.01")
    finally:
        os.chdir(old)
    assert result.exit_code == 0, result.output
    assert (base / "warehouse" / "demo.duckdb").exists()
    return base


def test_the_demo_config_file_points_at_the_demo_warehouse():
    # in a checkout, `--config tracker/demo.toml` is the demo (the file ships in the package)
    by_file = load_config(ROOT / "tracker" / "demo.toml")
    assert by_file.warehouse == ROOT / "warehouse" / "demo.duckdb"
    assert by_file.reports == ROOT / "reports" / "demo"
    by_flag = demo_config(ROOT)
    assert (by_flag.warehouse, by_flag.reports, by_flag.spool) == (
        by_file.warehouse, by_file.reports, by_file.spool)
    # its own spool: a daemon on the demo never loads another warehouse's pages
    assert by_file.spool == ROOT / "warehouse" / "demo.spool"


@pytest.mark.parametrize("args, expect", [
    (["status"], "daemon: not running\nwarehouse: {wh} "),
    (["sql", "select count(*) as n from marts.campaign_summary"], "n\n-\n2\n(1 row)\n"),
    (["models", "marts.volume_daily"], "marts.volume_daily\n"),
    (["quarantine"], "0 of 0 quarantined record(s) shown.\n"),
])
def test_demo_flag_works_with_every_reading_command(demo_dir, monkeypatch, args, expect):
    monkeypatch.chdir(demo_dir)
    result = invoke("--demo", *args)
    assert result.exit_code == 0, result.output
    wh = demo_dir / "warehouse" / "demo.duckdb"
    want = expect.format(wh=wh)
    assert (result.stdout.startswith(want) if args[0] in ("status", "models")
            else result.stdout == want), result.stdout


def test_demo_flag_report_and_config_file_are_the_same_warehouse(demo_dir, monkeypatch):
    monkeypatch.chdir(demo_dir)
    result = invoke("--demo", "report", "--no-images", "--campaign", "make-facebook-red")
    assert result.exit_code == 0, result.output
    page = demo_dir / "reports" / "demo" / "make-facebook-red" / "index.html"
    assert result.stdout.splitlines()[0] == f"Report: {page}"
    assert result.stderr == ""            # the demo's models are fresh: no build, no warning
    # --db on the group: the same warehouse through another config
    cfg = write_config(demo_dir, sim_toml(x_posts=100, per_run=100))
    wh = demo_dir / "warehouse" / "demo.duckdb"
    result = invoke("--config", str(cfg), "--db", str(wh), "sql",
                    "select count(*) as n from marts.campaign_summary")
    assert result.stdout == "n\n-\n2\n(1 row)\n"
    # the per-command --db of sql and models still works
    result = invoke("--config", str(cfg), "sql", "--db", str(wh),
                    "select count(*) as n from marts.campaign_summary")
    assert result.stdout == "n\n-\n2\n(1 row)\n"
    assert invoke("models", "--db", str(wh), "marts.bursts").exit_code == 0


def test_global_db_moves_the_warehouse_and_its_spool(tmp_path):
    path = write_config(tmp_path, sim_toml(x_posts=100, per_run=100))
    other = tmp_path / "elsewhere" / "other.duckdb"
    result = invoke("--config", str(path), "--db", str(other), "collect",
                    "--source", "simulated-x")
    assert result.exit_code == 0, result.output
    assert other.exists() and not load_config(path).warehouse.exists()
    from tracker.cli import with_warehouse
    moved = with_warehouse(load_config(path), other)
    assert moved.spool == other.parent / "other.spool"


def test_demo_and_config_together_is_a_usage_error(tmp_path):
    result = invoke("--demo", "--config", str(tmp_path / "x.toml"), "status")
    assert result.exit_code == 2
    assert "give either --demo or --config, not both" in result.output


def test_demo_flag_runs_the_daemon(demo_dir):
    """`tracker --demo run` as a user starts it: a subprocess, stopped with SIGTERM."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([*TRACKER, "--demo", "--log-format", "json", "run"], cwd=demo_dir,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        running = False
        while time.monotonic() < deadline and not running:
            out = subprocess.run([*TRACKER, "--demo", "status", "--json"], cwd=demo_dir,
                                 env=env, capture_output=True, text=True)
            running = json.loads(out.stdout)["daemon"]["running"] if out.stdout else False
            time.sleep(0.5)
        assert running, proc.stderr.read() if proc.poll() is not None else "not running"
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    events = [json.loads(line)["msg"] for line in err.splitlines() if line.startswith("{")]
    assert events, err
    assert (demo_dir / "warehouse" / "demo.spool").is_dir()


# --- every config option is documented --------------------------------------------------------
def _documented() -> str:
    docs = [ROOT / "tracker" / "starter.toml", ROOT / "README.md",
            *sorted((ROOT / "docs").glob("*.md"))]
    return "\n".join(p.read_text(encoding="utf-8") for p in docs)


def _options() -> list[str]:
    from tracker import config

    text = Path(config.__file__).read_text(encoding="utf-8")
    names = set(re.findall(r'v\.keys\(\w+, \{([^}]*)\}, "(\w+)"\)', text))
    out = [f"{table}.{k.strip().strip(chr(34))}" for keys, table in names
           for k in keys.split(",") if k.strip()]
    out = [o for o in out if "*" not in o]
    out += [f"daemon.{f.name}" for f in dataclasses.fields(DaemonSettings)]
    out += [f"{stype}.{opt}" for stype, opts in SOURCE_OPTIONS.items() for opt in opts]
    out += [f"campaigns.{k}" for k in config._CAMPAIGN_KEYS]
    out += ["schedule.interval", "schedule.cron", "csv_mappings"]
    return sorted(set(out))


def test_every_config_option_is_in_the_starter_config_or_the_docs():
    text = _documented()
    options = _options()
    assert "simulated.per_run" in options and "warehouse.spool" in options
    def shown(name: str) -> bool:   # `name = ...` in TOML, `name` in prose, [[x.name]]
        n = re.escape(name)
        return bool(re.search(rf"\b{n}\s*=|`[^`\n]*\b{n}\b[^`\n]*`|\[[\w.]*\b{n}\b", text))

    missing = [o for o in options if not shown(o.split(".")[-1])]
    assert not missing, f"options in no doc: {missing}"


@pytest.mark.parametrize("backend", ["duckdb", "ducklake"])
def test_tracker_threads_sets_duckdbs_worker_threads_for_readers_and_writers(
        tmp_path, monkeypatch, backend):
    cfg = load_config(write_config(tmp_path, sim_toml(x_posts=20, backend=backend)))
    from tracker.store.db import connect
    monkeypatch.setenv("TRACKER_THREADS", "1")
    con = connect(cfg.warehouse, lake=cfg.lake)
    assert con.execute("select current_setting('threads')").fetchone()[0] == 1
    con.close()
    reader = connect(cfg.warehouse, lake=cfg.lake, read_only=True)
    assert reader.execute("select current_setting('threads')").fetchone()[0] == 1
    reader.close()
    monkeypatch.delenv("TRACKER_THREADS")
    import duckdb
    default = duckdb.connect().execute("select current_setting('threads')").fetchone()[0]
    con = connect(cfg.warehouse, lake=cfg.lake)
    assert con.execute("select current_setting('threads')").fetchone()[0] == default
    con.close()


@pytest.mark.parametrize("value", ["0", "two", "-1", "1.5", "\u00b2"])
def test_a_bad_tracker_threads_is_one_error_line(tmp_path, monkeypatch, value):
    cfg = write_config(tmp_path, sim_toml(x_posts=20))
    monkeypatch.setenv("TRACKER_THREADS", value)
    result = invoke("--config", str(cfg), "collect")
    assert result.exit_code == 1
    assert result.output == (f"Error: TRACKER_THREADS={value!r}: expected a whole number of "
                             "threads, 1 or more\n")
