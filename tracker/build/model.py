"""A model file: its SQL, the header that documents it, and its directives, checked on load.

The header is the `--` lines before the SQL (docs/models.md, "Adding a model"):

    -- What one row is (the description, up to the first blank comment line).
    -- @materialized view                   optional: view | table (default)
    -- @incremental key1, key2              with @changes: the model's key columns
    -- @changes layer.table(key1, ...)      what drives an incremental update (first) ...
    -- @changes norm.table(platform, post_id)   ... and its other inputs
    -- @changes norm.table(platform, author_id) asof(observed_at, value, model_column)
    --                                      observations read as of each post's time
    --                                      (see `Change.asof`)
    -- @lookup norm.table(platform, post_id)    read only the changed posts' rows of a table
    -- @lookup core.view(platform, post_id) rows norm.table(column)
    -- @merge column sum, column max, column min, column bit_or, column union   add new rows to
    --                                      the existing sums (union: sorted distinct texts;
    --                                      count: a sum counting the upstream's rows)
    -- @reapply                             choose again among the previous rows and the new
    --
    -- column: what it means
    --   continued on an indented line

A directive that cannot work is an error naming the file and the line, raised when the model
is loaded (here for what the file alone shows; tracker.build.graph for what needs the other
models and the norm tables).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from ..errors import TrackerError
from . import sql as sqltree

LAYERS = ("core", "marts")
# a layer of earlier versions (one view per platform), dropped by the build
RETIRED_LAYERS = ("staging",)
POST_KEY = ("platform", "post_id")
_COLUMN = re.compile(r"^(\w+): (.*)$")
_CHANGES = re.compile(r"^(\w+\.\w+)\s*\(([^)]*)\)(?:\s+asof\s*\(([^)]*)\))?$")
AUTHOR_KEY = ("platform", "author_id")
_LOOKUP = re.compile(r"^(\w+\.\w+)\s*\(([^)]*)\)(?:\s+rows\s+(\w+\.\w+)\s*\((\w+)\))?$")
_OPS = ("sum", "count", "max", "min", "bit_or", "union")
_DIRECTIVE = re.compile(r"^@(\w+)")
DIRECTIVES = ("materialized", "incremental", "changes", "lookup", "merge", "reapply")


@dataclass(frozen=True)
class Change:
    """`@changes table(columns)`: the keys `table` changed since the last build.

    With `asof(time, value, read)` (`@changes norm.author_observations(platform, author_id)
    asof(observed_at, followers, followers_at_post)`): `table` holds observations of authors
    that the model reads as of each post's time into its column `read` (the latest known
    `value` at or before the post, else the earliest known one). Its changed keys are then
    posts, `(platform, post_id)`, found among the model's own rows (which need the columns
    platform, post_id, author_id, created_at and `read`): an appended row with a known value
    changes its author's posts made at or after it; all of them when it is earlier than the
    author's earliest known one; and those that read no value when the author had no known
    one (tracker.build.asof). So an observation that arrives after its
    posts were built (a profile fetched later, an older archive imported after a newer one)
    reaches them, and live collection, whose new rows are the newest, changes only its new
    posts."""
    table: str
    columns: tuple[str, ...]
    line: int = field(default=0, compare=False)
    asof: tuple[str, str, str] | None = None

    @property
    def keys(self) -> tuple[str, ...]:
        """The columns of the keys this change yields."""
        return POST_KEY if self.asof else self.columns


@dataclass(frozen=True)
class Lookup:
    """`@lookup table(platform, post_id)`: `table` read for the changed posts only;
    `rows_table`.rowid is `row_column` in it (`rowid` itself when table is a norm table)."""
    table: str
    columns: tuple[str, ...]
    rows_table: str
    row_column: str
    line: int = field(default=0, compare=False)


# The column a @merge model's table has besides its own: a digest of the key, by which a merge
# finds the rows of the keys it changes (tracker.build.incremental.merge)
MERGE_KEY = "merge_key"
MERGE_KEY_DOC = ("the build engine's digest of the key columns (md5 of their JSON text, as a "
                 "UUID): a merge finds a key's row by it")


def merge_key_sql(keys) -> str:
    """SQL for the digest of `keys` (the MERGE_KEY column): md5 of the key's values as JSON
    text, so null-safe ([null] is not ["null"]). Equal for equal keys as long as each key
    type's text is: checked on DuckDB 1.4 and 1.5 for the key types the models use (text,
    DATE, integers); TIMESTAMPTZ text depends on the TimeZone, which `build` sets to UTC."""
    return f"md5(to_json([{', '.join(f'{k}::varchar' for k in keys)}]))::uuid"


@dataclass(frozen=True)
class Model:
    layer: str
    name: str
    path: Path
    sql: str
    description: str
    columns: dict[str, str] = field(default_factory=dict)
    materialized: str = "table"
    incremental_key: tuple[str, ...] = ()
    changes: tuple[Change, ...] = ()
    lookups: tuple[Lookup, ...] = ()
    merge: tuple[tuple[str, str], ...] = ()
    reapply: bool = False
    reads: frozenset[str] = frozenset()  # every schema.table the SQL reads
    lines: dict[str, int] = field(default_factory=dict, compare=False)  # directive -> line

    @property
    def table(self) -> str:
        return f"{self.layer}.{self.name}"

    @property
    def depends_on(self) -> set[str]:
        """The models (tables of the layers) this model's SQL reads."""
        return {t for t in self.reads if t.split(".")[0] in LAYERS} - {self.table}

    @property
    def table_columns(self) -> dict[str, str]:
        """The columns of the model's table and their docs: its own, then MERGE_KEY."""
        return self.columns | ({MERGE_KEY: MERGE_KEY_DOC} if self.merge else {})

    @property
    def merge_count(self) -> str | None:
        """The @merge column counting the upstream's rows in the key (op `count`), if any."""
        return next((c for c, op in self.merge if op == "count"), None)

    def where(self, directive: str) -> str:
        return at(self.path, self.lines.get(directive, 0))


