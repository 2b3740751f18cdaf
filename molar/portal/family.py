"""SPEC L8: whose data a signed-in person may see.

Themself, plus the patients whose guarantor they are (while the practice
allows it), whose responsible party they are, and to whom they have a
guardian link marked "is guardian". Archived, deceased and prospective
patients are never listed. Every portal page picks its subject from this set
and nowhere else, so changing an id in a URL cannot reach anyone outside it."""

from django.db.models import Q

from molar.access.models import PortalAccount
from molar.audit.models import AuditEvent
from molar.audit.services import Actor
from molar.patients.models import Patient
from molar.practice.models import PracticeSettings

HIDDEN = (Patient.Status.ARCHIVED, Patient.Status.DECEASED, Patient.Status.PROSPECTIVE)
SUBJECT_KEY = "_portal_subject"


def represented_patients(account: PortalAccount, practice: PracticeSettings) -> list[Patient]:
    me = account.patient
    links = Q(guardian_links__guardian=me, guardian_links__is_guardian=True) | Q(responsible_party=me)
    if practice.allow_guarantor_access:
        links |= Q(guarantor=me)
    others = (Patient.objects.filter(links).exclude(pk=me.pk).exclude(status__in=HIDDEN)
              .distinct().order_by("first_name", "last_name", "id"))
    return [me, *others]


def portal_actor(account: PortalAccount, subject: Patient) -> Actor:
    """A patient acting for themself, or a representative acting for `subject`."""
    if subject.pk == account.patient_id:
        return Actor.patient(account)
    return Actor(AuditEvent.ActorType.REPRESENTATIVE, account.patient_id, account.username)


def choose_subject(session, family: list[Patient]) -> Patient:
    wanted = session.get(SUBJECT_KEY)
    return next((p for p in family if p.pk == wanted), family[0])
