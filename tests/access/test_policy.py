"""SPEC C3: the password policy and its messages."""

import pytest

from molar.access.policy import password_problems


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("Ab3", "Password must be at least 8 characters."),
        ("abcdefg7", "Password must contain an uppercase letter."),
        ("ABCDEFG7", "Password must contain a lowercase letter."),
        ("Abcdefgh", "Password must contain a digit."),
        ("Password1", "Password is too common. Choose one that is harder to guess."),
        ("xMaria1234", "Password must not contain the patient's first name."),
        ("Zz9maria777q", "Password must not contain the username."),
    ],
)
def test_seed_policy_names_the_failed_rule(password, message):
    problems = password_problems(password, username="Maria777", first_name="Maria")
    assert message in problems


def test_seed_policy_accepts_a_good_password():
    assert password_problems("Tide7Pool", username="Maria777", first_name="Maria") == []


def test_seed_policy_lists_every_failure_at_once():
    assert password_problems("qzx") == [
        "Password must be at least 8 characters.",
        "Password must contain an uppercase letter.",
        "Password must contain a digit.",
    ]


def test_length_profile_wants_15_characters_and_no_composition():
    assert password_problems("shortbutfine", profile="length") == ["Password must be at least 15 characters."]
    assert password_problems("all lower case words here", profile="length") == []


def test_common_passwords_refused_in_length_profile_too():
    assert "Password is too common. Choose one that is harder to guess." in password_problems(
        "123456789987654321", profile="length"
    )


def test_128_characters_accepted_and_129_refused_with_message():
    assert password_problems("Aa1" + "x" * 125) == []
    assert password_problems("Aa1" + "x" * 126) == ["Password must be at most 128 characters."]
    assert password_problems("A" * 100_000) == ["Password must be at most 128 characters."]


def test_short_first_names_are_not_searched_for():
    assert password_problems("Edward9x", first_name="Ed") == []
