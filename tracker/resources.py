"""Where the files that ship with the package are: the SQL and the .toml templates.

This is the one place their locations are resolved, always through `importlib.resources`.
The SQL lives at the top of the repository (`queries/`, `warehouse/schema/`,
`warehouse/normalise/`); pyproject.toml maps those folders onto the packages named below, so
a wheel carries them as package data and an editable install (`make install`) finds them in
the checkout. Nothing the tracker writes (warehouse, spool, reports) goes here: those paths
come from the config file and are relative to it (or to the current directory for the demo).
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from .errors import TrackerError

_QUERIES = "tracker.sql_queries"        # queries/: staging/, core/, marts/, examples/
_SCHEMA = "tracker.sql_schema"          # warehouse/schema/: NNN_name.sql migrations
_NORMALISE = "tracker.sql_normalise"    # warehouse/normalise/: <format>.sql, _merge.sql


def _folder(package: str) -> Path:
    """The directory holding `package`'s data files, as a real path on disk."""
    try:
        root = files(package)
    except ModuleNotFoundError:
        raise TrackerError(f"the package data '{package}' is missing from this installation "
                           "(reinstall hashtag-tracker with pip)") from None
    if not isinstance(root, Path):
        raise TrackerError(f"the package data '{package}' is not on the file system ({root}); "
                           "install hashtag-tracker unzipped with pip")
    return root


def template(name: str) -> str:
    """The text of a .toml template shipped in the `tracker` package (e.g. 'starter.toml')."""
    return files("tracker").joinpath(name).read_text(encoding="utf-8")


QUERIES_DIR = _folder(_QUERIES)
SCHEMA_DIR = _folder(_SCHEMA)
NORMALISE_DIR = _folder(_NORMALISE)
