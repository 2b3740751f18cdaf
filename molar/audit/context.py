"""Who is asking and from where, for the audit trail.

The middleware stores the request id and the client address of the current
request in a context variable; audit.record() reads them, so services do not
need the request passed down to them."""

import contextvars
import ipaddress
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.models import User
from django.http import HttpRequest


@dataclass(frozen=True)
class RequestContext:
    request_id: str = ""
    client_ip: str | None = None


current: contextvars.ContextVar[RequestContext] = contextvars.ContextVar(
    "molar_request_context",
    default=RequestContext(),  # noqa: B039 (frozen)
)


class ClientRequest(HttpRequest):
    """A request as RequestContextMiddleware leaves it, for the type checker
    (no instance is made: the attribute is set on Django's own request)."""

    client_ip: str | None


class StaffRequest(ClientRequest):
    """A request that `staff_view` let through: a signed-in staff user."""

    user: User


def client_ip(meta: dict) -> str | None:
    """The client's address: the connection's, unless TRUSTED_PROXY_COUNT says
    that many proxies in front of us append to X-Forwarded-For. Taking the
    header blindly would let any client pick the address it is throttled by."""
    address = meta.get("REMOTE_ADDR")
    proxies = settings.MOLAR_TRUSTED_PROXY_COUNT
    if proxies > 0:
        hops = [h.strip() for h in meta.get("HTTP_X_FORWARDED_FOR", "").split(",") if h.strip()]
        if len(hops) >= proxies:
            address = hops[-proxies]
    try:
        return str(ipaddress.ip_address(address)) if address else None
    except ValueError:
        return None
