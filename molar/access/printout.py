"""SPEC W7: the one-page credentials letter, with a QR code of the portal address."""

import io

from reportlab.graphics import renderPDF
from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing
from reportlab.lib.pagesizes import letter
from reportlab.lib.units import inch
from reportlab.pdfgen import canvas

from molar.practice.models import PracticeSettings

INSTRUCTIONS = (
    "Go to the website above (or scan the code with your phone's camera).",
    "Sign in with the username and password on this page.",
    "You will be asked to choose a new password the first time you sign in.",
    "Keep this page private. The password works only until you change it.",
)
QR_SIZE = 1.6 * inch


def _qr(url: str) -> Drawing:
    widget = QrCodeWidget(url)
    x1, y1, x2, y2 = widget.getBounds()
    drawing = Drawing(QR_SIZE, QR_SIZE, transform=[QR_SIZE / (x2 - x1), 0, 0, QR_SIZE / (y2 - y1), 0, 0])
    drawing.add(widget)
    return drawing


def _draw_letter(pdf: canvas.Canvas, practice: PracticeSettings, username: str, password: str,
                 url: str) -> None:
    width, height = letter
    y = height - 1.1 * inch
    pdf.setFont("Helvetica-Bold", 18)
    pdf.drawString(inch, y, practice.practice_name or "Your dental practice")
    y -= 0.45 * inch
    pdf.setFont("Helvetica-Bold", 14)
    pdf.drawString(inch, y, "Online Access")
    y -= 0.5 * inch
    for label, value in (("Website", url), ("Username", username), ("Password", password)):
        pdf.setFont("Helvetica-Bold", 12)
        pdf.drawString(inch, y, f"{label}:")
        pdf.setFont("Courier-Bold" if label != "Website" else "Helvetica", 13)
        pdf.drawString(2.2 * inch, y, value)
        y -= 0.35 * inch
    y -= 0.2 * inch
    pdf.setFont("Helvetica", 11)
    for number, line in enumerate(INSTRUCTIONS, start=1):
        pdf.drawString(inch, y, f"{number}. {line}")
        y -= 0.28 * inch
    renderPDF.draw(_qr(url), pdf, width - inch - QR_SIZE, height - 1.1 * inch - QR_SIZE - 0.6 * inch)
    if practice.practice_phone:
        pdf.setFont("Helvetica", 10)
        pdf.drawString(inch, 0.9 * inch, f"Questions? Call {practice.practice_phone}.")
    pdf.showPage()


def _canvas(target) -> canvas.Canvas:
    pdf = canvas.Canvas(target, pagesize=letter, pageCompression=1)
    pdf.setTitle("Online Access")
    return pdf


def credentials_pdf(*, practice: PracticeSettings, username: str, password: str, url: str) -> bytes:
    """One letter (SPEC W7)."""
    buffer = io.BytesIO()
    pdf = _canvas(buffer)
    _draw_letter(pdf, practice, username, password, url)
    pdf.save()
    return buffer.getvalue()


def letters_pdf(target, *, practice: PracticeSettings, letters) -> None:
    """One page per (username, password, url), written to `target` (a path or
    a binary file): the bulk "Provide access and print letters" (SPEC I5)."""
    pdf = _canvas(target)
    for username, password, url in letters:
        _draw_letter(pdf, practice, username, password, url)
    pdf.save()
