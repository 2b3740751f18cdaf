"""Every change to a patient's account, treatment plans, health summary and
documents (SPEC L7). Each function checks its whole input first, writes in one
transaction with its audit row, and raises Refused (one message per
problem) before writing anything. Audit details hold ids and field names,
never the health information itself."""

import datetime
import secrets
from collections.abc import Iterable, Mapping
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone
from django.utils.text import slugify

from molar.audit.services import Actor, audit_record
from molar.outbox.models import OutboxEmail
from molar.outbox.services import outbox_enqueue
from molar.patients.models import Patient
from molar.practice.models import PracticeSettings
from molar.refusal import Refused

from .emails import SUMMARY_FILENAME, health_summary_email
from .models import (
    Allergy,
    Document,
    LedgerEntry,
    Medication,
    PlannedProcedure,
    Problem,
    Statement,
    TreatmentPlan,
    document_path,
)

MAX_AMOUNT = Decimal("99999999.99")
MAX_PROCEDURES = 100
DOCUMENT_MAX_BYTES = 20 * 1024 * 1024
# The types staff may upload, recognised by their first bytes (never by the
# name or the browser's claim), and the extension the stored file gets.
DOCUMENT_TYPES = {"application/pdf": ".pdf", "image/png": ".png", "image/jpeg": ".jpg", "text/plain": ".txt"}


def _check(instance: models.Model, exclude: Iterable[str] = ()) -> None:
    """Model validation as page words: "Description: This field cannot be blank."."""
    try:
        instance.full_clean(exclude=list(exclude))
    except ValidationError as exc:
        problems = []
        for field, errors in exc.message_dict.items():
            label = instance._meta.get_field(field).verbose_name.capitalize() if field != "__all__" else ""
            problems += [f"{label}: {e}" if label else e for e in errors]
        raise Refused(problems) from None


def _money_problem(value, label: str) -> str | None:
    if not isinstance(value, Decimal) or not value.is_finite():
        return f"{label} must be a number."
    if value.as_tuple().exponent < -2:  # type: ignore[operator]
        return f"{label} can have at most two decimal places."
    if abs(value) > MAX_AMOUNT:
        return f"{label} must be less than 100,000,000."
    return None


# --- Account -----------------------------------------------------------------------------


def _signed(kind: str, amount) -> Decimal:
    """SPEC L7 ledger: staff type charges and payments as positive amounts; a
    payment is stored negative. An adjustment keeps the sign typed (a credit
    is negative)."""
    problem = _money_problem(amount, "Amount")
    if problem:
        raise Refused([problem])
    if kind == LedgerEntry.Kind.ADJUSTMENT:
        if amount == 0:
            raise Refused(["Amount of an adjustment cannot be zero."])
        return amount
    if amount <= 0:
        raise Refused(["Amount must be more than zero; the kind says which way it goes."])
    return -amount if kind == LedgerEntry.Kind.PAYMENT else amount


@transaction.atomic
def ledger_entry_add(
    *, patient: Patient, date: datetime.date, description: str, kind: str, amount: Decimal, actor: Actor
) -> LedgerEntry:
    if kind not in LedgerEntry.Kind.values:
        raise Refused(["Kind must be charge, payment or adjustment."])
    entry = LedgerEntry(
        patient=patient,
        date=date,
        description=(description or "").strip(),
        kind=kind,
        amount=_signed(kind, amount),
    )
    _check(entry, exclude=["patient"])
    entry.save()
    audit_record(
        action="ledger_entry_added",
        actor=actor,
        patient_id=patient.pk,
        detail={"entry_id": entry.pk, "kind": kind},
    )
    return entry


@transaction.atomic
def statement_create(
    *,
    patient: Patient,
    period_start: datetime.date,
    period_end: datetime.date,
    actor: Actor,
    date: datetime.date | None = None,
) -> Statement:
    if period_start and period_end and period_start > period_end:
        raise Refused(["The period must start on or before the day it ends."])
    statement = Statement(
        patient=patient, date=date or timezone.localdate(), period_start=period_start, period_end=period_end
    )
    _check(statement, exclude=["patient"])
    statement.save()
    audit_record(
        action="statement_created", actor=actor, patient_id=patient.pk, detail={"statement_id": statement.pk}
    )
    return statement


