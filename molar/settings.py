"""Molar settings: one file, every value from the environment with a safe
development default. Production requirements are system checks in
molar/checks.py (run `molar check --deploy`)."""

import os
import secrets
from pathlib import Path

import dj_database_url

from molar.env import env_bool, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent


MOLAR_HOME = Path(env_str("MOLAR_HOME", str(Path.cwd() / "var"))).resolve()


def _secret_key() -> str:
    """SECRET_KEY from the environment; for the demo, one kept in MOLAR_HOME
    (created once, readable only by its owner) so sessions survive restarts."""
    key = env_str("SECRET_KEY")
    if key:
        return key
    path = MOLAR_HOME / "secret_key"
    if not path.exists():
        MOLAR_HOME.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(50))  # 400 bits
    return path.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1],testserver")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "molar.audit",
    "molar.practice",
    "molar.patients",
    "molar.access",
    "molar.portal",
    "molar.invites",
    "molar.ehr",
    "molar.records",
    "molar.messaging",
    "molar.sheets",
    "molar.outbox",
    "molar.ops",
    "molar.opendental",
    "molar.api",
    "molar.factors",
    "molar.staffauth",
    "molar.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "molar.headers.SecurityHeadersMiddleware",
    "molar.api.middleware.ApiErrorsAsJsonMiddleware",
    "molar.ops.middleware.TransientDatabaseErrorMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "molar.audit.middleware.RequestContextMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "molar.session_activity.SessionActivityMiddleware",
    "molar.i18n.PortalLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "molar.staffauth.session.StaffSessionMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "molar.urls"
WSGI_APPLICATION = "molar.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.tz",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "molar.staffauth.context.two_factor_banner",
                "molar.session_activity.session_timeout",
            ],
        },
    },
]

# SQLite under MOLAR_HOME by default; PostgreSQL through DATABASE_URL.
# SPEC Q4: a database that does not answer fails fast (connect timeout), and
# no statement holds a connection and its locks for ever (statement timeout;
# 0 turns it off, e.g. for a migration of a large database).
DB_CONNECT_TIMEOUT = env_int("DB_CONNECT_TIMEOUT", 5)
DB_STATEMENT_TIMEOUT_MS = env_int("DB_STATEMENT_TIMEOUT_MS", 30000)
# SQLite: a writer waits at most this long for the write lock ("database is
# locked" after that, answered with 503 "try again").
SQLITE_BUSY_TIMEOUT = 20
SQLITE_OPTIONS = {
    # IMMEDIATE takes the write lock at BEGIN, so two writers queue instead
    # of failing with "database is locked" on upgrade. WAL lets readers go on
    # while one writer commits (every portal page writes an audit row).
    "transaction_mode": "IMMEDIATE",
    "timeout": SQLITE_BUSY_TIMEOUT,
    "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
}
DATABASE_URL = env_str("DATABASE_URL")
if DATABASE_URL:
    DATABASES = {
        "default": dj_database_url.parse(
            DATABASE_URL, conn_max_age=env_int("DB_CONN_MAX_AGE", 600), conn_health_checks=True
        )
    }
else:
    # Kept open like PostgreSQL's: opening one per request re-runs the PRAGMAs
    # below, and switching to WAL takes a lock that stalls other processes.
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(MOLAR_HOME / "molar.sqlite3"),
            "CONN_MAX_AGE": env_int("DB_CONN_MAX_AGE", 600),
        }
    }
if DATABASES["default"]["ENGINE"].endswith("postgresql"):
    # Django's backend, with a health check that costs no round trip
    # (molar/postgresql/base.py).
    DATABASES["default"]["ENGINE"] = "molar.postgresql"
    DATABASES["default"]["OPTIONS"] = {
        **DATABASES["default"].get("OPTIONS", {}),
        "connect_timeout": DB_CONNECT_TIMEOUT,
        "options": f"-c statement_timeout={DB_STATEMENT_TIMEOUT_MS}",
        # SPEC Q1: parameters sent apart from the query, and a query run for
        # the sixth time on a connection is prepared: PostgreSQL plans each
        # of the few queries every page runs once per connection instead of
        # once per request (planning cost more than running them; measured in
        # bench/). DB_PREPARED_STATEMENTS=0 for a pooler that cannot keep
        # prepared statements (PgBouncer in transaction mode before 1.21).
        **(
            {"server_side_binding": True, "prepare_threshold": 5}
            if env_bool("DB_PREPARED_STATEMENTS", True)
            else {}
        ),
    }
elif DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    DATABASES["default"]["OPTIONS"] = {**SQLITE_OPTIONS, **DATABASES["default"].get("OPTIONS", {})}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# SPEC C4: Argon2id first; see molar/access/hashers.py for the parameters.
# SPEC C5: accounts imported from Open Dental verify with its formats and are
# re-hashed with the first hasher at their first successful sign-in.
LEGACY_PASSWORD_HASHERS = [
    "molar.access.hashers.OpenDentalSHA3Hasher",
    "molar.access.hashers.OpenDentalMD5Hasher",
    "molar.access.hashers.OpenDentalMD5EcwHasher",
]
PASSWORD_HASHERS = [
    "molar.access.hashers.MolarArgon2Hasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    *LEGACY_PASSWORD_HASHERS,
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "molar.access.policy.BlocklistValidator"},  # SPEC K4
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
]

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "patients:list"
LOGOUT_REDIRECT_URL = "login"

