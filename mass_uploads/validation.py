"""Validating a mass-transfer CSV (columns A to E of its template) or a mass-retirement CSV
(columns A to I of its template), read by utilities.csv_upload.

Quantities may be written `1,000` or `1000.0`. Every problem is reported with its row, column,
value and a plain message.
"""

import datetime
import re
from collections import defaultdict
from dataclasses import dataclass
from typing import NamedTuple

from django.utils import timezone

from accounts.models import Account
from accounts.selectors import organizations_able_to_receive
from certificates.models import CertificateBatch
from certificates.serials import format_serial, parse_serial
from certificates.services import Holder
from registry.models import Organization
from retirements.models import Retirement
from retirements.selectors import retirement_option_not_offered, retirement_options_offered
from retirements.services import RetirementDetails
from transfers.models import NOTES_MAX_LENGTH
from transfers.values import Destination, TransferLine, not_one_of_accounts
from utilities.csv_upload import Layout, RowError, column_label, read_rows
from utilities.parsing import positive_integer

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
QUANTITY = re.compile(r"^([0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.0*)?$")


class LiveBatch(NamedTuple):
    """What validation needs of a batch the file names, as the ledger has it now: what
    TransferLine.problems reads (the holder as batches_lock gives it, but the organization's
    status, which the service checks) and its serials."""

    id: int
    quantity: int
    status: str
    account_id: int
    holder: Holder
    serials: tuple[str, int, int]

    @property
    def serial_number(self) -> str:
        return format_serial(*self.serials)


@dataclass(frozen=True, slots=True)
class MassRow:
    row: int
    batch_id: int
    quantity: int
    organization_id: int | None
    account_id: int | None
    notes: str


def parse_quantity(text: str) -> int | None:
    match = QUANTITY.match(text.strip())
    if not match:
        return None
    return positive_integer(match[1].replace(",", ""))


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
        # One Holder per account, and the serials the key itself: a file names up to 100,000 batches,
        # and the worker stays under 300 MB (bench/mass_transfer.py).
        holders: dict[int, Holder] = {}
        for pk, base, start, end, quantity, status, owner, account_id, account_type, account_status in (
                CertificateBatch.objects.live().filter(certificate__serial_base__in=bases)
                .values_list("pk", "certificate__serial_base", "serial_start", "serial_end", "quantity", "status",
                             "account__organization_id", "account_id", "account__type", "account__status")
                .iterator(chunk_size=10_000)):
            serials = (base, start, end)
            if serials in wanted:  # keep only the batches the file names
                holder = holders.get(account_id) or holders.setdefault(
                    account_id, Holder(owner, account_type, account_status, None))
                self.live[serials] = LiveBatch(pk, quantity, status, account_id, holder, serials)
        self.taken: dict[int, int] = defaultdict(int)
        self.first_row: dict[int, int] = {}

    def check(self, number: int, serial: str, quantity_text: str, refuse) -> tuple[LiveBatch | None, int | None]:
        """The row's batch and quantity, each None if refused: the line's problems
        (TransferLine.problems) with the quantity the rows on its batch take so far, this one's
        included."""
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

        quantity = parse_quantity(quantity_text) if quantity_text else None
        if quantity is None or quantity < 1:
            refuse("Quantity", quantity_text, "The quantity must be a positive whole number, e.g. 1000 or 1,000.")
            quantity = None
        if batch:
            taken = self.taken[batch.id] + (quantity or 0)
            problems = TransferLine(batch.id, taken or 1).problems(batch, organization)  # 1: the batch alone
            if "batch" in problems:
                refuse("Serial Number", serial, problems["batch"])
                batch = None
            elif quantity:
                self.taken[batch.id] = taken
                self.first_row.setdefault(batch.id, number)
                if "quantity" in problems:
                    earlier = "" if self.first_row[batch.id] == number else \
                        f" This counts the rows above on the same batch, from row {self.first_row[batch.id]}."
                    refuse("Quantity", quantity_text, problems["quantity"] + earlier)
        return batch, quantity


def _notes_check(notes: str, refuse) -> None:
    if len(notes) > NOTES_MAX_LENGTH:
        refuse("Notes", notes[:40] + "…", f"Notes are limited to {NOTES_MAX_LENGTH} characters "
                                          f"(this has {len(notes)}).")


