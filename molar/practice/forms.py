from django import forms

from .models import DISPLAY_FIELD_CHOICES, PracticeSettings
from .services import EDITABLE_FIELDS

# Every setting the service lets an administrator change, except the display
# fields, which have their own form (DisplayFieldsForm).
SETTINGS_FIELDS = [name for name in EDITABLE_FIELDS if name != "display_fields"]


class PracticeSettingsForm(forms.ModelForm):
    class Meta:
        model = PracticeSettings
        fields = SETTINGS_FIELDS
        widgets = {"patient_facing_url": forms.URLInput(attrs={"placeholder": "https://"})}

    def __init__(self, *args, **kwargs):
        from .services import opendental_fields

        super().__init__(*args, **kwargs)
        for name in opendental_fields():  # SPEC O4: shown, not editable
            self.fields[name].disabled = True
            self.fields[name].help_text = "Managed in Open Dental"

    def clean_country(self):
        return self.cleaned_data["country"].strip().upper()


class DisplayFieldsForm(forms.Form):
    """SPEC S4: tick the rows to show and number them in the order wanted."""

    def __init__(self, *args, current: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        for position, (key, label) in enumerate(DISPLAY_FIELD_CHOICES, start=1):
            shown = key in current
            order = current.index(key) + 1 if shown else len(current) + position
            self.fields[f"show_{key}"] = forms.BooleanField(label=label, required=False, initial=shown)
            self.fields[f"order_{key}"] = forms.IntegerField(
                label=f"Order of {label}",
                min_value=1,
                max_value=99,
                initial=order,
                widget=forms.NumberInput(attrs={"aria-label": f"Order of {label}"}),
            )

    def rows(self):
        return [(self[f"show_{key}"], self[f"order_{key}"]) for key, _ in DISPLAY_FIELD_CHOICES]

    def chosen(self) -> list[str]:
        data = self.cleaned_data
        keys = [key for key, _ in DISPLAY_FIELD_CHOICES if data[f"show_{key}"]]
        return sorted(keys, key=lambda key: data[f"order_{key}"])
