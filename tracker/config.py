"""Configuration: read `tracker.toml`, validate it, and return typed settings.

Every mistake is reported in one line naming the file, the key and what is expected, e.g.
`tracker.toml: campaigns[0].hashtags: expected a non-empty list of hashtags`.
Credentials never live here: see `tracker.credentials`.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import socket
import tomllib
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .errors import ConfigError
from .hashtags import is_hashtag, normalise_tag
from .store.lake import Lake

DEFAULT_CONFIG = "tracker.toml"

# Options each source type accepts: name -> (accepted python types, human description).
SOURCE_OPTIONS: dict[str, dict[str, tuple[tuple[type, ...], str]]] = {
    "simulated": {
        "platform": ((str,), "one of 'x', 'mastodon', 'bluesky'"),
        "posts": ((int,), "a whole number of posts (10 to 10000000)"),
        "seed": ((int,), "a whole number"),
        "per_run": ((int,), "a whole number of posts released per collection run"),
        "page_size": ((int,), "a whole number"),
    },
    "x": {
        "endpoint": ((str,), "'recent' or 'all'"),
        "extra_query": ((str,), "extra search operators, e.g. 'lang:ar -is:retweet'"),
        "monthly_budget": ((int,), "a whole number of posts per month"),
        "max_pages": ((int,), "a whole number of pages per run"),
    },
    "mastodon": {
        "instances": ((list,), "a list of instance host names"),
        "tokens": ((dict,), "a table instance = 'ENV_VAR_NAME' naming the variable with the token"),
        "max_pages": ((int,), "a whole number of pages per run"),
    },
    "bluesky": {
        "max_pages": ((int,), "a whole number of pages per run"),
        "lang": ((str,), "a language code"),
    },
}
SIMULATED_PLATFORMS = ("x", "mastodon", "bluesky")

_CAMPAIGN_KEYS = {
    "name", "title", "hashtags", "sources", "schedule", "start", "end", "timezone", "events",
}
_TOP_KEYS = {"warehouse", "reports", "log", "daemon", "campaigns", "csv_mappings", "repoll"}
_SLUG = re.compile(r"[^a-z0-9]+")
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True)
class Event:
    date: dt.date
    label: str


@dataclass(frozen=True)
class Schedule:
    interval_seconds: int | None = None
    cron: str | None = None

    def describe(self) -> str:
        if self.cron:
            return f"cron '{self.cron}'"
        return f"every {self.interval_seconds}s"


@dataclass(frozen=True)
class DaemonSettings:
    """The `[daemon]` table: how `tracker run` schedules, retries, loads and stops."""

    build: Schedule | None = None        # rebuild the models on this schedule (off if None)
    reports: bool = False                # regenerate the reports after each build
    batch_pages: int = 10                # pages per spooled batch
    workers: int = 4                     # collection threads
    jitter: int | None = None            # seconds; None: 10% of the interval, at most 30 s
    misfire_grace: int | None = None     # seconds; None: one interval
    backoff_base: int = 60               # first retry delay after a failed run
    backoff_max: int = 3600              # longest retry delay
    stop_timeout: int = 30               # seconds to finish the current batch on SIGTERM
    load_retry: int = 5                  # seconds between attempts while a reader holds the file
    # a lake only: compact files and expire snapshots on this schedule (None: once a day)
    maintain: Schedule | None = None
    keep_snapshots: int = 30 * 86400     # seconds a lake snapshot is kept (reports, --as-of)


@dataclass(frozen=True)
class RepollSettings:
    """The `[repoll]` table: re-read matched posts' engagement at these ages after posting
    (tracker.lookup.repoll; `tracker repoll`, and the daemon on `schedule`)."""

    ages: tuple[int, ...] = (3600, 86400, 7 * 86400)   # seconds after posting; () = off
    schedule: Schedule = field(default_factory=lambda: Schedule(interval_seconds=900))
    max_posts: int = 1000                # per campaign and platform per pass


@dataclass(frozen=True)
class SourceConfig:
    type: str
    name: str
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Campaign:
    name: str
    title: str
    hashtags: tuple[str, ...]
    sources: tuple[SourceConfig, ...]
    schedule: Schedule
    start: dt.date | None = None
    end: dt.date | None = None
    timezone: str = "UTC"
    events: tuple[Event, ...] = ()

    # The campaign's window: `start` and `end` are calendar dates in the campaign's time zone,
    # both included. The sources collect from start_at to end_at, and only posts made inside
    # the window count (core.campaign_posts applies the same dates).
    @property
    def start_at(self) -> dt.datetime | None:
        """The start date as an instant: midnight of that date in the campaign's time zone."""
        return self._midnight(self.start) if self.start else None

    @property
    def end_at(self) -> dt.datetime | None:
        """The end as an exclusive instant: midnight after the end date, in the time zone."""
        return self._midnight(self.end + dt.timedelta(days=1)) if self.end else None

    def _midnight(self, day: dt.date) -> dt.datetime:
        local = dt.datetime.combine(day, dt.time(), ZoneInfo(self.timezone))
        return local.astimezone(dt.UTC)

    @property
    def slug(self) -> str:
        return slugify(self.name)

    @property
    def tags(self) -> tuple[str, ...]:
        """Normalised hashtags (comparison form)."""
        return tuple(dict.fromkeys(normalise_tag(t) for t in self.hashtags))

    def source(self, name: str) -> SourceConfig:
        for s in self.sources:
            if s.name == name:
                return s
        raise ConfigError(f"campaign '{self.name}' has no source named '{name}'")


