"""The issuance arithmetic: whole certificates, the fraction carried, nothing created or lost."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from issuance.arithmetic import issued_quantity


def issue_months(mwh_by_month: list[Decimal]) -> tuple[list[int], Decimal]:
    carry, issued = Decimal(0), []
    for mwh in mwh_by_month:
        quantity, carry = issued_quantity(mwh, carry)
        issued.append(quantity)
    return issued, carry


def test_fractions_are_carried_until_they_make_a_certificate():
    issued, carry = issue_months([Decimal("100.4")] * 3)
    assert issued == [100, 100, 101]
    assert carry == Decimal("0.2")


def test_a_month_under_one_mwh_issues_nothing_and_carries_all_of_it():
    assert issued_quantity(Decimal("0.600"), Decimal("0.3")) == (0, Decimal("0.900"))
    assert issued_quantity(Decimal("0.100"), Decimal("0.9")) == (1, Decimal("0.000"))


def test_whole_mwh_carry_nothing():
    assert issued_quantity(Decimal("1250"), Decimal(0)) == (1250, Decimal(0))


def test_floats_are_refused():
    with pytest.raises(TypeError):
        issued_quantity(100.4, Decimal(0))


def test_negative_generation_and_a_carry_of_a_whole_mwh_are_refused():
    with pytest.raises(ValueError):
        issued_quantity(Decimal("-1"), Decimal(0))
    with pytest.raises(ValueError):
        issued_quantity(Decimal("5"), Decimal(1))


MWH = st.decimals(min_value=Decimal(0), max_value=Decimal("999999.999"), places=3, allow_nan=False,
                  allow_infinity=False)


@given(st.lists(MWH, min_size=1, max_size=36))
def test_over_any_months_the_certificates_issued_and_the_last_carry_equal_the_mwh_reported(months):
    issued, carry = issue_months(months)
    assert sum(issued) + carry == sum(months)
    assert Decimal(0) <= carry < 1
    assert all(isinstance(quantity, int) and quantity >= 0 for quantity in issued)
