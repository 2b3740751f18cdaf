"""The environment of one run: a temporary MOLAR_HOME, an explicit SECRET_KEY
and, for PostgreSQL, a database created for the run and dropped after it."""

import os
import secrets
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from bench import BenchError

# Only what a process needs to run; Molar's own settings come from nowhere but
# here, so a developer's DATABASE_URL or HTTPS=1 cannot change what is measured.
INHERITED = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "TZ")
LOCAL_DATABASE_HOSTS = ("127.0.0.1",)


@dataclass(frozen=True)
class Target:
    """A database to measure on: SQLite when `database_url` is None."""

    label: str
    database_url: str | None = None


@dataclass(frozen=True)
class RunEnvironment:
    home: Path
    env: dict[str, str]


def molar_env(home: Path, database_url: str | None) -> dict[str, str]:
    env = {name: os.environ[name] for name in INHERITED if name in os.environ}
    env.update(
        DJANGO_SETTINGS_MODULE="molar.settings",
        MOLAR_HOME=str(home),
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="127.0.0.1",
        DEBUG="0",
        HTTPS="0",
        LOG_LEVEL="WARNING",
        PYTHONUNBUFFERED="1",
    )
    if database_url:
        env["DATABASE_URL"] = database_url
    return env


@contextmanager
def run_environment(target: Target) -> Iterator[RunEnvironment]:
    with tempfile.TemporaryDirectory(prefix="molar-bench-") as directory:
        home = Path(directory)
        if target.database_url is None:
            yield RunEnvironment(home, molar_env(home, None))
            return
        with postgres_database(target.database_url):
            yield RunEnvironment(home, molar_env(home, target.database_url))


@contextmanager
def postgres_database(url: str) -> Iterator[None]:
    """Create the URL's database, and drop it afterwards. An existing database
    is refused rather than dropped: it may hold someone's data."""
    import psycopg
    from psycopg import sql
    from psycopg.conninfo import conninfo_to_dict

    try:
        params = conninfo_to_dict(url)
    except psycopg.ProgrammingError as exc:
        raise BenchError(f"BENCH_DATABASE_URL is not a PostgreSQL URL: {exc}") from None
    host, name = str(params.get("host") or ""), str(params.get("dbname") or "")
    if not name or name == "postgres":
        raise BenchError("BENCH_DATABASE_URL must name a database of its own, e.g. /molar_bench.")
    if host and not host.startswith("/") and host not in LOCAL_DATABASE_HOSTS:
        raise BenchError("BENCH_DATABASE_URL must point at 127.0.0.1 (or a local socket).")
    database = sql.Identifier(name)
    try:
        admin = psycopg.connect(url, dbname="postgres", autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        raise BenchError(f"cannot connect to PostgreSQL: {str(exc).strip()}") from None
    with admin:
        try:
            admin.execute(sql.SQL("CREATE DATABASE {}").format(database))
        except psycopg.errors.DuplicateDatabase:
            raise BenchError(
                f"database {name} already exists; drop it or name another in BENCH_DATABASE_URL."
            ) from None
        try:
            yield
        finally:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(database))
