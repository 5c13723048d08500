"""Every write of the public statistics: the public_stats consumer of the domain events adds what
each event did to the summary tables (in the transaction that consumes its claim, so exactly once),
and the rebuild recomputes them from the ledger's rows.

What counts, and in which month, is said once, in CONTRIBUTIONS: a certificate when it is issued, less
what registry staff voided of it (a rolled-back issuance, a correction's debit), in the month it was issued; a
transfer's batches when it completes (an internal transfer at once, another organization's when it
accepts, a retirement at once, an export when the receiving system confirms it), in the month of its
decision; a retirement toward its option's program. The consumer runs it on the certificates and
transfers its events name, the rebuild on every one. SQL, because 10,000 events must be counted in
well under 5 s (bench/public_stats.py): one statement for a batch of events, both tables in it."""

import logging

from django.conf import settings
from django.db import connection, transaction
from django.db.utils import OperationalError

from certificates.models import Certificate, CertificateBatch, Generator
from certificates.units import mwh_sql
from events.models import Claim, ConsumerProgress, Event
from events.services import events_consume
from issuance.models import Issuance
from issuance.selectors import granular_reports_certificates
from retirements.models import Retirement, RetirementOption
from transfers.models import Transfer, TransferItem

from .models import EligibilityTotal, MonthlyTotal

logger = logging.getLogger(__name__)

CONSUMER = "public_stats"
Kind = Event.Kind
# The events that complete what the statistics count (one each per certificate or transfer).
KINDS = frozenset({Kind.CERTIFICATES_ISSUED, Kind.TRANSFER_SUBMITTED, Kind.TRANSFER_ACCEPTED, Kind.RETIREMENT_MADE,
                   Kind.EXPORT_CONFIRMED, Kind.ISSUANCE_ROLLED_BACK, Kind.CERTIFICATES_VOIDED})
VOIDING = (Kind.ISSUANCE_ROLLED_BACK, Kind.CERTIFICATES_VOIDED)  # data["batch_ids"]: the batches voided


def event_skipped(kind: str, data: dict) -> bool:
    """Of the kinds it takes, what the consumer leaves unclaimed: a transfer submitted that waits for
    a decision (to another organization, an export) completes with a later event."""
    return kind == Kind.TRANSFER_SUBMITTED and data.get("transfer_kind") != Transfer.Kind.INTERNAL


# Each row counted: (month, activity, fuel, technology, state, program_id, eligibilities, quantity in MWh:
# numeric, an hourly certificate's Wh converted by certificates.units' one rule, in the same statement),
# of the certificates {certificates} names (c) and the complete transfers {transfers} names (t): every
# row of their tables, or those of a list of ids (joined from the list, so that the plan starts there).
CONTRIBUTIONS = f"""
    SELECT date_trunc('month', c.issued_at AT TIME ZONE %(zone)s)::date AS month, 'issued' AS activity,
           c.fuel_type AS fuel, g.technology, c.state, NULL::bigint AS program_id, c.eligibilities,
           {mwh_sql("c.quantity", "c.unit")} AS quantity
      FROM {{certificates}} JOIN {Generator._meta.db_table} g ON g.id = c.generator_id
    UNION ALL
    SELECT date_trunc('month', t.decided_at AT TIME ZONE %(zone)s)::date,
           CASE t.kind WHEN 'retirement' THEN 'retired' WHEN 'export' THEN 'exported' ELSE 'transferred' END,
           c.fuel_type, g.technology, c.state, o.program_id, c.eligibilities, {mwh_sql("b.quantity", "c.unit")}
      FROM {{transfers}}
      JOIN {TransferItem._meta.db_table} i ON i.transfer_id = t.id
      JOIN {CertificateBatch._meta.db_table} b ON b.id = i.batch_id
      JOIN {Certificate._meta.db_table} c ON c.id = b.certificate_id
      JOIN {Generator._meta.db_table} g ON g.id = c.generator_id
      LEFT JOIN {Retirement._meta.db_table} r ON r.transfer_id = t.id
      LEFT JOIN {RetirementOption._meta.db_table} o ON o.id = r.option_id
     WHERE t.status = 'complete' AND t.kind IN ('internal', 'organization', 'retirement', 'export')
    UNION ALL
    SELECT date_trunc('month', c.issued_at AT TIME ZONE %(zone)s)::date, 'issued',
           c.fuel_type, g.technology, c.state, NULL::bigint, c.eligibilities, -{mwh_sql("b.quantity", "c.unit")}
      FROM {{voided}}
      JOIN {Certificate._meta.db_table} c ON c.id = b.certificate_id
      JOIN {Generator._meta.db_table} g ON g.id = c.generator_id
     WHERE b.status = 'voided'
"""
EVERY = {"certificates": f"{Certificate._meta.db_table} c", "transfers": f"{Transfer._meta.db_table} t",
         "voided": f"{CertificateBatch._meta.db_table} b"}
