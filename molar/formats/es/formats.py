# SPEC V10: the same style in Spanish, "26 nov 2026, 3:05 PM".
DATE_FORMAT = "j M Y"
DATETIME_FORMAT = "j M Y, g:i A"
TIME_FORMAT = "g:i A"
SHORT_DATE_FORMAT = "j M Y"
SHORT_DATETIME_FORMAT = "j M Y, g:i A"
