"""SPEC I1-I4: which invites come due, what they say, and exactly-once sending."""

import datetime
import re

import pytest
import time_machine

from molar.access.models import AccessEvent, PortalAccount
from molar.access.services import access_provide, access_remove
from molar.audit.services import Actor
from molar.invites.delivery import invites_recover, invites_scan, invites_send_due
from molar.invites.models import Invite

from .conftest import NOW

DAY, HOUR = datetime.timedelta(days=1), datetime.timedelta(hours=1)


def run(now=NOW):
    with time_machine.travel(now, tick=False):
        created = invites_scan()
        return created, invites_send_due(worker="test")


def test_before_rule_sends_within_7_days_before(before_rule, appointment_in, mailoutbox):
    appointment_in(7 * DAY)  # exactly 7 days ahead: due
    appointment_in(7 * DAY + HOUR)  # not yet
    created, summary = run()
    assert created == 1 and summary.sent == 1 and len(mailoutbox) == 1


def test_after_rule_sends_an_hour_after(after_rule, appointment_in, mailoutbox):
    appointment_in(-HOUR, status="complete")
    appointment_in(-HOUR + datetime.timedelta(minutes=1), status="complete")  # 59 minutes ago
    appointment_in(-2 * DAY, status="complete")  # too old to send late
    created, summary = run()
    assert created == 1 and summary.sent == 1


def test_each_rule_appointment_invite_is_recorded_once(before_rule, appointment_in, mailoutbox):
    appointment_in(2 * DAY)
    run()
    created, summary = run(NOW + HOUR)
    assert created == 0 and summary.sent == 0
    assert Invite.objects.count() == 1 and len(mailoutbox) == 1


def test_invite_grants_access_with_a_one_time_password(
    before_rule, appointment_in, mailoutbox, complete_patient
):
    appointment_in(2 * DAY)
    run()
    account = PortalAccount.objects.get(patient=complete_patient)
    assert account.has_access and account.require_password_change
    assert AccessEvent.objects.filter(patient=complete_patient, source="invite").count() == 1
    body = mailoutbox[0].body
    assert account.username in body and "/activate/" in body
    assert "[" not in body  # every tag replaced


def test_password_tag_carries_the_one_time_password(
    before_rule, appointment_in, mailoutbox, complete_patient
):
    before_rule.body = "User [UserName] Password [Password] at [ApptDate] [ApptTime] [Bogus]"
    before_rule.save()
    appointment_in(2 * DAY)
    run()
    body = mailoutbox[0].body
    password = re.search(r"Password (\S+)", body).group(1)
    assert PortalAccount.objects.get().check_password(password)
    assert "[Bogus]" in body  # unknown tags stay visible
    assert "March 4, 2026" in body


def test_patient_with_own_password_gets_masked_credentials(
    before_rule, appointment_in, mailoutbox, complete_patient
):
    access_provide(patient=complete_patient, actor=Actor.system("t"))
    PortalAccount.objects.update(require_password_change=False, username="Mariana4242")
    before_rule.mode = "every_appointment"
    before_rule.body = "User [UserName] Password [Password] Link [ActivationLink]"
    before_rule.save()
    appointment_in(2 * DAY)
    run()
    assert mailoutbox[0].body == ("User M*******2 Password ******* Link https://portal.harbordental.example/")


@pytest.mark.parametrize(
    ("setup", "reason"),
    [
        (lambda p, s: s.__class__.objects.update(portal_enabled=False), "Patient Portal is not enabled"),
        (lambda p, s: s.__class__.objects.update(practice_email=""), "no practice email"),
        (lambda p, s: p.__class__.objects.filter(pk=p.pk).update(email=""), "no email"),
        (lambda p, s: p.__class__.objects.filter(pk=p.pk).update(address1=""), "missing address line 1"),
        (lambda p, s: p.__class__.objects.filter(pk=p.pk).update(status="archived"), "patient is archived"),
    ],
)
def test_skipped_invites_say_why(
    before_rule, appointment_in, complete_patient, practice, mailoutbox, setup, reason
):
    appointment_in(2 * DAY)
    setup(complete_patient, practice)
    run()
    invite = Invite.objects.get()
    assert invite.status == "skipped" and invite.reason == reason
    assert mailoutbox == []


def test_until_visit_mode_stops_after_a_portal_visit(
    before_rule, appointment_in, complete_patient, mailoutbox
):
    access_provide(patient=complete_patient, actor=Actor.system("t"))
    PortalAccount.objects.update(last_login=NOW - DAY)
    appointment_in(2 * DAY)
    run()
    assert Invite.objects.get().reason == "already visited the portal"


