"""Billing's arithmetic, over many cases: each line is rounded to the currency's places on its own
and the lines add up to within half a cent each of the exact sum (the invoice's total, SUM of
its lines, is tested on the database in test_billing_invoices); the year's free certificates are taken exactly once,
by the line that crosses the threshold; no float anywhere. A line's certificates are monthly RECs (a MWh
each) and hourly certificates (a Wh each), charged together in MWh (certificates.units)."""

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from billing.values import free_part, money_round, per_certificate_line
from certificates.units import Quantities, Unit

# Each line: RECs, hourly certificates (Wh), or both; never nothing (an event of none is not charged).
certificates = st.builds(Quantities, st.integers(min_value=0, max_value=5_000_000),
                         st.integers(min_value=0, max_value=5 * 10**9)).filter(lambda line: line.mwh > 0)
quantities = st.lists(certificates, min_size=1, max_size=40)
prices = st.decimals(min_value=Decimal("0"), max_value=Decimal("10"), places=6)
thresholds = st.integers(min_value=0, max_value=20_000_000)


def year_of_lines(quantities, price, threshold, code="USD"):
    used, lines = 0, []
    for quantity in quantities:
        lines.append(per_certificate_line(certificates=quantity, unit_price=price, used_before=used,
                                          threshold=threshold, year=2027, code=code))
        used += quantity.mwh
    return lines


@given(quantities, prices, thresholds)
def test_each_line_is_rounded_on_its_own_and_the_total_is_their_sum(quantities, price, threshold):
    lines = year_of_lines(quantities, price, threshold)
    for line in lines:
        assert line.amount == money_round((line.quantity - line.free) * price)
        assert line.amount.as_tuple().exponent == -2
        assert abs(line.amount - (line.quantity - line.free) * price) <= Decimal("0.005")
    # The total (the invoice's: SUM of its lines' amounts) strays from the unrounded sum by at most
    # half a cent a line: per-line rounding, as the lines show.
    total = sum((line.amount for line in lines), Decimal(0))
    exact = sum(((line.quantity - line.free) * price for line in lines), Decimal(0))
    assert abs(total - exact) <= Decimal("0.005") * len(lines)


@given(quantities, prices, thresholds)
def test_the_free_threshold_is_crossed_once_a_year(quantities, price, threshold):
    lines = year_of_lines(quantities, price, threshold)
    frees = [line.free for line in lines]
    assert sum(frees) == min(threshold, sum(quantity.mwh for quantity in quantities))
    # Free lines come first, then at most one partly free line, then none.
    partly = [line for line in lines if 0 < line.free < line.quantity]
    assert len(partly) <= 1
    first_paid = next((index for index, line in enumerate(lines) if line.free < line.quantity), len(lines))
    assert all(line.free == 0 for line in lines[first_paid + 1:])


@given(st.integers(min_value=1, max_value=10**9), st.integers(min_value=0, max_value=10**9),
       st.integers(min_value=0, max_value=10**9))
def test_a_free_part_is_never_negative_nor_more_than_the_line(quantity, used_before, threshold):
    assert 0 <= free_part(quantity=quantity, used_before=used_before, threshold=threshold) <= quantity


@given(quantities, prices)
def test_a_currency_without_minor_units_rounds_to_whole_units(quantities, price):
    for line in year_of_lines(quantities, price, 0, code="JPY"):
        assert line.amount == line.amount.to_integral_value()


def test_a_line_says_how_it_was_computed():
    line = per_certificate_line(certificates=Quantities.of(12000, Unit.MWH), unit_price=Decimal("0.02"), used_before=0,
                                threshold=1000, year=2027)
    assert line.description == "12,000 RECs × $0.02, first 1,000 of 2027 free"
    assert line.amount == Decimal("220.00")
    line = per_certificate_line(certificates=Quantities.of(333, Unit.MWH), unit_price=Decimal("0.0025"), used_before=0,
                                threshold=0, year=2027)
    assert (line.description, line.amount) == ("333 RECs × $0.0025", Decimal("0.83"))
    line = per_certificate_line(certificates=Quantities(2, 1_500_000), unit_price=Decimal("0.02"), used_before=999,
                                threshold=1000, year=2027)  # 3.5 MWh, of them the year's last free one
    assert line.description == "2 RECs and 1,500,000 Wh (3.5 MWh) × $0.02, 1 of them the last of the 1,000 free in 2027"
    assert (line.quantity, line.free, line.amount) == (Decimal("3.5"), 1, Decimal("0.05"))
