from django.contrib import messages
from django.core.paginator import Paginator
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone

from molar.audit.services import Actor
from molar.practice.models import DISPLAY_FIELD_LABELS, PracticeSettings
from molar.staff import ADD_PATIENTS, CHANGE_PATIENTS, VIEW_PATIENTS, patient_for_staff, staff_view

from .forms import (
    PATIENT_FIELDS,
    AppointmentForm,
    GuardianLinkFormSet,
    PatientForm,
    PatientSearchForm,
)
from .models import Appointment, Patient
from .selectors import patients_search
from .services import (
    APPOINTMENT_FIELDS,
    PatientInvalid,
    appointment_save,
    patient_create,
    patient_guardians_replace,
    patient_update,
)


@staff_view(VIEW_PATIENTS)
def patient_list(request):
    form = PatientSearchForm(request.GET)
    query = form.cleaned_data["q"] if form.is_valid() else ""
    page = Paginator(patients_search(query), 50).get_page(request.GET.get("page"))
    return render(request, "patients/list.html", {"form": form, "page": page, "query": query})


def _info_rows(patient: Patient, practice: PracticeSettings) -> list[tuple[str, str, str]]:
    """SPEC S4: the chart's Patient Information rows, in the practice's order."""
    account = getattr(patient, "portal_account", None)
    values = {
        "name": " ".join(p for p in (patient.first_name, patient.middle_name, patient.last_name) if p),
        "preferred_name": patient.preferred_name,
        "birth_date": patient.birth_date.isoformat() if patient.birth_date else "",
        "age": str(patient.age_on(timezone.localdate()) or ""),
        "address": ", ".join(p for p in (patient.address1, patient.address2, patient.city,
                                          f"{patient.state} {patient.zip}".strip()) if p),
        "phone": patient.phone,
        "email": patient.email,
        "status": patient.get_status_display(),
        "provider": str(patient.primary_provider or ""),
        "guarantor": str(patient.guarantor or ""),
        "patient_portal": "Online" if account is not None and account.has_access else "No access",
    }
    return [(key, DISPLAY_FIELD_LABELS[key], values[key]) for key in practice.display_fields]


@staff_view(VIEW_PATIENTS)
def patient_chart(request, pk: int):
    patient = patient_for_staff(pk)
    rows = _info_rows(patient, PracticeSettings.load())
    appointments = patient.appointments.select_related("provider").order_by("-start")[:50]
    return render(request, "patients/chart.html",
                  {"patient": patient, "rows": rows, "appointments": appointments})


def _save(request, form, formset, patient: Patient | None):
    actor = Actor.staff(request.user)
    fields = {name: form.cleaned_data[name] for name in PATIENT_FIELDS}
    links = [
        {k: f.cleaned_data[k] for k in ("guardian", "relationship", "is_guardian")}
        for f in formset.forms
        if f.cleaned_data.get("guardian") and not f.cleaned_data.get("DELETE")
    ]
    with transaction.atomic():
        if patient is None:
            patient = patient_create(actor=actor, **fields)
        else:
            patient = patient_update(patient=patient, actor=actor, **fields)
        patient_guardians_replace(patient=patient, actor=actor, links=links)
    return patient


def _edit(request, patient: Patient | None):
    form = PatientForm(request.POST or None, instance=patient)
    formset = GuardianLinkFormSet(request.POST or None, instance=patient or Patient(),
                                  prefix="links")
    if request.method == "POST" and form.is_valid() and formset.is_valid():
        try:
            saved = _save(request, form, formset, patient)
        except PatientInvalid as exc:
            for field, problems in exc.errors.items():
                for problem in problems:
                    form.add_error(None if field not in form.fields else field, problem)
        else:
            messages.success(request, "Patient saved.")
            return redirect(saved)
    return render(request, "patients/form.html",
                  {"form": form, "formset": formset, "patient": patient})


@staff_view(ADD_PATIENTS)
def patient_new(request):
    return _edit(request, None)


@staff_view(CHANGE_PATIENTS)
def patient_edit(request, pk: int):
    return _edit(request, patient_for_staff(pk))


@staff_view(CHANGE_PATIENTS)
def appointment_edit(request, pk: int, appointment_id: int | None = None):
    patient = patient_for_staff(pk)
    appointment = (get_object_or_404(Appointment, pk=appointment_id, patient=patient)
                   if appointment_id else None)
    form = AppointmentForm(request.POST or None, instance=appointment)
    if request.method == "POST" and form.is_valid():
        fields = {name: form.cleaned_data[name] for name in APPOINTMENT_FIELDS}
        try:
            appointment_save(patient=patient, actor=Actor.staff(request.user),
                             appointment=appointment, **fields)
        except PatientInvalid as exc:
            for field, problems in exc.errors.items():
                for problem in problems:
                    form.add_error(field if field in form.fields else None, problem)
        else:
            messages.success(request, "Appointment saved.")
            return redirect(patient)
    return render(request, "patients/appointment_form.html",
                  {"form": form, "patient": patient, "appointment": appointment})
