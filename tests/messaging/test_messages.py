"""SPEC L7 Messages and L8: patients and representatives write to the
practice, staff answer from the inbox, the email notice carries no health
information."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from molar.audit.models import AuditEvent
from molar.messaging.models import Message, Thread
from molar.patients.models import GuardianLink

SUBJECT = "Swelling after the extraction"
BODY = "My left cheek is still swollen three days after the extraction."
ANSWER = "Rinse with warm salt water; if it grows, come in tomorrow at 9."


def start(client, subject=SUBJECT, body=BODY):
    return client.submit("/portal/messages/", {"subject": subject, "body": body})


@pytest.fixture
def child(make_patient, complete_patient):
    kid = make_patient(first_name="Sofía", email="")
    GuardianLink.objects.create(
        patient=kid, guardian=complete_patient, relationship="Mother", is_guardian=True
    )
    return kid


def test_patient_writes_staff_answer_patient_reads(patient_client, desk_client, complete_patient):
    response = start(patient_client)
    thread = Thread.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/portal/messages/{thread.pk}/"
    assert thread.patient == complete_patient and thread.status == "open"

    inbox = desk_client.get("/staff/messages/").content.decode()
    assert SUBJECT in inbox and complete_patient.full_name in inbox and "1 unread" in inbox
    page = desk_client.get(f"/staff/messages/{thread.pk}/").content.decode()
    assert BODY in page
    assert "1 unread" not in desk_client.get("/staff/messages/").content.decode()

    assert desk_client.submit(f"/staff/messages/{thread.pk}/", {"body": ANSWER}).status_code == 302
    listing = patient_client.get("/portal/messages/").content.decode()
    assert SUBJECT in listing and "1 new" in listing
    page = patient_client.get(f"/portal/messages/{thread.pk}/").content.decode()
    assert ANSWER in page and "Harbor Family Dental" in page
    assert "1 new" not in patient_client.get("/portal/messages/").content.decode()
    assert AuditEvent.objects.filter(action="message_sent", patient_id=complete_patient.pk).count() == 2


def test_patient_replies_in_the_thread(patient_client, complete_patient):
    start(patient_client)
    thread = Thread.objects.get()
    patient_client.submit(f"/portal/messages/{thread.pk}/", {"body": "Also a slight fever."})
    assert list(thread.messages.values_list("author_kind", flat=True)) == ["patient", "patient"]
    assert "Also a slight fever." in patient_client.get(f"/portal/messages/{thread.pk}/").content.decode()


def test_notice_email_has_no_message_text_and_no_subject(
    patient_client, desk_client, complete_patient, mailoutbox, send_outbox
):
    start(patient_client)
    thread = Thread.objects.get()
    desk_client.submit(f"/staff/messages/{thread.pk}/", {"body": ANSWER})
    assert mailoutbox == []  # queued with the answer (SPEC Q2); the worker sends it
    send_outbox()
    [mail] = mailoutbox
    assert mail.to == [complete_patient.email]
    assert mail.body == (
        "You have a new message from Harbor Family Dental. "
        "Sign in to read it: https://portal.harbordental.example/\n"
    )
    for secret in (SUBJECT, ANSWER, BODY, "extraction", complete_patient.last_name):
        assert secret not in mail.body and secret not in mail.subject


def test_audit_rows_hold_ids_never_text(patient_client, desk_client):
    start(patient_client)
    desk_client.submit(f"/staff/messages/{Thread.objects.get().pk}/", {"body": ANSWER})
    for event in AuditEvent.objects.filter(action__startswith="message_"):
        assert "extraction" not in str(event.detail) and "salt" not in str(event.detail)


def test_representative_writes_for_a_child_after_switching(
    patient_client, desk_client, complete_patient, child, mailoutbox, send_outbox
):
    patient_client.submit("/portal/switch/", {"patient": child.pk})
    start(patient_client, subject="Sofía's loose tooth", body="Her front tooth is loose.")
    thread = Thread.objects.get()
    message = thread.messages.get()
    assert thread.patient == child
    assert message.author_patient == complete_patient and message.author_kind == "representative"
    assert message.author_label == f"{complete_patient.full_name} (for Sofía)"
    event = AuditEvent.objects.filter(action="message_sent").get()
    assert event.patient_id == child.pk and event.actor_id == complete_patient.pk
    assert event.actor_type == "representative" and event.detail["representative_id"] == complete_patient.pk
    assert (
        f"{complete_patient.full_name} (for Sofía)"
        in desk_client.get(f"/staff/messages/{thread.pk}/").content.decode()
    )

    # The child has no email: the notice goes to the representative who wrote.
    desk_client.submit(f"/staff/messages/{thread.pk}/", {"body": "Bring her in on Monday."})
    send_outbox()
    assert [m.to for m in mailoutbox] == [[complete_patient.email]]
    assert "Bring her in on Monday." in patient_client.get(f"/portal/messages/{thread.pk}/").content.decode()


def test_child_threads_are_not_on_the_parents_own_page(patient_client, child, complete_patient):
    patient_client.submit("/portal/switch/", {"patient": child.pk})
    start(patient_client, subject="About Sofía")
    patient_client.submit("/portal/switch/", {"patient": complete_patient.pk})
    assert "About Sofía" not in patient_client.get("/portal/messages/").content.decode()


def test_another_patients_thread_is_404_and_audited(patient_client, make_patient):
    other = make_patient(first_name="Other")
    thread = Thread.objects.create(patient=other, subject="Private")
    Message.objects.create(thread=thread, body="Secret text", author_kind="patient", author_label="Other")
    response = patient_client.get(f"/portal/messages/{thread.pk}/")
    assert response.status_code == 404 and b"Secret text" not in response.content
    assert patient_client.submit(f"/portal/messages/{thread.pk}/", {"body": "hi"}).status_code == 404
    denied = AuditEvent.objects.filter(action="access_denied", outcome="denied")
    assert denied.count() == 2
    assert thread.messages.count() == 1
    assert "Private" not in patient_client.get("/portal/messages/").content.decode()


def test_stranger_is_sent_to_sign_in(browser_client, practice):
    response = browser_client.get("/portal/messages/")
    assert response.status_code == 302 and response["Location"].startswith("/portal/?next=")


def test_messages_tab_turned_off_is_404_and_hidden(patient_client, practice):
    start(patient_client)
    thread = Thread.objects.get()
    practice.show_messages = False
    practice.save()
    assert patient_client.get("/portal/messages/").status_code == 404
    assert patient_client.get(f"/portal/messages/{thread.pk}/").status_code == 404
    assert start(patient_client).status_code == 404
    assert Thread.objects.count() == 1
    assert ">Messages<" not in patient_client.get("/portal/profile/").content.decode()


def test_tab_is_listed_after_appointments(patient_client):
    page = patient_client.get("/portal/profile/").content.decode()
    assert page.index(">Appointments<") < page.index(">Messages<")


def test_clerk_gets_403_on_the_inbox(clerk_client, patient_client):
    start(patient_client)
    thread = Thread.objects.get()
    assert clerk_client.get("/staff/messages/").status_code == 403
    assert clerk_client.get(f"/staff/messages/{thread.pk}/").status_code == 403
    assert clerk_client.submit(f"/staff/messages/{thread.pk}/", {"body": "hi"}).status_code == 403
    assert thread.messages.count() == 1
    event = AuditEvent.objects.filter(action="permission_denied").latest("id")
    assert event.patient_id is None  # a thread id is not a patient id


@pytest.mark.parametrize(
    ("subject", "body", "problem"),
    [
        (SUBJECT, "", "Write a message before sending."),
        (SUBJECT, "   \n  ", "Write a message before sending."),
        (SUBJECT, "x" * 5001, "A message can be at most 5,000 characters; this one has 5,001."),
        ("", BODY, "Give your message a subject."),
        ("s" * 201, BODY, "The subject can be at most 200 characters; this one has 201."),
    ],
)
def test_bad_new_message_is_refused_and_nothing_saved(patient_client, subject, body, problem):
    response = start(patient_client, subject=subject, body=body)
    assert response.status_code == 200 and problem in response.content.decode()
    assert not Thread.objects.exists() and not Message.objects.exists()


def test_bad_replies_are_refused_on_both_sides(patient_client, desk_client):
    start(patient_client)
    thread = Thread.objects.get()
    for client, url in (
        (patient_client, f"/portal/messages/{thread.pk}/"),
        (desk_client, f"/staff/messages/{thread.pk}/"),
    ):
        assert "Write a message before sending." in client.submit(url, {"body": ""}).content.decode()
        too_long = client.submit(url, {"body": "y" * 5001}).content.decode()
        assert "at most 5,000 characters" in too_long
    assert thread.messages.count() == 1


def test_closed_thread_takes_no_patient_reply_until_staff_answer(patient_client, desk_client):
    start(patient_client)
    thread = Thread.objects.get()
    desk_client.submit(f"/staff/messages/{thread.pk}/status/", {"status": "closed"})
    assert "Closed" in desk_client.get("/staff/messages/?status=closed").content.decode()
    assert SUBJECT not in desk_client.get("/staff/messages/").content.decode()
    page = patient_client.submit(f"/portal/messages/{thread.pk}/", {"body": "Hello?"}).content.decode()
    assert "This conversation is closed." in page and thread.messages.count() == 1
    desk_client.submit(f"/staff/messages/{thread.pk}/", {"body": ANSWER})
    thread.refresh_from_db()
    assert thread.status == "open"
    assert AuditEvent.objects.filter(action="message_thread_closed").count() == 1


def test_inbox_lists_newest_first(patient_client, desk_client):
    start(patient_client, subject="First question")
    start(patient_client, subject="Second question")
    page = desk_client.get("/staff/messages/").content.decode()
    assert page.index("Second question") < page.index("First question")


def _history(patient, n: int) -> Thread:
    """A thread with n messages, alternating sides, plus n // 5 other threads."""
    thread = Thread.objects.create(patient=patient, subject="Long one")
    Message.objects.bulk_create(
        Message(
            thread=thread,
            body=f"Message {i}",
            author_kind="staff" if i % 2 else "patient",
            author_label="Front desk" if i % 2 else patient.full_name,
        )
        for i in range(n)
    )
    for i in range(n // 5):
        other = Thread.objects.create(patient=patient, subject=f"Other {i}")
        Message.objects.create(thread=other, body="hi", author_kind="patient", author_label="x")
    return thread


def _queries(client, url: str) -> int:
    client.get(url)  # the first view marks messages read; count a steady one
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def test_message_pages_make_the_same_number_of_queries_for_5_and_50(
    patient_client, desk_client, complete_patient
):
    counts = []
    for n in (5, 50):
        Thread.objects.all().delete()
        thread = _history(complete_patient, n)
        urls = [
            (patient_client, "/portal/messages/"),
            (patient_client, f"/portal/messages/{thread.pk}/"),
            (desk_client, "/staff/messages/"),
            (desk_client, f"/staff/messages/{thread.pk}/"),
        ]
        counts.append([_queries(client, url) for client, url in urls])
    assert counts[0] == counts[1]


def test_service_refuses_to_write_for_someone_outside_the_family(credentials, complete_patient, make_patient):
    from django.core.exceptions import PermissionDenied

    from molar.access.models import PortalAccount
    from molar.messaging.services import message_thread_start

    account = PortalAccount.objects.get(patient=complete_patient)
    stranger = make_patient(first_name="Stranger")
    with pytest.raises(PermissionDenied):
        message_thread_start(patient=stranger, actor_account=account, subject="Hi", body="Hello")
    assert not Thread.objects.exists()
    assert AuditEvent.objects.filter(action="access_denied", patient_id=stranger.pk).exists()


def test_unknown_thread_is_404_for_staff(desk_client, practice):
    assert desk_client.get("/staff/messages/999999/").status_code == 404


def test_refused_notice_is_audited_and_the_answer_kept(patient_client, desk_client, monkeypatch, send_outbox):
    import smtplib

    from django.core.mail import EmailMessage

    def refuse(self, fail_silently=False):
        raise smtplib.SMTPRecipientsRefused({self.to[0]: (550, b"5.1.1 No such user")})

    monkeypatch.setattr(EmailMessage, "send", refuse)
    start(patient_client)
    thread = Thread.objects.get()
    response = desk_client.submit(f"/staff/messages/{thread.pk}/", {"body": ANSWER})
    send_outbox()
    assert response.status_code == 302 and thread.messages.count() == 2
    failed = AuditEvent.objects.get(action="email_failed")
    assert failed.outcome == "failure" and failed.detail["error"] == "refused by the mail server"
    assert failed.detail["email"] == "new message"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_patients_reply_locks_the_thread_and_not_the_patient(credentials, complete_patient, monkeypatch):
    """Staff editing the patient never wait on a reply being written (SPEC Q3)."""
    from molar.access.models import PortalAccount
    from molar.messaging import services
    from tests.postgres import row_is_locked

    account = PortalAccount.objects.get(patient=complete_patient)
    thread = services.message_thread_start(
        patient=complete_patient, actor_account=account, subject="Hi", body=BODY
    )
    held = {}
    add = services._add_from_patient_side

    def probe(*args, **kwargs):  # inside the reply's transaction, after the locking read
        held["thread"] = row_is_locked("messaging_thread", thread.pk)
        held["patient"] = row_is_locked("patients_patient", complete_patient.pk)
        return add(*args, **kwargs)

    monkeypatch.setattr(services, "_add_from_patient_side", probe)
    services.message_reply_from_patient(thread=thread, actor_account=account, body="Also a fever.")
    assert held == {"thread": True, "patient": False}
    assert thread.messages.count() == 2
