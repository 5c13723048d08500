"""Standing instructions under real parallel PostgreSQL connections."""

from decimal import Decimal

import pytest
from django.db import transaction

from accounts.services import account_close
from certificates.models import CertificateBatch
from certificates.periods import ProductionPeriod
from certificates.services import certificate_write
from instructions.models import InstructionDestination, StandingInstruction
from instructions.services import DestinationChoice, instruction_create, instructions_run
from ledger.verification import ledger_breaches
from retirements.services import RetirementDetails

from .factories import RetirementOptionFactory
from .test_concurrency import WORKERS, race

pytestmark = pytest.mark.django_db(transaction=True)
JAN_2026 = ProductionPeriod.month(2026, 1)


def own(account):
    return DestinationChoice(kind=InstructionDestination.Kind.OWN_ACCOUNT, account=account)


def test_parallel_instructions_never_take_more_than_100_percent(org, trader, generator, second_account):
    outcomes = race(*[
        (lambda: instruction_create(organization=org, user=trader, generator=generator, from_vintage=JAN_2026,
                                    percentage=Decimal(40), destinations=[own(second_account)]))
        for _ in range(WORKERS)])
    assert [kind for kind, _ in outcomes].count("ok") == 2, outcomes
    assert all("they would take 120%" in message for kind, message in outcomes if kind == "refused"), outcomes
    assert StandingInstruction.objects.count() == 2


def test_an_issuance_s_run_racing_the_close_of_its_destination(org, trader, manager, staff, generator, account,
                                                                second_account, retirement_account):
    """Either the close comes first (the run falls back to the retirement) or the run does (the
    account then holds certificates and cannot close); never certificates in a closed account."""
    instruction_create(organization=org, user=trader, generator=generator, from_vintage=JAN_2026,
                       percentage=Decimal(30), destinations=[own(second_account), DestinationChoice(
                           kind="retirement", account=retirement_account,
                           retirement=RetirementDetails(option=RetirementOptionFactory()))])

    def issue_and_run():
        with transaction.atomic(durable=True):
            certificate = certificate_write(user=staff, generator=generator, period=JAN_2026, quantity=100,
                                            account=account)
            return instructions_run(certificate=certificate)[0].destination.priority

    outcomes = race(issue_and_run, lambda: account_close(user=manager, organization=org, account=second_account))
    second_account.refresh_from_db()
    held = {(b.account_id, b.status): b.quantity for b in CertificateBatch.objects.live()}
    if second_account.status == "closed":
        assert outcomes[0] == ("ok", 2), outcomes
        assert held == {(retirement_account.pk, "retired"): 30, (account.pk, "active"): 70}
    else:
        assert outcomes[0] == ("ok", 1) and outcomes[1][0] == "refused", outcomes
        assert held == {(second_account.pk, "active"): 30, (account.pk, "active"): 70}
    assert ledger_breaches() == []