# --- Treatment plans ---------------------------------------------------------------------

PROCEDURE_FIELDS = ("code", "description", "tooth", "fee", "order")


def _procedures(rows: list[Mapping]) -> list[PlannedProcedure]:
    if len(rows) > MAX_PROCEDURES:
        raise Refused([f"A plan can have at most {MAX_PROCEDURES} procedures."])
    procedures, problems = [], []
    for n, row in enumerate(rows, start=1):
        fields = {name: row.get(name) for name in PROCEDURE_FIELDS}
        for name in ("code", "description", "tooth"):
            fields[name] = str(fields[name] or "").strip()
        fields["code"] = fields["code"].upper()
        fields["order"] = fields["order"] if fields["order"] is not None else n
        procedure = PlannedProcedure(**fields)
        try:
            _check(procedure, exclude=["plan"])
        except Refused as exc:
            problems += [f"Procedure {n}: {m}" for m in exc.messages]
            continue
        money = _money_problem(procedure.fee, f"Procedure {n}: Fee")
        if money or procedure.fee < 0:
            problems.append(money or f"Procedure {n}: Fee cannot be negative.")
        procedures.append(procedure)
    if problems:
        raise Refused(problems)
    return procedures


@transaction.atomic
def treatment_plan_save(
    *,
    patient: Patient,
    name: str,
    status: str,
    procedures: list[Mapping],
    actor: Actor,
    plan: TreatmentPlan | None = None,
) -> TreatmentPlan:
    """Create a plan, or replace an existing plan's name, status and procedures:
    the plan is saved whole or not at all."""
    if plan is not None:
        plan = TreatmentPlan.objects.select_for_update().get(pk=plan.pk, patient=patient)
    else:
        plan = TreatmentPlan(patient=patient)
    plan.name, plan.status = (name or "").strip(), status
    _check(plan, exclude=["patient"])
    rows = _procedures(procedures)
    created = plan.pk is None
    plan.save()
    plan.procedures.all().delete()
    for row in rows:
        row.plan = plan
    PlannedProcedure.objects.bulk_create(rows)
    audit_record(
        action="treatment_plan_created" if created else "treatment_plan_updated",
        actor=actor,
        patient_id=patient.pk,
        detail={"plan_id": plan.pk, "procedures": len(rows)},
    )
    return plan


# --- Health summary ----------------------------------------------------------------------

HEALTH_FIELDS = {
    Problem: ("name", "code", "onset", "status"),
    Medication: ("name", "instructions", "start", "stop", "active"),
    Allergy: ("substance", "reaction", "severity", "active"),
}


def _health_save(model, *, patient: Patient, instance, fields: Mapping, actor: Actor):
    allowed = HEALTH_FIELDS[model]
    unknown = set(fields) - set(allowed)
    if unknown:
        raise Refused([f"Unknown field {name}." for name in sorted(unknown)])
    if instance is None:
        instance = model(patient=patient)
    else:
        instance = model.objects.select_for_update().get(pk=instance.pk, patient=patient)
    created = instance.pk is None
    for name, value in fields.items():
        setattr(instance, name, value.strip() if isinstance(value, str) else value)
    _check(instance, exclude=["patient"])
    instance.save()
    kind = model._meta.model_name
    audit_record(
        action=f"{kind}_{'added' if created else 'updated'}",
        actor=actor,
        patient_id=patient.pk,
        detail={f"{kind}_id": instance.pk, "fields": sorted(fields)},
    )
    return instance


@transaction.atomic
def problem_save(*, patient: Patient, actor: Actor, problem: Problem | None = None, **fields) -> Problem:
    if "code" in fields:
        fields["code"] = str(fields["code"] or "").strip().upper()
    return _health_save(Problem, patient=patient, instance=problem, fields=fields, actor=actor)


@transaction.atomic
def medication_save(
    *, patient: Patient, actor: Actor, medication: Medication | None = None, **fields
) -> Medication:
    start, stop = fields.get("start"), fields.get("stop")
    if start and stop and stop < start:
        raise Refused(["The stop date cannot be before the start date."])
    return _health_save(Medication, patient=patient, instance=medication, fields=fields, actor=actor)


