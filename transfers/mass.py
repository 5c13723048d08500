"""Reading and validating a mass-transfer CSV (columns A to E of the template).

Accepts what Excel, LibreOffice and Google Sheets write: UTF-8 with or without BOM, Windows-1252,
CRLF, quoted fields, blank trailing rows and columns, header case and spacing, quantities such as
`1,000` or `1000.0`. Every problem is reported with its row, column, value and a plain message.
"""

import csv
import io
import re
from collections import defaultdict
from dataclasses import dataclass

from django.conf import settings

from accounts.models import Account
from certificates.models import CertificateBatch
from certificates.serials import parse_serial
from registry.models import Organization
from registry.parsing import positive_integer

from .models import NOTES_MAX_LENGTH

COLUMNS = ["Serial Number", "Quantity", "Organization ID", "Account ID", "Notes"]
HEADER_ALIASES = {"serial number": "Serial Number", "serial numbers": "Serial Number", "serial": "Serial Number",
                  "quantity": "Quantity", "qty": "Quantity", "organization id": "Organization ID",
                  "organisation id": "Organization ID", "org id": "Organization ID", "account id": "Account ID",
                  "notes": "Notes", "note": "Notes"}
MAX_BYTES = 10 * 1024 * 1024
QUANTITY = re.compile(r"^([0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.0*)?$")


@dataclass(frozen=True, slots=True)
class RowError:
    row: int
    column: str
    value: str
    message: str

    def as_dict(self) -> dict:
        return {"row": self.row, "column": self.column, "value": self.value, "message": self.message}


@dataclass(frozen=True, slots=True)
class MassRow:
    row: int
    batch_id: int
    quantity: int
    organization_id: int | None
    account_id: int | None
    notes: str


def column_label(index: int, name: str) -> str:
    return f"{chr(ord('A') + index)} ({name})" if index < 26 else name


def file_problem(raw: bytes) -> str | None:
    """What is wrong with the file as a whole, before reading any row; None if nothing."""
    if len(raw) > MAX_BYTES:
        return f"The file is {len(raw) / 2**20:.1f} MB; the limit is {MAX_BYTES // 2**20} MB."
    if not raw.strip(b"\xef\xbb\xbf \t\r\n,;"):
        return "The file is empty."
    if raw[:4] == b"PK\x03\x04":
        return "This is an Excel workbook, not a CSV file: in Excel use File › Save As › CSV (Comma delimited)."
    if raw[:5] == b"%PDF-" or b"\x00" in raw[:65536]:
        return "The file is not CSV text. Save the template as CSV and upload that."
    return None


def decode(raw: bytes) -> str:
    if raw.startswith(b"\xef\xbb\xbf"):
        return raw[3:].decode("utf-8")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("cp1252", errors="replace")


def parse_quantity(text: str) -> int | None:
    match = QUANTITY.match(text.strip())
    if not match:
        return None
    return positive_integer(match[1].replace(",", ""))


def read_rows(raw: bytes) -> tuple[list[tuple], list[RowError]]:
    """The data rows as (row number, serial, quantity, organization id, account id, notes), or the
    file-level errors. The CSV is read as a stream: only the row tuples are kept."""
    problem = file_problem(raw)
    if problem:
        return [], [RowError(0, "", "", problem)]
    reader = csv.reader(io.StringIO(decode(raw), newline=""))
    try:
        header = [cell.strip() for cell in next(reader, [])]
        positions: dict[str, int] = {}
        errors, headerless = [], set()
        for index, cell in enumerate(header):
            name = HEADER_ALIASES.get(re.sub(r"[\s_]+", " ", cell.lower()).strip())
            if name and name not in positions:
                positions[name] = index
            elif cell:
                errors.append(RowError(1, column_label(index, cell), cell,
                                       f"Unknown column “{cell}”; the template's columns are {', '.join(COLUMNS)}."))
            else:
                headerless.add(index)
        for name in COLUMNS:
            if name not in positions and name != "Notes":
                errors.append(RowError(1, name, "", f"The column “{name}” is missing from the header row."))
        if errors:
            return [], errors
        limit = settings.MASS_TRANSFER_MAX_ROWS
        indexes = [positions.get(name) for name in COLUMNS]
        rows, count = [], 0
        for number, record in enumerate(reader, start=2):  # the spreadsheet's row number
            record = [cell.strip() for cell in record]
            if not any(record):
                continue  # a blank row in the middle or at the end
            for index in [i for i in headerless if i < len(record) and record[i]]:
                errors.append(RowError(1, column_label(index, ""), "", "This column has values but no header."))
                headerless.discard(index)
            count += 1
            if count <= limit:
                rows.append((number, *(record[index] if index is not None and index < len(record) else ""
                                                for index in indexes)))
    except csv.Error as error:
        return [], [RowError(reader.line_num, "", "", f"The file is not valid CSV: {error}.")]
    if errors:
        return [], errors
    if not header or not any(header):
        return [], [RowError(0, "", "", "The file is empty.")]
    if not count:
        return [], [RowError(0, "", "", "The file has a header row but no transfers in it.")]
    if count > limit:
        return [], [RowError(0, "", "", f"The file has {count:,} rows; the limit is {limit:,} per upload. "
                                        "Split it into several files.")]
    return rows, []


