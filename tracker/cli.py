"""The `tracker` command: a thin layer over the library.

Typed errors (`TrackerError`) become `Error: ...` on stderr with exit code 1, here and only here.
"""

from __future__ import annotations

import datetime as dt
import sys
import time
from pathlib import Path

import click

from . import credentials, logs
from .config import Config, config_path, load_config
from .errors import TrackerError
from .store.lake import Lake

EXAMPLE_SQL = ("select campaign, platform, sum(posts) as posts from marts.volume_daily "
               "group by all order by posts desc")


class TrackerGroup(click.Group):
    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except TrackerError as exc:
            raise click.ClickException(credentials.redact(str(exc))) from None


@click.group(cls=TrackerGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--config", "config_file", type=click.Path(dir_okay=False), default=None,
              help="Config file (default: $TRACKER_CONFIG or ./tracker.toml).")
@click.option("--db", "db_file", type=click.Path(dir_okay=False), default=None,
              help="Warehouse file for this command, instead of the config's [warehouse] path.")
@click.option("--demo", is_flag=True, help="Use the demo's config and warehouse "
              "(warehouse/demo.duckdb in the current folder, written by `tracker demo`).")
@click.option("--log-format", type=click.Choice(["auto", "text", "json"]), default="auto",
              show_default=True, help="Logs on stderr: text (coloured) on a terminal, JSON "
                                      "lines otherwise (auto), or always one of them.")
@click.version_option(package_name="hashtag-tracker")
@click.pass_context
def cli(ctx: click.Context, config_file: str | None, db_file: str | None, demo: bool,
        log_format: str) -> None:
    """Track hashtag campaigns across X, Mastodon and Bluesky into a DuckDB warehouse.

    Start with `tracker demo` (synthetic data, offline), then `tracker init` for your own.
    `tracker --demo COMMAND` runs any command on the demo (e.g. `tracker --demo status`).
    """
    if demo and config_file:
        raise click.UsageError("give either --demo or --config, not both")
    ctx.obj = {"config_file": config_file, "db": db_file, "demo": demo, "log_format": log_format}
    logs.setup(fmt=log_format)


def get_config(ctx: click.Context) -> Config:
    """Load the config named by --config / $TRACKER_CONFIG (or the demo's with --demo), its
    .env, and logging; --db replaces the warehouse."""
    obj = ctx.find_root().obj
    if "config" not in obj:
        if obj.get("demo"):
            from .demo import demo_config

            cfg = demo_config(Path.cwd())
        else:
            path = config_path(obj.get("config_file"))
            credentials.load_dotenv_file(path.parent / ".env")
            cfg = load_config(path)
        if obj.get("db"):
            cfg = with_warehouse(cfg, Path(obj["db"]))
        logs.setup(cfg.log_level, cfg.log_file, obj.get("log_format", "auto"))
        obj["config"] = cfg
    return obj["config"]


def with_warehouse(cfg: Config, path: Path) -> Config:
    """The config with another warehouse file (and its own spool, unless one is configured)."""
    import dataclasses

    if path.resolve() == cfg.warehouse.resolve():
        return cfg
    spool = cfg.spool
    if spool == cfg.warehouse.parent / "spool":   # the default: never share it with another
        spool = path.parent / f"{path.stem}.spool"
    return dataclasses.replace(cfg, warehouse=path, spool=spool, lake=None)


def warehouse_target(ctx: click.Context, db: str | None = None) -> tuple[Path, Lake | None]:
    """The warehouse: the command's --db, the global --db (a DuckDB file), or the config's
    (--demo's): its file, or its writer file and lake."""
    obj = ctx.find_root().obj
    if db or obj.get("db"):
        return Path(db or obj["db"]), None
    cfg = get_config(ctx)
    return cfg.warehouse, cfg.lake


def echo_err(message: str) -> None:
    click.echo(message, err=True)


@cli.command()
@click.argument("path", type=click.Path(dir_okay=False), default="tracker.toml")
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
def init(path: str, force: bool) -> None:
    """Write a commented starter config.

    Example: tracker init tracker.toml
    """
    target = Path(path)
    if target.exists() and not force:
        raise TrackerError(f"{target}: already exists (use --force to overwrite)")
    from .resources import template
    target.write_text(template("starter.toml"),
                      encoding="utf-8")
    click.echo(f"Wrote {target}. Edit the campaigns, then run:\n"
               "  tracker collect    # one collection pass now (or `tracker run`: on schedule)\n"
               "  tracker build      # build the SQL models (queries/) from what was collected\n"
               "  tracker report     # write the HTML reports (builds first if needed)")


@cli.command()
@click.option("--scale", type=click.FloatRange(0.001, 1000), default=1.0, show_default=True,
              help="Multiply the demo's post counts (1.0 = about 11,500 posts).")
