"""SPEC V6: every PDF embeds a Unicode font, so names print in any script.
Read back with poppler's pdftotext, as a patient's printer would show them."""

import datetime
import shutil
import subprocess
from decimal import Decimal

import pytest
from django.utils import timezone

from molar.access.models import PortalAccount
from molar.access.printout import credentials_pdf
from molar.access.services import access_printout, access_provide, access_rename
from molar.audit.services import Actor
from molar.records import services as records
from molar.records.pdf import health_summary_pdf, statement_pdf
from molar.records.selectors import health_summary_of, statement_lines
from molar.sheets.rendering import sheet_pdf

STAFF = Actor.system("test")
NAMES = {
    "Latin with diacritics": "Łukasz",
    "Vietnamese": "Đức",
    "Greek": "Ελένη",
    "Cyrillic": "Ольга",
    "Chinese": "李",
    "Japanese": "さくら",
    "Korean": "김민준",
}


def pdftotext(pdf: bytes) -> str:
    assert shutil.which("pdftotext"), "poppler-utils is needed (scripts/test-deps.sh installs it)"
    done = subprocess.run(["pdftotext", "-q", "-", "-"], input=pdf, capture_output=True, check=True)
    return done.stdout.decode()


def pdffonts(pdf: bytes, tmp_path) -> list[list[str]]:
    path = tmp_path / "fonts.pdf"
    path.write_bytes(pdf)
    out = subprocess.run(["pdffonts", str(path)], capture_output=True, check=True, text=True).stdout
    return [line.split() for line in out.splitlines()[2:]]


def assert_every_font_embedded(pdf: bytes, tmp_path) -> None:
    rows = pdffonts(pdf, tmp_path)
    assert rows
    for row in rows:  # name type encoding emb sub uni object ID
        assert row[-5] == "yes" and row[-3] == "yes", row  # embedded, with a ToUnicode map
        assert "Helvetica" not in row[0] and "Courier" not in row[0], row


@pytest.mark.parametrize("script", NAMES)
def test_letter_prints_the_username_exactly(practice, make_patient, script, tmp_path):
    patient = make_patient(first_name=NAMES[script])
    credentials = access_provide(patient=patient, actor=STAFF)
    assert credentials.username.startswith(NAMES[script])
    pdf = access_printout(patient=patient, actor=STAFF, password=credentials.password)
    lines = [line.strip() for line in pdftotext(pdf).splitlines()]
    assert f"Username: {credentials.username}" in " ".join(lines) or credentials.username in lines
    assert credentials.username in pdftotext(pdf)
    assert_every_font_embedded(pdf, tmp_path)


def test_letter_keeps_a_mixed_script_username_whole(practice, complete_patient):
    access_provide(patient=complete_patient, actor=STAFF)
    account = access_rename(patient=complete_patient, actor=STAFF, username="Ольга李김Đức")
    pdf = credentials_pdf(
        practice=practice, username=account.username, password="Ab3dEf7h", url=practice.patient_facing_url
    )
    assert "Ольга李김Đức" in pdftotext(pdf)
    assert PortalAccount.objects.get().username == "Ольга李김Đức"


def test_sheet_statement_and_health_summary_print_every_script(practice, make_patient, tmp_path):
    everyone = " ".join(NAMES.values())
    patient = make_patient(first_name=everyone, last_name="Nguyễn")
    sheet = sheet_pdf(
        practice_name="Клиника 牙科",
        template_name="Welcome",
        created_at=timezone.now(),
        lines=[f"Dear {everyone}", "长" * 120],
    )  # a line with no spaces to wrap
    records.ledger_entry_add(
        patient=patient,
        date=timezone.localdate(),
        description="Ελένη 洗牙",
        kind="charge",
        amount=Decimal("95.00"),
        actor=STAFF,
    )
    today = timezone.localdate()
    statement = records.statement_create(
        patient=patient, period_start=today - datetime.timedelta(days=30), period_end=today, actor=STAFF
    )
    records.allergy_save(
        patient=patient,
        actor=STAFF,
        substance="ペニシリン",
        reaction="Сыпь",
        severity="moderate",
        active=True,
    )
    summary = health_summary_pdf(practice=practice, summary=health_summary_of(patient))
    bill = statement_pdf(practice=practice, lines=statement_lines(statement))
    for pdf, expected in (
        (sheet, ["Клиника 牙科", "长" * 10]),
        (bill, ["Ελένη 洗牙", "Nguyễn"]),
        (summary, ["ペニシリン", "Сыпь", "Nguyễn"]),
    ):
        text = pdftotext(pdf)
        for name in [*NAMES.values(), *expected]:
            assert name in text, (name, text)
        assert_every_font_embedded(pdf, tmp_path)


def test_fonts_come_from_installed_packages_not_the_machine():
    from molar import pdffonts

    pdffonts.runs("Łukasz 李 김 さ")  # loads what these need
    for name, (package, _path) in pdffonts._FONT_FILES:
        assert package in ("fontpkg_noto_sans", "justmytype_intl_cjk"), name
