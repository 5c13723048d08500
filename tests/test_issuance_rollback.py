"""Registry staff roll back an issuance (issue 30): only while its certificates are untouched in the
account they were issued into; the batch voided, final in the database, out of every balance; the
report submitted again, the carry as before, the month issuable again with the same result."""

import re
from decimal import Decimal

import pytest
from django.db import DatabaseError, connection, transaction

from accounts.selectors import accounts_with_balances
from certificates.models import Certificate, CertificateBatch
from certificates.periods import ProductionPeriod
from events.models import Event
from instructions.models import InstructionDestination
from instructions.services import DestinationChoice, instruction_create
from issuance.corrections import issuance_rollback, issuance_rollback_plan
from issuance.models import GenerationReport, Issuance
from issuance.services import issuance_run
from ledger.models import LedgerEvent
from ledger.verification import ledger_breaches
from registry.services import ServiceError
from transfers.services import TransferLine, export_confirm, transfer_accept, transfer_create, transfer_reject
from transfers.values import Destination

from .conftest import ledger_state, retire, send
from .generation import last_month, report
from .test_concurrency import race

MONTHS = [last_month(3), last_month(2), last_month(1)]
REASON = "Meter M-17 read 10x high in this month (utility's letter of 3 Dec)."


@pytest.fixture
def approved(generator, account):
    generator.account = account
    generator.save(update_fields=["account"])
    return generator


@pytest.fixture
def issued(approved, staff, trader):
    """issued(mwh, month index) -> the Issuance of that month of `approved` (issued by staff)."""
    def _issued(mwh="1250.400", month=0):
        run = issuance_run(user=staff, reports=[report(approved, MONTHS[month], mwh, trader)])
        assert run.skipped == []
        return run.issued[0]
    return _issued


def batch_of(issuance: Issuance) -> CertificateBatch:
    return CertificateBatch.objects.get(certificate_id=issuance.certificate_id, parent__isnull=True)


def held(account) -> tuple[int, int, int]:
    """The account's active, pending and retired quantities, as the Accounts page shows them."""
    row = accounts_with_balances(account.organization).get(pk=account.pk)
    return row.active_quantity, row.pending_quantity, row.retired_quantity


def test_a_rollback_voids_the_batch_resubmits_the_report_and_undoes_the_carry(issued, staff, approved, account):
    first = issued("100.4", 0)
    before = held(account)
    second = issued("1250.400", 1)  # carries in 0.4, issues 1250, carries out 0.8
    batch = batch_of(second)
    assert (second.carry_in, second.quantity, second.carry_out) == (Decimal("0.4"), 1250, Decimal("0.8"))

    issuance_rollback(user=staff, issuance=second, reason=REASON)

    batch.refresh_from_db()
    second.refresh_from_db()
    assert batch.status == CertificateBatch.Status.VOIDED and batch.account_id == account.pk
    assert Certificate.objects.get(pk=second.certificate_id).voided_at is not None
    assert second.rolled_back_at and second.rolled_back_by == staff and second.rollback_reason == REASON
    assert GenerationReport.objects.get(pk=second.report_id).status == GenerationReport.Status.SUBMITTED
    # The generator's carry is the first month's again, and only its certificates count.
    assert list(Issuance.objects.in_force().filter(generator=approved)) == [first]
    assert CertificateBatch.objects.live().filter(account=account).count() == 1
    assert held(account) == before == (100, 0, 0)
    rolled = LedgerEvent.objects.get(kind=LedgerEvent.Kind.ISSUANCE_ROLLED_BACK)
    assert (rolled.actor, rolled.note, rolled.batch_id) == (staff, REASON, batch.pk)
    assert rolled.before["carry"] == "0.800" and rolled.after["carry"] == "0.400"
    assert rolled.before["report_status"] == "issued" and rolled.after["report_status"] == "submitted"
    voided = LedgerEvent.objects.get(kind=LedgerEvent.Kind.BATCH_VOIDED)
    assert (voided.batch_id, voided.before["status"], voided.after["status"]) == (batch.pk, "active", "voided")
    event = Event.objects.get(kind=Event.Kind.ISSUANCE_ROLLED_BACK)
    assert event.subject_id == second.pk and event.organization_id == approved.organization_id
    assert event.data == {"quantity": 1250, "generator": approved.code, "month": MONTHS[1].isoformat(),
                          "batch_ids": [batch.pk], "reason": REASON}
    assert not Event.objects.filter(kind=Event.Kind.CERTIFICATES_VOIDED).exists()  # counted once, as the rollback
    assert ledger_breaches() == []


def test_the_voided_certificates_leave_the_dashboard(issued, staff, trader, client):
    issuance = issued()
    client.force_login(trader)
    assert issuance.serial_range in client.get("/certificates/").content.decode()

    issuance_rollback(user=staff, issuance=issuance, reason=REASON)

    page = client.get("/certificates/").content.decode()
    assert issuance.certificate.serial_base not in page