@click.option("--keep", is_flag=True, help="Add to the existing demo warehouse instead of "
                                           "starting fresh.")
def demo(scale: float, keep: bool) -> None:
    """Run the whole pipeline on synthetic data: no network, no credentials.

    Collects a simulated April 2016 campaign (#AleppoIsBurning, #حلب_تحترق,
    #MakeFacebookRed) into warehouse/demo.duckdb, builds the models and writes
    reports/demo/. Example: tracker demo
    """
    from .demo import run_demo

    t0 = time.perf_counter()
    cfg, reports = run_demo(Path.cwd(), scale=scale, fresh=not keep,
                            on_run=lambda s: click.echo(s.line()))
    click.echo(f"Done in {time.perf_counter() - t0:.1f}s. Synthetic data, marked as such.")
    for r in reports:
        click.echo(f"Report: {r}")
    click.echo("Explore it (any command takes --demo):")
    click.echo(f'  tracker --demo sql "{EXAMPLE_SQL}"')
    click.echo("  tracker --demo status")


@cli.command()
@click.option("--campaign", help="Only this campaign.")
@click.option("--source", help="Only this source (by name).")
@click.option("--now", is_flag=True, help="Run sources that an earlier run said to wait "
                                          "(rate limit, spent budget) anyway.")
@click.pass_context
def collect(ctx: click.Context, campaign: str | None, source: str | None, now: bool) -> None:
    """Run one collection pass of the configured sources now.

    A source that fails is recorded in the ledger and the others still run; the exit code
    is then 1. A source an earlier run said to wait is skipped (`deferred`, saying why and
    until when) unless --now. Example: tracker collect --campaign aleppo-is-burning --source x
    """
    from .pipeline import collect as run_collect
    from .pipeline import failed_error
    from .store.db import connect

    cfg = get_config(ctx)
    con = connect(cfg.warehouse, lake=cfg.lake, wait=30, on_wait=echo_err)
    try:
        results = run_collect(con, cfg, campaign, source, now=now,
                              on_run=lambda s: click.echo(s.line()))
    finally:
        con.close()
    error = failed_error(results)
    if error:
        raise error


@cli.command("build")
@click.option("--full", is_flag=True, help="Rebuild every model from scratch (incremental "
                                           "models otherwise only add what is new).")
@click.pass_context
def build_cmd(ctx: click.Context, full: bool) -> None:
    """Build the SQL models (queries/) in dependency order.

    Writes the config's campaigns into core.campaigns / core.campaign_tags first.
    Example: tracker build
    """
    from .models import build
    from .store.db import connect

    cfg = get_config(ctx)
    con = connect(cfg.warehouse, lake=cfg.lake, wait=30, on_wait=echo_err)
    try:
        for step in build(con, cfg.campaigns, full=full):
            click.echo(f"{step.model.table:32} {step.mode:12} {step.seconds * 1000:8.0f} ms")
    finally:
        con.close()


@cli.command()
@click.option("--campaign", help="Only this campaign (the index and comparison pages list all).")
@click.option("--since", type=click.DateTime(["%Y-%m-%d"]), help="First day to include "
              "(YYYY-MM-DD, in the campaign's time zone).")
@click.option("--until", type=click.DateTime(["%Y-%m-%d"]), help="Last day to include "
              "(YYYY-MM-DD, inclusive).")
@click.option("--out", type=click.Path(file_okay=False), help="Output folder (default from "
                                                               "config: reports/).")
@click.option("--images/--no-images", default=True, show_default=True,
              help="Also write a PNG and an SVG per chart.")
@click.option("--no-build", is_flag=True, help="Do not build the models first, even when the "
                                               "warehouse has changed since the last build "
                                               "(a warning on stderr says so).")
@click.option("--pdf", is_flag=True, help="Also print each campaign page to "
                                          "OUT/<campaign>/report.pdf (needs Chromium on PATH).")
@click.option("--as-of", "as_of", metavar="SNAPSHOT_OR_TIME",
              help="A lake only: write the report from the lake as it was at this snapshot "
                   "(the number in an earlier report's summary.json) or time (ISO 8601, UTC "
                   "unless it says otherwise); nothing is built.")
