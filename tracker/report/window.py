"""`--since/--until` for every section: a mart's own SQL run again over the window's posts.

A mart is a chain of models from `core.campaign_posts` (e.g. core.campaign_hourly, then
marts.languages). With a window set, `Scope.table(mart)` runs that chain once more, each
model's SQL unchanged except that `core.campaign_posts` is replaced by the campaign's posts
inside the window: every model of the chain becomes a temp table (the report's connection
is read-only; the warehouse is never written), made once per report and shared by the
sections that need it (the headline figures, languages and the heatmap all read
core.campaign_hourly). No figure is defined twice: the definitions stay in `queries/`.
Without a window, `table` names the mart itself.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import duckdb

from ..build.model import Model
from ..config import Campaign
from .data import Window

POSTS = "core.campaign_posts"
WINDOW_POSTS = "report_window_posts"


@functools.cache
def _models() -> dict[str, Model]:
    from ..models import discover
    return {m.table: m for m in discover()}


@functools.cache
def chain(mart: str) -> tuple[str, ...]:
    """The models `mart` reads, directly or not, that read core.campaign_posts (directly or
    not), in build order, ending with `mart` itself."""
    models = _models()
    if mart not in models:
        raise KeyError(f"{mart} is not a model")
    order: list[str] = []

    def visit(table: str) -> bool:
        """True when `table` depends on the posts; appends it (after its inputs) if so."""
        if table == POSTS:
            return True
        if table not in models:
            return False
        wanted = [visit(d) for d in sorted(models[table].depends_on)]
        if any(wanted) and table not in order:
            order.append(table)
        return any(wanted)

    if not visit(mart):
        raise KeyError(f"{mart} does not read {POSTS}: a window cannot apply to it")
    return tuple(order)


def _temp_name(table: str) -> str:
    return "report_window__" + table.replace(".", "__")


@dataclass
class Scope:
    """Where the report reads each model from, for one campaign and window."""

    con: duckdb.DuckDBPyConnection
    campaign: Campaign
    window: Window
    _made: dict[str, str] = field(default_factory=dict)

    def table(self, model: str) -> str:
        """`model` itself without a window; with one, a temp table holding `model`'s rows
        computed from the campaign's posts inside the window."""
        if not self.window.is_set:
            return model
        if not self._made:
            cond, params = self.window.local("created_at", self.campaign.timezone)
            self.con.execute(f"create or replace temp table {WINDOW_POSTS} as select * from "
                             f"{POSTS} where campaign = ? and {cond}",
                             [self.campaign.name, *params])
            self._made[POSTS] = WINDOW_POSTS
        from ..build.sql import substitute
        models = _models()
        for step in chain(model):
            if step in self._made:
                continue
            sql = substitute(models[step].sql, {t: self._made[t]
                                                for t in models[step].depends_on | {POSTS}
                                                if t in self._made})
            name = _temp_name(step)
            self.con.execute(f"create or replace temp table {name} as {sql}")
            self._made[step] = name
        return self._made[model]
