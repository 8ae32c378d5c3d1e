"""A model's SQL as a tree (SQLGlot, DuckDB dialect): the tables it reads, and the same query
with some of those tables read from elsewhere.

Every model in `queries/` parses, and its rendering runs in DuckDB with the same result as the
file (tests/test_build_engine.py checks this for every model). Parses and renderings are
cached: a long-running process (the daemon, a benchmark) parses each model once.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache

import sqlglot
from sqlglot import exp

DIALECT = "duckdb"


class ParseError(ValueError):
    """The SQL is not understood; `line` is its 1-based line in the parsed text (0: unknown)."""

    def __init__(self, message: str, line: int = 0):
        super().__init__(message)
        self.line = line


@lru_cache(maxsize=256)
def parse(sql: str) -> exp.Query:
    """The query of `sql` (comments included). Cached: do not modify the result."""
    try:
        tree = sqlglot.parse_one(sql, read=DIALECT)
    except sqlglot.errors.ParseError as exc:
        first = exc.errors[0] if exc.errors else {}
        raise ParseError(str(first.get("description") or exc).splitlines()[0],
                         int(first.get("line") or 0)) from None
    if not isinstance(tree, exp.Query):
        raise ParseError(f"expected a query (select ...), found {tree.key}")
    return tree


def tables(tree: exp.Expr) -> frozenset[str]:
    """Every `schema.table` the query reads (not its CTEs, which have no schema)."""
    return frozenset(_qualified(t) for t in tree.find_all(exp.Table) if t.db and t.name)


def _qualified(table: exp.Table) -> str:
    return f"{table.db}.{table.name}".lower()


def substitute(sql: str, replacements: Mapping[str, str]) -> str:
    """The query of `sql` with each `schema.table` in `replacements` read from its replacement:
    another table's name, or a query in parentheses, under the alias the query gave the
    table (or the table's own name, so that `name.column` still resolves)."""
    return _render(sql, tuple(sorted(replacements.items())))


@lru_cache(maxsize=512)
def _render(sql: str, replacements: tuple[tuple[str, str], ...]) -> str:
    by_table = {table.lower(): _node(text) for table, text in replacements}

    def swap(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Table) and node.db and _qualified(node) in by_table:
            alias = node.alias or node.name
            new = by_table[_qualified(node)]
            if isinstance(new, exp.Table):
                new = new.copy()
                new.set("alias", exp.TableAlias(this=exp.to_identifier(alias)))
                return new
            return new.subquery(alias)
        return node

    return parse(sql).transform(swap).sql(dialect=DIALECT)


def _node(text: str) -> exp.Table | exp.Query:
    text = text.strip()
    if text.startswith("("):
        return parse(text[1:-1] if text.endswith(")") else text)
    return exp.to_table(text, dialect=DIALECT)
