"""Staff pages to enter what the portal's tabs show (SPEC L7): ledger entries
and statements, treatment plans, problems, medications and allergies, and
documents. Reading needs "view patient"; writing needs "change patient".
Thin: parse with a form, call one service, redirect or show what to fix."""

from django.contrib import messages
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from molar.audit.permissions import CHANGE_PATIENTS, VIEW_PATIENTS, staff_view
from molar.audit.services import Actor, audit_record
from molar.patients.models import Patient
from molar.patients.selectors import patient_for_staff
from molar.practice.models import PracticeSettings
from molar.refusal import Refused, refused_on_form

from . import services
from .forms import (
    AllergyForm,
    DocumentForm,
    LedgerEntryForm,
    MedicationForm,
    ProblemForm,
    ProcedureFormSet,
    StatementForm,
    TreatmentPlanForm,
    procedures_from,
)
from .models import Allergy, Document, Medication, Problem, Statement, TreatmentPlan
from .pdf import statement_pdf as render_statement
from .selectors import (
    balance_of,
    health_summary_of,
    recent_entries,
    staff_documents,
    statement_lines,
    statements_of,
    treatment_plans_of,
)

# The three lists of the health summary share one pair of pages.
HEALTH_KINDS = {
    "problem": (Problem, ProblemForm, services.problem_save, "Problem"),
    "medication": (Medication, MedicationForm, services.medication_save, "Medication"),
    "allergy": (Allergy, AllergyForm, services.allergy_save, "Allergy"),
}


def _records_page(request, patient: Patient, **forms):
    context = {
        "patient": patient,
        "balance": balance_of(patient),
        "entries": recent_entries(patient, 100),
        "statements": statements_of(patient),
        "plans": treatment_plans_of(patient),
        "summary": health_summary_of(patient),
        "documents": staff_documents(patient),
        "ledger_form": LedgerEntryForm(initial={"date": timezone.localdate()}),
        "statement_form": StatementForm(),
        "document_form": DocumentForm(),
        **forms,
    }
    return render(request, "records/patient.html", context)


@staff_view(VIEW_PATIENTS)
def patient_records(request, pk: int):
    return _records_page(request, patient_for_staff(pk))


def _add(request, pk: int, form_class, service, *, done: str, form_name: str):
    """A small form on the records page: valid input goes to `service`; refused
    input comes back on the page with the messages."""
    patient = patient_for_staff(pk)
    form = form_class(request.POST)
    if form.is_valid():
        try:
            service(patient=patient, actor=Actor.staff(request.user), **form.cleaned_data)
        except Refused as exc:
            refused_on_form(form, exc)
        else:
            messages.success(request, done)
            return redirect("records:patient", pk=patient.pk)
    return _records_page(request, patient, **{form_name: form})


@require_POST
@staff_view(CHANGE_PATIENTS)
def ledger_add(request, pk: int):
    return _add(
        request,
        pk,
        LedgerEntryForm,
        services.ledger_entry_add,
        done="Ledger entry added.",
        form_name="ledger_form",
    )


@require_POST
@staff_view(CHANGE_PATIENTS)
def statement_add(request, pk: int):
    return _add(
        request,
        pk,
        StatementForm,
        services.statement_create,
        done="Statement created.",
        form_name="statement_form",
    )


def _staff_download(request, patient: Patient, **detail) -> None:
    audit_record(
        action="phi_download",
        actor=Actor.staff(request.user),
        patient_id=patient.pk,
        detail={**detail, "path": request.path[:200]},
    )


@staff_view(VIEW_PATIENTS)
def statement_download(request, pk: int, statement_id: int):
    patient = patient_for_staff(pk)
    statement = get_object_or_404(
        Statement.objects.select_related("patient"), pk=statement_id, patient=patient
    )
    pdf = render_statement(practice=PracticeSettings.cached(), lines=statement_lines(statement))
    _staff_download(request, patient, format="pdf", what="statement", statement_id=statement.pk)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="statement-{statement.date.isoformat()}.pdf"'
    return response


