"""Patient portal pages (SPEC section 6). Thin: parse, call a service, render."""

from typing import Any, cast

from django.conf import settings
from django.contrib import messages
from django.http import FileResponse, Http404, HttpRequest, JsonResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from molar.access.family import SUBJECT_KEY
from molar.access.models import PortalAccount
from molar.audit.context import ClientRequest
from molar.audit.models import AuditEvent
from molar.audit.services import audit_record, audit_tally_denied
from molar.factors import passkeys
from molar.factors.forms import CodeForm
from molar.factors.pending import pending_end, pending_get, pending_matches, pending_start
from molar.factors.services import factors_of, has_second_factor, passkey_ids, recovery_codes_left
from molar.i18n import patient_language
from molar.patients.models import Patient
from molar.practice.models import PracticeSettings
from molar.records.selectors import balance_of
from molar.refusal import Refused, refused_on_form
from molar.secretbox import seal, unseal

from . import services
from .access import PortalRequest, portal_tab, portal_view
from .forms import (
    ChangePasswordForm,
    ChangeUsernameForm,
    ForgotForm,
    NewPasswordForm,
    ResetForm,
    SignInForm,
    UsernameForm,
)
from .pages import TABS, portal_render
from .selectors import PAST_SHOWN, appointment_rows, appointments_for, next_appointment
from .services import SignInFailed
from .session import (
    SIGNED_IN_COOKIE,
    portal_session_account,
    portal_session_end,
    portal_session_rebind,
    portal_session_start,
)

FACTOR_FAILED = (
    "That code or passkey was not accepted, or sign-in is paused for this account. "
    "Try again later or call the practice."
)
SIGNED_OUT = "signed-out"
REMEMBER_COOKIE = "molar_portal_remember"
REMEMBER_SECONDS = 90 * 24 * 3600
REMEMBER_PURPOSE = "portal.remember"
REALM = "portal"
CLEAR_SITE_DATA = '"cookies", "storage"'  # SPEC K7


@require_POST
@portal_view()
def switch(request: PortalRequest) -> HttpResponseBase:
    """The family switcher: only people in the signed-in person's family."""
    try:
        wanted = int(request.POST.get("patient", ""))
    except ValueError:
        wanted = 0
    if wanted not in {p.pk for p in request.portal_family}:
        audit_record(
            action="access_denied",
            actor=request.portal_actor,
            patient_id=wanted or None,
            outcome=AuditEvent.Outcome.DENIED,
            detail={"path": request.path},
        )
        raise Http404("Not found.")
    request.session[SUBJECT_KEY] = wanted
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        target = ""
    return redirect(target or "portal:home")


def _remembered_username(request: HttpRequest) -> str:
    """SPEC K7: the cookie holds a sealed account id (opaque, random each time),
    not the username; the username is looked up when the page is shown."""
    token = request.COOKIES.get(REMEMBER_COOKIE, "")
    account_id = unseal(token, purpose=REMEMBER_PURPOSE, max_age=REMEMBER_SECONDS) if token else None
    if not account_id or not account_id.isdigit():
        return ""
    return PortalAccount.objects.filter(pk=int(account_id)).values_list("username", flat=True).first() or ""


def _safe_next(request: HttpRequest, target: str) -> str:
    ok = url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure())
    return target if ok else ""


def _signed_in(request: HttpRequest, account: PortalAccount, target: str, remember: bool) -> HttpResponseBase:
    portal_session_start(request, account)
    target = _safe_next(request, target)
    # SPEC O2: an account Open Dental flagged RequireUserNameChange is offered
    # a new username at sign-in (after a one-time password is replaced, the
    # new-password page leads there itself).
    if account.username_offer_pending and not account.require_password_change:
        target = reverse("portal:username_offer")
    response = redirect(target or "portal:home")
    if remember:
        response.set_cookie(
            REMEMBER_COOKIE,
            seal(str(account.pk), purpose=REMEMBER_PURPOSE),
            max_age=REMEMBER_SECONDS,
            secure=request.is_secure(),
            httponly=True,
            samesite="Lax",
        )
    else:
        response.delete_cookie(REMEMBER_COOKIE)
    # SPEC V4: lets the next page tell a session that ran out from none at all.
    response.set_cookie(SIGNED_IN_COOKIE, "1", secure=request.is_secure(), httponly=True, samesite="Lax")
    _prefer_patient_language(request, response, account.patient)
    return response


