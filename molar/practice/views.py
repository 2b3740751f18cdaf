from django.contrib import messages
from django.shortcuts import redirect, render

from molar.audit.permissions import MANAGE_SETTINGS, staff_view
from molar.audit.services import Actor
from molar.refusal import Refused, refused_on_form

from .forms import SETTINGS_FIELDS, DisplayFieldsForm, PracticeSettingsForm
from .models import PracticeSettings
from .services import practice_logo_set, practice_settings_update


def _apply(request, form, changes) -> bool:
    try:
        practice_settings_update(actor=Actor.staff(request.user), **changes)
    except Refused as exc:
        refused_on_form(form, exc)
        return False
    return True


@staff_view(MANAGE_SETTINGS)
def settings_page(request):
    practice = PracticeSettings.load()
    post = request.POST if request.method == "POST" else None
    which = request.POST.get("form") if post else None
    form = PracticeSettingsForm(post if which == "practice" else None, instance=practice)
    fields_form = DisplayFieldsForm(post if which == "display" else None, current=practice.display_fields)
    if which == "practice" and form.is_valid():
        if _apply(request, form, {name: form.cleaned_data[name] for name in SETTINGS_FIELDS}):
            messages.success(request, "Settings saved.")
            return redirect("practice:settings")
    logo_errors = []
    if which == "logo":
        upload = None if request.POST.get("remove") else request.FILES.get("logo")
        if upload is None and not request.POST.get("remove"):
            logo_errors = ["Choose a PNG or JPEG file."]
        else:
            try:
                practice_logo_set(actor=Actor.staff(request.user), upload=upload)
            except Refused as exc:
                logo_errors = exc.messages
            else:
                messages.success(request, "Logo removed." if upload is None else "Logo saved.")
                return redirect("practice:settings")
    if which == "display" and fields_form.is_valid():
        if _apply(request, fields_form, {"display_fields": fields_form.chosen()}):
            messages.success(request, "Display fields saved.")
            return redirect("practice:settings")
    return render(
        request,
        "practice/settings.html",
        {"form": form, "fields_form": fields_form, "practice": practice, "logo_errors": logo_errors},
    )
