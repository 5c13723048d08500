"""Reading and validating a mass-transfer CSV (columns A to E of its template) or a mass-retirement
CSV (columns A to I of its template).

Accepts what Excel, LibreOffice and Google Sheets write: UTF-8 with or without BOM, Windows-1252,
CRLF, quoted fields, blank trailing rows and columns, header case and spacing, quantities such as
`1,000` or `1000.0`. Every problem is reported with its row, column, value and a plain message.
"""

import csv
import datetime
import io
import re
from collections import defaultdict
from dataclasses import dataclass
from typing import NamedTuple

from django.conf import settings

from accounts.models import Account
from accounts.selectors import organizations_able_to_receive
from certificates.models import CertificateBatch
from certificates.serials import parse_serial
from registry.models import Organization
from utilities.parsing import positive_integer

from .models import NOTES_MAX_LENGTH, Retirement, RetirementOption
from .services.lifecycle import CannotReceive
from .services.retirements import RetirementDetails


@dataclass(frozen=True)
class Layout:
    """A template's columns, the other names a header may give them, those that may be left out,
    and what its rows are."""

    columns: list[str]
    aliases: dict[str, str]
    optional: frozenset[str]
    rows_are: str


_BATCH_ALIASES = {"serial number": "Serial Number", "serial numbers": "Serial Number", "serial": "Serial Number",
                  "quantity": "Quantity", "qty": "Quantity", "notes": "Notes", "note": "Notes"}
COLUMNS = ["Serial Number", "Quantity", "Organization ID", "Account ID", "Notes"]
HEADER_ALIASES = _BATCH_ALIASES | {"organization id": "Organization ID", "organisation id": "Organization ID",
                                   "org id": "Organization ID", "account id": "Account ID"}
TRANSFERS = Layout(COLUMNS, HEADER_ALIASES, frozenset({"Notes"}), "transfers")
RETIREMENT_COLUMNS = ["Serial Number", "Quantity", "Retirement Account ID", "Option", "Compliance Period",
                      "Beneficiary", "Period Start", "Period End", "Notes"]
RETIREMENTS = Layout(
    RETIREMENT_COLUMNS,
    _BATCH_ALIASES | {"retirement account id": "Retirement Account ID", "retirement account": "Retirement Account ID",
                      "account id": "Retirement Account ID", "option": "Option", "retirement option": "Option",
                      "compliance period": "Compliance Period", "compliance year": "Compliance Period",
                      "beneficiary": "Beneficiary", "beneficiary name": "Beneficiary",
                      "period start": "Period Start", "reporting period start": "Period Start",
                      "period end": "Period End", "reporting period end": "Period End"},
    frozenset({"Compliance Period", "Beneficiary", "Period Start", "Period End", "Notes"}),
    "retirements")
MAX_BYTES = 10 * 1024 * 1024
QUANTITY = re.compile(r"^([0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.0*)?$")
VALUE_SHOWN = 80  # characters of a wrong value repeated in an error

# A cell may be as long as the file: every long cell then gets its own error with row and column.
csv.field_size_limit(MAX_BYTES)


@dataclass(frozen=True, slots=True)
class RowError:
    row: int
    column: str
    value: str
    message: str

    def as_dict(self) -> dict:
        value = self.value if len(self.value) <= VALUE_SHOWN else self.value[:VALUE_SHOWN - 1] + "…"
        value = value.replace("\x00", "\N{SYMBOL FOR NULL}")  # PostgreSQL stores no NUL, even in JSON
        return {"row": self.row, "column": self.column, "value": value, "message": self.message}


class LiveBatch(NamedTuple):
    """What validation needs of a batch the file names, as the ledger has it now."""

    id: int
    quantity: int
    status: str
    organization_id: int
    account_id: int


@dataclass(frozen=True, slots=True)
class MassRow:
    row: int
    batch_id: int
    quantity: int
    organization_id: int | None
    account_id: int | None
    notes: str


def column_letter(index: int) -> str:
    """A spreadsheet's name for the column at `index` (0 is A, 26 is AA)."""
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(ord("A") + remainder) + letters
    return letters


