"""The issuance arithmetic: how many whole certificates a month of generation makes, and what a
correction of an issued month changes (more certificates, or a shortfall owed back)."""

from decimal import ROUND_FLOOR, Decimal
from typing import NamedTuple


class Issued(NamedTuple):
    quantity: int  # whole certificates (1 per MWh)
    carry_out: Decimal  # the fraction of a MWh left over, 0 <= carry_out < 1


class Adjusted(NamedTuple):
    """What a correction of `difference` MWh makes: `quantity` new certificates, or a `shortfall` of
    certificates issued too many (never both), and the fraction carried on."""

    quantity: int
    shortfall: int
    carry_out: Decimal


def _whole(mwh: Decimal, carry_in: Decimal) -> tuple[int, Decimal]:
    """floor(MWh + carry in) and what is left, 0 <= left < 1: the one rule both answers follow."""
    if not isinstance(mwh, Decimal) or not isinstance(carry_in, Decimal):
        raise TypeError("MWh and the carry are Decimal, never float")
    if not 0 <= carry_in < 1:
        raise ValueError("the carry is a fraction of one MWh")
    total = mwh + carry_in
    whole = int(total.to_integral_value(rounding=ROUND_FLOOR))
    return whole, total - whole


def issued_quantity(mwh: Decimal, carry_in: Decimal) -> Issued:
    """A month's certificates: floor(MWh + the fraction carried in from the generator's previous
    issuance); what is left (always less than 1 MWh) is carried out to its next one.

    Decimal throughout, never float, so nothing is lost: over any run of months, the certificates
    issued plus the last carry equal the MWh reported, exactly. A month whose total is under 1 MWh
    issues nothing and carries all of it. E.g. 100.4, 100.4, 100.4 MWh issue 100, 100, 101 and
    carry 0.2.
    """
    if isinstance(mwh, Decimal) and mwh < 0:
        raise ValueError("MWh is not negative")
    return Issued(*_whole(mwh, carry_in))


def adjusted_quantity(difference: Decimal, carry_in: Decimal) -> Adjusted:
    """A correction of an issued month by `difference` MWh (corrected total minus the total before),
    from the generator's carry now: the same floor as issued_quantity, so that over any sequence of
    readings and corrections the certificates issued, less the shortfalls, plus the last carry equal
    the corrected MWh exactly. A negative floor is a shortfall of whole certificates, and what is
    left is carried as ever: 0.2 MWh carried and 5.5 MWh less make a shortfall of 6, carrying 0.7.
    """
    whole, carry_out = _whole(difference, carry_in)
    return Adjusted(max(whole, 0), max(-whole, 0), carry_out)
