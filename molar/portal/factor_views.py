"""Profile: the patient's passkeys, authenticator apps and recovery codes
(SPEC K2). Removing one, or new recovery codes, asks for the password again
(throttled, SPEC K5)."""

from typing import TYPE_CHECKING

from django.contrib import messages
from django.http.response import HttpResponseBase
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from molar.factors import passkeys
from molar.factors.forms import PasskeyForm, TotpForm
from molar.factors.services import (
    factor_add_passkey,
    factor_add_totp,
    factor_remove,
    passkey_ids,
    recovery_codes_renew,
)
from molar.factors.totp import totp_enrolling_secret, totp_qr_data_uri, totp_uri
from molar.refusal import Refused, refused_on_form

from . import services
from .access import PortalRequest, portal_view
from .pages import portal_render
from .views import REALM, _rp

if TYPE_CHECKING:
    from molar.audit.services import Actor

TOTP_SECRET_KEY = "_portal_totp_enrolling"  # noqa: S105 (a session key's name)


def _actor(request: PortalRequest) -> "Actor":
    from molar.audit.services import Actor

    return Actor.patient(request.portal_account)


def _added(request: PortalRequest, codes: list[str]) -> HttpResponseBase:
    messages.success(request, _("Two-step sign-in is on: it is asked at every sign-in."))
    return portal_render(request, "portal/factor_added.html", {"codes": codes, "tab": "profile"})


@sensitive_post_parameters("code")
@portal_view()
def add_totp(request: PortalRequest) -> HttpResponseBase:
    account = request.portal_account
    secret = totp_enrolling_secret(request, TOTP_SECRET_KEY)
    form = TotpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            codes = factor_add_totp(
                owner=account,
                secret=secret,
                code=form.cleaned_data["code"],
                name=form.cleaned_data["name"],
                actor=_actor(request),
            )
        except Refused as exc:
            refused_on_form(form, exc)
        else:
            request.session.pop(TOTP_SECRET_KEY, None)
            return _added(request, codes)
    uri = totp_uri(secret, account_name=account.username, issuer=_rp(request).name)
    return portal_render(
        request,
        "portal/factor_totp.html",
        {"form": form, "secret": secret, "qr": totp_qr_data_uri(uri), "tab": "profile"},
    )


@portal_view()
def add_passkey(request: PortalRequest) -> HttpResponseBase:
    account = request.portal_account
    form = PasskeyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            codes = factor_add_passkey(
                owner=account,
                request=request,
                rp=_rp(request),
                credential=form.cleaned_data["credential"],
                name=form.cleaned_data["name"],
                actor=_actor(request),
            )
        except Refused as exc:
            refused_on_form(form, exc)
        else:
            return _added(request, codes)
    options = passkeys.registration_options(
        request,
        _rp(request),
        user_handle=passkeys.user_handle(REALM, account.pk),
        user_name=account.username,
        existing=passkey_ids(account),
    )
    return portal_render(
        request, "portal/factor_passkey.html", {"form": form, "passkey_options": options, "tab": "profile"}
    )


def _password_ok(request: PortalRequest) -> bool:
    try:
        ok = services.portal_current_password_ok(
            account=request.portal_account,
            password=request.POST.get("password", ""),
            address=request.client_ip,
        )
    except Refused as exc:
        messages.error(request, exc.messages[0])
        return False
    if not ok:
        messages.error(request, services.CURRENT_PASSWORD_WRONG)
    return ok


@require_POST
@sensitive_post_parameters("password")
@portal_view()
def remove(request: PortalRequest, factor_id: int) -> HttpResponseBase:
    if _password_ok(request):
        try:
            factor_remove(owner=request.portal_account, factor_id=factor_id, actor=_actor(request))
        except Refused as exc:
            messages.error(request, exc.messages[0])
        else:
            messages.success(request, _("Sign-in method removed."))
    return redirect("portal:profile")


@require_POST
@sensitive_post_parameters("password")
@portal_view()
def new_codes(request: PortalRequest) -> HttpResponseBase:
    if not _password_ok(request):
        return redirect("portal:profile")
    try:
        codes = recovery_codes_renew(owner=request.portal_account, actor=_actor(request))
    except Refused as exc:
        messages.error(request, exc.messages[0])
        return redirect("portal:profile")
    return portal_render(request, "portal/factor_added.html", {"codes": codes, "tab": "profile"})