@never_cache
@sensitive_post_parameters("password")
def sign_in(request: ClientRequest) -> HttpResponseBase:
    if request.method == "GET" and portal_session_account(request) is not None:
        return redirect("portal:home")
    remembered = _remembered_username(request)
    if request.method == "GET" and request.GET.get(SIGNED_OUT):
        messages.info(request, _("You are signed out."))
    form = SignInForm(request.POST or None, initial={"username": remembered, "remember": bool(remembered)})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            account = services.portal_sign_in(
                username=data["username"], password=data["password"], address=request.client_ip
            )
        except SignInFailed as exc:
            form.add_error(None, exc.message)
        else:
            target = request.GET.get("next", "")
            if account.second_step_due:  # SPEC K2: asked at every sign-in
                pending_start(
                    request,
                    realm=REALM,
                    owner_id=account.pk,
                    password_hash=account.password,
                    next=_safe_next(request, target),
                    remember=data["remember"],
                )
                return redirect("portal:second_factor")
            return _signed_in(request, account, target, data["remember"])
    # SPEC V4: a session that ended for inactivity says so (session.js adds
    # ?timeout=1; portal_view does for a link followed after the end).
    return portal_render(
        request, "portal/sign_in.html", {"form": form, "timed_out": request.GET.get("timeout") == "1"}
    )


def _prefer_patient_language(request: HttpRequest, response: HttpResponseBase, patient: Patient) -> None:
    """SPEC V10: the portal in the patient's preferred language, unless this
    browser chose one with the switch."""
    language = patient_language(patient)
    if language and settings.LANGUAGE_COOKIE_NAME not in request.COOKIES:
        response.set_cookie(
            settings.LANGUAGE_COOKIE_NAME, language, samesite="Lax", secure=request.is_secure()
        )


def _pending_account(request: HttpRequest) -> tuple[PortalAccount, dict] | tuple[None, None]:
    pending = pending_get(request, REALM)
    account = PortalAccount.objects.filter(pk=pending["id"]).first() if pending else None
    if not account or not pending or not account.has_access or not pending_matches(pending, account.password):
        pending_end(request)
        return None, None
    return account, pending


def _rp(request: HttpRequest) -> passkeys.RelyingParty:
    return passkeys.RelyingParty.of(request, PracticeSettings.cached().practice_name)


@never_cache
@sensitive_post_parameters("code")
def second_factor(request: ClientRequest) -> HttpResponseBase:
    account, pending = _pending_account(request)
    if account is None or pending is None:
        return redirect("portal:sign_in")
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            account = services.portal_second_factor(
                account=account,
                address=request.client_ip,
                code=form.cleaned_data["code"],
                request=request,
                rp=_rp(request),
                credential=form.cleaned_data["credential"],
            )
        except SignInFailed:
            form.add_error(None, FACTOR_FAILED)
        else:
            pending_end(request)
            return _signed_in(request, account, pending.get("next", ""), pending.get("remember", False))
    ids = passkey_ids(account)
    options = passkeys.authentication_options(request, _rp(request), ids) if ids else ""
    return portal_render(request, "portal/second_factor.html", {"form": form, "passkey_options": options})


@require_POST
def sign_out(request: HttpRequest) -> HttpResponseBase:
    portal_session_end(request)
    # SPEC K7: the browser drops every cookie of the site, the messages
    # cookie included, so the notice travels in the address instead.
    response = redirect(f"{reverse('portal:sign_in')}?{SIGNED_OUT}=1")
    response["Clear-Site-Data"] = CLEAR_SITE_DATA
    response.delete_cookie(SIGNED_IN_COOKIE)
    return response


@sensitive_post_parameters("new", "confirm")
@portal_view(restricted=True)
def new_password(request: PortalRequest) -> HttpResponseBase:
    """SPEC L2: the only page (with sign-out) a one-time password opens."""
    account = request.portal_account
    if not account.require_password_change:
        return redirect("portal:home")
    form = NewPasswordForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            account = services.portal_password_change(
                account=account, new=form.cleaned_data["new"], confirm=form.cleaned_data["confirm"]
            )
        except Refused as exc:
            refused_on_form(form, exc)
        else:
            portal_session_rebind(request, account)
            return redirect("portal:username_offer")
    return portal_render(request, "portal/new_password.html", {"form": form, "account": account})


