import re

import pyotp
import pytest

from molar.audit.services import Actor
from molar.staffauth.accounts import staff_add
from tests.conftest import CsrfClient

ADDRESS = "198.51.100.20"


def sign_in(client: CsrfClient, username: str, password: str, address: str = ADDRESS):
    return client.submit("/staff/login/", {"username": username, "password": password}, REMOTE_ADDR=address)


def signed_in(client: CsrfClient) -> bool:
    return client.get("/staff/patients/").status_code == 200


def shown_secret(page: str) -> str:
    return re.search(r'<code id="totp-secret">([A-Z2-7]+)</code>', page)[1]


def shown_codes(page: str) -> list[str]:
    return re.findall(r"<li><code>([A-Z2-9]{5}-[A-Z2-9]{5})</code></li>", page)


def enroll_totp(client: CsrfClient, address: str = ADDRESS) -> tuple[str, list[str]]:
    """Add an authenticator app on /staff/security/authenticator/: (secret, recovery codes)."""
    secret = shown_secret(client.get("/staff/security/authenticator/").content.decode())
    page = client.submit(
        "/staff/security/authenticator/",
        {"code": pyotp.TOTP(secret).now(), "name": "Phone"},
        REMOTE_ADDR=address,
    )
    assert page.status_code == 200, page.content.decode()
    return secret, shown_codes(page.content.decode())


@pytest.fixture
def desk_password(db):
    return staff_add(username="frontdesk", admin=False, actor=Actor.system("test"))


@pytest.fixture
def admin_password(db):
    return staff_add(username="admin", admin=True, actor=Actor.system("test"))
