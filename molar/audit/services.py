"""Writing audit events. Callers are the services that perform the action, inside
their own transaction, so an action and its audit row commit together."""

from dataclasses import dataclass

from .context import current
from .models import AuditEvent


@dataclass(frozen=True)
class Actor:
    """Who did something: a staff user, a patient, or the system (CLI, worker)."""

    type: str
    id: int | None
    label: str

    @classmethod
    def staff(cls, user) -> "Actor":
        return cls(AuditEvent.ActorType.STAFF, user.pk, user.get_username())

    @classmethod
    def patient(cls, account) -> "Actor":
        """A patient (or representative) signed in with their portal account."""
        return cls(AuditEvent.ActorType.PATIENT, account.patient_id, account.username)

    @classmethod
    def system(cls, label: str = "system") -> "Actor":
        return cls(AuditEvent.ActorType.SYSTEM, None, label)

    @classmethod
    def anonymous(cls) -> "Actor":
        return cls(AuditEvent.ActorType.ANONYMOUS, None, "")


def audit_record(
    *,
    action: str,
    actor: Actor,
    patient_id: int | None = None,
    outcome: str = AuditEvent.Outcome.SUCCESS,
    detail: dict | None = None,
) -> AuditEvent:
    context = current.get()
    return AuditEvent.objects.create(
        action=action,
        actor_type=actor.type,
        actor_id=actor.id,
        actor_label=actor.label[:150],
        patient_id=patient_id,
        outcome=outcome,
        client_ip=context.client_ip,
        request_id=context.request_id,
        detail=detail or {},
    )
