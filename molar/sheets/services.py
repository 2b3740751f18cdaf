"""SPEC H1: every change to sheet templates, and the making of sheets.

Templates are checked as a whole (name, kind, fields) each time they are
saved, so a dashboard can never come to hold the credentials tag, whichever
of its kind or its fields changes. A sheet's credentials come from the access
service (one door for credentials, SPEC C2/I2); the stored copy keeps only
asterisks for the password (SPEC C4)."""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from django.db import transaction

from molar.access.services import Credentials, access_issue_one_time
from molar.audit.services import Actor, audit_record
from molar.patients.models import Patient
from molar.practice.models import PracticeSettings
from molar.refusal import Refused

from .models import (
    CREDENTIALS_TAG,
    PATIENT_FIELD_CHOICES,
    PRACTICE_FIELD_CHOICES,
    Sheet,
    SheetField,
    SheetTemplate,
)
from .rendering import MASKED_PASSWORD, credential_lines, sheet_lines, sheet_pdf

MSG_TAG_IN_DASHBOARD = "The [patientPortalCredentials] tag is not allowed in Dashboards."
MSG_NAME_BLANK = "Name cannot be blank."
MSG_NAME_LONG = "Name must be at most 100 characters."
MSG_KIND = "Kind must be letter, form or dashboard."
MSG_GONE = "This sheet template no longer exists."
MSG_OWN_PASSWORD = "The patient has set their own password; it is never printed."  # noqa: S105
MAX_FIELDS = 200
MAX_TEXT = 5000
FIELD_NAMES: dict[str, dict[str, str]] = {
    SheetField.Kind.PATIENT_FIELD: dict(PATIENT_FIELD_CHOICES),
    SheetField.Kind.PRACTICE_FIELD: dict(PRACTICE_FIELD_CHOICES),
}


@dataclass(frozen=True)
class FieldSpec:
    kind: str
    text: str
    field_name: str


def _field_problems(n: int, spec: FieldSpec) -> list[str]:
    where = f"Field {n}"
    if spec.kind not in SheetField.Kind.values:
        return [f"{where}: kind must be static text, patient field or practice field."]
    problems = []
    if len(spec.text) > MAX_TEXT:
        problems.append(f"{where}: text must be at most {MAX_TEXT} characters.")
    if "\x00" in spec.text:
        problems.append(f"{where}: text must not contain NUL characters.")
    if spec.kind == SheetField.Kind.STATIC_TEXT:
        if not spec.text.strip():
            problems.append(f"{where}: static text cannot be blank.")
        return problems
    allowed = FIELD_NAMES[spec.kind]
    label = SheetField.Kind(spec.kind).label.lower()
    if not spec.field_name:
        problems.append(f"{where}: choose which {label} to show.")
    elif spec.field_name not in allowed:
        problems.append(
            f"{where}: {spec.field_name[:40]!r} is not a {label}; choose one of {', '.join(allowed)}."
        )
    return problems


def _specs(fields: Iterable[Mapping]) -> list[FieldSpec]:
    return [
        FieldSpec(
            kind=str(f.get("kind") or ""),
            text=str(f.get("text") or ""),
            field_name=str(f.get("field_name") or "").strip(),
        )
        for f in fields
    ]


def template_problems(*, name: str, kind: str, fields: list[FieldSpec]) -> list[str]:
    """Every reason the template cannot be saved, in page order; empty when fine."""
    problems = []
    if not name:
        problems.append(MSG_NAME_BLANK)
    elif len(name) > 100:
        problems.append(MSG_NAME_LONG)
    if "\x00" in name:
        problems.append("Name must not contain NUL characters.")
    if kind not in SheetTemplate.Kind.values:
        problems.append(MSG_KIND)
    if len(fields) > MAX_FIELDS:
        return [*problems, f"A template can have at most {MAX_FIELDS} fields."]
    for n, spec in enumerate(fields, start=1):
        problems.extend(_field_problems(n, spec))
    # SPEC H1: credentials never go on a dashboard. Exact case: the same words in
    # another case are ordinary text.
    if kind == SheetTemplate.Kind.DASHBOARD and any(CREDENTIALS_TAG in f.text for f in fields):
        problems.append(MSG_TAG_IN_DASHBOARD)
    return problems


def _fields_replace(template: SheetTemplate, specs: list[FieldSpec]) -> None:
    template.fields.all().delete()
    SheetField.objects.bulk_create(
        SheetField(
            template=template,
            order=n,
            kind=s.kind,
            text=s.text,
            field_name="" if s.kind == SheetField.Kind.STATIC_TEXT else s.field_name,
        )
        for n, s in enumerate(specs, start=1)
    )


def _current_specs(template: SheetTemplate) -> list[FieldSpec]:
    return [FieldSpec(f.kind, f.text, f.field_name) for f in template.fields.all()]


@transaction.atomic
def sheet_template_create(
    *, actor: Actor, name: str, kind: str = SheetTemplate.Kind.LETTER, fields: Iterable[Mapping] = ()
) -> SheetTemplate:
    name = (name or "").strip()
    specs = _specs(fields)
    problems = template_problems(name=name, kind=kind, fields=specs)
    if problems:
        raise Refused(problems)
    template = SheetTemplate.objects.create(name=name, kind=kind)
    _fields_replace(template, specs)
    audit_record(
        action="sheet_template_created",
        actor=actor,
        detail={"template_id": template.pk, "name": name, "kind": kind},
    )
    return template