def test_no_visit_in_days_mode(before_rule, appointment_in, complete_patient, mailoutbox):
    before_rule.mode, before_rule.revisit_days = "no_visit_in_days", 30
    before_rule.save()
    access_provide(patient=complete_patient, actor=Actor.system("t"))
    PortalAccount.objects.update(last_login=NOW - 29 * DAY)
    appointment_in(2 * DAY)
    run()
    assert Invite.objects.get().reason == "visited the portal in the last 30 days"
    PortalAccount.objects.update(last_login=NOW - 31 * DAY)
    appointment_in(3 * DAY)
    run()
    assert Invite.objects.filter(status="sent").count() == 1


def test_access_removed_by_staff_is_not_regranted(before_rule, appointment_in, complete_patient, mailoutbox):
    access_provide(patient=complete_patient, actor=Actor.system("t"))
    access_remove(patient=complete_patient, actor=Actor.system("t"))
    appointment_in(2 * DAY)
    run()
    assert Invite.objects.get().reason == "access removed by staff"
    assert not PortalAccount.objects.get().has_access


def test_family_sharing_an_address_gets_one_email(before_rule, appointment_in, make_patient, mailoutbox):
    mother = make_patient(first_name="Maria", email="family@example.com")
    son = make_patient(first_name="Leo", email="FAMILY@example.com")
    appointment_in(2 * DAY, patient=mother)
    appointment_in(2 * DAY, patient=son)
    _, summary = run()
    assert summary.sent == 2 and summary.emails == 1 and len(mailoutbox) == 1
    body = mailoutbox[0].body
    for patient in (mother, son):
        assert PortalAccount.objects.get(patient=patient).username in body
    assert body.count("/activate/") == 2


def test_smtp_failure_is_retried_with_growing_delays_then_failed(
    before_rule, appointment_in, mailoutbox, monkeypatch
):
    from django.core.mail import EmailMessage

    def broken(self, fail_silently=False):
        raise ConnectionRefusedError("mail server down")

    monkeypatch.setattr(EmailMessage, "send", broken)
    appointment_in(2 * DAY)
    moment, waits = NOW, []
    for _ in range(5):
        run(moment)
        invite = Invite.objects.get()
        if invite.status != "queued":
            break
        waits.append(invite.next_attempt_at - moment)
        moment = invite.next_attempt_at
    assert waits == [datetime.timedelta(minutes=m) for m in (1, 5, 15, 60)]
    assert invite.status == "failed" and "mail server down" in invite.reason
    assert invite.attempts == 5


def test_worker_that_died_mid_send_leaves_failed_not_resent(before_rule, appointment_in):
    appointment_in(2 * DAY)
    with time_machine.travel(NOW, tick=False):
        invites_scan()
    Invite.objects.update(status="sending", claimed_until=NOW + datetime.timedelta(minutes=10))
    with time_machine.travel(NOW + datetime.timedelta(minutes=10, seconds=1), tick=False):
        assert invites_recover() == 1
    assert Invite.objects.get().reason == "interrupted while sending; delivery unknown"


def test_permanent_refusal_fails_at_once(before_rule, appointment_in, monkeypatch):
    import smtplib

    from django.core.mail import EmailMessage

    def refused(self, fail_silently=False):
        raise smtplib.SMTPRecipientsRefused({"maria@example.com": (550, b"no such user")})

    monkeypatch.setattr(EmailMessage, "send", refused)
    appointment_in(2 * DAY)
    run()
    invite = Invite.objects.get()
    assert invite.status == "failed" and invite.reason.startswith("refused by the mail server")


def test_an_unexpected_error_fails_one_invite_and_the_queue_goes_on(
    before_rule, appointment_in, make_patient, mailoutbox, monkeypatch
):
    from molar.invites import delivery

    broken = make_patient(first_name="Broken", email="broken@example.com")
    appointment_in(2 * DAY, patient=broken)
    appointment_in(2 * DAY)
    real = delivery.access_issue_for_delivery

    def flaky(*, patient, **kwargs):
        if patient.pk == broken.pk:
            raise RuntimeError("disk full")
        return real(patient=patient, **kwargs)

    monkeypatch.setattr(delivery, "access_issue_for_delivery", flaky)
    _, summary = run()
    assert summary.sent == 1 and summary.failed == 1 and len(mailoutbox) == 1
    assert Invite.objects.get(patient=broken).reason == "could not issue credentials: RuntimeError"
