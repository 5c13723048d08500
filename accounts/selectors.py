from collections.abc import Iterable

from django.db.models import Q, QuerySet, Sum
from django.db.models.functions import Coalesce
from django.shortcuts import get_object_or_404

from registry.models import Organization
from utilities.rows import Columns, select_models

from .models import Account

HELD = ("active", "pending", "retired")  # the balances an account shows, by the batches' status


def accounts_with_balances(organization: Organization) -> QuerySet[Account]:
    """The organization's accounts, each with its active, pending and retired quantities; open ones
    first, closed ones last (AccountQuerySet.open_first).

    Each balance is kept per unit (certificates.units), for what a holder moves is whole certificates
    of one unit: `<status>_recs` monthly RECs (MWh) and `<status>_wh` hourly certificates (Wh), as the
    Accounts page shows them ("5 MWh and 1,000,000 Wh"); `<status>_quantity` is their count together,
    for what counts certificates whatever they are (the API's balances, emptiness).

    The batches are reached through their relation to the account (`batches`), by the values of
    their status and their certificate's unit (a column the database computes by the rule):
    accounts sit below certificates in the layers, so this module does not import them.
    """
    def held(status, unit=None):
        condition = Q(batches__status=status) & (Q(batches__certificate__unit=unit) if unit else Q())
        return Coalesce(Sum("batches__quantity", filter=condition), 0)

    balances = {}
    for status in HELD:
        balances |= {f"{status}_quantity": held(status), f"{status}_recs": held(status, "MWh"),
                     f"{status}_wh": held(status, "Wh")}
    return Account.objects.of(organization).annotate(**balances).open_first()


def account_of(organization: Organization, account_id: int) -> Account:
    """One of the organization's accounts; another organization's is a 404."""
    return get_object_or_404(Account.objects.of(organization), pk=account_id)


def organizations_able_to_receive(organization_ids: Iterable[int]) -> set[int]:
    """Of these organizations, those that can receive certificates: the ones with an open active
    account (Account.OPEN_ACTIVE) to accept them into. The one definition of the rule, for the
    wizard, the transfer services, mass uploads and the accept page."""
    return set(Account.objects.open_active().filter(organization_id__in=list(organization_ids))
               .order_by().values_list("organization_id", flat=True).distinct())  # no join for Meta.ordering


def organization_can_receive(organization: Organization) -> bool:
    return organization.pk in organizations_able_to_receive([organization.pk])


# Step 2 of the wizard reads these on its page and again on its POST. Through the ORM the read
# cost ~1,500 Python calls, as much as the rest of the step's own work (bench/wizard_load.py and
# bench/README.md, "wizard_load"); written once here from the model's fields and OPEN_ACTIVE.
_ACCOUNT = Columns(Account, "a")
_OPEN_ACTIVE_WHERE = " AND ".join(f'a."{Account._meta.get_field(name).column}" = %s' for name in Account.OPEN_ACTIVE)
OPEN_ACTIVE_SQL = f"""SELECT {_ACCOUNT.sql} FROM {_ACCOUNT.table}
                      WHERE a.organization_id = %s AND {_OPEN_ACTIVE_WHERE} ORDER BY a.name, a.id"""


def accounts_open_active(organization: Organization) -> list[Account]:
    """The organization's open active accounts (Account.OPEN_ACTIVE), by name."""
    params = [organization.pk, *Account.OPEN_ACTIVE.values()]
    return [account for (account,) in select_models(OPEN_ACTIVE_SQL, params, _ACCOUNT)]
