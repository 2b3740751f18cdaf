from django import forms
from django.utils.translation import gettext_lazy as _

from molar.refusal import Text

PASSWORD_MAX = 200  # longer input gets the policy's own message, not a crash


def _password(label: Text, autocomplete: str) -> forms.CharField:
    return forms.CharField(
        label=label,
        max_length=PASSWORD_MAX,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": autocomplete}),
    )


class SignInForm(forms.Form):
    username = forms.CharField(
        label=_("User Name"),
        max_length=200,
        widget=forms.TextInput(attrs={"autocomplete": "username", "autocapitalize": "none"}),
    )
    password = _password(_("Password"), "current-password")
    remember = forms.BooleanField(label=_("Remember User Name"), required=False)


class NewPasswordForm(forms.Form):
    new = _password(_("New password"), "new-password")
    confirm = _password(_("New password again"), "new-password")


class ChangePasswordForm(NewPasswordForm):
    current = _password(_("Current password"), "current-password")
    field_order = ["current", "new", "confirm"]


class UsernameForm(forms.Form):
    username = forms.CharField(label=_("New user name"), max_length=200)


class ChangeUsernameForm(UsernameForm):
    password = _password(_("Password"), "current-password")


class ForgotForm(forms.Form):
    username = forms.CharField(label=_("User Name"), max_length=200)


class ResetForm(NewPasswordForm):
    username = forms.CharField(label=_("User Name"), max_length=200)
    code = forms.CharField(
        label=_("Reset code"), max_length=40, widget=forms.TextInput(attrs={"autocomplete": "one-time-code"})
    )
    field_order = ["username", "code", "new", "confirm"]
