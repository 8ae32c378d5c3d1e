"""The `tracker` command: a thin layer over the library.

Typed errors (`TrackerError`) become `Error: ...` on stderr with exit code 1, here and only here.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import click

from . import credentials, logs
from .config import Config, config_path, load_config
from .errors import TrackerError

EXAMPLE_SQL = ("select campaign, platform, sum(posts) as posts from marts.volume "
               "group by all order by posts desc")


class TrackerGroup(click.Group):
    def invoke(self, ctx: click.Context):  # type: ignore[override]
        try:
            return super().invoke(ctx)
        except TrackerError as exc:
            raise click.ClickException(credentials.redact(str(exc))) from None


@click.group(cls=TrackerGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--config", "config_file", type=click.Path(dir_okay=False), default=None,
              help="Config file (default: $TRACKER_CONFIG or ./tracker.toml).")
@click.version_option(package_name="hashtag-tracker")
@click.pass_context
def cli(ctx: click.Context, config_file: str | None) -> None:
    """Track hashtag campaigns across X, Mastodon and Bluesky into a DuckDB warehouse.

    Start with `tracker demo` (synthetic data, offline), then `tracker init` for your own.
    """
    ctx.obj = {"config_file": config_file}


def get_config(ctx: click.Context) -> Config:
    """Load the config named by --config / $TRACKER_CONFIG, its .env, and logging."""
    obj = ctx.find_root().obj
    if "config" not in obj:
        path = config_path(obj.get("config_file"))
        credentials.load_dotenv_file(path.parent / ".env")
        cfg = load_config(path)
        logs.setup(cfg.log_level, cfg.log_file)
        obj["config"] = cfg
    return obj["config"]


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
    target.write_text(Path(__file__).with_name("starter.toml").read_text(encoding="utf-8"),
                      encoding="utf-8")
    click.echo(f"Wrote {target}. Edit the campaigns, then run: tracker collect")


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
    click.echo("Try a query:")
    click.echo(f'  tracker sql --db {cfg.warehouse.relative_to(Path.cwd())} "{EXAMPLE_SQL}"')


@cli.command()
@click.option("--campaign", help="Only this campaign.")
@click.option("--source", help="Only this source (by name).")
@click.pass_context
def collect(ctx: click.Context, campaign: str | None, source: str | None) -> None:
    """Run one collection pass of the configured sources now.

    Example: tracker collect --campaign aleppo-is-burning --source x
    """
    from .pipeline import collect as run_collect
    from .store.db import connect

    cfg = get_config(ctx)
    con = connect(cfg.warehouse, wait=30, on_wait=echo_err)
    try:
        results = run_collect(con, cfg, campaign, source, on_run=lambda s: click.echo(s.line()))
    finally:
        con.close()
    if any(r.status == "failed" for r in results):
        sys.exit(1)


@cli.command("build")
@click.pass_context
def build_cmd(ctx: click.Context) -> None:
    """Rebuild the SQL models (queries/) in dependency order.

    Example: tracker build
    """
    from .models import build
    from .store.db import connect
    from .store.normalise import prepare, relink_campaigns

    cfg = get_config(ctx)
    con = connect(cfg.warehouse, wait=30, on_wait=echo_err)
    try:
        prepare(con, cfg.campaigns)
        relink_campaigns(con)
        for model, seconds in build(con):
            click.echo(f"{model.table:32} {seconds * 1000:8.0f} ms")
    finally:
        con.close()


@cli.command()
@click.option("--campaign", help="Only this campaign.")
@click.option("--out", type=click.Path(file_okay=False), help="Output folder (default from "
                                                               "config: reports/).")
@click.pass_context
def report(ctx: click.Context, campaign: str | None, out: str | None) -> None:
    """Write the HTML report(s) from the built models.

    Example: tracker report --campaign aleppo-is-burning
    """
    from .report.campaign import write_report
    from .store.db import connect

    cfg = get_config(ctx)
    campaigns = [cfg.campaign(campaign)] if campaign else list(cfg.campaigns)
    con = connect(cfg.warehouse, read_only=True, wait=30, on_wait=echo_err)
    try:
        for c in campaigns:
            click.echo(f"Report: {write_report(con, cfg, c, Path(out) if out else cfg.reports)}")
    finally:
        con.close()


@cli.command()
@click.argument("query", required=False)
@click.option("--db", type=click.Path(dir_okay=False), help="Warehouse file (default: from "
                                                            "the config).")
@click.pass_context
def sql(ctx: click.Context, query: str | None, db: str | None) -> None:
    """Run a read-only SQL query on the warehouse and print the result.

    Example: tracker sql "select * from marts.volume limit 5"
    """
    from .sqlquery import format_table, run_query

    if not query:
        raise TrackerError("no query given (pass it as an argument)")
    path = Path(db) if db else get_config(ctx).warehouse
    columns, rows = run_query(path, query, on_wait=echo_err)
    click.echo(format_table(columns, rows))


@cli.command("run")
@click.pass_context
def run_cmd(ctx: click.Context) -> None:
    """Run the collectors on their schedules until stopped (SIGTERM or Ctrl-C).

    Fetched pages are spooled to disk and loaded into the warehouse in short sessions, so
    `tracker sql`, `tracker report` and read-only DuckDB clients keep working meanwhile.
    SIGHUP reloads the config. One daemon per warehouse. See docs/daemon.md.
    Example: tracker --config tracker.toml run
    """
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


def main() -> None:
    cli(prog_name="tracker")


if __name__ == "__main__":
    main()
