"""Retiring certificates: the details each option needs, the lowest serials, finality, the emails."""

import datetime

import pytest
from django.core import mail

from certificates.models import CertificateBatch
from ledger.models import LedgerEvent
from ledger.verification import ledger_breaches
from registry.services import ServiceError
from retirements.models import REFERENCE_ALPHABET, REFERENCE_LENGTH, Retirement, RetirementOption
from retirements.services import RetirementDetails, retirement_create
from transfers.services import Destination, TransferLine, TransferRefused, transfer_create

from .conftest import ledger_state, retire
from .factories import RetirementOptionFactory

Status = CertificateBatch.Status
Option = RetirementOption

NEEDS_PERIOD = dict(name="Minnesota RES", requires_compliance_period=True, requires_beneficiary=False)
NEEDS_BENEFICIARY = dict(name="Beneficial ownership claim", type=Option.Type.BENEFICIAL_OWNERSHIP,
                         reason=Option.Reason.VOLUNTARY, state="", requires_compliance_period=False,
                         requires_beneficiary=True)
NEEDS_BOTH = dict(name="Green-e Energy certified sale", type=Option.Type.GREEN_E, reason=Option.Reason.VOLUNTARY,
                  state="", requires_compliance_period=True, requires_beneficiary=True)
NEEDS_NOTHING = dict(name="Voluntary claim", type=Option.Type.VOLUNTARY_CLAIM, reason=Option.Reason.VOLUNTARY,
                     state="", requires_compliance_period=False, requires_beneficiary=False)


@pytest.mark.parametrize("option,details,refusal", [
    (NEEDS_PERIOD, {}, "Minnesota RES needs a compliance period"),
    (NEEDS_PERIOD, {"compliance_period": 1999}, "compliance period as a year from 2000 to 2100"),
    (NEEDS_BENEFICIARY, {"compliance_period": 2024}, "Beneficial ownership claim needs the name of the beneficiary"),
    (NEEDS_BENEFICIARY, {"beneficiary": "   "}, "needs the name of the beneficiary"),
    (NEEDS_BOTH, {"beneficiary": "Twin Cities Library"}, "Green-e Energy certified sale needs a compliance period"),
    (NEEDS_BOTH, {"compliance_period": 2024}, "needs the name of the beneficiary"),
    (NEEDS_NOTHING, {"period_start": datetime.date(2024, 6, 1), "period_end": datetime.date(2024, 1, 1)},
     "must end on or after its start"),
    ({**NEEDS_NOTHING, "is_active": False}, {}, "Choose what the retirement counts toward"),
])
def test_each_option_s_required_details_are_refused_when_missing(batch, trader, org, retirement_account,
                                                                 option, details, refusal):
    before = ledger_state()
    with pytest.raises(TransferRefused, match=refusal):
        retirement_create(organization=org, user=trader, lines=[TransferLine(batch.pk, 10)],
                          account=retirement_account,
                          details=RetirementDetails(option=RetirementOptionFactory(**option), **details))
    assert ledger_state() == before


@pytest.mark.parametrize("option,details", [
    (NEEDS_PERIOD, {"compliance_period": 2024}),
    (NEEDS_BENEFICIARY, {"beneficiary": "Twin Cities Library"}),
    (NEEDS_BOTH, {"compliance_period": 2025, "beneficiary": "Twin Cities Library"}),
    (NEEDS_NOTHING, {}),
])
def test_each_option_retires_with_the_details_it_needs(batch, trader, org, retirement_account, option, details):
    transfer = retirement_create(organization=org, user=trader, lines=[TransferLine(batch.pk, 10)],
                                 account=retirement_account,
                                 details=RetirementDetails(option=RetirementOptionFactory(**option), **details))
    retirement = Retirement.objects.get(transfer=transfer)
    assert (retirement.option.name, retirement.compliance_period, retirement.beneficiary) == (
        option["name"], details.get("compliance_period"), details.get("beneficiary", ""))
    assert ledger_breaches() == []


def test_partial_retirement_takes_the_lowest_serials(batch, trader, org, retirement_account, account):
    transfer = retire(organization=org, user=trader, lines=[TransferLine(batch.pk, 250)], account=retirement_account)
    retired = transfer.items.get().batch
    stays = CertificateBatch.objects.get(parent=batch, status=Status.ACTIVE)
    assert (retired.serial_start, retired.serial_end, retired.status, retired.account_id) == (
        1, 250, Status.RETIRED, retirement_account.pk)
    assert (stays.serial_start, stays.serial_end, stays.account_id) == (251, 1000, account.pk)


