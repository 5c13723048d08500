"""Imports by conversion (#32 item 1): staff record certificates another tracking system retired for
this registry; the recipient accepts them into an active account or rejects them (voided, staff told
to return them); the same source serials never come in twice."""

import datetime
import decimal

import pytest
from django.core import mail
from django.db import IntegrityError, transaction

from certificates.models import Certificate, CertificateBatch, Generator
from certificates.periods import ProductionPeriod
from certificates.services import certificate_issue
from events.models import Event
from imports.models import Import
from imports.services import ImportRefused, import_record
from imports.values import ImportDetails
from ledger.models import LedgerEvent
from ledger.verification import ledger_breaches
from registry.models import TrackingSystem
from registry.services import ServiceError
from transfers.models import Transfer
from transfers.services import TransferRefused, transfer_accept, transfer_reject, transfer_withdraw

from .conftest import ledger_state

JANUARY = ProductionPeriod.month(2024, 1)


def details(tracking_system, recipient, *, serial="MIRECS-123-MI-01-2024-77-1 to 100", quantity=100, **changes):
    fields = dict(tracking_system=tracking_system, original_serial=serial, generator_id="123",
                  generator_name="Thumb Wind", fuel="wind", technology="onshore_wind", state="MI",
                  capacity_mw=decimal.Decimal("99.5"), period=JANUARY, quantity=quantity, recipient=recipient,
                  eligibilities=["MI RPS", "Green-e"], notes="Retired in M-RETS for Lakeshore")
    fields.update(changes)
    return ImportDetails(**fields)


@pytest.fixture
def imported(staff, tracking_system, counterparty):
    return import_record(user=staff, details=details(tracking_system, counterparty))


def test_an_import_makes_a_pending_certificate_for_the_recipient_with_its_origin(imported, tracking_system,
                                                                                 counterparty):
    certificate = imported.certificate
    assert certificate.serial_base.startswith(f"{tracking_system.code}-123-MI-01-2024-")
    assert certificate.original_serial == "MIRECS-123-MI-01-2024-77-1 to 100"
    assert certificate.imported_from == tracking_system and certificate.quantity == 100
    assert certificate.eligibilities == ["MI RPS", "Green-e"] and certificate.period == JANUARY
    assert certificate.origin_text == f"Imported from {tracking_system.name}, serial MIRECS-123-MI-01-2024-77-1 to 100"
    batch = certificate.batches.get()
    assert (batch.serial_start, batch.serial_end, batch.status) == (1, 100, CertificateBatch.Status.PENDING)
    transfer = imported.transfer
    assert (transfer.kind, transfer.status, transfer.recipient_organization) == ("import", "pending", counterparty)
    assert transfer.counterparty_label(counterparty) == f"Imported from {tracking_system.name}"
    assert Event.objects.filter(kind=Event.Kind.IMPORT_RECORDED, subject_id=transfer.pk,
                                other_organization_id=counterparty.pk).exists()
    assert LedgerEvent.objects.filter(kind=LedgerEvent.Kind.IMPORT_RECORDED, batch=batch, transfer=transfer).exists()
    assert ledger_breaches() == []


def test_the_generator_is_an_import_generator_matched_on_the_next_import(imported, staff, tracking_system,
                                                                         counterparty):
    generator = imported.generator
    assert (generator.imported_from, generator.source_code, generator.status) == (tracking_system, "123", "approved")
    assert generator.organization != counterparty and generator.fuel_type == "wind" and generator.state == "MI"
    second = import_record(user=staff, details=details(tracking_system, counterparty,
                                                       serial="MIRECS-123-MI-01-2024-77-101 to 150", quantity=50))
    assert second.generator == generator
    assert Generator.objects.filter(imported_from=tracking_system).count() == 1
    assert ledger_breaches() == []


def test_the_issuance_services_refuse_an_import_generator(imported, staff):
    with pytest.raises(ServiceError, match="is an import generator"):
        certificate_issue(user=staff, generator=imported.generator, period=ProductionPeriod.month(2024, 2),
                          quantity=10, account=imported.transfer.organization.accounts.get())


@pytest.mark.parametrize("serial", ["MIRECS-123-MI-01-2024-77-1 to 100", "MIRECS-123-MI-01-2024-77-50 to 149",
                                    "MIRECS-123-MI-01-2024-77-100 to 100"])
