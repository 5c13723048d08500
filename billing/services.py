"""Every write of billing: the billing consumer's charges (from the domain events, in the claims'
transaction: exactly once, with the database's unique (event, kind) as the last word), the yearly
subscriptions, and the invoices of a period (exactly once per organization and period, numbered
without gaps under the counter's lock)."""

import bisect
import datetime
import logging
from collections import defaultdict
from decimal import Decimal

from django.db import connection, models, transaction
from django.db.models import Sum, Value

from certificates.models import Certificate, CertificateBatch
from certificates.units import HeldOf, MWhOf, Quantities, Unit, held_sql, mwh_text
from events.models import Event
from events.services import event_new, event_record, events_owed
from issuance.models import Issuance
from issuance.selectors import granular_reports_certificates
from ledger.models import LedgerEvent
from ledger.services import ledger_event, ledger_record, ledger_write
from registry.models import Organization, User
from registry.services import ServiceError, staff_require
from transfers.models import TransferItem

from . import selectors
from .models import (
    Charge,
    CreditNote,
    Fee,
    FeeSchedule,
    FreeUsage,
    Invoice,
    InvoiceCounter,
    InvoiceNotice,
    Payment,
    TierFee,
)
from .selectors import invoice_balance, invoices_with_balance
from .values import (
    ChargeKind,
    FeeKind,
    Period,
    currency,
    day_start,
    local_day,
    money_round,
    money_text,
    per_certificate_line,
    period_before,
    price_text,
)

logger = logging.getLogger(__name__)

CONSUMER = "billing"
Kind = Event.Kind
# The billable events and the fee each is charged by; the organization that owes it is the event's own
# (the issued organization, the retiring, exporting or sending one).
FEE_KIND_OF_EVENT = {
    Kind.CERTIFICATES_ISSUED: FeeKind.ISSUANCE,
    Kind.RETIREMENT_MADE: FeeKind.RETIREMENT,
    Kind.EXPORT_CONFIRMED: FeeKind.EXPORT,
    Kind.TRANSFER_ACCEPTED: FeeKind.TRANSFER,
}
# The events that void certificates already charged: each credits what their issuance was charged.
VOIDING_KINDS = frozenset({Kind.ISSUANCE_ROLLED_BACK, Kind.CERTIFICATES_VOIDED})
KINDS = frozenset(FEE_KIND_OF_EVENT) | VOIDING_KINDS


def _quantities(events: list[Event]) -> dict[int, Quantities]:
    """The certificates each event moved or issued, of each unit (certificates.units), by event id: four
    queries for any number of events, each summed by the database."""
    certificate_ids, issuance_ids, transfer_ids = defaultdict(list), defaultdict(list), defaultdict(list)
    report_events = []
    for event in events:
        if event.kind == Kind.CERTIFICATES_ISSUED:
            for pk in event.data.get("certificate_ids", []):
                certificate_ids[pk].append(event.pk)
            for pk in event.data.get("issuance_ids", []):
                issuance_ids[pk].append(event.pk)
            if event.data.get("granular_report_ids"):
                report_events.append(event)
        elif event.subject_id is not None:
            transfer_ids[event.subject_id].append(event.pk)
    quantities: dict[int, Quantities] = defaultdict(Quantities)

    def add(subjects: dict[int, list[int]], rows) -> None:
        for pk, monthly, hourly in rows:
            for event_id in subjects[pk]:
                quantities[event_id] += Quantities(int(monthly), int(hourly))
    add(certificate_ids, Certificate.objects.filter(pk__in=list(certificate_ids)).values_list(
        "pk", HeldOf(Unit.MWH, unit_field="unit"), HeldOf(Unit.WH, unit_field="unit")))
    add(issuance_ids, Issuance.objects.filter(pk__in=list(issuance_ids)).values_list(  # a month's RECs
        "pk", "quantity", Value(0)))
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT i.transfer_id, SUM({held_sql('b.quantity', 'c.unit', Unit.MWH)}), "
                       f"SUM({held_sql('b.quantity', 'c.unit', Unit.WH)}) FROM {TransferItem._meta.db_table} i "
                       f"JOIN {CertificateBatch._meta.db_table} b ON b.id = i.batch_id "
                       f"JOIN {Certificate._meta.db_table} c ON c.id = b.certificate_id "
                       f"WHERE i.transfer_id = ANY(%s) GROUP BY i.transfer_id", [list(transfer_ids)])
        add(transfer_ids, cursor.fetchall())
    for event in report_events:  # an issuance run's hourly certificates: one event per organization and run
        wh = granular_reports_certificates(event.data["granular_report_ids"]).aggregate(wh=Sum("quantity"))["wh"]
        quantities[event.pk] += Quantities(wh_certificates=wh or 0)
    return quantities


