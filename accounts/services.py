from collections.abc import Iterable

from django.db import IntegrityError, connection, transaction
from django.db.models import Q, Sum

from ledger.models import LedgerEvent
from ledger.services import ledger_record
from registry.models import Organization, User
from registry.services import ServiceError, manager_require, staff_require
from utilities.display import number_text
from utilities.rows import Answer, RoundTrip

from .models import Account

# Written in SQL because the ORM cannot say it: select_for_update() locks FOR UPDATE (or FOR NO KEY
# UPDATE), never FOR SHARE, and a transfer must not block another using the same account.
ACCOUNTS_SHARE_SQL = """
    SELECT a.id, a.type, a.status, a.organization_id, o.status, o.name
    FROM accounts_account a JOIN registry_organization o ON o.id = a.organization_id
    WHERE a.id = ANY(%s) ORDER BY a.id FOR SHARE
"""


def accounts_lock_for_share(account_ids: Iterable[int]) -> dict[int, dict]:
    """Lock accounts and their organizations FOR SHARE, in primary-key order; their states by id
    (type, status, organization_id, organization_status, organization_name).

    A share lock lets any number of transfers use the same account at once, while a freeze or a
    suspension (an UPDATE) waits for them, and they for it: no check-then-act race on a status.
    """
    ids = sorted(set(account_ids))
    if not ids:
        return {}
    with connection.cursor() as cursor:
        cursor.execute(ACCOUNTS_SHARE_SQL, [ids])
        return _account_states(cursor.fetchall())


def accounts_lock_for_share_in(trip: RoundTrip, account_ids: Iterable[int]) -> Answer:
    """accounts_lock_for_share added to the caller's round trip (a transfer's, after its batches'
    lock: bench/transfer_service.py); the answer's value is the states by id once the trip is sent."""
    ids = sorted(set(account_ids))
    if ids:
        return trip.add(ACCOUNTS_SHARE_SQL, [ids], read=_account_states)
    nothing = Answer()
    nothing.value = {}
    return nothing


def _account_states(rows) -> dict[int, dict]:
    return {
        row[0]: {"type": row[1], "status": row[2], "organization_id": row[3],
                 "organization_status": row[4], "organization_name": row[5]}
        for row in rows
    }


@transaction.atomic(durable=True)
def account_set_status(*, user: User, account: Account, status: str, note: str = "") -> None:
    """Freeze, unfreeze, close (registry staff). Only open active accounts send or receive."""
    staff_require(user=user)
    account_status_write(actor=user, account=account, status=status, note=note)


def account_status_write(*, actor: User | None, account: Account, status: str, note: str = "") -> None:
    """account_set_status inside the caller's transaction, by `actor` (None: the registry itself, as
    when a program's close date freezes its retirement accounts): the account locked, its status
    swapped, and the ledger event."""
    current = Account.objects.select_for_update().get(pk=account.pk)
    if current.status == status:
        raise ServiceError(f"Account {current.public_id} is already {status}.")
    if Account.objects.filter(pk=current.pk, status=current.status).update(status=status) != 1:
        raise ServiceError("The account changed meanwhile; try again.")
    ledger_record(
        kind=LedgerEvent.Kind.ACCOUNT_STATUS, actor=actor, organization=current.organization,
        account=current, before={"status": current.status}, after={"status": status}, note=note,
    )
    account.status = status


def _name_checked(*, organization: Organization, name: str, account: Account | None = None) -> str:
    name = " ".join(name.split())
    if not name:
        raise ServiceError("Give the account a name.")
    if len(name) > Account._meta.get_field("name").max_length:
        raise ServiceError("An account's name is at most 200 characters.")
    others = Account.objects.of(organization).filter(name__iexact=name)
    if account is not None:
        others = others.exclude(pk=account.pk)
    if others.exists():
        raise _name_taken(organization, name)
    return name


def _name_taken(organization: Organization, name: str) -> ServiceError:
    return ServiceError(f"{organization.name} already has an account named {name}; choose another name.")


