from django import forms

from .models import Invite, InviteRule


class InviteRuleForm(forms.ModelForm):
    class Meta:
        model = InviteRule
        fields = ["timing", "days", "hours", "mode", "revisit_days", "enabled", "subject", "body"]
        widgets = {"body": forms.Textarea(attrs={"rows": 12, "cols": 70})}
        help_texts = {
            "body": "Tags: [NameF] [NamePreferredOrFirst] [OfficeName] [OfficePhone] [ApptDate] "
                    "[ApptTime] [UserName] [Password] [PatientPortalURL] [ActivationLink]",
        }


class InviteFilterForm(forms.Form):
    status = forms.ChoiceField(choices=[("", "Any status"), *Invite.Status.choices], required=False)
    start = forms.DateField(label="From", required=False,
                            widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label="To", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    patient = forms.IntegerField(label="Patient number", required=False, min_value=1)
