from django import forms

from .models import Appointment, GuardianLink, Patient
from .services import EDITABLE_FIELDS

# The edit form shows every field the service lets staff change, except the
# external id, which only imports set (SPEC P2).
PATIENT_FIELDS = [name for name in EDITABLE_FIELDS if name != "external_id"]


class PatientForm(forms.ModelForm):
    # Patient pickers are number fields: a select of every patient would not scale.
    guarantor = forms.ModelChoiceField(
        Patient.objects.all(),
        required=False,
        widget=forms.NumberInput,
        label="Guarantor (patient number)",
        error_messages={"invalid_choice": "No patient has that number."},
    )
    responsible_party = forms.ModelChoiceField(
        Patient.objects.all(),
        required=False,
        widget=forms.NumberInput,
        label="Responsible party (patient number)",
        error_messages={"invalid_choice": "No patient has that number."},
    )

    class Meta:
        model = Patient
        fields = PATIENT_FIELDS
        widgets = {"birth_date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")}


class GuardianLinkForm(forms.ModelForm):
    guardian = forms.ModelChoiceField(
        Patient.objects.all(),
        label="Guardian (patient number)",
        widget=forms.NumberInput(attrs={"aria-label": "Guardian (patient number)"}),
        error_messages={"invalid_choice": "No patient has that number."},
    )

    class Meta:
        model = GuardianLink
        fields = ["guardian", "relationship", "is_guardian"]
        widgets = {
            "relationship": forms.TextInput(attrs={"aria-label": "Relationship"}),
            "is_guardian": forms.CheckboxInput(attrs={"aria-label": "Is guardian"}),
        }


GuardianLinkFormSet = forms.inlineformset_factory(
    Patient, GuardianLink, form=GuardianLinkForm, fk_name="patient", extra=1, can_delete=True
)


class PatientSearchForm(forms.Form):
    q = forms.CharField(required=False, label="Search", max_length=100)


class AppointmentForm(forms.ModelForm):
    start = forms.DateTimeField(
        label="Date and time",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
    )

    class Meta:
        model = Appointment
        fields = ["start", "duration_minutes", "provider", "status"]
        labels = {"duration_minutes": "Length (minutes)"}