def test_the_month_issues_again_exactly_as_before(issued, staff, approved, account, trader):
    issued("100.4", 0)
    second = issued("1250.400", 1)
    issuance_rollback(user=staff, issuance=second, reason=REASON)

    again = issuance_run(user=staff, reports=[GenerationReport.objects.get(pk=second.report_id)]).issued
    assert [(i.carry_in, i.quantity, i.carry_out) for i in again] == [(Decimal("0.4"), 1250, Decimal("0.8"))]
    assert again[0].certificate_id != second.certificate_id
    assert batch_of(again[0]).status == CertificateBatch.Status.ACTIVE
    assert ledger_breaches() == []


def test_a_month_that_issued_nothing_rolls_back_its_report_and_carry(issued, staff, approved):
    tiny = issued("0.700", 0)
    assert tiny.certificate_id is None

    issuance_rollback(user=staff, issuance=tiny, reason=REASON)

    assert not Issuance.objects.in_force().exists()
    assert Event.objects.get(kind=Event.Kind.ISSUANCE_ROLLED_BACK).data["batch_ids"] == []
    assert ledger_breaches() == []


def test_only_the_generators_latest_issuance_rolls_back(issued, staff):
    first, second = issued("100.4", 0), issued("100.4", 1)
    before = ledger_state()

    with pytest.raises(ServiceError, match=r"was issued after it, carrying in .*Roll back the later months first"):
        issuance_rollback(user=staff, issuance=first, reason=REASON)

    assert ledger_state() == before
    issuance_rollback(user=staff, issuance=second, reason=REASON)
    issuance_rollback(user=staff, issuance=first, reason=REASON)  # then the earlier one
    assert not Issuance.objects.in_force().exists() and ledger_breaches() == []


def test_a_rollback_needs_staff_and_a_reason_and_happens_once(issued, staff, trader):
    first = issued()
    with pytest.raises(ServiceError, match="Only registry staff"):
        issuance_rollback(user=trader, issuance=first, reason=REASON)
    with pytest.raises(ServiceError, match="Give the reason"):
        issuance_rollback(user=staff, issuance=first, reason="   ")
    issuance_rollback(user=staff, issuance=first, reason=REASON)
    with pytest.raises(ServiceError, match="rolled back already"):
        issuance_rollback(user=staff, issuance=first, reason=REASON)


# Each way a serial can move: (how, the refusal's words).
def pending_to_another(batch, ctx):
    return send(batch, ctx["trader"], ctx["org"], ctx["counterparty"], quantity=batch.quantity)


def accepted_by_another(batch, ctx):
    transfer = pending_to_another(batch, ctx)
    transfer_accept(transfer=transfer, user=ctx["counterparty_trader"], organization=ctx["counterparty"],
                    account=ctx["counterparty_account"])
    return transfer


def internal(batch, ctx):
    return transfer_create(organization=ctx["org"], user=ctx["trader"], lines=[TransferLine(batch.pk, batch.quantity)],
                           destination=Destination.internal(ctx["second_account"]))


def partial(batch, ctx):
    return transfer_create(organization=ctx["org"], user=ctx["trader"], lines=[TransferLine(batch.pk, 400)],
                           destination=Destination.internal(ctx["second_account"]))


def retired(batch, ctx):
    return retire(organization=ctx["org"], user=ctx["trader"], lines=[TransferLine(batch.pk, 10)],
                  account=ctx["retirement_account"])


def exported(batch, ctx):
    transfer = transfer_create(organization=ctx["org"], user=ctx["trader"],
                               lines=[TransferLine(batch.pk, batch.quantity)],
                               destination=Destination.export(ctx["tracking_system"], "Cascade Utility", "W-1"))
    export_confirm(transfer=transfer, user=ctx["staff"])
    return transfer


def accepted_and_sent_back(batch, ctx):
    accepted_by_another(batch, ctx)
    back = transfer_create(organization=ctx["counterparty"], user=ctx["counterparty_trader"],
                           lines=[TransferLine(batch.pk, batch.quantity)], destination=Destination.to_organization(
                               ctx["org"]))
    transfer_accept(transfer=back, user=ctx["trader"], organization=ctx["org"], account=ctx["account"])
    return back


MOVES = {
    "pending to another organization": (pending_to_another, r"1 to 1250 is pending in transfer {t} to Lakeshore"),
    "accepted by another organization": (accepted_by_another,
                                         r"1 to 1250 was transferred to Lakeshore.* in transfer {t}"),
    "internal transfer": (internal, r"1 to 1250 was transferred to account ACT-\d+ in transfer {t}"),
    "partial split": (partial, r"1 to 1250 was split; .*-1 to 400 was transferred to account ACT-\d+ in transfer {t}"),
    "retired": (retired, r"-1 to 10 was retired in transfer {t}"),
    "exported": (exported, r"1 to 1250 was exported to Cascade Utility at .* in transfer {t}"),
    "transferred away and back": (accepted_and_sent_back, r"1 to 1250 was transferred in transfer {t} and came back"),
}


