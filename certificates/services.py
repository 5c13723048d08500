import datetime
import functools
import secrets
from collections.abc import Callable, Iterable
from typing import NamedTuple

from django.contrib.sessions.backends.base import SessionBase
from django.db import IntegrityError, connection, transaction
from django.db.models import Model
from django.http import QueryDict
from django.utils import timezone

from accounts.models import Account
from accounts.services import accounts_lock_for_share
from events.models import Event
from events.services import event_new, event_record, events_owed
from ledger.models import LedgerEvent
from ledger.services import ledger_event, ledger_write
from registry.models import Membership, Organization, User
from registry.services import ServiceConflict, ServiceError, staff_require
from utilities.rows import Answer, RoundTrip

from .models import SNAPSHOT, Certificate, CertificateBatch, Generator, eligibility_names
from .periods import LONGEST_INTERVAL, ProductionPeriod
from .selectors import SELECTION_KEY, SELECTION_LIMIT, batches_filtered, batches_for_dashboard, generator_eligibilities
from .serials import split_range

Status = CertificateBatch.Status
BATCH_COLUMNS = ["id", "certificate_id", "account_id", "serial_start", "serial_end", "quantity", "status",
                 "parent_id", "created_at"]


def serial_base_for(generator: Generator, period: ProductionPeriod, *, period_text: str | None = None) -> str:
    """`M805-MN-01-2020-4F2A9C`: generator, state, production period (ProductionPeriod.serial_text, or
    `period_text` when the caller has it already), and a random suffix."""
    if period_text is None:
        period_text = period.serial_text
    return f"{generator.code}-{generator.state}-{period_text}-{secrets.token_hex(3).upper()}"


class IssueLine(NamedTuple):
    """One issuance to write: `quantity` certificates for a generator's production period, into `account`."""

    generator: Generator
    period: ProductionPeriod
    quantity: int
    account: Account
    adjustment: bool = False  # a prior period adjustment's: more certificates of a period issued already


@transaction.atomic(durable=True)
def certificate_issue(*, user: User, generator: Generator, period: ProductionPeriod, quantity: int,
                      account: Account) -> Certificate:
    """Issue `quantity` certificates for one generator and production period (registry staff), in a
    transaction of its own (certificate_write), with its certificates.issued event (data["certificate_ids"];
    an issuance run's names its issuances instead: issuance.services)."""
    certificate = certificate_write(user=user, generator=generator, period=period, quantity=quantity,
                                    account=account)
    event_record(kind=Event.Kind.CERTIFICATES_ISSUED, organization_id=generator.organization_id,
                 data={"certificate_ids": [certificate.pk]})
    return certificate


def certificate_write(*, user: User, generator: Generator, period: ProductionPeriod, quantity: int,
                      account: Account) -> Certificate:
    """certificates_write for one generator and period, inside the caller's transaction."""
    return certificates_write(user=user, lines=[IssueLine(generator, period, quantity, account)])[0]


def certificates_write(*, user: User, lines: list[IssueLine],
                       with_rows: Callable[[list[Certificate]], Iterable[list[Model]]] | None = None
                       ) -> list[Certificate]:
    """Issue certificates for each line (registry staff), inside the caller's transaction (the
    issuance run composes it with its own rows and the standing instructions).

    One issuance per generator and period (the database refuses one that overlaps another); the certificates
    carry the generator's recorded eligibilities that hold on every day of the period
    (GeneratorEligibility.covers) and its emissions factor with its source; an interval's (not a month's)
    expires CERTIFICATE_EXPIRY_YEARS after it (ProductionPeriod.expiry); serials 1..quantity in
    one active batch of an open active account of the generator's owner, share-locked so a freeze
    waits; an issuance ledger event each. Only for approved generators (their rows share-locked, so
    a change sending one back for approval waits for the issuance, or the issuance for it). All
    lines or none: a refusal raises ServiceError.
    `with_rows(certificates)` gives the caller's own new rows of the same change (the issuance
    run's), written in the same statement once the certificates have their ids.
    Written in bulk, one statement for all the rows (bench/issuance.py issues 5,000 generators'
    month in one run).
    """
    recorded = _lines_check(user=user, lines=lines)
    certificate_ids, batch_ids = _ids_reserve(len(lines))
    certificates = [Certificate(
        pk=certificate_id, generator=line.generator, period=line.period, quantity=line.quantity,
        serial_base=serial_base_for(line.generator, line.period), fuel_type=line.generator.fuel_type,
        state=line.generator.state, eligibilities=eligibility_names(recorded[line.generator.pk], line.period),
        issued_by=user, adjustment=line.adjustment, expires_at=None if line.period.is_month else line.period.expiry(),
        emissions_factor=line.generator.emissions_factor,
        emissions_factor_source=line.generator.emissions_factor_source,
    ) for certificate_id, line in zip(certificate_ids, lines, strict=True)]
    batches = [CertificateBatch(
        pk=batch_id, certificate=certificate, account=line.account, serial_start=1, serial_end=line.quantity,
        quantity=line.quantity, status=Status.ACTIVE,
    ) for batch_id, certificate, line in zip(batch_ids, certificates, lines, strict=True)]
    events = [ledger_event(
        kind=LedgerEvent.Kind.ISSUANCE, actor=user, organization=Organization(pk=line.generator.organization_id),
        certificate=certificate, batch=batch, account=line.account, after=batch.snapshot(),
    ) for certificate, batch, line in zip(certificates, batches, lines, strict=True)]
    try:
        with transaction.atomic():  # the certificates, their batches, events and the caller's rows: one statement
            ledger_write(events, with_rows=[certificates, batches, *(with_rows(certificates) if with_rows else ())])
    except IntegrityError as error:  # this period was issued already, or by a concurrent issuance
        raise _issue_refused(lines, error) from error
    for certificate, batch in zip(certificates, batches, strict=True):
        certificate.issued_batch = batch
    return certificates


