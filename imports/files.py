"""The import file: a plain CSV of imports by conversion, one a row, that registry staff upload in the
admin (documented in README.md, "Imports"). Every row is read and checked first; any problem is listed
by row and column and nothing is recorded."""

import decimal
import re

from certificates.models import FuelType, Technology
from certificates.periods import ProductionPeriod
from registry.models import Organization, TrackingSystem
from utilities.csv_upload import Layout, RowError, read_rows
from utilities.parsing import positive_integer

from .values import IMPORT_COLUMNS, ImportDetails

IMPORT_FILE = Layout(
    IMPORT_COLUMNS,
    {**{name.lower(): name for name in IMPORT_COLUMNS},
     "source": "Source System", "tracking system": "Source System", "serial number": "Original Serial Number",
     "original serial": "Original Serial Number", "capacity": "Capacity (MW)", "capacity mw": "Capacity (MW)",
     "state or province": "State", "month": "Vintage", "recipient": "Recipient Organization ID",
     "organization id": "Recipient Organization ID"},
    frozenset({"Technology", "Eligibilities", "Notes"}), "imports", max_rows_setting="IMPORT_FILE_MAX_ROWS")

_CHOICES = {
    "Fuel": {**{value: value for value in FuelType.values},
             **{label.lower(): value for value, label in FuelType.choices}},
    "Technology": {**{value: value for value in Technology.values},
                   **{label.lower(): value for value, label in Technology.choices}},
}


def _choice(column: str, text: str) -> str:
    """A fuel or technology as its value or its label (any case); the text itself when neither, for the
    details' own problem to name."""
    return _CHOICES[column].get(text.strip().lower(), text.strip())


def import_file_read(raw: bytes) -> tuple[list[tuple[int, ImportDetails]], list[RowError]]:
    """The file's imports, by row number (the header is row 1), or every problem found."""
    rows, errors = read_rows(raw, IMPORT_FILE)
    if errors:
        return [], errors
    systems = {system.code.lower(): system for system in TrackingSystem.objects.filter(is_active=True)}
    recipients = {organization.public_id: organization for organization in Organization.objects.filter(
        public_id__in=[row[12].strip().upper() for row in rows])}
    read = []
    for number, system, serial, generator_id, name, fuel, technology, state, capacity, vintage, eligibilities, \
            quantity, recipient, notes in rows:
        try:
            capacity_mw = decimal.Decimal(capacity.replace(",", "")) if capacity else None
        except decimal.InvalidOperation:
            capacity_mw = None
        details = ImportDetails(
            tracking_system=systems.get(system.strip().lower()), original_serial=serial, generator_id=generator_id,
            generator_name=name, fuel=_choice("Fuel", fuel), technology=_choice("Technology", technology) if technology
            else "", state=state.strip().upper(), capacity_mw=capacity_mw, period=ProductionPeriod.parse_month(vintage),
            quantity=positive_integer(quantity.replace(",", "")), recipient=recipients.get(recipient.strip().upper()),
            eligibilities=[name for name in re.split(r"[;|]", eligibilities) if name.strip()], notes=notes)
        values = dict(zip(IMPORT_COLUMNS, (system, serial, generator_id, name, fuel, technology, state, capacity,
                                           vintage, eligibilities, quantity, recipient, notes), strict=True))
        # Whether the recipient can receive is asked by the service, under its locks; here, what the row says.
        for field, message in details.problems(recipient_can_receive=True).items():
            column = FIELD_COLUMNS[field]
            errors.append(RowError(number, column, values[column], message))
        read.append((number, details))
    return ([], errors) if errors else (read, [])


# The details' fields (ImportDetails.problems' keys) by the file's column they come from.
FIELD_COLUMNS = {"tracking_system": "Source System", "original_serial": "Original Serial Number",
                 "generator_id": "Generator ID", "generator_name": "Generator Name", "fuel": "Fuel",
                 "technology": "Technology", "state": "State", "capacity_mw": "Capacity (MW)", "period": "Vintage",
                 "eligibilities": "Eligibilities", "quantity": "Quantity", "recipient": "Recipient Organization ID"}
