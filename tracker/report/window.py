"""`--since/--until` for every section: a mart's own SQL run again over the window's posts.

A mart is a chain of models from `core.campaign_posts` (e.g. core.campaign_hourly, then
marts.languages). With a window set, `Scope.table(mart)` runs that chain once more, each
model's SQL unchanged except that `core.campaign_posts` is replaced by the campaign's posts
inside the window: every model of the chain becomes a temp table, or a temp view of its
built rows when those are the window's rows (see below; the report's connection is
read-only; the warehouse is never written), made once per report and shared by the
sections that need it (the headline figures, languages and the heatmap all read
core.campaign_hourly). A post-level model (one row per campaign post and something of it,
e.g. core.campaign_tag_pairs) is not computed again: its built rows for the window's posts
are the same rows, and cheaper to read (by its created_at when it has one: the same condition
as the window's posts); so are a day-level model's rows for the window's days (e.g.
marts.volume_daily: one row per local day, from that day's posts). No figure is defined
twice: the definitions stay in
`queries/`.
Without a window, `table` names the mart itself.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass, field

import duckdb

from ..build.model import Model
from ..build.run import ROWID_LOOKUP_ROWS
from ..config import Campaign
from ..errors import TrackerError
from .data import Window

POSTS = "core.campaign_posts"
WINDOW_POSTS = "report_window_posts"


@functools.cache
def _models() -> dict[str, Model]:
    from ..models import discover
    return {m.table: m for m in discover()}


def post_level(model: Model) -> bool:
    """True when each row of the model belongs to one campaign post (its incremental key holds
    campaign, platform and post_id): its rows for the window are its rows for the window's
    posts, so they are read from the built table rather than computed again."""
    return {"campaign", "platform", "post_id"} <= set(model.incremental_key)


def day_level(model: Model) -> bool:
    """True when each row of the model belongs to one local day of the campaign and is
    computed from that day's rows alone: its key starts with (campaign, day), driven by a
    post-level model's (campaign, local_day), and whatever else it reads that depends on posts
    is day-level too. Its rows for the window are its rows for the window's days (a window is
    whole local days), so they are read from the built table rather than computed again."""
    models = _models()
    if not (model.changes and model.changes[0].columns == ("campaign", "local_day")
            and model.incremental_key[:2] == ("campaign", "day")):
        return False
    driving = model.changes[0].table
    others = model.depends_on - {driving}
    return (driving == POSTS or (driving in models and post_level(models[driving]))) and all(
        t in models and (not _reads_posts(t) or day_level(models[t])) for t in others)


def hour_level(model: Model) -> bool:
    """True when each row of the model belongs to one UTC hour and is computed from that
    hour's rows alone (as `day_level`, by (campaign, hour)). When the window's bounds fall on
    whole UTC hours (a time zone whole hours from UTC), its rows for the window are its rows
    for the window's hours."""
    models = _models()
    if not (model.changes and model.changes[0].columns == ("campaign", "hour")
            and model.incremental_key[:2] == ("campaign", "hour")):
        return False
    driving = model.changes[0].table
    others = model.depends_on - {driving}
    return (driving == POSTS or (driving in models and post_level(models[driving]))) and all(
        t in models and (not _reads_posts(t) or hour_level(models[t])) for t in others)


@functools.cache
def _reads_posts(table: str) -> bool:
    models = _models()
    return table == POSTS or (table in models and any(
        _reads_posts(d) for d in models[table].depends_on))


@functools.cache
def chain(mart: str, whole_hours: bool = False) -> tuple[str, ...]:
    """The models `mart` reads, directly or not, that read core.campaign_posts (directly or
    not), in build order, ending with `mart` itself; a post-level or day-level model (and an
    hour-level one when the window is `whole_hours`) ends its branch (what it reads is not
    needed)."""
    models = _models()
    if mart not in models:
        raise KeyError(f"{mart} is not a model")
    if not _reads_posts(mart):
        raise KeyError(f"{mart} does not read {POSTS}: a window cannot apply to it")
    order: list[str] = []

    def visit(table: str) -> None:
        if table in order or table == POSTS or not _reads_posts(table):
            return
        if not (post_level(models[table]) or day_level(models[table])
                or (whole_hours and hour_level(models[table]))):
            for d in sorted(models[table].depends_on):
                visit(d)
        order.append(table)

    visit(mart)
    return tuple(order)


def _literal(value: object) -> str:
    """A campaign name or a window bound as a SQL literal."""
    if isinstance(value, dt.datetime):
        return f"timestamptz '{value.isoformat()}'"
    return "'" + str(value).replace("'", "''") + "'"