OF_IDS = {"certificates": f"unnest(%(certificate_ids)s::bigint[]) AS picked_c(id) "
                          f"JOIN {Certificate._meta.db_table} c ON c.id = picked_c.id",
          "transfers": f"unnest(%(transfer_ids)s::bigint[]) AS picked_t(id) "
                       f"JOIN {Transfer._meta.db_table} t ON t.id = picked_t.id",
          "voided": f"unnest(%(voided_ids)s::bigint[]) AS picked_b(id) "
                    f"JOIN {CertificateBatch._meta.db_table} b ON b.id = picked_b.id"}

_COLUMNS = "month, activity, fuel, technology, state, program_id"


def _same(table: str, alias: str, *extra: str) -> str:
    """The join of a table's row to the contribution of the same dimensions (a null program is one)."""
    return " AND ".join(f"{table}.{column} IS NOT DISTINCT FROM {alias}.{column}"
                        for column in [*_COLUMNS.split(", "), *extra])


_MONTHLY, _ELIGIBILITY = MonthlyTotal._meta.db_table, EligibilityTotal._meta.db_table
# Both tables from one set of contributions, in one statement (its WITH is written once). What adds is
# upserted; what takes off (a voided batch) updates the row its certificate's issuance made: an INSERT
# of a negative quantity would break the tables' CHECK before its ON CONFLICT applies. The statement
# answers how many of the rows to take from were missing (none, or the counts have drifted).
_UPSERT = f"""
    WITH contributions AS ({{contributions}}),
    monthly AS (
        SELECT {_COLUMNS}, SUM(quantity) AS quantity FROM contributions
        GROUP BY {_COLUMNS} HAVING SUM(quantity) <> 0
    ),
    by_eligibility AS (
        SELECT {_COLUMNS}, eligibility, SUM(quantity) AS quantity
          FROM contributions, unnest(eligibilities) AS eligibility
         GROUP BY {_COLUMNS}, eligibility HAVING SUM(quantity) <> 0
    ),
    monthly_added AS (
        INSERT INTO {_MONTHLY} ({_COLUMNS}, quantity)
        SELECT {_COLUMNS}, quantity FROM monthly WHERE quantity > 0
        ON CONFLICT ({_COLUMNS}) DO UPDATE SET quantity = {_MONTHLY}.quantity + EXCLUDED.quantity
    ),
    monthly_taken AS (
        UPDATE {_MONTHLY} SET quantity = {_MONTHLY}.quantity + monthly.quantity FROM monthly
         WHERE monthly.quantity < 0 AND {_same(_MONTHLY, "monthly")}
        RETURNING 1
    ),
    eligibility_added AS (
        INSERT INTO {_ELIGIBILITY} ({_COLUMNS}, eligibility, quantity)
        SELECT {_COLUMNS}, eligibility, quantity FROM by_eligibility WHERE quantity > 0
        ON CONFLICT ({_COLUMNS}, eligibility) DO UPDATE SET quantity = {_ELIGIBILITY}.quantity + EXCLUDED.quantity
    ),
    eligibility_taken AS (
        UPDATE {_ELIGIBILITY} SET quantity = {_ELIGIBILITY}.quantity + by_eligibility.quantity FROM by_eligibility
         WHERE by_eligibility.quantity < 0 AND {_same(_ELIGIBILITY, "by_eligibility", "eligibility")}
        RETURNING 1
    )
    SELECT (SELECT count(*) FROM monthly WHERE quantity < 0) - (SELECT count(*) FROM monthly_taken)
         + (SELECT count(*) FROM by_eligibility WHERE quantity < 0) - (SELECT count(*) FROM eligibility_taken)
"""


def _upsert(contributions: str, params: dict) -> None:
    with connection.cursor() as cursor:
        cursor.execute(_UPSERT.format(contributions=contributions), params)
        (missing,) = cursor.fetchone()
    if missing:
        raise RuntimeError(f"{missing} public statistics rows to take voided certificates from are missing.")

_OF_EVENTS = CONTRIBUTIONS.format(**OF_IDS)