@transaction.atomic(durable=True)
def account_open(*, user: User, organization: Organization, name: str, type: str) -> Account:
    """Open a holding account (a manager): active, retirement or reserve, with a name of its own
    within the organization."""
    return account_write(user=user, organization=organization, name=name, type=type)


def account_write(*, user: User, organization: Organization, name: str, type: str,
                  recorded: dict | None = None) -> Account:
    """account_open inside the caller's transaction (a program's retirement account is opened and
    linked to its program in one: programs.participation), its ledger event recording `recorded` too."""
    manager_require(user=user, organization=organization)
    if type not in Account.Type.values:
        raise ServiceError("Choose an account type: active, retirement or reserve.")
    name = _name_checked(organization=organization, name=name)
    try:
        with transaction.atomic():  # the unique constraint settles two managers opening the same name at once
            account = Account.objects.create(organization=organization, name=name, type=type)
    except IntegrityError as error:
        raise _name_taken(organization, name) from error
    ledger_record(kind=LedgerEvent.Kind.ACCOUNT_OPENED, actor=user, organization=organization, account=account,
                  after={"name": name, "type": type, "status": account.status, **(recorded or {})})
    return account


def _account_lock(*, user: User, organization: Organization, account: Account) -> Account:
    """The organization's account, locked FOR UPDATE: transfers into or out of it hold it FOR SHARE
    (accounts_lock_for_share), so none is under way while it is checked and changed."""
    manager_require(user=user, organization=organization)
    # Only the account's row, and no join: the model's default ordering (by organization name) would
    # join the organization and lock its row FOR UPDATE too, which deadlocked with a transfer that holds
    # it FOR SHARE while it waits for this account (seen in the PostgreSQL log).
    current = (Account.objects.select_for_update(of=("self",)).filter(pk=account.pk, organization=organization)
               .order_by().first())
    if current is None:
        raise ServiceError("No such account.")
    return current


@transaction.atomic(durable=True)
def account_rename(*, user: User, organization: Organization, account: Account, name: str) -> Account:
    """Rename one of the organization's accounts (a manager); its Account ID stays."""
    current = _account_lock(user=user, organization=organization, account=account)
    name = _name_checked(organization=organization, name=name, account=current)
    if name == current.name:
        raise ServiceError(f"Account {current.public_id} is already named {name}.")
    try:
        with transaction.atomic():
            Account.objects.filter(pk=current.pk).update(name=name)
    except IntegrityError as error:
        raise _name_taken(organization, name) from error
    ledger_record(kind=LedgerEvent.Kind.ACCOUNT_RENAMED, actor=user, organization=organization, account=current,
                  before={"name": current.name}, after={"name": name})
    current.name = name
    return current


@transaction.atomic(durable=True)
def account_close(*, user: User, organization: Organization, account: Account) -> Account:
    """Close an open account that holds no certificates (a manager). One that holds some is refused
    with its balance: move them out first. A frozen account is registry staff's to unfreeze."""
    current = _account_lock(user=user, organization=organization, account=account)
    if current.status != Account.Status.OPEN:
        raise ServiceError(f"Account {current.public_id} is {current.get_status_display().lower()}; only an open "
                           "account can be closed.")
    held = current.batches.aggregate(
        active=Sum("quantity", filter=Q(status="active"), default=0),
        pending=Sum("quantity", filter=Q(status="pending"), default=0))
    if held["active"] or held["pending"]:
        pending = f", {number_text(held['pending'])} of them pending in a transfer" if held["pending"] else ""
        raise ServiceError(f"Account {current.public_id} ({current.name}) holds "
                           f"{number_text(held['active'] + held['pending'])} certificates{pending}; move them to "
                           "another account before closing it.")
    Account.objects.filter(pk=current.pk, status=Account.Status.OPEN).update(status=Account.Status.CLOSED)
    ledger_record(kind=LedgerEvent.Kind.ACCOUNT_STATUS, actor=user, organization=organization, account=current,
                  before={"status": current.status}, after={"status": Account.Status.CLOSED.value},
                  note="Closed by the organization")
    current.status = Account.Status.CLOSED
    return current
