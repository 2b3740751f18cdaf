from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404

from .models import Patient


def patients_search(query: str) -> QuerySet[Patient]:
    """Patients whose name, email or phone contains every word of the query.
    A number finds the patient with that id; four or more digits also search
    phones (short numbers would match nearly every phone)."""
    patients = Patient.objects.select_related("portal_account")
    for word in query.split():
        if word.isdigit() and len(word) < 4:
            patients = patients.filter(pk=int(word))
            continue
        match = (
            Q(first_name__icontains=word) | Q(last_name__icontains=word)
            | Q(preferred_name__icontains=word) | Q(email__icontains=word)
            | Q(home_phone__icontains=word) | Q(wireless_phone__icontains=word)
            | Q(work_phone__icontains=word)
        )
        if word.isdigit() and len(word) < 19:
            match |= Q(pk=int(word))
        patients = patients.filter(match)
    return patients


def patient_for_staff(pk: int) -> Patient:
    """The patient a staff page is about, with what the chart shows, or 404."""
    return get_object_or_404(
        Patient.objects.select_related("portal_account", "primary_provider", "guarantor",
                                       "responsible_party", "clinic"), pk=pk)
