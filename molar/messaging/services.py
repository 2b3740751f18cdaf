"""Every change to secure messages goes through here (SPEC L7 Messages, L8).

Each function runs in one transaction and writes its audit event in it. The
audit detail names the thread and the message, never their subject or text:
messages are health information, and the audit trail is read by people who
need not see it (SPEC T1: no secrets, and no more PHI than the ids)."""

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy

from molar.access.family import portal_actor, represented_patients
from molar.access.models import PortalAccount
from molar.audit.models import AuditEvent
from molar.audit.services import Actor, audit_record
from molar.i18n import language_for
from molar.outbox.models import OutboxEmail
from molar.outbox.services import outbox_enqueue
from molar.patients.models import Patient
from molar.practice.models import PracticeSettings
from molar.refusal import Refused

from . import emails
from .models import Message, Thread

BODY_MAX = 5000
SUBJECT_MAX = 200
MSG_BODY_BLANK = gettext_lazy("Write a message before sending.")
MSG_SUBJECT_BLANK = gettext_lazy("Give your message a subject.")
MSG_CLOSED = gettext_lazy("This conversation is closed. Start a new message to write to the practice again.")
MSG_NUL = gettext_lazy("The text contains a character that cannot be stored. Remove it and send again.")
MSG_SUBJECT_LONG = gettext_lazy("The subject can be at most %(limit)s characters; this one has %(count)s.")
MSG_BODY_LONG = gettext_lazy("A message can be at most %(limit)s characters; this one has %(count)s.")


def _text_problems(value: str, *, limit: int, blank: str, too_long) -> list[str]:
    if not value:
        return [blank]
    if len(value) > limit:
        return [too_long % {"limit": f"{limit:,}", "count": f"{len(value):,}"}]
    if "\x00" in value:  # PostgreSQL text cannot hold it
        return [MSG_NUL]
    return []


def _validated(*, body: str, subject: str | None = None) -> tuple[str, str]:
    body, subject_text = (body or "").strip(), (subject or "").strip()
    errors = {}
    if subject is not None:
        errors["subject"] = _text_problems(
            subject_text, limit=SUBJECT_MAX, blank=MSG_SUBJECT_BLANK, too_long=MSG_SUBJECT_LONG
        )
    errors["body"] = _text_problems(body, limit=BODY_MAX, blank=MSG_BODY_BLANK, too_long=MSG_BODY_LONG)
    errors = {field: problems for field, problems in errors.items() if problems}
    if errors:
        raise Refused(fields=errors)
    return body, subject_text


def _writer(account: PortalAccount, patient: Patient) -> tuple[Actor, dict]:
    """SPEC L8: a portal account writes for the patients it represents and no
    one else, checked here too so no caller can skip it; the Messages tab
    switch (S3) closes this door as well as the page."""
    practice = PracticeSettings.load()
    family = represented_patients(account, practice)
    actor = portal_actor(account, patient)
    if not practice.show_messages or patient.pk not in {p.pk for p in family}:
        audit_record(
            action="access_denied",
            actor=actor,
            patient_id=patient.pk,
            outcome=AuditEvent.Outcome.DENIED,
            detail={"what": "messages"},
        )
        raise PermissionDenied("You cannot send messages for this patient.")
    detail = {} if patient.pk == account.patient_id else {"representative_id": account.patient_id}
    return actor, detail


def author_label(account: PortalAccount, patient: Patient) -> str:
    """ "Maria Lopez" for herself; "Maria Lopez (for Sofía)" for her child."""
    me = account.patient
    if patient.pk == me.pk:
        return me.full_name
    return f"{me.full_name} (for {patient.preferred_name or patient.first_name})"


def _add(thread: Thread, *, body: str, kind: str, label: str, now, **author) -> Message:
    """A message, already read by the side that wrote it."""
    staff = kind == Message.AuthorKind.STAFF
    message = Message.objects.create(
        thread=thread,
        body=body,
        sent_at=now,
        author_kind=kind,
        author_label=label[:250],
        read_by_staff_at=now if staff else None,
        read_by_patient_at=None if staff else now,
        **author,
    )
    thread.updated_at = now
    thread.save(update_fields=["updated_at", "status"])
    return message


def _add_from_patient_side(thread: Thread, account: PortalAccount, body: str, now) -> Message:
    representative = thread.patient_id != account.patient_id
    kind = Message.AuthorKind.REPRESENTATIVE if representative else Message.AuthorKind.PATIENT
    return _add(
        thread,
        body=body,
        kind=kind,
        label=author_label(account, thread.patient),
        now=now,
        author_patient_id=account.patient_id,
    )