@portal_view()
def username_offer(request: PortalRequest) -> HttpResponseBase:
    """SPEC U2: right after the first password change, offered once."""
    account = request.portal_account
    if not account.username_offer_pending:
        return redirect("portal:home")
    form = UsernameForm(request.POST or None)
    if request.method == "POST" and "keep" in request.POST:
        services.portal_username_offer_done(account=account)
        return redirect("portal:home")
    if request.method == "POST" and form.is_valid():
        try:
            services.portal_username_change(account=account, username=form.cleaned_data["username"])
        except Refused as exc:
            refused_on_form(form, exc)
        else:
            messages.success(request, _("Your user name is changed."))
            return redirect("portal:home")
    return portal_render(request, "portal/username_offer.html", {"form": form, "account": account})


@portal_tab("home")
def home(request: PortalRequest) -> HttpResponseBase:
    """SPEC V2: the next appointment, the balance and unread messages at a
    glance, each only while the practice shows its tab; a fixed number of
    queries. A view of health information, audited like a tab."""
    practice, subject = request.portal_practice, request.portal_subject
    context: dict[str, Any] = {
        "tab": "home",
        "enabled": {tab for tab, label in TABS if practice.tab_enabled(tab)},
    }
    if practice.tab_enabled("appointments"):
        upcoming = appointment_rows(next_appointment(subject))
        context["next_visit"] = upcoming[0] if upcoming else None
    if practice.tab_enabled("account"):
        context["balance"] = balance_of(subject)
    return portal_render(request, "portal/home.html", context)


def logo(request: HttpRequest) -> HttpResponseBase:
    """SPEC V3: the practice's logo, for the sign-in page and every portal
    page; served by this view, never from MEDIA directly."""
    practice = PracticeSettings.cached()
    if not practice.logo:
        raise Http404("No logo.")
    try:
        handle = practice.logo.open("rb")
    except FileNotFoundError:
        raise Http404("No logo.") from None
    response = FileResponse(handle, content_type=practice.logo_type or "image/png")
    response["Cache-Control"] = "public, max-age=86400"  # the URL changes with each upload (?v=)
    response["X-Content-Type-Options"] = "nosniff"
    return response


@portal_tab("appointments")
def appointments(request: PortalRequest) -> HttpResponseBase:
    upcoming, past = appointments_for(request.portal_subject)
    return portal_render(
        request,
        "portal/appointments.html",
        {
            "upcoming": appointment_rows(upcoming),
            "past": appointment_rows(past),
            "past_shown": PAST_SHOWN,
            "tab": "appointments",
        },
    )


@portal_tab("appointments", json=True)
def appointments_json(request: PortalRequest) -> HttpResponseBase:
    upcoming, past = appointments_for(request.portal_subject)
    rows = [
        {
            "start": a.start.isoformat(),
            "duration_minutes": a.duration_minutes,
            "provider": a.provider,
            "status": a.status,
        }
        for a in [*upcoming, *past]
    ]
    return JsonResponse({"appointments": rows})


@sensitive_post_parameters("current", "new", "confirm", "password")
@portal_view()
def profile(request: PortalRequest) -> HttpResponseBase:
    """SPEC L4: change password, change user name, sign out."""
    account = request.portal_account
    which = request.POST.get("form") if request.method == "POST" else None
    password_form = ChangePasswordForm(request.POST if which == "password" else None, prefix="pw")
    username_form = ChangeUsernameForm(request.POST if which == "username" else None, prefix="un")
    if which == "password" and password_form.is_valid():
        data = password_form.cleaned_data
        try:
            account = services.portal_password_change(
                account=account,
                current=data["current"],
                new=data["new"],
                confirm=data["confirm"],
                address=request.client_ip,
            )
        except Refused as exc:
            refused_on_form(password_form, exc)
        else:
            portal_session_rebind(request, account)
            messages.success(request, _("Your password is changed. Other devices are signed out."))
            return redirect("portal:profile")
    if which == "username" and username_form.is_valid():
        data = username_form.cleaned_data
        try:
            services.portal_username_change(
                account=account,
                username=data["username"],
                password=data["password"],
                address=request.client_ip,
            )
        except Refused as exc:
            refused_on_form(username_form, exc)
        else:
            messages.success(request, _("Your user name is changed."))
            return redirect("portal:profile")
    return portal_render(
        request,
        "portal/profile.html",
        {
            "account": account,
            "password_form": password_form,
            "username_form": username_form,
            "tab": "profile",
            "factors": factors_of(account),
            "codes_left": recovery_codes_left(account),
        },
    )


