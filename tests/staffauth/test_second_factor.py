"""SPEC K2 for staff: TOTP and recovery codes (passkeys: tests/browser/test_passkeys.py),
enrollment required after the password, guesses throttled like passwords."""

import datetime

import pyotp
import time_machine

from molar.audit.models import AuditEvent
from molar.factors.models import RecoveryCode, SecondFactor
from molar.practice.models import PracticeSettings
from tests.conftest import CsrfClient

from .conftest import ADDRESS, enroll_totp, sign_in, signed_in

START = datetime.datetime(2026, 3, 2, 8, 0, tzinfo=datetime.UTC)
NOT_ACCEPTED = "That code or passkey was not accepted"


def code_at(secret: str, moment: datetime.datetime) -> str:
    return pyotp.TOTP(secret).at(moment)


def enrolled_admin(admin_password) -> tuple[str, list[str]]:
    """Enrolled an hour before START (a code is used once: its time step must be past)."""
    with time_machine.travel(START - datetime.timedelta(hours=1), tick=False):
        client = CsrfClient()
        sign_in(client, "admin", admin_password)
        return enroll_totp(client)


def test_an_administrator_without_a_second_factor_is_sent_to_enrollment(admin_password):
    client = CsrfClient()
    response = sign_in(client, "admin", admin_password)
    assert response["Location"] == "/staff/security/"
    page = client.get("/staff/security/").content.decode()
    assert "The practice requires two-factor sign-in" in page
    assert not signed_in(client)  # nothing else until a factor is added
    assert client.get("/staff/settings/").status_code == 302
    secret, codes = enroll_totp(client)
    assert len(codes) == 10 and len(set(codes)) == 10
    assert signed_in(client)
    event = AuditEvent.objects.get(action="staff_sign_in", outcome="success")
    assert event.detail == {"second_factor": "enrolled"} and event.client_ip == ADDRESS
    assert AuditEvent.objects.filter(action="second_factor_added", detail__kind="totp").count() == 1
    assert RecoveryCode.objects.filter(user__username="admin").count() == 10


def test_recovery_codes_are_stored_hashed_and_shown_once(admin_password):
    _, codes = enrolled_admin(admin_password)
    stored = list(RecoveryCode.objects.values_list("hashed", flat=True))
    assert not any(code.replace("-", "") in value for code in codes for value in stored)
    client = CsrfClient()
    client.force_login(SecondFactor.objects.get().user)
    assert codes[0] not in client.get("/staff/security/").content.decode()


def test_totp_is_asked_after_the_password_and_each_code_works_once(admin_password):
    secret, _ = enrolled_admin(admin_password)
    with time_machine.travel(START + datetime.timedelta(minutes=5), tick=False):
        client = CsrfClient()
        assert sign_in(client, "admin", admin_password)["Location"] == "/staff/login/verify/"
        assert not signed_in(client)
        page = client.submit("/staff/login/verify/", {"code": "000000"}, REMOTE_ADDR=ADDRESS)
        assert NOT_ACCEPTED in page.content.decode() and not signed_in(client)
        code = code_at(secret, START + datetime.timedelta(minutes=5))
        client.submit("/staff/login/verify/", {"code": code}, REMOTE_ADDR=ADDRESS)
        assert signed_in(client)
        again = CsrfClient()
        sign_in(again, "admin", admin_password)
        again.submit("/staff/login/verify/", {"code": code}, REMOTE_ADDR=ADDRESS)
        assert not signed_in(again)  # the same code, replayed
    failure = AuditEvent.objects.filter(action="staff_sign_in", outcome="failure").first()
    assert failure.detail == {"reason": "wrong second factor", "username": "admin"}
    assert failure.client_ip == ADDRESS
    success = AuditEvent.objects.filter(action="staff_sign_in", outcome="success").order_by("id").last()
    assert success.detail == {"second_factor": "totp"}


def test_a_recovery_code_signs_in_once(admin_password):
    _, codes = enrolled_admin(admin_password)
    for expected in (True, False):
        client = CsrfClient()
        sign_in(client, "admin", admin_password)
        client.submit("/staff/login/verify/", {"code": codes[3].lower().replace("-", " ")})
        assert signed_in(client) is expected
    assert RecoveryCode.objects.filter(used_at__isnull=False).count() == 1
    used = AuditEvent.objects.filter(action="staff_sign_in", detail__second_factor="recovery_code")
    assert used.count() == 1


def test_second_factor_guesses_count_toward_the_username_lock(admin_password):
    secret, _ = enrolled_admin(admin_password)
    with time_machine.travel(START, tick=False):
        client = CsrfClient()
        sign_in(client, "admin", admin_password)
        for _ in range(10):
            client.submit("/staff/login/verify/", {"code": "123456"})
        client.submit("/staff/login/verify/", {"code": code_at(secret, START)})
        assert not signed_in(client)
        assert AuditEvent.objects.filter(action="lock", detail__scope="staff").count() == 1
        fresh = CsrfClient()
        assert NOT_ACCEPTED not in sign_in(fresh, "admin", admin_password).content.decode()
        assert "sign-in is paused" in sign_in(fresh, "admin", admin_password).content.decode()


