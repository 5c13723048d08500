"""Staff issue the reported months: issuance_run, its arithmetic in the ledger, once per month."""

import datetime
from decimal import Decimal

import pytest
from django.db import IntegrityError

from certificates.models import Certificate, CertificateBatch, Generator
from certificates.periods import ProductionPeriod
from certificates.services import certificate_issue
from issuance.models import GenerationReport, Issuance
from issuance.services import issuance_run
from ledger.models import LedgerEvent
from ledger.verification import ledger_breaches
from registry.services import ServiceError

from .factories import AccountFactory, GeneratorFactory
from .generation import last_month, report
from .test_concurrency import race

MONTHS = [last_month(3), last_month(2), last_month(1)]


@pytest.fixture
def approved(generator, account):
    generator.account = account
    generator.save(update_fields=["account"])
    return generator


def test_a_month_is_issued_into_the_generators_account_with_a_ledger_event(approved, account, staff, trader):
    submitted = report(approved, MONTHS[0], "1250.400", trader)

    run = issuance_run(user=staff, reports=[submitted])

    issuance = Issuance.objects.get()
    assert run.issued == [issuance] and run.skipped == []
    assert (issuance.quantity, issuance.carry_in, issuance.carry_out) == (1250, Decimal(0), Decimal("0.4"))
    batch = CertificateBatch.objects.get(certificate=issuance.certificate)
    assert (batch.account, batch.serial_start, batch.serial_end, batch.status) == (account, 1, 1250, "active")
    assert issuance.certificate.period == ProductionPeriod.month_of(MONTHS[0])
    assert LedgerEvent.objects.get(kind=LedgerEvent.Kind.ISSUANCE).batch_id == batch.pk
    submitted.refresh_from_db()
    assert submitted.status == GenerationReport.Status.ISSUED
    assert ledger_breaches() == []


def test_fractions_carry_from_month_to_month_in_one_run_and_across_runs(approved, staff, trader):
    first, second, third = (report(approved, month, "100.4", trader) for month in MONTHS)

    issuance_run(user=staff, reports=[third, first])  # order of selection does not matter
    issuance_run(user=staff, reports=[second])

    # The second run's month is earlier than the third's, already issued: refused, not issued out of order.
    issued = {i.month: (i.quantity, i.carry_out) for i in Issuance.objects.all()}
    assert issued == {MONTHS[0]: (100, Decimal("0.4")), MONTHS[2]: (100, Decimal("0.8"))}

    approved2 = GeneratorFactory(organization=approved.organization, code="M806", account=approved.account)
    reports = [report(approved2, month, "100.4", trader) for month in MONTHS]
    issuance_run(user=staff, reports=reports)
    assert [i.quantity for i in Issuance.objects.filter(generator=approved2).order_by("month")] == [100, 100, 101]
    assert Issuance.objects.filter(generator=approved2).order_by("month").last().carry_out == Decimal("0.2")


def test_a_month_out_of_order_is_left_submitted_with_the_reason(approved, staff, trader):
    later, earlier = report(approved, MONTHS[1], "10", trader), report(approved, MONTHS[0], "10", trader)
    issuance_run(user=staff, reports=[later])

    run = issuance_run(user=staff, reports=[earlier])

    assert run.issued == []
    assert "months are issued in order" in run.skipped[0][1]
    earlier.refresh_from_db()
    assert earlier.status == GenerationReport.Status.SUBMITTED


def test_under_one_mwh_issues_nothing_records_the_carry_and_writes_no_certificate(approved, staff, trader):
    tiny, rest = report(approved, MONTHS[0], "0.700", trader), report(approved, MONTHS[1], "0.300", trader)

    issuance_run(user=staff, reports=[tiny])
    assert Certificate.objects.count() == 0
    assert Issuance.objects.get().quantity == 0 and Issuance.objects.get().carry_out == Decimal("0.7")

    issuance_run(user=staff, reports=[rest])
    assert Issuance.objects.get(month=MONTHS[1]).quantity == 1
    assert Certificate.objects.get().quantity == 1
    assert ledger_breaches() == []


