from __future__ import annotations

import contextlib
import json
import os
import sys
import textwrap
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tracker.config import load_config
from tracker.store.db import THREADS_ENV, connect
from tracker.store.normalise import prepare

ROOT = Path(__file__).resolve().parent.parent


def _postgres_env() -> None:
    """The libpq variables of the PostgreSQL-catalog tests (tests/postgres.env: PGHOST,
    PGPORT, PGUSER, PGPASSWORD), each one the environment does not set already, before
    anything connects. libpq (psycopg, DuckDB's postgres_scanner) reads them: no catalog
    string or config of the tests holds a password, host or user."""
    for line in (ROOT / "tests" / "postgres.env").read_text(encoding="utf-8").splitlines():
        key, sep, value = line.partition("=")
        if sep and key.startswith("PG"):
            os.environ.setdefault(key.strip(), value.strip())


_postgres_env()


def _find_fixtures() -> Path:
    """The real recorded payloads the suite uses: tests/fixtures/shared/ in the repository
    (copied from the project's shared/fixtures, provenance in its README.md).
    TRACKER_SHARED_FIXTURES points the suite at another copy."""
    env = os.environ.get("TRACKER_SHARED_FIXTURES")
    if env:
        return Path(env)
    return ROOT / "tests" / "fixtures" / "shared"


FIXTURES = _find_fixtures()


def fixture_path(*parts: str) -> Path:
    p = FIXTURES.joinpath(*parts)
    if not p.exists():
        pytest.fail(f"shared fixture missing: {p}")
    return p


@pytest.fixture(autouse=True)
def _no_daemon_left_running():
    """After each test, kill the daemons it started and did not stop (test_daemon.Daemon)."""
    yield
    daemons = sys.modules.get(f"{__package__}.test_daemon")
    if daemons is not None:
        daemons.kill_left_running()


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """Lake tests run DuckDB with one worker thread (TRACKER_THREADS, store/db.py), before
    any fixture of theirs opens a connection: the suite runs two test processes on two cores,
    and a lake's small statements take about half the time on one thread (docs/lake.md,
    "Threads"). Tests of the DuckDB file keep DuckDB's default (a thread per core), so the
    figures are still checked under multi-threaded plans."""
    lake = "ducklake" in item.nodeid or "postgres" in item.nodeid or \
        Path(str(item.fspath)).name.startswith("test_lake")
    if lake:
        os.environ[THREADS_ENV] = "1"
    else:
        os.environ.pop(THREADS_ENV, None)


