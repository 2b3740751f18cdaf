from django import forms
from django.utils.translation import gettext_lazy as _

from .selectors import STATUS_FILTERS

# Lengths and blanks are checked by the services (one set of messages for
# every caller); the fields only carry labels and widgets.


def _body() -> forms.CharField:
    return forms.CharField(
        label=_("Message"),
        required=False,
        help_text=_("Up to 5,000 characters."),
        widget=forms.Textarea(attrs={"rows": 6}),
    )


class NewThreadForm(forms.Form):
    subject = forms.CharField(label=_("Subject"), required=False)
    body = _body()


class ReplyForm(forms.Form):
    body = _body()


class InboxFilterForm(forms.Form):
    status = forms.ChoiceField(
        label="Show", required=False, choices=[(s, s.capitalize()) for s in STATUS_FILTERS]
    )
