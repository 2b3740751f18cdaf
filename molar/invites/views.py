import io

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from molar.access.services import AccessRefused
from molar.audit.services import Actor
from molar.staff import MANAGE_ACCESS, MANAGE_SETTINGS, staff_view

from .bulk import Criteria, bulk_grant, bulk_invite, bulk_plan, bulk_progress
from .forms import BulkForm, InviteFilterForm, InviteRuleForm
from .models import BulkRun, InviteRule
from .selectors import invites_filtered
from .services import (
    RULE_FIELDS,
    RuleInvalid,
    invite_rule_create,
    invite_rule_delete,
    invite_rule_update,
    rule_warnings,
)


def _show(request, form, exc: RuleInvalid):
    for field, problems in exc.errors.items():
        for problem in problems:
            form.add_error(field if field in form.fields else None, problem)


@staff_view(MANAGE_SETTINGS)
def rule_list(request):
    return render(request, "invites/rules.html", {"rules": InviteRule.objects.all()})


@require_POST
@staff_view(MANAGE_SETTINGS)
def rule_add(request, timing: str):
    """"Add before" / "Add after": a rule with SPEC I1's defaults, switched off."""
    if timing not in InviteRule.Timing.values:
        raise Http404("No such rule timing.")
    rule = invite_rule_create(actor=Actor.staff(request.user), timing=timing, enabled=False)
    messages.success(request, "Rule added with the default timing and email. "
                              "Review it and tick Enabled to start sending.")
    return redirect("invites:rule", pk=rule.pk)


@staff_view(MANAGE_SETTINGS)
def rule_edit(request, pk: int):
    rule = get_object_or_404(InviteRule, pk=pk)
    form = InviteRuleForm(request.POST or None, instance=rule)
    if request.method == "POST" and form.is_valid():
        try:
            saved = invite_rule_update(rule=rule, actor=Actor.staff(request.user),
                                       **{name: form.cleaned_data[name] for name in RULE_FIELDS})
        except RuleInvalid as exc:
            _show(request, form, exc)
        else:
            messages.success(request, "Rule saved.")
            for warning in rule_warnings(saved):
                messages.warning(request, warning)
            return redirect("invites:rules")
    return render(request, "invites/rule_form.html",
                  {"form": form, "rule": rule, "warnings": rule_warnings(rule)})


@require_POST
@staff_view(MANAGE_SETTINGS)
def rule_delete(request, pk: int):
    invite_rule_delete(rule=get_object_or_404(InviteRule, pk=pk), actor=Actor.staff(request.user))
    messages.success(request, "Rule deleted. Invites already recorded keep their history.")
    return redirect("invites:rules")


@staff_view(MANAGE_ACCESS)
def invite_list(request):
    form = InviteFilterForm(request.GET or None)
    data = form.cleaned_data if form.is_valid() else {}
    rows = invites_filtered(status=data.get("status", ""), patient_id=data.get("patient"),
                            start=data.get("start"), end=data.get("end"))
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "invites/list.html",
                  {"form": form, "page": page, "query": query.urlencode()})


@staff_view(MANAGE_ACCESS)
def bulk(request):
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
            buffer = io.BytesIO()
            try:
                summary = bulk_grant(criteria=criteria, actor=actor, target=buffer)
            except AccessRefused as exc:
                form.add_error(None, " ".join(exc.messages))
            else:
                response = HttpResponse(buffer.getvalue(), content_type="application/pdf")
                response["Content-Disposition"] = 'attachment; filename="online-access-letters.pdf"'
                response["X-Granted"] = str(summary.granted)
                return response
        plan = bulk_plan(action=data["action"], criteria=criteria, rule=data["rule"])
    return render(request, "invites/bulk.html", {
        "form": form, "plan": plan,
        "ready": sum(1 for row in plan or () if not row.reason)})


@staff_view(MANAGE_ACCESS)
def bulk_run(request, pk: int):
    run = get_object_or_404(BulkRun, pk=pk)
    counts = bulk_progress(run)
    done = run.total - counts["queued"] - counts["sending"]
    invites = run.invites.select_related("patient", "appointment").order_by("patient__last_name")[:500]
    return render(request, "invites/bulk_run.html", {
        "run": run, "counts": counts, "done": done, "invites": invites,
        "finished": done >= run.total})
