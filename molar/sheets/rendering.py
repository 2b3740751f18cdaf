"""SPEC H1: a template's fields become lines of text, and lines become a PDF.

Pure functions: no database writes, no credentials made here. The caller
passes the credential lines (or none) that replace the tag."""

import datetime
import io

from django.utils import timezone
from reportlab.lib.pagesizes import letter
from reportlab.lib.units import inch
from reportlab.pdfgen import canvas

from molar.patients.models import Patient
from molar.pdffonts import draw_string, sans, wrap
from molar.practice.models import PracticeSettings

from .models import CREDENTIALS_TAG, SheetField

MASKED_PASSWORD = "********"  # noqa: S105 (what a stored sheet shows instead of the password)

BODY_SIZE = 11
LEADING = 15
MARGIN = inch


def credential_lines(username: str, password: str) -> list[str]:
    """The three lines SPEC H1 prints in place of the tag."""
    return ["Patient Portal Login", f"UserName: {username}", f"Password: {password}"]


def _address_lines(record: Patient | PracticeSettings) -> list[str]:
    """Street lines, then "City, ST ZIP": a letter's address block."""
    last = ", ".join(p for p in (record.city, f"{record.state} {record.zip}".strip()) if p)
    return [line for line in (record.address1, record.address2, last) if line.strip()]


def _patient_value(patient: Patient, name: str) -> list[str]:
    if name == "address":
        return _address_lines(patient)
    if name == "full_name":
        return [" ".join(p for p in (patient.first_name, patient.middle_name, patient.last_name) if p)]
    if name == "birth_date":
        return [patient.birth_date.isoformat() if patient.birth_date else ""]
    if name == "phone":
        return [patient.phone]
    return [getattr(patient, name)]


def _practice_value(practice: PracticeSettings, name: str) -> list[str]:
    if name == "practice_address":
        return _address_lines(practice)
    return [getattr(practice, name)]


def _static_lines(text: str, credentials: list[str]) -> list[str]:
    """Each line of the text; a line holding the tag is split around it, and
    the tag becomes the credential lines, or nothing when there are none."""
    lines: list[str] = []
    for line in text.splitlines():
        if CREDENTIALS_TAG not in line:
            lines.append(line.rstrip())
            continue
        for i, part in enumerate(line.split(CREDENTIALS_TAG)):
            if i:
                lines.extend(credentials)
            if part.strip():
                lines.append(part.strip())
    return lines


def sheet_lines(
    fields: list[SheetField], *, patient: Patient, practice: PracticeSettings, credentials: list[str]
) -> list[str]:
    lines: list[str] = []
    for field in fields:
        if field.kind == SheetField.Kind.STATIC_TEXT:
            lines.extend(_static_lines(field.text, credentials))
            continue
        if field.kind == SheetField.Kind.PATIENT_FIELD:
            values = _patient_value(patient, field.field_name) or [""]
        else:
            values = _practice_value(practice, field.field_name) or [""]
        label = field.text.strip()
        if label:
            values[0] = f"{label} {values[0]}".rstrip()
        lines.extend(values)
    return lines


def sheet_pdf(
    *, practice_name: str, template_name: str, lines: list[str], created_at: datetime.datetime
) -> bytes:
    """Practice name, template name and date, then the lines, wrapped to the
    page width; more pages when the lines do not fit on one."""
    buffer = io.BytesIO()
    # The reportlab stubs type the font name as a number; it is the font's name.
    pdf = canvas.Canvas(buffer, pagesize=letter, pageCompression=1, initialFontName=sans())  # type: ignore[arg-type]
    pdf.setTitle(template_name)
    pdf.setAuthor(practice_name)
    width, height = letter
    text_width = width - 2 * MARGIN
    y = height - 1.1 * inch
    draw_string(pdf, MARGIN, y, practice_name or "Your dental practice", 16, heavy=True)
    y -= 0.4 * inch
    draw_string(pdf, MARGIN, y, template_name, 13, heavy=True)
    y -= 0.25 * inch
    draw_string(pdf, MARGIN, y, timezone.localtime(created_at).date().isoformat(), 9)
    y -= 0.45 * inch
    page = 1
    for line in lines:
        for piece in wrap(line, BODY_SIZE, text_width):
            if y < MARGIN:
                _footer(pdf, page)
                pdf.showPage()
                page += 1
                y = height - MARGIN
            draw_string(pdf, MARGIN, y, piece, BODY_SIZE)
            y -= LEADING
    if page > 1:
        _footer(pdf, page)
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def _footer(pdf: canvas.Canvas, page: int) -> None:
    draw_string(pdf, letter[0] - MARGIN, 0.6 * inch, f"Page {page}", 9, right=True)