def test_the_same_source_serials_are_never_imported_twice(imported, staff, tracking_system, counterparty, serial):
    before = ledger_state()
    start, end = (int(n) for n in serial.rsplit("-", 1)[1].split(" to "))
    with pytest.raises(ImportRefused, match=f"overlap import {imported.pk} "):
        import_record(user=staff, details=details(tracking_system, counterparty, serial=serial,
                                                  quantity=end - start + 1))
    assert ledger_state() == before and Certificate.objects.count() == 1


def test_the_database_refuses_overlapping_source_serials_whatever_the_service_checks(imported, staff,
                                                                                      tracking_system, counterparty):
    other = import_record(user=staff, details=details(tracking_system, counterparty,
                                                      serial="MIRECS-999-MI-01-2024-1-1 to 100"))
    with pytest.raises(IntegrityError, match="import_serials_once_per_source"), transaction.atomic():
        Import.objects.filter(pk=other.pk).update(original_serial_base=imported.original_serial_base,
                                                  original_start=100, original_end=199)


def test_other_serials_or_another_source_import_side_by_side(imported, staff, tracking_system, counterparty):
    other_system = TrackingSystem.objects.create(code="NAR", name="North American Renewables Registry")
    import_record(user=staff, details=details(tracking_system, counterparty, serial="MIRECS-999-MI-01-2024-1-1 to 100"))
    import_record(user=staff, details=details(other_system, counterparty))
    assert Import.objects.count() == 3 and ledger_breaches() == []


@pytest.mark.parametrize(("changes", "field", "message"), [
    ({"original_serial": "not a serial"}, "original_serial", "Give the serial number as the source wrote it"),
    ({"quantity": 99}, "quantity", "The original serials hold 100 certificates, not 99."),
    ({"fuel": "coal"}, "fuel", "Choose the fuel"),
    ({"technology": "solar_pv"}, "technology", "A wind generator's technology is one of"),
    ({"state": "ZZ"}, "state", "two-letter postal code"),
    ({"period": None}, "period", "Enter a month as MM/YYYY"),
    ({"generator_id": "a b"}, "generator_id", "A generator ID is at most"),
])
def test_bad_details_are_refused_plainly_and_change_nothing(staff, tracking_system, counterparty, changes, field,
                                                            message):
    before = ledger_state()
    with pytest.raises(ImportRefused, match=message) as refused:
        import_record(user=staff, details=details(tracking_system, counterparty, **changes))
    assert field in refused.value.problems and ledger_state() == before


def test_a_recipient_that_cannot_receive_is_refused(staff, tracking_system, newcomer):
    with pytest.raises(ImportRefused, match=f"{newcomer.public_id} has no account that can receive"):
        import_record(user=staff, details=details(tracking_system, newcomer))


def test_only_registry_staff_record_imports(counterparty_trader, tracking_system, counterparty):
    with pytest.raises(ServiceError):
        import_record(user=counterparty_trader, details=details(tracking_system, counterparty))


def test_the_recipient_accepts_into_an_active_account(imported, counterparty_trader, counterparty,
                                                      counterparty_account):
    transfer_accept(transfer=imported.transfer, user=counterparty_trader, organization=counterparty,
                    account=counterparty_account)
    batch = imported.certificate.batches.get()
    assert (batch.status, batch.account) == (CertificateBatch.Status.ACTIVE, counterparty_account)
    assert Transfer.objects.get(pk=imported.transfer.pk).status == Transfer.Status.COMPLETE
    assert Event.objects.filter(kind=Event.Kind.IMPORT_ACCEPTED, subject_id=imported.transfer.pk).exists()
    assert not Event.objects.filter(kind=Event.Kind.TRANSFER_ACCEPTED).exists()
    assert ledger_breaches() == []


def test_the_recipient_accepts_only_into_an_account_that_can_receive(imported, counterparty_trader, counterparty,
                                                                     staff):
    from .factories import AccountFactory
    retirement = AccountFactory(organization=counterparty, type="retirement")
    before = ledger_state()
    with pytest.raises(TransferRefused, match="is not an open active account"):
        transfer_accept(transfer=imported.transfer, user=counterparty_trader, organization=counterparty,
                        account=retirement)
    assert ledger_state() == before


def test_a_rejected_import_is_voided_and_staff_are_told_to_return_it(imported, counterparty_trader, counterparty):
    transfer_reject(transfer=imported.transfer, user=counterparty_trader, organization=counterparty,
                    note="Not ours")
    batch = imported.certificate.batches.get()
    assert batch.status == CertificateBatch.Status.VOIDED
    assert LedgerEvent.objects.filter(kind=LedgerEvent.Kind.BATCH_VOIDED, batch=batch).exists()
    assert Event.objects.filter(kind=Event.Kind.IMPORT_REJECTED, subject_id=imported.transfer.pk).exists()
    assert ledger_breaches() == []