def at(path: Path, line: int) -> str:
    """`path:line`, the path relative to the working directory when under it."""
    try:
        shown = path.resolve().relative_to(Path.cwd())
    except ValueError:
        shown = path
    return f"{shown}:{line}" if line else str(shown)


@dataclass
class _Header:
    description: list[str] = field(default_factory=list)
    columns: dict[str, str] = field(default_factory=dict)
    values: dict[str, str] = field(default_factory=dict)  # directive -> text (single ones)
    changes: list[Change] = field(default_factory=list)
    lookups: list[Lookup] = field(default_factory=list)
    lines: dict[str, int] = field(default_factory=dict)


def parse_model(layer: str, path: Path) -> Model:
    return _parse(layer, path, path.read_text(encoding="utf-8"))


@lru_cache(maxsize=256)
def _parse(layer: str, path: Path, text: str) -> Model:
    """Cached: a long-running process (the daemon) reads each model file once per change."""
    head = _read_header(path, text)
    try:
        tree = sqltree.parse(text)
    except sqltree.ParseError as exc:
        raise TrackerError(f"{at(path, exc.line)}: SQL not understood: {exc}") from None
    model = Model(
        layer, path.stem, path, text, " ".join(head.description).strip(), head.columns,
        head.values.get("materialized", "table"),
        _names(head.values["incremental"]) if "incremental" in head.values else (),
        tuple(head.changes), tuple(head.lookups),
        _merge(path, head) if "merge" in head.values else (),
        "reapply" in head.values, sqltree.tables(tree), head.lines)
    _check(model)
    return model


def _read_header(path: Path, text: str) -> _Header:
    head = _Header()
    in_columns, last = False, None
    for number, line in enumerate(text.splitlines(), 1):
        if not line.startswith("--"):
            break
        body = line[2:]
        stripped = body.strip()
        directive = _DIRECTIVE.match(stripped)
        if directive and not in_columns:
            _directive(path, number, stripped, head)
        elif directive and directive.group(1) in DIRECTIVES:
            raise TrackerError(f"{at(path, number)}: {stripped.split()[0]}: directives go "
                               "before the column list (the first blank '--' line)")
        elif not stripped:
            in_columns = True
        elif in_columns and (m := _COLUMN.match(stripped)) and not body.startswith("   "):
            last = m.group(1)
            if last == MERGE_KEY:
                raise TrackerError(f"{at(path, number)}: column '{MERGE_KEY}' is the build "
                                   "engine's digest of a @merge model's key (a `select *` "
                                   "from such a model carries it): select columns by name, "
                                   "or name yours otherwise")
            head.columns[last] = m.group(2).strip()
        elif in_columns and last:
            head.columns[last] += " " + stripped
        elif not in_columns:
            head.description.append(stripped)
    return head


def _directive(path: Path, number: int, text: str, head: _Header) -> None:
    name, _, arg = text[1:].partition(" ")
    arg = arg.strip()
    where = at(path, number)
    if name not in DIRECTIVES:
        raise TrackerError(f"{where}: unknown directive '@{name}' (known: "
                           + ", ".join(f"@{d}" for d in DIRECTIVES) + ")")
    head.lines.setdefault(name, number)
    if name == "changes":
        m = _CHANGES.match(arg)
        if not m or not _names(m.group(2)):
            raise TrackerError(f"{where}: @changes: expected 'layer.table(column, ...)'")
        asof = None
        if m.group(3) is not None:
            names = _names(m.group(3))
            if (_names(m.group(2)) != AUTHOR_KEY or len(names) != 3
                    or not m.group(1).startswith("norm.")):
                raise TrackerError(f"{where}: @changes: expected 'norm.table(platform, "
                                   "author_id) asof(time_column, value_column, "
                                   "model_column)'")
            asof = (names[0], names[1], names[2])
        head.changes.append(Change(m.group(1), _names(m.group(2)), number, asof))
        return
    if name == "lookup":
        head.lookups.append(_lookup(where, arg, number))
        return
    if name in head.values:
        raise TrackerError(f"{where}: @{name} given twice")
    if name == "materialized" and arg not in ("view", "table"):
        raise TrackerError(f"{where}: @materialized: expected 'view' or 'table'")
    if name == "reapply" and arg:
        raise TrackerError(f"{where}: @reapply takes nothing after it")
    if name in ("incremental", "merge") and not arg:
        raise TrackerError(f"{where}: @{name}: expected columns after it")
    head.values[name] = arg