def test_the_reference_is_100_random_bits_in_crockford_base32_and_unique(batch, trader, org, retirement_account):
    references = {retire(organization=org, user=trader, lines=[TransferLine(
        CertificateBatch.objects.get(certificate=batch.certificate, status=Status.ACTIVE).pk, 1)],
        account=retirement_account).retirement.reference for _ in range(5)}
    assert len(references) == 5
    assert all(len(reference) == REFERENCE_LENGTH and set(reference) <= set(REFERENCE_ALPHABET)
               for reference in references)
    assert len(REFERENCE_ALPHABET) ** REFERENCE_LENGTH >= 2 ** 100
    assert not set("ILOU") & set(REFERENCE_ALPHABET)


def test_the_ledger_event_records_the_details(batch, trader, org, retirement_account):
    transfer = retire(organization=org, user=trader, lines=[TransferLine(batch.pk, 10)], account=retirement_account,
                      beneficiary="Twin Cities Library")
    event = LedgerEvent.objects.get(transfer=transfer, kind=LedgerEvent.Kind.RETIREMENT)
    assert event.after["retirement"] == {
        "reference": transfer.retirement.reference, "option": "Minnesota RES", "compliance_period": 2024,
        "period_start": None, "period_end": None, "beneficiary": "Twin Cities Library"}


@pytest.mark.parametrize("next_move", ["transfer", "retire"])
def test_a_retired_batch_never_moves_again(batch, trader, org, retirement_account, second_account, next_move):
    retired = retire(organization=org, user=trader, lines=[TransferLine(batch.pk, 1000)],
                     account=retirement_account).items.get().batch
    before = ledger_state()
    with pytest.raises(TransferRefused, match="is retired; only active certificates"):
        if next_move == "transfer":
            transfer_create(organization=org, user=trader, lines=[TransferLine(retired.pk, 10)],
                            destination=Destination.internal(second_account))
        else:
            retire(organization=org, user=trader, lines=[TransferLine(retired.pk, 10)], account=retirement_account)
    assert ledger_state() == before


def test_a_viewer_cannot_retire(batch, viewer, org, retirement_account):
    before = ledger_state()
    with pytest.raises(ServiceError, match="You are not allowed to transfer for Prairie Wind Energy"):
        retire(organization=org, user=viewer, lines=[TransferLine(batch.pk, 10)], account=retirement_account)
    assert ledger_state() == before


def test_only_an_open_retirement_account_of_one_s_own_takes_a_retirement(batch, trader, org, second_account):
    with pytest.raises(TransferRefused, match="is not an open retirement account"):
        retire(organization=org, user=trader, lines=[TransferLine(batch.pk, 10)], account=second_account)


def test_the_managers_hear_of_each_retirement(batch, trader, manager, viewer, org, retirement_account,
                                              django_capture_on_commit_callbacks):
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        transfer = retire(organization=org, user=trader, lines=[TransferLine(batch.pk, 10)], account=retirement_account)
    reference = transfer.retirement.reference
    recipients = sorted(address for message in mail.outbox for address in message.to)
    assert recipients == [manager.email, trader.email]
    assert all(f"retirement {reference}" in message.subject for message in mail.outbox)
    assert all("Counts toward: Minnesota RES (State RPS, compliance, MN)" in message.body for message in mail.outbox)


def test_verify_ledger_finds_a_retirement_without_its_details_or_the_database_s_guard(
        batch, trader, org, retirement_account):
    from django.db import connection

    from transfers.models import Transfer

    bare = Transfer.objects.create(organization=org, created_by=trader, kind="retirement", status="complete",
                                   destination_account=retirement_account)
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # no deferred checks pending: the table can be altered
        cursor.execute("ALTER TABLE certificates_certificatebatch DISABLE TRIGGER batch_retired_final")
    breaches = ledger_breaches()
    assert f"a retirement must hold only retired batches in a retirement account, and have its details: " \
           f"retirement {bare.pk} has no details" in breaches
    assert "the database must refuse any change to a retired batch: trigger batch_retired_final is missing or " \
           "disabled" in breaches


@pytest.mark.parametrize("change", [{"beneficiary": "Someone Else"}, {"compliance_period": 2030},
                                    {"reference": "0" * REFERENCE_LENGTH}])
def test_the_database_refuses_to_change_or_delete_a_retirement_s_details(batch, trader, org, retirement_account,
                                                                         change):
    from django.db import transaction
    from django.db.utils import DatabaseError

    retirement = retire(organization=org, user=trader, lines=[TransferLine(batch.pk, 10)],
                        account=retirement_account).retirement
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        Retirement.objects.filter(pk=retirement.pk).update(**change)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        Retirement.objects.filter(pk=retirement.pk).delete()
    Retirement.objects.filter(pk=retirement.pk).update(is_private=True)  # the one thing that may change
    assert Retirement.objects.get(pk=retirement.pk).is_private
