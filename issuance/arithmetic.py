"""The issuance arithmetic: how many whole certificates a month of generation makes."""

from decimal import ROUND_FLOOR, Decimal
from typing import NamedTuple


class Issued(NamedTuple):
    quantity: int  # whole certificates (1 per MWh)
    carry_out: Decimal  # the fraction of a MWh left over, 0 <= carry_out < 1


def issued_quantity(mwh: Decimal, carry_in: Decimal) -> Issued:
    """A month's certificates: floor(MWh + the fraction carried in from the generator's previous
    issuance); what is left (always less than 1 MWh) is carried out to its next one.

    Decimal throughout, never float, so nothing is lost: over any run of months, the certificates
    issued plus the last carry equal the MWh reported, exactly. A month whose total is under 1 MWh
    issues nothing and carries all of it. E.g. 100.4, 100.4, 100.4 MWh issue 100, 100, 101 and
    carry 0.2.
    """
    if not isinstance(mwh, Decimal) or not isinstance(carry_in, Decimal):
        raise TypeError("MWh and the carry are Decimal, never float")
    if mwh < 0 or not 0 <= carry_in < 1:
        raise ValueError("MWh is not negative and the carry is a fraction of one MWh")
    total = mwh + carry_in
    quantity = int(total.to_integral_value(rounding=ROUND_FLOOR))
    return Issued(quantity, total - quantity)