def column_label(index: int, name: str = "") -> str:
    return f"{column_letter(index)} ({name})" if name else column_letter(index)


def _utf16(raw: bytes) -> bool:
    return raw[:2] in (b"\xff\xfe", b"\xfe\xff")  # Excel's "Unicode Text"


def file_problem(raw: bytes) -> str | None:
    """What is wrong with the file as a whole, before reading any row; None if nothing."""
    if len(raw) > MAX_BYTES:
        return f"The file is {len(raw) / 2**20:.1f} MB; the limit is {MAX_BYTES // 2**20} MB."
    if raw[:4] == b"PK\x03\x04":
        return "This is an Excel workbook, not a CSV file: in Excel use File › Save As › CSV (Comma delimited)."
    if raw[:5] == b"%PDF-" or (not _utf16(raw) and b"\x00" in raw[:65536]):
        return "The file is not CSV text. Save the template as CSV and upload that."
    if not decode(raw).strip("\ufeff \t\r\n,;"):
        return "The file is empty."
    return None


def decode(raw: bytes) -> str:
    """UTF-16 with its byte-order mark, UTF-8 with or without one, else Windows-1252."""
    if _utf16(raw):
        return raw.decode("utf-16", errors="replace")
    if raw.startswith(b"\xef\xbb\xbf"):
        return raw[3:].decode("utf-8", errors="replace")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("cp1252", errors="replace")


def _column_name(cell: str, layout: Layout) -> str | None:
    return layout.aliases.get(re.sub(r"[\s_]+", " ", cell.lower()).strip())


def delimiter(text: str, layout: Layout = TRANSFERS) -> str:
    """The separator of the header row: a comma, or the semicolon or tab that Excel writes in many
    locales and in "Unicode Text", whichever makes the most template column names."""
    header = text.split("\n", 1)[0]
    known = {sep: sum(1 for cell in header.split(sep) if _column_name(cell.strip().strip('"'), layout))
             for sep in (",", ";", "\t")}
    return max(known, key=lambda sep: (known[sep], sep == ","))


def parse_quantity(text: str) -> int | None:
    match = QUANTITY.match(text.strip())
    if not match:
        return None
    return positive_integer(match[1].replace(",", ""))


def _split_quantity(record: list[str], header: list[str], quantity: int) -> str | None:
    """An unquoted 1,000 in a comma-separated row makes two cells, "1" and "000", and one too many."""
    if (len(record) > len(header) and quantity + 1 < len(record) and re.fullmatch(r"[0-9]{1,3}", record[quantity])
            and re.fullmatch(r"[0-9]{3}", record[quantity + 1])):
        return (f"The quantity {record[quantity]},{record[quantity + 1]} was split into two cells at its thousands "
                f"separator; write it as {record[quantity]}{record[quantity + 1]}, or put it in quotes.")
    return None


def _cell_problem(record: list[str], index: int, header: list[str], lines: tuple[int, int]) -> str | None:
    """What is wrong with one cell as the CSV reader split it; None if nothing."""
    cell = record[index]
    if "\n" in cell or "\r" in cell:
        first, last = lines
        return (f"This cell runs over lines {first} to {last} of the file: a quote mark (\") opens it and is not "
                "closed on the same line, so the lines after it were read into this cell. Remove the stray quote "
                "mark or close it; a cell cannot contain a line break.")
    if "\x00" in cell:
        return "This cell contains a NUL character (a zero byte). Remove it, or save the file again as CSV."
    if index < len(header):
        return None
    if cell:
        return (f"This cell is to the right of the last column ({column_label(len(header) - 1, header[-1])}). "
                "If it belongs to the Notes, put the notes in quotes, since they contain a comma.")
    return (f"This row has {len(record):,} cells and the header row {len(header):,}: remove the extra "
            "separators at the end of the row.")


