import datetime

from django import forms
from django.utils import timezone

from molar.patients.models import Provider


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
        if data.get("start") and data.get("end"):
            if data["end"] < data["start"]:
                self.add_error(None, "The end date is before the start date.")
            elif (data["end"] - data["start"]).days > 3 * 366:
                self.add_error(None, "Choose a reporting period of at most three years.")
        return data