@click.pass_context
def report(ctx: click.Context, campaign: str | None, since, until, out: str | None,
           images: bool, no_build: bool, pdf: bool, as_of: str | None) -> None:
    """Write the HTML report(s) from the built models.

    When the warehouse has posts the last `tracker build` did not see (or lost some, or the
    campaigns changed), the models are built first; with --no-build the report is written
    from the older build and stderr says so. Every page shows "Data as of <last post
    loaded>, built <time>". Writes OUT/<campaign>/index.html (self-contained, works offline)
    with a CSV, SVG and PNG per chart and summary.json, plus OUT/index.html and
    OUT/compare.html.

    Example: tracker report --campaign aleppo-is-burning --since 2016-04-25 --until 2016-05-01
    """
    from .freshness import ensure_fresh
    from .report import Window, write_reports
    from .store.db import connect

    cfg = get_config(ctx)
    window = Window(since.date() if since else None, until.date() if until else None)
    if pdf:  # before a build that may take a while
        from .report.pdf import find_chromium
        find_chromium()
    t0 = time.perf_counter()
    snapshot = _snapshot_or_time(as_of) if as_of else None
    if snapshot is not None and cfg.lake is None:
        raise TrackerError("--as-of needs a lake ([warehouse] backend = \"ducklake\", "
                           "docs/lake.md)")
    if snapshot is None:
        ensure_fresh(cfg, build=not no_build, on_note=echo_err)
    con = connect(cfg.warehouse, lake=cfg.lake, read_only=True, wait=30, on_wait=echo_err,
                  as_of=snapshot)
    try:
        paths = write_reports(con, cfg, Path(out) if out else cfg.reports, campaign, window,
                              images=images, pdf=pdf)
    finally:
        con.close()
    for p in paths:
        click.echo(f"Report: {p}")
    click.echo(f"Done in {time.perf_counter() - t0:.1f}s.")


def _snapshot_or_time(text: str) -> int | dt.datetime:
    """--as-of: a snapshot number, or an ISO 8601 time (UTC unless it names a zone)."""
    if text.isdigit():
        return int(text)
    try:
        when = dt.datetime.fromisoformat(text)
    except ValueError:
        raise TrackerError(f"--as-of: expected a snapshot number or an ISO 8601 time, got "
                           f"'{text}'") from None
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)


@cli.command("import")
@click.argument("paths", nargs=-1, required=True)
@click.option("--campaign", help="Put every imported post in this campaign (besides the "
                                 "campaigns whose hashtags it carries).")
@click.option("--format", "fmt", type=click.Choice(
    ["auto", "twarc2", "x_v1", "mastodon", "bluesky", "facebook_csv", "csv"]), default="auto",
    show_default=True, help="Archive format (auto: detected per record / file).")
@click.option("--mapping", help="For a generic CSV: the [csv_mappings.NAME] table of the "
                                "config that names its columns.")
@click.option("--strict", is_flag=True, help="Stop at the first bad record (default: "
                                             "quarantine it and go on).")
@click.option("--allow-forgotten", is_flag=True, help="Store posts removed on request "
                                                      "(`tracker forget`) again.")
@click.option("--filter-campaigns", "filter_campaigns", type=click.Choice(["auto", "yes", "no"]),
              default="auto", show_default=True,
              help="Keep only statuses carrying a campaign's hashtag (also by the status they "
                   "retweet or quote); auto: for Twitter Stream Grab-like tars and zips.")
@click.pass_context
def import_cmd(ctx: click.Context, paths: tuple[str, ...], campaign: str | None, fmt: str,
               mapping: str | None, strict: bool, allow_forgotten: bool,
               filter_campaigns: str) -> None:
    """Import archives: twarc2 JSONL, X v1.1 JSON, Mastodon or Bluesky dumps, Facebook CSV.

    PATHS are files, directories, globs or - (stdin); gzip, zstd, bz2 and xz are read as
    they are, tar (streamed, member by member) and zip archives member by member. Posts
    already in the warehouse are not stored twice; unreadable records go to the quarantine
    (see `tracker quarantine`). A killed import of a tar or zip, run again, resumes after
    the last member it stored.

    Example: tracker import archives/*.jsonl.gz --campaign aleppo-is-burning

    Example: tracker import archiveteam-twitter-stream-2016-04.tar
    """
    from .importers import Importer
    from .importers.progress import import_progress
    from .store.db import connect

    cfg = get_config(ctx)
    con = connect(cfg.warehouse, lake=cfg.lake, wait=30, on_wait=echo_err)
    try:
        with import_progress() as progress:
            importer = Importer(con, cfg, campaign=campaign, fmt=fmt, mapping=mapping,
                                strict=strict, on_progress=progress,
                                allow_forgotten=allow_forgotten,
                                filter_campaigns=filter_campaigns)
            summary = importer.run(list(paths))
    finally:
        con.close()
    click.echo(summary.line())
    for note in summary.notes:
        click.echo(f"  {note}")


@cli.command()
@click.option("--run", "run_id", help="Only this run (default: all runs).")
@click.option("--limit", type=click.IntRange(1), default=50, show_default=True,
              help="List at most this many records (the total is still shown).")
