# SPEC V9: dates and times in the practice's style, "Nov 26, 2026, 3:05 PM".
DATE_FORMAT = "M j, Y"
DATETIME_FORMAT = "M j, Y, g:i A"
TIME_FORMAT = "g:i A"
SHORT_DATE_FORMAT = "M j, Y"
SHORT_DATETIME_FORMAT = "M j, Y, g:i A"
