"""A one-time password shown once, after a redirect (SPEC V5, C4).

Provide, Generate New and Set Password answer with a redirect to the access
page (Post/Redirect/Get), so reloading it never makes another password. The
page after the redirect must still show the new password once. Where can it
wait for that one GET?

- Not in the database or the session store: sessions are rows in the
  database, and a plaintext password must never be stored (SPEC C4).
- Not in the URL: history, logs and the Referer header keep URLs.
- So in a cookie, encrypted: AES-256-GCM with a key derived from SECRET_KEY
  (only the server can read or forge it), HttpOnly (no script reads it),
  SameSite=Strict, path-scoped to this patient's access page, a two-minute
  lifetime, and deleted by the response that shows it. The sealed value
  names the patient and the staff user and carries a random id; the session
  holds only that id (no secret) and forgets it when the password is shown,
  so the cookie works once even if a browser kept a copy of it.
"""

import json
import secrets
import time
from base64 import urlsafe_b64decode, urlsafe_b64encode

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.urls import reverse
from django.utils.crypto import salted_hmac

COOKIE = "molar_shown_once"
SESSION_KEY = "_access_shown_once"
LIFETIME_SECONDS = 120


def _key() -> bytes:
    # 32 bytes (HMAC-SHA256 of a fixed purpose under SECRET_KEY): AES-256.
    return salted_hmac("molar.access.shown_once", "aes-gcm key", algorithm="sha256").digest()


def _path(patient_id: int) -> str:
    return reverse("access:page", args=[patient_id])


def shown_once_keep(
    request: HttpRequest, response: HttpResponseBase, *, patient_id: int, password: str
) -> None:
    """Seal `password` into the redirect `response` for the next GET of the page."""
    ticket = secrets.token_urlsafe(16)  # 128 bits
    request.session[SESSION_KEY] = ticket
    payload = json.dumps(
        {
            "p": patient_id,
            "u": request.user.pk,
            "t": ticket,
            "x": int(time.time()) + LIFETIME_SECONDS,
            "pw": password,
        }
    ).encode()
    nonce = secrets.token_bytes(12)
    sealed = nonce + AESGCM(_key()).encrypt(nonce, payload, COOKIE.encode())
    response.set_cookie(
        COOKIE,
        urlsafe_b64encode(sealed).decode(),
        max_age=LIFETIME_SECONDS,
        path=_path(patient_id),
        secure=request.is_secure(),
        httponly=True,
        samesite="Strict",
    )


def shown_once_take(request: HttpRequest, *, patient_id: int) -> str:
    """The password kept for this page, once; "" when there is none (or it was
    already shown, expired, forged, or meant for another patient or user).
    The response must then call shown_once_forget."""
    raw = request.COOKIES.get(COOKIE)
    if raw is None:
        return ""
    ticket = request.session.pop(SESSION_KEY, None)
    try:
        sealed = urlsafe_b64decode(raw.encode())
        payload = json.loads(AESGCM(_key()).decrypt(sealed[:12], sealed[12:], COOKIE.encode()))
    except (InvalidTag, ValueError, TypeError):
        return ""
    valid = (
        ticket is not None
        and secrets.compare_digest(str(payload.get("t", "")), ticket)
        and payload.get("p") == patient_id
        and payload.get("u") == request.user.pk
        and payload.get("x", 0) >= time.time()
    )
    return str(payload.get("pw", "")) if valid else ""


def shown_once_forget(request: HttpRequest, response: HttpResponseBase, *, patient_id: int) -> None:
    """Delete the cookie (if the browser sent one) with the response that showed it."""
    if COOKIE in request.COOKIES:
        response.delete_cookie(COOKIE, path=_path(patient_id), samesite="Strict")
