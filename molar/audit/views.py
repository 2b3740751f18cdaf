from django.http import StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.utils import timezone

from molar.audit.context import StaffRequest
from molar.audit.permissions import MANAGE_SETTINGS, staff_view

from .export import csv_lines
from .forms import AuditFilterForm
from .selectors import DEFAULT_SORT, KNOWN_ACTIONS, audit_events
from .services import Actor, audit_record

PAGE_SIZE = 50
LAST_PAGE = 20_000  # a million rows: narrow the dates to look further
COLUMNS = (
    ("created_at", "When"),
    ("actor_label", "Actor"),
    ("patient_id", "Patient"),
    ("action", "Action"),
    ("outcome", "Outcome"),
    ("client_ip", "Address"),
)


def _page_number(request: StaffRequest) -> int:
    try:
        return min(max(int(request.GET.get("page", 1)), 1), LAST_PAGE)
    except ValueError:
        return 1


def _headers(request: StaffRequest, sort: str) -> list[dict]:
    """Column headings whose links sort by that column, then reverse it."""
    query = request.GET.copy()
    query.pop("page", None)
    headers = []
    for name, label in COLUMNS:
        query["sort"] = f"-{name}" if sort == name else name
        direction = {name: "ascending", f"-{name}": "descending"}.get(sort, "")
        headers.append({"label": label, "query": query.urlencode(), "aria_sort": direction})
    return headers


def detail_readable(detail: dict) -> str:
    """SPEC V9: an event's detail as words staff read ("Source: window ·
    Reasons: Missing patient city."), not JSON; the CSV keeps the JSON."""
    if not isinstance(detail, dict):
        return "" if detail in (None, "", [], {}) else str(detail)
    parts = []
    for key in sorted(detail):
        value = detail[key]
        if isinstance(value, dict):
            value = detail_readable(value)
        elif isinstance(value, list | tuple):
            value = " ".join(str(item) for item in value)
        elif isinstance(value, bool):
            value = "yes" if value else "no"
        parts.append(f"{key.replace('_', ' ').capitalize()}: {value}")
    return " · ".join(parts)


@staff_view(MANAGE_SETTINGS)
def report(request: StaffRequest) -> HttpResponseBase:
    """SPEC T2: the trail by date, patient, actor and action."""
    return _report_page(request, AuditFilterForm(request.GET))


def _report_page(request: StaffRequest, form: AuditFilterForm) -> HttpResponseBase:
    """One page of events. Whether there is a next page is found by fetching
    one row more than shown: no COUNT over millions of rows."""
    number, events, has_next = _page_number(request), [], False
    sort = DEFAULT_SORT
    if form.is_valid():
        filters = form.filters()
        sort = filters["sort"]
        offset = (number - 1) * PAGE_SIZE
        events = list(audit_events(**filters)[offset : offset + PAGE_SIZE + 1])
        has_next = len(events) > PAGE_SIZE
        events = events[:PAGE_SIZE]
        for event in events:
            # display-only attributes for the template, not model fields
            event.detail_text = detail_readable(event.detail)  # type: ignore[attr-defined]
            event.action_text = event.action.replace("_", " ").capitalize()  # type: ignore[attr-defined]
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "audit/report.html",
        {
            "form": form,
            "events": events,
            "number": number,
            "has_next": has_next,
            "query": query.urlencode(),
            "headers": _headers(request, sort),
            "actions": KNOWN_ACTIONS,
            "zone": timezone.get_current_timezone_name(),
        },
        status=200 if form.is_valid() else 400,
    )


@staff_view(MANAGE_SETTINGS)
def export(request: StaffRequest) -> HttpResponseBase:
    form = AuditFilterForm(request.GET)
    if not form.is_valid():
        return _report_page(request, form)
    filters = form.filters()
    # Exporting the trail is itself worth a row: it leaves the building.
    audit_record(
        action="audit_exported",
        actor=Actor.staff(request.user),
        detail={k: str(v) for k, v in filters.items() if v},
    )
    response = StreamingHttpResponse(csv_lines(audit_events(**filters)), content_type="text/csv")
    response["Content-Disposition"] = f'attachment; filename="audit-{timezone.localdate():%Y%m%d}.csv"'
    return response
