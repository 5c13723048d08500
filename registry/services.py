from collections.abc import Iterable

from django.db import connection, transaction

from ledger.models import LedgerEvent
from ledger.services import ledger_record

from .models import Membership, Organization, User


class ServiceError(Exception):
    """A refusal the user can act on. The message says exactly what is wrong; nothing changed."""


# Whether user %s is a manager or trader of organization %s (params: role_params(...)), for a
# statement that checks the role as it writes (the wizard's draft).
ROLE_CONDITION = f"""EXISTS (SELECT 1 FROM {Membership._meta.db_table}
                            WHERE user_id = %s AND organization_id = %s AND role = ANY(%s))"""


def role_params(*, user: User, organization: Organization) -> list:
    return [user.pk, organization.pk, list(Membership.ROLES_THAT_TRANSFER)]


def role_require(*, user: User, organization: Organization) -> None:
    """Only a manager or trader of the organization may move its certificates
    (Membership.ROLES_THAT_TRANSFER)."""
    if not Membership.objects.filter(user=user, organization=organization,
                                     role__in=Membership.ROLES_THAT_TRANSFER).exists():
        raise role_refused(organization)


def role_refused(organization: Organization) -> ServiceError:
    """The refusal for a user who is not a manager or trader of the organization."""
    return ServiceError(f"You are not allowed to transfer for {organization.name}.")


def staff_require(*, user: User) -> None:
    if not (user and user.is_staff):
        raise ServiceError("Only registry staff may do this.")


ACCOUNTS_SHARE_SQL = """
    SELECT a.id, a.type, a.status, a.organization_id, o.status, o.name
    FROM accounts_account a JOIN registry_organization o ON o.id = a.organization_id
    WHERE a.id = ANY(%s) ORDER BY a.id FOR SHARE
"""


def accounts_lock_for_share(account_ids: Iterable[int]) -> dict[int, dict]:
    """Lock accounts and their organizations FOR SHARE, in primary-key order.

    A share lock lets any number of transfers use the same account at once, while a freeze or a
    suspension (an UPDATE) waits for them, and they for it: no check-then-act race on a status.
    """
    ids = sorted(set(account_ids))
    if not ids:
        return {}
    with connection.cursor() as cursor:
        cursor.execute(ACCOUNTS_SHARE_SQL, [ids])
        return accounts_from_rows(cursor.fetchall())


def accounts_from_rows(rows) -> dict[int, dict]:
    """The rows of ACCOUNTS_SHARE_SQL by account id."""
    return {
        row[0]: {"type": row[1], "status": row[2], "organization_id": row[3],
                 "organization_status": row[4], "organization_name": row[5]}
        for row in rows
    }


def organization_lock_for_share(organization_id: int) -> str | None:
    """The organization's status, share-locked against a concurrent suspension."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT status FROM registry_organization WHERE id = %s FOR SHARE", [organization_id]
        )
        row = cursor.fetchone()
    return row[0] if row else None


@transaction.atomic(durable=True)
def organization_set_status(*, user: User, organization: Organization, status: str, note: str = "") -> None:
    """Suspend or reinstate a participant (registry staff). A suspended one neither sends nor receives."""
    staff_require(user=user)
    current = Organization.objects.select_for_update().get(pk=organization.pk)
    if current.status == status:
        raise ServiceError(f"{current.name} is already {status}.")
    updated = Organization.objects.filter(pk=current.pk, status=current.status).update(status=status)
    if updated != 1:
        raise ServiceError("The organization changed meanwhile; try again.")
    ledger_record(
        kind=LedgerEvent.Kind.ORGANIZATION_STATUS, actor=user, organization=current,
        before={"status": current.status}, after={"status": status}, note=note,
    )
    organization.status = status


def user_set_time_zone(*, user: User, time_zone: str) -> None:
    """The zone the user's dates and times are shown in (utilities.time_zones validates it). A display
    preference of the user's, not a change of the registry's records: no ledger event."""
    User.objects.filter(pk=user.pk).update(time_zone=time_zone)
    user.time_zone = time_zone
