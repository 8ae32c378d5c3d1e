"""Files beside each report: one CSV per chart's data, one SVG and one PNG per chart (rendered
offline by vl-convert), and JSON with the headline figures."""

from __future__ import annotations

import csv
import datetime as dt
import decimal
import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import vl_convert

from .data import Rows

# A spreadsheet treats a cell starting with one of these as a formula: post text is untrusted,
# so such text cells get a leading apostrophe (OWASP "CSV injection").
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return "" if value is None else value


def write_csv(path: Path, rows: Rows, columns: list[str] | None = None) -> None:
    cols = columns or (list(rows[0]) if rows else [])
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(cols)
        for r in rows:
            w.writerow([_cell(r.get(c)) for c in cols])


def _json_default(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return float(value)
    return str(value)


def write_json(path: Path, obj: Any) -> None:
    path.write_text(json.dumps(obj, indent=2, ensure_ascii=False, default=_json_default) + "\n",
                    encoding="utf-8")


def _render(target: Path, name: str, spec: dict[str, Any], png: bool) -> None:
    svg = vl_convert.vegalite_to_svg(spec)
    (target / f"{name}.svg").write_text(svg, encoding="utf-8")
    if png:  # rasterise the SVG rather than run the Vega pipeline a second time
        (target / f"{name}.png").write_bytes(vl_convert.svg_to_png(svg, scale=1.5))


def write_images(target: Path, specs: dict[str, dict[str, Any]], *, png: bool = True,
                 workers: int = 2) -> None:
    """`<name>.svg` (and `.png`) for every chart spec, rendered without network."""
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for f in [pool.submit(_render, target, n, s, png) for n, s in specs.items()]:
            f.result()
