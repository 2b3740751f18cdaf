"""Reading an Open Dental database (SPEC O2, O6): read only, in pages.

Driver: PyMySQL, used directly rather than through a second Django database
alias. It is pure Python (no C client library or compiler on the servers,
where mysqlclient needs libmariadb-dev and a build), and the sync reads a few
fixed queries in keyset pages, so Django's ORM would add nothing but a second
alias that the test runner, migrations and `check` would all try to manage.
Rows are parsed in Python either way; the writes into Molar's own database
cost more than the parsing (see the benchmark in the README).

Every query is one statement in autocommit (no long snapshot on the
practice's server), and the session is put in UTC so `timestamp` columns
(DateTStamp) come back as UTC; `datetime` columns are the practice's wall
clock and are read as such. Pages are keyset by primary key, so each query
is an index range read however large the table, and a pass can stop and go
on from the last key."""

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, cast
from urllib.parse import unquote, urlsplit

import pymysql
import pymysql.converters
import pymysql.cursors
from pymysql.constants import ER, FIELD_TYPE

CONNECT_TIMEOUT = 10
READ_TIMEOUT = 300

# What the sync reads, table by table: the preflight checks each column.
COLUMNS = {
    "preference": ("PrefName", "ValueString"),
    "clinic": (
        "ClinicNum",
        "Description",
        "Abbr",
        "Address",
        "Address2",
        "City",
        "State",
        "Zip",
        "Phone",
        "IsHidden",
    ),
    "provider": (
        "ProvNum",
        "Abbr",
        "LName",
        "FName",
        "MI",
        "Suffix",
        "PreferredName",
        "IsHidden",
        "ProvStatus",
        "DateTStamp",
    ),
    "patient": (
        "PatNum",
        "LName",
        "FName",
        "MiddleI",
        "Preferred",
        "PatStatus",
        "Gender",
        "Birthdate",
        "Address",
        "Address2",
        "City",
        "State",
        "Zip",
        "HmPhone",
        "WkPhone",
        "WirelessPhone",
        "Email",
        "Guarantor",
        "ResponsParty",
        "PriProv",
        "ClinicNum",
        "Language",
        "DateTStamp",
    ),
    "guardian": ("GuardianNum", "PatNumChild", "PatNumGuardian", "Relationship", "IsGuardian"),
    "appointment": (
        "AptNum",
        "PatNum",
        "AptStatus",
        "Pattern",
        "ProvNum",
        "ProvHyg",
        "IsHygiene",
        "AptDateTime",
        "ClinicNum",
        "DateTStamp",
    ),
    "histappointment": ("HistApptNum", "AptNum", "HistApptAction", "HistDateTStamp"),
    "userweb": (
        "UserWebNum",
        "FKey",
        "FKeyType",
        "UserName",
        "Password",
        "RequireUserNameChange",
        "RequirePasswordChange",
        "DateTimeLastLogin",
    ),
    "ehrmeasureevent": ("EhrMeasureEventNum", "DateTEvent", "EventType", "PatNum"),
}
KEYS = {
    "clinic": "ClinicNum",
    "provider": "ProvNum",
    "patient": "PatNum",
    "guardian": "GuardianNum",
    "appointment": "AptNum",
    "histappointment": "HistApptNum",
    "userweb": "UserWebNum",
    "ehrmeasureevent": "EhrMeasureEventNum",
}
URL_SHAPE = "OPENDENTAL_DATABASE_URL must look like mysql://USER:PASSWORD@HOST:3306/DATABASE."


def _datetime(text: str) -> datetime | str:
    """DATETIME and TIMESTAMP values: the C parser (about 10x PyMySQL's own);
    Open Dental's zero dates ('0000-00-00 ...') stay text, as PyMySQL leaves them."""
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return text


def _date(text: str) -> date | str:
    try:
        return date.fromisoformat(text)
    except ValueError:
        return text