@staff_view(CHANGE_PATIENTS)
def plan_edit(request, pk: int, plan_id: int | None = None):
    patient = patient_for_staff(pk)
    plan = get_object_or_404(TreatmentPlan, pk=plan_id, patient=patient) if plan_id else None
    initial_rows = (
        [
            {name: getattr(p, name) for name in ("order", "code", "description", "tooth", "fee")}
            for p in plan.procedures.all()
        ]
        if plan
        else []
    )
    form = TreatmentPlanForm(request.POST or None, instance=plan)
    formset = (
        ProcedureFormSet(request.POST, prefix="procedures")
        if request.method == "POST"
        else ProcedureFormSet(initial=initial_rows, prefix="procedures")
    )
    if request.method == "POST" and form.is_valid() and formset.is_valid():
        try:
            services.treatment_plan_save(
                patient=patient,
                plan=plan,
                actor=Actor.staff(request.user),
                name=form.cleaned_data["name"],
                status=form.cleaned_data["status"],
                procedures=procedures_from(formset),
            )
        except Refused as exc:
            refused_on_form(form, exc)
        else:
            messages.success(request, "Treatment plan saved.")
            return redirect("records:patient", pk=patient.pk)
    return render(
        request,
        "records/plan_form.html",
        {"patient": patient, "plan": plan, "form": form, "formset": formset},
    )


@staff_view(CHANGE_PATIENTS)
def health_edit(request, pk: int, kind: str, item_id: int | None = None):
    model, form_class, save, label = HEALTH_KINDS[kind]
    patient = patient_for_staff(pk)
    item = get_object_or_404(model, pk=item_id, patient=patient) if item_id else None
    form = form_class(request.POST or None, instance=item)
    if request.method == "POST" and form.is_valid():
        try:
            save(patient=patient, actor=Actor.staff(request.user), **{kind: item}, **form.cleaned_data)
        except Refused as exc:
            refused_on_form(form, exc)
        else:
            messages.success(request, f"{label} saved.")
            return redirect("records:patient", pk=patient.pk)
    return render(
        request, "records/health_form.html", {"patient": patient, "item": item, "form": form, "label": label}
    )


@require_POST
@staff_view(CHANGE_PATIENTS)
def document_upload(request, pk: int):
    patient = patient_for_staff(pk)
    form = DocumentForm(request.POST, request.FILES)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.document_upload(
                patient=patient,
                title=data["title"],
                upload=data["file"],
                show_in_portal=data["show_in_portal"],
                actor=Actor.staff(request.user),
                uploaded_by=request.user,
            )
        except Refused as exc:
            refused_on_form(form, exc)
        else:
            messages.success(request, "Document uploaded.")
            return redirect("records:patient", pk=patient.pk)
    return _records_page(request, patient, document_form=form)


@staff_view(VIEW_PATIENTS)
def document_download(request, pk: int, document_id: int):
    patient = patient_for_staff(pk)
    document = get_object_or_404(Document, pk=document_id, patient=patient)
    try:
        handle = document.file.open("rb")
    except FileNotFoundError:
        raise Http404("The file is missing.") from None
    _staff_download(request, patient, format=document.content_type, what="document", document_id=document.pk)
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=services.document_filename(document),
        content_type=document.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


@require_POST
@staff_view(CHANGE_PATIENTS)
def document_visibility(request, pk: int, document_id: int):
    patient = patient_for_staff(pk)
    document = get_object_or_404(Document, pk=document_id, patient=patient)
    show = request.POST.get("show_in_portal") == "1"
    services.document_visibility_set(document=document, show_in_portal=show, actor=Actor.staff(request.user))
    messages.success(request, f"“{document.title}” is {'shown in' if show else 'hidden from'} the portal.")
    return redirect("records:patient", pk=patient.pk)
