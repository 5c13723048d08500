"""A certificate's unit, and quantities of certificates of both units: the one rule (#33).

A monthly certificate counts MWh: one REC is one MWh. An hourly (granular, EnergyTag) certificate,
whose production period is an interval of at most an hour (certificates.periods.LONGEST_INTERVAL),
counts Wh: one certificate is one Wh. 1 MWh is exactly WH_PER_MWH Wh, so a quantity of either unit
is an exact Decimal of MWh with at most MWH_PLACES places; never a float.

Wherever quantities of several certificates are added up, they are added either in MWh (a Decimal:
`mwh`, `MWhOf` in the ORM, `mwh_sql` in hand-written SQL, all three the same rule) or kept per unit
(`Quantities`: "5 MWh and 1,000,000 Wh"); never as plain integers across units, which would make
an hour's 1,000,000 Wh and 5 MWh read "1,000,005". Which one each place uses, and why, is said in
its own module: MWh where a total is compared, charged or published (the public statistics,
billing, compliance reports); per unit where the holder counts certificates it can move (balances).

Imports nothing of the app but the period's definition, so any app above certificates reads it.
"""

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.db import models
from django.db.models import Case, F, Value, When
from django.db.models.functions import Cast

from .periods import LONGEST_INTERVAL, ProductionPeriod, interval_periods

WH_PER_MWH = 1_000_000
MWH_PLACES = 6  # a Wh is a millionth of a MWh: every quantity of MWh is exact to six places
MWH_STEP = Decimal(1).scaleb(-MWH_PLACES)  # 0.000001 MWh, one Wh
# A column of MWh summed over the registry's certificates: 2**63 Wh is 9.2 * 10**12 MWh.
MWH_DIGITS = 20 + MWH_PLACES


class Unit(models.TextChoices):
    """What one certificate counts."""

    MWH = "MWh", "MWh"  # a month's REC
    WH = "Wh", "Wh"  # an hourly (granular) certificate


def unit_of(period: ProductionPeriod) -> Unit:
    """The unit of the certificates of `period`: Wh for an interval of at most an hour, MWh otherwise."""
    return Unit.WH if period.duration <= LONGEST_INTERVAL else Unit.MWH


def mwh(quantity: int, unit: Unit | str) -> Decimal:
    """`quantity` certificates of `unit` in MWh, exactly: 1,000,000 Wh is Decimal("1.000000")."""
    if not isinstance(quantity, int):
        raise TypeError("A quantity of certificates is a whole number, never a float")
    if unit == Unit.WH:
        return (Decimal(quantity) * MWH_STEP).quantize(MWH_STEP)
    return Decimal(quantity).quantize(MWH_STEP)


def mwh_plain(value: Decimal | int) -> str:
    """MWh as a file or an API writes them: no grouping, no trailing zeros, never an exponent
    (`1000`, `1.000001`, `0.25`)."""
    text = format(Decimal(value).normalize(), "f")
    return "0" if text in ("-0", "") else text


def mwh_text(value: Decimal | int) -> str:
    """MWh as the pages write them: grouped, no trailing zeros (`1,000`, `1,000.000001`, `0.25`)."""
    whole, _, fraction = mwh_plain(value).partition(".")
    sign, digits = ("-", whole[1:]) if whole.startswith("-") else ("", whole)
    return f"{sign}{int(digits):,}" + (f".{fraction}" if fraction else "")


def quantity_text(quantity: int, unit: Unit | str) -> str:
    """`quantity` certificates of one unit in words: `5 MWh`, `1,000,000 Wh`."""
    return f"{quantity:,} {Unit(unit).label}"


@dataclass(frozen=True)
class Quantities:
    """Certificates of both units, kept apart: what a holder can move is whole certificates of each."""

    mwh_certificates: int = 0  # monthly RECs: whole MWh
    wh_certificates: int = 0  # hourly certificates: whole Wh

    @classmethod
    def of(cls, quantity: int, unit: Unit | str) -> "Quantities":
        return cls(mwh_certificates=quantity) if unit == Unit.MWH else cls(wh_certificates=quantity)

    def __add__(self, other: "Quantities") -> "Quantities":
        return Quantities(self.mwh_certificates + other.mwh_certificates, self.wh_certificates + other.wh_certificates)

    @property
    def mwh(self) -> Decimal:
        """All of it in MWh, exactly."""
        return mwh(self.mwh_certificates, Unit.MWH) + mwh(self.wh_certificates, Unit.WH)

    @property
    def text(self) -> str:
        """`5 MWh`, `1,000,000 Wh`, `5 MWh and 1,000,000 Wh`; `0 MWh` for nothing."""
        parts = [quantity_text(count, unit) for count, unit in
                 ((self.mwh_certificates, Unit.MWH), (self.wh_certificates, Unit.WH)) if count]
        return " and ".join(parts) or quantity_text(0, Unit.MWH)

    def __str__(self) -> str:
        return self.text


# The same rule for the database. -------------------------------------------------------------------

_HOURLY_SQL = "(upper({period}) - lower({period})) <= interval '{seconds} seconds'"


def hourly_sql(period_column: str) -> str:
    """SQL true for a row whose period (a tstzrange column, e.g. `c.period`) is an hourly certificate's."""
    return _HOURLY_SQL.format(period=period_column, seconds=int(LONGEST_INTERVAL / datetime.timedelta(seconds=1)))


def mwh_sql(quantity_column: str, period_column: str) -> str:
    """SQL of `quantity_column` certificates of the row's period in MWh, as numeric (exact): an hourly
    certificate's Wh times 0.000001, a month's as they are. Set-based: sum it, group by it."""
    return (f"(CASE WHEN {hourly_sql(period_column)} THEN {quantity_column}::numeric * {MWH_STEP} "
            f"ELSE {quantity_column}::numeric END)")


def MWhOf(quantity: str = "quantity", period: str = "certificate__period") -> Case:  # noqa: N802 (an expression)
    """The ORM's expression of mwh_sql: `quantity` (a field of certificates) in MWh, as a Decimal;
    `Sum(MWhOf())` adds batches of both units."""
    decimal = models.DecimalField(max_digits=MWH_DIGITS, decimal_places=MWH_PLACES)
    as_decimal = Cast(F(quantity), decimal)
    return Case(When(interval_periods(period), then=as_decimal * Value(MWH_STEP, output_field=decimal)),
                default=as_decimal, output_field=decimal)


def HeldOf(unit: Unit, quantity: str = "quantity", period: str = "certificate__period") -> Case:  # noqa: N802
    """The ORM's expression of `quantity` when the row's certificates are of `unit`, else 0: summed, the
    certificates of one unit (a balance kept per unit, Quantities)."""
    hourly = interval_periods(period)
    condition = hourly if unit == Unit.WH else ~hourly
    return Case(When(condition, then=F(quantity)), default=Value(0), output_field=models.BigIntegerField())
