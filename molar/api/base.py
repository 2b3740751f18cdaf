"""The API object: Bearer-key auth, and one error shape for every refusal:
`{"errors": ["message", ...]}`, declared in the OpenAPI document for each
operation (`error_responses`) and answered for any error, an unexpected one
included (500, logged, without details)."""

import datetime
import json
import logging
import re
from collections.abc import Iterable
from typing import Annotated

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, RequestDataTooBig, SuspiciousOperation
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.datastructures import MultiValueDict
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.openapi.schema import OpenAPISchema
from ninja.parser import Parser
from ninja.security import HttpBearer
from pydantic import AwareDatetime, BeforeValidator
from pydantic_core import PydanticCustomError

from molar.audit.context import StaffRequest
from molar.audit.permissions import MANAGE_ACCESS, MANAGE_SETTINGS, permitted
from molar.ops.views import RETRY_AFTER_SECONDS, TRY_AGAIN
from molar.refusal import Refused
from molar.transient import TRANSIENT

from .keys import apikey_user

logger = logging.getLogger(__name__)

SERVER_ERROR = "Something went wrong on the server; nothing was changed. Please try again later."


class ApiKeyAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> User | None:
        user = apikey_user(token)
        if user is not None:
            request.user = user
        return user


class BodyRefused(ValueError):
    """A request body that parses but cannot be an input: the message says why."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def _has_nul(value: object) -> bool:
    # A loop, not recursion: any nesting json.loads accepts must not overflow here.
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str) and "\x00" in item:
            return True
        if isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return False


class ObjectParser(Parser):
    """Bodies are JSON objects. Anything else would be validated attribute by
    attribute by the schemas and, e.g., a `[]` would create an empty patient;
    `null` is an input problem (422, SPEC P4): an operation whose body is
    optional takes no body at all instead. NUL characters are refused here,
    once, because PostgreSQL cannot store them and would answer with a server
    error."""

    def parse_body(self, request: HttpRequest) -> dict:
        data = json.loads(request.body)
        if data is None:
            raise BodyRefused("The request body must be a JSON object, not null.", 422)
        if not isinstance(data, dict):
            raise BodyRefused("The request body must be a JSON object.")
        if _has_nul(data):
            raise BodyRefused("The request body must not contain NUL characters.")
        return data

    def parse_querydict(self, data: MultiValueDict, list_fields: list[str], request: HttpRequest) -> dict:
        if any(_has_nul(k) or _has_nul(data.getlist(k)) for k in data.keys()):
            raise HttpError(400, "Query parameters must not contain NUL characters.")
        return super().parse_querydict(data, list_fields, request)


# What each error status means, as the OpenAPI document describes it.
ERROR_STATUSES = {
    400: "The body is not a JSON object, or the request holds NUL characters.",
    401: "No valid API key (Authorization: Bearer <key>).",
    403: "The key's staff user lacks the permission (audited).",
    404: "No such record.",
    409: "Conflicts with the current state (e.g. access already provided, username taken).",
    413: "The request body is too large.",
    422: "Input, eligibility, settings or policy problems: one message each.",
    503: "The database is briefly unavailable; try again (Retry-After).",
}


class Errors(Schema):
    errors: list[str]


# Dates and times as the document says (ISO 8601 text), nothing else: left to
# itself pydantic reads 0 or "0" as 1970-01-01 (a Unix time).
ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
ISO_MOMENT = re.compile(r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?([Zz]|[+-]\d{2}:\d{2})")


def _text_like(pattern: re.Pattern, example: str) -> BeforeValidator:
    def check(value: object) -> object:
        if value is None or isinstance(value, datetime.date):
            return value
        if isinstance(value, str) and pattern.fullmatch(value):
            return value
        raise PydanticCustomError("iso", "Write it as {example}.", {"example": example})

    return BeforeValidator(check)


Day = Annotated[datetime.date, _text_like(ISO_DAY, "YYYY-MM-DD")]
Moment = Annotated[
    AwareDatetime, _text_like(ISO_MOMENT, "YYYY-MM-DDTHH:MM:SS+HH:MM, with its timezone offset or Z")
]


def error_responses(operation: dict, path: str) -> list[int]:
    """The error statuses an operation can answer, from its shape: every
    operation needs a key with a permission and may meet a database blip;
    input can be refused; a body can be unreadable or too large; a path id
    can name nothing. 409 is declared by the routes that can conflict."""
    has_body = "requestBody" in operation
    has_query = any(p.get("in") == "query" for p in operation.get("parameters", []))
    statuses = [401, 403, 503]
    statuses += [400] if has_body or has_query else []
    statuses += [404] if "{" in path else []
    statuses += [413] if has_body else []
    statuses += [422] if has_body or operation.get("parameters") else []
    return sorted(statuses)


def _optional_body_is_left_out(operation: dict) -> None:
    """An optional body is declared as `X | None`; ObjectParser refuses a
    `null` body, so the document says: send X, or no body at all."""
    body = operation.get("requestBody", {}).get("content", {}).get("application/json")
    choices = body.get("schema", {}).get("anyOf", []) if body else []
    kept = [choice for choice in choices if choice != {"type": "null"}]
    if len(kept) == 1 and len(choices) == 2:
        body["schema"] = kept[0]
        operation["requestBody"]["required"] = False


class MolarAPI(NinjaAPI):
    def get_openapi_schema(
        self, *, path_prefix: str | None = None, path_params: dict | None = None
    ) -> OpenAPISchema:
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        schemas = schema.setdefault("components", {}).setdefault("schemas", {})
        schemas["Errors"] = Errors.model_json_schema()
        content = {"application/json": {"schema": {"$ref": "#/components/schemas/Errors"}}}
        for path, operations in schema["paths"].items():
            for operation in operations.values():
                _optional_body_is_left_out(operation)
                responses = operation.setdefault("responses", {})
                for status in error_responses(operation, path):
                    responses.setdefault(str(status), {})
                for status, response in responses.items():
                    if int(status) >= 400:  # routes declare 409 by status only
                        response.update(description=ERROR_STATUSES[int(status)], content=content)
        return schema


api = MolarAPI(
    title="Molar API",
    version="1",
    description="Patient portal access for dental practices.",
    auth=ApiKeyAuth(),
    urls_namespace="api",
    openapi_url="/openapi.json",
    docs_url=None,
    parser=ObjectParser(),
)


def require(request: StaffRequest, permission: str, patient_id: int | None = None) -> None:
    """403 (and an audit row) unless the key's user holds `permission`."""
    if not permitted(request, permission, patient_id):
        raise HttpError(403, f"This API key's user lacks the permission {permission}.")