def _subjects(events: list[Event]) -> tuple[list[int], list[int], list[int]]:
    """The certificates issued, the transfers completed and the batches voided that `events` record."""
    certificate_ids, issuance_ids, report_ids, transfer_ids, voided_ids = [], [], [], [], []
    for event in events:
        if event.kind == Kind.CERTIFICATES_ISSUED:
            certificate_ids += event.data.get("certificate_ids", [])
            issuance_ids += event.data.get("issuance_ids", [])
            report_ids += event.data.get("granular_report_ids", [])  # an issuance run's hourly certificates
        elif event.kind in VOIDING:
            voided_ids += event.data.get("batch_ids", [])
        elif event.kind in KINDS and not event_skipped(event.kind, event.data):
            transfer_ids.append(event.subject_id)
    if issuance_ids:
        certificate_ids += Issuance.objects.filter(pk__in=issuance_ids, certificate__isnull=False).values_list(
            "certificate_id", flat=True)
    if report_ids:
        certificate_ids += granular_reports_certificates(report_ids).values_list("pk", flat=True)
    return certificate_ids, transfer_ids, voided_ids


def _of_events_signed(events: list[Event], sign: int) -> tuple[str, dict] | None:
    """The contributions of `events`, times `sign`, as SQL and its parameters; None if they count nothing."""
    certificate_ids, transfer_ids, voided_ids = _subjects(events)
    if not certificate_ids and not transfer_ids and not voided_ids:
        return None
    sql = f"SELECT {_COLUMNS}, eligibilities, quantity * %(sign)s AS quantity FROM ({_OF_EVENTS}) AS counted"
    return sql, {"zone": settings.TIME_ZONE, "certificate_ids": list(certificate_ids),
                 "transfer_ids": transfer_ids, "voided_ids": voided_ids, "sign": sign}


def public_stats_apply(events: list[Event]) -> None:
    """The consumer's handler: add what `events` did to the summary tables, in the caller's
    transaction (the one that deletes their claims: exactly once). One statement for all of them."""
    counted = _of_events_signed(events, 1)
    if counted is None:
        return
    _upsert(*counted)


def public_stats_apply_one(event: Event) -> None:
    public_stats_apply([event])


REBUILD_ATTEMPTS = 5


def public_stats_rebuild() -> int:
    """Recompute the summary tables from the ledger's rows (a new install, an audit), and leave the
    consumer where that count stops: returns how many rows the monthly table has.

    One REPEATABLE READ transaction, so that the rows counted and the events are one snapshot: it
    locks the consumer's progress (no claiming meanwhile) and drops its claims (waiting for a worker
    running one), counts every certificate and complete transfer the snapshot sees, and moves the
    consumer back to the snapshot's oldest running transaction (pg_snapshot_xmin). The events from
    there on that the snapshot sees are counted already, and will be claimed again: their
    contributions are taken off the count in the same statement, so each is counted once, by the
    consumer, which runs at once after it. (The oldest running transaction is the server's, of any
    database, so there may be many such events: the safe side.) A worker that commits meanwhile makes
    the transaction fail to serialise; it is tried again."""
    for attempt in range(1, REBUILD_ATTEMPTS + 1):
        try:
            _rebuild()
            events_consume(consumer=CONSUMER)
            return MonthlyTotal.objects.count()
        except OperationalError as error:  # could not serialize access due to a concurrent update
            if attempt == REBUILD_ATTEMPTS:
                raise
            logger.warning("Rebuilding the public statistics met a concurrent change (%s); trying again.", error)
    raise AssertionError("unreachable")


def _rebuild() -> None:
    with transaction.atomic(durable=True):
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            ConsumerProgress.objects.bulk_create([ConsumerProgress(consumer=CONSUMER)], ignore_conflicts=True)
        ConsumerProgress.objects.select_for_update().get(consumer=CONSUMER)
        Claim.objects.filter(consumer=CONSUMER).delete()
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint")
            (oldest,) = cursor.fetchone()
        seen_since = list(Event.objects.filter(kind__in=KINDS).extra(where=["txid >= %s::text::xid8"],
                                                                     params=[oldest]))
        every = CONTRIBUTIONS.format(**EVERY)
        contributions, params = every, {"zone": settings.TIME_ZONE}
        if (pending := _of_events_signed(seen_since, -1)) is not None:
            contributions = f"{every} UNION ALL {pending[0]}"
            params |= pending[1]
        MonthlyTotal.objects.all().delete()
        EligibilityTotal.objects.all().delete()
        _upsert(contributions, params)
        ConsumerProgress.objects.filter(consumer=CONSUMER).update(txid=oldest - 1, event_id=2**63 - 1)
