"""One refusal type for every service and one adapter onto forms (habit 11)."""

from django import forms
from django.utils.translation import gettext_lazy

from molar.refusal import Kind, Refused, refused_on_form


class MessageForm(forms.Form):
    subject = forms.CharField(required=False)
    body = forms.CharField(required=False)


def _form() -> MessageForm:
    form = MessageForm({"subject": "Hello", "body": "Text"})
    assert form.is_valid()
    return form


def test_field_problems_go_on_their_fields_and_the_rest_on_top():
    form = _form()
    refused_on_form(
        form,
        Refused(
            "The conversation is closed.",
            fields={
                "body": ["Write a message."],
                "status": ["Unknown status."],
                "__all__": ["Managed elsewhere."],
            },
        ),
    )

    assert form.errors == {
        "body": ["Write a message."],
        "__all__": ["The conversation is closed.", "Unknown status.", "Managed elsewhere."],
    }
    assert "body" not in form.cleaned_data and form.cleaned_data["subject"] == "Hello"


def test_a_refusal_without_fields_is_all_on_top():
    form = _form()
    refused_on_form(form, Refused(["One.", "Two."]))

    assert form.non_field_errors() == ["One.", "Two."] and not form.has_error("body")


def test_one_message_is_one_problem_not_its_characters():
    assert Refused("No staff user ana.").messages == ["No staff user ana."]
    assert Refused(gettext_lazy("That code is not right.")).messages == ["That code is not right."]
    assert str(Refused(["Fix this.", "And that."])) == "Fix this. And that."


def test_messages_stand_alone_and_fields_group_them():
    refused = Refused(
        fields={"first_name": ["First name is required."], "__all__": ["Managed."]},
        name_fields=True,
        kind=Kind.CONFLICT,
    )

    assert refused.messages == ["first_name: First name is required.", "Managed."]
    assert refused.fields == {"first_name": ["First name is required."]}
    assert refused.kind.status == 409 and Refused("x").kind.status == 422
