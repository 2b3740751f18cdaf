"""Reading messages. Each list is one query however long the history
(SPEC issue: no page's query count grows with the history)."""

from django.db.models import Count, Q, QuerySet

from molar.patients.models import Patient

from .models import Message, Thread

STATUS_FILTERS = ("open", "closed", "all")


def threads_for_inbox(*, status: str = "open") -> QuerySet[Thread]:
    """Staff inbox: threads newest first, each with how many of the patient
    side's messages staff have not read."""
    rows = Thread.objects.select_related("patient").annotate(
        unread=Count("messages", filter=Q(messages__read_by_staff_at__isnull=True))
    )
    if status != "all":
        rows = rows.filter(status=status)
    return rows.order_by("-updated_at", "-id")


def threads_for_patient(patient: Patient) -> QuerySet[Thread]:
    """A patient's threads newest first, with how many practice answers are unread."""
    return (
        Thread.objects.filter(patient=patient)
        .annotate(unread=Count("messages", filter=Q(messages__read_by_patient_at__isnull=True)))
        .order_by("-updated_at", "-id")
    )


def unread_for_patient(patient: Patient) -> int:
    """Messages of the patient's threads not yet read on the patient's side:
    the number on the portal's Messages tab (SPEC V2)."""
    return Message.objects.filter(thread__patient=patient, read_by_patient_at__isnull=True).count()


def thread_messages(thread: Thread) -> list[Message]:
    return list(thread.messages.order_by("sent_at", "id"))


def inbox_unread_count() -> int:
    return Message.objects.filter(read_by_staff_at__isnull=True).count()
