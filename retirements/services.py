"""Retirements: certificates retired into one of the organization's retirement accounts, for good,
with what they count toward (a RetirementOption) and the details that option needs."""

import datetime
import json
from dataclasses import dataclass

from django.db import connection, transaction
from django.utils import timezone

from accounts.models import Account
from ledger.models import LedgerEvent
from ledger.services import ledger_record
from programs.selectors import ProgramRefusal, program_refusal
from registry.models import Organization, User
from registry.services import role_require
from transfers.models import Transfer
from transfers.services import Destination, TransferLine, TransferRefused, transfer_write
from transfers.values import line_field

from .models import Retirement, RetirementOption
from .statements import retirement_records

FIRST_COMPLIANCE_PERIOD, LAST_COMPLIANCE_PERIOD = 2000, 2100


@dataclass(frozen=True)
class RetirementDetails:
    """What a retirement counts toward, and for whom."""

    option: RetirementOption | None
    compliance_period: int | None = None
    period_start: datetime.date | None = None
    period_end: datetime.date | None = None
    beneficiary: str = ""
    # True only for the registry's own retirements (hourly matching's Match): they alone may use an
    # option the registry keeps for itself (RetirementOption.registry_only); any path a user chooses
    # the option on (the wizard, mass files, the API, standing instructions) is refused it here.
    by_registry: bool = False

    def problems(self) -> dict[str, str]:
        """Each detail that is missing or wrong, by field, with the reason: the one statement of
        what each option needs (the wizard shows these; retirement_create refuses them)."""
        option, problems = self.option, {}
        if option is None or not option.is_active:
            problems["option"] = "Choose what the retirement counts toward."
        elif option.registry_only and not self.by_registry:
            problems["option"] = option.withheld_text
        period = self.compliance_period
        if period is not None and (isinstance(period, bool) or not isinstance(period, int)
                                   or not FIRST_COMPLIANCE_PERIOD <= period <= LAST_COMPLIANCE_PERIOD):
            problems["compliance_period"] = (f"Enter the compliance period as a year from {FIRST_COMPLIANCE_PERIOD} "
                                             f"to {LAST_COMPLIANCE_PERIOD}.")
        elif period is None and option is not None and option.requires_compliance_period:
            problems["compliance_period"] = f"{option.name} needs a compliance period (a year)."
        if option is not None and option.requires_beneficiary and not self.beneficiary.strip():
            problems["beneficiary"] = f"{option.name} needs the name of the beneficiary."
        if self.period_start and self.period_end and self.period_start > self.period_end:
            problems["period_end"] = "The reporting period must end on or after its start."
        return problems

    def program_refusal(self, batch_ids: list[int], *, organization: Organization,
                        now: datetime.datetime) -> ProgramRefusal:
        """What the option's program (if it names one) refuses of a retirement of `organization`'s
        batches at `now`: its close date and its rules in force (programs.selectors.program_refusal, the one
        rule), asked by retirement_write for every path, and by the wizard and the mass validator
        first, to show it sooner."""
        program = self.option.program if self.option is not None else None
        if program is None:
            return ProgramRefusal("", {})
        return program_refusal(program=program, organization=organization, batch_ids=batch_ids, now=now)


@transaction.atomic(durable=True)
def retirement_create(*, organization: Organization, user: User, lines: list[TransferLine], account: Account,
                      details: RetirementDetails, notes: str = "", draft: Transfer | None = None) -> Transfer:
    """Retire batch quantities (the lowest serials of each) into one of the organization's open
    retirement accounts, for good: the same rules as a transfer (role, active batches, open
    accounts), and the details the option needs. With `draft`, the wizard's draft becomes it."""
    return retirement_write(organization=organization, user=user, lines=lines, account=account, details=details,
                            notes=notes, draft=draft)


def retirement_write(*, organization: Organization, user: User, lines: list[TransferLine], account: Account,
                     details: RetirementDetails, notes: str = "", draft: Transfer | None = None,
                     mass_upload_id: int | None = None) -> Transfer:
    """retirement_create inside the caller's transaction (a mass retirement makes several; the API's
    exactly-once request stores its answer with it)."""
    if problems := details.problems():
        raise TransferRefused(problems={f"retirement.{field}": message for field, message in problems.items()})
    if refusal := details.program_refusal([line.batch_id for line in lines], organization=organization,
                                          now=timezone.now()):
        # The batches' certificates (vintage, fuel, place, eligibilities) never change: read before
        # the transfer locks them, they are what it moves.
        raise TransferRefused(problems={"retirement.option": refusal.program} if refusal.program else {
            line_field(index, "batch"): refusal.batches[line.batch_id]
            for index, line in enumerate(lines) if line.batch_id in refusal.batches})

    def retirement_row(transfer: Transfer) -> Retirement:  # written with the transfer, in its statement
        return Retirement(transfer=transfer, option=details.option, compliance_period=details.compliance_period,
                          period_start=details.period_start, period_end=details.period_end,
                          beneficiary=details.beneficiary.strip())

    return transfer_write(organization=organization, user=user, lines=lines, notes=notes, draft=draft,
                          destination=Destination.retirement(account), details_for=retirement_row,
                          mass_upload_id=mass_upload_id)


@transaction.atomic(durable=True)
def retirement_privacy_set(*, organization: Organization, user: User, retirement: Retirement,
                           private: bool) -> Retirement:
    """Whether the public verification page shows the retirement's record, or only that its
    reference is valid: the retiring organization's choice, made by a member who may transfer."""
    role_require(user=user, organization=organization)
    locked = (Retirement.objects.select_for_update()
              .filter(pk=retirement.pk, transfer__organization=organization).first())
    if locked is None:
        raise TransferRefused("There is no such retirement.")
    if locked.is_private != private:
        Retirement.objects.filter(pk=locked.pk).update(is_private=private)
        ledger_record(kind=LedgerEvent.Kind.RETIREMENT_PRIVACY, actor=user, organization=organization,
                      transfer=Transfer(pk=locked.transfer_id), before={"private": locked.is_private},
                      after={"private": private})
        locked.is_private = private
    return locked


# One statement for a chunk of retirements (the public log takes thousands a second); the ORM's
# bulk_update would write them as a CASE per row, and cannot say "only where none is frozen yet".
FREEZE_SQL = f"""
    UPDATE {Retirement._meta.db_table} AS retirement SET record = frozen.value::jsonb
    FROM json_each(%s::json) AS frozen
    WHERE retirement.transfer_id = frozen.key::bigint AND retirement.record IS NULL
    RETURNING retirement.transfer_id
"""


def retirement_records_freeze(retirements: list[Retirement]) -> dict[int, dict]:
    """The public records of `retirements` (by transfer id), frozen as they are now where they are
    not yet (Retirement.record), in the caller's transaction: the public log calls it as it takes
    them, so that the record it hashed is the one the statement and the verification page give from
    then on, whatever is renamed later. A record frozen meanwhile by another transaction is read
    back, not written again (the database sets a record once)."""
    records = retirement_records(retirements)
    unfrozen = {retirement.pk: records[retirement.pk] for retirement in retirements if retirement.record is None}
    if unfrozen:
        with connection.cursor() as cursor:
            cursor.execute(FREEZE_SQL, [json.dumps({str(pk): record for pk, record in unfrozen.items()})])
            frozen = {pk for (pk,) in cursor.fetchall()}
        if others := unfrozen.keys() - frozen:
            records |= dict(Retirement.objects.filter(pk__in=others).values_list("pk", "record"))
    for retirement in retirements:
        retirement.record = records[retirement.pk]
    return records