@dataclass(frozen=True)
class Config:
    path: Path
    warehouse: Path   # the DuckDB file; with a lake, this machine's writer file (store/lake.py)
    spool: Path
    reports: Path
    campaigns: tuple[Campaign, ...]
    log_level: str = "INFO"
    log_file: Path | None = None
    daemon: DaemonSettings = field(default_factory=DaemonSettings)
    csv_mappings: dict[str, dict[str, str]] = field(default_factory=dict)
    synthetic: bool = False
    repoll: RepollSettings = field(default_factory=RepollSettings)
    lake: Lake | None = None   # [warehouse] backend = "ducklake"

    def warehouse_exists(self) -> bool:
        return self.lake.exists() if self.lake else self.warehouse.exists()

    def campaign(self, name: str) -> Campaign:
        for c in self.campaigns:
            if c.name == name:
                return c
        known = ", ".join(c.name for c in self.campaigns) or "none"
        raise ConfigError(f"{self.path.name}: no campaign named '{name}' (known: {known})")


def slugify(name: str) -> str:
    """A file-system-safe name: ascii letters, digits and dashes only (never '..' or '/')."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = _SLUG.sub("-", ascii_name.lower()).strip("-")
    if not slug:
        slug = "campaign-" + "".join(f"{ord(c):x}" for c in name)[:24]
    return slug


def config_path(explicit: str | os.PathLike[str] | None = None) -> Path:
    """The config file: --config, else $TRACKER_CONFIG, else ./tracker.toml."""
    return Path(explicit or os.environ.get("TRACKER_CONFIG") or DEFAULT_CONFIG)


def load_config(path: str | os.PathLike[str] | None = None) -> Config:
    p = config_path(path)
    if not p.exists():
        raise ConfigError(f"{p}: config file not found (create one with `tracker init`)")
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{p.name}: not valid TOML: {exc}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{p.name}: not valid UTF-8 text") from None
    return parse_config(data, p)


def parse_config(data: dict[str, Any], path: Path) -> Config:
    v = _Validator(path.name)
    v.keys(data, _TOP_KEYS, "")
    base = path.resolve().parent
    wh = v.table(data, "warehouse", "")
    v.keys(wh, {"path", "spool", "backend", "catalog", "data_path", "machine"}, "warehouse")
    rep = v.table(data, "reports", "")
    v.keys(rep, {"dir"}, "reports")
    log = v.table(data, "log", "")
    v.keys(log, {"level", "file"}, "log")
    daemon = v.table(data, "daemon", "")
    level = v.opt(log, "level", str, "log.level", "one of DEBUG, INFO, WARNING, ERROR") or "INFO"
    if level.upper() not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
        v.fail("log.level", f"expected one of DEBUG, INFO, WARNING, ERROR, got '{level}'")
    lake = _lake(v, wh, base)
    warehouse = _under(base, v.opt(wh, "path", str, "warehouse.path", "a file path")
                       or (LAKE_WRITER_FILE if lake else "warehouse/tracker.duckdb"))
    spool = v.opt(wh, "spool", str, "warehouse.spool", "a directory path")
    log_file = v.opt(log, "file", str, "log.file", "a file path")
    csv_mappings = v.table(data, "csv_mappings", "")
    for mname, mapping in csv_mappings.items():
        if not isinstance(mapping, dict) or not all(isinstance(x, str) for x in mapping.values()):
            v.fail(f"csv_mappings.{mname}", "expected a table of field = 'column name'")

    raw_campaigns = data.get("campaigns", [])
    if not isinstance(raw_campaigns, list) or not all(isinstance(c, dict) for c in raw_campaigns):
        v.fail("campaigns", "expected an array of tables ([[campaigns]])")
    campaigns: list[Campaign] = []
    seen: dict[str, int] = {}
    for i, raw in enumerate(raw_campaigns):
        c = _campaign(v, raw, f"campaigns[{i}]")
        key = c.name.casefold()
        if key in seen or c.slug in {x.slug for x in campaigns}:
            v.fail(f"campaigns[{i}].name", f"duplicate campaign '{c.name}'")
        seen[key] = i
        campaigns.append(c)
    return Config(
        path=path,
        warehouse=warehouse,
        lake=lake,
        spool=_under(base, spool) if spool else warehouse.parent / "spool",
        reports=_under(base, v.opt(rep, "dir", str, "reports.dir", "a directory path")
                       or "reports"),
        campaigns=tuple(campaigns),
        log_level=level.upper(),
        log_file=_under(base, log_file) if log_file else None,
        daemon=_daemon(v, daemon),
        csv_mappings={k: dict(m) for k, m in csv_mappings.items()},
        repoll=_repoll(v, v.table(data, "repoll", "")),
    )


def _lake(v: _Validator, wh: dict[str, Any], base: Path) -> Lake | None:
    """[warehouse] backend = "ducklake", its catalog and data_path (docs/lake.md)."""
    backend = v.opt(wh, "backend", str, "warehouse.backend", "'duckdb' or 'ducklake'") or "duckdb"
    if backend not in {"duckdb", "ducklake"}:
        v.fail("warehouse.backend", f"expected 'duckdb' or 'ducklake', got '{backend}'")
    catalog = v.opt(wh, "catalog", str, "warehouse.catalog",
                    "'sqlite:PATH' or 'postgres:CONNECTION STRING'")
    data_path = v.opt(wh, "data_path", str, "warehouse.data_path", "a directory path")
    machine = v.opt(wh, "machine", str, "warehouse.machine", "a name such as 'collector-2'")
    if backend == "duckdb":
        for key, val in (("catalog", catalog), ("data_path", data_path), ("machine", machine)):
            if val is not None:
                v.fail(f"warehouse.{key}", "only for backend = 'ducklake'")
        return None
    catalog = catalog or "sqlite:warehouse/lake.sqlite"
    kind, _, where = catalog.partition(":")
    if kind not in {"sqlite", "postgres"} or not where.strip():
        v.fail("warehouse.catalog", "expected 'sqlite:PATH' or 'postgres:CONNECTION STRING' "
                                    f"(e.g. 'postgres:dbname=tracker host=db'), got '{catalog}'")
    if kind == "postgres" and re.search(r"\bpassword\s*=", where, re.IGNORECASE):
        v.fail("warehouse.catalog", "no password in the config: use PGPASSWORD, ~/.pgpass or "
                                    "a service file (docs/lake.md)")
    if kind == "sqlite":
        where = str(_under(base, where))
    if machine is not None and not _MACHINE.fullmatch(machine):
        v.fail("warehouse.machine", "expected 1 to 64 letters, digits, '.', '_' or '-', "
                                    f"got '{machine}'")
    return Lake(catalog=f"{kind}:{where}",
                data_path=_under(base, data_path or "warehouse/lake"),
                machine=machine or default_machine())


# This machine's name in a shared lake (its runs and cursors are its own, docs/lake.md)
_MACHINE = re.compile(r"[A-Za-z0-9._-]{1,64}")


def default_machine() -> str:
    """The host's name, as far as it fits `[warehouse] machine`."""
    name = re.sub(r"[^A-Za-z0-9._-]", "-", socket.gethostname())[:64]
    return name or "localhost"