def test_the_second_step_expires_after_five_minutes(admin_password):
    secret, _ = enrolled_admin(admin_password)
    with time_machine.travel(START, tick=False) as clock:
        client = CsrfClient()
        sign_in(client, "admin", admin_password)
        clock.shift(datetime.timedelta(minutes=5, seconds=1))
        response = client.submit("/staff/login/verify/", {"code": code_at(secret, START)})
        assert response.status_code == 302 and response["Location"] == "/staff/login/"
        assert not signed_in(client)


def test_front_desk_signs_in_with_a_password_when_only_administrators_must(desk_password, admin_password):
    PracticeSettings.objects.update_or_create(pk=1, defaults={"require_staff_two_factor": False})
    PracticeSettings.forget_cached()
    desk = CsrfClient()
    sign_in(desk, "frontdesk", desk_password)
    assert signed_in(desk)
    admin = CsrfClient()
    assert sign_in(admin, "admin", admin_password)["Location"] == "/staff/security/"


def test_with_both_settings_off_nobody_must_enroll_and_pages_say_so(admin_password, two_factor_off):
    client = CsrfClient()
    sign_in(client, "admin", admin_password)
    assert signed_in(client)
    page = client.get("/staff/patients/").content.decode()
    assert 'id="two-factor-banner"' in page and "the demo turns it off" in page


def test_the_settings_page_turns_the_requirements_on(admin_client, practice):
    from molar.practice.forms import SETTINGS_FIELDS

    data = {name: getattr(practice, name) for name in SETTINGS_FIELDS}
    data = {k: v for k, v in data.items() if v not in (None, False)}
    data.pop("require_staff_two_factor")
    response = admin_client.submit("/staff/settings/", {**data, "form": "practice"})
    assert response.status_code == 302
    practice.refresh_from_db()
    assert not practice.require_staff_two_factor and practice.require_admin_two_factor
    assert "staff" in AuditEvent.objects.get(action="settings_changed").detail["fields"][0]


def test_a_signed_in_user_removes_a_factor_but_not_the_last_one_when_required(admin_password):
    client = CsrfClient()
    sign_in(client, "admin", admin_password)
    enroll_totp(client)
    first = SecondFactor.objects.get()
    client.submit(f"/staff/security/{first.pk}/remove/")
    assert SecondFactor.objects.count() == 1
    enroll_totp(client)  # a second app: no new recovery codes
    assert RecoveryCode.objects.count() == 10
    client.submit(f"/staff/security/{first.pk}/remove/")
    assert list(SecondFactor.objects.exclude(pk=first.pk)) == list(SecondFactor.objects.all())
    assert AuditEvent.objects.filter(action="second_factor_removed").count() == 1


def test_new_recovery_codes_replace_the_old_ones(admin_password):
    client = CsrfClient()
    sign_in(client, "admin", admin_password)
    _, old = enroll_totp(client)
    from .conftest import shown_codes

    new = shown_codes(client.submit("/staff/security/recovery-codes/").content.decode())
    assert len(new) == 10 and not set(old) & set(new)
    assert RecoveryCode.objects.count() == 10


def test_one_user_cannot_remove_another_users_factor(admin_password, desk_password, two_factor_off):
    admin = CsrfClient()
    sign_in(admin, "admin", admin_password)
    enroll_totp(admin)
    factor = SecondFactor.objects.get()
    desk = CsrfClient()
    sign_in(desk, "frontdesk", desk_password)
    desk.submit(f"/staff/security/{factor.pk}/remove/")
    assert SecondFactor.objects.filter(pk=factor.pk).exists()


def test_security_pages_need_a_signed_in_user(db):
    client = CsrfClient()
    for path in (
        "/staff/security/",
        "/staff/security/authenticator/",
        "/staff/security/passkey/",
        "/staff/login/verify/",
    ):
        response = client.get(path)
        assert response.status_code == 302 and response["Location"] == "/staff/login/"
    for path in ("/staff/security/1/remove/", "/staff/security/recovery-codes/"):
        assert client.submit(path)["Location"] == "/staff/login/"


def test_molar_staff_clear_factors_sends_the_user_back_to_enrollment(admin_password):
    from django.core.management import call_command

    enrolled_admin(admin_password)
    call_command("staff", "clear-factors", "admin")
    assert not SecondFactor.objects.exists() and not RecoveryCode.objects.exists()
    assert sign_in(CsrfClient(), "admin", admin_password)["Location"] == "/staff/security/"
    assert AuditEvent.objects.get(action="second_factors_cleared").actor_label.startswith("cli:")


def test_the_demo_lets_staff_in_with_the_printed_password_and_says_two_factor_is_off(db):
    """`make demo` alone still works: `molar demo` turns both requirements off."""
    import io
    import re

    from django.core.management import call_command

    out = io.StringIO()
    call_command("demo", "--no-serve", stdout=out)
    password = re.search(r"Administrator:\s+admin / (\S+)", out.getvalue())[1]
    client = CsrfClient()
    sign_in(client, "admin", password)
    assert signed_in(client)
    assert 'id="two-factor-banner"' in client.get("/staff/patients/").content.decode()