def read_rows(raw: bytes, layout: Layout = TRANSFERS) -> tuple[list[tuple], list[RowError]]:
    """The data rows as (row number, then the layout's columns in order, "" for one left out), or
    the errors. Row numbers are the spreadsheet's: the header is row 1. The CSV is read as a stream:
    only the row tuples are kept."""
    problem = file_problem(raw)
    if problem:
        return [], [RowError(0, "", "", problem)]
    text = decode(raw)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter(text, layout))
    header = [cell.strip() for cell in next(reader, [])]
    positions: dict[str, int] = {}
    errors, headerless = [], set()
    for index, cell in enumerate(header):
        name = _column_name(cell, layout)
        if name in positions:
            errors.append(RowError(1, column_label(index, cell), cell,
                                   f"The column “{name}” appears twice in the header row (columns "
                                   f"{column_letter(positions[name])} and {column_letter(index)}); keep one."))
        elif name:
            positions[name] = index
        elif cell:
            errors.append(RowError(1, column_label(index, cell), cell,
                                   f"Unknown column “{cell}”; the template's columns are {', '.join(layout.columns)}."))
        else:
            headerless.add(index)
    for name in layout.columns:
        if name not in positions and name not in layout.optional:
            errors.append(RowError(1, name, "", f"The column “{name}” is missing from the header row."))
    if errors:
        return [], errors
    limit = settings.MASS_TRANSFER_MAX_ROWS
    indexes = [positions.get(name) for name in layout.columns]
    rows, count, line = [], 0, reader.line_num
    try:
        for number, record in enumerate(reader, start=2):
            lines, line = (line + 1, reader.line_num), reader.line_num
            record = [cell.strip() for cell in record]
            if not any(record):
                continue  # a blank row in the middle or at the end
            refused = False
            split = _split_quantity(record, header, positions["Quantity"])
            if split:
                errors.append(RowError(number, column_label(positions["Quantity"], "Quantity"),
                                       ",".join(record[positions["Quantity"]:positions["Quantity"] + 2]), split))
                refused = True
            for index, cell in enumerate([] if refused else record):
                message = (cell or index >= len(header)) and _cell_problem(record, index, header, lines)
                if message:
                    errors.append(RowError(number, column_label(index, header[index] if index < len(header) else ""),
                                           cell, message))
                    refused = True
                    break  # one problem a row: the rest of a misread row says nothing more
                if index in headerless and cell:
                    errors.append(RowError(1, column_label(index), "", "This column has values but no header."))
                    headerless.discard(index)
            count += 1
            if count <= limit and not refused:
                rows.append((number, *(record[index] if index is not None and index < len(record) else ""
                                       for index in indexes)))
    except csv.Error as error:
        return [], [RowError(reader.line_num, "", "", f"The file is not valid CSV: {error}.")]
    if errors:
        return [], errors
    if not header or not any(header):
        return [], [RowError(0, "", "", "The file is empty.")]
    if not count:
        return [], [RowError(0, "", "", f"The file has a header row but no {layout.rows_are} in it.")]
    if count > limit:
        return [], [RowError(0, "", "", f"The file has {count:,} rows; the limit is {limit:,} per upload. "
                                        "Split it into several files.")]
    return rows, []


