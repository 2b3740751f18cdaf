"""One shape for every refused request (STYLE habit 11): a service raises
`Refused` with one message per problem, each optionally tied to the input it
is about. Pages put it on their form with `refused_on_form`, the API answers
it with one handler (`molar.api.base`), commands print it as one line."""

from collections.abc import Iterable, Mapping
from enum import Enum
from typing import TYPE_CHECKING

from django.core.exceptions import NON_FIELD_ERRORS
from django.forms import BaseForm
from django.utils.functional import Promise

# A message: plain text, or a translation resolved when it is shown.
if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise as Text
else:
    Text = str | Promise


class Kind(Enum):
    """What kind of refusal, as the API's status code says it."""

    INVALID = 422  # input, eligibility, settings or policy: fix it and try again
    CONFLICT = 409  # the current state does not allow it (already provided, username taken)

    @property
    def status(self) -> int:
        return self.value


class Refused(Exception):
    """The request was refused; each message says what to fix.

    `messages`: problems about the request as a whole (one, or a list).
    `fields`: problems by the input (form field, API field, CSV column) they
    are about; a form shows them next to that field. `name_fields`: where a message stands
    alone (the API, a CLI line, an import report) it starts with its field's
    name, for inputs whose names people type (the patient API and CSV)."""

    def __init__(
        self,
        messages: Text | Iterable[Text] = (),
        *,
        fields: Mapping[str, Iterable[Text]] | None = None,
        kind: Kind = Kind.INVALID,
        name_fields: bool = False,
    ) -> None:
        # One message (maybe a lazy translation) is a problem, not its characters.
        listed: Iterable[Text] = [messages] if isinstance(messages, str | Promise) else messages
        self.problems: list[tuple[str | None, Text]] = [(None, m) for m in listed]
        for name, texts in (fields or {}).items():
            self.problems += [(None if name == NON_FIELD_ERRORS else name, t) for t in texts]
        self.kind = kind
        self.name_fields = name_fields
        super().__init__(" ".join(str(m) for m in self.messages))

    @property
    def messages(self) -> list[str]:
        """Every problem, one line each, as it reads on its own."""
        return [f"{name}: {text}" if name and self.name_fields else str(text) for name, text in self.problems]

    @property
    def fields(self) -> dict[str, list[str]]:
        by_field: dict[str, list[str]] = {}
        for name, text in self.problems:
            if name:
                by_field.setdefault(name, []).append(str(text))
        return by_field


def refused_on_form(form: BaseForm, refused: Refused) -> None:
    """Each problem next to its field when the form has that field, else at
    the top of the form."""
    for name, text in refused.problems:
        form.add_error(name if name in form.fields else None, text)
