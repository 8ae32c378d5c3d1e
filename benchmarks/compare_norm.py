"""Compare what two warehouses hold: every norm.* table and raw.pages, both ways.

    python benchmarks/compare_norm.py A.duckdb B.duckdb

For a change that must not change what an import stores: import the same archive with each
tree (e.g. `benchmarks/baseline.py`'s `baseline_env(tree)` for each, into two folders), then
compare. Each norm.* table of A is compared with B's by `EXCEPT ALL` in both directions (so
duplicates count), and raw.pages by page id, format, platform, request, retrieval time and
the payload's md5 (load and batch ids differ from run to run). Exits 1 if anything differs.
"""

from __future__ import annotations

import sys

import duckdb


def main() -> None:
    a, b = sys.argv[1], sys.argv[2]
    con = duckdb.connect()
    con.execute(f"attach '{a}' as a (read_only)")
    con.execute(f"attach '{b}' as b (read_only)")
    tables = [r[0] for r in con.execute(
        "select table_name from duckdb_tables() where database_name = 'a' "
        "and schema_name = 'norm' order by 1").fetchall()]

    def count(sql: str) -> int:
        row = con.execute(f"select count(*) from ({sql})").fetchone()
        return int(row[0]) if row else 0

    same = True
    for t in tables:
        n, m = count(f"from a.norm.{t}"), count(f"from b.norm.{t}")
        ab, ba = (count(f"select * from {x}.norm.{t} except all select * from {y}.norm.{t}")
                  for x, y in (("a", "b"), ("b", "a")))
        print(f"norm.{t:28} rows {n:9,} / {m:9,}  only in A {ab}  only in B {ba}")
        same &= n == m and ab == 0 and ba == 0
    q = ("select page_id, format, platform, request, retrieved_at, md5(payload::varchar) "
         "from {}.raw.pages")
    ab, ba = (count(f"{q.format(x)} except all {q.format(y)}") for x, y in (("a", "b"), ("b", "a")))
    print(f"raw.pages (id, provenance, payload md5)  only in A {ab}  only in B {ba}")
    same &= ab == 0 and ba == 0
    print("IDENTICAL" if same else "DIFFERENT")
    sys.exit(0 if same else 1)


if __name__ == "__main__":
    main()
