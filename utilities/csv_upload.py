"""Reading an uploaded CSV file against a template's layout: the mass-transfer and mass-retirement
files (mass_uploads/validation.py) and the generation data (issuance/generation.py).

Accepts what Excel, LibreOffice and Google Sheets write: UTF-8 with or without BOM, Windows-1252,
UTF-16, CRLF, quoted fields, blank trailing rows and columns, header case and spacing, a comma,
semicolon or tab separator. Every problem is reported with its row, column, value and a plain message.
"""

import csv
import io
import re
from dataclasses import dataclass

from django import forms
from django.conf import settings
from django.db import models
from django.utils import timezone

from .csv_export import csv_rows


@dataclass(frozen=True)
class Layout:
    """A template's columns, the other names a header may give them, those that may be left out,
    what its rows are, the setting that limits their number, and the column of a number that an
    unquoted thousands separator may split in two (None: no such column)."""

    columns: list[str]
    aliases: dict[str, str]
    optional: frozenset[str]
    rows_are: str
    max_rows_setting: str = "MASS_TRANSFER_MAX_ROWS"
    number_column: str | None = "Quantity"


MAX_BYTES = 10 * 1024 * 1024
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


def delimiter(text: str, layout: Layout) -> str:
    """The separator of the header row: a comma, or the semicolon or tab that Excel writes in many
    locales and in "Unicode Text", whichever makes the most template column names."""
    header = text.split("\n", 1)[0]
    known = {sep: sum(1 for cell in header.split(sep) if _column_name(cell.strip().strip('"'), layout))
             for sep in (",", ";", "\t")}
    return max(known, key=lambda sep: (known[sep], sep == ","))


def _split_quantity(record: list[str], header: list[str], quantity: int | None) -> str | None:
    """An unquoted 1,000 in a comma-separated row makes two cells, "1" and "000", and one too many."""
    if quantity is None:
        return None
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


def read_rows(raw: bytes, layout: Layout) -> tuple[list[tuple], list[RowError]]:
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
    limit = getattr(settings, layout.max_rows_setting)
    indexes = [positions.get(name) for name in layout.columns]
    rows, count, line = [], 0, reader.line_num
    try:
        for number, record in enumerate(reader, start=2):
            lines, line = (line + 1, reader.line_num), reader.line_num
            record = [cell.strip() for cell in record]
            if not any(record):
                continue  # a blank row in the middle or at the end
            refused = False
            number_at = positions.get(layout.number_column)
            split = _split_quantity(record, header, number_at)
            if split:
                errors.append(RowError(number, column_label(number_at, layout.number_column),
                                       ",".join(record[number_at:number_at + 2]), split))
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


def errors_csv(errors: list[dict]) -> str:
    """An upload's errors (RowError.as_dict) as the CSV attached to its email."""
    return "".join(csv_rows(["Row", "Column", "Value", "Message"],
                            ([error["row"] or "", error["column"], error["value"], error["message"]]
                             for error in errors)))


class CsvUploadForm(forms.Form):
    """The file of an upload, refused at once when it is over MAX_BYTES."""

    file = forms.FileField(label="Choose file", error_messages={"required": "Choose the CSV file to upload."})

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_BYTES:
            raise forms.ValidationError(
                f"The file is {upload.size / 2**20:.1f} MB; the limit is {MAX_BYTES // 2**20} MB.")
        return upload


class CsvUploadRecord(models.Model):
    """What every stored upload of a CSV file keeps: the file's name, digest and size, its row count
    and errors once processed (RowError.as_dict), the attempts a worker made and when. The concrete
    model adds its owner, its file's storage and its statuses."""

    filename = models.CharField(max_length=255)
    sha256 = models.CharField(max_length=64)
    size = models.PositiveIntegerField()
    row_count = models.PositiveIntegerField(null=True, blank=True)
    errors = models.JSONField(default=list, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True
        ordering = ["-created_at", "-id"]

    @property
    def is_running(self) -> bool:
        """Waiting for a worker or in its hands (the concrete Status has QUEUED and PROCESSING)."""
        return self.status in (self.Status.QUEUED, self.Status.PROCESSING)
