"""The one reader of ids and serial numbers typed into a request or a file."""

from collections.abc import Iterable

# PostgreSQL's bigint: every id and serial number column.
BIGINT_MAX = 2**63 - 1


def positive_integer(text: str | None) -> int | None:
    """`text`, blanks around it aside, as a whole number from 1 to PostgreSQL's bigint maximum;
    None for anything else.

    Only ASCII digits count: str.isdigit() also accepts '²', which int() refuses; int() accepts
    '٣', which no id is written with; a number past bigint fails in the database, and one of more
    than 4,300 digits in int() itself."""
    digits = (text or "").strip()
    if not (digits.isascii() and digits.isdigit()) or len(digits.lstrip("0")) > len(str(BIGINT_MAX)):
        return None
    number = int(digits)
    return number if 1 <= number <= BIGINT_MAX else None


def positive_integers(values: Iterable[str]) -> list[int]:
    """Those of `values` that positive_integer reads, in order; the others are left out."""
    return [number for number in map(positive_integer, values) if number is not None]
