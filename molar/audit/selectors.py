"""Reading the audit trail: the staff report (SPEC T2) and a patient's own
access history (SPEC T2: "Patients see their own access history")."""

import datetime
from dataclasses import dataclass

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _  # SPEC V10: the portal's history

from molar.dates import day_after, day_start

from .models import AuditEvent

# Columns the report may sort by; "-" in front sorts descending.
SORT_FIELDS = ("created_at", "action", "actor_label", "patient_id", "outcome", "client_ip")
SORTS = (*SORT_FIELDS, *(f"-{name}" for name in SORT_FIELDS))
DEFAULT_SORT = "-created_at"

# Offered in the report's action filter; any other name can be typed.
KNOWN_ACTIONS = (
    "access_provided",
    "access_removed",
    "access_imported",
    "password_generated",
    "password_typed",
    "username_changed",
    "printed",
    "credentials_issued",
    "sheet_credentials_issued",
    "sheet_created",
    "sheet_reprinted",
    "invite_sent",
    "invite_skipped",
    "invite_failed",
    "bulk_invite_started",
    "bulk_grant",
    "bulk_letters_taken",
    "sign_in",
    "lock",
    "unlock",
    "password_changed",
    "reset_requested",
    "reset_completed",
    "activation_completed",
    "access_denied",
    "phi_view",
    "phi_download",
    "phi_transmit",
    "settings_changed",
    "invite_rule_created",
    "invite_rule_changed",
    "invite_rule_deleted",
    "permission_denied",
    "patient_created",
    "patient_updated",
    "guardians_changed",
    "appointment_created",
    "appointment_updated",
    "staff_added",
    "apikey_created",
    "email_failed",
    "audit_exported",
)


def audit_events(
    *,
    start: datetime.date | None = None,
    end: datetime.date | None = None,
    patient_id: int | None = None,
    actor: str = "",
    actor_type: str = "",
    action: str = "",
    sort: str = DEFAULT_SORT,
) -> QuerySet[AuditEvent]:
    """Events by day (the practice's time zone, both ends included), patient,
    actor (name contains, or type) and action (exact; `phi_*` for a prefix)."""
    if sort not in SORTS:
        raise ValueError(f"Unknown sort {sort!r}.")
    rows = AuditEvent.objects.all()
    zone = timezone.get_default_timezone()
    if start:  # SPEC X4: clamped days, so no date a form or the API takes can overflow
        rows = rows.filter(created_at__gte=day_start(start, zone))
    if end:
        rows = rows.filter(created_at__lt=day_after(end, zone))
    if patient_id:
        rows = rows.filter(patient_id=patient_id)
    if actor:
        rows = rows.filter(actor_label__icontains=actor)
    if actor_type:
        rows = rows.filter(actor_type=actor_type)
    if action.endswith("*"):
        rows = rows.filter(action__startswith=action[:-1])
    elif action:
        rows = rows.filter(action=action)
    # id breaks ties in the same direction, so pages never repeat or skip rows.
    return rows.order_by(sort, "-id" if sort.startswith("-") else "id")


# --- A patient's access history -------------------------------------------

# Done to the patient's access by staff (or the practice's jobs): shown only
# when they happened, with who did it.
_BY_STAFF = {
    "access_provided": _("Online access provided"),
    "access_removed": _("Online access removed"),
    "password_generated": _("New one-time password generated"),
    "password_typed": _("One-time password set"),
    "printed": _("Sign-in letter printed"),
    "credentials_issued": _("Sign-in details issued"),
    "sheet_credentials_issued": _("Sign-in details issued on a form"),
    "username_changed": _("Username changed"),
    "lock": _("Sign-in locked after failed attempts"),
    "unlock": _("Sign-in unlocked"),
    "invite_sent": _("Invitation email sent"),
}
# Done in the portal: failures matter to the patient too (someone guessing).
_IN_PORTAL = {
    "sign_in": (_("Signed in"), _("Failed sign-in")),
    "password_changed": (_("Password changed"), _("Password change refused")),
    "reset_requested": (_("Password reset requested"), _("Password reset request refused")),
    "reset_completed": (_("Password reset"), _("Failed password reset")),
    "activation_completed": (_("Account activated"), _("Account activation failed")),
}
_PHI = {
    "phi_view": _("Health information viewed"),
    "phi_download": _("Health information downloaded"),
    "phi_transmit": _("Health information sent"),
}


@dataclass(frozen=True)
class HistoryEntry:
    created_at: datetime.datetime
    action: str
    outcome: str
    phrase: str  # e.g. "Online access provided by frontdesk", "Failed sign-in"
    client_ip: str | None  # only for what happened in the portal, never staff's addresses


def audit_history_for_patient(patient_id: int, limit: int = 200) -> list[HistoryEntry]:
    """The patient-visible part of the trail for one patient, newest first."""
    succeeded = Q(outcome=AuditEvent.Outcome.SUCCESS)
    rows = (
        AuditEvent.objects.filter(patient_id=patient_id)
        .filter(
            (Q(action__in=_BY_STAFF) & succeeded) | Q(action__in=_IN_PORTAL) | Q(action__startswith="phi_")
        )
        .order_by("-created_at", "-id")[:limit]
    )
    return [
        HistoryEntry(
            event.created_at, event.action, event.outcome, history_phrase(event), _portal_address(event)
        )
        for event in rows
    ]


def _portal_address(event: AuditEvent) -> str | None:
    """Where a portal event came from; staff's own addresses are the practice's business."""
    in_portal = event.action in _IN_PORTAL or event.action.startswith("phi_")
    return event.client_ip if in_portal and event.actor_type != AuditEvent.ActorType.STAFF else None


def history_phrase(event: AuditEvent) -> str:
    failed = event.outcome != AuditEvent.Outcome.SUCCESS
    if event.action in _IN_PORTAL:
        return str(_IN_PORTAL[event.action][failed])
    if event.action.startswith("phi_"):
        phrase = str(_PHI.get(event.action, _("Health information accessed")))
        if failed:
            phrase = _("%(what)s (failed)") % {"what": phrase}
    else:
        phrase = str(_BY_STAFF.get(event.action, event.action))
    if event.actor_type == AuditEvent.ActorType.STAFF and event.actor_label:
        return _("%(what)s by %(who)s") % {"what": phrase, "who": event.actor_label}
    return str(phrase)
