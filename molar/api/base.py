"""The API object: Bearer-key auth, and one error shape for every refusal:
`{"errors": ["message", ...]}`."""

from django.core.exceptions import PermissionDenied
from django.http import Http404
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.security import HttpBearer

from molar.access.services import AccessRefused
from molar.audit.models import AuditEvent
from molar.audit.services import Actor, audit_record
from molar.patients.services import PatientInvalid
from molar.practice.services import SettingsInvalid

from .keys import apikey_user


class ApiKeyAuth(HttpBearer):
    def authenticate(self, request, token):
        user = apikey_user(token)
        if user is not None:
            request.user = user
        return user


api = NinjaAPI(
    title="Molar API",
    version="1",
    description="Patient portal access for dental practices.",
    auth=ApiKeyAuth(),
    urls_namespace="api",
    openapi_url="/openapi.json",
    docs_url=None,
)


def require(request, permission: str, patient_id: int | None = None) -> None:
    """403 (and an audit row) unless the key's user holds `permission`."""
    if not request.user.has_perm(permission):
        audit_record(
            action="permission_denied", actor=Actor.staff(request.user), patient_id=patient_id,
            outcome=AuditEvent.Outcome.DENIED,
            detail={"permission": permission, "path": request.path[:200]},
        )
        raise HttpError(403, f"This API key's user lacks the permission {permission}.")


def errors(request, messages: list[str], status: int):
    return api.create_response(request, {"errors": messages}, status=status)


def _location(loc) -> str:
    parts = [str(p) for p in loc if p not in ("body", "payload", "query", "path")]
    return ".".join(parts)


@api.exception_handler(ValidationError)
def on_validation_error(request, exc):
    messages = []
    for error in exc.errors:
        where = _location(error.get("loc", ()))
        messages.append(f"{where}: {error.get('msg')}" if where else str(error.get("msg")))
    return errors(request, messages, 422)


@api.exception_handler(AuthenticationError)
def on_auth_error(request, exc):
    return errors(request, ["A valid API key is required (Authorization: Bearer <key>)."], 401)


@api.exception_handler(HttpError)
def on_http_error(request, exc):
    message = str(exc)
    if exc.status_code == 400 and message.startswith("Cannot parse request body"):
        message = "The request body is not valid JSON."
    return errors(request, [message], exc.status_code)


@api.exception_handler(Http404)
def on_not_found(request, exc):
    return errors(request, [str(exc) or "Not found."], 404)


@api.exception_handler(PermissionDenied)
def on_denied(request, exc):
    return errors(request, [str(exc) or "Permission denied."], 403)


@api.exception_handler(AccessRefused)
def on_access_refused(request, exc):
    return errors(request, exc.messages, 409 if exc.kind == "conflict" else 422)


@api.exception_handler(PatientInvalid)
def on_patient_invalid(request, exc):
    return errors(request, exc.messages, 422)


@api.exception_handler(SettingsInvalid)
def on_settings_invalid(request, exc):
    return errors(request, exc.messages, 422)
