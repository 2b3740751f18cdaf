"""The Patient Portal Access page (SPEC section 4). Thin: parse, call a service, render.

Every action answers with a redirect back to the page (SPEC V5): reloading
never repeats it. A new one-time password reaches that next page through
`shown_once` (an encrypted, single-use cookie), never the database, the
session store or the URL; refusals wait in the session (they hold no secret).
No response here is cached."""

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.http import HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from molar.audit.context import StaffRequest
from molar.audit.permissions import MANAGE_ACCESS, staff_view
from molar.audit.services import Actor
from molar.factors.services import factors_of
from molar.patients.eligibility import eligibility_problem_fields
from molar.patients.models import Patient
from molar.patients.selectors import patient_for_staff
from molar.practice.models import PracticeSettings
from molar.refusal import Refused

from . import services
from .shown_once import shown_once_forget, shown_once_keep, shown_once_take
from .throttle import lock_state

ERRORS_KEY = "_access_errors"


def _return_to(request: StaffRequest) -> str:
    """Where "Back" goes: the dashboard or the chart; only our own pages."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return target
    return ""


def _back_to_page(request: StaffRequest, pk: int) -> HttpResponseBase:
    target = reverse("access:page", args=[pk])
    back = _return_to(request)
    return redirect(f"{target}?{urlencode({'next': back})}" if back else target)


def _readiness(practice: PracticeSettings, patient: Patient) -> tuple[list[str], list[tuple[str, str]]]:
    """What stops Provide now (SPEC V8): settings problems, then eligibility
    problems with the field that fixes each."""
    settings_problems = []
    if not practice.portal_enabled:
        settings_problems.append(services.MSG_PORTAL_OFF)
    if not practice.patient_facing_url:
        settings_problems.append(services.MSG_URL_MISSING)
    return settings_problems, eligibility_problem_fields(patient, country=practice.country)


@staff_view(MANAGE_ACCESS)
def access_page(request: StaffRequest, pk: int) -> HttpResponseBase:
    patient = patient_for_staff(pk)
    account = getattr(patient, "portal_account", None)
    practice = PracticeSettings.cached()
    stored = request.session.get(ERRORS_KEY)
    errors = request.session.pop(ERRORS_KEY)["errors"] if stored and stored.get("patient") == pk else []
    has_access = account is not None and account.has_access
    settings_problems, eligibility = ([], []) if has_access else _readiness(practice, patient)
    context = {
        "patient": patient,
        "account": account,
        "has_access": has_access,
        "lock": lock_state(account) if account is not None else None,
        "factors": factors_of(account) if account is not None else [],
        "practice": practice,
        "errors": errors,
        "settings_problems": settings_problems,
        "eligibility": eligibility,
        "next": _return_to(request),
        "invites": patient.invites.select_related("appointment").order_by("-created_at")[:20],
    }
    context["password"] = shown_once_take(request, patient_id=pk) if has_access else ""
    response = render(request, "access/access.html", context)
    shown_once_forget(request, response, patient_id=pk)
    return response


def _run(
    request: StaffRequest, pk: int, action: Callable[..., Any], *, notice: str, **kwargs: Any
) -> HttpResponseBase:
    patient = patient_for_staff(pk)
    response = _back_to_page(request, pk)
    try:
        result = action(patient=patient, actor=Actor.staff(request.user), **kwargs)
    except Refused as exc:
        request.session[ERRORS_KEY] = {"patient": pk, "errors": exc.messages}
        return response
    # The password to show once: generated (Credentials or str) or, for a
    # typed one, the staff member's own input, so that it can be printed.
    # Never anything else: an account's `.password` is its hash (SPEC W4).
    password = (
        result.password
        if isinstance(result, services.Credentials)
        else result
        if isinstance(result, str)
        else kwargs.get("password", "")
    )
    if password:
        shown_once_keep(request, response, patient_id=pk, password=password)
    messages.success(request, notice)
    return response


@require_POST
@staff_view(MANAGE_ACCESS)
def provide(request: StaffRequest, pk: int) -> HttpResponseBase:
    return _run(
        request,
        pk,
        services.access_provide,
        notice="Online access provided. Print or write down the password now: it is shown only once.",
    )


@staff_view(MANAGE_ACCESS)
def remove(request: StaffRequest, pk: int) -> HttpResponseBase:
    """SPEC W2: a confirmation step that works without JavaScript."""
    if request.method != "POST" or request.POST.get("confirm") != "yes":
        patient = patient_for_staff(pk)
        return render(
            request, "access/remove_confirm.html", {"patient": patient, "next": _return_to(request)}
        )
    return _run(request, pk, services.access_remove, notice="Online access removed.")


@require_POST
@staff_view(MANAGE_ACCESS)
def generate(request: StaffRequest, pk: int) -> HttpResponseBase:
    return _run(
        request,
        pk,
        services.access_generate_password,
        notice="New password generated. The old one no longer works.",
    )


@require_POST
@sensitive_post_parameters("password")
@staff_view(MANAGE_ACCESS)
def set_password(request: StaffRequest, pk: int) -> HttpResponseBase:
    return _run(
        request,
        pk,
        services.access_set_password,
        password=request.POST.get("password", ""),
        notice="Password set. The patient must change it at first sign-in.",
    )


@require_POST
@staff_view(MANAGE_ACCESS)
def clear_factors(request: StaffRequest, pk: int) -> HttpResponseBase:
    return _run(
        request,
        pk,
        services.access_clear_factors,
        notice="Two-step sign-in cleared. The patient signs in with the password alone and "
        "can add a passkey or an authenticator app again from Profile.",
    )


@require_POST
@staff_view(MANAGE_ACCESS)
def rename(request: StaffRequest, pk: int) -> HttpResponseBase:
    return _run(
        request,
        pk,
        services.access_rename,
        username=request.POST.get("username", ""),
        notice="Online Username saved.",
    )


@require_POST
@sensitive_post_parameters("password")
@staff_view(MANAGE_ACCESS)
def printout(request: StaffRequest, pk: int) -> HttpResponseBase:
    """SPEC W7, V8: the letter opens in the browser (a new tab), ready to print."""
    patient = patient_for_staff(pk)
    password = request.POST.get("password", "")
    try:
        pdf = services.access_printout(patient=patient, actor=Actor.staff(request.user), password=password)
    except Refused as exc:
        request.session[ERRORS_KEY] = {"patient": pk, "errors": exc.messages}
        return _back_to_page(request, pk)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="online-access-{patient.pk}.pdf"'
    return response
