import io
import secrets

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from molar.audit.context import StaffRequest
from molar.audit.permissions import MANAGE_ACCESS, MANAGE_SETTINGS, staff_view
from molar.audit.services import Actor
from molar.refusal import Refused, refused_on_form

from .bulk import Criteria, bulk_grant, bulk_invite, bulk_letters_taken, bulk_plan, bulk_progress
from .forms import BulkForm, InviteFilterForm, InviteRuleForm
from .models import BulkRun, InviteRule
from .sealed import MAX_AGE_SECONDS, letters_discard, letters_open, letters_seal, letters_waiting
from .selectors import invites_filtered
from .services import (
    RULE_FIELDS,
    invite_rule_create,
    invite_rule_delete,
    invite_rule_update,
    rule_warnings,
)


@staff_view(MANAGE_SETTINGS)
def rule_list(request: StaffRequest) -> HttpResponse:
    return render(request, "invites/rules.html", {"rules": InviteRule.objects.all()})


@require_POST
@staff_view(MANAGE_SETTINGS)
def rule_add(request: StaffRequest, timing: str) -> HttpResponseBase:
    """ "Add before" / "Add after": a rule with SPEC I1's defaults, switched off."""
    if timing not in InviteRule.Timing.values:
        raise Http404("No such rule timing.")
    rule = invite_rule_create(actor=Actor.staff(request.user), timing=timing, enabled=False)
    messages.success(
        request, "Rule added with the default timing and email. Review it and tick Enabled to start sending."
    )
    return redirect("invites:rule", pk=rule.pk)


@staff_view(MANAGE_SETTINGS)
def rule_edit(request: StaffRequest, pk: int) -> HttpResponseBase:
    rule = get_object_or_404(InviteRule, pk=pk)
    form = InviteRuleForm(request.POST or None, instance=rule)
    if request.method == "POST" and form.is_valid():
        try:
            saved = invite_rule_update(
                rule=rule,
                actor=Actor.staff(request.user),
                **{name: form.cleaned_data[name] for name in RULE_FIELDS},
            )
        except Refused as exc:
            refused_on_form(form, exc)
        else:
            messages.success(request, "Rule saved.")
            for warning in rule_warnings(saved):
                messages.warning(request, warning)
            return redirect("invites:rules")
    return render(
        request, "invites/rule_form.html", {"form": form, "rule": rule, "warnings": rule_warnings(rule)}
    )


@require_POST
@staff_view(MANAGE_SETTINGS)
def rule_delete(request: StaffRequest, pk: int) -> HttpResponseBase:
    invite_rule_delete(rule=get_object_or_404(InviteRule, pk=pk), actor=Actor.staff(request.user))
    messages.success(request, "Rule deleted. Invites already recorded keep their history.")
    return redirect("invites:rules")


@staff_view(MANAGE_ACCESS)
def invite_list(request: StaffRequest) -> HttpResponse:
    form = InviteFilterForm(request.GET or None)
    data = form.cleaned_data if form.is_valid() else {}
    rows = invites_filtered(
        status=data.get("status", ""),
        patient_id=data.get("patient"),
        start=data.get("start"),
        end=data.get("end"),
    )
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "invites/list.html", {"form": form, "page": page, "query": query.urlencode()})


@staff_view(MANAGE_ACCESS)
def bulk(request: StaffRequest) -> HttpResponseBase:
    """SPEC I5: choose patients, see the dry run, then run."""
    form = BulkForm(request.POST or None)
    plan = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        criteria = Criteria(start=data["start"], end=data["end"], no_access_only=data["no_access_only"])
        actor = Actor.staff(request.user)
        if "run" in request.POST and data["action"] == BulkRun.Action.INVITE:
            run = bulk_invite(criteria=criteria, rule=data["rule"], actor=actor)
            return redirect("invites:bulk_run", pk=run.pk)
        if "run" in request.POST:
            try:
                return _grant_and_seal(request, criteria, actor)
            except Refused as exc:
                refused_on_form(form, exc)
        plan = bulk_plan(action=data["action"], criteria=criteria, rule=data["rule"])
    return render(
        request,
        "invites/bulk.html",
        {"form": form, "plan": plan, "ready": sum(1 for row in plan or () if not row.reason)},
    )


