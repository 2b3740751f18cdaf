import secrets
from collections.abc import Callable

from django.http.response import HttpResponseBase

from .context import ClientRequest, RequestContext, client_ip, current


class RequestContextMiddleware:
    """Gives every request an id (echoed in X-Request-ID) and records the
    client address for the audit trail."""

    def __init__(self, get_response: Callable[[ClientRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: ClientRequest) -> HttpResponseBase:
        request_id = secrets.token_hex(8)
        request.client_ip = client_ip(request.META)
        token = current.set(RequestContext(request_id=request_id, client_ip=request.client_ip))
        try:
            response = self.get_response(request)
        finally:
            current.reset(token)
        response["X-Request-ID"] = request_id
        return response
