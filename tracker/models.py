"""SQL models: the .sql files in `queries/`, materialised as tables in dependency order.

`queries/<layer>/<name>.sql` becomes the table `<layer>.<name>`. A model depends on the models
it names as `<layer>.<name>`; `tracker build` runs them in that order. The header comment of a
model (the lines starting with `--` before the SQL) is its description.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb

from .config import PROJECT_ROOT
from .errors import TrackerError

QUERIES_DIR = PROJECT_ROOT / "queries"
LAYERS = ("staging", "core", "marts")


@dataclass(frozen=True)
class Model:
    layer: str
    name: str
    path: Path
    sql: str
    description: str

    @property
    def table(self) -> str:
        return f"{self.layer}.{self.name}"


def discover(queries_dir: Path = QUERIES_DIR) -> list[Model]:
    out = []
    for layer in LAYERS:
        for path in sorted((queries_dir / layer).glob("*.sql")):
            text = path.read_text(encoding="utf-8")
            header = []
            for line in text.splitlines():
                if not line.startswith("--"):
                    break
                header.append(line[2:].strip())
            out.append(Model(layer, path.stem, path, text, "\n".join(header).strip()))
    return out


def ordered(models: list[Model]) -> list[Model]:
    """Topological order by references `<layer>.<name>` in each model's SQL."""
    by_table = {m.table: m for m in models}
    deps = {}
    for m in models:
        body = re.sub(r"--[^\n]*", "", m.sql)
        refs = set(re.findall(r"\b((?:staging|core|marts)\.\w+)\b", body))
        deps[m.table] = {r for r in refs if r in by_table and r != m.table}
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


def build(con: duckdb.DuckDBPyConnection, models: list[Model] | None = None
          ) -> list[tuple[Model, float]]:
    """Materialise every model as a table, in dependency order, in one transaction.

    Readers see either the previous build or the new one, never a half-built set.
    """
    models = ordered(models if models is not None else discover())
    timings = []
    con.execute("begin transaction")
    try:
        for layer in LAYERS:
            con.execute(f"create schema if not exists {layer}")
        for m in models:
            t0 = time.perf_counter()
            sql = m.sql.strip().rstrip(";")
            try:
                con.execute(f"create or replace table {m.table} as\n{sql}")
            except duckdb.Error as exc:
                first = str(exc).splitlines()[0]
                raise TrackerError(f"{m.path}: model failed: {first}") from None
            timings.append((m, time.perf_counter() - t0))
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    return timings