def _repoll(v: _Validator, raw: dict[str, Any]) -> RepollSettings:
    v.keys(raw, {"ages", "schedule", "max_posts"}, "repoll")
    out: dict[str, Any] = {}
    if "ages" in raw:
        ages = raw["ages"]
        seconds = [parse_duration(a) for a in ages] if isinstance(ages, list) else [None]
        if not all(isinstance(s, int) and s >= 60 for s in seconds):
            v.fail("repoll.ages", f"expected a list of durations such as ['1h', '24h', '7d'] "
                                  f"(each at least 1m), got {_show(ages)}")
        out["ages"] = tuple(sorted({s for s in seconds if s is not None}))
    if "schedule" in raw:
        out["schedule"] = _schedule(v, raw["schedule"], "repoll.schedule")
    if "max_posts" in raw:
        val = raw["max_posts"]
        if not isinstance(val, int) or isinstance(val, bool) or not 1 <= val <= 1_000_000:
            v.fail("repoll.max_posts", f"expected a whole number from 1 to 1000000, "
                                       f"got {_show(val)}")
        out["max_posts"] = val
    return RepollSettings(**out)


# With a lake, this machine's writer file (store/lake.py) unless [warehouse] path names one
LAKE_WRITER_FILE = "warehouse/lake-writer.duckdb"


