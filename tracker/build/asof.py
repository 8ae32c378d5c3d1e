"""Changed keys from observations read as of each post's time (`@changes ... asof(...)`).

A model that reads a table of author observations as of each post's time (core.campaign_posts:
followers at posting, the author's latest known count at or before the post, else the earliest
known one) must be recomputed for the posts an observation stored since its last build can
change (tracker.build.model `Change.asof`). This finds them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .model import Change, Model
from .state import Marks, temp_name

if TYPE_CHECKING:
    from .incremental import Context


def changed_posts(ctx: Context, m: Model, ch: Change, marks: Marks) -> str:
    """A temp table of the posts `(platform, post_id)` of the model whose value an observation
    with a known value appended to `ch.table` since the last build can change
    (`Change.asof`), found among the model's own rows (only those can be stale; new posts come
    through the driving table):
    - the author's posts made at or after it (it may now be their latest before them);
    - all the author's posts when it is earlier than the author's earliest known one (it is
      now the earliest, which posts without an earlier one read);
    - the author's posts without a value when the author had no known one before.
    Live collection appends observations newer than the author's posts and earlier ones: the
    first part then reads only recent rows (a constant bound on created_at, which skips the
    older row groups of a table kept in time order), the second finds no author, and the third
    reads only row groups holding a null."""
    assert ch.asof is not None
    time, value, read = ch.asof
    new = marks.new_rows(ch.table)
    name = temp_name(f"asof_{ch.table.replace('.', '_')}", m)
    authors_t, posts_t = f"{name}_authors", f"{name}_posts"
    ctx.run(f"""create or replace temp table {authors_t} as
        with n as (select platform, author_id, {time} as t from {ch.table}
                   where {new} and {value} is not null),
        o as (select platform, author_id, min({time}) as first_known from {ch.table}
              where not ({new}) and {value} is not null
                and (platform, author_id) in (select platform, author_id from n)
              group by platform, author_id)
        select n.platform, n.author_id, min(n.t) as since,
               coalesce(bool_or(n.t < o.first_known), false) as earlier,
               any_value(o.first_known) is null as unknown
        from n left join o using (platform, author_id)
        group by n.platform, n.author_id""")
    earlier, unknown, since = ctx.con.execute(
        f"select count(*) filter (where earlier), count(*) filter (where unknown), "
        f"min(since) filter (where not unknown) from {authors_t}").fetchone() or (0, 0, None)
    # each part only when it can find a post: a join reads the table even when it cannot
    parts = [f"select platform, post_id from {m.table} where false"]
    if earlier:
        parts.append(f"select platform, post_id from {m.table} semi join (select * from "
                     f"{authors_t} where earlier) a using (platform, author_id)")
    if unknown:
        parts.append(f"select platform, post_id from {m.table} semi join (select * from "
                     f"{authors_t} where unknown) a using (platform, author_id) "
                     f"where {read} is null")
    if since is not None:
        # (an author with no known value before: every row that can change is found above)
        parts.append(f"select p.platform, p.post_id from {m.table} p join (select * from "
                     f"{authors_t} where not unknown) a using (platform, author_id) where "
                     f"p.created_at >= a.since and "
                     f"p.created_at >= '{since.isoformat()}'::timestamptz")
    ctx.run(f"create or replace temp table {posts_t} as " + "\nunion\n".join(parts))
    return posts_t