def test_a_report_issued_once_is_not_issued_again(approved, staff, trader):
    submitted = report(approved, MONTHS[0], "10", trader)
    issuance_run(user=staff, reports=[submitted])

    run = issuance_run(user=staff, reports=[submitted])

    assert run.issued == [] and "is issued already" in run.skipped[0][1]
    assert Issuance.objects.count() == 1 and Certificate.objects.count() == 1


@pytest.mark.parametrize("change, reason", [
    ({"status": Generator.Status.RETURNED}, "is not approved"),
    ({"account": None}, "has no issuance account"),
])
def test_a_generator_that_cannot_be_issued_is_left_the_others_go_ahead(approved, account, staff, trader, change,
                                                                         reason):
    other = GeneratorFactory(organization=approved.organization, code="M900", account=account)
    blocked, fine = report(approved, MONTHS[0], "10", trader), report(other, MONTHS[0], "20", trader)
    Generator.objects.filter(pk=approved.pk).update(**change)

    run = issuance_run(user=staff, reports=[blocked, fine])

    assert [i.generator for i in run.issued] == [other]
    assert reason in run.skipped[0][1]
    assert Issuance.objects.filter(generator=approved).count() == 0


def test_a_frozen_issuance_account_leaves_the_month_submitted(approved, account, staff, trader):
    account.status = "frozen"
    account.save(update_fields=["status"])
    submitted = report(approved, MONTHS[0], "10", trader)

    run = issuance_run(user=staff, reports=[submitted])

    assert run.issued == [] and "is not an open active account" in run.skipped[0][1]


def test_a_month_issued_by_hand_already_is_left(approved, account, staff, trader):
    certificate_issue(user=staff, generator=approved, period=ProductionPeriod.month_of(MONTHS[0]), quantity=5,
                      account=account)

    run = issuance_run(user=staff, reports=[report(approved, MONTHS[0], "10", trader)])

    assert run.issued == [] and "by hand" in run.skipped[0][1]


def test_only_staff_run_an_issuance(approved, trader):
    with pytest.raises(ServiceError):
        issuance_run(user=trader, reports=[report(approved, MONTHS[0], "10", trader)])
    assert Issuance.objects.count() == 0


def test_the_database_refuses_a_second_issuance_of_a_month(approved, staff, trader):
    first = report(approved, MONTHS[0], "10", trader)
    issuance_run(user=staff, reports=[first])
    first.status = GenerationReport.Status.REPLACED
    first.save(update_fields=["status"])
    second = report(approved, MONTHS[0], "10", trader)
    with pytest.raises(IntegrityError):
        Issuance.objects.create(generator=approved, month=MONTHS[0], report=second, mwh=Decimal(10),
                                carry_in=Decimal(0), carry_out=Decimal(0), quantity=10,
                                certificate=Certificate.objects.get(), issued_by=staff)


@pytest.mark.django_db(transaction=True)
def test_two_staff_confirming_at_once_issue_each_month_once(org, staff, trader):
    account = AccountFactory(organization=org)
    generators = [GeneratorFactory(organization=org, account=account) for _ in range(6)]
    reports = [report(generator, month, "100.5", trader) for generator in generators for month in MONTHS[:2]]
    other_staff = type(staff).objects.create(email="staff2@registry.example", is_staff=True)

    outcomes = race(lambda: issuance_run(user=staff, reports=reports),
                    lambda: issuance_run(user=other_staff, reports=list(reversed(reports))))

    assert [kind for kind, _ in outcomes] == ["ok", "ok"], outcomes
    assert sum(len(run.issued) for _, run in outcomes) == len(reports)
    assert sum(len(run.skipped) for _, run in outcomes) == len(reports)
    assert Issuance.objects.count() == len(reports) == Certificate.objects.count()
    for generator in generators:
        assert [i.quantity for i in Issuance.objects.filter(generator=generator).order_by("month")] == [100, 101]
    assert ledger_breaches() == []


