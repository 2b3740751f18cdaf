"""The portal's Account, Treatment Plan, Health Summary and Documents tabs
(SPEC L7) and their downloads. Every object comes through `subject_object`
(an id of anyone outside the subject is an audited 404, SPEC L8); pages are
audited as views by `portal_tab`, files as downloads, emails as transmits."""

import datetime
from collections.abc import Callable
from functools import wraps
from typing import Any, cast

from django.contrib import messages
from django.http import FileResponse, Http404, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from molar.audit.models import AuditEvent
from molar.records.fhir import health_summary_json as summary_json
from molar.records.forms import SendSummaryForm
from molar.records.models import Document, Statement
from molar.records.pdf import health_summary_pdf as summary_pdf
from molar.records.pdf import statement_pdf as render_statement
from molar.records.selectors import (
    balance_of,
    health_summary_of,
    portal_documents,
    recent_entries,
    statement_lines,
    statements_of,
    treatment_plans_of,
)
from molar.records.services import document_filename, health_summary_transmit

from .access import (
    PortalRequest,
    View,
    portal_audit,
    portal_audit_detail,
    portal_tab,
    portal_view,
    subject_object,
)
from .pages import portal_render

# Sending is an easy way to mail strangers from the practice's server: a few
# an hour per signed-in person is plenty for sharing one's own summary.
TRANSMITS_PER_HOUR = 10


def portal_download(tab: str) -> Callable[[View], View]:
    """Like portal_tab (signed in, tab on), but the view audits its own
    download or transmit instead of a page view."""

    def decorator(view: View) -> View:
        @wraps(view)
        def inner(request: PortalRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if not request.portal_practice.tab_enabled(tab):
                raise Http404("This part of the portal is turned off.")
            return view(request, *args, **kwargs)

        return portal_view()(cast(View, inner))

    return decorator


def _attachment(content: bytes | str, content_type: str, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


# --- Account -----------------------------------------------------------------------------


@portal_tab("account")
def account(request: PortalRequest) -> HttpResponseBase:
    subject = request.portal_subject
    return portal_render(
        request,
        "portal/account.html",
        {
            "tab": "account",
            "balance": balance_of(subject),
            "statements": statements_of(subject),
            "entries": recent_entries(subject),
        },
    )


@portal_download("account")
def statement_pdf(request: PortalRequest, pk: int) -> HttpResponseBase:
    statement = subject_object(request, Statement.objects.select_related("patient"), pk)
    pdf = render_statement(practice=request.portal_practice, lines=statement_lines(statement))
    portal_audit(request, "phi_download", format="pdf", what="statement", statement_id=statement.pk)
    return _attachment(pdf, "application/pdf", f"statement-{statement.date.isoformat()}.pdf")


# --- Treatment plan ----------------------------------------------------------------------


@portal_tab("treatment_plan")
def treatment_plan(request: PortalRequest) -> HttpResponseBase:
    return portal_render(
        request,
        "portal/treatment_plan.html",
        {"tab": "treatment_plan", "plans": treatment_plans_of(request.portal_subject)},
    )


# --- Health summary ----------------------------------------------------------------------


@portal_tab("health_summary")
def health_summary(request: PortalRequest) -> HttpResponseBase:
    return portal_render(
        request,
        "portal/health_summary.html",
        {
            "tab": "health_summary",
            "summary": health_summary_of(request.portal_subject),
            "send_form": SendSummaryForm(),
        },
    )


@portal_download("health_summary")
def health_summary_pdf(request: PortalRequest) -> HttpResponseBase:
    pdf = summary_pdf(practice=request.portal_practice, summary=health_summary_of(request.portal_subject))
    portal_audit(request, "phi_download", format="pdf", what="health_summary")
    return _attachment(pdf, "application/pdf", "health-summary.pdf")


@portal_download("health_summary")
def health_summary_fhir(request: PortalRequest) -> HttpResponseBase:
    body = summary_json(health_summary_of(request.portal_subject))
    portal_audit(request, "phi_download", format="fhir_json", what="health_summary")
    return _attachment(body, "application/fhir+json", "health-summary.json")


def _transmits_this_hour(request: PortalRequest) -> int:
    since = timezone.now() - datetime.timedelta(hours=1)
    return AuditEvent.objects.filter(
        action="phi_transmit",
        actor_id=request.portal_account.patient_id,
        actor_type__in=[AuditEvent.ActorType.PATIENT, AuditEvent.ActorType.REPRESENTATIVE],
        created_at__gte=since,
    ).count()


@require_POST
@portal_download("health_summary")
def health_summary_send(request: PortalRequest) -> HttpResponseBase:
    form = SendSummaryForm(request.POST)
    if not form.is_valid():
        for error in form.errors.get("email", [_("Enter a valid email address.")]):
            messages.error(request, _("Not sent: %(reason)s") % {"reason": error})
        return redirect("portal:health_summary")
    if _transmits_this_hour(request) >= TRANSMITS_PER_HOUR:
        messages.error(
            request, _("Not sent: you have sent the summary many times this hour. Try again later.")
        )
        return redirect("portal:health_summary")
    address = form.cleaned_data["email"]
    subject = request.portal_subject
    pdf = summary_pdf(practice=request.portal_practice, summary=health_summary_of(subject))
    health_summary_transmit(
        patient=subject,
        to=address,
        pdf=pdf,
        practice=request.portal_practice,
        actor=request.portal_actor,
        detail=portal_audit_detail(request),
    )
    messages.success(request, _("The health summary is on its way to %(address)s.") % {"address": address})
    return redirect("portal:health_summary")


# --- Documents ---------------------------------------------------------------------------


@portal_tab("documents")
def documents(request: PortalRequest) -> HttpResponseBase:
    return portal_render(
        request,
        "portal/documents.html",
        {"tab": "documents", "documents": portal_documents(request.portal_subject)},
    )


@portal_download("documents")
def document_download(request: PortalRequest, pk: int) -> HttpResponseBase:
    # SPEC L7: hidden documents are never served, whatever id is typed.
    document = subject_object(request, Document.objects.filter(show_in_portal=True), pk)
    try:
        handle = document.file.open("rb")
    except FileNotFoundError:
        raise Http404("Not found.") from None
    portal_audit(
        request, "phi_download", format=document.content_type, what="document", document_id=document.pk
    )
    response = FileResponse(
        handle, as_attachment=True, filename=document_filename(document), content_type=document.content_type
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response