Converter = Callable[[Any], str] | Callable[[str], Any]  # as PyMySQL's `conv` is typed
CONVERSIONS: dict[int | type[Any], Converter] = {
    **pymysql.converters.conversions,
    FIELD_TYPE.DATETIME: _datetime,
    FIELD_TYPE.TIMESTAMP: _datetime,
    FIELD_TYPE.DATE: _date,
}


class SourceError(Exception):
    """The Open Dental database cannot be read; the message is one line for people."""


@dataclass(frozen=True)
class Address:
    host: str
    port: int
    user: str
    password: str
    database: str

    @property
    def where(self) -> str:
        return f"{self.host}:{self.port}/{self.database}"


def parse_url(url: str) -> Address:
    try:
        parts = urlsplit((url or "").strip())
        port = parts.port or 3306
    except ValueError:
        raise SourceError(URL_SHAPE) from None
    database = unquote(parts.path.lstrip("/"))
    if (
        parts.scheme not in ("mysql", "mariadb")
        or not parts.hostname
        or not parts.username
        or not database
        or "/" in database
    ):
        raise SourceError(URL_SHAPE)
    return Address(parts.hostname, port, unquote(parts.username), unquote(parts.password or ""), database)


def _refusal(exc: pymysql.Error, address: Address, table: str = "") -> SourceError:
    code = exc.args[0] if exc.args else 0
    detail = str(exc.args[1]) if len(exc.args) > 1 else str(exc)
    if code == ER.ACCESS_DENIED_ERROR:
        return SourceError(
            f"The Open Dental database at {address.where} refused user "
            f"{address.user}: check the user name and password."
        )
    if code == ER.BAD_DB_ERROR:
        return SourceError(f"There is no database {address.database} on {address.host}:{address.port}.")
    if code in (ER.TABLEACCESS_DENIED_ERROR, ER.COLUMNACCESS_DENIED_ERROR, ER.DBACCESS_DENIED_ERROR):
        what = f"table {table}" if table else f"database {address.database}"
        return SourceError(
            f"User {address.user} may not read {what} in {address.where}: grant "
            "SELECT on the Open Dental tables the README lists."
        )
    if code == ER.NO_SUCH_TABLE:
        return SourceError(f"Table {table} is missing from {address.where}: is it an Open Dental database?")
    if code == ER.BAD_FIELD_ERROR:
        return SourceError(
            f"Table {table} in {address.where} lacks a column the sync reads "
            f"({detail}): is Open Dental older than 24.3?"
        )
    if isinstance(exc, pymysql.OperationalError) and code in (2003, 2013, 2006, 2005):
        return SourceError(
            f"Cannot reach the Open Dental database at {address.host}:{address.port}"
            f" ({detail.split('(')[0].strip().rstrip(':')})."
        )
    return SourceError(f"The Open Dental database at {address.where} answered: {detail}")


