"""A small keep-alive HTTP client that talks to 127.0.0.1 only."""

import http.client
import re
from dataclasses import dataclass
from http.cookies import SimpleCookie
from urllib.parse import urlencode

from bench import BenchError

HOST = "127.0.0.1"
TIMEOUT_SECONDS = 30.0
CSRF_FIELD = re.compile(rb'name="csrfmiddlewaretoken" value="([^"]+)"')

# What a failed request raises: a refused or dropped connection, a bad response.
TRANSPORT_ERRORS = (http.client.HTTPException, OSError)


@dataclass(frozen=True)
class Response:
    status: int
    body: bytes


class Client:
    """One persistent connection (HTTP/1.1 keep-alive) with a cookie jar."""

    def __init__(
        self,
        port: int,
        *,
        headers: dict[str, str] | None = None,
        cookies: dict[str, str] | None = None,
    ):
        self.connection = http.client.HTTPConnection(HOST, port, timeout=TIMEOUT_SECONDS)
        self.headers = dict(headers or {})
        self.cookies = dict(cookies or {})

    def request(
        self,
        method: str,
        path: str,
        *,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> Response:
        sent = {**self.headers, **(headers or {})}
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        try:
            self.connection.request(method, path, body=body, headers=sent)
            response = self.connection.getresponse()
            data = response.read()
        except TRANSPORT_ERRORS:
            self.connection.close()  # the next request opens a new connection
            raise
        for header in response.msg.get_all("Set-Cookie") or ():
            for name, morsel in SimpleCookie(header).items():
                if morsel.value:
                    self.cookies[name] = morsel.value
                else:
                    self.cookies.pop(name, None)
        return Response(response.status, data)

    def close(self) -> None:
        self.connection.close()


def staff_session(port: int, username: str, password: str) -> dict[str, str]:
    """Sign in through the staff login form (CSRF token included) and return
    the cookies of the signed-in session."""
    client = Client(port)
    try:
        page = client.request("GET", "/staff/login/")
        token = CSRF_FIELD.search(page.body)
        if page.status != 200 or token is None:
            raise BenchError(f"the staff login page gave HTTP {page.status} without a CSRF token")
        form = urlencode(
            {
                "csrfmiddlewaretoken": token.group(1).decode(),
                "username": username,
                "password": password,
            }
        )
        done = client.request(
            "POST",
            "/staff/login/",
            body=form.encode(),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        if done.status != 302 or "sessionid" not in client.cookies:
            raise BenchError(f"staff sign-in failed with HTTP {done.status}")
        return client.cookies
    finally:
        client.close()


def portal_session(port: int, username: str, password: str) -> dict[str, str]:
    """Sign in through the portal's sign-in form and return the session cookies."""
    client = Client(port)
    try:
        page = client.request("GET", "/portal/")
        token = CSRF_FIELD.search(page.body)
        if page.status != 200 or token is None:
            raise BenchError(f"the portal sign-in page gave HTTP {page.status} without a CSRF token")
        form = urlencode(
            {"csrfmiddlewaretoken": token.group(1).decode(), "username": username, "password": password}
        )
        done = client.request(
            "POST",
            "/portal/",
            body=form.encode(),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        if done.status != 302 or "sessionid" not in client.cookies:
            raise BenchError(f"portal sign-in failed with HTTP {done.status}")
        return client.cookies
    finally:
        client.close()
