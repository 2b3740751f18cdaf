"""Unicode fonts for every PDF (SPEC V6): letters, sheets, statements and the
health summary print names in any script.

ReportLab embeds only TrueType-outline fonts. The fonts come from two pip
packages the project installs (never from the machine): Noto Sans
(`fontpkg-noto-sans`: Latin with diacritics, Vietnamese, Greek, Cyrillic)
and Noto Sans SC, KR, JP and TC (`justmytype-intl-cjk`, Google Fonts'
TrueType builds; Noto Sans CJK itself ships only as OpenType/CFF, which
ReportLab cannot embed). ReportLab has no per-character fallback, so text is
cut into runs, each in the first font that has all its characters.

Both packages hold variable fonts; ReportLab draws their default instance:
Regular for Noto Sans, Thin for the CJK fonts. Making a Regular instance
takes fontTools 20-40 s per CJK font, too slow for a request, so text drawn
on a canvas (letters, sheets) strokes CJK runs lightly to match the Latin
weight; in flowing text (statements, health summary) they stay thin."""

import threading
from importlib.resources import files
from xml.sax.saxutils import escape

from reportlab import rl_config
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

SANS = "MolarSans"
_FONT_FILES = [
    (SANS, ("fontpkg_noto_sans", "files/NotoSans[wdth,wght].ttf")),
    ("MolarSansSC", ("justmytype_intl_cjk", "fonts/ofl/notosanssc/NotoSansSC[wght].ttf")),
    ("MolarSansKR", ("justmytype_intl_cjk", "fonts/ofl/notosanskr/NotoSansKR[wght].ttf")),
    ("MolarSansJP", ("justmytype_intl_cjk", "fonts/ofl/notosansjp/NotoSansJP[wght].ttf")),
    ("MolarSansTC", ("justmytype_intl_cjk", "fonts/ofl/notosanstc/NotoSansTC[wght].ttf")),
]
STROKE = 0.035  # of the font size: a Thin CJK run stroked to about Regular
_loaded: dict[str, set[int]] = {}
_lock = threading.Lock()


def _load(index: int) -> tuple[str, set[int]]:
    """Register the index-th font on first use (a CJK font only when some text needs it)."""
    name, (package, path) = _FONT_FILES[index]
    with _lock:
        if name not in _loaded:
            font = TTFont(name, str(files(package) / path))
            pdfmetrics.registerFont(font)
            _loaded[name] = set(font.face.charToGlyph)
    return name, _loaded[name]


def sans() -> str:
    """The body font's registered name (registers it). Every canvas starts in
    it too, so no PDF names Helvetica, a font it does not embed."""
    name = _load(0)[0]
    rl_config.canvas_basefontname = name
    return name


def _font_for(char: str) -> str:
    if char.isspace():
        return SANS
    for index in range(len(_FONT_FILES)):
        name, covered = _load(index)
        if ord(char) in covered:
            return name
    return SANS  # no font has it: the PDF shows a box, as any reader would


def runs(text: str) -> list[tuple[str, str]]:
    """(font name, text) pieces, each drawn in one font."""
    sans()
    pieces: list[tuple[str, str]] = []
    for char in text:
        font = _font_for(char)
        if pieces and pieces[-1][0] == font:
            pieces[-1] = (font, pieces[-1][1] + char)
        else:
            pieces.append((font, char))
    return pieces


def string_width(text: str, size: float) -> float:
    return sum(pdfmetrics.stringWidth(piece, font, size) for font, piece in runs(text))


def draw_string(
    canvas, x: float, y: float, text: str, size: float, *, right: bool = False, heavy: bool = False
) -> None:
    """Draw one line at (x, y); `right` aligns its end there; `heavy` strokes
    every run (headings: the fonts have no bold of their own)."""
    if right:
        x -= string_width(text, size)
    for font, piece in runs(text):
        stroked = heavy or font != SANS
        label = canvas.beginText(x, y)
        label.setFont(font, size)
        if stroked:
            canvas.saveState()
            canvas.setLineWidth(size * (STROKE if font != SANS else STROKE / 2))
            label.setTextRenderMode(2)  # fill, then stroke
        label.textOut(piece)
        canvas.drawText(label)
        if stroked:
            canvas.restoreState()
        x += pdfmetrics.stringWidth(piece, font, size)


def wrap(text: str, size: float, width: float) -> list[str]:
    """Lines of at most `width` points: broken at spaces, and anywhere inside
    a word too long for a line (Chinese and Japanese have no spaces)."""
    lines: list[str] = []
    line = ""
    for word in text.split(" "):
        candidate = f"{line} {word}" if line else word
        if string_width(candidate, size) <= width:
            line = candidate
            continue
        if line:
            lines.append(line)
        line = ""
        for char in word:
            if line and string_width(line + char, size) > width:
                lines.append(line)
                line = ""
            line += char
    lines.append(line)
    return lines


def markup(text) -> str:
    """Text for a Paragraph: escaped, with a <font> tag around runs the body
    font lacks."""
    return "".join(
        escape(piece) if font == SANS else f'<font name="{font}">{escape(piece)}</font>'
        for font, piece in runs(str(text or ""))
    )
