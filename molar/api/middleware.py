"""SPEC X2, X4: every error under /api/ is `{"errors": [...]}`, also those
Django answers before or around the API's own handlers: a path the API does
not have (404), a method a path does not take (405), a server error raised
outside a view (500)."""

from collections.abc import Callable

from django.http import HttpRequest, JsonResponse
from django.http.response import HttpResponseBase

from .base import SERVER_ERROR

API_PREFIX = "/api/"
MESSAGES = {
    404: "Not found: no such API path.",
    405: "This path does not take that method; see the Allow header.",
    500: SERVER_ERROR,
}
KEPT_HEADERS = ("Allow", "Retry-After", "WWW-Authenticate")


class ApiErrorsAsJsonMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        if (
            request.path.startswith(API_PREFIX)
            and response.status_code >= 400
            and not response.get("Content-Type", "").startswith("application/json")
        ):
            message = MESSAGES.get(response.status_code, response.reason_phrase)
            replaced = JsonResponse({"errors": [message]}, status=response.status_code)
            for header in KEPT_HEADERS:
                if header in response:
                    replaced[header] = response[header]
            return replaced
        return response
