"""Staff pages for sheets (SPEC H1): templates (administrators) and a patient's
sheets (staff who manage portal access, since a sheet may hand out credentials).

A new sheet's PDF is the response to the POST that made it: the one-time
password in it is never kept anywhere else."""

from django.contrib import messages
from django.db.models import Count
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from molar.audit.services import Actor
from molar.patients.selectors import patient_for_staff
from molar.staff import MANAGE_ACCESS, MANAGE_SETTINGS, staff_view

from .forms import CreateSheetForm, FieldFormSet, TemplateForm, fields_from, initial_fields
from .models import Sheet, SheetTemplate
from .services import (
    SheetInvalid,
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
def template_list(request):
    templates = SheetTemplate.objects.annotate(field_count=Count("fields"))
    return render(request, "sheets/template_list.html", {"templates": templates})


def _save_template(request, template, form, formset):
    actor = Actor.staff(request.user)
    values = {"name": form.cleaned_data["name"], "kind": form.cleaned_data["kind"],
              "fields": fields_from(formset)}
    if template is None:
        return sheet_template_create(actor=actor, **values)
    return sheet_template_update(template=template, actor=actor, **values)


def _edit(request, template: SheetTemplate | None):
    initial = {"name": template.name, "kind": template.kind} if template else None
    form = TemplateForm(request.POST if request.method == "POST" else None, initial=initial)
    # Bound: no initial, so every posted row with content counts as changed and
    # none is dropped however the management form counts them.
    formset = (FieldFormSet(request.POST, prefix="fields") if request.method == "POST"
               else FieldFormSet(initial=initial_fields(template), prefix="fields"))
    problems: list[str] = []
    if request.method == "POST":
        if form.is_valid() and formset.is_valid():
            try:
                saved = _save_template(request, template, form, formset)
            except SheetInvalid as exc:
                problems = exc.messages
            else:
                messages.success(request, f"Sheet template \u201c{saved.name}\u201d saved.")
                return redirect("sheets:template_edit", template_id=saved.pk)
        else:
            problems = ["Please correct the errors below.", *formset.non_form_errors()]
    return render(request, "sheets/template_form.html", {
        "form": form, "formset": formset, "template": template, "problems": problems,
    })


@staff_view(MANAGE_SETTINGS)
def template_new(request):
    return _edit(request, None)


@staff_view(MANAGE_SETTINGS)
def template_edit(request, template_id: int):
    return _edit(request, get_object_or_404(SheetTemplate, pk=template_id))


@staff_view(MANAGE_SETTINGS)
def template_delete(request, template_id: int):
    """A confirmation step that works without JavaScript."""
    template = get_object_or_404(SheetTemplate, pk=template_id)
    if request.method != "POST" or request.POST.get("confirm") != "yes":
        return render(request, "sheets/template_delete.html", {"template": template})
    sheet_template_delete(template=template, actor=Actor.staff(request.user))
    messages.success(request, f"Sheet template \u201c{template.name}\u201d deleted.")
    return redirect("sheets:templates")


def _patient_page(request, patient, *, form=None, problems=(), status=200):
    sheets = Sheet.objects.filter(patient=patient)[:200]
    return render(request, "sheets/patient_sheets.html", {
        "patient": patient, "sheets": sheets, "form": form or CreateSheetForm(),
        "problems": problems,
    }, status=status)


@staff_view(MANAGE_ACCESS)
def patient_sheets(request, pk: int):
    return _patient_page(request, patient_for_staff(pk))


@require_POST
@staff_view(MANAGE_ACCESS)
def sheet_new(request, pk: int):
    patient = patient_for_staff(pk)
    form = CreateSheetForm(request.POST)
    if not form.is_valid():
        problems = [e for errors in form.errors.values() for e in errors]
        return _patient_page(request, patient, form=form, problems=problems)
    try:
        sheet, pdf = sheet_create(template=form.cleaned_data["template"], patient=patient,
                                  actor=Actor.staff(request.user))
    except SheetInvalid as exc:
        return _patient_page(request, patient, form=form, problems=exc.messages)
    if sheet.credentials == Sheet.Credentials.OMITTED:
        # Shown on the next page staff open: the download leaves this page as it was.
        messages.warning(request, "The sheet was made without portal credentials: "
                         + " ".join(sheet.omitted_reasons))
    return _pdf(pdf, f"sheet-{sheet.pk}.pdf")


@require_POST
@staff_view(MANAGE_ACCESS)
def sheet_print(request, pk: int, sheet_id: int):
    """Print a stored sheet again. The patient in the URL must be the sheet's."""
    patient = patient_for_staff(pk)
    sheet = get_object_or_404(Sheet, pk=sheet_id, patient=patient)
    pdf = sheet_reprint(sheet=sheet, actor=Actor.staff(request.user))
    return _pdf(pdf, f"sheet-{sheet.pk}.pdf")