@never_cache
def forgot(request: HttpRequest) -> HttpResponseBase:
    form = ForgotForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.portal_reset_request(username=form.cleaned_data["username"])
        # SPEC L3: the same answer whether or not the account exists.
        messages.info(
            request,
            _(
                "If that user name has an account with an email address, a reset "
                "code is on its way. It is valid for 24 hours."
            ),
        )
        return redirect("portal:reset")
    return portal_render(request, "portal/forgot.html", {"form": form})


@never_cache
@sensitive_post_parameters("code", "new", "confirm")
def reset(request: HttpRequest) -> HttpResponseBase:
    form = ResetForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.portal_reset_complete(
                username=data["username"], code=data["code"], new=data["new"], confirm=data["confirm"]
            )
        except Refused as exc:
            refused_on_form(form, exc)
        else:
            messages.success(request, _("Your password is reset. Sign in with it now."))
            return redirect("portal:sign_in")
    return portal_render(request, "portal/reset.html", {"form": form})


def contact(request: HttpRequest) -> HttpResponseBase:
    return portal_render(request, "portal/contact.html")


ACTIVATION_SESSION_KEY = "_activation_token"


@never_cache
def activate_link(request: HttpRequest, token: str) -> HttpResponseBase:
    """The link from the email: move the token into the session and off the
    URL, so it cannot leak through history or the Referer header."""
    request.session[ACTIVATION_SESSION_KEY] = token
    return redirect("portal:activate")


@never_cache
@sensitive_post_parameters("new", "confirm")
def activate(request: HttpRequest) -> HttpResponseBase:
    from molar.access.activation import activation_find

    token = request.session.get(ACTIVATION_SESSION_KEY, "")
    row = activation_find(token)
    if row is None:
        audit_tally_denied(path=request.path)  # SPEC T7
        return portal_render(
            request,
            "portal/activate_invalid.html",
            {"message": services.ACTIVATION_INVALID},
            status=410 if token else 404,
        )
    form = NewPasswordForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            account = services.portal_activate(
                token=token, new=form.cleaned_data["new"], confirm=form.cleaned_data["confirm"]
            )
        except Refused as exc:
            refused_on_form(form, exc)
        else:
            request.session.pop(ACTIVATION_SESSION_KEY, None)
            if has_second_factor(account):  # SPEC K2: a new password is not a second factor
                pending_start(
                    request,
                    realm=REALM,
                    owner_id=account.pk,
                    password_hash=account.password,
                    next="",
                    remember=False,
                )
                return redirect("portal:second_factor")
            portal_session_start(request, account)
            return redirect("portal:username_offer")
    return portal_render(request, "portal/activate.html", {"form": form, "username": row.account.username})


@portal_view()
def history(request: PortalRequest) -> HttpResponseBase:
    """SPEC T2: the patient's own access history (who granted, printed, reset;
    sign-ins; views of health information)."""
    from molar.audit.selectors import audit_history_for_patient

    entries = audit_history_for_patient(request.portal_subject.pk)
    return portal_render(request, "portal/history.html", {"entries": entries, "tab": "history"})


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponseBase:
    """The site's 404: portal addresses get the portal's look (a patient never
    lands on a staff-styled page), everything else the staff one."""
    if request.path.startswith("/portal/"):
        if not hasattr(request, "portal_account"):
            account = portal_session_account(request)
            if account is not None:
                cast(PortalRequest, request).portal_account = account
        return portal_render(request, "portal/404.html", status=404)
    return render(request, "404.html", status=404)
