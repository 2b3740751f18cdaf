"""An Open Dental database in MariaDB for the tests and the benchmark (SPEC O6).

The tables are those of ../shared/opendental-schema.md with the MySQL types
Open Dental's upgrade scripts leave (release 24.3): NULL-able text columns,
`timestamp` change stamps, no foreign keys. Each database gets a unique name
(`od_test_<random>`) because several runs share one server; `drop` removes it.
"""

import secrets
from urllib.parse import quote, urlsplit

import pymysql

SERVER_URL = "mysql://root@127.0.0.1:3306/"

_APPOINTMENT_COLUMNS = """
  AptNum bigint NOT NULL,
  PatNum bigint NOT NULL DEFAULT 0,
  AptStatus tinyint unsigned NOT NULL DEFAULT 0,
  Pattern varchar(255) DEFAULT '',
  Confirmed bigint NOT NULL DEFAULT 0,
  Op bigint NOT NULL DEFAULT 0,
  Note text,
  ProvNum bigint NOT NULL DEFAULT 0,
  ProvHyg bigint NOT NULL DEFAULT 0,
  AptDateTime datetime NOT NULL DEFAULT '0001-01-01 00:00:00',
  NextAptNum bigint NOT NULL DEFAULT 0,
  UnschedStatus bigint NOT NULL DEFAULT 0,
  IsNewPatient tinyint unsigned NOT NULL DEFAULT 0,
  ProcDescript varchar(255) DEFAULT '',
  ClinicNum bigint NOT NULL DEFAULT 0,
  IsHygiene tinyint unsigned NOT NULL DEFAULT 0,
  DateTStamp timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
  SecDateTEntry datetime NOT NULL DEFAULT '0001-01-01 00:00:00'"""

