import os
import re
import secrets
import time
from pathlib import Path

from django.conf import settings
from django.contrib import messages
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.formats import date_format
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_POST

from molar.audit.permissions import ADD_PATIENTS, CHANGE_PATIENTS, VIEW_PATIENTS, staff_view
from molar.audit.services import Actor
from molar.patients.selectors import patient_for_staff
from molar.practice.models import DISPLAY_FIELD_LABELS, PracticeSettings
from molar.refusal import Refused, refused_on_form

from .forms import (
    PATIENT_FIELDS,
    AppointmentForm,
    GuardianLinkFormSet,
    PatientForm,
    PatientSearchForm,
)
from .importing import PREVIEW_ROWS, patients_import_csv
from .models import Appointment, Patient
from .selectors import patients_search
from .services import (
    APPOINTMENT_FIELDS,
    MANAGED_MESSAGE,
    OPENDENTAL_FIELDS,
    appointment_save,
    patient_save_with_guardians,
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
        "birth_date": date_format(patient.birth_date) if patient.birth_date else "",  # SPEC V9
        "age": str(patient.age_on(timezone.localdate()) or ""),
        "address": ", ".join(
            p
            for p in (
                patient.address1,
                patient.address2,
                patient.city,
                f"{patient.state} {patient.zip}".strip(),
            )
            if p
        ),
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
    rows = _info_rows(patient, PracticeSettings.cached())
    appointments = patient.appointments.select_related("provider", "clinic").order_by("-start")[:50]
    guardian_links = patient.guardian_links.select_related("guardian").order_by("guardian__first_name")
    return render(
        request,
        "patients/chart.html",
        {"patient": patient, "rows": rows, "appointments": appointments, "guardian_links": guardian_links},
    )


def _save(request, form, formset, patient: Patient | None):
    actor = Actor.staff(request.user)
    fields = {name: form.cleaned_data[name] for name in PATIENT_FIELDS}
    links = [
        {k: f.cleaned_data[k] for k in ("guardian", "relationship", "is_guardian")}
        for f in formset.forms
        if f.cleaned_data.get("guardian") and not f.cleaned_data.get("DELETE")
    ]
    return patient_save_with_guardians(patient=patient, actor=actor, links=links, **fields)


def _edit(request, patient: Patient | None):
    form = PatientForm(request.POST or None, instance=patient)
    formset = GuardianLinkFormSet(request.POST or None, instance=patient or Patient(), prefix="links")
    managed = patient is not None and patient.managed_by_opendental
    if managed:  # SPEC O4: shown, not editable; posted values are ignored
        for name in OPENDENTAL_FIELDS:
            if name in form.fields:
                form.fields[name].disabled = True
        for link_form in formset.forms:
            for field in link_form.fields.values():
                field.disabled = True
    if request.method == "POST" and form.is_valid() and formset.is_valid():
        try:
            saved = _save(request, form, formset, patient)
        except Refused as exc:
            refused_on_form(form, exc)
        else:
            messages.success(request, "Patient saved.")
            return redirect(saved)
    return render(
        request,
        "patients/form.html",
        {
            "form": form,
            "formset": formset,
            "patient": patient,
            "managed": managed,
            "managed_message": MANAGED_MESSAGE,
        },
    )


@staff_view(ADD_PATIENTS)
def patient_new(request):
    return _edit(request, None)


@staff_view(CHANGE_PATIENTS)
def patient_edit(request, pk: int):
    return _edit(request, patient_for_staff(pk))


@staff_view(CHANGE_PATIENTS)
def appointment_edit(request, pk: int, appointment_id: int | None = None):
    patient = patient_for_staff(pk)
    appointment = (
        get_object_or_404(Appointment, pk=appointment_id, patient=patient) if appointment_id else None
    )
    form = AppointmentForm(request.POST or None, instance=appointment)
    managed = appointment is not None and appointment.managed_by_opendental
    if managed:
        for field in form.fields.values():
            field.disabled = True
    if request.method == "POST" and managed:
        form.is_valid()
        form.add_error(None, MANAGED_MESSAGE)
    elif request.method == "POST" and form.is_valid():
        fields = {name: form.cleaned_data[name] for name in APPOINTMENT_FIELDS}
        try:
            appointment_save(
                patient=patient, actor=Actor.staff(request.user), appointment=appointment, **fields
            )
        except Refused as exc:
            refused_on_form(form, exc)
        else:
            messages.success(request, "Appointment saved.")
            return redirect(patient)
    return render(
        request,
        "patients/appointment_form.html",
        {
            "form": form,
            "patient": patient,
            "appointment": appointment,
            "managed": managed,
            "managed_message": MANAGED_MESSAGE,
        },
    )


# --- Import (SPEC P2): upload, preview (a dry run), then import ---------------------------

IMPORT_MAX_BYTES = 20 * 1024 * 1024
IMPORT_SESSION_KEY = "patients_import"
UPLOAD_TOKEN = re.compile(r"[A-Za-z0-9_-]{43}")
UPLOAD_MAX_AGE = 24 * 3600


class _UploadLimit(FileUploadHandler):
    """Stops storing an upload once it passes IMPORT_MAX_BYTES: the rest of the
    request is read and dropped, never written to disk."""

    exceeded = False
    received = 0

    def receive_data_chunk(self, raw_data, start):
        self.received += len(raw_data)
        if self.received > IMPORT_MAX_BYTES:
            self.exceeded = True
            raise StopUpload(connection_reset=False)
        return raw_data

    def file_complete(self, file_size):
        return None


def _uploads() -> Path:
    folder = settings.MOLAR_HOME / "uploads"
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    return folder


def _upload_save(upload) -> str:
    """Keep the upload in a private file named by a fresh token (256 bits); the
    token goes into the session, so no client ever names a path."""
    folder = _uploads()
    for old in folder.glob("patients-*.csv"):  # previews never confirmed
        if old.stat().st_mtime < time.time() - UPLOAD_MAX_AGE:
            old.unlink(missing_ok=True)
    token = secrets.token_urlsafe(32)
    fd = os.open(folder / f"patients-{token}.csv", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        for chunk in upload.chunks():
            out.write(chunk)
    return token


def _upload_pending(request) -> tuple[Path, str] | None:
    """The upload waiting in this session (path, name); None, with a message
    saying to upload it again, when there is none."""
    pending = request.session.get(IMPORT_SESSION_KEY) or {}
    token = pending.get("token", "")
    path = _uploads() / f"patients-{token}.csv"
    if not UPLOAD_TOKEN.fullmatch(token) or not path.exists():
        messages.error(request, "No file is waiting to be imported. Upload it again.")
        return None
    return path, pending.get("name", "")


def _upload_discard(request) -> None:
    token = (request.session.pop(IMPORT_SESSION_KEY, None) or {}).get("token", "")
    if UPLOAD_TOKEN.fullmatch(token):
        (_uploads() / f"patients-{token}.csv").unlink(missing_ok=True)


def _import_view(view):
    """Importing creates patients and updates existing ones: it needs both permissions."""
    return staff_view(ADD_PATIENTS)(staff_view(CHANGE_PATIENTS)(view))


@csrf_exempt  # checked by csrf_protect below, once the size limit is in place (Django's upload handler docs)
@_import_view
def patient_import(request):
    limit = _UploadLimit()
    request.upload_handlers.insert(0, limit)
    return _patient_import(request, limit)


@csrf_protect
def _patient_import(request, limit: _UploadLimit):
    error = None
    if request.method == "POST":
        upload = request.FILES.get("file")
        if limit.exceeded:
            error = (
                f"The file is larger than {IMPORT_MAX_BYTES // (1024 * 1024)} MB. "
                "Split it into smaller files and import each one."
            )
        elif upload is None or not upload.size:
            error = "Choose a CSV file to import."
        else:
            _upload_discard(request)
            request.session[IMPORT_SESSION_KEY] = {"token": _upload_save(upload), "name": upload.name[:100]}
            return redirect("patients:import_preview")
    return render(
        request, "patients/import.html", {"error": error, "max_mb": IMPORT_MAX_BYTES // (1024 * 1024)}
    )


@_import_view
def patient_import_preview(request):
    pending = _upload_pending(request)
    if pending is None:
        return redirect("patients:import")
    try:
        summary = patients_import_csv(
            path=pending[0], actor=Actor.staff(request.user), dry_run=True, preview_rows=PREVIEW_ROWS
        )
    except Refused as exc:
        _upload_discard(request)
        messages.error(request, str(exc))
        return redirect("patients:import")
    return render(request, "patients/import_preview.html", {"summary": summary, "name": pending[1]})


@require_POST
@_import_view
def patient_import_run(request):
    pending = _upload_pending(request)
    if pending is None:
        return redirect("patients:import")
    try:
        summary = patients_import_csv(path=pending[0], actor=Actor.staff(request.user))
    except Refused as exc:
        messages.error(request, str(exc))
        return redirect("patients:import")
    finally:
        _upload_discard(request)
    return render(request, "patients/import_done.html", {"summary": summary, "name": pending[1]})


@require_POST
@_import_view
def patient_import_cancel(request):
    _upload_discard(request)
    messages.info(request, "Import cancelled; the uploaded file was deleted.")
    return redirect("patients:import")
