import datetime

from django import forms
from django.utils import timezone

from molar.patients.models import Provider

from .measures import period_refusal


class MeasureForm(forms.Form):
    start = forms.DateField(label="From", widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label="To", widget=forms.DateInput(attrs={"type": "date"}))
    provider = forms.ModelChoiceField(Provider.objects.all(), required=False, empty_label="All providers")

    @classmethod
    def defaults(cls) -> dict:
        today = timezone.localdate()
        return {"start": datetime.date(today.year, 1, 1), "end": today}

    def clean(self):
        data = super().clean()
        refusal = period_refusal(data.get("start"), data.get("end"))
        if refusal:
            self.add_error(None, refusal)
        return data
