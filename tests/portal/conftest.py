import re

import pytest

from molar.access.services import access_provide
from molar.audit.services import Actor
from tests.conftest import CsrfClient

GOOD_PASSWORD = "Harbor9Tide"


@pytest.fixture
def credentials(practice, complete_patient):
    """A patient who was just given access: (username, one-time password)."""
    creds = access_provide(patient=complete_patient, actor=Actor.system("test"))
    return creds.username, creds.password


def sign_in(client: CsrfClient, username: str, password: str, **extra):
    return client.submit("/portal/", {"username": username, "password": password, **extra})


def page_errors(response) -> list[str]:
    block = re.search(r'<ul class="errorlist"[^>]*>(.*?)</ul>', response.content.decode(), re.S)
    return re.findall(r"<li>(.*?)</li>", block.group(1)) if block else []


def assert_refused(client: CsrfClient, response) -> None:
    """The sign-in page came back with the one refusal message, and the
    session holds no portal account."""
    from molar.portal.services import SIGN_IN_FAILED
    from molar.portal.session import ACCOUNT_KEY

    assert page_errors(response) == [SIGN_IN_FAILED]
    assert ACCOUNT_KEY not in client.session


def set_new_password(client: CsrfClient, password: str = GOOD_PASSWORD):
    return client.submit("/portal/password/new/", {"new": password, "confirm": password})


@pytest.fixture
def patient_client(credentials):
    """A patient signed in who has replaced the one-time password."""
    client = CsrfClient()
    sign_in(client, *credentials)
    set_new_password(client)
    client.submit("/portal/username/", {"keep": "1"})
    return client
