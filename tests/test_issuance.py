
import pytest
from django.db import transaction

from accounts.models import Account
from certificates.models import Certificate
from certificates.periods import ProductionPeriod
from certificates.services import IssueLine, certificate_issue, certificates_write
from ledger.models import LedgerEvent
from ledger.verification import ledger_breaches
from registry.services import ServiceError

from .factories import AccountFactory, GeneratorFactory

VINTAGE = ProductionPeriod.month(2021, 3)


def test_issuance_creates_one_batch_with_serials_1_to_n(staff, generator, account):
    certificate = certificate_issue(user=staff, generator=generator, period=VINTAGE, quantity=1500,
                                    account=account)
    assert certificate.serial_base.startswith("M805-MN-03-2021-")
    batch = certificate.batches.get()
    assert (batch.serial_start, batch.serial_end, batch.quantity, batch.account) == (1, 1500, 1500, account)
    assert batch.serial_number == f"{certificate.serial_base}-1 to 1500"
    event = LedgerEvent.objects.get(kind=LedgerEvent.Kind.ISSUANCE, certificate=certificate)
    assert event.actor == staff and event.after["quantity"] == 1500


def test_second_issuance_of_the_same_vintage_is_refused(staff, generator, account):
    certificate_issue(user=staff, generator=generator, period=VINTAGE, quantity=10, account=account)
    with pytest.raises(ServiceError, match="already has certificates for 03/2021"):
        certificate_issue(user=staff, generator=generator, period=VINTAGE, quantity=10, account=account)


def test_only_staff_issue(trader, generator, account):
    with pytest.raises(ServiceError, match="registry staff"):
        certificate_issue(user=trader, generator=generator, period=VINTAGE, quantity=10, account=account)


def test_issuance_goes_to_an_open_active_account_of_the_owner(staff, generator, counterparty_account, org):
    with pytest.raises(ServiceError, match="does not belong"):
        certificate_issue(user=staff, generator=generator, period=VINTAGE, quantity=10,
                          account=counterparty_account)
    frozen = AccountFactory(organization=org, status=Account.Status.FROZEN)
    with pytest.raises(ServiceError, match="not an open active account"):
        certificate_issue(user=staff, generator=generator, period=VINTAGE, quantity=10, account=frozen)


def test_many_issuances_are_written_in_one_statement_with_their_eligibilities_exact(staff, org, account):
    eligibilities = ['Say "yes"', "back\\slash", "a, b", "NULL", "{braces}", "Green-e"]
    generators = [GeneratorFactory(organization=org, eligibilities=eligibilities) for _ in range(25)]

    with transaction.atomic():
        certificates = certificates_write(user=staff, lines=[IssueLine(generator, VINTAGE, 10 + index, account)
                                                             for index, generator in enumerate(generators)])

    assert [c.quantity for c in Certificate.objects.filter(pk__in=[c.pk for c in certificates]).order_by("pk")] \
        == list(range(10, 35))
    assert all(certificate.eligibilities == eligibilities for certificate in Certificate.objects.all())
    assert ledger_breaches() == []
