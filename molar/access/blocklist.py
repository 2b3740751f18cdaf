"""SPEC K4: the common-password blocklist and the variants people make of a
listed password.

The list (data/common-passwords.txt.gz, see data/README.md) holds the
100,000 most common passwords, case-folded. It is read once per process, on
first use. A password is refused when any of its *base forms* is listed:
case folded, digits and symbols trimmed from both ends ("Welcome123!" ->
"welcome"), leetspeak read back ("P@ssw0rd1" -> "password"), and a word
repeated ("passwordpassword" -> "password"). Words of the practice's name
are refused when they are all there is ("SmileDental2025")."""

import gzip
import re
from functools import cache
from pathlib import Path

LIST_PATH = Path(__file__).with_name("data") / "common-passwords.txt.gz"
# Characters read back as letters. "1" and "!" stand for "i" or "l": both
# readings are tried.
LEET = str.maketrans(
    {
        "@": "a",
        "4": "a",
        "8": "b",
        "(": "c",
        "3": "e",
        "6": "g",
        "9": "g",
        "#": "h",
        "0": "o",
        "$": "s",
        "5": "s",
        "7": "t",
        "+": "t",
        "2": "z",
    }
)
AMBIGUOUS = ("1", "!", "|")
ENDS = re.compile(r"^[\W\d_]+|[\W\d_]+$")
WORD = re.compile(r"[^\W\d_]+")
# Practice-name words shorter than this, or this common, say nothing about the practice.
MIN_PRACTICE_WORD = 3
PLAIN_WORDS = frozenset({"and", "the", "for", "dds", "dmd", "llc", "inc", "pllc", "ltd", "of"})


@cache
def common_passwords() -> frozenset[str]:
    with gzip.open(LIST_PATH, "rt", encoding="utf-8") as handle:
        return frozenset(line.rstrip("\n") for line in handle if line.strip())


def _unleet(text: str) -> set[str]:
    read = text.translate(LEET)
    # typeshed's overloads refuse a dict[str, str] (invariance); str.maketrans takes one
    return {
        read.translate(str.maketrans(dict.fromkeys(AMBIGUOUS, letter)))  # type: ignore[arg-type]
        for letter in "il"
    }


def _unrepeated(text: str) -> str:
    """ "abcabc" -> "abc"; anything else unchanged."""
    for size in range(1, len(text) // 2 + 1):
        if len(text) % size == 0 and text[:size] * (len(text) // size) == text:
            return text[:size]
    return text


def base_forms(password: str) -> set[str]:
    folded = password.casefold()
    forms = {folded, ENDS.sub("", folded)}
    forms |= {read for form in list(forms) for read in _unleet(form)}
    forms |= {ENDS.sub("", form) for form in list(forms)}
    forms |= {_unrepeated(form) for form in list(forms)}
    return {form for form in forms if form}


def is_common(password: str) -> bool:
    listed = common_passwords()
    return password.casefold() in listed or any(form in listed for form in base_forms(password))


def practice_words(practice_name: str) -> list[str]:
    words = {w.casefold() for w in WORD.findall(practice_name or "")}
    return sorted(
        (w for w in words if len(w) >= MIN_PRACTICE_WORD and w not in PLAIN_WORDS), key=len, reverse=True
    )


def is_practice_name(password: str, practice_name: str) -> bool:
    """Made of nothing but the practice's name words, digits and symbols
    (leetspeak read back): "SmileDental2025", "H@rbor!"."""
    words = practice_words(practice_name)
    if not words:
        return False
    for form in base_forms(password) | {password.casefold()}:
        rest = form
        for word in words:
            rest = rest.replace(word, "")
        if rest != form and not WORD.search(rest):
            return True
    return False