def intervals_write(*, user: User, lines: list[IssueLine]) -> list[int]:
    """certificates_write for granular generators' intervals, thousands at a time (a month of 1,000 granular
    devices is 744,000 certificates): the same checks (_lines_check), and the same certificates, batches and
    issuance ledger events, each value worked out by the same functions (serial_base_for, eligibility_names,
    ProductionPeriod.expiry, CertificateBatch.snapshot's keys), but no model instance made for a row and the
    rows sent as one array per column, all three tables in one statement. Returns the certificates' ids, in
    the lines' order. Only intervals: a month's certificates are certificates_write's.

    Hand-written because it pays: bench/hourly_issuance.py (bench/README.md), where making a Certificate, a
    batch and a ledger event instance per interval and preparing each value by its field was half the run."""
    recorded = _lines_check(user=user, lines=lines)
    if any(line.period.duration > LONGEST_INTERVAL or line.adjustment for line in lines):
        raise ValueError("intervals_write issues intervals only; a month's certificates are certificates_write's")
    generators: dict[int, tuple] = {}
    eligibilities: dict[tuple[int, datetime.date, datetime.date], str] = {}  # a generator's, by the days covered

    def eligible(generator: Generator, period: ProductionPeriod) -> str:
        if not recorded[generator.pk]:
            return ""
        days = generator.pk, period.first_day, period.last_day
        if days not in eligibilities:
            eligibilities[days] = ELIGIBILITY_SEPARATOR.join(eligibility_names(recorded[generator.pk], period))
        return eligibilities[days]

    for line in lines:
        if line.generator.pk not in generators:
            generator = line.generator
            generators[generator.pk] = (generator.pk, generator.fuel_type, generator.state, generator.emissions_factor,
                                        generator.emissions_factor_source, line.account.pk, generator.organization_id)
    if len({(line.generator.pk, line.account.pk) for line in lines}) != len(generators):
        raise ValueError("intervals_write issues a generator's intervals into one account")
    # A period's own values, worked out once: a run's hundreds of generators are issued for the same hours.
    worked_out: dict[ProductionPeriod, tuple[float, float, str, float]] = {}

    def period_values(period: ProductionPeriod) -> tuple[float, float, str, float]:
        if period not in worked_out:
            worked_out[period] = (period.start.timestamp(), period.end.timestamp(), period.serial_text,
                                  period.expiry().timestamp())
        return worked_out[period]

    rows = []
    for line in lines:
        starts, ends, period_text, expires_at = period_values(line.period)
        rows.append((line.generator.pk, starts, ends, line.quantity,
                     serial_base_for(line.generator, line.period, period_text=period_text),
                     eligible(line.generator, line.period), expires_at))
    columns = {**dict(zip(INTERVALS_COLUMNS, map(list, zip(*rows, strict=True)), strict=True)),
               **dict(zip(INTERVALS_GENERATOR_COLUMNS, map(list, zip(*generators.values(), strict=True)), strict=True))}
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            sql = INTERVALS_SQL.format(certificates=_sequence_of(Certificate), batches=_sequence_of(CertificateBatch))
            cursor.execute(sql, {**columns, "user": user.pk, "now": timezone.now()})
            return [row[0] for row in cursor.fetchall()]
    except IntegrityError as error:  # an interval issued already, or by a concurrent issuance
        raise _issue_refused(lines, error) from error


