"""Response headers every page gets (SPEC L5; issue: headers and deployment).

Django's SecurityMiddleware already sends nosniff, Referrer-Policy and HSTS
(over https); this adds the Content-Security-Policy and keeps signed-in
pages and API answers out of every cache."""

from collections.abc import Callable

from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.utils.cache import add_never_cache_headers

from molar.portal.session import ACCOUNT_KEY

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "object-src 'none'",
        "base-uri 'none'",
    ]
)


class SecurityHeadersMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        response.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        if self._private(request) and not self._kept_out_of_caches(response):
            add_never_cache_headers(response)
        return response

    @staticmethod
    def _kept_out_of_caches(response: HttpResponseBase) -> bool:
        """Already marked by the view's own never_cache (every portal page):
        patching the same headers again costs as much as the first time."""
        directives = {d.strip() for d in response.get("Cache-Control", "").lower().split(",")}
        return {"no-store", "private"} <= directives and response.has_header("Expires")

    @staticmethod
    def _private(request: HttpRequest) -> bool:
        user = getattr(request, "user", None)
        session = getattr(request, "session", None)
        return (
            request.path.startswith("/api/")
            or bool(user is not None and user.is_authenticated)
            or bool(session is not None and session.get(ACCOUNT_KEY))
        )
