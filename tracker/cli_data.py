"""`tracker export` and `tracker forget`: sharing a campaign's posts, removing posts on request.

Registered on the `tracker` group by tracker.cli.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from .errors import TrackerError


@click.group("export", invoke_without_command=True)
@click.option("--campaign", help="The campaign whose counted posts to export (required).")
@click.option("--since", type=click.DateTime(["%Y-%m-%d"]), help="First day to include "
              "(YYYY-MM-DD, in the campaign's time zone).")
@click.option("--until", type=click.DateTime(["%Y-%m-%d"]), help="Last day to include "
              "(YYYY-MM-DD, inclusive).")
@click.option("--format", "fmt", type=click.Choice(["csv", "jsonl", "parquet"]),
              default="csv", show_default=True, help="File format.")
@click.option("--ids-only", is_flag=True, help="Only the post ids (columns platform, id), "
                                               "for sharing under the platforms' terms.")
@click.option("-o", "--output", type=click.Path(dir_okay=False),
              help="Write to this file, and its datasheet beside it as NAME.README.md "
                   "(default: the data to stdout, no datasheet).")
@click.option("--force", is_flag=True, help="Replace the file and datasheet if they exist.")
@click.pass_context
def export_cmd(ctx: click.Context, campaign: str | None, since, until, fmt: str,
               ids_only: bool, output: str | None, force: bool) -> None:
    """Export a campaign's counted posts (the posts its figures count) for researchers;
    `tracker export network` exports its interaction graph.

    Run `tracker build` first. With -o FILE, a datasheet FILE-STEM.README.md is written
    beside it: which posts count, tags, window, sources and queries, collection runs, coverage
    gaps, counts per platform and the tool version. Only the two files named are written;
    an existing one is kept unless --force.

    \b
    Examples:
      tracker export --campaign aleppo-is-burning --format parquet -o aleppo.parquet
      tracker export --campaign aleppo-is-burning --ids-only -o aleppo_ids.csv
      tracker export --campaign aleppo-is-burning --since 2016-04-28 --until 2016-04-30 \\
          --format jsonl > three_days.jsonl
    """
    from .cli import echo_err, get_config
    from .export import Selection
    from .export.run import export
    from .store.db import connect

    if ctx.invoked_subcommand is not None:
        if campaign or since or until or ids_only or output or force:
            raise click.UsageError(f"give the options after `{ctx.invoked_subcommand}`")
        return
    if campaign is None:
        raise click.UsageError("Missing option '--campaign'.")
    cfg = get_config(ctx)
    camp = cfg.campaign(campaign)
    sel = Selection(camp.name, since.date() if since else None, until.date() if until else None)
    con = connect(cfg.warehouse, lake=cfg.lake, read_only=True, wait=30, on_wait=echo_err)
    try:
        done = export(con, camp, sel, fmt, ids_only=ids_only,
                      out=Path(output) if output else None, stream=sys.stdout, force=force)
    finally:
        con.close()
    if done.path is not None:
        what = "post ids" if ids_only else "posts"
        click.echo(f"Wrote {done.rows} {what} to {done.path}")
        click.echo(f"Datasheet: {done.datasheet}")


@export_cmd.command("network")
@click.option("--campaign", required=True, help="The campaign whose interaction graph to "
                                                "export.")
@click.option("--format", "fmt", type=click.Choice(["gexf", "graphml", "csv"]),
              default="gexf", show_default=True,
              help="gexf (GEXF 1.3 for Gephi, with times), graphml, or csv (one row per edge).")
@click.option("--since", type=click.DateTime(["%Y-%m-%d"]), help="First day of posts to "
              "include (YYYY-MM-DD, in the campaign's time zone).")
@click.option("--until", type=click.DateTime(["%Y-%m-%d"]), help="Last day of posts to "
              "include (YYYY-MM-DD, inclusive).")
@click.option("-o", "--output", type=click.Path(dir_okay=False),
              help="Write to this file (default: standard output).")
@click.option("--force", is_flag=True, help="Replace the file if it exists.")
@click.pass_context
def export_network_cmd(ctx: click.Context, campaign: str, fmt: str, since, until,
                       output: str | None, force: bool) -> None:
    """Export a campaign's interaction graph: who reposted, quoted, replied to and mentioned
    whom in its posts, with each account's degrees and PageRank, for Gephi and other tools.

    Run `tracker build` first. GEXF carries when each account and edge first appears, so
    Gephi's timeline replays the spread.

    \b
    Examples:
      tracker export network --campaign aleppo-is-burning -o aleppo.gexf
      tracker export network --campaign aleppo-is-burning --format graphml -o aleppo.graphml
      tracker export network --campaign aleppo-is-burning --format csv \\
          --since 2016-04-28 --until 2016-04-30 > edges.csv
    """
    from .cli import echo_err, get_config
    from .export import Selection
    from .export.network import export_network
    from .store.db import connect

    cfg = get_config(ctx)
    camp = cfg.campaign(campaign)
    sel = Selection(camp.name, since.date() if since else None, until.date() if until else None)
    con = connect(cfg.warehouse, lake=cfg.lake, read_only=True, wait=30, on_wait=echo_err)
    try:
        net = export_network(con, camp.name, sel, fmt, out=Path(output) if output else None,
                             stream=sys.stdout, force=force)
    finally:
        con.close()
    if output:
        click.echo(f"Wrote {net.n_accounts} accounts and {net.n_edges} edges to "
                   f"{output} ({net.in_edges} of {net.interactions} interactions; the others "
                   "point at a post not stored or at the account itself)")


@click.command("forget")
@click.option("--post", "post", metavar="ID", help="The post's id (X tweet id, Mastodon "
                                                   "status uri, Bluesky at:// uri).")
@click.option("--author", "author", metavar="HANDLE_OR_ID", help="An author (handle, with or "
                                                                  "without @, or id): every "
                                                                  "post of theirs.")
@click.option("--platform", type=click.Choice(["x", "mastodon", "bluesky", "facebook"]),
              help="The platform, when the id or handle is on several (or not stored yet).")
@click.pass_context
def forget_cmd(ctx: click.Context, post: str | None, author: str | None,
               platform: str | None) -> None:
    """Remove a post, or an author and their posts, on request.

    Removes them (and reposts of them) from the normalised tables and from the raw pages
    (rewritten without them, or purged), records the ids removed (never content) in the ledger
    (ledger.forgotten), and makes the next `tracker build` a full one. Later imports and
    collections do not store them again (`tracker import --allow-forgotten` does). Then run
    `tracker build` and `tracker report`.

    \b
    Examples:
      tracker forget --post 1377650093109743620
      tracker forget --author @someone --platform x
    """
    from .cli import echo_err, get_config
    from .forget import forget, settle_lake
    from .store.db import connect

    if (post is None) == (author is None):
        raise TrackerError("give either --post ID or --author HANDLE_OR_ID")
    cfg = get_config(ctx)
    con = connect(cfg.warehouse, lake=cfg.lake, wait=30, on_wait=echo_err)
    try:
        result = forget(con, post=post, author=author, platform=platform)
        click.echo(result.line())
        if result.already:
            return
        click.echo(f"Recorded in the ledger (ids only): run {result.run_id}.")
        deleted = settle_lake(con, cfg.campaigns)
    finally:
        con.close()
    if deleted is None:
        click.echo("Next: tracker build, then tracker report, so that the models and reports "
                   "no longer show them.")
        return
    click.echo(f"Lake: the models were built without them, every earlier snapshot was expired "
               f"and {deleted} file(s) that held them deleted (tracker report --as-of cannot "
               "reach back before now).")
    click.echo("Next: tracker report, so that the reports no longer show them.")