@click.option("--raw", "show_raw", is_flag=True, help="Print the raw text in full.")
@click.pass_context
def quarantine(ctx: click.Context, run_id: str | None, limit: int, show_raw: bool) -> None:
    """List quarantined records: where they came from (file:line), why, and their raw text.

    Example: tracker quarantine --run 20260101T120000000000-import-1a2b3c4d --limit 20
    """
    from .store import ledger
    from .store.db import connect

    cfg = get_config(ctx)
    con = connect(cfg.warehouse, lake=cfg.lake, read_only=True, wait=30, on_wait=echo_err)
    try:
        total, rows = ledger.quarantined(con, run_id, limit)
    finally:
        con.close()
    for run, origin, line, reason, raw in rows:
        place = f"{origin}:{line}" if line is not None else origin
        click.echo(f"{place}: {reason}  [{run}]")
        if raw:
            text = raw if show_raw else (raw[:200] + ("..." if len(raw) > 200 else ""))
            # Untrusted text: show control characters escaped, never raw to the terminal.
            click.echo("    " + "".join(c if c.isprintable() else repr(c)[1:-1] for c in text))
    click.echo(f"{min(total, limit)} of {total} quarantined record(s) shown.")


@cli.command()
@click.option("--synthetic", is_flag=True, help="Remove the simulated source's posts (raw "
                                                "pages marked synthetic and their rows).")
@click.pass_context
def purge(ctx: click.Context, synthetic: bool) -> None:
    """Remove data from the warehouse: --synthetic removes every synthetic post.

    Deletes raw.pages rows with synthetic = true and the norm.* rows built from them, in one
    transaction, records the purge in the ledger (a run of kind 'purge'), and makes the next
    `tracker build` a full one so core.* and marts.* lose them too. Remove the simulated
    source from the config first, or the next collection brings new synthetic posts.
    Example: tracker purge --synthetic
    """
    from .store.db import connect
    from .store.purge import purge_synthetic

    if not synthetic:
        raise TrackerError("say what to purge: tracker purge --synthetic")
    cfg = get_config(ctx)
    con = connect(cfg.warehouse, lake=cfg.lake, wait=30, on_wait=echo_err)
    try:
        result = purge_synthetic(con)
    finally:
        con.close()
    click.echo(result.line())


@cli.command("run")
@click.option("--once", is_flag=True, help="Run each source once now, load what was fetched "
                                           "and exit (1 if a source failed), then stop.")
@click.pass_context
def run_cmd(ctx: click.Context, once: bool) -> None:
    """Run the collectors on their schedules until stopped (SIGTERM or Ctrl-C).

    Fetched pages are spooled to disk and loaded into the warehouse in short sessions, so
    `tracker sql`, `tracker report` and read-only DuckDB clients keep working meanwhile.
    SIGHUP reloads the config. One daemon per warehouse. See docs/daemon.md.
    Example: tracker --config tracker.toml run
    """
    if once:
        from .daemon.service import Daemon
        from .pipeline import failed_error

        runs = Daemon(get_config(ctx)).run_once()
        for r in runs:
            click.echo(r.line())
        error = failed_error(runs)
        if error:
            raise error
        return
    import signal

    def stop_early(signum: int, frame: object) -> None:
        # A stop signal during start-up (before the daemon installs its own handlers):
        # nothing has been fetched yet, so exit cleanly.
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop_early)
    signal.signal(signal.SIGINT, stop_early)
    from .daemon.service import run_daemon

    sys.exit(run_daemon(get_config(ctx)))


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option("--wait", type=click.FloatRange(0, 3600), default=30, show_default=True,
              help="Seconds to wait while the daemon is loading into the warehouse.")
@click.pass_context
def status(ctx: click.Context, as_json: bool, wait: float) -> None:
    """Show each campaign and source: last run, outcome, posts, next run, backoff, lag.

    Exits with code 2 when a source is failing, so it can feed monitoring.
    Example: tracker status --json
    """
    import json

    from .daemon.status import gather, render

    data = gather(get_config(ctx), wait=wait, on_wait=echo_err)
    click.echo(json.dumps(data, indent=2, default=str) if as_json else render(data))
    if data["failing"]:
        sys.exit(2)


def _register() -> None:
    from .cli_data import export_cmd, forget_cmd
    from .cli_query import models, sql

    for command in (export_cmd, forget_cmd, models, sql):
        cli.add_command(command)
    from .cli_lookup import hydrate_cmd, repoll_cmd

    cli.add_command(hydrate_cmd)
    cli.add_command(repoll_cmd)
    from .cli_raw import payload_cmd, rebuild_cmd

    cli.add_command(payload_cmd)
    cli.add_command(rebuild_cmd)
    from .cli_lake import maintain_cmd, migrate_cmd, shell_cmd

    for command in (maintain_cmd, migrate_cmd, shell_cmd):
        cli.add_command(command)


_register()


def main() -> None:
    cli(prog_name="tracker")


if __name__ == "__main__":
    main()
