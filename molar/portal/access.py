"""Access helpers for portal pages: `portal_view` puts the signed-in account on
the request or sends the visitor away. While the account still has a
one-time password the session is restricted (SPEC L2): pages redirect to the
set-password page, JSON routes answer 403, and no health data is sent.
Otherwise the request also carries the family the person may see (SPEC L8)
and the patient whose data this page shows (`portal_subject`)."""

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from django.db.models import Model, QuerySet
from django.http import Http404, HttpRequest, JsonResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext
from django.views.decorators.cache import never_cache

from molar.access.family import choose_subject, patient_with_version, portal_actor, represented_patients
from molar.access.models import PortalAccount
from molar.audit.context import ClientRequest
from molar.audit.models import AuditEvent
from molar.audit.services import Actor, audit_record, audit_tally_denied
from molar.patients.models import Patient
from molar.practice.models import PracticeSettings

from .page_cache import page_from_memory
from .session import SIGNED_IN_COOKIE, portal_session_account

View = Callable[..., HttpResponseBase]
M = TypeVar("M", bound=Model)


class PortalRequest(ClientRequest):
    """A request that `portal_view` let through, for the type checker (the
    attributes are set on Django's own request). While the password must
    change, only `portal_account` is set."""

    portal_account: PortalAccount
    portal_practice: PracticeSettings
    portal_family: list[Patient]
    portal_subject: Patient
    portal_actor: Actor


def portal_view(*, restricted: bool = False, json: bool = False) -> Callable[[View], View]:
    def decorator(view: View) -> View:
        @wraps(view)
        @never_cache
        def wrapper(http_request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            request = cast(PortalRequest, http_request)
            account = portal_session_account(request)
            if account is None:
                # SPEC T7: counted per address and minute, not one row each.
                audit_tally_denied(path=request.path)
                if json:
                    return JsonResponse({"errors": [gettext("Sign in first.")]}, status=401)
                query = {"next": request.path}
                if request.COOKIES.get(SIGNED_IN_COOKIE):  # was signed in: the session ran out
                    query["timeout"] = "1"
                response = redirect(f"{reverse('portal:sign_in')}?{urlencode(query)}")
                response.delete_cookie(SIGNED_IN_COOKIE)
                return response
            if account.require_password_change and not restricted:
                if json:
                    return JsonResponse({"errors": [gettext("Set a new password first.")]}, status=403)
                return redirect("portal:new_password")
            request.portal_account = account
            if not account.require_password_change:
                practice = PracticeSettings.cached()
                request.portal_practice = practice
                request.portal_family = represented_patients(account, practice)
                subject = choose_subject(request.session, request.portal_family)
                if subject is not account.patient:  # a family member: the list holds names only
                    subject = patient_with_version(subject.pk)
                request.portal_subject = subject
                request.portal_actor = portal_actor(account, request.portal_subject)
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


def portal_tab(tab: str, *, json: bool = False) -> Callable[[View], View]:
    """A page of health information (SPEC L7): shown only while the practice has
    the tab on (S3; Home is always on); every view is audited with the
    subject's and, for a representative, the viewer's id (SPEC L8)."""

    def decorator(view: View) -> View:
        @wraps(view)
        def inner(request: PortalRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if tab != "home" and not request.portal_practice.tab_enabled(tab):
                raise Http404("This part of the portal is turned off.")
            # SPEC Q1: unchanged since it was last rendered? (page_cache.py)
            response = page_from_memory(request) or view(request, *args, **kwargs)
            if response.status_code == 200:
                portal_audit(request, "phi_view", tab=tab)
            return response

        return portal_view(json=json)(inner)

    return decorator


def portal_audit(request: PortalRequest, action: str, **detail: Any) -> None:
    audit_record(
        action=action,
        actor=request.portal_actor,
        patient_id=request.portal_subject.pk,
        detail=portal_audit_detail(request, **detail),
    )


def portal_audit_detail(request: PortalRequest, **detail: Any) -> dict:
    """What every portal audit event says besides the action: the
    representative when the subject is someone else, and the path."""
    account, subject = request.portal_account, request.portal_subject
    if subject.pk != account.patient_id:
        detail["representative_id"] = account.patient_id
    return {**detail, "path": request.path[:200]}


def subject_object(request: PortalRequest, queryset: QuerySet[M], pk: int) -> M:
    """An object of the current subject, or 404 (audited): ids from another
    patient, or from nowhere, all look the same."""
    obj = queryset.filter(pk=pk, patient=request.portal_subject).first()
    if obj is None:
        audit_record(
            action="access_denied",
            actor=request.portal_actor,
            patient_id=request.portal_subject.pk,
            outcome=AuditEvent.Outcome.DENIED,
            detail={"path": request.path[:200]},
        )
        raise Http404("Not found.")
    return obj
