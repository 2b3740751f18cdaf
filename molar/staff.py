"""Access helpers for staff pages: each returns what the view may use, or raises.

Denials are audited (SPEC T1), so a front-desk user poking at pages they may
not use leaves a trail."""

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.views.decorators.cache import never_cache

from molar.audit.models import AuditEvent
from molar.audit.services import Actor, audit_record

MANAGE_ACCESS = "access.manage_portal_access"
MANAGE_SETTINGS = "practice.manage_settings"
VIEW_PATIENTS = "patients.view_patient"
CHANGE_PATIENTS = "patients.change_patient"
ADD_PATIENTS = "patients.add_patient"
VIEW_OPENDENTAL_SYNC = "opendental.view_syncpass"


def deny(request, permission: str, patient_id: int | None = None) -> PermissionDenied:
    audit_record(
        action="permission_denied", actor=Actor.staff(request.user), patient_id=patient_id,
        outcome=AuditEvent.Outcome.DENIED,
        detail={"permission": permission, "path": request.path[:200]},
    )
    return PermissionDenied(f"You do not have permission to {permission.split('.')[1].replace('_', ' ')}.")


def staff_view(permission: str):
    """Signed-in staff with `permission`; others are sent to sign in or get 403."""

    def decorator(view):
        @wraps(view)
        @never_cache
        def wrapper(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not request.user.has_perm(permission):
                raise deny(request, permission, kwargs.get("pk"))
            return view(request, *args, **kwargs)

        return wrapper

    return decorator

