"""The build engine: SQL model files materialised in dependency order, incrementally where
a model asks for it. (What a contributor writes is in docs/models.md, "Adding a model"; this
is how the engine does it.)

Modules:
    model        a model file: header, directives, checked when loaded (`parse_model`)
    sql          the SQL as a tree (SQLGlot, DuckDB dialect): tables read, tables replaced
    graph        the models of a directory, checked against each other (`discover`), and
                 their order (`ordered`)
    state        core.build_state (fingerprints, high-water marks), the `Delta` a model
                 hands downstream
    incremental  the update strategies
    asof         the posts an observation read as of each post's time can change
    run          `build`: every model, in order, in one transaction

Dependencies. A model depends on the `staging.`, `core.` and `marts.` tables its SQL reads,
found by parsing the SQL (`sql.tables`); it is built after them.

Incremental models. `@incremental k1, k2, ...` with `@changes T(c1, ...)`: the first
`@changes` table drives the model, and its columns name the changed keys, held by the model's
first @incremental columns (`@incremental campaign, day, platform` with `@changes
core.campaign_posts(campaign, local_day)`): deleting a key deletes the rows whose first
columns match it. Changed keys come from each `@changes` table:

- a norm table: its rows appended since the last build, found by DuckDB's rowid against a
  high-water mark kept per model and table (`state.BuildState`). This relies on the loader
  rules written in tracker/store/normalise.py: norm tables are append-only except the
  documented in-place updates, and an update that can move a key to another bucket (a post's
  created_at) deletes core.build_state, so the next build is full.
- an incremental model built earlier in this build: the keys it changed, from its `Delta`
  (temp tables `changed`, `fresh`, `rows`, passed in `Context.deltas`, never found by name).
  When the model asks for other columns of it (the `(campaign, hour)` buckets of changed
  `(campaign, post)` rows), they are read from that model's `rows` for the changed keys. So a
  key's bucket must not change between builds (a post's hour does not), or its old bucket
  would not be recomputed.

A table listed with fewer columns than the driving table (a post's `(platform, post_id)` for
`(campaign, platform, post_id)`) is widened through the driving table.

`recompute` (mode `incremental`) deletes the model's rows for the changed keys and inserts the
model's own SQL run with the driving table replaced by its rows for those keys (the parsed
query's table node replaced by a subquery, rendered by SQLGlot in DuckDB's dialect).

Fresh keys. A key first appended to a norm driving table since the last build (its @changes
columns are the table's unique key) cannot have rows in the model yet: nothing is deleted for
it, and its driving rows are read by rowid, without a scan. A model keyed like its upstream
model inherits the upstream's fresh keys. Only the other changed keys ("touched": a newer
engagement observation of an older post) are deleted and read by key, which scans; when there
are none, nothing is scanned. When the touched keys of a large input (`_LARGE_INPUT`) are at
least half of a small model's keys, the model is built in full instead.

Lookups. `@lookup T(platform, post_id)` replaces T in the model's SQL by T's rows for the posts
of the restricted driving rows. Posts first stored since the last build (new rows of
norm.posts) find their rows among T's rows appended since then (by rowid, or by the `rows`
column that carries norm.posts' rowid when T is a view over it): by the loader rule, every row
keyed by a post is written in the transaction that first stores the post, or later. Only the
other posts are looked up by key, with a scan. The same rule lets a changed
`(platform, post_id)` of a fresh post be widened without scanning the driving table.

Merges. `@merge posts sum, followers max, first_day min`: when the upstream model only added
new rows in this build (every changed key fresh), the model's SQL runs over the upstream's
`rows` alone and each result row is combined with the model's existing row of the same key (the
old row deleted, the combined one inserted: DuckDB scans and checkpoints updated rows slowly).
When the upstream was merged itself, its Delta carries the rows it replaced (`Delta.replaced`):
the SQL runs over the new versions and over the replaced ones, sums become existing + new -
replaced, max/min/bit_or/union take the new versions, and a key whose `count` column (the
upstream's rows in it; such a model must have one, `graph.check`) falls to 0 is dropped, while
one that keeps other rows stays (distinct authors counted per written form or tag combination
without reading every author; an author who takes up a second tag moves from one combination to
another). Otherwise the changed keys are recomputed. `@reapply` is for a model whose SQL
chooses some of its driving table's rows (the leaders by a metric): when the upstream was
merged, so that changed rows only grew, the SQL runs again over the model's own rows and the
upstream's changed rows; otherwise the model is built in full. A reapplied model hands no delta
downstream (its dependents build in full).

Keys. A merged model's table holds `merge_key`, a digest of its key (model.MERGE_KEY): the
model's existing rows of the changed keys are found by that one column, not by comparing
every row's key texts. Keys that hold a null match as one key (`is not distinct from`, over
the small side's rows with a null only): incremental.semi and anti.

Full builds. A model is built in full when its table is missing, its SQL or the config tables
(core.campaigns, core.campaign_tags) changed since the last build (a fingerprint), a norm
table it reads changes from shrank, or an upstream incremental model was built in full. What
an incremental build does not see (`tracker build --full` does): a change to a row that was
not appended and is not signalled (a late author observation dated before posts already
built; an author's first observation arriving after their posts were built; a repost stored
before the post it reposts, which joins that post's campaigns when a full build links stored
posts again).
"""

from .graph import check, discover, ordered
from .model import LAYERS, Change, Lookup, Model, parse_model
from .run import Step, build
from .state import Delta

__all__ = ["LAYERS", "Change", "Delta", "Lookup", "Model", "Step", "build", "check",
           "discover", "ordered", "parse_model"]