# Sessions: 15 idle minutes; activity pushes the expiry forward (at most once
# a minute, see molar/session_activity.py).
SESSION_ENGINE = "molar.session_store"  # database sessions, read with one prepared statement
SESSION_COOKIE_AGE = env_int("SESSION_IDLE_SECONDS", 15 * 60)
# SPEC V4: pages warn this long before the idle limit, with "Stay signed in".
SESSION_WARNING_SECONDS = env_int("SESSION_WARNING_SECONDS", 120)
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SECURE_COOKIES = env_bool("SECURE_COOKIES", not DEBUG and env_bool("HTTPS", False))
SESSION_COOKIE_SECURE = SECURE_COOKIES
CSRF_COOKIE_SECURE = SECURE_COOKIES
# SPEC K7: over HTTPS the cookies carry the __Host- prefix: browsers accept
# them only when Secure, for path / and without a Domain, so neither a
# sibling subdomain nor a plain-http page can set or overwrite them.
SESSION_COOKIE_NAME = "__Host-sessionid" if SECURE_COOKIES else "sessionid"
CSRF_COOKIE_NAME = "__Host-csrftoken" if SECURE_COOKIES else "csrftoken"
HTTPS = env_bool("HTTPS", False)
SECURE_SSL_REDIRECT = HTTPS and env_bool("SECURE_SSL_REDIRECT", True)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000 if HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = HTTPS and env_bool("SECURE_HSTS_PRELOAD", True)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if env_bool("TRUST_X_FORWARDED_PROTO", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

LANGUAGE_CODE = "en"
# SPEC V10: the portal, its emails and letters in English and Spanish.
LANGUAGES = [("en", "English"), ("es", "Español")]
LOCALE_PATHS = [BASE_DIR / "locale"]
# SPEC V9: dates in the practice's style ("Nov 26, 2026, 3:05 PM"), per language.
FORMAT_MODULE_PATH = ["molar.formats"]
TIME_ZONE = env_str("TIME_ZONE", "America/New_York")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = env_str("STATIC_ROOT") or None  # set it for `molar collectstatic` in production
STATICFILES_DIRS = [BASE_DIR / "static"]
WHITENOISE_USE_FINDERS = True
# Uploaded documents (molar/records). No URL serves MEDIA: files leave only through
# views that check who is asking, so MEDIA_URL stays unset.
MEDIA_ROOT = MOLAR_HOME / "media"

EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend"
    if env_str("EMAIL_HOST")
    else "django.core.mail.backends.filebased.EmailBackend",
)
EMAIL_FILE_PATH = MOLAR_HOME / "outbox"
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
# Without a timeout a mail server that never answers holds a worker forever.
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 30)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "portal@localhost")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    # Request bodies may hold passwords; never log them. Django's own error
    # reports already hide sensitive_post_parameters.
    "loggers": {"django.db.backends": {"level": "INFO"}},
}

# SPEC Q1: pages read the practice settings at most this often per process;
# a change made in one process reaches the others within this many seconds.
PRACTICE_SETTINGS_SECONDS = env_int("PRACTICE_SETTINGS_SECONDS", 5)
# SPEC Q1: a rendered portal tab is served from memory while the patient's
# record has not changed, for at most this many seconds (0: never), and each
# web process keeps at most this many pages (molar/portal/page_cache.py).
PORTAL_PAGE_SECONDS = env_int("PORTAL_PAGE_SECONDS", 60)
PORTAL_PAGE_ENTRIES = env_int("PORTAL_PAGE_ENTRIES", 500)

# SPEC T5: the Ed25519 key (32 bytes, base64) that signs audit checkpoints.
# Empty: one is generated into MOLAR_HOME (the demo); `check --deploy` asks for it.
AUDIT_SIGNING_KEY = env_str("AUDIT_SIGNING_KEY")
# SPEC T4: how often the worker seals committed audit events.
AUDIT_SEAL_SECONDS = env_int("AUDIT_SEAL_SECONDS", 5)

# Molar's own knobs (SPEC S5 defaults live on PracticeSettings in the database).
MOLAR_TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)
# SPEC L5: a portal session ends 12 hours after sign-in whatever the activity.
PORTAL_SESSION_MAX_SECONDS = env_int("PORTAL_SESSION_MAX_SECONDS", 12 * 3600)
# SPEC Q4: /readyz fails when no worker heartbeat is younger than this.
WORKER_STALE_SECONDS = env_int("WORKER_STALE_SECONDS", 180)

# SPEC O1: read-only sync from the practice's Open Dental database
# (mysql://USER:PASSWORD@HOST:3306/DB, a SELECT-only account); the worker runs
# a pass every OPENDENTAL_SYNC_SECONDS while it is set.
OPENDENTAL_DATABASE_URL = env_str("OPENDENTAL_DATABASE_URL")
OPENDENTAL_SYNC_SECONDS = env_int("OPENDENTAL_SYNC_SECONDS", 300)
# How often the worker asks whether a pass is due; 0 (no URL) turns it off.
OPENDENTAL_POLL_SECONDS = 30 if OPENDENTAL_DATABASE_URL else 0