class Source:
    """A read-only session on the practice's Open Dental database."""

    def __init__(self, url: str) -> None:
        self.address = parse_url(url)
        try:
            self.conn = pymysql.connect(
                host=self.address.host,
                port=self.address.port,
                user=self.address.user,
                password=self.address.password,
                database=self.address.database,
                charset="utf8mb4",
                autocommit=True,
                connect_timeout=CONNECT_TIMEOUT,
                read_timeout=READ_TIMEOUT,
                cursorclass=pymysql.cursors.DictCursor,
                conv=CONVERSIONS,
                # DateTStamp is a `timestamp`: stored in UTC, shown in the
                # session's zone. An explicit UTC session makes the stamps
                # comparable with the cursor whatever the server's zone.
                init_command="SET time_zone = '+00:00'",
            )
        except pymysql.Error as exc:
            raise _refusal(exc, self.address) from None
        # Belt and braces on top of the SELECT-only account: this session cannot write.
        self.query("SET SESSION TRANSACTION READ ONLY")
        try:  # MySQL 8 caches UPDATE_TIME for a day unless told not to; MariaDB has no cache
            with self.conn.cursor() as cursor:
                cursor.execute("SET SESSION information_schema_stats_expiry = 0")
        except pymysql.Error:
            pass

    def close(self) -> None:
        try:
            self.conn.close()
        except pymysql.Error:
            pass

    def __enter__(self) -> "Source":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def query(
        self, sql: str, params: Sequence[object] | Mapping[str, object] = (), *, table: str = ""
    ) -> list[dict]:
        try:
            with self.conn.cursor() as cursor:
                cursor.execute(sql, params)
                return list(cursor.fetchall())
        except pymysql.Error as exc:
            raise _refusal(exc, self.address, table) from None

    def preflight(self) -> None:
        """Every table and column the sync reads, before anything is written:
        a missing grant or table is one line, and nothing changes."""
        for table, columns in COLUMNS.items():
            self.query(f"SELECT {', '.join(columns)} FROM {table} LIMIT 0", table=table)  # noqa: S608

    def server_now(self) -> datetime:
        """The server's clock in UTC: the stamps are the server's, so the cursor is too."""
        row = self.query("SELECT UTC_TIMESTAMP() AS now")[0]
        return cast(datetime, row["now"]).replace(tzinfo=UTC)

    def update_times(self) -> dict[str, datetime | None]:
        """When each table last changed (UTC, the session's zone), as the server
        tracks it: in memory for InnoDB (NULL until the first write after a
        restart), on disk for MyISAM. NULL means unknown."""
        rows = self.query(
            "SELECT TABLE_NAME AS name, UPDATE_TIME AS changed FROM "
            "information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()"
        )
        return {
            row["name"].lower(): row["changed"].replace(tzinfo=UTC)
            if isinstance(row["changed"], datetime)
            else None
            for row in rows
        }

    def largest_key(self, table: str) -> int:
        key = KEYS[table]
        row = self.query(f"SELECT MAX({key}) AS top FROM {table}", table=table)[0]  # noqa: S608
        return row["top"] or 0

    def preferences(self) -> dict[str, str]:
        rows = self.query("SELECT PrefName, ValueString FROM preference", table="preference")
        return {row["PrefName"]: row["ValueString"] or "" for row in rows}

    def pages(
        self,
        table: str,
        *,
        where: str = "",
        params: tuple = (),
        after: int | None = None,
        size: int = 2000,
        extra: str = "",
        join: str = "",
        until: int | None = None,
    ) -> Iterator[list[dict]]:
        """The table's rows in primary-key order, `size` at a time, from after
        key `after`. Keys may be random (RandomPrimaryKeys) but are unique, so
        key order is a total order either way."""
        key = KEYS[table]
        # DateTStamp is only filtered on, never needed in Python.
        columns = ", ".join(f"t.{c}" for c in COLUMNS[table] if c != "DateTStamp")
        condition = f" AND ({where})" if where else ""
        if until is not None:
            condition += f" AND t.{key} <= {int(until)}"
        last = after
        while True:
            bound = f"t.{key} > %s" if last is not None else "1=1"
            sql = (
                f"SELECT {columns}{extra} FROM {table} t {join} WHERE {bound}{condition} "  # noqa: S608
                f"ORDER BY t.{key} LIMIT %s"
            )
            rows = self.query(sql, ((last,) if last is not None else ()) + params + (size,), table=table)
            if rows:
                yield rows
            if len(rows) < size:
                return
            last = rows[-1][key]

    def existing(self, table: str, keys: list[int]) -> set[int]:
        """Which of `keys` are still rows of `table`."""
        if not keys:
            return set()
        key = KEYS[table]
        marks = ", ".join(["%s"] * len(keys))
        rows = self.query(
            f"SELECT {key} FROM {table} WHERE {key} IN ({marks})",  # noqa: S608
            tuple(keys),
            table=table,
        )
        return {row[key] for row in rows}