def test_nobody_withdraws_an_import(imported, counterparty_trader, counterparty):
    with pytest.raises(TransferRefused, match="An import is not withdrawn here"):
        transfer_withdraw(transfer=imported.transfer, user=counterparty_trader, organization=counterparty)


def test_another_organization_cannot_decide_an_import(imported, trader, org, account):
    with pytest.raises(TransferRefused):
        transfer_accept(transfer=imported.transfer, user=trader, organization=org, account=account)


def test_an_import_never_expires(imported, counterparty):
    from transfers.services import transfers_expire
    assert transfers_expire(now=imported.transfer.submitted_at + datetime.timedelta(days=3650)) == 0
    assert Transfer.objects.get(pk=imported.transfer.pk).status == Transfer.Status.PENDING


# --- the recipient's decision, at once from two places ---------------------------------------------

@pytest.mark.django_db(transaction=True)
def test_accept_and_reject_at_once_make_one_decision(staff, tracking_system, counterparty, counterparty_trader,
                                                     counterparty_account):
    from .factories import member
    other_trader = member(counterparty, "trader", email="second@lakeshore.example")
    record = import_record(user=staff, details=details(tracking_system, counterparty))
    calls = iter([
        lambda: transfer_accept(transfer=record.transfer, user=counterparty_trader, organization=counterparty,
                                account=counterparty_account),
        lambda: transfer_reject(transfer=record.transfer, user=other_trader, organization=counterparty),
    ])
    outcomes = []

    def decide():
        call = next(calls)
        try:
            return call().status
        except TransferRefused as refusal:
            return f"refused: {refusal}"
    from .threads import at_once
    outcomes = at_once(decide)
    decided = [outcome for outcome in outcomes if not outcome.startswith("refused")]
    assert len(decided) == 1, outcomes
    batch = CertificateBatch.objects.get(certificate=record.certificate)
    status = Transfer.objects.get(pk=record.transfer.pk).status
    assert (status, batch.status) in [("complete", "active"), ("rejected", "voided")]
    assert Event.objects.filter(subject_id=record.transfer.pk, kind__in=[Event.Kind.IMPORT_ACCEPTED,
                                                                         Event.Kind.IMPORT_REJECTED]).count() == 1
    assert ledger_breaches() == []


# --- what people are told -------------------------------------------------------------------------

def test_the_recipient_is_emailed_and_staff_are_told_to_return_a_rejected_import(
        imported, counterparty_trader, counterparty, staff, no_wakeups):
    from events.services import events_consume
    events_consume(consumer="emails")
    received = [message for message in mail.outbox if counterparty_trader.email in message.to]
    assert received and "certificates from another tracking system are waiting for you" in received[0].subject
    assert imported.certificate.origin_text in received[0].body
    mail.outbox.clear()
    transfer_reject(transfer=imported.transfer, user=counterparty_trader, organization=counterparty, note="Not ours")
    events_consume(consumer="emails")
    to_staff = [message for message in mail.outbox if staff.email in message.to]
    assert to_staff and "return its certificates to the source" in to_staff[0].subject
    assert f"return them to {imported.tracking_system.name}" in to_staff[0].body


def test_the_activity_log_words_the_import_by_origin(imported, counterparty):
    from registry.activity import event_sentence
    from registry.selectors import activity_of
    sentences = [event_sentence(event, counterparty) for event in activity_of(counterparty)]
    assert any(f"from {imported.tracking_system.name}, serial {imported.original_serial} there" in sentence
               for sentence in sentences), sentences


def test_verify_ledger_finds_an_imported_certificate_its_import_does_not_record(imported):
    from django.db import connection
    with connection.cursor() as cursor:
        cursor.execute("UPDATE imports_import SET original_end = original_end + 1 WHERE id = %s", [imported.pk])
    breaches = ledger_breaches()
    assert any(f"certificate {imported.certificate.serial_base} is imported but no import records it" in breach
               for breach in breaches), breaches


def test_verify_ledger_wants_the_import_event_of_an_imported_batch(imported):
    from django.db import connection
    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")  # past the append-only trigger
        cursor.execute("UPDATE ledger_ledgerevent SET batch_id = NULL WHERE kind = 'import_recorded'")
        cursor.execute("SET session_replication_role = origin")
    batch = imported.certificate.batches.get()
    assert f"batch {batch.pk} has no import_recorded event" in " ".join(ledger_breaches())