def _under(base: Path, relative: str) -> Path:
    """A path from the config, relative to its folder ('..' resolved, so messages read well)."""
    return Path(os.path.normpath(base / relative))


def _campaign(v: _Validator, raw: dict[str, Any], where: str) -> Campaign:
    v.keys(raw, _CAMPAIGN_KEYS, where)
    name = v.req(raw, "name", str, f"{where}.name", "a campaign name")
    if not name.strip():
        v.fail(f"{where}.name", "expected a non-empty campaign name")
    tags = raw.get("hashtags")
    if (not isinstance(tags, list) or not tags
            or not all(isinstance(t, str) and normalise_tag(t) for t in tags)):
        v.fail(f"{where}.hashtags", "expected a non-empty list of hashtags")
    for i, tag in enumerate(tags):
        if not is_hashtag(tag):
            v.fail(f"{where}.hashtags[{i}]",
                   f"expected one hashtag (letters, digits, '_'; no spaces, no '#' inside), "
                   f"got {tag!r}")
    tz = v.opt(raw, "timezone", str, f"{where}.timezone", "an IANA time zone") or "UTC"
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        v.fail(f"{where}.timezone",
               f"expected an IANA time zone such as 'Asia/Damascus', got '{tz}'")
    start = _date(v, raw.get("start"), f"{where}.start")
    end = _date(v, raw.get("end"), f"{where}.end")
    if start and end and end < start:
        v.fail(f"{where}.end", "expected a date on or after start")
    events = []
    raw_events = raw.get("events", [])
    if not isinstance(raw_events, list):
        v.fail(f"{where}.events", "expected a list of {date, label} tables")
    for j, e in enumerate(raw_events):
        ew = f"{where}.events[{j}]"
        if not isinstance(e, dict):
            v.fail(ew, "expected a table with date and label")
        v.keys(e, {"date", "label"}, ew)
        d = _date(v, e.get("date"), f"{ew}.date")
        if d is None:
            v.fail(f"{ew}.date", "expected a date such as 2016-04-27")
        events.append(Event(d, v.req(e, "label", str, f"{ew}.label", "a text label")))
    sources = _sources(v, raw.get("sources", []), f"{where}.sources")
    return Campaign(
        name=name.strip(),
        title=v.opt(raw, "title", str, f"{where}.title", "a display title") or name.strip(),
        hashtags=tuple(tags),
        sources=sources,
        schedule=_schedule(v, raw.get("schedule"), f"{where}.schedule"),
        start=start,
        end=end,
        timezone=tz,
        events=tuple(events),
    )