@pytest.mark.parametrize("how", MOVES)
def test_a_rollback_is_refused_naming_what_moved(how, issued, staff, org, trader, account, second_account,
                                                  retirement_account, counterparty, counterparty_trader,
                                                  counterparty_account, tracking_system):
    ctx = locals()
    issuance = issued()
    move, words = MOVES[how]
    transfer = move(batch_of(issuance), ctx)
    before = ledger_state()

    with pytest.raises(ServiceError) as refusal:
        issuance_rollback(user=staff, issuance=issuance, reason=REASON)

    assert str(refusal.value).startswith(f"M805 {issuance.period} cannot be rolled back: ")
    assert re.search(words.format(t=transfer.pk), str(refusal.value)), str(refusal.value)
    assert "still active and whole in the account they were issued into" in str(refusal.value)
    assert issuance_rollback_plan(issuance).refusal == str(refusal.value)  # what the confirmation page shows
    assert ledger_state() == before
    assert Issuance.objects.in_force().filter(pk=issuance.pk).exists()


def test_a_standing_instruction_that_moved_the_issuance_refuses_the_rollback(
        approved, staff, org, trader, second_account):
    instruction_create(organization=org, user=trader, generator=approved, from_vintage=ProductionPeriod.month_of(
        MONTHS[0]), percentage=Decimal(100), destinations=[
        DestinationChoice(kind=InstructionDestination.Kind.OWN_ACCOUNT, account=second_account)])
    (issuance,) = issuance_run(user=staff, reports=[report(approved, MONTHS[0], "300", trader)]).issued
    assert batch_of(issuance).account_id == second_account.pk  # moved on by the instruction
    before = ledger_state()

    with pytest.raises(ServiceError, match=rf"1 to 300 was transferred to account {second_account.public_id} in "
                                           r"transfer \d+"):
        issuance_rollback(user=staff, issuance=issuance, reason=REASON)

    assert ledger_state() == before


def test_a_rejected_transfer_leaves_the_issuance_untouched_so_it_rolls_back(
        issued, staff, org, trader, counterparty, counterparty_trader):
    issuance = issued()
    transfer = send(batch_of(issuance), trader, org, counterparty, quantity=1250)
    transfer_reject(transfer=transfer, user=counterparty_trader, organization=counterparty, note="not ours")

    issuance_rollback(user=staff, issuance=issuance, reason=REASON)

    assert batch_of(issuance).status == CertificateBatch.Status.VOIDED and ledger_breaches() == []


def test_the_database_refuses_any_change_to_a_voided_batch_or_certificate(issued, staff, second_account):
    issuance = issued()
    issuance_rollback(user=staff, issuance=issuance, reason=REASON)
    batch = batch_of(issuance)
    for sql, params in [
        ("UPDATE certificates_certificatebatch SET status = 'active' WHERE id = %s", [batch.pk]),
        ("UPDATE certificates_certificatebatch SET account_id = %s WHERE id = %s", [second_account.pk, batch.pk]),
        ("UPDATE certificates_certificate SET voided_at = NULL WHERE id = %s", [issuance.certificate_id]),
        ("UPDATE certificates_certificate SET voided_at = now() WHERE id = %s", [issuance.certificate_id]),
        ("UPDATE issuance_issuance SET rolled_back_at = NULL WHERE id = %s", [issuance.pk]),
        ("DELETE FROM issuance_issuance WHERE id = %s", [issuance.pk]),
    ]:
        with pytest.raises(DatabaseError, match="not allowed"), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, params)
    assert batch_of(issuance).status == CertificateBatch.Status.VOIDED


def test_the_database_lets_a_live_certificate_change_nothing_but_its_voided_at(issued):
    issuance = issued()
    with pytest.raises(DatabaseError, match="not allowed"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE certificates_certificate SET quantity = 1, voided_at = now() WHERE id = %s",
                       [issuance.certificate_id])
    with pytest.raises(DatabaseError, match="not allowed"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE certificates_certificate SET quantity = 1 WHERE id = %s", [issuance.certificate_id])


@pytest.mark.django_db(transaction=True)
def test_a_rollback_and_a_transfer_of_the_same_issuance_at_once_exactly_one_wins(
        issued, staff, org, trader, counterparty):
    winners = set()
    for month in range(3):
        issuance = issued("1000", month)
        batch = batch_of(issuance)
        rollback, transfer = race(
            lambda issuance=issuance: issuance_rollback(user=staff, issuance=issuance, reason=REASON),
            lambda batch=batch: send(batch, trader, org, counterparty, quantity=400))
        assert sorted([rollback[0], transfer[0]]) == ["ok", "refused"], (rollback, transfer)
        if rollback[0] == "ok":
            winners.add("rollback")
            assert "is voided; only active certificates" in transfer[1]
            assert batch_of(issuance).status == CertificateBatch.Status.VOIDED
        else:
            winners.add("transfer")
            assert "was split" in rollback[1] and "is pending in transfer" in rollback[1], rollback
            assert Issuance.objects.in_force().filter(pk=issuance.pk).exists()
        assert ledger_breaches() == []