class _Schedules:
    """The fee schedules with their fees, read once per batch of events, and the one in force on a day."""

    def __init__(self) -> None:
        self.schedules = list(FeeSchedule.objects.prefetch_related("fees", "tier_fees").order_by("effective_from"))
        self.starts = [schedule.effective_from for schedule in self.schedules]

    def on(self, day: datetime.date) -> FeeSchedule | None:
        index = bisect.bisect_right(self.starts, day)
        return self.schedules[index - 1] if index else None


def charges_from_events(events: list[Event]) -> int:
    """The billing consumer's handler: a charge for each billable event, at the schedule in force on
    the day (registry's zone) it happened, in the caller's transaction (the one that deletes the
    events' claims: exactly once). An event with no fee in force, or of no certificates, is owed
    nothing. The year's free certificates are counted in FreeUsage, upserted in (organization, kind,
    year) order so that two workers at once wait for each other instead of deadlocking; each line
    takes what is left of its threshold, in the order the events happened. An event that voided
    certificates credits them instead (credits_from_events). Returns how many charges."""
    voiding = [event for event in events if event.kind in VOIDING_KINDS]
    credited = credits_from_events(voiding) if voiding else 0
    if len(voiding) == len(events):
        return credited
    events = [event for event in events if event.kind not in VOIDING_KINDS]
    schedules = _Schedules()
    quantities = _quantities(events)
    priced = []  # (event, fee kind, schedule, fee, certificates (Quantities), day)
    for event in sorted(events, key=lambda event: (event.occurred_at, event.pk)):
        fee_kind = FEE_KIND_OF_EVENT.get(event.kind)
        day = local_day(event.occurred_at)
        schedule = schedules.on(day)
        fee = schedule.fee(fee_kind) if schedule and fee_kind else None
        certificates = quantities.get(event.pk, Quantities())
        if fee is None or certificates.mwh <= 0 or event.organization_id is None:
            continue
        priced.append((event, fee_kind, schedule, fee, certificates, day))
    if not priced:
        return credited
    totals: dict[tuple[int, str, int], Decimal] = defaultdict(Decimal)
    for event, fee_kind, _, _, certificates, day in priced:
        totals[(event.organization_id, fee_kind, day.year)] += certificates.mwh
    used_before = _usage_add(totals)
    charges = []
    for event, fee_kind, schedule, fee, certificates, day in priced:
        key = (event.organization_id, fee_kind, day.year)
        line = per_certificate_line(certificates=certificates, unit_price=fee.unit_price,
                                    used_before=used_before[key], threshold=fee.free_per_year, year=day.year)
        used_before[key] += line.quantity
        charges.append((event.organization_id, fee_kind, event.pk, schedule.pk, event.occurred_at, day.year,
                        line.quantity, line.free, fee.unit_price, line.amount, line.description))
    _charges_insert(charges)
    return credited + len(charges)


def _voided_by_certificate(events: list[Event]) -> dict[int, dict[int, Decimal]]:
    """For each voiding event id: {certificate id: MWh of it voided} (its data's batch_ids)."""
    batch_ids = {pk for event in events for pk in event.data.get("batch_ids", [])}
    batches = {pk: (certificate_id, quantity) for pk, certificate_id, quantity in
               CertificateBatch.objects.filter(pk__in=batch_ids).values_list("pk", "certificate_id", MWhOf())}
    voided: dict[int, dict[int, Decimal]] = {}
    for event in events:
        by_certificate = voided.setdefault(event.pk, defaultdict(Decimal))
        for pk in event.data.get("batch_ids", []):
            if pk in batches:
                certificate_id, quantity = batches[pk]
                by_certificate[certificate_id] += quantity
    return voided


