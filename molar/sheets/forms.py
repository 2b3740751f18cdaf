from django import forms

from .models import PATIENT_FIELD_CHOICES, PRACTICE_FIELD_CHOICES, SheetField, SheetTemplate
from .services import MAX_FIELDS, MAX_TEXT

FIELD_NAME_CHOICES = [
    ("", "(none: static text)"),
    ("Patient", PATIENT_FIELD_CHOICES),
    ("Practice", PRACTICE_FIELD_CHOICES),
]


class TemplateForm(forms.Form):
    name = forms.CharField(max_length=100)
    kind = forms.ChoiceField(choices=SheetTemplate.Kind.choices, initial=SheetTemplate.Kind.LETTER)


class FieldForm(forms.Form):
    order = forms.IntegerField(
        min_value=0, max_value=9999, required=False, widget=forms.NumberInput(attrs={"class": "narrow"})
    )
    # An initial kind, so that an untouched extra row counts as unchanged and is skipped.
    kind = forms.ChoiceField(choices=SheetField.Kind.choices, initial=SheetField.Kind.STATIC_TEXT)
    field_name = forms.ChoiceField(
        choices=FIELD_NAME_CHOICES, required=False, label="Patient or practice field"
    )
    text = forms.CharField(
        required=False,
        max_length=MAX_TEXT,
        label="Text or label",
        widget=forms.Textarea(attrs={"rows": 3, "cols": 40}),
    )


FieldFormSet = forms.formset_factory(
    FieldForm,
    extra=3,
    can_delete=True,
    max_num=MAX_FIELDS,
    validate_max=True,
    absolute_max=MAX_FIELDS + 50,
)


def fields_from(formset: forms.BaseFormSet) -> list[dict]:
    """The kept rows, sorted by their Order number (rows without one keep their place)."""
    rows = [
        (f.cleaned_data.get("order"), index, f.cleaned_data)
        for index, f in enumerate(formset.forms)
        if f.cleaned_data and not f.cleaned_data.get("DELETE")
    ]
    rows.sort(key=lambda row: (row[0] if row[0] is not None else row[1], row[1]))
    return [{k: data[k] for k in ("kind", "field_name", "text")} for _, _, data in rows]


def initial_fields(template: SheetTemplate | None) -> list[dict]:
    if template is None:
        return []
    return [
        {"order": f.order, "kind": f.kind, "field_name": f.field_name, "text": f.text}
        for f in template.fields.all()
    ]


class CreateSheetForm(forms.Form):
    template = forms.ModelChoiceField(
        SheetTemplate.objects.all(),
        label="Sheet template",
        empty_label=None,
        error_messages={
            "invalid_choice": "Choose a sheet template from the list.",
            "required": "Choose a sheet template.",
        },
    )
