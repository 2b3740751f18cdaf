"""SPEC I5: bulk invites and letters, with a dry run, safe to run again."""

import datetime
import io
import os

import pytest
from django.core.management import CommandError, call_command
from pypdf import PdfReader

from molar.access.models import AccessEvent, PortalAccount
from molar.access.services import access_generate_password, access_provide
from molar.audit.services import Actor
from molar.invites.bulk import Criteria, bulk_grant, bulk_invite, bulk_plan
from molar.invites.delivery import invites_send_due
from molar.invites.models import Invite
from molar.patients.models import Appointment

DAY = datetime.date(2026, 3, 4)
CRITERIA = Criteria(start=DAY, end=DAY, no_access_only=True)


@pytest.fixture
def family(make_patient):
    """Three patients seen on DAY: one ready, one without email, one with access."""
    ready = make_patient(first_name="Ready")
    no_email = make_patient(first_name="Noemail", email="")
    has_access = make_patient(first_name="Online")
    later = make_patient(first_name="Later")
    for patient in (ready, no_email, has_access):
        Appointment.objects.create(
            patient=patient, start=datetime.datetime(2026, 3, 4, 15, tzinfo=datetime.UTC)
        )
    Appointment.objects.create(patient=later, start=datetime.datetime(2026, 3, 9, tzinfo=datetime.UTC))
    access_provide(patient=has_access, actor=Actor.system("t"))
    return ready, no_email, has_access


def test_dry_run_lists_who_would_be_skipped_and_why(practice, family, before_rule):
    rows = bulk_plan(action="grant", criteria=Criteria(DAY, DAY), rule=None)
    assert {(r.patient.first_name, r.reason) for r in rows} == {
        ("Ready", ""),
        ("Noemail", "no email"),
        ("Online", "already has online access"),
    }
    rows = bulk_plan(action="invite", criteria=CRITERIA, rule=before_rule)
    assert {(r.patient.first_name, r.reason) for r in rows} == {("Ready", ""), ("Noemail", "no email")}
    assert not Invite.objects.exists() and PortalAccount.objects.count() == 1


def test_bulk_invite_runs_once_even_when_run_again(practice, family, before_rule, mailoutbox):
    first = bulk_invite(criteria=CRITERIA, rule=before_rule, actor=Actor.system("t"))
    invites_send_due(worker="t")
    again = bulk_invite(criteria=CRITERIA, rule=before_rule, actor=Actor.system("t"))
    invites_send_due(worker="t")
    assert again.pk == first.pk and first.total == 2
    assert Invite.objects.count() == 2 and len(mailoutbox) == 1
    assert Invite.objects.get(status="skipped").reason == "no email"


def test_bulk_grant_writes_one_letter_each_and_grants(practice, family):
    ready = family[0]
    out = io.BytesIO()
    summary = bulk_grant(criteria=CRITERIA, actor=Actor.system("t"), target=out)
    assert summary.granted == 1 and [r.reason for r in summary.skipped] == ["no email"]
    text = PdfReader(io.BytesIO(out.getvalue())).pages[0].extract_text()
    account = PortalAccount.objects.get(patient=ready)
    password = text.split("Password:")[1].split()[0]
    assert account.username in text and account.check_password(password)
    assert AccessEvent.objects.filter(patient=ready, source="bulk").count() == 1


def _letters(out: io.BytesIO) -> dict[str, str]:
    """username -> password, read back from the letters PDF."""
    found = {}
    for page in PdfReader(io.BytesIO(out.getvalue())).pages:
        text = page.extract_text()
        found[text.split("Username:")[1].split()[0]] = text.split("Password:")[1].split()[0]
    return found


