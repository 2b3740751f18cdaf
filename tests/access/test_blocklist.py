"""SPEC K4: NFKC, the 100,000-password blocklist, its variants and the practice's name."""

import unicodedata

import pytest

from molar.access.blocklist import common_passwords
from molar.access.policy import password_problems
from molar.access.services import access_set_password
from molar.audit.services import Actor
from molar.portal.services import portal_sign_in
from molar.staffauth.accounts import staff_add

TOO_COMMON = "Password is too common. Choose one that is harder to guess."
PRACTICE_NAME = "Password must not be made from the practice's name."


def test_the_list_holds_the_100000_most_common_passwords():
    listed = common_passwords()
    assert len(listed) >= 100_000
    assert {"123456", "password", "qwerty", "welcome", "iloveyou"} <= listed


@pytest.mark.parametrize(
    "password",
    [
        "Welcome123!",  # digits and a symbol added at the end
        "P@ssw0rd1",  # leetspeak and a digit
        "!!Dragon2024",  # symbols and digits at both ends
        "QWERTY123",  # case
        "M0nk3y!!",
        "L3tm31n",
    ],
)
def test_variants_of_listed_passwords_are_refused(password):
    assert TOO_COMMON in password_problems(password)


def test_a_repeated_listed_word_is_refused_in_the_length_profile():
    assert TOO_COMMON in password_problems("passwordpassword", profile="length")
    assert TOO_COMMON in password_problems("monkeymonkeymonkey", profile="length")


@pytest.mark.parametrize("password", ["SmileDental2025", "smiledental!", "Sm1l3D3nt@l", "DENTAL2025smile"])
def test_words_of_the_practice_name_are_refused(password):
    assert PRACTICE_NAME in password_problems(password, practice_name="Smile Dental Studio")


def test_a_practice_word_inside_a_longer_password_is_fine():
    assert password_problems("Harbor9Tide", practice_name="Harbor Family Dental") == []


@pytest.mark.parametrize("password", ["Tide7Pool", "Lantern7Quay", "Compass5Sail", "Zq8!Lm3#"])
def test_ordinary_passwords_still_pass(password):
    assert password_problems(password, practice_name="Harbor Family Dental") == []


def test_the_practice_name_counts_where_the_patient_sets_a_password(practice, complete_patient):
    from molar.access.services import access_provide
    from molar.refusal import Refused

    access_provide(patient=complete_patient, actor=Actor.system("test"))
    with pytest.raises(Refused) as refused:
        access_set_password(patient=complete_patient, actor=Actor.system("test"), password="HarborDental24")
    assert refused.value.messages == [PRACTICE_NAME]


def test_a_decomposed_accent_signs_in_to_a_password_set_composed(practice, complete_patient):
    """NFKC before hashing and checking: "é" as one character or as e + U+0301."""
    from molar.access.services import access_provide

    composed = "Caf\u00e9Tide7x"
    decomposed = unicodedata.normalize("NFD", composed)
    assert composed != decomposed
    username = access_provide(patient=complete_patient, actor=Actor.system("test")).username
    access_set_password(patient=complete_patient, actor=Actor.system("test"), password=composed)
    assert portal_sign_in(username=username, password=decomposed, address="192.0.2.9")


def test_fullwidth_digits_are_the_same_password(practice, complete_patient):
    from molar.access.services import access_provide

    username = access_provide(patient=complete_patient, actor=Actor.system("test")).username
    access_set_password(patient=complete_patient, actor=Actor.system("test"), password="Quay\uff17Lantern")
    assert portal_sign_in(username=username, password="Quay7Lantern", address="192.0.2.9")


def test_staff_passwords_use_the_same_blocklist(practice):
    from django.contrib.auth import get_user_model
    from django.contrib.auth.password_validation import validate_password
    from django.core.exceptions import ValidationError

    staff_add(username="hygienist", admin=False, actor=Actor.system("test"))
    user = get_user_model().objects.get(username="hygienist")
    for weak in ("Welcome123!!", "P@ssw0rd1234", "passwordpassword", "HarborFamily2025"):
        with pytest.raises(ValidationError):
            validate_password(weak, user)
    validate_password("Gull-Mooring-Fathom-73", user)
