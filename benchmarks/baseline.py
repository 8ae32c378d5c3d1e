"""Run the tracker of another source tree (a baseline) beside this one.

    env = baseline_env(Path("/tmp/old"))     # e.g. `git worktree add /tmp/old main`
    subprocess.run([sys.executable, ...], env=env)

`PYTHONPATH=DIR` alone is not enough: the SQL ships as the packages `tracker.sql_queries`,
`tracker.sql_schema` and `tracker.sql_normalise`, which pyproject.toml maps onto `queries/`
and `warehouse/`, and with this checkout installed in editable mode (`make install`) those
names resolve to *this* checkout's SQL whatever PYTHONPATH says. A baseline run then used
the old Python with the new SQL (found 2026-12-07: every earlier side-by-side run of a change
to the SQL compared the new SQL with itself). So the baseline tree gets the three package
folders as symlinks (`DIR/tracker/sql_queries -> ../queries`, ...), a `sitecustomize` on its
PYTHONPATH takes the editable install's finder out of the import system, and the run is
refused unless a child process with the returned environment finds all three inside DIR.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

FOLDERS = {"sql_queries": "queries", "sql_schema": "warehouse/schema",
           "sql_normalise": "warehouse/normalise"}

# run at start-up in the baseline: without the editable install's finder, `tracker.sql_*`
# are found on PYTHONPATH like any package (in the baseline tree, through the symlinks)
# (setuptools puts the finder class itself in sys.meta_path, not an instance)
_SITECUSTOMIZE = """import sys
sys.meta_path[:] = [f for f in sys.meta_path
                    if not (f.__module__ if isinstance(f, type) else type(f).__module__)
                    .startswith("__editable__")]
"""

_CHECK = """
import sys
from tracker.resources import _folder
print("\\n".join(str(_folder("tracker." + name).resolve()) for name in sys.argv[1:]))
"""


def baseline_env(src: Path) -> dict[str, str]:
    """The environment that runs the tracker of `src`, its Python and its SQL."""
    src = src.resolve()
    for name, target in FOLDERS.items():
        link = src / "tracker" / name
        if not (link.is_symlink() or link.exists()):
            link.symlink_to(Path("..") / target, target_is_directory=True)
    site = src / ".baseline-site"
    site.mkdir(exist_ok=True)
    (site / "sitecustomize.py").write_text(_SITECUSTOMIZE, encoding="utf-8")
    env = dict(os.environ, PYTHONPATH=f"{src}{os.pathsep}{site}")
    # (in `src`: `python -c` puts the working directory first on sys.path)
    check = subprocess.run([sys.executable, "-c", _CHECK, *FOLDERS], env=env, cwd=src,
                           capture_output=True, text=True)
    if check.returncode:
        raise SystemExit(f"the baseline in {src} does not run:\n{check.stderr}")
    found = check.stdout.split()
    wrong = [f for f in found if not Path(f).is_relative_to(src)]
    if wrong or len(found) != len(FOLDERS):
        raise SystemExit(f"the baseline in {src} would read SQL from {wrong or found}")
    return env
