"""Sheet templates and PDF reading shared by the sheet tests."""

import io
import re

import pytest
from pypdf import PdfReader

from molar.audit.services import Actor
from molar.sheets.services import sheet_template_create

TAG = "[patientPortalCredentials]"
MSG_TAG_IN_DASHBOARD = "The [patientPortalCredentials] tag is not allowed in Dashboards."
CREDENTIAL_LINES = ("Patient Portal Login", "UserName:", "Password:")


def pdf_text(pdf: bytes) -> str:
    assert pdf.startswith(b"%PDF")
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def printed_password(pdf: bytes) -> str:
    match = re.search(r"Password: (\S+)", pdf_text(pdf))
    return match.group(1) if match else ""


@pytest.fixture
def make_template(db):
    def make(*texts_or_fields, name="Welcome letter", kind="letter"):
        fields = [f if isinstance(f, dict) else {"kind": "static_text", "text": f} for f in texts_or_fields]
        return sheet_template_create(actor=Actor.system("test"), name=name, kind=kind, fields=fields)

    return make


@pytest.fixture
def welcome_letter(make_template):
    """A letter: greeting with the patient's name, the tag, and the practice phone."""
    return make_template(
        {"kind": "patient_field", "field_name": "first_name", "text": "Dear"},
        "Welcome to our patient portal.",
        TAG,
        {"kind": "practice_field", "field_name": "practice_phone", "text": "Questions? Call"},
    )
