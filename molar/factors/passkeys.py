"""Passkeys (WebAuthn Level 3) through py_webauthn. The relying party is the
host the page was served from (the Patient Facing URL's host for patients);
the challenge lives in the server-side session until the browser answers."""

import json
from dataclasses import dataclass
from typing import cast

from django.http import HttpRequest
from django.http.request import split_domain_port
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext_lazy as _
from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import base64url_to_bytes, bytes_to_base64url
from webauthn.helpers.exceptions import InvalidAuthenticationResponse, InvalidRegistrationResponse
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from molar.refusal import Refused

CHALLENGE_KEY = "_passkey_challenge"
TIMEOUT_MS = 120_000


@dataclass(frozen=True)
class RelyingParty:
    id: str  # the host name
    origin: str  # scheme://host[:port]
    name: str

    @classmethod
    def of(cls, request: HttpRequest, name: str) -> "RelyingParty":
        host = request.get_host()  # validated against ALLOWED_HOSTS
        return cls(split_domain_port(host)[0], f"{request.scheme}://{host}", name or "Molar")


def user_handle(realm: str, owner_id: int) -> bytes:
    """A stable WebAuthn user handle that names nobody (32 bytes; at most 64 allowed)."""
    return salted_hmac("molar.factors.passkey-user", f"{realm}:{owner_id}", algorithm="sha256").digest()


def registration_options(
    request: HttpRequest, rp: RelyingParty, *, user_handle: bytes, user_name: str, existing: list[str]
) -> dict:
    options = generate_registration_options(
        rp_id=rp.id,
        rp_name=rp.name,
        user_id=user_handle,
        user_name=user_name,
        timeout=TIMEOUT_MS,
        exclude_credentials=[PublicKeyCredentialDescriptor(id=base64url_to_bytes(c)) for c in existing],
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.PREFERRED,
            user_verification=UserVerificationRequirement.PREFERRED,
        ),
    )
    request.session[CHALLENGE_KEY] = bytes_to_base64url(options.challenge)
    return cast(dict, json.loads(options_to_json(options)))


def authentication_options(request: HttpRequest, rp: RelyingParty, credentials: list[str]) -> dict:
    options = generate_authentication_options(
        rp_id=rp.id,
        timeout=TIMEOUT_MS,
        allow_credentials=[PublicKeyCredentialDescriptor(id=base64url_to_bytes(c)) for c in credentials],
        user_verification=UserVerificationRequirement.PREFERRED,
    )
    request.session[CHALLENGE_KEY] = bytes_to_base64url(options.challenge)
    return cast(dict, json.loads(options_to_json(options)))


def _challenge(request: HttpRequest) -> bytes:
    challenge = request.session.pop(CHALLENGE_KEY, "")  # one answer per challenge
    if not challenge:
        raise Refused(_("No passkey request is open. Try again."))
    return base64url_to_bytes(challenge)


def verify_registration(request: HttpRequest, rp: RelyingParty, credential: str) -> tuple[str, bytes, int]:
    """(credential id, public key, sign count) of a new passkey."""
    try:
        verified = verify_registration_response(
            credential=credential,
            expected_challenge=_challenge(request),
            expected_rp_id=rp.id,
            expected_origin=rp.origin,
        )
    except (InvalidRegistrationResponse, ValueError, KeyError, TypeError) as exc:
        raise Refused(_("The passkey could not be registered. Try again.")) from exc
    return bytes_to_base64url(verified.credential_id), verified.credential_public_key, verified.sign_count


def credential_id_of(credential: str) -> str:
    try:
        value = json.loads(credential)
        return str(value["id"])[:1400] if isinstance(value, dict) else ""
    except (ValueError, KeyError, TypeError):
        return ""


def verify_authentication(
    request: HttpRequest, rp: RelyingParty, credential: str, *, public_key: bytes, sign_count: int
) -> int:
    """The authenticator's new signature counter, or Refused."""
    try:
        verified = verify_authentication_response(
            credential=credential,
            expected_challenge=_challenge(request),
            expected_rp_id=rp.id,
            expected_origin=rp.origin,
            credential_public_key=public_key,
            credential_current_sign_count=sign_count,
        )
    except (InvalidAuthenticationResponse, ValueError, KeyError, TypeError) as exc:
        raise Refused(_("The passkey was not accepted.")) from exc
    return verified.new_sign_count
