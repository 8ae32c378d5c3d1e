"""What a wheel carries: every package and every SQL file and template the tracker reads.

The wheel itself is built, installed in a fresh virtualenv and run by `.ci/wheel` (it needs
the network for the build backend); these checks read pyproject.toml against the tree.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from tracker import resources

ROOT = Path(__file__).resolve().parent.parent
SETUPTOOLS = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"][
    "setuptools"]


def _package_dir(package: str) -> Path:
    mapped = SETUPTOOLS.get("package-dir", {}).get(package)
    return ROOT / (mapped if mapped else package.replace(".", "/"))


def test_every_python_package_in_the_tree_is_listed():
    in_tree = {".".join(p.parent.relative_to(ROOT).parts)
               for p in (ROOT / "tracker").rglob("__init__.py")}
    data = set(SETUPTOOLS["package-dir"])
    assert set(SETUPTOOLS["packages"]) == in_tree | data, (
        "pyproject.toml [tool.setuptools] packages must list every package under tracker/ "
        "and the mapped SQL folders")


def _shipped(package: str) -> set[Path]:
    folder = _package_dir(package)
    return {p for g in SETUPTOOLS["package-data"].get(package, []) for p in folder.glob(g)}


def test_every_sql_file_and_template_is_package_data():
    shipped = set().union(*(_shipped(p) for p in SETUPTOOLS["packages"]))
    wanted = {*(ROOT / "queries").rglob("*.sql"), *(ROOT / "warehouse").rglob("*.sql"),
              *(ROOT / "tracker").glob("*.toml")}
    assert len(wanted) > 40
    missing = sorted(str(p.relative_to(ROOT)) for p in wanted - shipped)
    assert not missing, (f"not in the wheel: {missing} (map the folder in pyproject.toml "
                         "[tool.setuptools] package-dir and package-data)")


def test_the_sql_folders_are_resolved_to_the_checkout_in_an_editable_install():
    # The tests must exercise the repository's SQL, not a stale installed copy.
    assert resources.QUERIES_DIR == ROOT / "queries"
    assert resources.SCHEMA_DIR == ROOT / "warehouse" / "schema"
    assert resources.NORMALISE_DIR == ROOT / "warehouse" / "normalise"
    assert {p.name for p in (resources.QUERIES_DIR / "marts").glob("*.sql")} >= {
        "campaign_summary.sql"}


def test_templates_are_read_from_the_package():
    assert resources.template("demo.toml") == (ROOT / "tracker" / "demo.toml").read_text(
        encoding="utf-8")
    assert "[[campaigns]]" in resources.template("starter.toml")
