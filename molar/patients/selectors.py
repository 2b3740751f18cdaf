from django.db.models import Q, QuerySet
from django.http import Http404

from .models import Patient, Provider


def patient_find(pk: int) -> Patient | None:
    """The patient numbered `pk`, with what a chart, an access page and an
    API answer show; None when there is none. Staff pages and the API (through
    patient_for_staff) and the command line look a patient up here."""
    return (
        Patient.objects.select_related(
            "portal_account",
            "primary_provider",
            "guarantor",
            "responsible_party",
            "clinic",
        )
        .filter(pk=pk)
        .first()
    )


def provider_by_abbreviation(abbreviation: str) -> Provider | None:
    """The provider an abbreviation names (exactly, as Open Dental shows it)."""
    return Provider.objects.filter(abbreviation=abbreviation).first()


def patients_search(query: str) -> QuerySet[Patient]:
    """Patients whose name, email or phone contains every word of the query.
    A number finds the patient with that id; four or more digits also search
    phones (short numbers would match nearly every phone)."""
    patients = Patient.objects.select_related("portal_account")
    for word in query.split():
        number = word.isascii() and word.isdigit()  # "¹" is a digit to isdigit, not a number to int
        if number and len(word) < 4:
            patients = patients.filter(pk=int(word))
            continue
        match = (
            Q(first_name__icontains=word)
            | Q(last_name__icontains=word)
            | Q(preferred_name__icontains=word)
            | Q(email__icontains=word)
            | Q(home_phone__icontains=word)
            | Q(wireless_phone__icontains=word)
            | Q(work_phone__icontains=word)
        )
        if number and len(word) < 19:
            match |= Q(pk=int(word))
        patients = patients.filter(match)
    return patients


def patient_for_staff(pk: int) -> Patient:
    """The patient a staff page or an API call names, or 404."""
    patient = patient_find(pk)
    if patient is None:
        raise Http404("Patient not found.")
    return patient
