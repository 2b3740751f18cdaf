"""SPEC I6: an invite that finally fails does not count as access provided;
its credentials, which nobody received, are voided; access counts as
provided when the mail server accepts the email. Against a real SMTP server."""

import datetime

import pytest
from django.utils import timezone

from molar.access.models import AccessEvent, PortalAccount
from molar.access.services import access_provide
from molar.audit.models import AuditEvent
from molar.audit.services import Actor
from molar.ehr.measures import electronic_copy_access
from molar.invites import delivery
from molar.invites.models import Invite
from molar.invites.services import invite_rule_create
from molar.patients.models import Appointment

DAY = datetime.timedelta(days=1)


@pytest.fixture
def invited(practice, complete_patient, smtp):
    """A patient with a visit yesterday and one in two days: the 7-days-before
    rule invites them now."""
    invite_rule_create(actor=Actor.system("test"), timing="before", enabled=True)
    now = timezone.now()
    Appointment.objects.create(patient=complete_patient, start=now - DAY, status="complete")
    Appointment.objects.create(patient=complete_patient, start=now + 2 * DAY)
    assert delivery.invites_scan() == 1
    return complete_patient


def measure_counts(patient) -> bool:
    today = timezone.localdate()
    result = electronic_copy_access(start=today - 2 * DAY, end=today)
    return next(row for row in result.patients if row.patient_id == patient.pk).met


def test_invite_refused_for_good_leaves_no_access_and_no_measure_event(invited, smtp):
    smtp.refuse_rcpt[invited.email.lower()] = "550 5.1.1 No such mailbox here"
    delivery.invites_send_due(worker="test")
    invite = Invite.objects.get()
    assert invite.status == "failed"
    assert "550" in invite.reason and "No such mailbox here" in invite.reason
    account = PortalAccount.objects.get(patient=invited)
    assert not account.has_access  # nobody has that password
    assert not AccessEvent.objects.filter(patient=invited).exists()
    assert not AuditEvent.objects.filter(action="access_provided", patient_id=invited.pk).exists()
    assert AuditEvent.objects.filter(action="credentials_voided", patient_id=invited.pk).exists()
    assert not measure_counts(invited)
    assert smtp.mails == []


def test_invite_refused_for_good_keeps_the_one_time_password_the_patient_already_had(invited, smtp):
    earlier = access_provide(patient=invited, actor=Actor.system("desk"))  # printed and handed over
    before = PortalAccount.objects.get(patient=invited).password
    smtp.refuse_rcpt[invited.email.lower()] = "550 5.1.1 No such mailbox here"
    delivery.invites_send_due(worker="test")
    account = PortalAccount.objects.get(patient=invited)
    assert Invite.objects.get().status == "failed"
    assert account.password == before and account.check_password(earlier.password)
    assert account.require_password_change
    assert AccessEvent.objects.filter(patient=invited).count() == 1  # the desk's, not the invite's


def test_accepted_invite_provides_access_at_the_moment_the_server_took_it(invited, smtp, time_machine):
    accepted_at = timezone.now().replace(microsecond=0) + datetime.timedelta(minutes=3)
    time_machine.move_to(accepted_at, tick=False)
    delivery.invites_send_due(worker="test")
    assert Invite.objects.get().status == "sent" and len(smtp.mails) == 1
    event = AccessEvent.objects.get(patient=invited)
    assert (event.source, event.created_at) == ("invite", accepted_at)
    assert PortalAccount.objects.get(patient=invited).has_access
    assert measure_counts(invited)
    issued = AuditEvent.objects.get(action="credentials_issued", patient_id=invited.pk)
    assert issued.detail["awaiting_delivery"] is True


def test_a_retried_invite_counts_once_and_voids_what_it_issued_if_it_finally_fails(invited, smtp):
    smtp.refuse_rcpt[invited.email.lower()] = "450 4.2.1 Mailbox busy, try later"
    delivery.invites_send_due(worker="test")
    invite = Invite.objects.get()
    assert invite.status == "queued" and invite.grants_access
    for _attempt in range(2, 6):
        delivery.invites_send_due(worker="test", now=invite.next_attempt_at + datetime.timedelta(seconds=1))
        invite.refresh_from_db()
    assert invite.status == "failed" and invite.attempts == 5
    assert not PortalAccount.objects.get(patient=invited).has_access
    assert not AccessEvent.objects.exists()


def test_an_invite_left_sending_by_a_dead_worker_voids_its_credentials(invited, smtp, monkeypatch):
    def die(*args, **kwargs):
        raise SystemExit("worker killed mid-send")

    monkeypatch.setattr(delivery, "smtp_send", die)
    with pytest.raises(SystemExit):
        delivery.invites_send_due(worker="test")
    invite = Invite.objects.get()
    assert invite.status == "sending" and PortalAccount.objects.get(patient=invited).has_access
    assert delivery.invites_recover(now=invite.claimed_until + datetime.timedelta(seconds=1)) == 1
    invite.refresh_from_db()
    assert invite.status == "failed" and invite.reason.startswith("interrupted while sending")
    assert not PortalAccount.objects.get(patient=invited).has_access
    assert not AccessEvent.objects.exists()


def test_voiding_leaves_alone_a_password_staff_set_since(invited, smtp):
    smtp.refuse_rcpt[invited.email.lower()] = "450 4.2.1 Mailbox busy, try later"
    delivery.invites_send_due(worker="test")
    from molar.access.services import access_generate_password

    password = access_generate_password(patient=invited, actor=Actor.system("desk"))
    smtp.refuse_rcpt[invited.email.lower()] = "550 5.1.1 Gone"
    invite = Invite.objects.get()
    delivery.invites_send_due(worker="test", now=invite.next_attempt_at + datetime.timedelta(seconds=1))
    account = PortalAccount.objects.get(patient=invited)
    assert Invite.objects.get().status == "failed"
    assert account.check_password(password)  # read to the patient over the phone: it works