def validate(raw: bytes, organization: Organization) -> tuple[list[MassRow], list[RowError], int]:
    """Every row checked against the ledger as it is now: (rows, errors, row count)."""
    records, errors = read_rows(raw)
    if errors:
        return [], errors, len(records)
    label = {name: column_label(index, name) for index, name in enumerate(COLUMNS)}

    serials = {}
    for number, serial, *_ in records:
        parsed = parse_serial(serial)
        if parsed:
            serials[number] = parsed
    wanted = set(serials.values())
    bases = {parsed[0] for parsed in wanted}
    live = {}
    for pk, base, start, end, quantity, status, owner, holder in (
            CertificateBatch.objects.live().filter(certificate__serial_base__in=bases)
            .values_list("pk", "certificate__serial_base", "serial_start", "serial_end", "quantity", "status",
                         "account__organization_id", "account_id").iterator(chunk_size=10_000)):
        if (base, start, end) in wanted:  # keep only the batches the file names
            live[(base, start, end)] = (pk, quantity, status, owner, holder)
    del wanted
    organization_ids = {record[3].upper() for record in records if record[3]}
    organizations = {org.public_id.upper(): org for org in Organization.objects.filter(public_id__in=organization_ids)}
    accounts = {account.public_id.upper(): account for account in Account.objects.of(organization)}

    rows, taken = [], defaultdict(int)
    first_row_of_batch = {}
    for number, serial, quantity_text, org_text, account_text, notes in records:

        def refuse(column, value, message, number=number):
            errors.append(RowError(number, label[column], value, message))

        batch = None
        if not serial:
            refuse("Serial Number", serial, "Enter the serial number, as in the Active certificates download.")
        elif number not in serials:
            refuse("Serial Number", serial,
                   "This is not a serial number; copy it from the Serial Number column of the Active certificates "
                   "download, e.g. M805-MN-01-2020-4F2A9C-1 to 1000.")
        elif serials[number] not in live:
            refuse("Serial Number", serial, "No batch has this serial number. If you downloaded the list before "
                                            "some of it moved, download the Active certificates again.")
        else:
            batch = live[serials[number]]
            if batch[3] != organization.pk or batch[2] != CertificateBatch.Status.ACTIVE:
                refuse("Serial Number", serial, f"This batch is not held active by {organization.name}.")
                batch = None

        quantity = parse_quantity(quantity_text) if quantity_text else None
        if quantity is None or quantity < 1:
            refuse("Quantity", quantity_text, "The quantity must be a positive whole number, e.g. 1000 or 1,000.")
        elif batch:
            taken[batch[0]] += quantity
            first_row_of_batch.setdefault(batch[0], number)
            if taken[batch[0]] > batch[1]:
                earlier = "" if first_row_of_batch[batch[0]] == number else \
                    f" (counting the rows above on the same batch, from row {first_row_of_batch[batch[0]]})"
                refuse("Quantity", quantity_text, f"This is more than the batch holds: {taken[batch[0]]:,} "
                                                  f"requested{earlier}, {batch[1]:,} available.")

        recipient = account = None
        if org_text and account_text:
            refuse("Organization ID", org_text, "Fill in either Organization ID (to another organization) or "
                                                "Account ID (to your own account), not both.")
        elif not org_text and not account_text:
            refuse("Account ID", "", "Fill in Organization ID (to another organization) or Account ID "
                                     "(to one of your own active accounts).")
        elif org_text:
            recipient = organizations.get(org_text.upper())
            if recipient is None:
                refuse("Organization ID", org_text, "No organization has this ID; IDs look like MM00412.")
            elif recipient.pk == organization.pk:
                refuse("Organization ID", org_text, "This is your own organization; to move certificates between "
                                                    "your accounts, use Account ID instead.")
            elif recipient.status != Organization.Status.ACTIVE:
                refuse("Organization ID", org_text, f"{recipient.name} is suspended and cannot receive certificates.")
                recipient = None
        else:
            account = accounts.get(account_text.upper())
            if account is None or not account.is_open_active:
                refuse("Account ID", account_text, f"This is not one of {organization.name}'s open active accounts "
                                                   "(see the Accounts page).")
                account = None
            elif batch and batch[4] == account.pk:
                refuse("Account ID", account_text, "This account already holds this batch; choose another account.")
                account = None
        if len(notes) > NOTES_MAX_LENGTH:
            refuse("Notes", notes[:40] + "…", f"Notes are limited to {NOTES_MAX_LENGTH} characters "
                                              f"(this has {len(notes)}).")
        if batch and quantity and (recipient or account):
            rows.append(MassRow(number, batch[0], quantity, recipient.pk if recipient else None,
                                account.pk if account else None, notes))
    return ([] if errors else rows), errors, len(records)
