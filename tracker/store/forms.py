"""The Python rules the normalisation SQL needs, handed to it as small temp tables.

Hashtags and links are compared in forms made by Python (tracker/hashtags.py,
tracker/urls.py). A batch's distinct spellings are read out, mapped in Python once (the
rules cache their answers across batches) and given back to DuckDB as one table each,
before the SQL that joins them runs: n_tag_forms for _merge.sql, n_url_forms and
n_url_domains for _links.sql.

Not a Python UDF, nor list parameters: when pandas is not installed (it is not a
dependency), DuckDB 1.5 tries to import it twice for every value it hands to Python or
takes from a Python list, about 140 µs a value. One JSON text each way costs a few
milliseconds a batch (docs/import.md, "Python rules").
"""

from __future__ import annotations

from collections.abc import Callable

import duckdb
import orjson

from ..hashtags import normalise_tag
from ..urls import normalise_url, registered_domain

TAGS, URLS, DOMAINS = "n_tag_forms", "n_url_forms", "n_url_domains"
# the tables made here, by the SQL file that reads them (store.normalise.release drops them)
TABLES = {"_merge": (TAGS,), "_links": (URLS, DOMAINS)}


def _mapped(con: duckdb.DuckDBPyConnection, table: str, columns: tuple[str, str],
            distinct: str, rule: Callable[[str], str | None]) -> None:
    """Temp `table` (columns: a value, its form): the values `distinct` selects, each with
    `rule` applied in Python."""
    values = [value for (value,) in con.execute(distinct).fetchall()]
    key, form = columns
    # each list as one JSON text: a list parameter costs DuckDB a pandas check per value
    con.execute(f"create or replace temp table {table} as "
                f"select unnest(from_json($1, '[\"VARCHAR\"]')) as {key}, "
                f"unnest(from_json($2, '[\"VARCHAR\"]')) as {form}",
                [orjson.dumps(values).decode(), orjson.dumps([rule(v) for v in values]).decode()])


def tag_forms(con: duckdb.DuckDBPyConnection) -> None:
    """n_tag_forms (tag_text, tag): the form of each spelling in n_hashtags."""
    _mapped(con, TAGS, ("tag_text", "tag"),
            "select distinct tag_text from n_hashtags "
            "where tag_text is not null and tag_text <> ''", normalise_tag)


def url_forms(con: duckdb.DuckDBPyConnection) -> None:
    """n_url_forms (expanded, url_norm): the normalised form of each link in n_urls (its
    expanded form where the platform gives one); n_url_domains (url_norm, domain): the
    registered domain of each normalised link."""
    _mapped(con, URLS, ("expanded", "url_norm"),
            "select distinct coalesce(expanded_url, url) from n_urls "
            "where coalesce(expanded_url, url) is not null", normalise_url)
    _mapped(con, DOMAINS, ("url_norm", "domain"),
            f"select distinct url_norm from {URLS} where url_norm is not null",
            registered_domain)
