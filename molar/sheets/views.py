"""Staff pages for sheets (SPEC H1): templates (administrators) and a patient's
sheets (staff who manage portal access, since a sheet may hand out credentials).

A new sheet's PDF is the response to the POST that made it: the one-time
password in it is never kept anywhere else."""

from collections.abc import Sequence

from django.contrib import messages
from django.db.models import Count
from django.forms import BaseFormSet
from django.http import HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from molar.audit.context import StaffRequest
from molar.audit.permissions import MANAGE_ACCESS, MANAGE_SETTINGS, staff_view
from molar.audit.services import Actor
from molar.patients.models import Patient
from molar.patients.selectors import patient_for_staff
from molar.refusal import Refused

from .forms import CreateSheetForm, FieldFormSet, TemplateForm, fields_from, initial_fields
from .models import Sheet, SheetTemplate
from .services import (
    sheet_create,
    sheet_reprint,
    sheet_template_create,
    sheet_template_delete,
    sheet_template_update,
)


def _pdf(pdf: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@staff_view(MANAGE_SETTINGS)
def template_list(request: StaffRequest) -> HttpResponseBase:
    templates = SheetTemplate.objects.annotate(field_count=Count("fields"))
    return render(request, "sheets/template_list.html", {"templates": templates})


def _save_template(
    request: StaffRequest, template: SheetTemplate | None, form: TemplateForm, formset: BaseFormSet
) -> SheetTemplate:
    actor = Actor.staff(request.user)
    values = {
        "name": form.cleaned_data["name"],
        "kind": form.cleaned_data["kind"],
        "fields": fields_from(formset),
    }
    if template is None:
        return sheet_template_create(actor=actor, **values)
    return sheet_template_update(template=template, actor=actor, **values)


def _edit(request: StaffRequest, template: SheetTemplate | None) -> HttpResponseBase:
    initial = {"name": template.name, "kind": template.kind} if template else None
    form = TemplateForm(request.POST if request.method == "POST" else None, initial=initial)
    # Bound: no initial, so every posted row with content counts as changed and
    # none is dropped however the management form counts them.
    formset = (
        FieldFormSet(request.POST, prefix="fields")
        if request.method == "POST"
        else FieldFormSet(initial=initial_fields(template), prefix="fields")
    )
    problems: list[str] = []
    if request.method == "POST":
        if form.is_valid() and formset.is_valid():
            try:
                saved = _save_template(request, template, form, formset)
            except Refused as exc:
                problems = exc.messages
            else:
                messages.success(request, f"Sheet template \u201c{saved.name}\u201d saved.")
                return redirect("sheets:template_edit", template_id=saved.pk)
        else:
            problems = ["Please correct the errors below.", *formset.non_form_errors()]
    return render(
        request,
        "sheets/template_form.html",
        {
            "form": form,
            "formset": formset,
            "template": template,
            "problems": problems,
        },
    )


@staff_view(MANAGE_SETTINGS)
def template_new(request: StaffRequest) -> HttpResponseBase:
    return _edit(request, None)


@staff_view(MANAGE_SETTINGS)
def template_edit(request: StaffRequest, template_id: int) -> HttpResponseBase:
    return _edit(request, get_object_or_404(SheetTemplate, pk=template_id))


@staff_view(MANAGE_SETTINGS)
def template_delete(request: StaffRequest, template_id: int) -> HttpResponseBase:
    """A confirmation step that works without JavaScript."""
    template = get_object_or_404(SheetTemplate, pk=template_id)
    if request.method != "POST" or request.POST.get("confirm") != "yes":
        return render(request, "sheets/template_delete.html", {"template": template})
    sheet_template_delete(template=template, actor=Actor.staff(request.user))
    messages.success(request, f"Sheet template \u201c{template.name}\u201d deleted.")
    return redirect("sheets:templates")


def _patient_page(
    request: StaffRequest,
    patient: Patient,
    *,
    form: CreateSheetForm | None = None,
    problems: Sequence[str] = (),
    status: int = 200,
) -> HttpResponseBase:
    sheets = Sheet.objects.filter(patient=patient)[:200]
    return render(
        request,
        "sheets/patient_sheets.html",
        {
            "patient": patient,
            "sheets": sheets,
            "form": form or CreateSheetForm(),
            "problems": problems,
        },
        status=status,
    )


@staff_view(MANAGE_ACCESS)
def patient_sheets(request: StaffRequest, pk: int) -> HttpResponseBase:
    return _patient_page(request, patient_for_staff(pk))


@require_POST
@staff_view(MANAGE_ACCESS)
def sheet_new(request: StaffRequest, pk: int) -> HttpResponseBase:
    patient = patient_for_staff(pk)
    form = CreateSheetForm(request.POST)
    if not form.is_valid():
        problems = [str(e) for errors in form.errors.values() for e in errors]
        return _patient_page(request, patient, form=form, problems=problems)
    try:
        sheet, pdf = sheet_create(
            template=form.cleaned_data["template"], patient=patient, actor=Actor.staff(request.user)
        )
    except Refused as exc:
        return _patient_page(request, patient, form=form, problems=exc.messages)
    if sheet.credentials == Sheet.Credentials.OMITTED:
        # Shown on the next page staff open: the download leaves this page as it was.
        messages.warning(
            request, "The sheet was made without portal credentials: " + " ".join(sheet.omitted_reasons)
        )
    return _pdf(pdf, f"sheet-{sheet.pk}.pdf")


@require_POST
@staff_view(MANAGE_ACCESS)
def sheet_print(request: StaffRequest, pk: int, sheet_id: int) -> HttpResponseBase:
    """Print a stored sheet again. The patient in the URL must be the sheet's."""
    patient = patient_for_staff(pk)
    sheet = get_object_or_404(Sheet, pk=sheet_id, patient=patient)
    pdf = sheet_reprint(sheet=sheet, actor=Actor.staff(request.user))
    return _pdf(pdf, f"sheet-{sheet.pk}.pdf")
