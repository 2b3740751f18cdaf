"""Staff sign-in, second factor, enrollment and sign-out (SPEC K1, K2, K7).
Thin: parse, call a service, render."""

from django.contrib import messages
from django.contrib.auth import get_user_model, login, logout
from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponseRedirect
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from molar.audit.context import ClientRequest
from molar.audit.services import Actor
from molar.factors import passkeys
from molar.factors.forms import CodeForm, PasskeyForm, TotpForm
from molar.factors.pending import pending_end, pending_get, pending_matches, pending_start
from molar.factors.services import (
    factor_add_passkey,
    factor_add_totp,
    factor_remove,
    factors_of,
    has_second_factor,
    passkey_ids,
    recovery_codes_left,
    recovery_codes_renew,
)
from molar.factors.totp import totp_enrolling_secret, totp_qr_data_uri, totp_uri
from molar.practice.models import PracticeSettings
from molar.refusal import Refused, refused_on_form

from .forms import StaffSignInForm
from .services import (
    StaffSignInFailed,
    staff_password_check,
    staff_second_factor_check,
    staff_second_factor_required,
    staff_signed_in,
    staff_signed_out,
)
from .session import staff_session_start

REALM = "staff"
TOTP_SECRET_KEY = "_totp_enrolling"  # noqa: S105 (a session key's name)
CLEAR_SITE_DATA = '"cookies", "storage"'  # SPEC K7


def _next(request: HttpRequest, target: str) -> str:
    ok = url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure())
    return target if ok and target else reverse("patients:list")


def _rp(request: HttpRequest) -> passkeys.RelyingParty:
    return passkeys.RelyingParty.of(request, PracticeSettings.cached().practice_name or "Molar")


def _sign_in_now(request: ClientRequest, user: User, second_factor: str) -> None:
    pending_end(request)
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")  # a new session id
    staff_session_start(request, user)
    staff_signed_in(user=user, second_factor=second_factor)


def _finish(request: ClientRequest, user: User, second_factor: str, target: str) -> HttpResponseBase:
    _sign_in_now(request, user, second_factor)
    return redirect(_next(request, target))


@never_cache
@sensitive_post_parameters("password")
def sign_in(request: ClientRequest) -> HttpResponseBase:
    if request.method == "GET" and request.user.is_authenticated:
        return redirect(_next(request, request.GET.get("next", "")))
    form = StaffSignInForm(request.POST or None)
    target = request.POST.get("next") or request.GET.get("next", "")
    if request.method == "POST" and form.is_valid():
        try:
            user = staff_password_check(
                username=form.cleaned_data["username"],
                password=form.cleaned_data["password"],
                address=request.client_ip,
            )
        except StaffSignInFailed as exc:
            form.add_error(None, exc.message)
        else:
            if has_second_factor(user):
                pending_start(
                    request, realm=REALM, owner_id=user.pk, password_hash=user.password, next=target
                )
                return redirect("staffauth:verify")
            if staff_second_factor_required(user):
                pending_start(
                    request,
                    realm=REALM,
                    owner_id=user.pk,
                    password_hash=user.password,
                    next=target,
                    enroll=True,
                )
                return redirect("staffauth:security")
            return _finish(request, user, "", target)
    return render(request, "registration/login.html", {"form": form, "next": target})


def _pending_user(request: HttpRequest, *, enroll: bool) -> tuple[User, dict] | tuple[None, None]:
    pending = pending_get(request, REALM)
    if pending is None or bool(pending.get("enroll")) != enroll:
        return None, None
    user = get_user_model().objects.filter(pk=pending["id"], is_active=True).first()
    if user is None or not pending_matches(pending, user.password):
        pending_end(request)
        return None, None
    return user, pending


@never_cache
@sensitive_post_parameters("code")
def verify(request: ClientRequest) -> HttpResponseBase:
    """The second step: an authenticator code, a recovery code or a passkey."""
    user, pending = _pending_user(request, enroll=False)
    if user is None or pending is None:
        return redirect("login")
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            used = staff_second_factor_check(
                user=user,
                address=request.client_ip,
                code=form.cleaned_data["code"],
                request=request,
                rp=_rp(request),
                credential=form.cleaned_data["credential"],
            )
        except StaffSignInFailed as exc:
            form.add_error(None, exc.message)
        else:
            return _finish(request, user, used, pending.get("next", ""))
    ids = passkey_ids(user)
    options = passkeys.authentication_options(request, _rp(request), ids) if ids else ""
    return render(request, "staffauth/verify.html", {"form": form, "passkey_options": options})