TABLES = {
    "patient": """
CREATE TABLE patient (
  PatNum bigint NOT NULL auto_increment,
  LName varchar(100) DEFAULT '',
  FName varchar(100) DEFAULT '',
  MiddleI varchar(100) DEFAULT '',
  Preferred varchar(100) DEFAULT '',
  PatStatus tinyint unsigned NOT NULL DEFAULT 0,
  Gender tinyint unsigned NOT NULL DEFAULT 0,
  Position tinyint unsigned NOT NULL DEFAULT 0,
  Birthdate date NOT NULL DEFAULT '0001-01-01',
  SSN varchar(100) DEFAULT '',
  Address varchar(100) DEFAULT '',
  Address2 varchar(100) DEFAULT '',
  City varchar(100) DEFAULT '',
  State varchar(100) DEFAULT '',
  Zip varchar(100) DEFAULT '',
  HmPhone varchar(30) DEFAULT '',
  WkPhone varchar(30) DEFAULT '',
  WirelessPhone varchar(30) DEFAULT '',
  Guarantor bigint NOT NULL DEFAULT 0,
  Email varchar(100) DEFAULT '',
  EstBalance double NOT NULL DEFAULT 0,
  PriProv bigint NOT NULL DEFAULT 0,
  BalTotal double NOT NULL DEFAULT 0,
  ClinicNum bigint NOT NULL DEFAULT 0,
  Language varchar(100) DEFAULT '',
  ResponsParty bigint NOT NULL DEFAULT 0,
  Country varchar(255) NOT NULL DEFAULT '',
  DateTStamp timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
  SecDateEntry date NOT NULL DEFAULT '0001-01-01',
  DateTimeDeceased datetime NOT NULL DEFAULT '0001-01-01 00:00:00',
  PRIMARY KEY (PatNum),
  KEY indexLName (LName(10)),
  KEY indexGuarantor (Guarantor)
) DEFAULT CHARSET=utf8""",
    "appointment": f"""
CREATE TABLE appointment ({
        _APPOINTMENT_COLUMNS.replace("AptNum bigint NOT NULL,", "AptNum bigint NOT NULL auto_increment,")
    },
  PRIMARY KEY (AptNum),
  KEY PatNum (PatNum),
  KEY AptDateTime (AptDateTime)
) DEFAULT CHARSET=utf8""",
    "histappointment": f"""
CREATE TABLE histappointment (
  HistApptNum bigint NOT NULL auto_increment,
  HistUserNum bigint NOT NULL DEFAULT 0,
  HistDateTStamp datetime NOT NULL DEFAULT '0001-01-01 00:00:00',
  HistApptAction tinyint NOT NULL DEFAULT 0,
  ApptSource tinyint NOT NULL DEFAULT 0,{_APPOINTMENT_COLUMNS},
  PRIMARY KEY (HistApptNum),
  KEY AptNum (AptNum)
) DEFAULT CHARSET=utf8""",
    "provider": """
CREATE TABLE provider (
  ProvNum bigint NOT NULL auto_increment,
  Abbr varchar(255) NOT NULL DEFAULT '',
  ItemOrder smallint unsigned NOT NULL DEFAULT 0,
  LName varchar(100) DEFAULT '',
  FName varchar(100) DEFAULT '',
  MI varchar(100) DEFAULT '',
  Suffix varchar(100) DEFAULT '',
  PreferredName varchar(100) NOT NULL DEFAULT '',
  IsSecondary tinyint unsigned NOT NULL DEFAULT 0,
  IsHidden tinyint unsigned NOT NULL DEFAULT 0,
  ProvStatus tinyint NOT NULL DEFAULT 0,
  DateTStamp timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
  PRIMARY KEY (ProvNum)
) DEFAULT CHARSET=utf8""",
    "clinic": """
CREATE TABLE clinic (
  ClinicNum bigint NOT NULL auto_increment,
  Description varchar(255) DEFAULT '',
  Address varchar(255) DEFAULT '',
  Address2 varchar(255) DEFAULT '',
  City varchar(255) DEFAULT '',
  State varchar(255) DEFAULT '',
  Zip varchar(255) DEFAULT '',
  Phone varchar(255) DEFAULT '',
  Abbr varchar(255) NOT NULL DEFAULT '',
  IsHidden tinyint NOT NULL DEFAULT 0,
  TimeZone varchar(75) NOT NULL DEFAULT '',
  PRIMARY KEY (ClinicNum)
) DEFAULT CHARSET=utf8""",
    "guardian": """
CREATE TABLE guardian (
  GuardianNum bigint NOT NULL auto_increment,
  PatNumChild bigint NOT NULL DEFAULT 0,
  PatNumGuardian bigint NOT NULL DEFAULT 0,
  Relationship tinyint NOT NULL DEFAULT 0,
  IsGuardian tinyint NOT NULL DEFAULT 0,
  PRIMARY KEY (GuardianNum),
  KEY PatNumChild (PatNumChild),
  KEY PatNumGuardian (PatNumGuardian)
) DEFAULT CHARSET=utf8""",
    "userweb": """
CREATE TABLE userweb (
  UserWebNum bigint NOT NULL auto_increment,
  FKey bigint NOT NULL DEFAULT 0,
  FKeyType tinyint NOT NULL DEFAULT 0,
  UserName varchar(255) NOT NULL DEFAULT '',
  Password varchar(255) NOT NULL DEFAULT '',
  PasswordResetCode varchar(255) NOT NULL DEFAULT '',
  RequireUserNameChange tinyint NOT NULL DEFAULT 0,
  DateTimeLastLogin datetime NOT NULL DEFAULT '0001-01-01 00:00:00',
  RequirePasswordChange tinyint NOT NULL DEFAULT 0,
  PRIMARY KEY (UserWebNum),
  KEY FKey (FKey)
) DEFAULT CHARSET=utf8""",
    "preference": """
CREATE TABLE preference (
  PrefNum bigint NOT NULL auto_increment,
  PrefName varchar(255) NOT NULL DEFAULT '',
  ValueString text NOT NULL,
  Comments text,
  PRIMARY KEY (PrefNum)
) DEFAULT CHARSET=utf8""",
    "ehrmeasureevent": """
CREATE TABLE ehrmeasureevent (
  EhrMeasureEventNum bigint NOT NULL auto_increment,
  DateTEvent datetime NOT NULL DEFAULT '0001-01-01 00:00:00',
  EventType tinyint NOT NULL DEFAULT 0,
  PatNum bigint NOT NULL DEFAULT 0,
  MoreInfo varchar(255) NOT NULL DEFAULT '',
  PRIMARY KEY (EhrMeasureEventNum),
  KEY PatNum (PatNum)
) DEFAULT CHARSET=utf8""",
    "patientlink": """
CREATE TABLE patientlink (
  PatientLinkNum bigint NOT NULL auto_increment,
  PatNumFrom bigint NOT NULL DEFAULT 0,
  PatNumTo bigint NOT NULL DEFAULT 0,
  LinkType tinyint NOT NULL DEFAULT 0,
  DateTimeLink datetime NOT NULL DEFAULT '0001-01-01 00:00:00',
  PRIMARY KEY (PatientLinkNum)
) DEFAULT CHARSET=utf8""",
}

PREFERENCES = {
    "PracticeTitle": "",
    "PracticeAddress": "",
    "PracticeAddress2": "",
    "PracticeCity": "",
    "PracticeST": "",
    "PracticeZip": "",
    "PracticePhone": "",
    "PatientPortalURL": "",
    "AppointmentTimeIncrement": "10",
    "EasyNoClinics": "1",
    "FamPhiAccess": "1",
    "RandomPrimaryKeys": "0",
    "DataBaseVersion": "24.3.10.0",
}


def server_connect(url: str = SERVER_URL, database: str | None = None) -> pymysql.Connection:
    parts = urlsplit(url)
    return pymysql.connect(
        host=parts.hostname or "127.0.0.1",
        port=parts.port or 3306,
        user=parts.username or "root",
        password=parts.password or "",
        database=database,
        charset="utf8mb4",
        autocommit=True,
    )