def _issuance_charges(certificate_ids: set[int]) -> dict[int, list[Charge]]:
    """The issuance charges of each certificate (its certificates.issued event names it, or its
    issuance), locked: two voidings at once credit what is left of a charge one after the other."""
    issuance_of = dict(Issuance.objects.filter(certificate_id__in=certificate_ids).values_list("pk", "certificate_id"))
    condition = models.Q()
    for certificate_id in certificate_ids:
        condition |= models.Q(event__data__certificate_ids__contains=[certificate_id])
    for issuance_id in issuance_of:
        condition |= models.Q(event__data__issuance_ids__contains=[issuance_id])
    charges: dict[int, list[Charge]] = defaultdict(list)
    if not condition:
        return charges
    for charge in (Charge.objects.select_for_update(of=("self",)).select_related("event")
                   .filter(condition, kind=ChargeKind.ISSUANCE, event__kind=Kind.CERTIFICATES_ISSUED).order_by("pk")):
        named = set(charge.event.data.get("certificate_ids", [])) | \
            {issuance_of[pk] for pk in charge.event.data.get("issuance_ids", []) if pk in issuance_of}
        for certificate_id in named & certificate_ids:
            charges[certificate_id].append(charge)
    return charges


def credits_from_events(events: list[Event]) -> int:
    """The billing consumer's credits, in the claims' transaction (exactly once: the database's unique
    (event, credited) of credits is the last word): certificates a rollback or staff's voiding voided,
    already charged on their issuance, are credited at the price that charged them (that charge's
    schedule), to the organization that paid it. A charge is credited for at most the certificates it
    charged beyond the year's free ones, less what was credited on it before: a voided certificate that
    was free gives nothing back, and the year's free threshold is not given back. Returns how many."""
    voided = _voided_by_certificate(events)
    charges = _issuance_charges({pk for by_certificate in voided.values() for pk in by_certificate})
    credited_before = defaultdict(Decimal, Charge.objects.filter(
        kind=ChargeKind.CREDIT, credited__in=[charge for found in charges.values() for charge in found])
        .values("credited").annotate(quantity=models.Sum("quantity")).values_list("credited", "quantity"))
    credits = []
    for event in sorted(events, key=lambda event: (event.occurred_at, event.pk)):
        for certificate_id, quantity in sorted(voided[event.pk].items()):
            for charge in charges.get(certificate_id, []):
                left = charge.quantity - charge.free_quantity - credited_before[charge.pk]
                credit = min(quantity, left)
                if credit <= 0 or charge.unit_price is None:
                    continue
                credited_before[charge.pk] += credit
                quantity -= credit
                amount = money_round(credit * charge.unit_price, charge.currency)
                credits.append(Charge(
                    organization_id=charge.organization_id, kind=ChargeKind.CREDIT, event=event, credited=charge,
                    schedule_id=charge.schedule_id, occurred_at=event.occurred_at,
                    year=local_day(event.occurred_at).year, quantity=credit, unit_price=charge.unit_price,
                    amount=-amount, currency=charge.currency,
                    description=f"Credit: {mwh_text(credit)} MWh voided × "
                                f"{price_text(charge.unit_price, charge.currency)}, "
                                f"charged on their issuance of {local_day(charge.occurred_at):%Y-%m-%d}"))
    Charge.objects.bulk_create(credits)
    return len(credits)


_CHARGE_COLUMNS = ("organization_id", "kind", "event_id", "schedule_id", "occurred_at", "year", "quantity",
                   "free_quantity", "unit_price", "amount", "description")
_CHARGE_TYPES = ("bigint", "text", "bigint", "bigint", "timestamptz", "smallint", "numeric", "numeric", "numeric",
                 "numeric", "text")


def _charges_insert(charges: list[tuple]) -> None:
    """One INSERT of every charge, from one array per column: a fifth of bulk_create's time for 500
    charges (bench/billing.py). No ON CONFLICT: a second charge of an event is a defect, and its
    unique violation rolls the batch back."""
    columns = ", ".join(_CHARGE_COLUMNS)
    arrays = ", ".join(f"%s::{kind}[]" for kind in _CHARGE_TYPES)
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {Charge._meta.db_table} ({columns}, currency) "
                       f"SELECT *, %s FROM unnest({arrays})",
                       [currency(), *([charge[index] for charge in charges] for index in range(len(_CHARGE_COLUMNS)))])


def charges_from_event(event: Event) -> int:
    return charges_from_events([event])


