"""A certificate's unit, and quantities of certificates of both units: the one rule (#33).

A monthly certificate counts MWh: one REC is one MWh. An hourly (granular, EnergyTag) certificate,
whose production period is an interval of at most an hour (certificates.periods.LONGEST_INTERVAL),
counts Wh: one certificate is one Wh. 1 MWh is exactly WH_PER_MWH Wh, so a quantity of either unit
is an exact Decimal of MWh with at most MWH_PLACES places; never a float.

Wherever quantities of several certificates are added up, they are added either in MWh (a Decimal:
`mwh`, `MWhOf` in the ORM, `mwh_sql` in hand-written SQL, the last two reading Certificate.unit,
which unit_expression computes from the period by the same rule) or kept per unit
(`Quantities`: "5 MWh and 1,000,000 Wh"); never as plain integers across units, which would make
an hour's 1,000,000 Wh and 5 MWh read "1,000,005". Which one each place uses, and why, is said in
its own module: MWh where a total is compared, charged or published (the public statistics,
billing, compliance reports); per unit where the holder counts certificates it can move (balances).

Imports nothing of the app but the period's definition, so any app above certificates reads it.
"""

from dataclasses import dataclass
from decimal import Decimal

from django.db import models
from django.db.models import Case, F, Sum, Value, When
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

    @property
    def certificates_text(self) -> str:
        """The certificates counted in words, each in its unit: `5 certificates` (monthly RECs), `1,000,000
        hourly certificates (Wh)`, `5 certificates (MWh) and 1,000,000 hourly certificates (Wh)`."""
        def counted(count: int, what: str) -> str:
            return f"{count:,} {what}{'' if count == 1 else 's'}"
        if not self.wh_certificates:
            return counted(self.mwh_certificates, "certificate")
        hourly = f"{counted(self.wh_certificates, 'hourly certificate')} (Wh)"
        return f"{counted(self.mwh_certificates, 'certificate')} (MWh) and {hourly}" if self.mwh_certificates \
            else hourly

    def __str__(self) -> str:
        return self.text


# The same rule for the database: each certificate's unit is a stored generated column (Certificate.unit,
# made by unit_expression from the period), so that a sum reads it by value ('Wh', 'MWh') as it reads a
# status, and an app below certificates in the layers (accounts) sums per unit without the rule.

def unit_expression(period: str = "period") -> Case:
    """The unit of the certificates of the row's `period` (a ProductionPeriodField), as unit_of says it:
    Certificate.unit's expression."""
    return Case(When(interval_periods(period), then=Value(Unit.WH.value)), default=Value(Unit.MWH.value),
                output_field=models.CharField(max_length=3))


def mwh_sql(quantity_column: str, unit_column: str) -> str:
    """SQL of `quantity_column` certificates of the row's unit (Certificate.unit, e.g. `c.unit`) in MWh,
    as numeric (exact): an hourly certificate's Wh times 0.000001, a month's as they are. Set-based:
    sum it, group by it."""
    return (f"(CASE WHEN {unit_column} = '{Unit.WH.value}' THEN {quantity_column}::numeric * {MWH_STEP} "
            f"ELSE {quantity_column}::numeric END)")


def held_sql(quantity_column: str, unit_column: str, unit: Unit) -> str:
    """SQL of `quantity_column` when the row's certificates are of `unit`, else 0 (a sum per unit)."""
    return f"(CASE WHEN {unit_column} = '{unit.value}' THEN {quantity_column} ELSE 0 END)"


def MWhOf(quantity: str = "quantity", unit: str = "certificate__unit") -> Case:  # noqa: N802 (an expression)
    """The ORM's expression of mwh_sql: `quantity` (a field of certificates) in MWh, as a Decimal;
    `Sum(MWhOf())` adds batches of both units."""
    decimal = models.DecimalField(max_digits=MWH_DIGITS, decimal_places=MWH_PLACES)
    as_decimal = Cast(F(quantity), decimal)
    return Case(When(**{unit: Unit.WH.value}, then=as_decimal * Value(MWH_STEP, output_field=decimal)),
                default=as_decimal, output_field=decimal)


def HeldOf(unit: Unit, quantity: str = "quantity", unit_field: str = "certificate__unit") -> Case:  # noqa: N802
    """The ORM's expression of `quantity` when the row's certificates are of `unit`, else 0: summed, the
    certificates of one unit (a balance kept per unit, Quantities)."""
    return Case(When(**{unit_field: unit.value}, then=F(quantity)), default=Value(0),
                output_field=models.BigIntegerField())


def quantities_sums(quantity: str = "quantity", unit_field: str = "certificate__unit") -> dict:
    """The aggregates of a queryset's certificates per unit, for `.aggregate(**quantities_sums())` or
    `.annotate(...)`, read back by Quantities.summed: one pass, the database adding each unit apart
    (e.g. the Active tab's totals of batches: "5 MWh and 1,000,000 Wh", never 1,000,005)."""
    return {"mwh_certificates": Sum(HeldOf(Unit.MWH, quantity, unit_field), default=0),
            "wh_certificates": Sum(HeldOf(Unit.WH, quantity, unit_field), default=0)}


def quantities_of(queryset) -> Quantities:
    """The certificates of a queryset of batches (or of anything with `quantity` and `certificate`), per unit."""
    return Quantities(**queryset.order_by().aggregate(**quantities_sums()))
