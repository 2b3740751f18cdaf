"""SPEC W1-W7, A1-A2, U1, C4 through the service functions."""

import pytest
from django.contrib.auth.hashers import identify_hasher
from django.core.exceptions import ValidationError

from molar.access import services
from molar.access.models import AccessEvent, PortalAccount
from molar.audit.models import AuditEvent
from molar.audit.services import Actor
from molar.refusal import Kind, Refused

ACTOR = Actor.system("test")


def provide(patient):
    return services.access_provide(patient=patient, actor=ACTOR)


def refused(call, **kwargs) -> Refused:
    with pytest.raises(Refused) as info:
        call(actor=ACTOR, **kwargs)
    return info.value


def test_provide_creates_account_with_one_time_password(practice, complete_patient):
    creds = provide(complete_patient)
    account = PortalAccount.objects.get(patient=complete_patient)
    assert creds.username == account.username
    assert creds.patient_facing_url == practice.patient_facing_url
    assert account.has_access and account.require_password_change
    assert account.check_password(creds.password)
    assert creds.password not in account.password


def test_provide_logs_online_access_provided_and_audit(practice, complete_patient):
    provide(complete_patient)
    assert AccessEvent.objects.filter(patient=complete_patient, kind="OnlineAccessProvided").count() == 1
    assert AuditEvent.objects.filter(
        action="access_provided", patient_id=complete_patient.pk, outcome="success"
    ).exists()


def test_provide_refused_while_portal_disabled(practice, complete_patient):
    practice.portal_enabled = False
    practice.save()
    exc = refused(services.access_provide, patient=complete_patient)
    assert exc.messages == ["Patient Portal is not enabled. Turn it on in eServices Setup."]
    assert not PortalAccount.objects.exists()


def test_provide_refused_without_patient_facing_url(practice, complete_patient):
    practice.patient_facing_url = ""
    practice.save()
    exc = refused(services.access_provide, patient=complete_patient)
    assert exc.messages == [
        "Patient Facing URL is required to be set before granting online access. "
        "Click Setup to set the Patient Facing URL."
    ]


def test_provide_lists_every_missing_field_and_writes_nothing(practice, make_patient):
    patient = make_patient(address1="", email="", home_phone="", wireless_phone="")
    exc = refused(services.access_provide, patient=patient)
    assert exc.messages == [
        "Missing patient address line 1.",
        "Missing patient phone. Must have home, wireless, or work phone.",
        "Missing patient email.",
    ]
    assert exc.kind == Kind.INVALID
    assert not PortalAccount.objects.exists() and not AccessEvent.objects.exists()
    failure = AuditEvent.objects.get(action="access_provided")
    assert failure.outcome == "failure" and failure.detail["reasons"] == exc.messages


def test_provide_twice_is_refused_with_generate_new_hint(practice, complete_patient):
    provide(complete_patient)
    exc = refused(services.access_provide, patient=complete_patient)
    assert exc.messages == ["Patient already has online access. Use Generate New for a new password."]
    assert exc.kind == Kind.CONFLICT


def test_remove_keeps_row_and_username_but_not_the_password(practice, complete_patient):
    creds = provide(complete_patient)
    services.access_remove(patient=complete_patient, actor=ACTOR)
    account = PortalAccount.objects.get(patient=complete_patient)
    assert account.username == creds.username
    assert not account.has_access
    assert not account.check_password(creds.password)
    assert AuditEvent.objects.filter(action="access_removed", outcome="success").exists()


def test_provide_after_remove_reuses_the_username(practice, complete_patient):
    first = provide(complete_patient)
    services.access_remove(patient=complete_patient, actor=ACTOR)
    second = provide(complete_patient)
    assert second.username == first.username
    assert PortalAccount.objects.count() == 1
    assert AccessEvent.objects.filter(patient=complete_patient).count() == 2


def test_generate_new_needs_access_first(practice, complete_patient):
    exc = refused(services.access_generate_password, patient=complete_patient)
    assert exc.messages == ["Please use the Provide Online Access button first."]


def test_generate_new_replaces_password_at_once(practice, complete_patient):
    old = provide(complete_patient).password
    account = PortalAccount.objects.get()
    account.require_password_change = False
    account.save()
    new = services.access_generate_password(patient=complete_patient, actor=ACTOR)
    account.refresh_from_db()
    assert new != old
    assert account.check_password(new) and not account.check_password(old)
    assert account.require_password_change
    assert AuditEvent.objects.filter(action="password_generated").exists()


def test_typed_password_is_checked_against_policy(practice, complete_patient):
    provide(complete_patient)
    exc = refused(services.access_set_password, patient=complete_patient, password="short")
    assert "Password must be at least 8 characters." in exc.messages
    assert exc.kind == Kind.INVALID


def test_typed_password_becomes_one_time(practice, complete_patient):
    provide(complete_patient)
    account = PortalAccount.objects.get()
    account.require_password_change = False
    account.save()
    services.access_set_password(patient=complete_patient, actor=ACTOR, password="Tide7Pool")
    account.refresh_from_db()
    assert account.check_password("Tide7Pool") and account.require_password_change
    assert AuditEvent.objects.filter(action="password_typed").exists()


