"""SPEC Q1: a portal tab is rendered once, then served from this process's
memory while nothing on it can have changed.

The key holds everything a tab shows that can differ: the address (with its
query), the signed-in account, the patient shown and the version of their
record (molar/patients/changes.py: any write to it, by any process, changes
the version), the names in the family switcher, the language and the
practice's settings. A page is kept at most PORTAL_PAGE_SECONDS (60; 0 turns
this off): what depends on the clock (which visits are still upcoming) or on
rows shared by all patients (a provider's name) is at most that old. The
parts that belong to one request, the CSRF token and the session's remaining
time, are marks filled in for each response; a page with a one-time notice
("Message sent") is neither served from memory nor kept.

Nothing else is skipped: the session, the account and its password binding,
the family and the tab's switch are checked on every request, and every view
is audited (SPEC T7). Keys hold the account and the patient, so a page is
only ever served to the account it was rendered for, about the patient that
account was just allowed to see."""

import secrets
import threading
import time
from collections import OrderedDict
from typing import Any

from django.conf import settings
from django.contrib.messages import get_messages
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.template.loader import render_to_string
from django.utils.translation import get_language

from molar.session_activity import session_timeout

# Unguessable, so no text a patient or the practice typed can carry one.
_MARK = secrets.token_hex(12)
CSRF_MARK, EXPIRES_MARK = f"csrf{_MARK}", f"expires{_MARK}"
KEY_ATTRIBUTE = "portal_page_key"


class Pages:
    """Least recently used pages with an age limit, shared by the threads of
    one process."""

    def __init__(self) -> None:
        self._items: OrderedDict[tuple, tuple[float, str]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple) -> str | None:
        with self._lock:
            item = self._items.get(key)
            if item is None:
                return None
            if item[0] < time.monotonic():
                del self._items[key]
                return None
            self._items.move_to_end(key)
            return item[1]

    def put(self, key: tuple, html: str) -> None:
        with self._lock:
            self._items[key] = (time.monotonic() + settings.PORTAL_PAGE_SECONDS, html)
            self._items.move_to_end(key)
            while len(self._items) > settings.PORTAL_PAGE_ENTRIES:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def __len__(self) -> int:
        return len(self._items)


PAGES = Pages()


def _has_notices(request: HttpRequest) -> bool:
    return len(get_messages(request)) > 0


def _key(request: Any) -> tuple | None:
    subject = request.portal_subject
    version = getattr(subject, "portal_version", None)
    if request.method != "GET" or not settings.PORTAL_PAGE_SECONDS or version is None:
        return None
    if _has_notices(request):
        return None
    family = tuple((member.pk, member.first_name, member.last_name) for member in request.portal_family)
    practice = request.portal_practice
    return (
        request.get_full_path(),
        request.portal_account.pk,
        subject.pk,
        version,
        family,
        get_language(),
        practice.pk,
        practice.updated_at,
    )


def _fill(request: HttpRequest, html: str) -> HttpResponse:
    if CSRF_MARK in html:
        html = html.replace(CSRF_MARK, get_token(request))
    if EXPIRES_MARK in html:
        html = html.replace(EXPIRES_MARK, str(session_timeout(request).get("session_expires_in", 0)))
    return HttpResponse(html)


def page_from_memory(request: HttpRequest) -> HttpResponse | None:
    """For a tab's view, before any of its own queries: the page if it is in
    memory; otherwise None, and `page_render` keeps what the view renders."""
    key = _key(request)
    setattr(request, KEY_ATTRIBUTE, key)
    if key is None:
        return None
    html = PAGES.get(key)
    return None if html is None else _fill(request, html)


def page_render(request: HttpRequest, template: str, context: dict[str, Any]) -> HttpResponse | None:
    """Render a tab page and keep it, when `page_from_memory` asked for it;
    None when the page is not one to keep (then render it as usual)."""
    key = getattr(request, KEY_ATTRIBUTE, None)
    if key is None or _has_notices(request):
        return None
    marks = {"csrf_token": CSRF_MARK, "session_expires_in": EXPIRES_MARK}
    html = render_to_string(template, {**context, **marks}, request)
    PAGES.put(key, html)
    return _fill(request, html)
