"""Personas and helpers shared by the whole suite.

Personas: `front_desk` (may manage portal access), `clerk` (sees patients but
may not manage access), `admin` (also practice settings). Patients come from
`make_patient`; `complete_patient` passes every P3 check."""

import datetime
import itertools
import json as json_module

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.test import Client

from molar.api.keys import apikey_create
from molar.audit.services import Actor
from molar.patients.models import Patient
from molar.portal.page_cache import PAGES
from molar.practice.models import PracticeSettings
from molar.staffauth.accounts import staff_add
from tests.smtp import send_outbox as _send_outbox
from tests.smtp import smtp  # noqa: E402,F401  (the shared SMTP server fixture)

PORTAL_URL = "https://portal.harbordental.example/"
_numbers = itertools.count(1)


def pytest_collection_modifyitems(config, items):
    from django.conf import settings

    # PostgreSQL-only tests are deselected (not skipped) on SQLite; `make test`
    # runs the suite again on PostgreSQL, where they run.
    if settings.DATABASES["default"]["ENGINE"].endswith("postgresql"):
        return
    kept = [item for item in items if not item.get_closest_marker("postgres")]
    if len(kept) != len(items):
        config.hook.pytest_deselected(items=[i for i in items if i not in kept])
        items[:] = kept


@pytest.fixture(scope="session", autouse=True)
def audit_tables_flushable():
    """Tests that commit (browser, threads) end with Django's flush, which
    empties every table; the audit triggers refuse that (SPEC T6), as they
    should anywhere else. For the test flush only: PostgreSQL skips triggers
    in replica mode (the test database user is a superuser), SQLite's are
    dropped and made again around it."""
    from django.db import connection

    from molar.audit.triggers import create_statements, drop_statements

    operations = type(connection.ops)
    original = operations.execute_sql_flush

    def execute_sql_flush(self, sql_list):
        vendor = self.connection.vendor
        if vendor == "postgresql":
            sql_list = ["SET LOCAL session_replication_role = replica", *sql_list]
        elif vendor == "sqlite":
            sql_list = [*drop_statements(vendor), *sql_list, *create_statements(vendor)]
        return original(self, sql_list)

    operations.execute_sql_flush = execute_sql_flush
    yield
    operations.execute_sql_flush = original


@pytest.fixture(autouse=True)
def fresh_practice_settings():
    """Each test starts from its own database state, not a copy kept by an
    earlier one (settings, rendered portal pages: ids repeat between tests)."""
    PracticeSettings.forget_cached()
    PAGES.clear()
    yield
    PracticeSettings.forget_cached()
    PAGES.clear()


@pytest.fixture(autouse=True)
def default_language():
    """Each test starts in the default language: a Spanish request earlier in
    the same thread must not leave Spanish behind for code run outside one."""
    from django.conf import settings
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture(autouse=True)
def fast_hasher(request, settings):
    """A fast hasher everywhere except tests marked `real_hasher` (about hashing)."""
    if not request.node.get_closest_marker("real_hasher"):
        settings.PASSWORD_HASHERS = [
            "django.contrib.auth.hashers.MD5PasswordHasher",
            *settings.LEGACY_PASSWORD_HASHERS,
        ]


@pytest.fixture(autouse=True)
def email_in_memory(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


@pytest.fixture
def send_outbox(db):
    """The worker's send pass over the email outbox (SPEC Q2), as a fixture."""
    return _send_outbox


@pytest.fixture
def practice(db):
    practice = PracticeSettings.load()
    practice.practice_name = "Harbor Family Dental"
    practice.practice_phone = "207-555-0100"
    practice.practice_email = "frontdesk@harbordental.example"
    practice.country = "US"
    practice.portal_enabled = True
    practice.patient_facing_url = PORTAL_URL
    practice.save()
    return practice


@pytest.fixture
def two_factor_off(db):
    """Staff sign in with a password alone, as in the demo (SPEC K2 turned off)."""
    practice = PracticeSettings.load()
    practice.require_staff_two_factor = practice.require_admin_two_factor = False
    practice.save()


@pytest.fixture
def make_patient(db):
    def make(**overrides) -> Patient:
        n = next(_numbers)
        fields = dict(
            first_name="Maria",
            last_name=f"Lopez{n}",
            address1="12 Harbor Lane",
            city="Portland",
            state="ME",
            zip="04101",
            birth_date=datetime.date(1984, 3, 12),
            wireless_phone="207-555-0101",
            email=f"maria{n}@example.com",
        )
        fields.update(overrides)
        return Patient.objects.create(**fields)

    return make


@pytest.fixture
def complete_patient(make_patient):
    return make_patient()


def _staff(username: str, *, admin: bool = False):
    staff_add(username=username, admin=admin, actor=Actor.system("test"))
    return get_user_model().objects.get(username=username)


@pytest.fixture
def front_desk(db):
    return _staff("frontdesk")


@pytest.fixture
def admin(db):
    return _staff("admin", admin=True)


@pytest.fixture
def clerk(db):
    """Staff who may look at patients but not manage portal access."""
    user = get_user_model().objects.create_user("clerk", password="not-used-here-123")
    user.user_permissions.add(Permission.objects.get(codename="view_patient"))
    return user


class CsrfClient(Client):
    """A test client that enforces CSRF, with `submit` posting like a browser form."""

    def __init__(self, **kwargs):
        super().__init__(enforce_csrf_checks=True, **kwargs)

    def submit(self, url: str, data: dict | None = None, **kwargs):
        if "csrftoken" not in self.cookies:
            self.get("/staff/login/", follow=True)
        data = {**(data or {}), "csrfmiddlewaretoken": self.cookies["csrftoken"].value}
        return self.post(url, data, **kwargs)


@pytest.fixture
def browser_client():
    return CsrfClient()


def signed_in(user) -> CsrfClient:
    client = CsrfClient()
    client.force_login(user)
    return client


@pytest.fixture
def desk_client(front_desk):
    return signed_in(front_desk)


@pytest.fixture
def clerk_client(clerk):
    return signed_in(clerk)


@pytest.fixture
def admin_client(admin):
    return signed_in(admin)


class ApiClient:
    """JSON calls with a Bearer key."""

    def __init__(self, key: str | None):
        self.client = Client()
        self.headers = {"Authorization": f"Bearer {key}"} if key else {}

    def call(self, method: str, path: str, json=None, raw: str | None = None, headers=None):
        kwargs = {"headers": {**self.headers, **(headers or {})}}
        if raw is not None or json is not None:
            kwargs["data"] = raw if raw is not None else json_module.dumps(json)
            kwargs["content_type"] = "application/json"
        return getattr(self.client, method)(f"/api/v1{path}", **kwargs)

    def get(self, path, **kw):
        return self.call("get", path, **kw)

    def post(self, path, json=None, **kw):
        return self.call("post", path, json=json, **kw)

    def put(self, path, json=None, **kw):
        return self.call("put", path, json=json, **kw)

    def patch(self, path, json=None, **kw):
        return self.call("patch", path, json=json, **kw)

    def delete(self, path, **kw):
        return self.call("delete", path, **kw)


@pytest.fixture
def desk_api(front_desk):
    return ApiClient(apikey_create(user=front_desk, name="test", actor=Actor.system("test")))


@pytest.fixture
def admin_api(admin):
    return ApiClient(apikey_create(user=admin, name="test", actor=Actor.system("test")))


@pytest.fixture
def clerk_api(clerk):
    return ApiClient(apikey_create(user=clerk, name="test", actor=Actor.system("test")))


@pytest.fixture
def anonymous_api(db):
    return ApiClient(None)
