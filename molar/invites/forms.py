from django import forms

from .bulk import bulk_window_refusal
from .models import BulkRun, Invite, InviteRule


class InviteRuleForm(forms.ModelForm):
    class Meta:
        model = InviteRule
        fields = [
            "timing",
            "days",
            "hours",
            "mode",
            "revisit_days",
            "enabled",
            "subject",
            "body",
            "subject_es",
            "body_es",
        ]
        widgets = {"body": forms.Textarea(attrs={"rows": 12}), "body_es": forms.Textarea(attrs={"rows": 12})}
        help_texts = {
            "body": "Tags: [NameF] [NamePreferredOrFirst] [OfficeName] [OfficePhone] [ApptDate] "
            "[ApptTime] [UserName] [Password] [PatientPortalURL] [ActivationLink]",
            "body_es": "Optional. Patients whose language is Spanish get this version; leave both "
            "Spanish fields blank to send everyone the one above. Same tags.",
        }


class InviteFilterForm(forms.Form):
    status = forms.ChoiceField(choices=[("", "Any status"), *Invite.Status.choices], required=False)
    start = forms.DateField(label="From", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label="To", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    patient = forms.IntegerField(label="Patient number", required=False, min_value=1)


class BulkForm(forms.Form):
    action = forms.ChoiceField(
        choices=BulkRun.Action.choices, widget=forms.RadioSelect, initial=BulkRun.Action.INVITE
    )
    start = forms.DateField(label="Appointments from", widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label="to", widget=forms.DateInput(attrs={"type": "date"}))
    no_access_only = forms.BooleanField(
        label="Only patients without online access", required=False, initial=True
    )
    rule = forms.ModelChoiceField(
        InviteRule.objects.all(), required=False, label="Email text from rule", empty_label="(choose a rule)"
    )

    def clean(self):
        data = super().clean()
        refusal = bulk_window_refusal(data.get("start"), data.get("end"))
        if refusal:
            self.add_error(None, refusal)
        if data.get("action") == BulkRun.Action.INVITE and not data.get("rule"):
            self.add_error("rule", "Choose the invite rule whose email text to send.")
        return data