def test_interrupted_grant_keeps_each_grant_and_a_rerun_prints_the_owed_letters(
    practice, family, make_patient
):
    """SPEC Q3: each grant commits on its own; the letters of a stopped run
    are owed, and the next run gives those patients a new one-time password
    (nobody saw the old one) instead of skipping them as "already online"."""
    second = make_patient(first_name="Second")
    Appointment.objects.create(patient=second, start=datetime.datetime(2026, 3, 4, 16, tzinfo=datetime.UTC))

    def interrupt(done, total):
        if done == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        bulk_grant(criteria=CRITERIA, actor=Actor.system("t"), target=io.BytesIO(), progress=interrupt)
    granted = PortalAccount.objects.filter(patient__first_name__in=["Ready", "Second"])
    assert granted.count() == 1  # the first of the two was granted and committed
    first = granted.get()
    out = io.BytesIO()
    summary = bulk_grant(criteria=CRITERIA, actor=Actor.system("t"), target=out)
    assert (summary.granted, summary.reissued) == (1, 1)
    letters = _letters(out)
    assert len(letters) == 2
    for account in PortalAccount.objects.filter(patient__first_name__in=["Ready", "Second"]):
        assert account.check_password(letters[account.username])
    assert PortalAccount.objects.get(pk=first.pk).password != first.password
    # One OnlineAccessProvided each, the fixture's patient included: re-issuing is not a new grant.
    assert AccessEvent.objects.count() == 3
    summary = bulk_grant(criteria=CRITERIA, actor=Actor.system("t"), target=io.BytesIO())
    assert summary.letters == 0  # nothing is owed any more


def test_owed_letter_is_dropped_once_the_patient_has_signed_in(practice, family):
    from molar.portal.services import portal_sign_in

    def interrupt(done, total):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        bulk_grant(criteria=CRITERIA, actor=Actor.system("t"), target=io.BytesIO(), progress=interrupt)
    account = PortalAccount.objects.get(patient=family[0])
    password = access_generate_password(patient=family[0], actor=Actor.system("desk"))  # read by phone
    portal_sign_in(username=account.username, password=password, address=None)
    summary = bulk_grant(criteria=CRITERIA, actor=Actor.system("t"), target=io.BytesIO())
    assert summary.letters == 0
    assert PortalAccount.objects.get(pk=account.pk).check_password(password)


def test_cli_grant_and_dry_run(practice, family, tmp_path, capsys):
    call_command("bulk", "grant", "--from", "2026-03-04", "--to", "2026-03-04", "--dry-run")
    assert "1 of 3 patient(s) would be processed." in capsys.readouterr().out
    out = tmp_path / "letters.pdf"
    call_command("bulk", "grant", "--from", "2026-03-04", "--to", "2026-03-04", "-o", str(out))
    assert out.read_bytes().startswith(b"%PDF") and PortalAccount.objects.count() == 2
    with pytest.raises(CommandError, match="is not a date"):
        call_command("bulk", "grant", "--from", "yesterday", "--to", "2026-03-04", "--dry-run")
    with pytest.raises(CommandError, match="--rule is required"):
        call_command("bulk", "invite", "--from", "2026-03-04", "--to", "2026-03-04")


def test_cli_grant_into_a_missing_folder_is_refused_before_anyone_is_granted(practice, family, tmp_path):
    target = tmp_path / "no-such-folder" / "letters.pdf"
    with pytest.raises(CommandError) as refused:
        call_command("bulk", "grant", "--from", "2026-03-04", "--to", "2026-03-04", "-o", str(target))
    assert str(refused.value) == (f"Cannot write {target}: the folder {target.parent} does not exist.")
    assert PortalAccount.objects.count() == 1  # the fixture's only


@pytest.fixture
def read_only_folder(tmp_path):
    """A folder nobody may write in, root included (root ignores the mode
    bits, not the immutable attribute)."""
    import subprocess

    folder = tmp_path / "locked"
    folder.mkdir(mode=0o500)
    if os.geteuid() == 0:
        subprocess.run(["chattr", "+i", str(folder)], check=True)
    yield folder
    if os.geteuid() == 0:
        subprocess.run(["chattr", "-i", str(folder)], check=True)


