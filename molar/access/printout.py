"""SPEC W7: the one-page credentials letter, with a QR code of the portal address."""

import io
from collections.abc import Iterable
from typing import IO

from django.utils.translation import get_language, gettext_lazy, override
from django.utils.translation import gettext as _
from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Rect
from reportlab.lib.pagesizes import letter
from reportlab.lib.units import inch
from reportlab.pdfgen import canvas

from molar.pdffonts import draw_string, sans
from molar.practice.models import PracticeSettings

INSTRUCTIONS = (
    gettext_lazy("Go to the website above (or scan the code with your phone's camera)."),
    gettext_lazy("Sign in with the username and password on this page."),
    gettext_lazy("You will be asked to choose a new password the first time you sign in."),
    gettext_lazy("Keep this page private. The password works only until you change it."),
)
QR_SIZE = 1.6 * inch


def _draw_qr(pdf: canvas.Canvas, url: str, x: float, y: float) -> None:
    """The QR code's dark modules as filled squares. Not renderPDF: a drawing
    names Helvetica in the PDF, a font no PDF here embeds (SPEC V6)."""
    widget = QrCodeWidget(url)
    x1, y1, x2, y2 = widget.getBounds()
    scale_x, scale_y = QR_SIZE / (x2 - x1), QR_SIZE / (y2 - y1)
    pdf.saveState()
    pdf.setFillColorRGB(0, 0, 0)
    for shape in widget.draw().getContents():
        if isinstance(shape, Rect) and shape.fillColor is not None:
            pdf.rect(
                x + (shape.x - x1) * scale_x,
                y + (shape.y - y1) * scale_y,
                shape.width * scale_x,
                shape.height * scale_y,
                stroke=0,
                fill=1,
            )
    pdf.restoreState()


def _draw_letter(
    pdf: canvas.Canvas, practice: PracticeSettings, username: str, password: str, url: str
) -> None:
    """In the active language (SPEC V10) and a Unicode font (SPEC V6): the
    username prints exactly as the patient must type it."""
    width, height = letter
    y = height - 1.1 * inch
    draw_string(pdf, inch, y, practice.practice_name or _("Your dental practice"), 18, heavy=True)
    y -= 0.45 * inch
    draw_string(pdf, inch, y, _("Online Access"), 14, heavy=True)
    y -= 0.5 * inch
    for label, value in ((_("Website"), url), (_("Username"), username), (_("Password"), password)):
        draw_string(pdf, inch, y, f"{label}:", 12, heavy=True)
        draw_string(pdf, 2.2 * inch, y, value, 13, heavy=label != _("Website"))
        y -= 0.35 * inch
    y -= 0.2 * inch
    for number, line in enumerate(INSTRUCTIONS, start=1):
        draw_string(pdf, inch, y, f"{number}. {line}", 11)
        y -= 0.28 * inch
    _draw_qr(pdf, url, width - inch - QR_SIZE, height - 1.1 * inch - QR_SIZE - 0.6 * inch)
    if practice.practice_phone:
        question = _("Questions? Call %(phone)s.") % {"phone": practice.practice_phone}
        draw_string(pdf, inch, 0.9 * inch, question, 10)
    pdf.showPage()


def _canvas(target: str | IO[bytes]) -> canvas.Canvas:
    # types-reportlab types initialFontName as a number; it is the font's name
    pdf = canvas.Canvas(target, pagesize=letter, pageCompression=1, initialFontName=sans())  # type: ignore[arg-type]
    pdf.setTitle(_("Online Access"))
    return pdf


def credentials_pdf(*, practice: PracticeSettings, username: str, password: str, url: str) -> bytes:
    """One letter (SPEC W7)."""
    buffer = io.BytesIO()
    pdf = _canvas(buffer)
    _draw_letter(pdf, practice, username, password, url)
    pdf.save()
    return buffer.getvalue()


def letters_pdf(
    target: str | IO[bytes], *, practice: PracticeSettings, letters: Iterable[tuple[str, ...]]
) -> None:
    """One page per (username, password, url[, language]), written to `target`
    (a path or a binary file): the bulk "Provide access and print letters"
    (SPEC I5), each in its patient's language when given (SPEC V10)."""
    pdf = _canvas(target)
    for username, password, url, *language in letters:
        with override(language[0] if language else get_language()):
            _draw_letter(pdf, practice, username, password, url)
    pdf.save()
