"""What a build remembers between builds (core.build_state) and passes between models.

`BuildState`: per incremental model, the fingerprint of its SQL and of the config tables at
its last build, and the high-water mark (largest rowid) of each norm table it reads changes
from. `Marks`: those marks for one model, then and now. `Delta`: what an incremental model
changed in this build, handed to the models downstream of it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

import duckdb

from ..store.db import BUILD_STATE, has_table, scalar
from .model import MERGE_KEY, POST_KEY, Model

STATE_TABLE = BUILD_STATE
# The posts table of the loader rule (tracker/store/normalise.py): every row keyed by a post
# is written in the transaction that first stores the post in it, or later.
POSTS = "norm.posts"
# Rows inserted in the open transaction have provisional rowids from 2**55 up; a mark taken
# then would be wrong after commit. Builds never write norm.* inside their transaction.
_LOCAL_ROWIDS = 1 << 55


@dataclass(frozen=True)
class Marks:
    """{norm table: its high-water mark at the model's last build} and {...: now}."""
    last: dict[str, int]
    now: dict[str, int]

    def new_rows(self, table: str) -> str:
        """A condition on `rowid` for the rows of `table` appended since the last build."""
        return f"rowid > {self.last[table]}"


@dataclass(frozen=True)
class Delta:
    """What an incremental model changed in this build (temp tables, all in `key` columns,
    the model's own first @incremental columns)."""
    key: tuple[str, ...]
    changed: str  # the keys whose rows were replaced or added
    fresh: str  # those of them that had no rows before (first seen in this build)
    rows: str  # the model's rows for the changed keys, as they are after this build
    merged: bool = False  # @merge: the changed rows only grew (new posts' sums added)
    replaced: str | None = None  # @merge: the rows of the changed keys before this build
    appended: bool = False  # every changed key is fresh: the model only appended rows


def temp_name(purpose: str, model: Model) -> str:
    """The name of a temp table that holds `purpose` for `model` in this build."""
    return f"{purpose}_{model.table.replace('.', '_')}"


class BuildState:
    def __init__(self, con: duckdb.DuckDBPyConnection, config_tables: Sequence[str]):
        self.con = con
        self.config_tables = tuple(config_tables)
        self._marks: dict[str, int] = {}
        # one row per (model, source), written by `save` after deleting the model's rows; no
        # primary key, which a lake cannot have (store/lake.py)
        con.execute(f"create table if not exists {STATE_TABLE} (model varchar, fingerprint "
                    "varchar, source varchar, high_water bigint)")
        self._config = repr(tuple(con.execute(f"select * from {t} order by all").fetchall()
                                  for t in self.config_tables))
        # every model's remembered marks, read once: {(model, fingerprint): {source: mark}}
        self._saved: dict[tuple[str, str], dict[str, int]] = {}
        for table, fp, source, mark in con.execute(
                f"select model, fingerprint, source, high_water from {STATE_TABLE}").fetchall():
            self._saved.setdefault((table, fp), {})[source] = mark

    def fingerprint(self, model: Model) -> str:
        """Changes when the model's SQL or the config tables change (and, for a @merge model,
        once when its table gained MERGE_KEY: built before, it is built in full)."""
        text = f"({model.sql.strip().rstrip(';')!r}, {self._config[1:]}"
        if model.merge:
            text += f" +{MERGE_KEY}"
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def marks(self, model: Model) -> Marks | None:
        """The model's marks, or None when it must be built in full: its table is missing, its
        fingerprint changed, or a norm table it reads changes from shrank."""
        if not has_table(self.con, model.table):
            return None
        state = self._saved.get((model.table, self.fingerprint(model)), {})
        if "" not in state:
            return None
        last, now = {}, {}
        for table in marked_tables(model):
            if table not in state:
                return None
            now[table] = self._high_water(table)
            if now[table] < state[table]:
                return None
            last[table] = state[table]
        return Marks(last, now)

    def record_full(self, model: Model) -> None:
        """After a full build of an incremental model: its fingerprint and marks now."""
        fp = self.fingerprint(model)
        self.con.execute(f"delete from {STATE_TABLE} where model = ?", [model.table])
        for table in marked_tables(model):
            self.con.execute(f"insert into {STATE_TABLE} values (?, ?, ?, ?)",
                             [model.table, fp, table, self._high_water(table)])
        self.con.execute(f"insert into {STATE_TABLE} values (?, ?, '', -1)", [model.table, fp])

    def view_is_current(self, model: Model) -> bool:
        """Whether the view exists as the last build made it (same SQL and config, and made
        as a view: a table of the same SQL is recorded without the prefix)."""
        if (model.table, "view:" + self.fingerprint(model)) not in self._saved:
            return False
        try:
            return has_table(self.con, model.table)
        except duckdb.Error:   # e.g. a table it reads changed a column's type
            return False

    def was_view(self, model: Model) -> bool:
        """Whether the last build recorded the model as a view (on a lake)."""
        return any(t == model.table and fp.startswith("view:") for t, fp in self._saved)

    def forget(self, model: Model) -> None:
        """Drop what the state remembers of the model."""
        self.con.execute(f"delete from {STATE_TABLE} where model = ?", [model.table])
        self._saved = {k: v for k, v in self._saved.items() if k[0] != model.table}

    def record_view(self, model: Model) -> None:
        """After a view was made: its fingerprint."""
        self.con.execute(f"delete from {STATE_TABLE} where model = ?", [model.table])
        self.con.execute(f"insert into {STATE_TABLE} values (?, ?, '', -1)",
                         [model.table, "view:" + self.fingerprint(model)])

    def advance(self, model: Model, marks: Marks) -> None:
        """After an incremental update: the marks it read up to."""
        if not marks.now:
            return
        cases = " ".join("when ? then ?" for _ in marks.now)
        self.con.execute(f"update {STATE_TABLE} set high_water = case source {cases} end "
                         f"where model = ? and source in ({', '.join('?' * len(marks.now))})",
                         [v for item in marks.now.items() for v in item]
                         + [model.table, *marks.now])

    def _high_water(self, table: str) -> int:
        # once per build and norm table: the build does not write norm.* (a lake answers
        # each query in tens of milliseconds, docs/lake.md)
        if table in self._marks:
            return self._marks[table]
        mark = scalar(self.con, f"select coalesce(max(rowid), -1) from {table}")
        if mark >= _LOCAL_ROWIDS:
            raise RuntimeError(f"{table} has uncommitted rows: cannot take a high-water mark")
        self._marks[table] = mark
        return mark

    def _count(self, source: str, params: list | None = None) -> int:
        return scalar(self.con, f"select count(*) from {source}", params or [])


def marked_tables(model: Model) -> list[str]:
    """The norm tables whose high-water marks the model keeps."""
    tables = [ch.table for ch in model.changes if ch.table.startswith("norm.")]
    if model.lookups or any(ch.keys == POST_KEY for ch in model.changes[1:]):
        tables += [lk.rows_table for lk in model.lookups] + [POSTS]
    return list(dict.fromkeys(tables))
