"""Sheets in the JSON API (SPEC H1, X2): templates with their fields inline, and
sheets made for a patient (a PDF; stored copies never hold a password)."""

import datetime
from typing import Any, Literal

from django.http import Http404, HttpResponse
from ninja import Field, Router, Schema, Status

from molar.audit.context import StaffRequest
from molar.audit.permissions import MANAGE_ACCESS, MANAGE_SETTINGS
from molar.audit.services import Actor
from molar.patients.selectors import patient_for_staff
from molar.refusal import Refused
from molar.sheets.models import Sheet, SheetField, SheetTemplate
from molar.sheets.services import (
    sheet_create,
    sheet_reprint,
    sheet_template_create,
    sheet_template_delete,
    sheet_template_update,
)

from .base import require

router = Router(tags=["sheets"])

TemplateKind = Literal["letter", "form", "dashboard"]
FieldKind = Literal["static_text", "patient_field", "practice_field"]
PDF_RESPONSE: dict[str, Any] = {
    "responses": {"201": {"content": {"application/pdf": {}}}, "200": {"content": {"application/pdf": {}}}}
}


class SheetFieldIn(Schema):
    kind: FieldKind
    text: str = Field("", max_length=5000)
    field_name: str = Field("", max_length=40)


class SheetFieldOut(SheetFieldIn):
    order: int


class SheetTemplateIn(Schema):
    name: str = Field(max_length=200)
    kind: TemplateKind = "letter"
    fields: list[SheetFieldIn] = Field(default_factory=list, max_length=200)


class SheetTemplatePatch(Schema):
    name: str | None = Field(None, max_length=200)
    kind: TemplateKind | None = None
    fields: list[SheetFieldIn] | None = Field(None, max_length=200)


class SheetTemplateOut(Schema):
    id: int
    name: str
    kind: TemplateKind
    fields: list[SheetFieldOut]
    created_at: datetime.datetime
    updated_at: datetime.datetime

    @staticmethod
    def resolve_fields(obj: SheetTemplate) -> list[SheetField]:
        return list(obj.fields.all())


class SheetCreateIn(Schema):
    template_id: int


class SheetOut(Schema):
    id: int
    patient_id: int
    template_id: int | None
    template_name: str
    created_at: datetime.datetime
    created_by: str
    credentials: Literal["none", "issued", "omitted"]
    omitted_reasons: list[str]
    content: list[str]  # the password line shows asterisks (SPEC C4)


def _template_or_404(template_id: int) -> SheetTemplate:
    template = SheetTemplate.objects.prefetch_related("fields").filter(pk=template_id).first()
    if template is None:
        raise Http404("Sheet template not found.")
    return template


def _pdf(pdf: bytes, sheet: Sheet, status: int) -> HttpResponse:
    response = HttpResponse(pdf, content_type="application/pdf", status=status)
    response["Content-Disposition"] = f'attachment; filename="sheet-{sheet.pk}.pdf"'
    response["X-Sheet-Id"] = str(sheet.pk)
    return response


@router.get("/sheet-templates", response=list[SheetTemplateOut])
def list_templates(request: StaffRequest) -> list[SheetTemplate]:
    require(request, MANAGE_ACCESS)
    return list(SheetTemplate.objects.prefetch_related("fields"))


@router.post("/sheet-templates", response={201: SheetTemplateOut})
def create_template(request: StaffRequest, payload: SheetTemplateIn) -> Status:
    require(request, MANAGE_SETTINGS)
    template = sheet_template_create(
        actor=Actor.staff(request.user),
        name=payload.name,
        kind=payload.kind,
        fields=[f.dict() for f in payload.fields],
    )
    return Status(201, template)


@router.get("/sheet-templates/{template_id}", response=SheetTemplateOut)
def get_template(request: StaffRequest, template_id: int) -> SheetTemplate:
    require(request, MANAGE_ACCESS)
    return _template_or_404(template_id)


@router.patch("/sheet-templates/{template_id}", response=SheetTemplateOut)
def update_template(request: StaffRequest, template_id: int, payload: SheetTemplatePatch) -> SheetTemplate:
    """Given `fields` replace all of the template's fields; omitted ones stay."""
    require(request, MANAGE_SETTINGS)
    template = _template_or_404(template_id)
    changes = payload.dict(exclude_unset=True)
    for key in ("name", "kind", "fields"):
        if key in changes and changes[key] is None:
            raise Refused([f"{key}: must not be null."])
    template = sheet_template_update(template=template, actor=Actor.staff(request.user), **changes)
    return _template_or_404(template.pk)


@router.delete("/sheet-templates/{template_id}", response={204: None})
def delete_template(request: StaffRequest, template_id: int) -> Status:
    require(request, MANAGE_SETTINGS)
    sheet_template_delete(template=_template_or_404(template_id), actor=Actor.staff(request.user))
    return Status(204, None)


@router.post("/patients/{patient_id}/sheets", response={201: None}, openapi_extra=PDF_RESPONSE)
def create_sheet(request: StaffRequest, patient_id: int, payload: SheetCreateIn) -> HttpResponse:
    """The new sheet as a PDF (with the one-time password, if any: this response
    is the only copy); its id is in the X-Sheet-Id header."""
    require(request, MANAGE_ACCESS, patient_id)
    patient = patient_for_staff(patient_id)
    template = SheetTemplate.objects.filter(pk=payload.template_id).first()
    if template is None:
        raise Refused([f"template_id: no sheet template has the id {payload.template_id}."])
    sheet, pdf = sheet_create(template=template, patient=patient, actor=Actor.staff(request.user))
    return _pdf(pdf, sheet, 201)


@router.get("/patients/{patient_id}/sheets", response=list[SheetOut])
def list_sheets(request: StaffRequest, patient_id: int) -> list[Sheet]:
    require(request, MANAGE_ACCESS, patient_id)
    return list(Sheet.objects.filter(patient=patient_for_staff(patient_id))[:500])


@router.get("/sheets/{sheet_id}/pdf", response={200: None}, openapi_extra=PDF_RESPONSE)
def reprint_sheet(request: StaffRequest, sheet_id: int) -> HttpResponse:
    sheet = Sheet.objects.filter(pk=sheet_id).first()
    require(request, MANAGE_ACCESS, sheet.patient_id if sheet else None)
    if sheet is None:
        raise Http404("Sheet not found.")
    return _pdf(sheet_reprint(sheet=sheet, actor=Actor.staff(request.user)), sheet, 200)