def _lookup(where: str, text: str, number: int) -> Lookup:
    m = _LOOKUP.match(text)
    usage = (f"{where}: @lookup: expected 'norm.table(platform, post_id)' or "
             "'layer.view(platform, post_id) rows norm.table(column)'")
    if not m or _names(m.group(2)) != POST_KEY:
        raise TrackerError(usage)
    table, rows_table, row_column = m.group(1), m.group(3), m.group(4)
    if rows_table is None:
        if not table.startswith("norm."):
            raise TrackerError(usage)
        rows_table, row_column = table, "rowid"
    elif not rows_table.startswith("norm."):
        raise TrackerError(usage)
    return Lookup(table, POST_KEY, rows_table, row_column, number)


def _merge(path: Path, head: _Header) -> tuple[tuple[str, str], ...]:
    pairs = [part.split() for part in head.values["merge"].split(",")]
    if not all(len(p) == 2 and p[1] in _OPS for p in pairs):
        raise TrackerError(f"{at(path, head.lines['merge'])}: @merge: "
                           "expected 'column sum|count|max|min|bit_or|union, ...'")
    return tuple((c, op) for c, op in pairs)


def _names(text: str) -> tuple[str, ...]:
    return tuple(c.strip() for c in text.split(",") if c.strip())


def _check(m: Model) -> None:
    """What the file alone shows about its directives."""
    key, changes = m.incremental_key, m.changes
    if bool(key) != bool(changes):
        raise TrackerError(f"{m.where('incremental' if key else 'changes')}: "
                           "@incremental and @changes go together")
    if key and m.materialized == "view":
        raise TrackerError(f"{m.where('incremental')}: @incremental: a view is not stored; "
                           "remove @materialized view")
    _known_columns(m, "incremental", key)
    if changes and changes[0].asof:
        raise TrackerError(f"{at(m.path, changes[0].line)}: @changes: the first (driving) "
                           "table cannot be read asof (list it after the driving table)")
    if changes and len(key) < len(changes[0].columns):
        raise TrackerError(f"{m.where('incremental')}: @incremental: expected at least the "
                           "columns of the first @changes table (they name the same keys, "
                           "in order)")
    if (m.lookups or m.merge or m.reapply) and not changes:
        directive = "lookup" if m.lookups else "merge" if m.merge else "reapply"
        raise TrackerError(f"{m.where(directive)}: @lookup, @merge and @reapply need "
                           "@incremental and @changes")
    if m.reapply and (len(changes) != 1 or changes[0].columns != key):
        raise TrackerError(f"{m.where('reapply')}: @reapply: expected one @changes table with "
                           "the @incremental columns")
    for ch in changes:
        for name in (("platform", "post_id", "author_id", "created_at", ch.asof[2])
                     if ch.asof else ()):   # the posts it changes are among the model's rows
            if name not in m.columns:
                raise TrackerError(f"{at(m.path, ch.line)}: @changes: asof needs the model's "
                                   f"column '{name}' (the model's columns: "
                                   f"{', '.join(m.columns) or 'none documented'})")
        if ch.table.split(".")[0] in LAYERS and ch.table not in m.reads:
            raise TrackerError(f"{at(m.path, ch.line)}: @changes: the model does not read "
                               f"{ch.table}")
    for lk in m.lookups:
        if lk.table not in m.reads:
            raise TrackerError(f"{at(m.path, lk.line)}: @lookup: the model does not read "
                               f"{lk.table}")
    if m.merge:
        _check_merge(m)


def _check_merge(m: Model) -> None:
    if m.reapply:
        raise TrackerError(f"{m.where('reapply')}: @merge and @reapply do not go together (a "
                           "merge adds to the rows a key has; @reapply chooses rows again)")
    merged = [c for c, _ in m.merge]
    _known_columns(m, "merge", merged)
    if both := [c for c in merged if c in m.incremental_key]:
        raise TrackerError(f"{m.where('merge')}: @merge: '{both[0]}' is an @incremental "
                           "column (the key is kept, the other columns are merged)")
    if rest := [c for c in m.columns if c not in m.incremental_key and c not in merged]:
        raise TrackerError(f"{m.where('merge')}: @merge: column '{rest[0]}' is neither an "
                           "@incremental column nor merged (it would be lost)")
    if len(m.changes) != 1:
        raise TrackerError(f"{m.where('merge')}: @merge: expected one @changes table (the "
                           "model whose new rows are added)")
    if len([c for c, op in m.merge if op == "count"]) > 1:
        raise TrackerError(f"{m.where('merge')}: @merge: at most one 'count' column (the "
                           "number of the upstream's rows in the key)")


def _known_columns(m: Model, directive: str, names) -> None:
    for name in names:
        if name not in m.columns:
            known = ", ".join(m.columns) or "none documented"
            raise TrackerError(f"{m.where(directive)}: @{directive}: unknown column "
                               f"'{name}' (the model's columns: {known})")
