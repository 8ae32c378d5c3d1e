"""The models of a directory, checked against each other and the norm tables, in build order.

A model depends on the models its SQL reads (`schema.table` references found by parsing it,
see tracker.build.sql); `ordered` puts every model after those it reads.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from pathlib import Path

from ..errors import TrackerError
from .model import LAYERS, POST_KEY, Model, at, parse_model
from .state import POSTS


def discover(queries_dir: Path, sources: Mapping[str, Sequence[str]] | None = None,
             post_keyed: Collection[str] | None = None) -> list[Model]:
    """Every `<layer>/<name>.sql` under `queries_dir`, parsed and checked (`check`) when
    `sources` is given."""
    models = [parse_model(layer, path) for layer in LAYERS
              for path in sorted((queries_dir / layer).glob("*.sql"))]
    if sources is not None:
        check(models, sources, post_keyed)
    return models


def check(models: list[Model], sources: Mapping[str, Sequence[str]],
          post_keyed: Collection[str] | None = None) -> None:
    """What a model's directives say about other tables: they exist, with those columns; a
    model named by `@changes` is incremental (else it is rebuilt in full, and so would be
    every model it drives); the norm tables whose rows are found through their post's
    (@lookup, and @changes keyed by post) are among `post_keyed`, the tables the loader
    writes with the post or later.

    `sources`: {norm table: its columns}, what `@changes` and `@lookup` may name besides
    models. `post_keyed`: None for not checked.
    """
    by_table = {m.table: m for m in models}
    by_post = None if post_keyed is None else {POSTS, *post_keyed}

    def columns(where: str, directive: str, table: str) -> Sequence[str]:
        cols = list(by_table[table].columns) if table in by_table else sources.get(table)
        if cols is None:
            raise TrackerError(f"{where}: {directive}: unknown table {table} (neither a "
                               "norm table nor a model)")
        return cols

    for m in models:
        for ch in m.changes:
            where = at(m.path, ch.line)
            cols = columns(where, "@changes", ch.table)
            _has(where, "@changes", ch.table, ch.columns + (ch.asof[:2] if ch.asof else ()),
                 cols)
            if ch.columns == POST_KEY and ch.table in sources:
                _by_post(where, "@changes", ch.table, by_post)
            if ch.table in by_table and not by_table[ch.table].incremental_key:
                raise TrackerError(f"{where}: @changes: {ch.table} is not incremental (it is "
                                   "rebuilt in full each time, and so would this model be)")
        up = by_table.get(m.changes[0].table) if m.changes else None
        if m.merge and up is not None and up.merge and not m.merge_count:
            # over a merged model, a key's rows come and go (an author who takes up a second
            # tag leaves one combination for another): only a count of them says when none
            # is left
            raise TrackerError(f"{m.where('merge')}: @merge: over the merged model {up.table}, "
                               "one column must be 'count' (counting its rows in the key: a "
                               "key whose count falls to 0 is dropped)")
        for lk in m.lookups:
            where = at(m.path, lk.line)
            cols = columns(where, "@lookup", lk.table)
            _has(where, "@lookup", lk.table, lk.columns, cols)
            if lk.rows_table not in sources:
                raise TrackerError(f"{where}: @lookup: unknown norm table {lk.rows_table}")
            _by_post(where, "@lookup", lk.rows_table, by_post)
            if lk.row_column != "rowid":
                _has(where, "@lookup", lk.table, (lk.row_column,), cols)


def _by_post(where: str, directive: str, table: str, by_post: set[str] | None) -> None:
    if by_post is not None and table not in by_post:
        raise TrackerError(f"{where}: {directive}: {table} is not written with its posts or "
                           "later (the loader's post-keyed tables: "
                           f"{', '.join(sorted(by_post - {POSTS}))})")


def _has(where: str, directive: str, table: str, wanted: Sequence[str],
         columns: Sequence[str]) -> None:
    for c in wanted:
        if c not in columns:
            raise TrackerError(f"{where}: {directive}: unknown column '{c}' of {table} "
                               f"(its columns: {', '.join(columns)})")


def ordered(models: list[Model]) -> list[Model]:
    """Topological order by the models each model's SQL reads."""
    by_table = {m.table: m for m in models}
    deps = {m.table: {r for r in m.depends_on if r in by_table} for m in models}
    done: list[Model] = []
    seen: set[str] = set()
    visiting: set[str] = set()

    def visit(table: str) -> None:
        if table in seen:
            return
        if table in visiting:
            raise TrackerError(f"{by_table[table].path}: models depend on each other in a cycle")
        visiting.add(table)
        for d in sorted(deps[table]):
            visit(d)
        visiting.discard(table)
        seen.add(table)
        done.append(by_table[table])

    for m in models:
        visit(m.table)
    return done
