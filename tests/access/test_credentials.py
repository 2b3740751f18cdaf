"""SPEC U1 and C1: generated usernames and one-time passwords."""

import re
import string

from hypothesis import given
from hypothesis import strategies as st

from molar.access import credentials
from molar.access.credentials import fold_username, generate_password, username_candidate
from molar.access.policy import password_problems

LOOK_ALIKES = set("0Oo1lI")


def test_password_is_8_characters_without_look_alikes():
    for _ in range(2000):
        password = generate_password()
        assert len(password) == 8
        assert not LOOK_ALIKES & set(password)
        assert set(password) <= set(credentials.ALPHABET)


def test_password_always_has_upper_lower_and_digit():
    for _ in range(2000):
        password = generate_password()
        assert any(c.isupper() for c in password)
        assert any(c.islower() for c in password)
        assert any(c.isdigit() for c in password)


def test_password_passes_default_policy():
    for _ in range(500):
        assert password_problems(generate_password()) == []


def test_passwords_use_the_whole_alphabet_and_do_not_repeat():
    seen = [generate_password() for _ in range(3000)]
    assert len(set(seen)) == len(seen)
    assert set("".join(seen)) == set(credentials.ALPHABET)


def test_password_comes_from_secrets(monkeypatch):
    calls = []
    real_choice = credentials.secrets.choice
    monkeypatch.setattr(credentials.secrets, "choice", lambda seq: calls.append(1) or real_choice(seq))
    generate_password()
    assert len(calls) >= 8


@given(st.text(max_size=40))
def test_username_is_stem_plus_number_from_100_to_99999(first_name):
    username = username_candidate(first_name)
    stem = credentials.username_stem(first_name)
    assert username.startswith(stem)
    number = username[len(stem) :]
    assert re.fullmatch(r"[1-9][0-9]{2,4}", number), username
    assert 100 <= int(number) <= 99_999


@given(st.text(max_size=40))
def test_username_stem_has_no_spaces_or_punctuation(first_name):
    stem = credentials.username_stem(first_name)
    assert stem
    assert not any(c.isspace() or c in string.punctuation for c in stem)


def test_username_keeps_letters_as_written_including_accents():
    assert credentials.username_stem("Anne-Marie") == "AnneMarie"
    assert credentials.username_stem("José Luis") == "JoséLuis"
    assert credentials.username_stem("O'Neil") == "ONeil"
    assert credentials.username_stem("ZOË") == "ZOË"


def test_username_falls_back_to_patient_when_nothing_is_left():
    assert credentials.username_stem("") == "Patient"
    assert credentials.username_stem(" -.' ") == "Patient"
    assert username_candidate("?!").startswith("Patient")


def test_username_numbers_cover_the_range():
    numbers = {int(username_candidate("Al")[2:]) for _ in range(5000)}
    assert min(numbers) < 3000 and max(numbers) > 97_000


@given(st.text(min_size=1, max_size=30))
def test_folding_ignores_letter_case(name):
    assert fold_username(name.upper()) == fold_username(name.lower()) or (
        fold_username(name.upper().lower()) == fold_username(name.lower())
    )


def test_folding_uses_unicode_case_folding():
    assert fold_username("STRASSE") == fold_username("straße")
    assert fold_username("ZOË") == fold_username("zoë")