def _usage_add(totals: dict[tuple[int, str, int], Decimal]) -> dict[tuple[int, str, int], Decimal]:
    """Add `totals` to the year's usage of each (organization, kind, year), in that order, in one
    statement; what each had used before."""
    keys = sorted(totals)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {FreeUsage._meta.db_table} (organization_id, kind, year, used) "
            f"SELECT * FROM unnest(%s::bigint[], %s::text[], %s::smallint[], %s::numeric[]) "
            f"ORDER BY 1, 2, 3 "
            f"ON CONFLICT (organization_id, kind, year) DO UPDATE "
            f"SET used = {FreeUsage._meta.db_table}.used + EXCLUDED.used "
            f"RETURNING organization_id, kind, year, used",
            [[key[0] for key in keys], [key[1] for key in keys], [key[2] for key in keys],
             [totals[key] for key in keys]])
        return {(org, kind, year): used - totals[(org, kind, year)] for org, kind, year, used in cursor.fetchall()}


# Subscriptions and invoices ------------------------------------------------------------------------

def subscriptions_charge(*, period: Period) -> int:
    """Each participant organization's annual subscription for `period`'s year, at its tier's fee in
    the schedule in force on the period's first day, charged once a year (the database's unique
    (organization, year) of subscriptions: run twice, it charges nothing more). Returns how many."""
    schedule = FeeSchedule.objects.in_force_on(period.start)
    if schedule is None:
        return 0
    year = period.start.year
    charged = 0
    with transaction.atomic(durable=True), connection.cursor() as cursor:
        for tier_fee in TierFee.objects.filter(schedule=schedule, annual_amount__gt=0):
            amount = money_round(tier_fee.annual_amount)
            description = f"{year} subscription, {tier_fee.get_tier_display().lower()} tier: {money_text(amount)}"
            cursor.execute(
                f"INSERT INTO {Charge._meta.db_table} (organization_id, kind, schedule_id, occurred_at, year, "
                f"quantity, free_quantity, amount, currency, description) "
                f"SELECT id, %s, %s, %s, %s, 0, 0, %s, %s, %s FROM {Organization._meta.db_table} "
                f"WHERE kind = %s AND billing_tier = %s AND created_at < %s "
                f"ON CONFLICT (organization_id, year) WHERE kind = 'subscription' DO NOTHING",
                [ChargeKind.SUBSCRIPTION, schedule.pk, day_start(period.start), year, amount, currency(), description,
                 Organization.Kind.PARTICIPANT, tier_fee.tier, day_start(period.end)])
            charged += cursor.rowcount
    return charged


INVOICE_CHUNK = 1000  # organizations per transaction: each holds the counter's lock this long

# One statement, so that the charges totalled and the charges put on the invoice are the same rows
# (one snapshot: a charge committed meanwhile waits for the next invoice). Numbers follow the
# counter, by organization id; the invoice ids are drawn first so the charges can name them.
_ISSUE = f"""
WITH owed AS (
    SELECT organization_id, SUM(amount) AS total
      FROM {Charge._meta.db_table}
     WHERE invoice_id IS NULL AND occurred_at < %(period_end_at)s AND organization_id = ANY(%(organization_ids)s)
       AND NOT EXISTS (SELECT 1 FROM {Invoice._meta.db_table} i
                        WHERE i.organization_id = {Charge._meta.db_table}.organization_id
                          AND i.period_start = %(period_start)s)
     GROUP BY organization_id
),
numbered AS (
    SELECT organization_id, total, %(last_number)s + row_number() OVER (ORDER BY organization_id) AS number,
           nextval(pg_get_serial_sequence('{Invoice._meta.db_table}', 'id')) AS invoice_id
      FROM owed
),
issued AS (
    INSERT INTO {Invoice._meta.db_table}
           (id, number, organization_id, period_start, period_end, issued_at, due_on, currency, total, bill_to,
            schedule_id)
    SELECT n.invoice_id, n.number, n.organization_id, %(period_start)s, %(period_end)s, %(issued_at)s, %(due_on)s,
           %(currency)s, n.total,
           o.name || ' (' || o.public_id || ')' || COALESCE(E'\\n' || NULLIF(u.full_name, ''), '')
               || COALESCE(E'\\n' || COALESCE(u.email, NULLIF(o.contact_email, '')), ''),
           %(schedule_id)s
      FROM numbered n JOIN {Organization._meta.db_table} o ON o.id = n.organization_id
      LEFT JOIN registry_user u ON u.id = o.billing_contact_id
    RETURNING id, organization_id, number, total
),
lines AS (
    UPDATE {Charge._meta.db_table} c SET invoice_id = n.invoice_id
      FROM numbered n
     WHERE c.organization_id = n.organization_id AND c.invoice_id IS NULL AND c.occurred_at < %(period_end_at)s
)
SELECT id, organization_id, number, total FROM issued ORDER BY number
"""