def validate(raw: bytes, organization: Organization) -> tuple[list[MassRow], list[RowError], int]:
    """Every row of a transfer file checked against the ledger as it is now: (rows, errors, row count)."""
    records, errors = read_rows(raw, TRANSFERS)
    if errors:
        return [], errors, len(records)
    label = {name: column_label(index, name) for index, name in enumerate(COLUMNS)}
    batches = _Batches(records, organization)
    organization_ids = {record[3].upper() for record in records if record[3]}
    organizations = {org.public_id.upper(): org for org in Organization.objects.filter(public_id__in=organization_ids)}
    receiving = organizations_able_to_receive(org.pk for org in organizations.values())
    # Each destination the file names, built once (a file has 100,000 rows and a few destinations):
    # an organization's problems do not depend on the row, an account's only on the row's batch.
    to_organization = {org.pk: Destination.to_organization(org).problems(organization, receiving=receiving)
                       for org in organizations.values()}
    accounts = {account.public_id.upper(): account for account in Account.objects.of(organization)}
    internal = {account.pk: Destination.internal(account) for account in accounts.values()}

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
            elif problem := to_organization[recipient.pk]:
                refuse("Organization ID", org_text, problem["destination.organization"])
                recipient = None
        else:
            account = accounts.get(account_text.upper())
            if account is None:  # not one of ours
                refuse("Account ID", account_text, not_one_of_accounts(account_text, organization, Account.Type.ACTIVE))
            elif problem := internal[account.pk].problems(organization, batches=[batch] if batch else ()):
                refuse("Account ID", account_text, problem["destination.account"])
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
    accounts = {account.public_id.upper(): account for account in Account.objects.of(organization)}
    options = {option.name.casefold(): option for option in retirement_options_offered()}
    offered = ", ".join(option.name for option in options.values())
    not_offered: dict[str, str] = {}  # an option named that is not offered: why

    rows = []
    toward_programs: dict[int, tuple[RetirementDetails, list]] = {}  # option -> its details, its rows' batches
    for number, serial, quantity_text, account_text, option_text, period_text, beneficiary, start_text, end_text, \
            notes in records:

        def refuse(column, value, message, number=number):
            errors.append(RowError(number, label[column], value, message))

        batch, quantity = batches.check(number, serial, quantity_text, refuse)
        account = accounts.get(account_text.upper())
        if account is None:  # not one of ours
            refuse("Retirement Account ID", account_text,
                   not_one_of_accounts(account_text, organization, Account.Type.RETIREMENT))
        elif problem := Destination.retirement(account).problems(organization):
            refuse("Retirement Account ID", account_text, problem["destination.account"])
        option = options.get(option_text.casefold())
        if option is None and not option_text:
            refuse("Option", option_text, f"Enter what the retirement counts toward, as the registry names it: "
                                          f"{offered}.")
        elif option is None:
            if option_text.casefold() not in not_offered:  # asked once per name: a file repeats its option
                not_offered[option_text.casefold()] = retirement_option_not_offered(
                    name=option_text, otherwise=f"This is not one of the registry's retirement options: {offered}.")
            refuse("Option", option_text, not_offered[option_text.casefold()])
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
        if batch and option is not None and option.program_id is not None:
            toward_programs.setdefault(option.pk, (details, []))[1].append((number, serial, batch.id))
        if not errors:
            rows.append(MassRetirementRow(number, batch.id, quantity, account.pk, option.pk, details.compliance_period,
                                          details.period_start, details.period_end, beneficiary, notes))
    _programs_check(toward_programs, organization, errors, label)
    return ([] if errors else rows), errors, len(records)


def _programs_check(toward_programs: dict[int, tuple[RetirementDetails, list]], organization: Organization,
                    errors: list[RowError], label: dict[str, str]) -> None:
    """What each option's program refuses of the rows toward it (RetirementDetails.program_refusal,
    retirement_write's rule, once per option), under the row's serial number, or its option when the
    program takes no retirement at all."""
    now = timezone.now()
    for details, named in toward_programs.values():
        refusal = details.program_refusal([batch_id for _, _, batch_id in named], organization=organization, now=now)
        for number, serial, batch_id in named:
            if refusal.program:
                errors.append(RowError(number, label["Option"], details.option.name, refusal.program))
            elif batch_id in refusal.batches:
                errors.append(RowError(number, label["Serial Number"], serial, refusal.batches[batch_id]))
    errors.sort(key=lambda error: error.row)