def require_settings_reader(request: StaffRequest) -> None:
    """Practice settings and invite rules are read by staff who manage either
    them or portal access; a denial is audited as the latter."""
    if not request.user.has_perm(MANAGE_SETTINGS):
        require(request, MANAGE_ACCESS)


def errors(request: HttpRequest, messages: list[str], status: int) -> HttpResponse:
    return api.create_response(request, {"errors": messages}, status=status)


def _location(loc: Iterable[object]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "payload", "query", "path")]
    return ".".join(parts)


@api.exception_handler(ValidationError)
def on_validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    messages = []
    for error in exc.errors:
        where = _location(error.get("loc", ()))
        messages.append(f"{where}: {error.get('msg')}" if where else str(error.get("msg")))
    return errors(request, messages, 422)


@api.exception_handler(AuthenticationError)
def on_auth_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return errors(request, ["A valid API key is required (Authorization: Bearer <key>)."], 401)


@api.exception_handler(HttpError)
def on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    message, status = str(exc), exc.status_code
    if isinstance(exc.__cause__, BodyRefused):
        message, status = str(exc.__cause__), exc.__cause__.status
    elif exc.status_code == 400 and message.startswith("Cannot parse request body"):
        message = "The request body is not valid JSON."
    return errors(request, [message], status)


@api.exception_handler(SuspiciousOperation)
def on_suspicious(request: HttpRequest, exc: SuspiciousOperation) -> HttpResponse:
    # Django's own answer to these (too many fields, a malformed header) is a 400.
    return errors(request, ["The request is malformed."], 400)


@api.exception_handler(Exception)
def on_unexpected(request: HttpRequest, exc: Exception) -> HttpResponse:
    """Anything no handler above expected: a JSON 500 that tells nothing
    about the server, with the traceback in the log."""
    logger.exception("API server error for %s %s", request.method, request.path)
    return errors(request, [SERVER_ERROR], 500)


@api.exception_handler(RequestDataTooBig)
def on_too_big(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
    return errors(request, ["The request body is too large."], 413)


@api.exception_handler(Http404)
def on_not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return errors(request, [str(exc) or "Not found."], 404)


@api.exception_handler(PermissionDenied)
def on_denied(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
    return errors(request, [str(exc) or "Permission denied."], 403)


@api.exception_handler(Refused)
def on_refused(request: HttpRequest, exc: Refused) -> HttpResponse:
    """Every service's refusal, whichever app raised it: its kind's status
    and one message per problem."""
    return errors(request, [str(m) for m in exc.messages], exc.kind.status)


def on_database_unavailable(request: HttpRequest, exc: Exception) -> HttpResponse:
    """SPEC Q4: a transient database error (the request's transaction rolled
    back) is a 503 to try again, not a server error."""
    response = errors(request, [TRY_AGAIN], 503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


for _transient in TRANSIENT:
    # ninja types a handler's argument as the exception or its class; it is given the exception.
    api.add_exception_handler(_transient, on_database_unavailable)  # type: ignore[arg-type]