def invoices_issue(*, period: Period, now: datetime.datetime) -> int:
    """Issue `period`'s invoices: one per organization with charges not yet invoiced that happened
    before the period's end (a late-consumed charge of an earlier period goes on this one), unless
    it has this period's invoice already. Exactly once: each chunk holds the counter's lock, and
    sees what an earlier issuer committed; the unique (organization, period_start) is the database's
    last word. Numbers come from the counter, without gaps. Memory stays flat: the database does it
    all, a chunk of organizations at a time. Returns how many were issued (bench/billing.py)."""
    schedule = FeeSchedule.objects.in_force_on(local_day(now))
    if schedule is None:  # a registry that bills nothing (yet): nothing is charged without a schedule
        logger.info("No fee schedule is in force on %s: no invoices issued.", local_day(now))
        return 0
    subscriptions_charge(period=period)
    period_end_at = day_start(period.end)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT DISTINCT organization_id FROM {Charge._meta.db_table} "
                       f"WHERE invoice_id IS NULL AND occurred_at < %s ORDER BY 1", [period_end_at])
        organization_ids = [row[0] for row in cursor.fetchall()]
    InvoiceCounter.objects.bulk_create([InvoiceCounter(id=1)], ignore_conflicts=True)
    due_on = local_day(now) + datetime.timedelta(days=schedule.payment_days)
    issued = 0
    for start in range(0, len(organization_ids), INVOICE_CHUNK):
        with transaction.atomic(durable=True), connection.cursor() as cursor:
            counter = InvoiceCounter.objects.select_for_update().get(id=1)
            cursor.execute(_ISSUE, {
                "period_start": period.start, "period_end": period.end, "period_end_at": period_end_at,
                "organization_ids": organization_ids[start:start + INVOICE_CHUNK], "last_number": counter.last_number,
                "issued_at": now, "due_on": due_on, "currency": currency(), "schedule_id": schedule.pk})
            invoices = cursor.fetchall()
            if invoices:
                InvoiceCounter.objects.filter(id=1).update(last_number=counter.last_number + len(invoices))
                _invoices_issued_record(invoices, period=period, due_on=due_on, now=now)
            issued += len(invoices)
    return issued


def _invoices_issued_record(invoices: list[tuple], *, period: Period, due_on: datetime.date,
                            now: datetime.datetime) -> None:
    """The ledger event (the activity log's line) and the domain event (emails, webhooks) of each
    invoice just issued, (id, organization id, number, total) each, in one statement."""
    code = currency()
    ledger, events = [], []
    for invoice_id, organization_id, number, total in invoices:
        reference = Invoice(number=number).reference
        record = {"invoice": reference, "period": period.text, "total": str(total),
                  "total_text": money_text(total, code), "due_on": due_on.isoformat()}
        ledger.append(ledger_event(kind=LedgerEvent.Kind.INVOICE_ISSUED, organization=Organization(pk=organization_id),
                                   after=record))
        events.append(event_new(kind=Event.Kind.INVOICE_ISSUED, organization_id=organization_id, subject_id=invoice_id,
                                data={"invoice": reference}, occurred_at=now))
    ledger_write(ledger, with_rows=[events])
    events_owed(events)


def invoices_issue_due(*, now: datetime.datetime) -> int:
    """Beat's daily run: the invoices of the last period that has ended (BILLING_PERIOD_MONTHS)."""
    return invoices_issue(period=period_before(local_day(now)), now=now)



# Fee schedules ------------------------------------------------------------------------------------

def _schedule_record(schedule: FeeSchedule, fees: list[Fee], tier_fees: list[TierFee]) -> dict:
    """A fee schedule and its fees, as the ledger records them."""
    return {"schedule": schedule.pk, "effective_from": schedule.effective_from.isoformat(), "note": schedule.note,
            "payment_days": schedule.payment_days, "late_fee_percent": str(schedule.late_fee_percent),
            "inactivation_days": schedule.inactivation_days, "reactivation_fee": str(schedule.reactivation_fee),
            "reminder_days": schedule.reminder_days,
            "fees": [{"kind": fee.kind, "unit_price": str(fee.unit_price), "free_per_year": fee.free_per_year}
                     for fee in sorted(fees, key=lambda fee: fee.kind)],
            "tier_fees": [{"tier": tier.tier, "annual_amount": str(tier.annual_amount)}
                          for tier in sorted(tier_fees, key=lambda tier: tier.tier)]}