@transaction.atomic
def sheet_template_update(
    *,
    template: SheetTemplate,
    actor: Actor,
    name: str | None = None,
    kind: str | None = None,
    fields: Iterable[Mapping] | None = None,
) -> SheetTemplate:
    """Change the name, the kind and/or the fields (given fields replace all of them)."""
    locked = SheetTemplate.objects.select_for_update().filter(pk=template.pk).first()
    if locked is None:
        raise Refused([MSG_GONE])
    new_name = locked.name if name is None else name.strip()
    new_kind = locked.kind if kind is None else kind
    old_specs = _current_specs(locked)
    new_specs = old_specs if fields is None else _specs(fields)
    problems = template_problems(name=new_name, kind=new_kind, fields=new_specs)
    if problems:
        raise Refused(problems)
    changed = [
        label
        for label, old, new in (
            ("name", locked.name, new_name),
            ("kind", locked.kind, new_kind),
            ("fields", old_specs, new_specs),
        )
        if old != new
    ]
    locked.name, locked.kind = new_name, new_kind
    locked.save()
    if new_specs != old_specs:
        _fields_replace(locked, new_specs)
    if changed:
        audit_record(
            action="sheet_template_updated",
            actor=actor,
            detail={"template_id": locked.pk, "changed": changed},
        )
    return locked


@transaction.atomic
def sheet_template_delete(*, template: SheetTemplate, actor: Actor) -> None:
    """Sheets already made keep their content and the template's name."""
    deleted, _ = SheetTemplate.objects.filter(pk=template.pk).delete()
    if deleted:
        audit_record(
            action="sheet_template_deleted",
            actor=actor,
            detail={"template_id": template.pk, "name": template.name},
        )


def _credentials(patient: Patient, actor: Actor) -> tuple[Credentials | None, Sheet.Credentials, list[str]]:
    """(credentials or None, status, reasons). Any refusal leaves the tag empty
    (SPEC H1); the access service has already audited it."""
    try:
        credentials = access_issue_one_time(patient=patient, actor=actor, source="sheet")
    except Refused as exc:
        return None, Sheet.Credentials.OMITTED, exc.messages
    if credentials is None:
        return None, Sheet.Credentials.OMITTED, [MSG_OWN_PASSWORD]
    return credentials, Sheet.Credentials.ISSUED, []


@transaction.atomic
def sheet_create(*, template: SheetTemplate, patient: Patient, actor: Actor) -> tuple[Sheet, bytes]:
    """Make the sheet, store it, and return it with its PDF. The PDF is the only
    place the new one-time password is ever written (SPEC C4)."""
    found = SheetTemplate.objects.filter(pk=template.pk).first()
    if found is None:
        raise Refused([MSG_GONE])
    template = found
    fields = list(template.fields.all())
    uses_tag = any(f.kind == SheetField.Kind.STATIC_TEXT and CREDENTIALS_TAG in f.text for f in fields)
    if uses_tag and template.kind == SheetTemplate.Kind.DASHBOARD:
        raise Refused([MSG_TAG_IN_DASHBOARD])
    credentials: Credentials | None
    reasons: list[str]
    credentials, status, reasons = None, Sheet.Credentials.NONE, []
    if uses_tag:
        credentials, status, reasons = _credentials(patient, actor)
    patient = Patient.objects.get(pk=patient.pk)  # as the access service left it
    practice = PracticeSettings.load()
    printed = credential_lines(credentials.username, credentials.password) if credentials else []
    stored = credential_lines(credentials.username, MASKED_PASSWORD) if credentials else []
    sheet = Sheet.objects.create(
        template=template,
        template_name=template.name,
        patient=patient,
        practice_name=practice.practice_name,
        created_by=actor.label[:150],
        content=sheet_lines(fields, patient=patient, practice=practice, credentials=stored),
        credentials=status,
        omitted_reasons=reasons,
    )
    if credentials:
        audit_record(
            action="sheet_credentials_issued",
            actor=actor,
            patient_id=patient.pk,
            detail={"sheet_id": sheet.pk, "template_id": template.pk, "username": credentials.username},
        )
    audit_record(
        action="sheet_created",
        actor=actor,
        patient_id=patient.pk,
        detail={"sheet_id": sheet.pk, "template_id": template.pk, "credentials": status},
    )
    pdf = sheet_pdf(
        practice_name=sheet.practice_name,
        template_name=sheet.template_name,
        lines=sheet_lines(fields, patient=patient, practice=practice, credentials=printed),
        created_at=sheet.created_at,
    )
    return sheet, pdf


def sheet_reprint(*, sheet: Sheet, actor: Actor) -> bytes:
    """The stored sheet again: the password shows as asterisks."""
    pdf = sheet_pdf(
        practice_name=sheet.practice_name,
        template_name=sheet.template_name,
        lines=sheet.content,
        created_at=sheet.created_at,
    )
    audit_record(
        action="sheet_reprinted", actor=actor, patient_id=sheet.patient_id, detail={"sheet_id": sheet.pk}
    )
    return pdf