@transaction.atomic
def allergy_save(*, patient: Patient, actor: Actor, allergy: Allergy | None = None, **fields) -> Allergy:
    return _health_save(Allergy, patient=patient, instance=allergy, fields=fields, actor=actor)


# --- Documents ---------------------------------------------------------------------------


def document_type(head: bytes) -> str | None:
    """The allowed type these first bytes start, or None."""
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if b"\x00" not in head:
        try:
            head.decode("utf-8")
        except UnicodeDecodeError as exc:
            # A multi-byte character cut at the end of the sample is still text.
            if exc.start < len(head) - 3:
                return None
        return "text/plain"
    return None


def _upload_type(upload) -> str:
    if upload is None or not upload.size:
        raise Refused(["Choose a file to upload."])
    if upload.size > DOCUMENT_MAX_BYTES:
        raise Refused([f"The file is larger than {DOCUMENT_MAX_BYTES // (1024 * 1024)} MB."])
    upload.seek(0)
    head = upload.read(2048)
    upload.seek(0)
    content_type = document_type(head)
    if content_type is None:
        raise Refused(["Only PDF, PNG, JPEG and plain text files can be uploaded."])
    return content_type


def document_upload(
    *, patient: Patient, title: str, upload, show_in_portal: bool, actor: Actor, uploaded_by=None
) -> Document:
    content_type = _upload_type(upload)
    document = Document(
        patient=patient,
        title=(title or "").strip(),
        content_type=content_type,
        size=upload.size,
        show_in_portal=show_in_portal,
        uploaded_by=uploaded_by,
    )
    _check(document, exclude=["patient", "file", "uploaded_by"])
    # A random stored name (128 bits): the uploader's name never reaches the disk.
    name = f"{secrets.token_hex(16)}{DOCUMENT_TYPES[content_type]}"
    stored = Document.file.field.storage.save(document_path(document, name), upload)
    try:
        with transaction.atomic():
            document.file.name = stored
            document.save()
            audit_record(
                action="document_uploaded",
                actor=actor,
                patient_id=patient.pk,
                detail={
                    "document_id": document.pk,
                    "content_type": content_type,
                    "size": document.size,
                    "show_in_portal": show_in_portal,
                },
            )
    except BaseException:
        Document.file.field.storage.delete(stored)
        raise
    return document


@transaction.atomic
def document_visibility_set(*, document: Document, show_in_portal: bool, actor: Actor) -> Document:
    document = Document.objects.select_for_update().get(pk=document.pk)
    if document.show_in_portal != show_in_portal:
        document.show_in_portal = show_in_portal
        document.save(update_fields=["show_in_portal"])
        audit_record(
            action="document_visibility_changed",
            actor=actor,
            patient_id=document.patient_id,
            detail={"document_id": document.pk, "show_in_portal": show_in_portal},
        )
    return document


def health_summary_transmit(
    *, patient: Patient, to: str, pdf: bytes, practice: PracticeSettings, actor: Actor, detail: dict
) -> OutboxEmail:
    """SPEC L7 transmit: the email with the PDF is queued and the transmit
    audited in one transaction; the worker sends it (SPEC Q2). The PDF is
    made by the caller, before the transaction."""
    subject, body = health_summary_email(practice)
    with transaction.atomic():
        email = outbox_enqueue(
            kind=OutboxEmail.Kind.HEALTH_SUMMARY,
            to=to,
            subject=subject,
            body=body,
            patient_id=patient.pk,
            attachment=(SUMMARY_FILENAME, pdf, "application/pdf"),
        )
        audit_record(
            action="phi_transmit",
            actor=actor,
            patient_id=patient.pk,
            detail={**detail, "format": "pdf", "what": "health_summary", "to": to},
        )
    return email


def document_filename(document: Document) -> str:
    """The name a downloaded document gets, for staff and patients alike."""
    return f"{slugify(document.title)[:80] or 'document'}{DOCUMENT_TYPES.get(document.content_type, '')}"
