"""SPEC L8: whose data a signed-in person may see.

Themself, plus the patients whose guarantor they are (while the practice
allows it), whose responsible party they are, and to whom they have a
guardian link marked "is guardian". Archived, deceased and prospective
patients are never listed. Every portal page picks its subject from this set
and nowhere else, so changing an id in a URL cannot reach anyone outside it."""

from django.contrib.sessions.backends.base import SessionBase
from django.db.models import Exists, OuterRef, QuerySet

from molar.audit.models import AuditEvent
from molar.audit.services import Actor
from molar.patients.models import GuardianLink, Patient
from molar.practice.models import PracticeSettings

from .models import PortalAccount

HIDDEN = (Patient.Status.ARCHIVED, Patient.Status.DECEASED, Patient.Status.PROSPECTIVE)
SUBJECT_KEY = "_portal_subject"


def represented_ids_query(patient_id: int, *, guarantor_access: bool) -> QuerySet:
    """Ids of the patients `patient_id` represents (SPEC L8), as one query
    whose parts each use an index (SPEC Q1): a UNION, because an OR across
    the guardian join makes PostgreSQL scan the whole patient table."""
    links = GuardianLink.objects.filter(guardian_id=patient_id, is_guardian=True).values_list(
        "patient_id", flat=True
    )
    parts = [Patient.objects.filter(responsible_party_id=patient_id).values_list("id", flat=True)]
    if guarantor_access:
        parts.append(Patient.objects.filter(guarantor_id=patient_id).values_list("id", flat=True))
    return links.order_by().union(*(part.order_by() for part in parts))


def with_family_flags(accounts: QuerySet[PortalAccount]) -> QuerySet[PortalAccount]:
    """Accounts annotated with whether their patient represents anyone, each
    part an indexed EXISTS in the query that loads the account anyway: most
    patients represent nobody, and then no family query is needed (SPEC Q1)."""
    me = OuterRef("patient_id")
    return accounts.annotate(
        represents_others=Exists(GuardianLink.objects.filter(guardian_id=me, is_guardian=True))
        | Exists(Patient.objects.filter(responsible_party_id=me).exclude(pk=me)),
        guarantees_others=Exists(Patient.objects.filter(guarantor_id=me).exclude(pk=me)),
    )


def represented_ids(patient_id: int, *, guarantor_access: bool) -> set[int]:
    return set(represented_ids_query(patient_id, guarantor_access=guarantor_access)) - {patient_id}


def represented_patients(account: PortalAccount, practice: PracticeSettings) -> list[Patient]:
    me = account.patient
    flags = (
        getattr(account, "represents_others", True),
        getattr(account, "guarantees_others", True) and practice.allow_guarantor_access,
    )
    if not any(flags):
        return [me]
    ids = represented_ids(me.pk, guarantor_access=practice.allow_guarantor_access)
    if not ids:
        return [me]  # most patients represent nobody: one query, not two
    others = (
        Patient.objects.filter(pk__in=ids)
        .exclude(status__in=HIDDEN)
        .order_by("first_name", "last_name", "id")
    )
    return [me, *others]


def portal_actor(account: PortalAccount, subject: Patient) -> Actor:
    """A patient acting for themself, or a representative acting for `subject`."""
    if subject.pk == account.patient_id:
        return Actor.patient(account)
    return Actor(AuditEvent.ActorType.REPRESENTATIVE, account.patient_id, account.username)


def choose_subject(session: SessionBase, family: list[Patient]) -> Patient:
    wanted = session.get(SUBJECT_KEY)
    return next((p for p in family if p.pk == wanted), family[0])
