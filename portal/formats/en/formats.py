"""How the portal writes dates, date-times and numbers: the one definition, read by Django's `date`
and `floatformat` filters in every template, by the admin site, and by utilities.display for the CSV
and PDF downloads and the emails (settings.FORMAT_MODULE_PATH points here; what is not set here
comes from Django's English formats).

A date-time is written in the reader's time zone (registry.middleware.TimeZoneMiddleware; an email
in its recipient's) and names it: 2026-12-01 14:05 CST. A date alone stays a date: 2026-12-01.
"""

DATE_FORMAT = "Y-m-d"
SHORT_DATE_FORMAT = "Y-m-d"
DATETIME_FORMAT = "Y-m-d H:i T"
SHORT_DATETIME_FORMAT = "Y-m-d H:i T"

# Quantities: 45,855 (templates write them with |floatformat:"g", which groups by these).
DECIMAL_SEPARATOR = "."
THOUSAND_SEPARATOR = ","
NUMBER_GROUPING = 3