def _sources(v: _Validator, raw: Any, where: str) -> tuple[SourceConfig, ...]:
    if not isinstance(raw, list) or not all(isinstance(s, dict) for s in raw):
        v.fail(where, "expected an array of tables ([[campaigns.sources]])")
    out: list[SourceConfig] = []
    for k, s in enumerate(raw):
        sw = f"{where}[{k}]"
        stype = v.req(s, "type", str, f"{sw}.type", "a source type")
        if stype not in SOURCE_OPTIONS:
            v.fail(f"{sw}.type", f"expected one of {', '.join(sorted(SOURCE_OPTIONS))}, "
                                 f"got '{stype}'")
        spec = SOURCE_OPTIONS[stype]
        v.keys(s, {"type", "name", *spec}, sw)
        options: dict[str, Any] = {}
        for key, (types, desc) in spec.items():
            if key in s:
                val = s[key]
                if not isinstance(val, types) or isinstance(val, bool):
                    v.fail(f"{sw}.{key}", f"expected {desc}, got {_show(val)}")
                options[key] = val
        if stype == "simulated":
            plat = options.get("platform", "x")
            if plat not in SIMULATED_PLATFORMS:
                v.fail(f"{sw}.platform",
                       f"expected one of 'x', 'mastodon', 'bluesky', got '{plat}'")
            posts = options.get("posts", 1000)
            if not 10 <= posts <= 10_000_000:
                v.fail(f"{sw}.posts", f"expected a whole number of posts (10 to 10000000), "
                                      f"got {posts}")
        if stype == "x" and options.get("endpoint", "recent") not in ("recent", "all"):
            v.fail(f"{sw}.endpoint", f"expected 'recent' or 'all', got '{options['endpoint']}'")
        if stype == "mastodon":
            inst = options.get("instances")
            if not inst or not all(isinstance(i, str) and i.strip() for i in inst):
                v.fail(f"{sw}.instances", "expected a non-empty list of instance host names")
            for host, var in (options.get("tokens") or {}).items():
                if host not in inst:
                    v.fail(f"{sw}.tokens.{host}", "expected one of the instances listed in "
                                                  "instances")
                if not isinstance(var, str) or not _ENV_NAME.fullmatch(var):
                    v.fail(f"{sw}.tokens.{host}", "expected the name of an environment variable "
                                                  f"such as 'MASTODON_TOKEN', got {_show(var)}")
        for key, low in (("max_pages", 1), ("monthly_budget", 10)):
            if key in options and options[key] < low:
                v.fail(f"{sw}.{key}", f"expected a whole number of at least {low}, "
                                      f"got {options[key]}")
        name = v.opt(s, "name", str, f"{sw}.name", "a source name") or (
            f"{stype}-{options.get('platform', 'x')}" if stype == "simulated" else stype)
        if name in {x.name for x in out}:
            v.fail(f"{sw}.name", f"duplicate source name '{name}' (set a distinct name)")
        out.append(SourceConfig(stype, name, options))
    return tuple(out)


_DAEMON_DURATIONS = {"jitter": 0, "misfire_grace": 1, "backoff_base": 1, "backoff_max": 1,
                     "stop_timeout": 1, "load_retry": 1, "keep_snapshots": 3600}
_DAEMON_COUNTS = {"batch_pages": (1, 10_000), "workers": (1, 64)}


def _daemon(v: _Validator, raw: dict[str, Any]) -> DaemonSettings:
    v.keys(raw, {"build", "reports", "maintain", *_DAEMON_DURATIONS, *_DAEMON_COUNTS}, "daemon")
    out: dict[str, Any] = {}
    for key in ("build", "maintain"):
        if key in raw:
            out[key] = _schedule(v, raw[key], f"daemon.{key}")
    if "reports" in raw:
        if not isinstance(raw["reports"], bool):
            v.fail("daemon.reports", f"expected true or false, got {_show(raw['reports'])}")
        out["reports"] = raw["reports"]
    for key, least in _DAEMON_DURATIONS.items():
        if key in raw:
            seconds = parse_duration(raw[key])
            if seconds is None or seconds < least:
                v.fail(f"daemon.{key}", f"expected a duration such as '30s' or '5m' (at least "
                                        f"{least}s), got {_show(raw[key])}")
            out[key] = seconds
    for key, (lo, hi) in _DAEMON_COUNTS.items():
        if key in raw:
            val = raw[key]
            if not isinstance(val, int) or isinstance(val, bool) or not lo <= val <= hi:
                v.fail(f"daemon.{key}", f"expected a whole number from {lo} to {hi}, "
                                        f"got {_show(val)}")
            out[key] = val
    settings = DaemonSettings(**out)
    if settings.backoff_max < settings.backoff_base:
        v.fail("daemon.backoff_max", "expected a duration no shorter than daemon.backoff_base")
    return settings


