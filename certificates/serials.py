"""How serial numbers are written, read and split: the one definition of each, which the pages,
the CSV files, the services (batches_take splits by the ranges split_range gives) and the
emails call."""

import re

from utilities.parsing import positive_integer

SERIAL_PATTERN = re.compile(r"^\s*(?P<base>\S+)-(?P<start>[0-9]+)\s+to\s+(?P<end>[0-9]+)\s*$", re.IGNORECASE)


def format_serial(base: str, start: int, end: int) -> str:
    """`M805-MN-01-2020-4F2A9C-1 to 1000`: the Serial Number column of the dashboard and its CSV."""
    return f"{base}-{start} to {end}"


def parse_serial(text: str) -> tuple[str, int, int] | None:
    """The inverse of format_serial; None when the text is not a serial number."""
    match = SERIAL_PATTERN.match(text or "")
    start, end = (positive_integer(match["start"]), positive_integer(match["end"])) if match else (None, None)
    if start is None or end is None:  # not serial numbers any batch can have
        return None
    return match["base"], start, end


def split_range(start: int, end: int, quantity: int) -> tuple[tuple[int, int], tuple[int, int] | None]:
    """A move of `quantity` takes the lowest serials: (moved range, staying range or None)."""
    if quantity < 1 or quantity > end - start + 1:
        raise ValueError(f"cannot take {quantity} from {start}..{end}")
    moved = (start, start + quantity - 1)
    staying = (start + quantity, end) if start + quantity <= end else None
    return moved, staying