def test_rename_blank_is_refused(practice, complete_patient):
    provide(complete_patient)
    exc = refused(services.access_rename, patient=complete_patient, username="   ")
    assert exc.messages == ["Online Username cannot be blank."]


def test_rename_to_a_taken_name_in_any_case_is_refused(practice, make_patient):
    ana, ben = make_patient(first_name="Ana"), make_patient(first_name="Ben")
    provide(ana)
    provide(ben)
    services.access_rename(patient=ana, actor=ACTOR, username="Straße")
    for taken in ("STRASSE", "straße", "Strasse"):
        exc = refused(services.access_rename, patient=ben, username=taken)
        assert exc.messages == ["The Online Username already exists."]


def test_case_only_rename_of_own_username_is_allowed(practice, complete_patient):
    creds = provide(complete_patient)
    account = services.access_rename(patient=complete_patient, actor=ACTOR, username=creds.username.upper())
    assert account.username == creds.username.upper()
    assert AuditEvent.objects.get(action="username_changed").detail == {
        "from": creds.username,
        "to": creds.username.upper(),
    }


def test_database_refuses_usernames_differing_only_in_case(practice, make_patient):
    from django.db import IntegrityError, transaction

    provide(make_patient(first_name="Ana"))
    other = make_patient(first_name="Ana")
    taken = PortalAccount.objects.get().username
    with pytest.raises(IntegrityError), transaction.atomic():
        PortalAccount.objects.create(patient=other, username=taken.swapcase(), password="!")


def test_username_generation_gives_up_after_1000_collisions(practice, complete_patient, monkeypatch):
    provide(complete_patient)
    taken = PortalAccount.objects.get().username
    monkeypatch.setattr(services, "username_candidate", lambda first_name: taken)
    other = type(complete_patient).objects.create(
        **{
            f.name: getattr(complete_patient, f.name)
            for f in complete_patient._meta.concrete_fields
            if f.name not in ("id", "external_id")
        }
    )
    exc = refused(services.access_provide, patient=other)
    assert exc.messages == ["Unable to create username for patient."]


def test_printout_refuses_a_password_that_does_not_match(practice, complete_patient):
    provide(complete_patient)
    exc = refused(services.access_printout, patient=complete_patient, password="Wrong7Pass")
    assert exc.messages[0].startswith("The password does not match")
    assert not AuditEvent.objects.filter(action="printed", outcome="success").exists()


def test_printout_needs_a_password(practice, complete_patient):
    provide(complete_patient)
    exc = refused(services.access_printout, patient=complete_patient, password="")
    assert exc.messages == ["Password required. Please generate a new password."]


def test_printout_has_every_part_of_the_letter(practice, complete_patient):
    import io

    from pypdf import PdfReader

    creds = provide(complete_patient)
    pdf = services.access_printout(patient=complete_patient, actor=ACTOR, password=creds.password)
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == 1
    text = reader.pages[0].extract_text()
    for part in (
        "Harbor Family Dental",
        "Online Access",
        "Website",
        practice.patient_facing_url,
        "Username",
        creds.username,
        "Password",
        creds.password,
        "new password",
    ):
        assert part in text
    assert AuditEvent.objects.filter(action="printed", outcome="success").exists()


def test_printout_needs_patient_facing_url(practice, complete_patient):
    creds = provide(complete_patient)
    practice.patient_facing_url = ""
    practice.save()
    exc = refused(services.access_printout, patient=complete_patient, password=creds.password)
    assert "Patient Facing URL is required" in exc.messages[0]


@pytest.mark.real_hasher
def test_passwords_are_stored_as_argon2id_at_or_above_owasp_minimum(practice, complete_patient):
    from argon2 import extract_parameters

    provide(complete_patient)
    encoded = PortalAccount.objects.get().password
    assert identify_hasher(encoded).algorithm == "argon2"
    params = extract_parameters(encoded.removeprefix("argon2"))
    assert params.type.name == "ID"
    assert params.memory_cost >= 19 * 1024 and params.time_cost >= 2


def test_no_plaintext_password_in_database_or_audit(practice, complete_patient, django_db_blocker):
    from django.core import serializers

    creds = provide(complete_patient)
    dump = serializers.serialize(
        "json", [*PortalAccount.objects.all(), *AuditEvent.objects.all(), *AccessEvent.objects.all()]
    )
    assert creds.password not in dump


def test_practice_rejects_plain_http_outside_localhost(practice):
    for url in ("http://portal.example.com/", "ftp://x.example/", "http://localhost.evil.com/"):
        practice.patient_facing_url = url
        with pytest.raises(ValidationError):
            practice.full_clean()
    for url in ("HTTPS://portal.example.com/", "http://localhost:8000/portal/", "http://127.0.0.1/portal/"):
        practice.patient_facing_url = url
        practice.full_clean()