def message_thread_start(
    *, patient: Patient, actor_account: PortalAccount, subject: str, body: str
) -> Thread:
    """A patient, or a representative for `patient`, writes to the practice."""
    body, subject = _validated(body=body, subject=subject)
    actor, detail = _writer(actor_account, patient)
    now = timezone.now()
    with transaction.atomic():
        thread = Thread.objects.create(patient=patient, subject=subject, created_at=now, updated_at=now)
        message = _add_from_patient_side(thread, actor_account, body, now)
        audit_record(
            action="message_sent",
            actor=actor,
            patient_id=patient.pk,
            detail={**detail, "thread": thread.pk, "message": message.pk, "new_thread": True},
        )
    return thread


def message_reply_from_patient(*, thread: Thread, actor_account: PortalAccount, body: str) -> Message:
    body, _ = _validated(body=body)
    actor, detail = _writer(actor_account, thread.patient)
    with transaction.atomic():
        thread = Thread.objects.select_for_update(of=("self",)).select_related("patient").get(pk=thread.pk)
        if not thread.is_open:
            raise Refused(fields={"body": [MSG_CLOSED]})
        message = _add_from_patient_side(thread, actor_account, body, timezone.now())
        audit_record(
            action="message_sent",
            actor=actor,
            patient_id=thread.patient_id,
            detail={**detail, "thread": thread.pk, "message": message.pk},
        )
    return message


def message_reply_from_staff(*, thread: Thread, user, body: str) -> Message:
    """Staff answer (reopening a closed thread); the patient gets an email
    notice with no health information, queued with the answer (SPEC Q2)."""
    body, _ = _validated(body=body)
    with transaction.atomic():
        thread = Thread.objects.select_for_update().get(pk=thread.pk)
        thread.status = Thread.Status.OPEN
        message = _add(
            thread,
            body=body,
            kind=Message.AuthorKind.STAFF,
            now=timezone.now(),
            label=user.get_full_name() or user.get_username(),
            author_user=user,
        )
        audit_record(
            action="message_sent",
            actor=Actor.staff(user),
            patient_id=thread.patient_id,
            detail={"thread": thread.pk, "message": message.pk},
        )
        _queue_notice(thread)
    return message


def _queue_notice(thread: Thread) -> None:
    address = emails.notice_address(thread)
    if not address:
        audit_record(
            action="email_failed",
            actor=Actor.system("mail"),
            patient_id=thread.patient_id,
            outcome=AuditEvent.Outcome.FAILURE,
            detail={"email": "new message", "error": "no email address"},
        )
        return
    subject, body = emails.new_message_email(PracticeSettings.load(), language_for(thread.patient))
    outbox_enqueue(
        kind=OutboxEmail.Kind.NEW_MESSAGE,
        to=address,
        subject=subject,
        body=body,
        patient_id=thread.patient_id,
    )


def thread_mark_read(*, thread: Thread, user=None, account: PortalAccount | None = None) -> int:
    """Staff (`user`) or the patient side (`account`) read the thread: the
    other side's messages are marked read. Returns how many were.

    Unlike sending, no family check here: callers on the portal side fetched
    `thread` through subject_object (which refuses other patients' threads),
    and marking read discloses and changes nothing but a "new" mark."""
    if (user is None) == (account is None):
        raise TypeError("Pass exactly one of user (staff) or account (portal).")
    now = timezone.now()
    if user is not None:
        actor, detail, field = Actor.staff(user), {}, "read_by_staff_at"
    else:
        actor, field = portal_actor(account, thread.patient), "read_by_patient_at"
        detail = {} if thread.patient_id == account.patient_id else {"representative_id": account.patient_id}
    with transaction.atomic():
        count = thread.messages.filter(**{f"{field}__isnull": True}).update(**{field: now})
        if count:
            audit_record(
                action="message_read",
                actor=actor,
                patient_id=thread.patient_id,
                detail={**detail, "thread": thread.pk, "count": count},
            )
    return count


@transaction.atomic
def thread_set_status(*, thread: Thread, user, status: str) -> Thread:
    if status not in Thread.Status.values:
        raise Refused(fields={"status": [f"Unknown status {status!r}."]})
    thread = Thread.objects.select_for_update().get(pk=thread.pk)
    if thread.status != status:
        thread.status = status
        thread.save(update_fields=["status"])
        audit_record(
            action=f"message_thread_{'reopened' if status == 'open' else 'closed'}",
            actor=Actor.staff(user),
            patient_id=thread.patient_id,
            detail={"thread": thread.pk},
        )
    return thread