# intervals_write's statement: its columns, each an array parameter, in the order of the unnests below: a line's,
# and its generator's (the same for its hundreds of intervals). Moments go as seconds since the epoch, which
# psycopg sends several times faster than datetimes (3 µs a value), with their microseconds. The arrays go in
# binary (%(...)b): a quarter of the time to send and read than as text (2 µs a float in text, 0.5 µs in binary).
INTERVALS_COLUMNS = ["generator", "starts", "ends", "quantity", "serial_base", "eligibilities", "expires_at"]
INTERVALS_GENERATOR_COLUMNS = ["generator_id", "fuel_type", "state", "emissions_factor", "emissions_factor_source",
                               "account", "organization"]
ELIGIBILITY_SEPARATOR = "\x1f"  # an eligibility's name never holds it (a code: GeneratorEligibility.name)
# The batch's columns as the statement writes them: its INSERT and the ledger event's `after` (SNAPSHOT's keys).
_INTERVAL_BATCH = {"id": "line.batch_id", "certificate_id": "line.certificate_id", "account_id": "line.account",
                   "serial_start": "1", "serial_end": "line.quantity", "quantity": "line.quantity",
                   "status": f"'{Status.ACTIVE.value}'", "parent_id": "NULL::bigint"}
INTERVALS_SQL = f"""
    WITH line AS MATERIALIZED (
        SELECT nextval('{{certificates}}') AS certificate_id, nextval('{{batches}}') AS batch_id, line.*, generator.*
        FROM unnest(%(generator)b::bigint[], %(starts)b::float8[], %(ends)b::float8[], %(quantity)b::bigint[],
                    %(serial_base)b::text[], %(eligibilities)b::text[], %(expires_at)b::float8[])
             WITH ORDINALITY AS line({", ".join(INTERVALS_COLUMNS)}, ordinal)
        JOIN unnest(%(generator_id)b::bigint[], %(fuel_type)b::text[], %(state)b::text[],
                    %(emissions_factor)b::numeric[],
                    %(emissions_factor_source)b::text[], %(account)b::bigint[], %(organization)b::bigint[])
             AS generator({", ".join(INTERVALS_GENERATOR_COLUMNS)}) ON generator.generator_id = line.generator
        ORDER BY line.ordinal
    ), certificate AS (
        INSERT INTO {Certificate._meta.db_table} (id, generator_id, period, quantity, serial_base, fuel_type, state,
            eligibilities, issued_at, issued_by_id, adjustment, original_serial, expires_at, emissions_factor,
            emissions_factor_source)
        SELECT certificate_id, generator, tstzrange(to_timestamp(starts), to_timestamp(ends), '[)'), quantity,
               serial_base, fuel_type, state,
               coalesce(string_to_array(nullif(eligibilities, ''), '{ELIGIBILITY_SEPARATOR}'), '{{{{}}}}'),
               %(now)s, %(user)s, false, '', to_timestamp(expires_at), emissions_factor, emissions_factor_source
        FROM line
    ), batch AS (
        INSERT INTO {CertificateBatch._meta.db_table} ({", ".join(_INTERVAL_BATCH)}, created_at)
        SELECT {", ".join(_INTERVAL_BATCH.values())}, %(now)s FROM line
    )
    INSERT INTO {LedgerEvent._meta.db_table} (kind, actor_id, organization_id, certificate_id, batch_id, account_id,
                                              after, note)
    SELECT '{LedgerEvent.Kind.ISSUANCE.value}', %(user)s, line.organization, line.certificate_id, line.batch_id,
           line.account,
           jsonb_build_object({", ".join(f"'{key}', {_INTERVAL_BATCH[column]}" for key, column in SNAPSHOT.items())}),
           ''
    FROM line ORDER BY line.certificate_id
    RETURNING certificate_id
"""


def _lines_check(*, user: User, lines: list[IssueLine]) -> dict:
    """certificates_write's and intervals_write's checks of what they are to issue, the generators and
    accounts share-locked: returns the generators' recorded eligibilities, read under their locks."""
    staff_require(user=user)
    for line in lines:
        if not isinstance(line.period, ProductionPeriod):
            raise ServiceError("Give the production period the certificates were produced in.")
        if not isinstance(line.quantity, int) or isinstance(line.quantity, bool) or line.quantity < 1:
            raise ServiceError("Quantity must be a whole number of at least 1.")
    # Each generator and account once, however many lines name it (an issuance run's month of a granular
    # generator is 744 lines).
    generators = list({id(line.generator): line.generator for line in lines}.values())
    accounts = {(id(line.account), id(line.generator)): (line.account, line.generator) for line in lines}.values()
    generator_ids = {generator.pk for generator in generators}
    statuses = _generators_lock_for_share(generator_ids)
    for generator in generators:
        status, imported = statuses.get(generator.pk, (None, False))
        if imported:
            raise ServiceError(f"Generator {generator.code} is an import generator; its certificates come "
                               "only by import from its tracking system, never by issuance here.")
        if status != Generator.Status.APPROVED:
            shown = Generator.Status(status).label.lower() if status else "no longer registered"
            raise ServiceError(f"Generator {generator.code} is not approved ({shown}); certificates are issued "
                               "only for an approved generator.")
    states = accounts_lock_for_share(account.pk for account, _ in accounts)
    for account, generator in accounts:
        state = states.get(account.pk)
        if not state or state["organization_id"] != generator.organization_id:
            raise ServiceError(f"Account {account.public_id} does not belong to the generator's owner.")
        if not Account.is_open_active_state(type=state["type"], status=state["status"]):
            raise ServiceError(f"Account {account.public_id} is not an open active account.")
    return generator_eligibilities(generator_ids)  # read under the generators' locks


