"""SPEC V7: usernames compare without case and without accents, everywhere
(sign-in, renames, generated names, Open Dental imports), and the database
keeps two accounts from differing only by accents or case."""

import importlib

import pytest
from django.apps import apps
from django.db import IntegrityError, transaction

from molar.access import services
from molar.access.credentials import fold_username
from molar.access.models import PortalAccount
from molar.access.services import access_provide, access_rename
from molar.audit.services import Actor
from molar.refusal import Refused
from tests.conftest import CsrfClient
from tests.portal.conftest import sign_in

ACTOR = Actor.system("test")
refold = importlib.import_module("molar.access.migrations.0008_username_folded_without_accents").refold


def test_folding_drops_accents_and_case_but_keeps_other_letters():
    assert fold_username("Sofía35324") == fold_username("sofia35324") == "sofia35324"
    assert fold_username("ZOË") == fold_username("zoe")
    assert fold_username("Đức") == fold_username("đuc")  # the stroke is a letter, not an accent
    assert fold_username("Łukasz") == "łukasz"
    assert fold_username("STRASSE") == fold_username("Straße")
    assert fold_username("Ольга") == fold_username("ОЛЬГА")
    assert fold_username("İpek") == fold_username("ipek")
    assert fold_username("한국") == "한국"  # Hangul syllables decompose and come back whole
    assert fold_username("がく") != fold_username("かく")  # kana voicing is not an accent


@pytest.fixture
def sofia(practice, make_patient):
    credentials = access_provide(patient=make_patient(first_name="Sofía"), actor=ACTOR)
    assert credentials.username.startswith("Sofía")
    return credentials


@pytest.mark.parametrize("typed", ["without accent", "upper case", "both"])
def test_sign_in_without_accents_or_in_another_case(sofia, typed):
    number = sofia.username[len("Sofía") :]
    username = {"without accent": f"Sofia{number}", "upper case": f"SOFÍA{number}", "both": f"SOFIA{number}"}[
        typed
    ]
    response = sign_in(CsrfClient(), username, sofia.password)
    assert response.status_code == 302 and response["Location"].startswith("/portal/")


def test_username_is_still_shown_as_written(sofia):
    assert PortalAccount.objects.get().username == sofia.username


def test_rename_to_a_name_differing_only_by_accents_is_refused(sofia, make_patient):
    other = make_patient(first_name="Ana")
    access_provide(patient=other, actor=ACTOR)
    taken = "SOFIA" + sofia.username[len("Sofía") :]
    with pytest.raises(Refused) as refused:
        access_rename(patient=other, actor=ACTOR, username=taken)
    assert refused.value.messages == [services.MSG_USERNAME_TAKEN]


def test_database_refuses_names_differing_only_by_accents(sofia, make_patient):
    other = make_patient(first_name="Ana")
    with pytest.raises(IntegrityError), transaction.atomic():
        PortalAccount.objects.create(patient=other, username=sofia.username.replace("í", "i"), password="!")


def test_migration_refolds_existing_accounts(sofia):
    PortalAccount.objects.update(username_folded=sofia.username.casefold())  # the old fold kept the accent
    refold(apps, None)
    assert PortalAccount.objects.get().username_folded == fold_username(sofia.username)


def test_migration_stops_and_names_accounts_that_would_collide(sofia, make_patient):
    number = sofia.username[len("Sofía") :]
    other = access_provide(patient=make_patient(first_name="Ana"), actor=ACTOR)
    # As an earlier version could have stored them: different under case folding alone.
    PortalAccount.objects.filter(username=sofia.username).update(username_folded=f"sofía{number}")
    PortalAccount.objects.filter(username=other.username).update(
        username=f"Sofia{number}", username_folded=f"sofia{number}"
    )
    with pytest.raises(RuntimeError) as stopped:
        refold(apps, None)
    assert sofia.username in str(stopped.value) and f"Sofia{number}" in str(stopped.value)
    assert set(PortalAccount.objects.values_list("username_folded", flat=True)) == {
        f"sofía{number}",
        f"sofia{number}",
    }  # nothing written
