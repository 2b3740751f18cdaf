"""Patient languages as ISO 639-1 codes ("en", "es"), the form the portal's
translations use. Open Dental stores a three-letter ISO 639-2 code ("eng",
"spa"), sometimes the language's name, or a practice's own word: each maps to
a two-letter code when one is known, else to blank."""

# Two-letter code, English name, ISO 639-2 codes (terminology and bibliographic).
LANGUAGES = (
    ("en", "English", ("eng",)),
    ("es", "Spanish", ("spa",)),
    ("fr", "French", ("fra", "fre")),
    ("pt", "Portuguese", ("por",)),
    ("de", "German", ("deu", "ger")),
    ("it", "Italian", ("ita",)),
    ("zh", "Chinese", ("zho", "chi")),
    ("vi", "Vietnamese", ("vie",)),
    ("ko", "Korean", ("kor",)),
    ("ja", "Japanese", ("jpn",)),
    ("tl", "Tagalog", ("tgl",)),
    ("ar", "Arabic", ("ara",)),
    ("ru", "Russian", ("rus",)),
    ("pl", "Polish", ("pol",)),
    ("uk", "Ukrainian", ("ukr",)),
    ("ht", "Haitian Creole", ("hat",)),
    ("hi", "Hindi", ("hin",)),
    ("ur", "Urdu", ("urd",)),
    ("fa", "Persian", ("fas", "per")),
    ("he", "Hebrew", ("heb",)),
    ("el", "Greek", ("ell", "gre")),
    ("nl", "Dutch", ("nld", "dut")),
    ("sv", "Swedish", ("swe",)),
    ("no", "Norwegian", ("nor",)),
    ("da", "Danish", ("dan",)),
    ("fi", "Finnish", ("fin",)),
    ("tr", "Turkish", ("tur",)),
    ("hy", "Armenian", ("hye", "arm")),
    ("so", "Somali", ("som",)),
    ("am", "Amharic", ("amh",)),
    ("bn", "Bengali", ("ben",)),
    ("pa", "Punjabi", ("pan",)),
    ("gu", "Gujarati", ("guj",)),
    ("th", "Thai", ("tha",)),
    ("km", "Khmer", ("khm",)),
    ("lo", "Lao", ("lao",)),
    ("ro", "Romanian", ("ron", "rum")),
    ("hu", "Hungarian", ("hun",)),
    ("cs", "Czech", ("ces", "cze")),
    ("sr", "Serbian", ("srp",)),
    ("hr", "Croatian", ("hrv",)),
    ("sq", "Albanian", ("sqi", "alb")),
    ("ne", "Nepali", ("nep",)),
    ("my", "Burmese", ("mya", "bur")),
    ("sw", "Swahili", ("swa",)),
    ("id", "Indonesian", ("ind",)),
    ("ms", "Malay", ("msa", "may")),
    ("ta", "Tamil", ("tam",)),
)
LANGUAGE_CHOICES = [
    ("", "Unknown"),
    *sorted(((code, name) for code, name, _ in LANGUAGES), key=lambda choice: choice[1]),
]
_BY_WORD = {
    **{code: code for code, _, _ in LANGUAGES},
    **{name.casefold(): code for code, name, _ in LANGUAGES},
    **{three: code for code, _, threes in LANGUAGES for three in threes},
    "español": "es",
    "espanol": "es",
    "français": "fr",
    "deutsch": "de",
    "português": "pt",
    "cantonese": "zh",
    "mandarin": "zh",
    "farsi": "fa",
    "creole": "ht",
}


def language_code(value: str | None) -> str:
    """`eng` -> `en`, `Spanish` -> `es`, `es-MX` -> `es`; blank when unknown."""
    word = (value or "").strip().casefold().replace("_", "-")
    if not word:
        return ""
    return _BY_WORD.get(word) or _BY_WORD.get(word.split("-")[0], "")
