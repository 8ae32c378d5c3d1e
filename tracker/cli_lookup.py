"""`tracker hydrate` and `tracker repoll`: looking posts up by id (tracker.lookup).

Registered on the `tracker` group by tracker.cli.
"""

from __future__ import annotations

from pathlib import Path

import click

from .errors import TrackerError


@click.command("hydrate")
@click.argument("ids", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--campaign", required=True, help="The campaign the posts are stored for "
                                                "(as matched posts of it).")
@click.option("--column", help="The CSV column holding the ids (default: the column named "
                               "'id' or 'tweet_id'); makes any file read as CSV.")
@click.option("--wait", is_flag=True, help="On a rate limit, sleep until X's reset time and go "
                                           "on (default: stop; run the command again later).")
@click.option("--now", is_flag=True, help="Run even if the last hydrate run said to wait.")
@click.option("--budget", type=click.IntRange(min=1), help="Posts this month that lookups of "
              "the campaign may read in all (default: its X source's monthly_budget).")
@click.pass_context
def hydrate_cmd(ctx: click.Context, ids: tuple[str, ...], campaign: str, column: str | None,
                wait: bool, now: bool, budget: int | None) -> None:
    """Look up tweet ids (X API, 100 per request) and store the posts for a campaign.

    IDS are files of tweet ids: one per line (or a status URL), or a CSV column. Ids the API
    reports as not found, protected or suspended are recorded in ledger.hydration with its
    reason; every answered id is kept there, so running the same command again after a kill
    or a rate limit asks only the ids not answered yet. Needs X_BEARER_TOKEN.

    \b
    Examples:
      tracker hydrate aleppo_ids.txt --campaign aleppo-is-burning
      tracker hydrate dataset.csv --column tweet_id --campaign aleppo-is-burning --wait
    """
    from .cli import echo_err, get_config
    from .lookup.hydrate import HydrateSummary, hydrate
    from .store.db import connect

    def progress(r: HydrateSummary) -> None:
        if r.requests % 10 == 0:       # every 1,000 ids
            echo_err(f"hydrate: {r.asked} ids asked, {r.answers['found']} found")

    cfg = get_config(ctx)
    cfg.campaign(campaign)
    con = connect(cfg.warehouse, lake=cfg.lake, wait=30, on_wait=echo_err)
    try:
        run = hydrate(con, cfg, campaign, [Path(p) for p in ids], column=column, wait=wait,
                      now=now, budget=budget, on_batch=progress)
    finally:
        con.close()
    click.echo(run.line())
    if run.status == "failed":
        raise TrackerError(f"hydrate failed: {run.message} (recorded in ledger.runs as "
                           f"{run.run_id})")


@click.command("repoll")
@click.option("--campaign", help="Only this campaign.")
@click.option("--platform", type=click.Choice(["x", "bluesky", "mastodon"]),
              help="Only this platform.")
@click.option("--now", is_flag=True, help="Run even if the last re-poll said to wait "
                                          "(rate limit).")
@click.pass_context
def repoll_cmd(ctx: click.Context, campaign: str | None, platform: str | None,
               now: bool) -> None:
    """Read the engagement of matched posts again at the ages of [repoll] (default 1h, 24h, 7d).

    One pass now (the daemon runs it on `[repoll] schedule`): the posts with an age due are
    looked up by id (X 100 a request, Bluesky 25, Mastodon one each on its home instance),
    the most engaged first when `max_posts` or the X budget cannot cover all; each reading
    is stored as an engagement observation and recorded in ledger.repolls.

    \b
    Examples:
      tracker repoll
      tracker repoll --campaign aleppo-is-burning --platform x
    """
    from .cli import echo_err, get_config
    from .lookup.repoll import repoll, single
    from .pipeline import daemon_running
    from .store import ledger
    from .store.db import connect

    cfg = get_config(ctx)
    con = connect(cfg.warehouse, lake=cfg.lake, wait=30, on_wait=echo_err)
    try:
        if not daemon_running(cfg):         # else its re-poll in progress is not dead
            ledger.mark_killed(con, "repoll")
        runs = repoll(single(con), cfg, campaign=campaign, platform=platform, now=now)
    finally:
        con.close()
    for run in runs:
        click.echo(run.line())
    failed = [f"{r.campaign}/{r.platform}" for r in runs if r.status == "failed"]
    if failed:
        raise TrackerError(f"{len(failed)} re-poll(s) failed: {', '.join(failed)} (the reasons "
                           "are above and in ledger.runs)")
