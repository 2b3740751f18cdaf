from typing import Any

from django import forms

from molar.dates import window_refusal

from .models import AuditEvent
from .selectors import DEFAULT_SORT, SORTS


class AuditFilterForm(forms.Form):
    start = forms.DateField(label="From", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label="To", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    patient = forms.IntegerField(label="Patient number", required=False, min_value=1)
    actor = forms.CharField(label="Actor name contains", required=False, max_length=150)
    actor_type = forms.ChoiceField(
        label="Actor type", required=False, choices=[("", "Any"), *AuditEvent.ActorType.choices]
    )
    action = forms.CharField(
        label="Action",
        required=False,
        max_length=64,
        widget=forms.TextInput(attrs={"list": "audit-actions", "size": 22}),
        help_text="Choose or type an action; phi_* matches every phi_ action.",
    )
    sort = forms.ChoiceField(required=False, choices=[(s, s) for s in SORTS], widget=forms.HiddenInput)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        refusal = window_refusal(
            data.get("start"), data.get("end"), reversed_text="The To date is before the From date."
        )
        if refusal:
            self.add_error("end", refusal)
        return data

    def filters(self) -> dict:
        """The cleaned filters as audit_events() arguments."""
        data = self.cleaned_data
        return {
            "start": data["start"],
            "end": data["end"],
            "patient_id": data["patient"],
            "actor": data["actor"].strip(),
            "actor_type": data["actor_type"],
            "action": data["action"].strip(),
            "sort": data["sort"] or DEFAULT_SORT,
        }