class _Batches:
    """The batches a file names, as the ledger has them now, and how much the rows take of each."""

    def __init__(self, records: list[tuple], organization: Organization):
        self.organization = organization
        self.serials = {}
        for number, serial, *_ in records:
            parsed = parse_serial(serial)
            if parsed:
                self.serials[number] = parsed
        wanted = set(self.serials.values())
        bases = {parsed[0] for parsed in wanted}
        self.live = {}
        for pk, base, start, end, quantity, status, owner, holder in (
                CertificateBatch.objects.live().filter(certificate__serial_base__in=bases)
                .values_list("pk", "certificate__serial_base", "serial_start", "serial_end", "quantity", "status",
                             "account__organization_id", "account_id").iterator(chunk_size=10_000)):
            if (base, start, end) in wanted:  # keep only the batches the file names
                self.live[(base, start, end)] = LiveBatch(pk, quantity, status, owner, holder)
        self.taken: dict[int, int] = defaultdict(int)
        self.first_row: dict[int, int] = {}

    def check(self, number: int, serial: str, quantity_text: str, refuse) -> tuple[LiveBatch | None, int | None]:
        """The row's batch (held active by the organization) and quantity (within what is left of
        it after the rows above), each None if refused."""
        organization, batch = self.organization, None
        if not serial:
            refuse("Serial Number", serial, "Enter the serial number, as in the Active certificates download.")
        elif number not in self.serials:
            refuse("Serial Number", serial,
                   "This is not a serial number; copy it from the Serial Number column of the Active certificates "
                   "download, e.g. M805-MN-01-2020-4F2A9C-1 to 1000.")
        elif self.serials[number] not in self.live:
            refuse("Serial Number", serial, "No batch has this serial number. If you downloaded the list before "
                                            "some of it moved, download the Active certificates again.")
        else:
            batch = self.live[self.serials[number]]
            if batch.organization_id != organization.pk or batch.status != CertificateBatch.Status.ACTIVE:
                refuse("Serial Number", serial, f"This batch is not held active by {organization.name}.")
                batch = None

        quantity = parse_quantity(quantity_text) if quantity_text else None
        if quantity is None or quantity < 1:
            refuse("Quantity", quantity_text, "The quantity must be a positive whole number, e.g. 1000 or 1,000.")
            quantity = None
        elif batch:
            self.taken[batch.id] += quantity
            self.first_row.setdefault(batch.id, number)
            if self.taken[batch.id] > batch.quantity:
                earlier = "" if self.first_row[batch.id] == number else \
                    f" (counting the rows above on the same batch, from row {self.first_row[batch.id]})"
                refuse("Quantity", quantity_text, f"This is more than the batch holds: {self.taken[batch.id]:,} "
                                                  f"requested{earlier}, {batch.quantity:,} available.")
        return batch, quantity


def _notes_check(notes: str, refuse) -> None:
    if len(notes) > NOTES_MAX_LENGTH:
        refuse("Notes", notes[:40] + "…", f"Notes are limited to {NOTES_MAX_LENGTH} characters "
                                          f"(this has {len(notes)}).")


def validate(raw: bytes, organization: Organization) -> tuple[list[MassRow], list[RowError], int]:
    """Every row of a transfer file checked against the ledger as it is now: (rows, errors, row count)."""
    records, errors = read_rows(raw)
    if errors:
        return [], errors, len(records)
    label = {name: column_label(index, name) for index, name in enumerate(COLUMNS)}
    batches = _Batches(records, organization)
    organization_ids = {record[3].upper() for record in records if record[3]}
    organizations = {org.public_id.upper(): org for org in Organization.objects.filter(public_id__in=organization_ids)}
    receiving = organizations_able_to_receive(org.pk for org in organizations.values())
    accounts = {account.public_id.upper(): account for account in Account.objects.of(organization)}

    rows = []
    for number, serial, quantity_text, org_text, account_text, notes in records:

        def refuse(column, value, message, number=number):
            errors.append(RowError(number, label[column], value, message))

        batch, quantity = batches.check(number, serial, quantity_text, refuse)
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
            elif recipient.pk not in receiving:
                refuse("Organization ID", org_text, str(CannotReceive(recipient)))
                recipient = None
        else:
            account = accounts.get(account_text.upper())
            if account is None or not account.is_open_active:
                refuse("Account ID", account_text, f"This is not one of {organization.name}'s open active accounts "
                                                   "(see the Accounts page).")
                account = None
            elif batch and batch.account_id == account.pk:
                refuse("Account ID", account_text, "This account already holds this batch; choose another account.")
                account = None
        _notes_check(notes, refuse)
        if batch and quantity and (recipient or account):
            rows.append(MassRow(number, batch.id, quantity, recipient.pk if recipient else None,
                                account.pk if account else None, notes))
    return ([] if errors else rows), errors, len(records)


@dataclass(frozen=True, slots=True)
class MassRetirementRow:
    row: int
    batch_id: int
    quantity: int
    account_id: int
    option_id: int
    compliance_period: int | None
    period_start: datetime.date | None
    period_end: datetime.date | None
    beneficiary: str
    notes: str


