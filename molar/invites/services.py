"""Invite rules (SPEC I1): every change goes through here."""

from django.core.exceptions import ValidationError
from django.db import transaction

from molar.access.services import MSG_PORTAL_OFF
from molar.audit.services import Actor, audit_record
from molar.practice.models import PracticeSettings
from molar.refusal import Refused

from .models import InviteRule
from .rendering import DEFAULT_BODY, DEFAULT_SUBJECT, unknown_tags

RULE_FIELDS = (
    "timing",
    "days",
    "hours",
    "mode",
    "revisit_days",
    "enabled",
    "subject",
    "body",
    "subject_es",
    "body_es",
)
# SPEC I1: "Add before" is 7 days before, "Add after" 1 hour after; 30-day revisit span.
DEFAULTS = {
    "before": {"days": 7, "hours": 0},
    "after": {"days": 0, "hours": 1},
}


def rule_warnings(rule: InviteRule) -> list[str]:
    texts = (rule.subject, rule.body, rule.subject_es, rule.body_es)
    return [f"Unknown tag {tag} will be sent as typed." for tag in unknown_tags(*texts)]


def _save(rule: InviteRule, changes: dict, actor: Actor, action: str) -> InviteRule:
    unknown = set(changes) - set(RULE_FIELDS)
    if unknown:
        raise Refused(fields={name: [f"Unknown field {name}."] for name in sorted(unknown)})
    for name, value in changes.items():
        stripped = name in ("subject", "subject_es") and isinstance(value, str)
        setattr(rule, name, value.strip() if stripped else value)
    try:
        rule.full_clean()
    except ValidationError as exc:
        raise Refused(fields=exc.message_dict) from None
    if rule.enabled and not PracticeSettings.load().portal_enabled:
        raise Refused(fields={"enabled": [MSG_PORTAL_OFF]})
    rule.save()
    audit_record(action=action, actor=actor, detail={"rule": rule.pk, "fields": sorted(changes)})
    return rule


@transaction.atomic
def invite_rule_create(*, actor: Actor, **fields) -> InviteRule:
    timing = fields.get("timing")
    defaults = {
        "revisit_days": 30,
        **DEFAULTS.get(timing, {}),
        "subject": DEFAULT_SUBJECT.get(timing, ""),
        "body": DEFAULT_BODY.get(timing, ""),
    }
    return _save(InviteRule(), {**defaults, **fields}, actor, "invite_rule_created")


@transaction.atomic
def invite_rule_update(*, rule: InviteRule, actor: Actor, **changes) -> InviteRule:
    rule = InviteRule.objects.select_for_update().get(pk=rule.pk)
    return _save(rule, changes, actor, "invite_rule_changed")


@transaction.atomic
def invite_rule_delete(*, rule: InviteRule, actor: Actor) -> None:
    """Recorded invites keep their history; they just lose the link to the rule."""
    audit_record(action="invite_rule_deleted", actor=actor, detail={"rule": rule.pk})
    rule.delete()
