"""Forms parse what staff and patients type; the services decide what is allowed."""

from django import forms
from django.utils.translation import gettext_lazy

from .models import Allergy, LedgerEntry, Medication, Problem, TreatmentPlan
from .services import DOCUMENT_MAX_BYTES

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class LedgerEntryForm(forms.ModelForm):
    class Meta:
        model = LedgerEntry
        fields = ["date", "kind", "description", "amount"]
        widgets = {"date": DATE}
        help_texts = {
            "amount": "Charges and payments without a sign; an adjustment that lowers "
            "the balance (a credit) with a minus sign."
        }


class StatementForm(forms.Form):
    period_start = forms.DateField(label="Period from", widget=DATE)
    period_end = forms.DateField(label="Period to", widget=DATE)


class TreatmentPlanForm(forms.ModelForm):
    class Meta:
        model = TreatmentPlan
        fields = ["name", "status"]


class ProcedureForm(forms.Form):
    """A plain form: a blank Order is allowed (the service numbers rows in page order)."""

    order = forms.IntegerField(
        required=False, min_value=0, max_value=32767, widget=forms.NumberInput(attrs={"style": "width: 5em"})
    )
    code = forms.CharField(max_length=10, widget=forms.TextInput(attrs={"size": 8}))
    description = forms.CharField(max_length=200)
    tooth = forms.CharField(max_length=10, required=False, widget=forms.TextInput(attrs={"size": 4}))
    fee = forms.DecimalField(max_digits=10, decimal_places=2, min_value=0)


ProcedureFormSet = forms.formset_factory(
    ProcedureForm, extra=3, can_delete=True, max_num=100, validate_max=True
)


def procedures_from(formset) -> list[dict]:
    return [
        {name: form.cleaned_data.get(name) for name in ProcedureForm.base_fields}
        for form in formset.forms
        if form.has_changed() and form.cleaned_data and not form.cleaned_data.get("DELETE")
    ]


class ProblemForm(forms.ModelForm):
    class Meta:
        model = Problem
        fields = ["name", "code", "onset", "status"]
        widgets = {"onset": DATE}


class MedicationForm(forms.ModelForm):
    class Meta:
        model = Medication
        fields = ["name", "instructions", "start", "stop", "active"]
        widgets = {"start": DATE, "stop": DATE}


class AllergyForm(forms.ModelForm):
    class Meta:
        model = Allergy
        fields = ["substance", "reaction", "severity", "active"]


class DocumentForm(forms.Form):
    title = forms.CharField(max_length=200)
    file = forms.FileField(
        help_text=f"PDF, PNG, JPEG or plain text, up to {DOCUMENT_MAX_BYTES // (1024 * 1024)} MB."
    )
    show_in_portal = forms.BooleanField(label="Show in portal", required=False)


class SendSummaryForm(forms.Form):
    """SPEC L7 transmit: the patient's own choice of addressee."""

    email = forms.EmailField(label=gettext_lazy("Email address"), max_length=254)