US_DATE = re.compile(r"^([0-9]{1,2})/([0-9]{1,2})/([0-9]{4})$")  # what Excel shows in the United States
YEAR = re.compile(r"^([0-9]{4})(?:\.0*)?$")
BENEFICIARY_MAX_LENGTH = Retirement._meta.get_field("beneficiary").max_length
# RetirementDetails.problems() names the detail; the file names the column.
DETAIL_COLUMNS = {"option": "Option", "compliance_period": "Compliance Period", "beneficiary": "Beneficiary",
                  "period_start": "Period Start", "period_end": "Period End"}


def parse_date(text: str) -> datetime.date | None:
    """A date as 2025-01-31 or as Excel shows it in the United States, 1/31/2025; None if neither."""
    try:
        if match := US_DATE.match(text):
            return datetime.date(int(match[3]), int(match[1]), int(match[2]))
        return datetime.date.fromisoformat(text) if re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", text) else None
    except ValueError:
        return None


def validate_retirements(raw: bytes, organization: Organization
                         ) -> tuple[list[MassRetirementRow], list[RowError], int]:
    """Every row of a retirement file checked against the ledger as it is now, and its details
    against what its option needs (RetirementDetails.problems): (rows, errors, row count)."""
    records, errors = read_rows(raw, RETIREMENTS)
    if errors:
        return [], errors, len(records)
    label = {name: column_label(index, name) for index, name in enumerate(RETIREMENT_COLUMNS)}
    batches = _Batches(records, organization)
    accounts = {account.public_id.upper(): account for account in Account.objects.of(organization).open_retirement()}
    options = {option.name.casefold(): option for option in RetirementOption.objects.filter(is_active=True)}
    offered = ", ".join(option.name for option in options.values())

    rows = []
    for number, serial, quantity_text, account_text, option_text, period_text, beneficiary, start_text, end_text, \
            notes in records:

        def refuse(column, value, message, number=number):
            errors.append(RowError(number, label[column], value, message))

        batch, quantity = batches.check(number, serial, quantity_text, refuse)
        account = accounts.get(account_text.upper())
        if account is None:
            refuse("Retirement Account ID", account_text, f"This is not one of {organization.name}'s open retirement "
                                                          "accounts (see the Accounts page).")
        option = options.get(option_text.casefold())
        if option is None:
            refuse("Option", option_text, f"Enter what the retirement counts toward, as the registry names it: "
                                          f"{offered}." if not option_text else
                                          f"This is not one of the registry's retirement options: {offered}.")
        year = YEAR.match(period_text)
        # A period that is not a number goes to problems() as it is, which refuses it in its words.
        period = int(year[1]) if year else (period_text or None)
        dates = {}
        for column, text in (("Period Start", start_text), ("Period End", end_text)):
            dates[column] = parse_date(text) if text else None
            if text and dates[column] is None:
                refuse(column, text, "Enter the date as 2025-01-31 (year, month, day) or 1/31/2025.")
        details = RetirementDetails(option=option, compliance_period=period, period_start=dates["Period Start"],
                                    period_end=dates["Period End"], beneficiary=beneficiary)
        values = {"Compliance Period": period_text, "Beneficiary": beneficiary, "Period End": end_text}
        for detail, message in details.problems().items():
            if option is not None or detail != "option":  # an option not found is refused above, by name
                column = DETAIL_COLUMNS[detail]
                refuse(column, values.get(column, ""), message)
        if len(beneficiary) > BENEFICIARY_MAX_LENGTH:
            refuse("Beneficiary", beneficiary[:40] + "…", f"The beneficiary's name is limited to "
                                                          f"{BENEFICIARY_MAX_LENGTH} characters.")
        _notes_check(notes, refuse)
        if not errors:
            rows.append(MassRetirementRow(number, batch.id, quantity, account.pk, option.pk, details.compliance_period,
                                          details.period_start, details.period_end, beneficiary, notes))
    return ([] if errors else rows), errors, len(records)