def _temp_name(table: str) -> str:
    return "report_window__" + table.replace(".", "__")


@dataclass
class Scope:
    """Where the report reads each model from, for one campaign and window."""

    con: duckdb.DuckDBPyConnection
    campaign: Campaign
    window: Window
    _made: dict[str, str] = field(default_factory=dict)
    _where: str = ""       # the window's condition on campaign and created_at, as SQL
    _campaign: str = ""    # the campaign's name as a SQL literal
    _hours: str = ""       # the window's condition on campaign and an hour column, as SQL
    _whole_hours: bool = False  # the window's bounds are whole UTC hours

    def _days(self, column: str) -> str:
        """The window's condition on campaign and a local DATE column, as SQL."""
        days, params = self.window.days(column)
        for value in params:
            days = days.replace("?", f"date '{value.isoformat()}'", 1)
        return f"campaign = {self._campaign} and {days}"

    def table(self, model: str) -> str:
        """`model` itself without a window; with one, a temp table holding `model`'s rows
        computed from the campaign's posts inside the window (or a temp view of its built
        rows, when those are the window's rows)."""
        if not self.window.is_set:
            return model
        if not self._made:
            # the window's models look up rows by rowid as the build does (build/run.py); the
            # report's connection keeps the setting (it changes speed, never results)
            self.con.execute(f"set dynamic_or_filter_threshold = {ROWID_LOOKUP_ROWS}")
            # a view, not a table: each model reads only its columns of the window's posts
            # (a view takes no parameters: the values are written as SQL literals)
            cond, params = self.window.local("created_at", self.campaign.timezone)
            literals = [_literal(v) for v in (self.campaign.name, *params)]
            # the bounds first, then the campaign: a '?' in a campaign's name stays its own
            for value in literals[1:]:
                cond = cond.replace("?", value, 1)
            where = f"campaign = {literals[0]} and {cond}"
            self.con.execute(f"create or replace temp view {WINDOW_POSTS} as select * from "
                             f"{POSTS} where {where}")
            self._where = where
            hours, _ = self.window.local("hour", self.campaign.timezone)
            for value in literals[1:]:
                hours = hours.replace("?", value, 1)
            self._hours = f"campaign = {literals[0]} and {hours}"
            self._whole_hours = all(p.minute == 0 and p.second == 0 and p.microsecond == 0
                                    for p in (v.astimezone(dt.UTC) for v in params))
            self._campaign = literals[0]
            self._made[POSTS] = WINDOW_POSTS
        from ..build.sql import substitute
        models = _models()
        for step in chain(model, self._whole_hours):
            if step in self._made:
                continue
            # a filter on the built rows is a view: each reader scans only its columns, and
            # nothing is copied (a temp table of 3.5M tag pairs took 2.8 s, a view 0.3 s); a
            # join or a model's SQL is a table: computed once, read by several sections
            kind = "view"
            if day_level(models[step]):
                # whole local days: the built rows of the window's days
                sql = f"select * from {step} where {self._days('day')}"
            elif self._whole_hours and hour_level(models[step]):
                # the window is whole UTC hours: the built rows of its hours
                sql = f"select * from {step} where {self._hours}"
            elif post_level(models[step]) and "created_at" in models[step].columns:
                # the posts' own time: a range filter, no join with the window's posts
                sql = f"select * from {step} where {self._where}"
            elif post_level(models[step]) and "local_day" in models[step].columns:
                # the posts' own local day: the window is whole local days
                sql = f"select * from {step} where {self._days('local_day')}"
            elif post_level(models[step]):
                kind = "table"
                sql = (f"select * from {step} where (campaign, platform, post_id) in "
                       f"(select campaign, platform, post_id from {WINDOW_POSTS})")
            else:
                kind = "table"
                sql = substitute(models[step].sql, {t: self._made[t]
                                                    for t in models[step].depends_on | {POSTS}
                                                    if t in self._made})
            # the kind in the name: another campaign's page on this connection may have made
            # the same model the other kind (a view is not replaced by a table)
            name = _temp_name(step) + ("__v" if kind == "view" else "")
            try:
                self.con.execute(f"create or replace temp {kind} {name} as {sql}")
            except duckdb.BinderException as exc:
                raise TrackerError(
                    f"{step} does not have the columns this version reads for a window (the "
                    f"models changed since the warehouse was built): run `tracker build`; "
                    f"{str(exc).splitlines()[0]}") from None
            self._made[step] = name
        return self._made[model]
