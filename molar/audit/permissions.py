"""Access helpers for staff pages and the API: each returns what the caller
may use, or raises.

Denials are audited (SPEC T1), so a front-desk user poking at pages they may
not use leaves a trail."""

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http.response import HttpResponseBase
from django.views.decorators.cache import never_cache

from molar.audit.context import StaffRequest
from molar.audit.models import AuditEvent
from molar.audit.services import Actor, audit_record

View = TypeVar("View", bound=Callable[..., HttpResponseBase])

MANAGE_ACCESS = "access.manage_portal_access"
MANAGE_SETTINGS = "practice.manage_settings"
VIEW_PATIENTS = "patients.view_patient"
CHANGE_PATIENTS = "patients.change_patient"
ADD_PATIENTS = "patients.add_patient"
VIEW_OPENDENTAL_SYNC = "opendental.view_syncpass"


def permitted(request: StaffRequest, permission: str, patient_id: int | None = None) -> bool:
    """Whether the staff user (signed in, or behind an API key) holds
    `permission`. Pages and the API both ask here, so a denial is audited
    the same way whichever door it came through."""
    if request.user.has_perm(permission):
        return True
    audit_record(
        action="permission_denied",
        actor=Actor.staff(request.user),
        patient_id=patient_id,
        outcome=AuditEvent.Outcome.DENIED,
        detail={"permission": permission, "path": request.path[:200]},
    )
    return False


def staff_view(permission: str) -> Callable[[View], View]:
    """Signed-in staff with `permission`; others are sent to sign in or get 403."""

    def decorator(view: View) -> View:
        @wraps(view)
        @never_cache
        def wrapper(request: StaffRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not permitted(request, permission, kwargs.get("pk")):
                raise PermissionDenied(
                    f"You do not have permission to {permission.split('.')[1].replace('_', ' ')}."
                )
            return view(request, *args, **kwargs)

        return cast(View, wrapper)

    return decorator