def write_config(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "tracker.toml"
    path.write_text(textwrap.dedent(body), encoding="utf-8")
    return path


# The warehouse backends the pipeline, build, report and SQL tests run on (like dlt's
# destinations): the DuckDB file, and a DuckLake with a SQLite catalog (store/lake.py).
BACKENDS = ["duckdb", "ducklake"]
# The secondary figure tests (tags, links and media, networks, normalisation rules) run on
# the lake too with TRACKER_TEST_LAKE_ALL=1 (they pass there; on the lake they take about
# 10 more minutes, docs/lake.md), else on the file only, to keep `make test` shorter.
MORE_BACKENDS = BACKENDS if os.environ.get("TRACKER_TEST_LAKE_ALL") == "1" else ["duckdb"]


def warehouse_toml(backend: str, path: str = "wh/tracker.duckdb") -> str:
    """A config's [warehouse] table for `backend`; `path` is the DuckDB file (with a lake,
    the lake's catalog and data sit beside it)."""
    if backend == "duckdb":
        return f'[warehouse]\npath = "{path}"\n'
    folder = path.rsplit("/", 1)[0] if "/" in path else "."
    stem = path.rsplit("/", 1)[-1].removesuffix(".duckdb")
    return (f'[warehouse]\nbackend = "ducklake"\npath = "{folder}/{stem}-writer.duckdb"\n'
            f'catalog = "sqlite:{folder}/{stem}.sqlite"\ndata_path = "{folder}/{stem}.lake"\n')


@pytest.fixture(params=BACKENDS)
def backend(request) -> str:
    return request.param


def open_warehouse(cfg, **kw):
    """The config's warehouse, on its backend (`connect` with its lake)."""
    return connect(cfg.warehouse, lake=cfg.lake, **kw)


def lake_at(tmp_path: Path, name: str = "test"):
    """A lake in `tmp_path` (SQLite catalog) for tests that connect without a config."""
    from tracker.store.lake import Lake
    return Lake(catalog=f"sqlite:{tmp_path / (name + '.sqlite')}",
                data_path=tmp_path / f"{name}.lake")


SIM_CONFIG = """
{warehouse}
[reports]
dir = "out"
[[campaigns]]
name = "aleppo"
hashtags = ["AleppoIsBurning", "حلب_تحترق"]
start = 2016-04-22
end = 2016-05-05
[[campaigns.sources]]
type = "simulated"
platform = "x"
posts = {x_posts}
per_run = {per_run}
[[campaigns.sources]]
type = "simulated"
platform = "mastodon"
posts = 200
[[campaigns.sources]]
type = "simulated"
platform = "bluesky"
posts = 200
"""


def sim_toml(x_posts: int = 500, per_run: int = 10_000_000, backend: str = "duckdb") -> str:
    return SIM_CONFIG.format(x_posts=x_posts, per_run=per_run, warehouse=warehouse_toml(backend))


@pytest.fixture
def sim_config(tmp_path):
    def make(x_posts: int = 500, per_run: int = 10_000_000, backend: str = "duckdb"):
        return load_config(write_config(tmp_path, sim_toml(x_posts, per_run, backend)))
    return make


@pytest.fixture(params=MORE_BACKENDS)
def warehouse(tmp_path, request):
    """An empty warehouse open for writing, on each backend."""
    if request.param == "duckdb":
        con = connect(tmp_path / "test.duckdb")
    else:
        con = connect(tmp_path / "test-writer.duckdb", lake=lake_at(tmp_path))
    prepare(con, [])
    yield con
    con.close()


def counts(con) -> dict[str, int]:
    tables = ["raw.pages", "norm.posts", "norm.authors", "norm.author_observations",
              "norm.post_hashtags", "norm.post_mentions", "norm.campaign_posts",
              "norm.engagement_observations"]
    return {t: con.execute(f"select count(*) from {t}").fetchone()[0] for t in tables}


def jsonl(path: Path) -> list[dict]:
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return out


def connect_at(tmp_path: Path, name: str, backend: str, **kw):
    """A warehouse `name` in `tmp_path` on `backend`, without a config: the DuckDB file
    `name`.duckdb, or the lake `lake_at(tmp_path, name)` with its writer file."""
    if backend == "duckdb":
        return connect(tmp_path / f"{name}.duckdb", **kw)
    return connect(tmp_path / f"{name}-writer.duckdb", lake=lake_at(tmp_path, name), **kw)


def warehouse_args(cfg) -> list[str]:
    """The global CLI options that point a command at `cfg`'s warehouse: `--db FILE` for a
    DuckDB file (`--db` means a DuckDB file), `--config FILE` for a lake."""
    if cfg.lake is None:
        return ["--db", str(cfg.warehouse)]
    return ["--config", str(cfg.path)]


# PostgreSQL catalogs (docs/lake.md): a fresh database per test or module on the local server
# that scripts/test-postgres sets up (`make test` runs it). No test is skipped without it.
POSTGRES_SETUP = "scripts/test-postgres"


def _postgres_admin():
    """A psycopg connection (autocommit) to the server's `postgres` database as the test role,
    or the test fails with one line saying what to run."""
    import psycopg
    try:
        return psycopg.connect(dbname="postgres", autocommit=True, connect_timeout=10)
    except psycopg.Error as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        pytest.fail(f"PostgreSQL at {os.environ.get('PGHOST')}:{os.environ.get('PGPORT')} as "
                    f"{os.environ.get('PGUSER')} is not reachable ({first}): run "
                    f"{POSTGRES_SETUP} (as root on Debian) or set the PG* variables",
                    pytrace=False)


@contextlib.contextmanager
def postgres_database() -> Iterator[str]:
    """A new, uniquely named database owned by the test role; dropped (with force) after."""
    name = f"tracker_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    with _postgres_admin() as admin:
        admin.execute(f'create database "{name}"')
    try:
        yield name
    finally:
        _drop_database(name)


def _drop_database(name: str, patience: float = 60.0) -> None:
    """Drop the test database, ending its sessions. PostgreSQL refuses a role without
    pg_signal_backend when an autovacuum worker is in the database ("must be a member of the
    role whose process is being terminated"); the worker is done within seconds, so retry."""
    import psycopg
    deadline = time.monotonic() + patience
    while True:
        try:
            with _postgres_admin() as admin:
                admin.execute(f'drop database if exists "{name}" with (force)')
            return
        except (psycopg.errors.InsufficientPrivilege, psycopg.errors.ObjectInUse):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


@pytest.fixture
def pg_database() -> Iterator[str]:
    """The name of a fresh PostgreSQL database for this test."""
    with postgres_database() as name:
        yield name


def pg_lake_at(dbname: str, folder: Path, name: str = "pg"):
    """A lake whose catalog is the PostgreSQL database `dbname` (libpq takes the host, user
    and password from the environment) and whose data is in `folder`."""
    from tracker.store.lake import Lake
    return Lake(catalog=f"postgres:dbname={dbname}", data_path=folder / f"{name}.lake")


@pytest.fixture
def pg_lake(pg_database, tmp_path):
    """A lake on a fresh PostgreSQL catalog (nothing created in it yet)."""
    return pg_lake_at(pg_database, tmp_path)


def pg_warehouse_toml(dbname: str, path: str = "wh/tracker.duckdb") -> str:
    """`warehouse_toml` for a lake with its catalog in the PostgreSQL database `dbname`: the
    writer file and data folder beside `path`, no credentials (libpq's environment)."""
    folder = path.rsplit("/", 1)[0] if "/" in path else "."
    stem = path.rsplit("/", 1)[-1].removesuffix(".duckdb")
    return (f'[warehouse]\nbackend = "ducklake"\npath = "{folder}/{stem}-writer.duckdb"\n'
            f'catalog = "postgres:dbname={dbname}"\ndata_path = "{folder}/{stem}.lake"\n')
