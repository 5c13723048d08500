"""Billing's value types and arithmetic, importing nothing else of the app: the currency and its
places, the money of one line (rounded per line), the free threshold, a line's wording, and the
billing period a day falls in. Money is Decimal, quantities Decimal MWh; never a float.

Fees are per MWh (certificates.units): a monthly REC is one MWh and is charged once; an hourly
certificate is one Wh, so a million of them are charged what one REC is, exactly, never a REC's fee
each. A line charges its event's certificates of both units together, in MWh, and says what they were
(`5 RECs and 1,000,000 Wh (6 MWh)`), so that an invoice reads as the holder counts them."""

import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import NamedTuple

from django.conf import settings
from django.db import models

from certificates.periods import registry_zone
from certificates.units import Quantities, mwh_text

# ISO 4217 minor units of the currencies a registry is likely to bill in (others: 2).
CURRENCY_PLACES = {"JPY": 0, "KRW": 0, "ISK": 0, "CLP": 0, "BHD": 3, "KWD": 3, "OMR": 3, "JOD": 3}
CURRENCY_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "AUD": "A$", "CAD": "C$", "JPY": "¥"}


class FeeKind(models.TextChoices):
    """What a per-certificate fee is charged on, and the domain event that records it."""

    ISSUANCE = "issuance", "Issuance"
    RETIREMENT = "retirement", "Retirement"
    EXPORT = "export", "Export"
    TRANSFER = "transfer", "Transfer to another organization"


class ChargeKind(models.TextChoices):
    ISSUANCE = "issuance", "Issuance"
    RETIREMENT = "retirement", "Retirement"
    EXPORT = "export", "Export"
    TRANSFER = "transfer", "Transfer to another organization"
    SUBSCRIPTION = "subscription", "Annual subscription"
    LATE_FEE = "late_fee", "Late fee"
    REACTIVATION = "reactivation", "Reactivation fee"
    # Negative: certificates already charged that a rollback or staff's voiding voided (Charge.credited).
    CREDIT = "credit", "Credit for voided certificates"


def currency() -> str:
    return settings.BILLING_CURRENCY


def currency_places(code: str | None = None) -> int:
    return CURRENCY_PLACES.get(code or currency(), 2)


def money_round(amount: Decimal, code: str | None = None) -> Decimal:
    """`amount` to the currency's places, half up (each line is rounded, then lines are summed)."""
    return amount.quantize(Decimal(1).scaleb(-currency_places(code)), rounding=ROUND_HALF_UP)


def money_plain(amount: Decimal, code: str | None = None) -> str:
    """`1234.50`: to the currency's places, no symbol nor grouping (a CSV's cell)."""
    return f"{amount:.{currency_places(code)}f}"


def money_text(amount: Decimal, code: str | None = None) -> str:
    """`$1,234.50`, `-$3.00`, `1,234.50 CHF` for a currency without a symbol here."""
    code = code or currency()
    places = currency_places(code)
    sign = "-" if amount < 0 else ""
    digits = f"{abs(amount):,.{places}f}"
    symbol = CURRENCY_SYMBOLS.get(code)
    return f"{sign}{symbol}{digits}" if symbol else f"{sign}{digits} {code}"


def price_text(price: Decimal, code: str | None = None) -> str:
    """A unit price with as many places as it has (a fee of $0.0025 is shown so), at least the currency's."""
    places = max(currency_places(code), -price.normalize().as_tuple().exponent)
    code = code or currency()
    symbol = CURRENCY_SYMBOLS.get(code)
    digits = f"{price:,.{places}f}"
    return f"{symbol}{digits}" if symbol else f"{digits} {code}"


class Priced(NamedTuple):
    """One per-MWh line: how many MWh, how many of them free, and what the rest cost."""

    quantity: Decimal
    free: Decimal
    amount: Decimal
    description: str


def free_part(*, quantity: Decimal | int, used_before: Decimal | int, threshold: int) -> Decimal:
    """Of `quantity` MWh counted after `used_before` this year, how many fall within the year's free
    `threshold` (the threshold is crossed once: by the line that takes its last units)."""
    return Decimal(max(0, min(quantity, threshold - used_before)))


def charged_text(certificates: Quantities) -> str:
    """What a line charges, as the holder counts it: `12,000 RECs`, `1,000,000 Wh (1 MWh)`,
    `5 RECs and 1,000,000 Wh (6 MWh)`."""
    if not certificates.wh_certificates:
        return f"{certificates.mwh_certificates:,} RECs"
    recs = f"{certificates.mwh_certificates:,} RECs and " if certificates.mwh_certificates else ""
    return f"{recs}{certificates.wh_certificates:,} Wh ({mwh_text(certificates.mwh)} MWh)"


def per_certificate_line(*, certificates: Quantities, unit_price: Decimal, used_before: Decimal | int, threshold: int,
                         year: int, code: str | None = None) -> Priced:
    """The line of `certificates` (MWh, certificates.units) at `unit_price` a MWh, after `used_before`
    MWh of the year's free `threshold`: `12,000 RECs × $0.02, first 1,000 of 2027 free`."""
    quantity = certificates.mwh
    free = free_part(quantity=quantity, used_before=used_before, threshold=threshold)
    amount = money_round((quantity - free) * unit_price, code)
    description = f"{charged_text(certificates)} × {price_text(unit_price, code)}"
    if free == quantity and free:
        description += f", all within the {threshold:,} free in {year}"
    elif free:
        description += f", first {mwh_text(free)} of {year} free" if used_before == 0 else \
            f", {mwh_text(free)} of them the last of the {threshold:,} free in {year}"
    return Priced(quantity, free, amount, description)


def local_day(moment: datetime.datetime) -> datetime.date:
    return moment.astimezone(registry_zone()).date()


def day_start(day: datetime.date) -> datetime.datetime:
    """The first moment of `day` in the registry's zone."""
    return datetime.datetime.combine(day, datetime.time(), tzinfo=registry_zone())


class Period(NamedTuple):
    """A billing period: its first day and the first day after it."""

    start: datetime.date
    end: datetime.date

    @property
    def text(self) -> str:
        last = self.end - datetime.timedelta(days=1)
        if self.start.month == last.month:
            return f"{self.start:%B %Y}"
        return f"{self.start:%B} to {last:%B %Y}"


def period_of(day: datetime.date, months: int | None = None) -> Period:
    """The billing period (BILLING_PERIOD_MONTHS long: 1, 3, 6 or 12, aligned on January) holding `day`."""
    months = months or settings.BILLING_PERIOD_MONTHS
    first = (day.month - 1) // months * months + 1
    start = datetime.date(day.year, first, 1)
    end_month = first + months
    end = datetime.date(day.year + (end_month - 1) // 12, (end_month - 1) % 12 + 1, 1)
    return Period(start, end)


def period_before(day: datetime.date, months: int | None = None) -> Period:
    """The last period that ended on or before `day` (what beat invoices)."""
    current = period_of(day, months)
    return period_of(current.start - datetime.timedelta(days=1), months)
