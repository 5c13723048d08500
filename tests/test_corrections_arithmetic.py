"""Corrections keep the issuance arithmetic whole: over any sequence of readings and corrections, the
certificates issued over time, less those voided and those still owed, equal the floor of the total
corrected MWh; the carry is always a fraction and nothing is owed below zero."""

from decimal import ROUND_FLOOR, Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from certificates.models import CertificateBatch
from issuance.adjustments import correction_request, corrections_approve
from issuance.arithmetic import adjusted_quantity, issued_quantity
from issuance.models import Issuance
from issuance.selectors import generator_balances
from issuance.services import issuance_run
from ledger.verification import ledger_breaches

from .factories import GeneratorFactory
from .generation import last_month, report

MWH = st.decimals(min_value=Decimal(0), max_value=Decimal("500.999"), places=3, allow_nan=False, allow_infinity=False)


def floor(mwh: Decimal) -> int:
    return int(mwh.to_integral_value(rounding=ROUND_FLOOR))


# A step: ("reading", MWh) issues the next month; ("correction", index, MWh, void) corrects the month
# `index` (modulo those issued) to a new total, its shortfall owed or voided.
STEPS = st.lists(st.one_of(
    st.tuples(st.just("reading"), MWH),
    st.tuples(st.just("correction"), st.integers(0, 5), MWH, st.booleans()),
), min_size=1, max_size=12)


def test_adjusted_quantity_examples():
    assert adjusted_quantity(Decimal("-5.5"), Decimal("0.2")) == (0, 6, Decimal("0.7"))
    assert adjusted_quantity(Decimal("12.5"), Decimal("0.4")) == (12, 0, Decimal("0.9"))
    assert adjusted_quantity(Decimal("-0.1"), Decimal("0.3")) == (0, 0, Decimal("0.2"))
    with pytest.raises(TypeError):
        adjusted_quantity(-1.5, Decimal(0))


@given(STEPS)
def test_the_arithmetic_alone_issues_the_floor_of_the_corrected_total(steps):
    """The rule as the services apply it, without the database: what is owed is paid from later
    certificates before any is issued; a shortfall voided takes certificates back at once."""
    months: list[Decimal] = []
    carry, debit, live = Decimal(0), 0, 0
    for step in steps:
        if step[0] == "reading":
            whole, carry = issued_quantity(step[1], carry)
            months.append(step[1])
        elif months:
            index = step[1] % len(months)
            whole, shortfall, carry = adjusted_quantity(step[2] - months[index], carry)
            months[index] = step[2]
            if step[3]:
                live -= shortfall  # voided
            else:
                debit += shortfall
        else:
            continue
        paid = min(whole, debit)
        debit -= paid
        live += whole - paid
        assert Decimal(0) <= carry < 1 and debit >= 0 and (debit == 0 or paid == whole)
        assert live - debit == floor(sum(months, Decimal(0)))
        assert live - debit + carry == sum(months, Decimal(0))


MONTHS = [last_month(n) for n in range(8, 0, -1)]


@pytest.mark.django_db
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=STEPS)
def test_over_any_readings_and_corrections_the_certificates_live_and_owed_make_the_floor_of_the_corrected_mwh(
        steps, org, account, staff, trader, manager):
    """Through the services and the database: a fresh generator each example, its months issued in
    order, each correction requested by a manager and approved by staff (owed or voided)."""
    generator = GeneratorFactory(organization=org, account=account)
    corrected: list[Decimal] = []
    for step in steps:
        if step[0] == "reading":
            if len(corrected) == len(MONTHS):
                continue
            month = MONTHS[len(corrected)]
            issuance_run(user=staff, reports=[report(generator, month, str(step[1]), trader)])
            corrected.append(step[1])
            issued = Issuance.objects.in_force().get(generator=generator, month=month)
            assert issued.quantity == 0 or issued.debit_paid == issued.debit_in  # what is owed is paid first
            month_is_whole(generator, corrected)
            continue
        if not corrected:
            continue
        index = step[1] % len(corrected)
        if step[2] == corrected[index]:
            continue
        issuance = Issuance.objects.in_force().get(generator=generator, month=MONTHS[index])
        correction = correction_request(organization=org, user=manager, issuance=issuance, mwh=step[2],
                                        note="A corrected meter reading.")
        decided = corrections_approve(user=staff, corrections=[correction],
                                      shortfall_by="void" if step[3] else "debit")
        if not decided.approved:  # fewer of the month's certificates held than its shortfall: owed instead
            assert "no longer holds" in decided.skipped[0][1]
            corrections_approve(user=staff, corrections=[correction], shortfall_by="debit")
        corrected[index] = step[2]
        correction.refresh_from_db()
        assert correction.quantity == 0 or correction.debit_paid == correction.debit_in
        month_is_whole(generator, corrected)
    assert ledger_breaches() == []


def month_is_whole(generator, corrected: list[Decimal]) -> None:
    """The certificates live, less those owed, plus the carry, are the corrected MWh exactly."""
    live = sum(CertificateBatch.objects.live().filter(certificate__generator=generator)
               .values_list("quantity", flat=True))
    balance = generator_balances([generator.pk])[generator.pk]
    assert Decimal(0) <= balance.carry < 1 and balance.debit >= 0
    assert live - balance.debit == floor(sum(corrected, Decimal(0)))
    assert live - balance.debit + balance.carry == sum(corrected, Decimal(0))