def _schedule_refusal(schedule: FeeSchedule) -> str:
    if schedule.effective_from <= selectors.billing_today():
        return ("A fee schedule in force (or past) is never changed, so that the schedule of any past day can still "
                "be shown: make a new one from a later day.")
    return ""


@transaction.atomic  # not durable: the admin saves a schedule and its inlines in a transaction of its own
def fee_schedule_save(*, user: User, schedule: FeeSchedule, fees: list[Fee], tier_fees: list[TierFee],
                      removed: list[Fee | TierFee] = ()) -> FeeSchedule:
    """Staff save a fee schedule that takes effect from a later day than today, with its per-certificate
    and tier fees (`fees` and `tier_fees`, new or changed; `removed`, deleted), and its ledger event
    (what it held before and after). One already in force, or past, is never changed."""
    staff_require(user=user)
    today = selectors.billing_today()
    before = None
    if schedule.pk is not None:
        stored = FeeSchedule.objects.select_for_update().get(pk=schedule.pk)
        if problem := _schedule_refusal(stored):
            raise BillingRefused(problem)
        before = _schedule_record(stored, list(stored.fees.all()), list(stored.tier_fees.all()))
    if schedule.effective_from <= today:
        raise BillingRefused("A fee schedule takes effect from a later day than today: the charges of today and "
                             "before were priced by the schedule then in force.")
    schedule.save()
    for row in removed:
        if row.pk is not None:
            row.delete()
    for row in [*fees, *tier_fees]:
        row.schedule = schedule
        row.save()
    ledger_record(kind=LedgerEvent.Kind.FEE_SCHEDULE_SAVED, actor=user, before=before,
                  after=_schedule_record(schedule, list(schedule.fees.all()), list(schedule.tier_fees.all())),
                  note=schedule.note)
    return schedule


@transaction.atomic
def fee_schedule_delete(*, user: User, schedule: FeeSchedule) -> None:
    """Staff delete a fee schedule not yet in force (with its fees), with its ledger event."""
    staff_require(user=user)
    stored = FeeSchedule.objects.select_for_update().get(pk=schedule.pk)
    if problem := _schedule_refusal(stored):
        raise BillingRefused(problem)
    before = _schedule_record(stored, list(stored.fees.all()), list(stored.tier_fees.all()))
    stored.fees.all().delete()
    stored.tier_fees.all().delete()
    stored.delete()
    ledger_record(kind=LedgerEvent.Kind.FEE_SCHEDULE_SAVED, actor=user, before=before, after=None,
                  note="Deleted before it took effect.")


# Payments, credit notes, late fees, inactivation ------------------------------------------------------

class BillingRefused(ServiceError):
    """A staff action on an invoice that cannot be done, with the reason in words."""


def _organization_lock(organization_id: int) -> Organization:
    return Organization.objects.select_for_update().get(pk=organization_id)


def _amount_problem(amount: Decimal, *, most: Decimal, what: str) -> str:
    if amount != money_round(amount):
        return f"The amount {amount} has more decimal places than {currency()} has."
    if amount <= 0:
        return "The amount must be more than zero."
    if amount > most:
        return f"The amount {money_text(amount)} is more than the {what} ({money_text(most)})."
    return ""


@transaction.atomic(durable=True)
def payment_record(*, invoice: Invoice, amount: Decimal, received_on: datetime.date, method: str, reference: str,
                   user: User) -> Payment:
    """Staff record money received against `invoice`, partial or whole (never more than its balance).
    Under the organization's lock; when nothing is left owed on its overdue invoices, an inactivated
    organization is active again."""
    staff_require(user=user)
    organization = _organization_lock(invoice.organization_id)
    if problem := _amount_problem(amount, most=invoice_balance(invoice), what=f"balance of {invoice.reference}"):
        raise BillingRefused(problem)
    balance = invoice_balance(invoice)
    payment = Payment.objects.create(invoice=invoice, amount=amount, received_on=received_on, method=method,
                                     reference=reference, recorded_by=user)
    ledger_record(kind=LedgerEvent.Kind.PAYMENT_RECORDED, actor=user, organization=organization,
                  before=_balance_record(invoice, balance),
                  after={**_balance_record(invoice, balance - amount), "payment": payment.pk,
                         "amount": str(amount), "amount_text": money_text(amount, invoice.currency),
                         "received_on": received_on.isoformat(), "method": method, "reference": reference})
    _paid_if_settled(invoice, balance - amount)
    _reactivate_if_settled(organization, user=user)
    return payment


