"""PDFs of a statement and of the health summary (SPEC L7), built with
reportlab's flowables so long histories run onto more pages."""

import io
from decimal import Decimal

from django.utils import timezone
from django.utils.translation import gettext as _
from reportlab.lib import colors
from reportlab.lib.pagesizes import letter
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import inch
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from molar.pdffonts import markup, sans
from molar.practice.models import PracticeSettings

from .selectors import HealthSummary, StatementLines

_styles = getSampleStyleSheet()
for _name in ("Title", "Heading1", "Heading2", "BodyText", "Italic"):
    _styles[_name].fontName = sans()  # SPEC V6: any script prints (molar/pdffonts.py)
BODY, SMALL = _styles["BodyText"], _styles["Italic"]
TABLE_STYLE = TableStyle(
    [
        ("FONTNAME", (0, 0), (-1, -1), sans()),
        ("LINEBELOW", (0, 0), (-1, 0), 0.8, colors.black),
        ("LINEBELOW", (0, 1), (-1, -1), 0.25, colors.grey),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
    ]
)


def _p(text, style=BODY) -> Paragraph:
    # Paragraph reads markup: typed text is escaped so "<" prints as itself,
    # and runs the body font lacks get a font that has them.
    return Paragraph(markup(text), style)


def money(value: Decimal) -> str:
    return f"-${-value:,.2f}" if value < 0 else f"${value:,.2f}"


def _table(header: list[str], rows: list[list], widths: list[float], empty: str) -> list:
    if not rows:
        return [_p(empty)]
    table = Table(
        [header, *[[_p(c) for c in row] for row in rows]], colWidths=[w * inch for w in widths], repeatRows=1
    )
    table.setStyle(TABLE_STYLE)
    return [table]


def _heading(practice: PracticeSettings, title: str, lines: list[str]) -> list:
    story = [
        Paragraph(markup(practice.practice_name or _("Your dental practice")), _styles["Title"]),
        Paragraph(markup(title), _styles["Heading1"]),
    ]
    story += [_p(line) for line in lines if line]
    return [*story, Spacer(1, 0.2 * inch)]


def _build(story: list, title: str) -> bytes:
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=letter,
        title=title,
        leftMargin=0.8 * inch,
        rightMargin=0.8 * inch,
        topMargin=0.8 * inch,
        bottomMargin=0.8 * inch,
    )
    doc.build(story)
    return buffer.getvalue()


def _date(value) -> str:
    return value.isoformat() if value else ""


def statement_pdf(*, practice: PracticeSettings, lines: StatementLines) -> bytes:
    statement, patient = lines.statement, lines.statement.patient
    story = _heading(
        practice,
        _("Statement"),
        [
            patient.full_name,
            ", ".join(
                p
                for p in (
                    patient.address1,
                    patient.address2,
                    patient.city,
                    f"{patient.state} {patient.zip}".strip(),
                )
                if p
            ),
            _("Statement date: %(day)s") % {"day": _date(statement.date)},
            _("Period: %(start)s to %(end)s")
            % {"start": _date(statement.period_start), "end": _date(statement.period_end)},
        ],
    )
    rows = [[_date(e.date), e.description, e.get_kind_display(), money(e.amount)] for e in lines.entries]
    story += _table(
        [_("Date"), _("Description"), _("Kind"), _("Amount")],
        rows,
        [1.0, 3.6, 1.0, 1.2],
        _("No account activity in this period."),
    )
    story.append(Spacer(1, 0.25 * inch))
    totals = Table(
        [
            [_("Previous balance"), money(lines.previous_balance)],
            [_("Charges"), money(lines.charges)],
            [_("Payments and credits"), money(lines.credits)],
            [_("Balance"), money(lines.ending_balance)],
        ],
        colWidths=[2.2 * inch, 1.2 * inch],
        hAlign="RIGHT",
    )
    totals.setStyle(
        TableStyle(
            [("FONTNAME", (0, 0), (-1, -1), sans()), ("LINEABOVE", (0, 3), (-1, 3), 0.8, colors.black)]
        )
    )
    story.append(totals)
    if practice.practice_phone:
        question = _("Questions about this statement? Call %(phone)s.") % {"phone": practice.practice_phone}
        story += [Spacer(1, 0.3 * inch), _p(question)]
    return _build(story, _("Statement"))


def health_summary_pdf(*, practice: PracticeSettings, summary: HealthSummary) -> bytes:
    patient = summary.patient
    story = _heading(
        practice,
        _("Health Summary"),
        [
            patient.full_name,
            _("Birth date: %(day)s") % {"day": _date(patient.birth_date)} if patient.birth_date else "",
            _("Prepared %(day)s") % {"day": _date(timezone.localdate())},
        ],
    )
    active, inactive = _("Active"), _("Inactive")
    story.append(Paragraph(markup(_("Problems")), _styles["Heading2"]))
    story += _table(
        [_("Problem"), _("Code"), _("Onset"), _("Status")],
        [[p.name, p.code, _date(p.onset), p.get_status_display()] for p in summary.problems],
        [3.2, 1.1, 1.1, 1.0],
        _("No problems recorded."),
    )
    story.append(Paragraph(markup(_("Medications")), _styles["Heading2"]))
    story += _table(
        [_("Medication"), _("Dose and instructions"), _("Start"), _("Stop"), _("Status")],
        [
            [m.name, m.instructions, _date(m.start), _date(m.stop), active if m.active else inactive]
            for m in summary.medications
        ],
        [1.8, 2.2, 0.9, 0.9, 0.8],
        _("No medications recorded."),
    )
    story.append(Paragraph(markup(_("Allergies")), _styles["Heading2"]))
    story += _table(
        [_("Substance"), _("Reaction"), _("Severity"), _("Status")],
        [
            [a.substance, a.reaction, a.get_severity_display(), active if a.active else inactive]
            for a in summary.allergies
        ],
        [2.2, 2.4, 1.0, 1.0],
        _("No allergies recorded."),
    )
    return _build(story, _("Health Summary"))