def _enrolling(request: HttpRequest) -> tuple[User, dict | None] | tuple[None, None]:
    """(user, pending): signed-in staff adding a factor (pending None), or a
    sign-in that must enroll one first (SPEC K2)."""
    if request.user.is_authenticated:
        return request.user, None
    return _pending_user(request, enroll=True)


def _codes_page(request: ClientRequest, codes: list[str], pending: dict | None) -> HttpResponseBase:
    """After a factor is added: signed in now if this was the sign-in's
    enrollment; new recovery codes shown once, in this response only."""
    if pending is not None:
        _sign_in_now(request, get_user_model().objects.get(pk=pending["id"]), "enrolled")
    done = _next(request, pending.get("next", "")) if pending else reverse("staffauth:security")
    return render(request, "staffauth/added.html", {"codes": codes, "done": done})


@never_cache
def security(request: HttpRequest) -> HttpResponseBase:
    user, pending = _enrolling(request)
    if user is None:
        return redirect("login")
    return render(
        request,
        "staffauth/security.html",
        {
            "factors": factors_of(user),
            "codes_left": recovery_codes_left(user),
            "enrolling": pending is not None,
            "required": staff_second_factor_required(user),
        },
    )


@never_cache
@sensitive_post_parameters("code")
def add_totp(request: ClientRequest) -> HttpResponseBase:
    user, pending = _enrolling(request)
    if user is None:
        return redirect("login")
    secret = totp_enrolling_secret(request, TOTP_SECRET_KEY)
    form = TotpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            codes = factor_add_totp(
                owner=user,
                secret=secret,
                code=form.cleaned_data["code"],
                name=form.cleaned_data["name"],
                actor=Actor.staff(user),
            )
        except Refused as exc:
            refused_on_form(form, exc)
        else:
            request.session.pop(TOTP_SECRET_KEY, None)
            return _codes_page(request, codes, pending)
    uri = totp_uri(secret, account_name=user.get_username(), issuer=_rp(request).name)
    return render(
        request,
        "staffauth/add_totp.html",
        {"form": form, "secret": secret, "qr": totp_qr_data_uri(uri), "enrolling": pending is not None},
    )


@never_cache
def add_passkey(request: ClientRequest) -> HttpResponseBase:
    user, pending = _enrolling(request)
    if user is None:
        return redirect("login")
    form = PasskeyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            codes = factor_add_passkey(
                owner=user,
                request=request,
                rp=_rp(request),
                credential=form.cleaned_data["credential"],
                name=form.cleaned_data["name"],
                actor=Actor.staff(user),
            )
        except Refused as exc:
            refused_on_form(form, exc)
        else:
            return _codes_page(request, codes, pending)
    options = passkeys.registration_options(
        request,
        _rp(request),
        user_handle=passkeys.user_handle(REALM, user.pk),
        user_name=user.get_username(),
        existing=passkey_ids(user),
    )
    return render(
        request,
        "staffauth/add_passkey.html",
        {"form": form, "passkey_options": options, "enrolling": pending is not None},
    )


@require_POST
@never_cache
def remove(request: HttpRequest, factor_id: int) -> HttpResponseBase:
    if not request.user.is_authenticated:
        return redirect("login")
    user = request.user
    if staff_second_factor_required(user) and factors_of(user).count() <= 1:
        messages.error(
            request, "Two-factor sign-in is required: add another method before removing your last one."
        )
        return redirect("staffauth:security")
    try:
        factor_remove(owner=user, factor_id=factor_id, actor=Actor.staff(user))
    except Refused as exc:
        messages.error(request, exc.messages[0])
    else:
        messages.success(request, "Sign-in method removed.")
    return redirect("staffauth:security")


@require_POST
@never_cache
def new_codes(request: ClientRequest) -> HttpResponseBase:
    if not request.user.is_authenticated:
        return redirect("login")
    try:
        codes = recovery_codes_renew(owner=request.user, actor=Actor.staff(request.user))
    except Refused as exc:
        messages.error(request, exc.messages[0])
        return redirect("staffauth:security")
    return _codes_page(request, codes, None)


@require_POST
def sign_out(request: HttpRequest) -> HttpResponseBase:
    """SPEC K1, K7: audited; the browser is told to drop cookies and storage."""
    if request.user.is_authenticated:
        staff_signed_out(user_id=request.user.pk, username=request.user.get_username())
    logout(request)
    response = HttpResponseRedirect(reverse("login"))
    response["Clear-Site-Data"] = CLEAR_SITE_DATA
    return response