def min_interval() -> int:
    """Shortest schedule interval in seconds: 10, or $TRACKER_MIN_INTERVAL (for tests)."""
    try:
        return max(1, int(os.environ.get("TRACKER_MIN_INTERVAL", "10")))
    except ValueError:
        return 10


def _schedule(v: _Validator, raw: Any, where: str) -> Schedule:
    if raw is None:
        return Schedule(interval_seconds=900)
    if not isinstance(raw, dict):
        v.fail(where, "expected a table: { interval = \"15m\" } or { cron = \"*/15 * * * *\" }")
    v.keys(raw, {"interval", "cron"}, where)
    if ("interval" in raw) == ("cron" in raw):
        v.fail(where, "expected exactly one of interval or cron")
    if "cron" in raw:
        cron = raw["cron"]
        try:
            from apscheduler.triggers.cron import CronTrigger

            CronTrigger.from_crontab(cron)
        except (ValueError, TypeError, AttributeError):
            v.fail(f"{where}.cron", f"expected a 5-field crontab expression, got {_show(cron)}")
        return Schedule(cron=cron)
    seconds = parse_duration(raw["interval"])
    least = min_interval()
    if seconds is None or seconds < least:
        got = _show(raw["interval"])
        v.fail(f"{where}.interval",
               f"expected a duration of at least {least}s such as '15m' or '1h', got {got}")
    return Schedule(interval_seconds=seconds)


def parse_duration(value: Any) -> int | None:
    """'90s', '15m', '2h', '1d' or a number of seconds -> seconds; None if not a duration."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if not isinstance(value, str):
        return None
    m = re.fullmatch(r"\s*(\d+)\s*([smhd]?)\s*", value)
    if not m:
        return None
    return int(m.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}[m.group(2)]


def _date(v: _Validator, raw: Any, where: str) -> dt.date | None:
    if raw is None:
        return None
    if isinstance(raw, dt.datetime):
        return raw.date()
    if isinstance(raw, dt.date):
        return raw
    if isinstance(raw, str):
        try:
            return dt.date.fromisoformat(raw)
        except ValueError:
            pass
    v.fail(where, f"expected a date such as 2016-04-22, got {_show(raw)}")
    return None


def _show(value: Any) -> str:
    if isinstance(value, str):
        return f"'{value}'"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (list, dict)):
        return "a list" if isinstance(value, list) else "a table"
    return repr(value)


class _Validator:
    def __init__(self, filename: str):
        self.filename = filename

    def fail(self, key: str, what: str) -> NoReturn:
        raise ConfigError(f"{self.filename}: {key}: {what}")

    def keys(self, table: dict[str, Any], allowed: set[str], where: str) -> None:
        for k in table:
            if k not in allowed:
                key = f"{where}.{k}" if where else k
                self.fail(key, f"unknown key (expected one of: {', '.join(sorted(allowed))})")

    def table(self, data: dict[str, Any], key: str, where: str) -> dict[str, Any]:
        val = data.get(key, {})
        if not isinstance(val, dict):
            self.fail(f"{where}.{key}" if where else key, "expected a table")
        return val

    def req(self, table: dict[str, Any], key: str, typ: type, where: str, desc: str) -> Any:
        if table.get(key) is None:
            self.fail(where, f"missing (expected {desc})")
        return self.opt(table, key, typ, where, desc)

    def opt(self, table: dict[str, Any], key: str, typ: type, where: str, desc: str) -> Any:
        val = table.get(key)
        if val is not None and (not isinstance(val, typ) or isinstance(val, bool)):
            self.fail(where, f"expected {desc}, got {_show(val)}")
        return val
