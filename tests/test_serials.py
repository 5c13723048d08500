import pytest
from hypothesis import given
from hypothesis import strategies as st

from certificates.serials import format_serial, parse_serial, split_range


def test_format_and_parse_are_inverse():
    text = format_serial("M805-MN-01-2020-4F2A9C", 1, 1000)
    assert text == "M805-MN-01-2020-4F2A9C-1 to 1000"
    assert parse_serial(text) == ("M805-MN-01-2020-4F2A9C", 1, 1000)


@pytest.mark.parametrize("text", ["", "M805-1-1000", "M805 1 to 1000", "M805-a to b"])
def test_parse_rejects_what_is_not_a_serial(text):
    assert parse_serial(text) is None


@given(start=st.integers(1, 10**9), size=st.integers(1, 10**6), data=st.data())
def test_split_takes_lowest_serials_and_keeps_the_rest(start, size, data):
    end = start + size - 1
    quantity = data.draw(st.integers(1, size))
    (moved_start, moved_end), staying = split_range(start, end, quantity)
    assert (moved_start, moved_end - moved_start + 1) == (start, quantity)
    if quantity == size:
        assert staying is None
    else:
        assert staying == (moved_end + 1, end)


@pytest.mark.parametrize("quantity", [0, -1, 11])
def test_split_refuses_impossible_quantities(quantity):
    with pytest.raises(ValueError):
        split_range(1, 10, quantity)
