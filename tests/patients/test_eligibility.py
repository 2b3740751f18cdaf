"""SPEC P3: every failure listed at once, one line each, in SPEC order."""

import datetime

from molar.patients.eligibility import eligibility_problems
from molar.patients.models import Patient

ALL_MESSAGES = [
    "Missing patient first name.",
    "Missing patient last name.",
    "Missing patient address line 1.",
    "Missing patient city.",
    "Invalid patient state. Must be two letters.",
    "Missing patient birth date.",
    "Missing patient phone. Must have home, wireless, or work phone.",
    "Missing patient email.",
]


def test_empty_patient_gets_every_message_in_spec_order():
    assert eligibility_problems(Patient(), country="US") == ALL_MESSAGES


def test_complete_patient_has_no_problems(complete_patient):
    assert eligibility_problems(complete_patient, country="US") == []


def test_whitespace_only_fields_count_as_missing(make_patient):
    patient = make_patient(first_name="  ", city="\t")
    assert eligibility_problems(patient, country="US") == [
        "Missing patient first name.",
        "Missing patient city.",
    ]


def test_state_must_be_two_letters_only_in_the_us(make_patient):
    patient = make_patient(state="Maine")
    assert eligibility_problems(patient, country="US") == ["Invalid patient state. Must be two letters."]
    assert eligibility_problems(patient, country="CA") == []
    assert eligibility_problems(make_patient(state="M1"), country="US") == [
        "Invalid patient state. Must be two letters."
    ]


def test_implausible_birth_dates_are_refused(make_patient):
    tomorrow = datetime.date.today() + datetime.timedelta(days=2)
    for birth in (datetime.date(1879, 12, 31), tomorrow, None):
        patient = make_patient()
        patient.birth_date = birth  # not saved: the model refuses these
        assert eligibility_problems(patient, country="US") == ["Missing patient birth date."]
    patient.birth_date = datetime.date(1880, 1, 1)
    assert eligibility_problems(patient, country="US") == []


def test_any_one_phone_is_enough(make_patient):
    for phone in ("home_phone", "wireless_phone", "work_phone"):
        fields = {"home_phone": "", "wireless_phone": "", "work_phone": "", phone: "555-0100"}
        assert eligibility_problems(make_patient(**fields), country="US") == []
    none = make_patient(home_phone="", wireless_phone="", work_phone="")
    assert eligibility_problems(none, country="US") == [
        "Missing patient phone. Must have home, wireless, or work phone."
    ]
