"""SPEC K10, X2, X4: schemathesis, with all its checks, against the OpenAPI
document the app serves (/api/v1/openapi.json), with an administrator's key:
no server error, no status the document does not declare, responses that
match their schemas.

A few examples per operation here (SCHEMATHESIS_EXAMPLES, default 12) so the
suite stays quick; `make fuzz` runs many more."""

import os

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

from molar.api.keys import _digest
from molar.api.models import ApiKey

EXAMPLES = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "12"))
# A key known before the test database exists, so schemathesis itself sends
# it (and leaves it out for its "missing credentials" checks).
KEY_PREFIX = "5c4e0a11"
KEY = f"molar_{KEY_PREFIX}_schemathesis-test-key"

CONFIG = {
    "auth": {"openapi": {"ApiKeyAuth": {"bearer": KEY}}},
    "generation": {
        "max-examples": EXAMPLES,
        # Every string with a NUL is refused with a 400 before validation
        # (PostgreSQL cannot store one): tests/api cover that on its own.
        "allow-x00": False,
    },
    "checks": {
        # Schema-valid input can still break a business rule the schema cannot
        # express (eligibility, portal settings, a birth date after today, a
        # malformed email): that is a 422 with the reason, not a failure.
        "positive_data_acceptance": {"expected-statuses": ["2xx", "401", "403", "404", "409", "422"]},
    },
}


@pytest.fixture
def admin_key(admin) -> str:
    ApiKey.objects.create(user=admin, name="schemathesis", prefix=KEY_PREFIX, digest=_digest(KEY))
    return KEY


@pytest.fixture(autouse=True)
def requests_in_the_test_transaction(db):
    """Requests go to Django's WSGI handler in this thread, inside the test's
    transaction; like Django's test client, they must not close the connection."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


# The document as the app serves it (reading it needs no database).
schema = schemathesis.openapi.from_wsgi(
    "/api/v1/openapi.json", WSGIHandler(), config=schemathesis.Config.from_dict(CONFIG)
)


@schema.parametrize()
@hypothesis_settings(
    deadline=None,
    derandomize=True,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
    ],
)
def test_api_conforms_to_its_openapi_document(case, practice, admin_key):
    case.call_and_validate()