@transaction.atomic(durable=True)
def credit_note_issue(*, invoice: Invoice, amount: Decimal, reason: str, user: User) -> CreditNote:
    """Staff correct an issued invoice (which never changes) by crediting part or all of what is owed."""
    staff_require(user=user)
    organization = _organization_lock(invoice.organization_id)
    if not reason.strip():
        raise BillingRefused("Say why the invoice is credited: the reason is printed on the credit note.")
    if problem := _amount_problem(amount, most=invoice_balance(invoice), what=f"balance of {invoice.reference}"):
        raise BillingRefused(problem)
    balance = invoice_balance(invoice)
    note = CreditNote.objects.create(invoice=invoice, amount=amount, reason=reason.strip(), issued_by=user)
    ledger_record(kind=LedgerEvent.Kind.CREDIT_NOTE_ISSUED, actor=user, organization=organization,
                  before=_balance_record(invoice, balance),
                  after={**_balance_record(invoice, balance - amount), "credit_note": note.pk,
                         "amount": str(amount), "amount_text": money_text(amount, invoice.currency)},
                  note=note.reason)
    _paid_if_settled(invoice, balance - amount)
    _reactivate_if_settled(organization, user=user)
    return note


def _balance_record(invoice: Invoice, balance: Decimal) -> dict:
    """An invoice and what is owed on it, as the ledger records a payment or a credit against it."""
    return {"invoice": invoice.reference, "balance": str(money_round(balance, invoice.currency)),
            "balance_text": money_text(balance, invoice.currency)}


def _paid_if_settled(invoice: Invoice, balance: Decimal) -> None:
    """An invoice with nothing left owed (by a payment, or a credit note of what was left) is paid:
    its domain event (webhooks), once, as its balance can only fall to zero once."""
    if balance == 0:
        event_record(kind=Event.Kind.INVOICE_PAID, organization_id=invoice.organization_id, subject_id=invoice.pk,
                     data={"invoice": invoice.reference})


def _notice_give(invoice: Invoice, kind: str, *, balance: Decimal, organization: Organization) -> bool:
    """Record, under the organization's lock, that `invoice`'s reminder or overdue notice is given:
    its ledger event and its domain event (the emails, the webhooks), at most once (the database's
    unique (invoice, kind) is the last word). False if it was given before."""
    if InvoiceNotice.objects.filter(invoice=invoice, kind=kind).exists():
        return False
    InvoiceNotice.objects.create(invoice=invoice, kind=kind)
    overdue = kind == InvoiceNotice.Kind.OVERDUE
    ledger_record(kind=LedgerEvent.Kind.INVOICE_OVERDUE if overdue else LedgerEvent.Kind.INVOICE_DUE_SOON,
                  organization=organization,
                  after={**_balance_record(invoice, balance), "due_on": invoice.due_on.isoformat()})
    event_record(kind=Event.Kind.INVOICE_OVERDUE if overdue else Event.Kind.INVOICE_DUE_SOON,
                 organization_id=invoice.organization_id, subject_id=invoice.pk, data={"invoice": invoice.reference})
    return True


def invoice_reminders_run(*, today: datetime.date) -> int:
    """Beat, daily: each unpaid invoice due within its schedule's reminder_days (and not yet past due)
    is reminded of once (notifications.billing emails it). Returns how many reminders were given."""
    window = FeeSchedule.objects.aggregate(most=models.Max("reminder_days"))["most"] or 0
    due = (invoices_with_balance().filter(balance__gt=0, due_on__gte=today,
                                          due_on__lte=today + datetime.timedelta(days=window))
           .exclude(notices__kind=InvoiceNotice.Kind.DUE_SOON).select_related("schedule")
           .order_by("organization_id", "number"))
    given = 0
    for invoice in due.iterator(chunk_size=1000):
        if not invoice.schedule.reminder_days or (invoice.due_on - today).days > invoice.schedule.reminder_days:
            continue  # its own schedule reminds later, or never
        with transaction.atomic(durable=True):
            organization = _organization_lock(invoice.organization_id)
            balance = invoice_balance(invoice)  # under the lock: a payment meanwhile may have settled it
            if balance > 0:
                given += _notice_give(invoice, InvoiceNotice.Kind.DUE_SOON, balance=balance, organization=organization)
    return given