def _issue_refused(lines: list[IssueLine], error: IntegrityError) -> ServiceError:
    """Why the database refused an issuance of `lines`: the generator and period issued already (by this
    run or a concurrent one), or, if none is, a change meanwhile to the caller's own rows."""
    span = ProductionPeriod(min(line.period.start for line in lines), max(line.period.end for line in lines))
    issued: dict[int, list[ProductionPeriod]] = {}
    for generator_id, period in Certificate.objects.filter(
            generator__in=[line.generator for line in lines], period__overlap=span, voided_at__isnull=True
    ).values_list("generator_id", "period"):
        issued.setdefault(generator_id, []).append(period)
    line = next((line for line in lines
                 if any(period.overlaps(line.period) for period in issued.get(line.generator.pk, ()))), None)
    if line is None:  # one of the caller's rows (with_rows)
        return ServiceError("This changed meanwhile; nothing was issued. Try again.")
    return ServiceError(f"{line.generator.code} already has certificates for {line.period}.")


def _generators_lock_for_share(generator_ids: Iterable[int]) -> dict[int, tuple[str, bool]]:
    """The generators' registration statuses and whether each is an import generator, share-locked (in
    primary-key order) against a concurrent change of them. SQL because the ORM cannot say it
    (select_for_update() locks only FOR UPDATE, which would make issuances of the same generators wait for
    each other); not for speed."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id, status, imported_from_id IS NOT NULL FROM {Generator._meta.db_table} "
                       "WHERE id = ANY(%s) ORDER BY id FOR SHARE", [sorted(set(generator_ids))])
        return {generator_id: (status, imported) for generator_id, status, imported in cursor.fetchall()}


class ImportLine(NamedTuple):
    """One import by conversion to write (imports.services): `quantity` certificates of an import
    generator's production period, as the source tracking system issued them (`original_serial`, its
    `eligibilities`), pending in `account` (its stand-in's) for the recipient."""

    generator: Generator
    period: ProductionPeriod
    quantity: int
    account: Account
    serial_base: str
    original_serial: str
    eligibilities: list[str]


def certificates_import_write(*, user: User | None, lines: list[ImportLine],
                              with_rows: Callable[[Certificate, CertificateBatch], tuple[Model, list[list[Model]]]]
                              ) -> list[Certificate]:
    """Write imported certificates (registry staff), inside the caller's transaction, as an issuance
    writes them (certificates_write): each line's serials 1..quantity in one batch, its ledger event, all in
    one statement, but each batch pending (the recipient accepts or rejects it through the import's transfer:
    `with_rows(certificate, batch)`, called for each line in order, gives it, with the caller's rows, its own
    among them, written in the same statement) and each certificate carrying its origin (`imported_from`,
    `original_serial`) and the eligibilities the source gave. Only for import generators of that tracking
    system (share-locked). `user` None: no person recorded them, a message of another registry did, verified
    by its signature (imports.messages) before this is called. A few statements however many lines: an
    export of thousands of batches another registry sends is one (bench/imports_peer.py)."""
    if user is not None:
        staff_require(user=user)
    locked = _generators_lock_for_share(line.generator.pk for line in lines)
    for line in lines:
        if not locked.get(line.generator.pk, (None, False))[1] or line.generator.imported_from_id is None:
            raise ServiceError(f"Generator {line.generator.code} is not an import generator.")
    certificate_ids, batch_ids = _ids_reserve(len(lines))
    certificates, batches, events, rows_by_model = [], [], [], {}
    for line, certificate_id, batch_id in zip(lines, certificate_ids, batch_ids, strict=True):
        certificate = Certificate(
            pk=certificate_id, generator=line.generator, period=line.period, quantity=line.quantity,
            serial_base=line.serial_base, fuel_type=line.generator.fuel_type, state=line.generator.state,
            eligibilities=line.eligibilities, issued_by=user, imported_from_id=line.generator.imported_from_id,
            original_serial=line.original_serial,
        )
        batch = CertificateBatch(pk=batch_id, certificate=certificate, account=line.account, serial_start=1,
                                 serial_end=line.quantity, quantity=line.quantity, status=Status.PENDING)
        transfer, rows = with_rows(certificate, batch)
        for row in (row for group in rows for row in group):  # one INSERT a table
            rows_by_model.setdefault(type(row), []).append(row)
        certificates.append(certificate)
        batches.append(batch)
        events.append(ledger_event(kind=LedgerEvent.Kind.IMPORT_RECORDED, actor=user,
                                   organization=Organization(pk=line.generator.organization_id),
                                   certificate=certificate, batch=batch, account=line.account, transfer=transfer,
                                   after={**batch.snapshot(), "original_serial": line.original_serial,
                                          "tracking_system": line.generator.imported_from_id}))
    ledger_write(events, with_rows=[certificates, batches, *rows_by_model.values()])
    return certificates


# Hand-written, as the split was then (one statement), because bench/transfer_service.py showed they
# pay: the service did 87-135 transfers/s before them and 225-254/s since (bench/README.md). Its mixed lock
# (FOR UPDATE OF the batches, FOR SHARE OF their accounts and organizations) is not the ORM's either.
BATCH_LOCK_SQL = """
    SELECT b.id, b.certificate_id, b.account_id, b.serial_start, b.serial_end, b.quantity, b.status,
           b.parent_id, b.created_at, c.serial_base,
           a.organization_id, a.type, a.status, o.status,
           EXISTS (SELECT 1 FROM registry_membership m WHERE m.user_id = %(user_id)s
                   AND m.organization_id = a.organization_id AND m.role = ANY(%(roles)s))
    FROM certificates_certificatebatch b
    JOIN certificates_certificate c ON c.id = b.certificate_id
    JOIN accounts_account a ON a.id = b.account_id
    JOIN registry_organization o ON o.id = a.organization_id
    WHERE b.id = ANY(%(ids)b::bigint[])
    ORDER BY b.id
    FOR UPDATE OF b FOR SHARE OF a, o
"""


# The lock statement is planned once per connection (a generic plan), not afresh for each call:
# re-planning its five-table join cost more than running it. Measured again in session 15 (3,000 locks
# in one process, the two ways alternating, load average 4.4): with the settings 670 us of client CPU and
# 390 us of PostgreSQL's a lock, without them 610 and 710 us. The setting is local to the transaction
# and put back right after, in the same round trip.
GENERIC_PLAN_SQL = "SET LOCAL plan_cache_mode = force_generic_plan"
CERTIFICATE_COLUMNS = ["id", "serial_base"]  # a locked batch's certificate, as BATCH_LOCK_SQL reads it
DEFAULT_PLAN_SQL = "SET LOCAL plan_cache_mode TO DEFAULT"


class Holder(NamedTuple):
    """Who holds a locked batch, as the lock read it: the account's organization, type and status,
    and the organization's status."""

    organization_id: int
    account_type: str
    account_status: str
    organization_status: str


class LockedBatches(dict):
    """Locked batches by id (batches_lock)."""


def batches_lock(batch_ids: Iterable[int], *, user_id: int | None = None) -> LockedBatches:
    """Lock the batches FOR UPDATE in primary-key order (so two movers never deadlock), and their
    accounts and organizations FOR SHARE (so a freeze or suspension waits), in one round trip.

    Each batch comes with `serial_base` on its certificate, `holder` = (organization id, account
    type, account status, organization status) as they are under the lock, and `user_may_move`:
    whether `user_id` is a manager or trader of the holding organization (one statement for all).
    """
    trip = RoundTrip()
    locked = batches_lock_in(trip, batch_ids, user_id=user_id)
    trip.send()
    return locked.value


def batches_lock_in(trip: RoundTrip, batch_ids: Iterable[int], *, user_id: int | None = None) -> Answer:
    """batches_lock's statements, added to the caller's round trip, so that the caller's own locks
    (a transfer's draft before the batches, its destination account after) travel with them; the
    answer's value is the LockedBatches once the trip is sent."""
    trip.add(GENERIC_PLAN_SQL, read=None)
    locked = trip.add(BATCH_LOCK_SQL, {"user_id": user_id, "ids": sorted(set(batch_ids)),
                                       "roles": list(Membership.ROLES_THAT_TRANSFER)}, read=_locked_batches)
    trip.add(DEFAULT_PLAN_SQL, read=None)
    return locked


def _locked_batches(rows: list[tuple]) -> LockedBatches:
    batches = LockedBatches()
    # One instance per certificate (a mass transfer locks thousands of its batches), as read: its
    # serial base, the rest deferred (as .only() gives it; from_db costs a third of a new instance).
    certificates = {}
    for row in rows:
        batch = CertificateBatch.from_db("default", BATCH_COLUMNS, row[:9])
        if row[1] not in certificates:
            certificates[row[1]] = Certificate.from_db("default", CERTIFICATE_COLUMNS, [row[1], row[9]])
        batch.certificate = certificates[row[1]]
        batch.holder = Holder(*row[10:14])
        batch.user_may_move = row[14]
        batches[batch.pk] = batch
    return batches


def _ids_reserve(count: int) -> tuple[list[int], list[int]]:
    """`count` new primary keys for certificates and as many for their batches, in one round trip,
    so that the rows and their ledger events are written together (ledger_write's with_rows). SQL:
    the ORM draws no ids ahead; bench/issuance.py went from 13.7-18.4 s (bulk_create) to 7.9 s with
    the rows written this way (bench/README.md)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval(%s::regclass), nextval(%s::regclass) FROM generate_series(1, %s)",
                       [_sequence_of(Certificate), _sequence_of(CertificateBatch), count])
        rows = cursor.fetchall()
    return [row[0] for row in rows], [row[1] for row in rows]


@functools.cache
def _sequence_of(model: type[Model]) -> str:
    """The model's id sequence, read once per process from PostgreSQL's catalog (no ORM equivalent)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_get_serial_sequence(%s, %s)", [model._meta.db_table, model._meta.pk.column])
        return cursor.fetchone()[0]


class Taken(NamedTuple):
    """What batches_take did: the moved batches, in the order of the takes, and the new rows of its
    splits (each split parent's two children, and its split ledger event), unwritten: the caller
    writes them with its own rows and ledger events, in the same transaction (ledger_write)."""

    moved: list[CertificateBatch]
    children: list[CertificateBatch]
    events: list[LedgerEvent]


def batches_take(*, takes: list[tuple[CertificateBatch, int]], account_id: int, status: str,
                 actor: User | None, organization: Organization) -> Taken:
    """Move quantities out of locked active batches into `account_id` with `status`.

    A whole batch moves as it is. A partial move takes the lowest serials (serials.split_range):
    the batch is superseded and split into the moved part and the part that stays, both pointing to
    it, and a split ledger event records it; the children and the events are returned for the
    caller to write (Taken), so that a transfer's new rows travel in one statement. A split parent
    gets `remainder`, the part that stayed.
    """
    whole = [batch for batch, quantity in takes if quantity == batch.quantity]
    partial = [(batch, quantity) for batch, quantity in takes if quantity != batch.quantity]
    moved_by_source: dict[int, CertificateBatch] = {}
    children: list[CertificateBatch] = []
    events: list[LedgerEvent] = []

    if whole:
        updated = CertificateBatch.objects.filter(
            pk__in=[batch.pk for batch in whole], status=Status.ACTIVE
        ).update(account_id=account_id, status=status)
        if updated != len(whole):
            raise ServiceConflict("A selected batch changed meanwhile; nothing was moved. Try again.")
        for batch in whole:
            batch.account_id, batch.status = account_id, status
            moved_by_source[batch.pk] = batch

    if partial:
        cuts = [split_range(parent.serial_start, parent.serial_end, quantity) for parent, quantity in partial]
        if any(staying is None for _, staying in cuts):
            raise ServiceError("A split must leave part of the batch where it is.")
        child_ids = _batches_supersede([parent.pk for parent, _ in partial])
        for (parent, _), (moved_range, staying_range) in zip(partial, cuts, strict=True):
            before = parent.snapshot()
            moved_id, staying_id = child_ids[parent.pk]
            moved = CertificateBatch(pk=moved_id, certificate=parent.certificate, account_id=account_id,
                                     serial_start=moved_range[0], serial_end=moved_range[1],
                                     quantity=moved_range[1] - moved_range[0] + 1, status=status, parent_id=parent.pk)
            staying = CertificateBatch(pk=staying_id, certificate=parent.certificate, account_id=parent.account_id,
                                       serial_start=staying_range[0], serial_end=staying_range[1],
                                       quantity=staying_range[1] - staying_range[0] + 1, status=Status.ACTIVE,
                                       parent_id=parent.pk)
            children += [moved, staying]
            events.append(ledger_event(kind=LedgerEvent.Kind.SPLIT, actor=actor, organization=organization,
                                       certificate=parent.certificate, batch=parent, before=before,
                                       after={"children": [moved.snapshot(), staying.snapshot()]}))
            moved_by_source[parent.pk] = moved
            parent.remainder = staying  # what stays, for a caller moving more of the same batch
            parent.status = Status.SUPERSEDED
    return Taken([moved_by_source[batch.pk] for batch, _ in takes], children, events)


# The split supersedes its parents by key (compare-and-swap on active; they are locked already) and
# draws two ids for each one's children in the same statement, so that the children and the split
# events are written with the rest of the change (ledger_write), not by a statement of their own.
# Hand-written because the ORM's update returns no rows and draws no ids (a statement more a split).
# It replaced one statement that updated, inserted and wrote the events together: PostgreSQL planned
# that one afresh on every call (0.65 ms) and ran it in 0.70 ms, and on stale statistics chose a
# plan that scanned every active batch. bench/transfer_service.py: 1.76x the SQL bound with this,
# 1.66-1.70x before, alike within that run's noise (load 3, bench/README.md): kept for clarity.
SUPERSEDE_SQL = f"""
    UPDATE {CertificateBatch._meta.db_table} SET status = 'superseded'
    WHERE id = ANY(%(parents)s) AND status = 'active'
    RETURNING id, nextval(%(sequence)s::regclass), nextval(%(sequence)s::regclass)
"""


def _batches_supersede(parent_ids: list[int]) -> dict[int, tuple[int, int]]:
    """Supersede the locked active parents, all or none: the two new ids for each one's children."""
    with connection.cursor() as cursor:
        cursor.execute(SUPERSEDE_SQL, {"parents": parent_ids, "sequence": _sequence_of(CertificateBatch)})
        rows = cursor.fetchall()
    if len(rows) != len(parent_ids):
        raise ServiceConflict("A selected batch changed meanwhile; nothing was moved. Try again.")
    return {parent_id: (moved_id, staying_id) for parent_id, moved_id, staying_id in rows}


def batches_set_state(*, batches: list[CertificateBatch], from_status: str, to_status: str,
                      account_id: int | None = None) -> None:
    """Compare-and-swap the status (and optionally account) of locked batches, all or none."""
    changes = {"status": to_status}
    if account_id is not None:
        changes["account_id"] = account_id
    updated = CertificateBatch.objects.filter(
        pk__in=[batch.pk for batch in batches], status=from_status
    ).update(**changes)
    if updated != len(batches):
        raise ServiceConflict("The certificates of this transfer changed meanwhile; nothing was changed.")
    for batch in batches:
        batch.status = to_status
        if account_id is not None:
            batch.account_id = account_id



class Voided(NamedTuple):
    """What batches_void did: the voided batches (a partial line's lower part, split off), their quantity."""

    batches: list[CertificateBatch]
    quantity: int


@transaction.atomic
def batches_void(*, user: User, organization: Organization, lines: list[tuple[int, int]], reason: str,
                 event_kind: str | None = Event.Kind.CERTIFICATES_VOIDED) -> Voided:
    """Void certificates `organization` holds (registry staff), inside the caller's transaction or a
    savepoint of its own: each line (batch id, quantity) voids that many of an active batch, its lowest
    serials (a partial line splits the batch as a transfer does: batches_take, with lineage and a split
    event), where it is. A voided batch is final (the database refuses any change to it) and counts in
    no balance; its serials stay taken. The batches are locked in primary-key order and compare-and-swapped
    from active; a batch_voided ledger event each (who, when, the reason, before and after), and a domain
    event of `event_kind` (certificates.voided; None: the caller records its own, as a rollback does).

    All or nothing: a line that names a batch the organization does not hold, one that is not active,
    or more than it holds is refused (ServiceError), with every such line named."""
    staff_require(user=user)
    reason = (reason or "").strip()
    if not reason:
        raise ServiceError("Give the reason the certificates are voided.")
    if not lines:
        raise ServiceError("Choose the certificates to void.")
    if len({batch_id for batch_id, _ in lines}) != len(lines):
        raise ServiceError("Name each batch once.")
    locked = batches_lock(batch_id for batch_id, _ in lines)
    refusals = []
    for batch_id, quantity in lines:
        batch = locked.get(batch_id)
        if batch is None or batch.holder.organization_id != organization.pk:
            refusals.append(f"Batch {batch_id if batch is None else batch.serial_number} is not held by "
                            f"{organization.name}.")
        elif batch.status != Status.ACTIVE:
            refusals.append(f"Batch {batch.serial_number} is {batch.get_status_display().lower()}; only active "
                            "certificates can be voided.")
        elif isinstance(quantity, bool) or not isinstance(quantity, int) or not 1 <= quantity <= batch.quantity:
            refusals.append(f"Quantity {quantity!r} of batch {batch.serial_number} must be a whole number from 1 "
                            f"to {batch.quantity:,}.")
    if refusals:
        raise ServiceError(" ".join(refusals))
    takes = [(locked[batch_id], quantity) for batch_id, quantity in lines]
    before = {batch.pk: batch.snapshot() for batch, _ in takes}
    voided, children, split_events = [], [], []
    for account_id in sorted({batch.account_id for batch, _ in takes}):  # each stays in its account
        group = [(batch, quantity) for batch, quantity in takes if batch.account_id == account_id]
        taken = batches_take(takes=group, account_id=account_id, status=Status.VOIDED, actor=user,
                             organization=organization)
        voided += [(source, moved) for (source, _), moved in zip(group, taken.moved, strict=True)]
        children += taken.children
        split_events += taken.events
    events = [*split_events, *(ledger_event(
        kind=LedgerEvent.Kind.BATCH_VOIDED, actor=user, organization=organization, certificate=moved.certificate,
        batch=moved, account=Account(pk=moved.account_id), before=before[source.pk], after=moved.snapshot(),
        note=reason) for source, moved in voided)]
    batches = [moved for _, moved in voided]
    quantity = sum(batch.quantity for batch in batches)
    domain = [event_new(kind=event_kind, organization_id=organization.pk,
                        data={"quantity": quantity, "batch_ids": [batch.pk for batch in batches], "reason": reason})
              ] if event_kind else []
    ledger_write(events, with_rows=[children, domain])
    events_owed(domain)
    return Voided(batches, quantity)


# The dashboard's selection of batches to transfer or retire: kept in the session, across pages and
# filters (certificates.selectors.selection_ids reads it). The user's own working state, not a
# record of the registry's: no lock, no ledger event.

def _selection_save(session: SessionBase, batch_ids: Iterable[int]) -> list[int]:
    """Keep `batch_ids` as the selection, in order, at most SELECTION_LIMIT of them: the ids kept."""
    kept = sorted(set(batch_ids))[:SELECTION_LIMIT]
    session[SELECTION_KEY] = kept
    return kept


def selection_change(*, session: SessionBase, organization: Organization, action: str, ticked: set[int],
                     on_page: set[int], batch_id: int | None = None, query: QueryDict | None = None) -> list[int]:
    """Change the selection as `action` says, from the selection form: the boxes `ticked`, the
    batches `on_page` (the page the form was on), one box's `batch_id` and the page's `query`.

    toggle: the box `batch_id`, as ticked or not; page: this page's boxes as they are now (what a
    plain form post means, and what Transfer and Retire send); add, remove: every batch of the page;
    all: every batch matching the query, up to SELECTION_LIMIT; clear: none. Any other action changes
    nothing. Only the organization's active batches are kept. Returns the selection saved."""
    current = set(session.get(SELECTION_KEY, []))
    if action == "toggle":
        if batch_id is not None:
            current = current | {batch_id} if batch_id in ticked else current - {batch_id}
    elif action == "page":
        current = (current - on_page) | ticked
    elif action == "add":
        current |= on_page
    elif action == "remove":
        current -= on_page
    elif action == "all":
        _, matching, _ = batches_filtered(query or QueryDict(), organization, Status.ACTIVE)
        current |= set(matching.values_list("pk", flat=True)[:SELECTION_LIMIT])
    elif action == "clear":
        current = set()
    return _selection_save(session, batches_for_dashboard(organization, Status.ACTIVE)
                           .filter(pk__in=current).values_list("pk", flat=True))


def selection_drop(*, session: SessionBase, batch_ids: set[int]) -> None:
    """Take `batch_ids` (batches just transferred or retired) out of the selection; the session is
    written only when that changes it."""
    selected = session.get(SELECTION_KEY, [])
    if batch_ids.intersection(selected):
        _selection_save(session, [batch_id for batch_id in selected if batch_id not in batch_ids])


# Batches expired per transaction: each holds their locks while it writes their ledger events.
EXPIRE_PER_TRANSACTION = 5000


def certificates_expire(*, now: datetime.datetime | None = None) -> int:
    """Expire the active batches of certificates past their expiry (interval certificates,
    Certificate.expires_at), in transactions of up to EXPIRE_PER_TRANSACTION: each batch locked, then
    compare-and-swapped from active to expired, with a batch_expired ledger event (before and after). An
    expired batch is final: the database refuses to move or retire it (certificates migration 0013's
    trigger). A pending batch (in a transfer) is expired once its transfer ends and it is active again.
    Batches another transaction holds are left to the next run. Returns how many were expired."""
    now = now or timezone.now()
    expired = 0
    while count := _expire_some(now):
        expired += count
    return expired


@transaction.atomic(durable=True)
def _expire_some(now: datetime.datetime) -> int:
    batches = list(CertificateBatch.objects.select_for_update(of=("self",), skip_locked=True)
                   .filter(status=Status.ACTIVE, certificate__expires_at__lte=now)
                   .select_related("account").order_by("pk")[:EXPIRE_PER_TRANSACTION])
    if not batches:
        return 0
    before = [batch.snapshot() for batch in batches]
    batches_set_state(batches=batches, from_status=Status.ACTIVE, to_status=Status.EXPIRED)
    ledger_write([ledger_event(
        kind=LedgerEvent.Kind.BATCH_EXPIRED, actor=None, organization=Organization(pk=batch.account.organization_id),
        certificate=Certificate(pk=batch.certificate_id), batch=batch, account=batch.account, before=snapshot,
        after=batch.snapshot(), note="Expired: past its certificate's expiry.",
    ) for batch, snapshot in zip(batches, before, strict=True)])
    return len(batches)