@staff_view(MANAGE_ACCESS)
def bulk_run(request: StaffRequest, pk: int) -> HttpResponse:
    run = get_object_or_404(BulkRun, pk=pk)
    counts = bulk_progress(run)
    done = run.total - counts["queued"] - counts["sending"]
    invites = run.invites.select_related("patient", "appointment").order_by("patient__last_name")[:500]
    return render(
        request,
        "invites/bulk_run.html",
        {"run": run, "counts": counts, "done": done, "invites": invites, "finished": done >= run.total},
    )


# --- SPEC I7: the web bulk grant's letters, offered once -----------------------------------

GRANTS_SESSION_KEY = "bulk_grants"
LETTERS_COOKIE = "molar_letters"
KEPT_RESULTS = 5


def _grant_and_seal(request: StaffRequest, criteria: Criteria, actor: Actor) -> HttpResponseBase:
    """Grant, seal the letters (the key goes to this browser only), then
    Post/Redirect/Get to the result page."""
    buffer = io.BytesIO()
    summary = bulk_grant(criteria=criteria, actor=actor, target=buffer, letters_taken=False)
    token, key = letters_seal(buffer.getvalue()) if summary.letters else (secrets.token_urlsafe(32), "")
    results = request.session.get(GRANTS_SESSION_KEY, {})
    for old_token, old in results.items():
        # Unopened letters for the same patients hold passwords this run replaced.
        if not old["taken"] and set(old["patients"]) & set(summary.patient_ids):
            letters_discard(old_token)
    results = dict(list(results.items())[-(KEPT_RESULTS - 1) :])
    results[token] = {
        "granted": summary.granted,
        "reissued": summary.reissued,
        "letters": summary.letters,
        "skipped": [[row.patient.pk, str(row.patient), row.reason] for row in summary.skipped],
        "patients": summary.patient_ids,
        "taken": False,
    }
    request.session[GRANTS_SESSION_KEY] = results
    response = redirect("invites:bulk_letters", token=token)
    if key:
        response.set_cookie(
            LETTERS_COOKIE,
            key,
            max_age=MAX_AGE_SECONDS,
            path=reverse("invites:bulk_letters_pdf", args=[token]),
            httponly=True,
            secure=settings.SESSION_COOKIE_SECURE or request.is_secure(),
            samesite="Strict",
        )
    return response


def _grant_result(request: StaffRequest, token: str) -> dict:
    """This browser's own result; anyone else's is a 404."""
    result: dict | None = request.session.get(GRANTS_SESSION_KEY, {}).get(token)
    if result is None:
        raise Http404("No such bulk grant in this session.")
    return result


@staff_view(MANAGE_ACCESS)
def bulk_letters(request: StaffRequest, token: str) -> HttpResponse:
    result = _grant_result(request, token)
    waiting = bool(request.COOKIES.get(LETTERS_COOKIE)) and letters_waiting(token)
    return render(
        request,
        "invites/bulk_letters.html",
        {"token": token, "result": result, "waiting": waiting, "max_minutes": MAX_AGE_SECONDS // 60},
    )


@require_POST
@staff_view(MANAGE_ACCESS)
def bulk_letters_pdf(request: StaffRequest, token: str) -> HttpResponseBase:
    result = _grant_result(request, token)
    pdf = letters_open(token, request.COOKIES.get(LETTERS_COOKIE, ""))
    if pdf is None:
        messages.error(
            request,
            "These letters were already opened, or were not opened within the hour, "
            "and are not kept. See below how to get new ones.",
        )
        return redirect("invites:bulk_letters", token=token)
    bulk_letters_taken(
        patient_ids=result["patients"], letters=result["letters"], actor=Actor.staff(request.user)
    )
    result["taken"] = True
    request.session.modified = True
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = 'inline; filename="online-access-letters.pdf"'
    response["Cache-Control"] = "no-store"
    response.delete_cookie(LETTERS_COOKIE, path=request.path, samesite="Strict")
    return response
