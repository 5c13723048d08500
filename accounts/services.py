from django.db import transaction

from ledger.models import LedgerEvent
from ledger.services import ledger_record
from registry.models import User
from registry.services import ServiceError, staff_require

from .models import Account


@transaction.atomic(durable=True)
def account_set_status(*, user: User, account: Account, status: str, note: str = "") -> None:
    """Freeze, unfreeze, close (registry staff). Only open active accounts send or receive."""
    staff_require(user=user)
    current = Account.objects.select_for_update().get(pk=account.pk)
    if current.status == status:
        raise ServiceError(f"Account {current.public_id} is already {status}.")
    if Account.objects.filter(pk=current.pk, status=current.status).update(status=status) != 1:
        raise ServiceError("The account changed meanwhile; try again.")
    ledger_record(
        kind=LedgerEvent.Kind.ACCOUNT_STATUS, actor=user, organization=current.organization,
        account=current, before={"status": current.status}, after={"status": status}, note=note,
    )
    account.status = status