def test_the_confirm_page_shows_the_totals_and_confirming_issues(approved, trader, admin_client):
    client = admin_client
    reports = [report(approved, month, "100.4", trader) for month in MONTHS]
    url = "/admin/issuance/generationreport/"
    picked = {"action": "issue_months", "_selected_action": [r.pk for r in reports]}

    page = client.post(url, picked)
    assert page.status_code == 200 and Issuance.objects.count() == 0
    text = page.content.decode()
    assert "Certificates to issue" in text and ">301<" in text and "301.200" in text

    done = client.post(url, {**picked, "confirm": "yes"}, follow=True)
    assert "Issued 3 generator-months: 301 certificates." in done.content.decode()
    assert Issuance.objects.count() == 3


def test_the_admin_lists_reports_by_month(approved, trader, admin_client):
    client = admin_client
    report(approved, MONTHS[0], "1", trader)
    report(approved, MONTHS[1], "2", trader)
    page = client.get("/admin/issuance/generationreport/", {"month": f"{MONTHS[1]:%Y-%m-%d}"})
    assert page.status_code == 200
    assert f"{MONTHS[1]:%m/%Y}" in page.content.decode()
    assert len(page.context["cl"].result_list) == 1


def test_every_month_is_issued_from_the_ledger_vintage(approved, staff, trader):
    issuance_run(user=staff, reports=[report(approved, datetime.date(2024, 2, 1), "3", trader)])
    assert Certificate.objects.get().period == ProductionPeriod.month(2024, 2)


def test_all_the_reports_of_a_month_are_issued_from_the_lists_select_all(approved, trader, admin_client, account):
    others = [GeneratorFactory(organization=approved.organization, account=account) for _ in range(3)]
    for generator in [approved, *others]:
        report(generator, MONTHS[0], "5.5", trader)
    report(approved, MONTHS[1], "9", trader)  # another month: not in the filtered list
    url = f"/admin/issuance/generationreport/?month={MONTHS[0]:%Y-%m-%d}"
    first = GenerationReport.objects.filter(month=MONTHS[0]).first()
    picked = {"action": "issue_months", "select_across": "1", "index": "0", "_selected_action": [first.pk]}

    page = admin_client.post(url, picked)
    assert page.status_code == 200 and ">20<" in page.content.decode()  # 4 x 5 whole MWh
    confirm = {"action": "issue_months", "select_across": "1", "_selected_action": [first.pk], "confirm": "yes"}
    done = admin_client.post(url, confirm, follow=True)

    assert "Issued 4 generator-months: 20 certificates." in done.content.decode()
    assert set(Issuance.objects.values_list("month", flat=True)) == {MONTHS[0]}


def test_the_instructions_of_a_run_move_in_one_transfer_per_destination(approved, org, account, staff, trader,
                                                                         second_account):
    from instructions.models import InstructionDestination, InstructionRun
    from instructions.services import DestinationChoice, instruction_create
    from transfers.models import Transfer

    other = GeneratorFactory(organization=org, code="M880", fuel_type=approved.fuel_type, account=account)
    instructions = [instruction_create(
        organization=org, user=trader, generator=generator, from_vintage=ProductionPeriod.month_of(MONTHS[0]),
        percentage=Decimal(60),
        destinations=[DestinationChoice(kind=InstructionDestination.Kind.OWN_ACCOUNT, account=second_account)])
        for generator in (approved, other)]
    run = issuance_run(user=staff, reports=[report(approved, MONTHS[0], "1000", trader),
                                            report(other, MONTHS[0], "501.5", trader)])

    transfer = Transfer.objects.get()  # one for both generators' instructions
    assert [(instruction_run.instruction, instruction_run.destination.instruction_id, instruction_run.quantity_moved,
             instruction_run.transfer) for instruction_run in run.runs] == [
        (instructions[0], instructions[0].pk, 600, transfer), (instructions[1], instructions[1].pk, 300, transfer)]
    month = f"{MONTHS[0]:%m/%Y}"
    assert transfer.notes == (f"Standing transfer from {approved.name} ({approved.code}), {month}; "
                              f"{other.name} ({other.code}), {month} "
                              f"(standing instructions {instructions[0].pk}, {instructions[1].pk})")
    assert transfer.items.count() == 2 and InstructionRun.objects.count() == 2
    assert sum(CertificateBatch.objects.filter(account=second_account).values_list("quantity", flat=True)) == 900
    assert ledger_breaches() == []
