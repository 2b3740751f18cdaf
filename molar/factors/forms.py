from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _


class CodeForm(forms.Form):
    """The second step of a sign-in: an authenticator code or a recovery code."""

    code = forms.CharField(
        label=_("Code from your authenticator app, or a recovery code"),
        max_length=40,
        required=False,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "autocapitalize": "characters", "spellcheck": "false"}
        ),
    )
    credential = forms.CharField(required=False, max_length=20_000, widget=forms.HiddenInput)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("code") and not data.get("credential"):
            raise forms.ValidationError(_("Enter the code, or use your passkey."))
        return data


class TotpForm(forms.Form):
    code = forms.CharField(
        label=_("The 6-digit code the app shows now"),
        max_length=10,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )
    name = forms.CharField(label=_("Name (e.g. “My phone”)"), max_length=60, required=False)


class PasskeyForm(forms.Form):
    credential = forms.CharField(max_length=20_000, widget=forms.HiddenInput)
    name = forms.CharField(label=_("Name (e.g. “Work laptop”)"), max_length=60, required=False)
