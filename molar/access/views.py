"""The Patient Portal Access page (SPEC section 4). Thin: parse, call a service, render.

A plaintext password is only ever in the response to the POST that made it
(never in the session, the URL or a redirect), and no response here is cached."""

from django.http import HttpResponse
from django.shortcuts import render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from molar.audit.services import Actor
from molar.factors.services import factors_of
from molar.practice.models import PracticeSettings
from molar.staff import MANAGE_ACCESS, patient_for_staff, staff_view

from . import services
from .services import AccessRefused
from .throttle import lock_state


def _return_to(request) -> str:
    """Where "Back" goes: the dashboard or the chart; only our own pages."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return target
    return ""


def _page(request, patient, *, password="", errors=(), notice="", status=200):
    patient = patient_for_staff(patient.pk)  # fresh: the action may have changed it
    account = getattr(patient, "portal_account", None)
    context = {
        "patient": patient,
        "account": account,
        "lock": lock_state(account) if account is not None else None,
        "factors": factors_of(account) if account is not None else [],
        "practice": PracticeSettings.cached(),
        "password": password,
        "errors": errors,
        "notice": notice,
        "next": _return_to(request),
        "invites": patient.invites.select_related("appointment").order_by("-created_at")[:20],
    }
    return render(request, "access/access.html", context, status=status)


def _run(request, pk, action, *, notice, **kwargs):
    patient = patient_for_staff(pk)
    try:
        result = action(patient=patient, actor=Actor.staff(request.user), **kwargs)
    except AccessRefused as exc:
        return _page(request, patient, errors=exc.messages)
    # The password to show once: generated (Credentials or str) or, for a
    # typed one, the staff member's own input, so that it can be printed.
    # Never anything else: an account's `.password` is its hash (SPEC W4).
    if isinstance(result, services.Credentials):
        password = result.password
    elif isinstance(result, str):
        password = result
    else:
        password = kwargs.get("password", "")
    return _page(request, patient, password=password, notice=notice)


@staff_view(MANAGE_ACCESS)
def access_page(request, pk: int):
    return _page(request, patient_for_staff(pk))


@require_POST
@staff_view(MANAGE_ACCESS)
def provide(request, pk: int):
    return _run(request, pk, services.access_provide,
                notice="Online access provided. Print or write down the password now: "
                       "it is shown only once.")


@staff_view(MANAGE_ACCESS)
def remove(request, pk: int):
    """SPEC W2: a confirmation step that works without JavaScript."""
    if request.method != "POST" or request.POST.get("confirm") != "yes":
        patient = patient_for_staff(pk)
        return render(request, "access/remove_confirm.html",
                      {"patient": patient, "next": _return_to(request)})
    return _run(request, pk, services.access_remove, notice="Online access removed.")


@require_POST
@staff_view(MANAGE_ACCESS)
def generate(request, pk: int):
    return _run(request, pk, services.access_generate_password,
                notice="New password generated. The old one no longer works.")


@require_POST
@sensitive_post_parameters("password")
@staff_view(MANAGE_ACCESS)
def set_password(request, pk: int):
    return _run(request, pk, services.access_set_password,
                password=request.POST.get("password", ""),
                notice="Password set. The patient must change it at first sign-in.")


@require_POST
@staff_view(MANAGE_ACCESS)
def clear_factors(request, pk: int):
    return _run(request, pk, services.access_clear_factors,
                notice="Two-step sign-in cleared. The patient signs in with the password alone and "
                       "can add a passkey or an authenticator app again from Profile.")


@require_POST
@staff_view(MANAGE_ACCESS)
def rename(request, pk: int):
    return _run(request, pk, services.access_rename, username=request.POST.get("username", ""),
                notice="Online Username saved.")


@require_POST
@sensitive_post_parameters("password")
@staff_view(MANAGE_ACCESS)
def printout(request, pk: int):
    patient = patient_for_staff(pk)
    password = request.POST.get("password", "")
    try:
        pdf = services.access_printout(
            patient=patient, actor=Actor.staff(request.user), password=password
        )
    except AccessRefused as exc:
        return _page(request, patient, password="", errors=exc.messages)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="online-access-{patient.pk}.pdf"'
    return response