def test_cli_grant_into_a_read_only_folder_is_refused_before_anyone_is_granted(
    practice, family, read_only_folder
):
    target = read_only_folder / "letters.pdf"
    with pytest.raises(CommandError) as refused:
        call_command("bulk", "grant", "--from", "2026-03-04", "--to", "2026-03-04", "-o", str(target))
    assert str(refused.value).startswith(f"Cannot write {target}: ")
    assert PortalAccount.objects.count() == 1


def test_cli_grant_stopped_midway_leaves_no_file_with_passwords(practice, family, tmp_path, monkeypatch):
    from molar.invites import bulk as bulk_module

    def stop(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(bulk_module, "letters_pdf", stop)
    with pytest.raises(KeyboardInterrupt):
        call_command(
            "bulk", "grant", "--from", "2026-03-04", "--to", "2026-03-04", "-o", str(tmp_path / "letters.pdf")
        )
    assert list(tmp_path.iterdir()) == []
    monkeypatch.undo()
    call_command(
        "bulk", "grant", "--from", "2026-03-04", "--to", "2026-03-04", "-o", str(tmp_path / "letters.pdf")
    )
    assert [p.name for p in tmp_path.iterdir()] == ["letters.pdf"]
    assert len(PdfReader(tmp_path / "letters.pdf").pages) == 1  # the owed letter, new password


def test_web_dry_run_then_invite_run_shows_progress(desk_client, practice, family, before_rule):
    form = {
        "action": "invite",
        "start": "2026-03-04",
        "end": "2026-03-04",
        "no_access_only": "on",
        "rule": str(before_rule.pk),
    }
    page = desk_client.submit("/staff/invites/bulk/", {**form, "dry_run": "1"}).content.decode()
    assert "Skipped: no email" in page and "Run for 1 patient" in page
    response = desk_client.submit("/staff/invites/bulk/", {**form, "run": "1"})
    assert response.status_code == 302
    progress = desk_client.get(response["Location"]).content.decode()
    assert "0 of 2 processed" in progress and 'http-equiv="refresh"' in progress
    invites_send_due(worker="t")
    progress = desk_client.get(response["Location"]).content.decode()
    assert "2 of 2 processed: 1 sent, 1 skipped" in progress


def test_web_form_errors_are_messages(desk_client, practice):
    page = desk_client.submit(
        "/staff/invites/bulk/",
        {"action": "invite", "start": "2026-03-05", "end": "2026-03-04", "dry_run": "1"},
    ).content.decode()
    assert "The end date is before the start date." in page
    assert "Choose the invite rule whose email text to send." in page


def test_page_and_command_take_the_same_window(desk_client, practice, family, monkeypatch):
    """One rule (invites.bulk.bulk_window_refusal): a reversed window is refused
    by the page and by `molar bulk`, each in its own words; the year limit is
    the page's (its dry run is one request), the command takes longer runs."""

    def page(start, end):
        return desk_client.submit(
            "/staff/invites/bulk/", {"action": "grant", "start": start, "end": end, "dry_run": "1"}
        ).content.decode()

    assert "The end date is before the start date." in page("2026-03-05", "2026-03-04")
    with pytest.raises(CommandError, match="^--to is before --from.$"):
        call_command("bulk", "grant", "--from", "2026-03-05", "--to", "2026-03-04", "--dry-run")
    assert "Choose at most one year of appointments." in page("2026-01-01", "2027-01-03")
    assert "Choose at most one year of appointments." not in page("2026-01-01", "2027-01-02")
    call_command("bulk", "grant", "--from", "2026-01-01", "--to", "2027-01-03", "--dry-run")
    seen = []
    monkeypatch.setattr(
        "molar.invites.bulk.window_refusal", lambda start, end, **rule: seen.append(rule["most_days"])
    )
    page("2026-03-04", "2026-03-04")
    call_command("bulk", "grant", "--from", "2026-03-04", "--to", "2026-03-04", "--dry-run")
    assert seen == [366, None]