def _hold_change(organization: Organization, hold: str, *, user: User | None = None) -> None:
    """Set or lift billing's inactivation of the locked `organization`, with its ledger event."""
    before = organization.billing_hold
    organization.billing_hold = hold
    organization.save(update_fields=["billing_hold"])
    ledger_record(kind=LedgerEvent.Kind.BILLING_HOLD_SET if hold else LedgerEvent.Kind.BILLING_HOLD_LIFTED,
                  actor=user, organization=organization, before={"billing_hold": before},
                  after={"billing_hold": hold})


def _reactivate_if_settled(organization: Organization, *, user: User) -> None:
    """An inactivated organization that owes nothing past due is active again, with the reactivation
    fee of the schedule in force today (if any), charged on its next invoice."""
    today = selectors.billing_today()
    if not organization.billing_hold or invoices_with_balance().filter(
            organization=organization, balance__gt=0, due_on__lt=today).exists():
        return
    _hold_change(organization, "", user=user)
    schedule = FeeSchedule.objects.in_force_on(today)
    if schedule and schedule.reactivation_fee > 0:
        amount = money_round(schedule.reactivation_fee)
        Charge.objects.create(organization=organization, kind=ChargeKind.REACTIVATION, schedule=schedule,
                              occurred_at=day_start(today), year=today.year, amount=amount, currency=currency(),
                              description=f"Reactivation on {today:%Y-%m-%d}: {money_text(amount)}")


def hold_text(organization: Organization, invoice: Invoice) -> str:
    """Why billing has inactivated `organization`: one wording, shown on every page and by every refusal."""
    return (f"{organization.name} is inactive: invoice {invoice.reference} (due {invoice.due_on:%Y-%m-%d}) is unpaid. "
            f"It can still sign in, look and pay; paying what it owes makes it active again.")


def billing_overdue_run(*, today: datetime.date) -> tuple[int, int]:
    """Beat, daily: a late fee once on each invoice unpaid after its due date (its schedule's percent of
    the total, charged on the next invoice; the database's unique (for_invoice) of late fees keeps it
    once), and each organization with an invoice unpaid more than its schedule's inactivation days
    past due inactivated; each overdue invoice's notice given once (its events: the emails, the webhooks).
    Returns (late fees charged, organizations inactivated)."""
    fees = inactivated = 0
    overdue = (invoices_with_balance().filter(balance__gt=0, due_on__lt=today).select_related("schedule")
               .order_by("organization_id", "number"))
    for invoice in overdue.iterator(chunk_size=1000):
        with transaction.atomic(durable=True):
            organization = _organization_lock(invoice.organization_id)
            percent = invoice.schedule.late_fee_percent
            charged = Charge.objects.filter(for_invoice=invoice, kind=ChargeKind.LATE_FEE).exists()
            if percent > 0 and not charged:  # under the organization's lock; the unique constraint is the last word
                amount = money_round(invoice.total * percent / 100)
                Charge.objects.create(
                    organization=organization, kind=ChargeKind.LATE_FEE, for_invoice=invoice, schedule=invoice.schedule,
                    occurred_at=day_start(invoice.due_on + datetime.timedelta(days=1)), year=invoice.due_on.year,
                    amount=amount, currency=invoice.currency,
                    description=f"Late fee on {invoice.reference}: {percent.normalize()}% of "
                                f"{money_text(invoice.total, invoice.currency)}")
                fees += 1
            if (balance := invoice_balance(invoice)) > 0:  # under the lock: a payment meanwhile may have settled it
                _notice_give(invoice, InvoiceNotice.Kind.OVERDUE, balance=balance, organization=organization)
            if not organization.billing_hold and \
                    (today - invoice.due_on).days > invoice.schedule.inactivation_days:
                _hold_change(organization, hold_text(organization, invoice))
                inactivated += 1
    return fees, inactivated