def create(server_url: str = SERVER_URL, prefix: str = "od_test") -> str:
    """A new database with every table and the default preferences; its URL."""
    name = f"{prefix}_{secrets.token_hex(6)}"
    with server_connect(server_url) as conn, conn.cursor() as cursor:
        cursor.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
        cursor.execute(f"USE `{name}`")
        for ddl in TABLES.values():
            cursor.execute(ddl)
        cursor.executemany(
            "INSERT INTO preference (PrefName, ValueString) VALUES (%s, %s)", list(PREFERENCES.items())
        )
    parts = urlsplit(server_url)
    auth = quote(parts.username or "root")
    if parts.password:
        auth += ":" + quote(parts.password)
    return f"mysql://{auth}@{parts.hostname}:{parts.port or 3306}/{name}"


def drop(url: str) -> None:
    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    if not name.startswith(("od_test_", "od_bench_")):
        raise ValueError(f"refusing to drop {name!r}: not a test database")
    server = parts._replace(path="/").geturl()
    with server_connect(server) as conn, conn.cursor() as cursor:
        cursor.execute(f"DROP DATABASE IF EXISTS `{name}`")


def connect(url: str) -> pymysql.Connection:
    """A writing connection to a test database, in UTC like the sync's reader."""
    conn = server_connect(url, urlsplit(url).path.lstrip("/"))
    with conn.cursor() as cursor:
        cursor.execute("SET time_zone = '+00:00'")
    return conn


class Writer:
    """Writes rows the way Open Dental would, for tests: `patient(FName=...)`
    returns the new key; defaults fill what a row needs."""

    def __init__(self, url: str):
        self.url = url
        self.conn = connect(url)

    def close(self) -> None:
        self.conn.close()

    def execute(self, sql: str, params=()) -> int:
        with self.conn.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.lastrowid

    def one(self, sql: str, params=()):
        with self.conn.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchone()

    def insert(self, table: str, **values) -> int:
        names = ", ".join(values)
        marks = ", ".join(["%s"] * len(values))
        return self.execute(
            f"INSERT INTO {table} ({names}) VALUES ({marks})",  # noqa: S608
            tuple(values.values()),
        )

    def update(self, table: str, key: int, **values) -> None:
        column = {
            "patient": "PatNum",
            "appointment": "AptNum",
            "provider": "ProvNum",
            "clinic": "ClinicNum",
            "userweb": "UserWebNum",
            "guardian": "GuardianNum",
        }[table]
        sets = ", ".join(f"{name} = %s" for name in values)
        self.execute(
            f"UPDATE {table} SET {sets} WHERE {column} = %s",  # noqa: S608
            (*values.values(), key),
        )

    def pref(self, name: str, value: str) -> None:
        self.execute("UPDATE preference SET ValueString = %s WHERE PrefName = %s", (value, name))

    def patient(self, **values) -> int:
        row = {
            "LName": "Lopez",
            "FName": "Maria",
            "Birthdate": "1984-03-12",
            "Address": "12 Harbor Lane",
            "City": "Portland",
            "State": "ME",
            "Zip": "04101",
            "WirelessPhone": "207-555-0101",
            "Email": "maria@example.com",
            **values,
        }
        num = self.insert("patient", **row)
        if "Guarantor" not in values:
            self.execute("UPDATE patient SET Guarantor = PatNum WHERE PatNum = %s", (num,))
        return num

    def provider(self, **values) -> int:
        return self.insert(
            "provider", **{"Abbr": "DOC1", "FName": "Dana", "LName": "Reyes", "Suffix": "DDS", **values}
        )

    def appointment(self, pat_num: int, **values) -> int:
        row = {
            "PatNum": pat_num,
            "AptStatus": 1,
            "Pattern": "XXXXXX",
            "AptDateTime": "2026-12-01 09:30:00",
            "SecDateTEntry": "2026-11-01 08:00:00",
            **values,
        }
        num = self.insert("appointment", **row)
        self.execute(
            "INSERT INTO histappointment (HistDateTStamp, HistApptAction, AptNum, PatNum) "
            "VALUES (NOW(), 0, %s, %s)",
            (num, pat_num),
        )
        return num

    def delete_appointment(self, apt_num: int) -> None:
        """As Open Dental does: a Deleted history row, then the row goes."""
        self.execute(
            "INSERT INTO histappointment (HistDateTStamp, HistApptAction, AptNum, PatNum) "
            "SELECT NOW(), 4, AptNum, PatNum FROM appointment WHERE AptNum = %s",
            (apt_num,),
        )
        self.execute("DELETE FROM appointment WHERE AptNum = %s", (apt_num,))

    def userweb(self, pat_num: int, username: str, password: str, **values) -> int:
        return self.insert(
            "userweb", FKey=pat_num, FKeyType=1, UserName=username, Password=password, **values
        )
