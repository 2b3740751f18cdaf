from django.db.models import Q, QuerySet

from .models import Patient


def patients_search(query: str) -> QuerySet[Patient]:
    """Patients whose name, email or phone contains every word of the query;
    a number finds the patient with that id."""
    patients = Patient.objects.select_related("portal_account")
    for word in query.split():
        match = (
            Q(first_name__icontains=word) | Q(last_name__icontains=word)
            | Q(preferred_name__icontains=word) | Q(email__icontains=word)
            | Q(home_phone__icontains=word) | Q(wireless_phone__icontains=word)
            | Q(work_phone__icontains=word)
        )
        if word.isdigit():
            match |= Q(pk=int(word))
        patients = patients.filter(match)
    return patients
