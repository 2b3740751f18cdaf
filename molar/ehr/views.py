"""SPEC E2: the dashboard, its per-patient list and CSV export."""

from django.core.paginator import Paginator
from django.http import StreamingHttpResponse
from django.shortcuts import render
from django.urls import reverse

from molar.access.models import PortalAccount
from molar.audit.permissions import MANAGE_ACCESS, staff_view
from molar.spreadsheets import csv_stream

from .forms import MeasureForm
from .measures import DESCRIPTION, attach_names, electronic_copy_access, with_names

CSV_HEADER = ["patient_id", "name", "first_visit", "deadline", "access_provided", "met", "reason"]


def _measure(request):
    form = MeasureForm(request.GET or MeasureForm.defaults())
    if not form.is_valid():
        return form, None
    data = form.cleaned_data
    provider = data["provider"].pk if data["provider"] else None
    return form, electronic_copy_access(start=data["start"], end=data["end"], provider_id=provider)


@staff_view(MANAGE_ACCESS)
def dashboard(request):
    form, result = _measure(request)
    page = None
    if result is not None:
        # Patients who missed first: they are the ones staff can act on.
        ordered = sorted(result.patients, key=lambda row: (row.met, row.first_visit, row.patient_id))
        page = Paginator(ordered, 100).get_page(request.GET.get("page"))
        attach_names(page.object_list)
    online = _online({row.patient_id for row in page.object_list} if page else set())
    query = request.GET.copy()
    query.pop("page", None)
    here = f"{reverse('ehr:dashboard')}?{query.urlencode()}"
    return render(
        request,
        "ehr/dashboard.html",
        {
            "form": form,
            "result": result,
            "page": page,
            "description": DESCRIPTION,
            "query": query.urlencode(),
            "here": here,
            "online": online,
        },
    )


def _online(patient_ids: set[int]) -> set[int]:
    """Patients shown who have access now (given here, or in Open Dental and
    synced) but missed the deadline: no Provide Online Access for them."""
    return set(
        PortalAccount.objects.filter(patient_id__in=patient_ids)
        .exclude(password__startswith="!")  # noqa: S106 (unusable mark)
        .values_list("patient_id", flat=True)
    )


@staff_view(MANAGE_ACCESS)
def dashboard_csv(request):
    form, result = _measure(request)
    if result is None:
        return render(request, "ehr/dashboard.html", {"form": form, "description": DESCRIPTION}, status=400)
    rows = (
        [
            row.patient_id,
            row.name,
            row.first_visit,
            row.deadline,
            row.access_on,
            "yes" if row.met else "no",
            row.reason,
        ]
        for row in with_names(result.patients)
    )
    response = StreamingHttpResponse(csv_stream(CSV_HEADER, rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="electronic-copy-access-{result.start}-{result.end}.csv"'
    )
    return response
