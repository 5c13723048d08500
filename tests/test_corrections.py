"""Prior period adjustments (#30): a corrected total for an issued month is a correction request;
staff approve it (more: new certificates of the month; less: a debit paid from the next issuances, or
voided from what the owner holds) or refuse it; the identity holds in the database and the ledger."""

from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, connection, transaction

from certificates.models import CertificateBatch
from certificates.periods import ProductionPeriod
from events.models import Event
from issuance.adjustments import correction_refuse, correction_request, corrections_approve
from issuance.models import Correction, GenerationReport, GenerationUpload, Issuance
from issuance.selectors import generator_balances
from issuance.services import generation_upload_create, generation_upload_process, issuance_run
from ledger.models import LedgerEvent
from ledger.verification import ledger_breaches
from registry.services import ServiceError

from .generation import last_month, report

MONTHS = [last_month(4), last_month(3), last_month(2), last_month(1)]


@pytest.fixture
def approved(generator, account):
    generator.account = account
    generator.save(update_fields=["account"])
    return generator


@pytest.fixture
def issued(approved, staff, trader):
    """issued(mwh, month_index) -> the month's Issuance."""
    def _issued(mwh: str, index: int = 0) -> Issuance:
        issuance_run(user=staff, reports=[report(approved, MONTHS[index], mwh, trader)])
        return Issuance.objects.in_force().get(generator=approved, month=MONTHS[index])
    return _issued


def request(issuance, mwh, manager, note="The meter was read twice."):
    return correction_request(organization=issuance.generator.organization, user=manager, issuance=issuance,
                              mwh=Decimal(mwh), note=note)


def live_quantity(generator) -> int:
    return sum(CertificateBatch.objects.live().filter(certificate__generator=generator)
               .values_list("quantity", flat=True))


def test_more_generation_approved_issues_a_new_certificate_of_the_month_with_its_own_serials(
        issued, approved, manager, staff, account):
    issuance = issued("100.4")
    correction = request(issuance, "112.9", manager)
    assert (correction.mwh_before, correction.difference, correction.status) == (Decimal("100.4"), Decimal("12.5"),
                                                                                 "requested")

    decided = corrections_approve(user=staff, corrections=[correction], note="Meter statement checked.")

    correction.refresh_from_db()
    assert decided.approved == [correction] and decided.skipped == []
    # 0.4 carried + 12.5 = 12.9: 12 new certificates, 0.9 carried
    assert (correction.quantity, correction.carry_in, correction.carry_out) == (12, Decimal("0.4"), Decimal("0.9"))
    new = correction.certificate
    assert new.period == ProductionPeriod.month_of(MONTHS[0]) and new.adjustment
    assert new.serial_base != issuance.certificate.serial_base
    batch = CertificateBatch.objects.get(certificate=new)
    assert (batch.serial_start, batch.serial_end, batch.account, batch.status) == (1, 12, account, "active")
    event = LedgerEvent.objects.get(kind=LedgerEvent.Kind.ISSUANCE_ADJUSTED)
    assert (event.actor, event.before["mwh"], event.after["mwh"], event.after["issued"]) == (
        staff, "100.400", "112.900", 12)
    assert "The meter was read twice." in event.note and "Meter statement checked." in event.note
    assert Event.objects.filter(kind=Event.Kind.ISSUANCE_ADJUSTED, organization_id=approved.organization_id,
                                data={"correction_ids": [correction.pk]}).exists()
    assert generator_balances([approved.pk])[approved.pk].carry == Decimal("0.9")
    assert ledger_breaches() == []


def test_the_next_issuance_carries_on_from_the_correction(issued, approved, manager, staff):
    first = issued("100.4")
    corrections_approve(user=staff, corrections=[request(first, "101.0", manager)])  # +0.6: 1 more, carry 0
    second = issued("10.5", 1)
    assert (second.carry_in, second.quantity, second.carry_out) == (Decimal(0), 10, Decimal("0.5"))
    assert live_quantity(approved) == 100 + 1 + 10


def test_less_generation_becomes_a_debit_taken_from_the_next_issuance_before_anything_is_issued(
        issued, approved, manager, staff, trader):
    first = issued("100.2")
    correction = request(first, "94.7", manager)  # 5.5 less, 0.2 carried: a shortfall of 6, 0.7 carried

    corrections_approve(user=staff, corrections=[correction])

    correction.refresh_from_db()
    assert (correction.shortfall, correction.voided, correction.debit_out, correction.carry_out) == (
        6, 0, 6, Decimal("0.7"))
    assert correction.certificate is None and live_quantity(approved) == 100  # nothing taken back yet
    assert generator_balances([approved.pk])[approved.pk].debit == 6

    second = issued("4.0", 1)  # 4.7: 4 whole, all owed
    third = issued("10.0", 2)  # 10.7: 2 owed, 8 issued
    assert (second.debit_in, second.debit_paid, second.quantity, second.certificate) == (6, 4, 0, None)
    assert (third.debit_in, third.debit_paid, third.quantity, third.carry_out) == (2, 2, 8, Decimal("0.7"))
    # issued over time: floor(94.7 + 4 + 10) = 108 = 100 + 8
    assert live_quantity(approved) == 108
    assert generator_balances([approved.pk])[approved.pk].debit == 0
    assert ledger_breaches() == []


def test_the_issuance_preview_shows_the_debit_taken_first(issued, approved, manager, staff, trader):
    from issuance.selectors import issuance_preview

    corrections_approve(user=staff, corrections=[request(issued("100"), "97", manager)])
    report(approved, MONTHS[1], "10", trader)

    preview = issuance_preview(GenerationReport.objects.filter(status="submitted"))

    assert (preview.debit_paid, preview.certificates) == (3, 7)


def test_a_shortfall_voided_from_certificates_the_owner_holds(issued, approved, manager, staff):
    first = issued("100")
    correction = request(first, "96.5", manager)  # 3.5 less: a shortfall of 4, carry 0.5

    corrections_approve(user=staff, corrections=[correction], shortfall_by="void")

    correction.refresh_from_db()
    assert (correction.shortfall, correction.voided, correction.debit_out) == (4, 4, 0)
    assert live_quantity(approved) == 96
    voided = CertificateBatch.objects.get(certificate=first.certificate, status="voided")
    assert voided.quantity == 4
    assert generator_balances([approved.pk])[approved.pk] .debit == 0
    assert ledger_breaches() == []


def test_a_void_is_refused_when_the_owner_no_longer_holds_enough(issued, approved, manager, staff, counterparty,
                                                                  counterparty_account, trader):
    from transfers.services import transfer_create  # noqa: F401  (the move is by a transfer in the portal)

    first = issued("5")
    batch = CertificateBatch.objects.get(certificate=first.certificate)
    CertificateBatch.objects.filter(pk=batch.pk).update(status="retired")  # e.g. retired meanwhile
    correction = request(first, "2", manager)

    decided = corrections_approve(user=staff, corrections=[correction], shortfall_by="void")

    assert decided.approved == [] and "no longer holds 3" in decided.skipped[0][1]
    correction.refresh_from_db()
    assert correction.status == "requested"


def test_a_refused_correction_changes_nothing_and_says_why(issued, approved, manager, staff):
    correction = request(issued("100"), "120", manager)

    with pytest.raises(ServiceError, match="Say why"):
        correction_refuse(user=staff, correction=correction, note=" ")
    correction_refuse(user=staff, correction=correction, note="The statement is for another meter.")

    correction.refresh_from_db()
    assert (correction.status, correction.decided_by, correction.decision_note) == (
        "refused", staff, "The statement is for another meter.")
    assert live_quantity(approved) == 100
    assert LedgerEvent.objects.filter(kind=LedgerEvent.Kind.CORRECTION_REFUSED).count() == 1
    with pytest.raises(ServiceError, match="refused already"):
        correction_refuse(user=staff, correction=correction, note="again")
    assert corrections_approve(user=staff, corrections=[correction]).approved == []


@pytest.mark.parametrize(("mwh", "message"), [
    ("100", "nothing to correct"),
])
def test_bad_requests_are_refused_with_a_clear_message(issued, manager, mwh, message):
    with pytest.raises(ServiceError, match=message):
        request(issued("100"), mwh, manager)
    assert not Correction.objects.exists()


def test_only_a_manager_of_the_owner_requests_and_one_request_of_a_month_at_a_time(issued, manager, trader, outsider):
    issuance = issued("100")
    with pytest.raises(ServiceError, match="Only a manager"):
        request(issuance, "90", trader)
    with pytest.raises(ServiceError, match="Say what was wrong"):
        request(issuance, "90", manager, note="")
    request(issuance, "90", manager)
    with pytest.raises(ServiceError, match="awaiting the registry's decision"):
        request(issuance, "80", manager)
    assert Correction.objects.count() == 1


def test_the_evidence_file_is_stored_like_uploads(issued, manager, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    issuance = issued("100")
    correction = correction_request(organization=issuance.generator.organization, user=manager, issuance=issuance,
                                    mwh=Decimal("90"), note="Settlement statement attached.",
                                    evidence=SimpleUploadedFile("statement.pdf", b"%PDF-1.4 evidence"))
    assert correction.evidence_name == "statement.pdf"
    assert correction.evidence.name.startswith(f"correction-evidence/{issuance.generator.organization_id}/")
    assert correction.evidence.read() == b"%PDF-1.4 evidence"


def test_a_corrected_upload_of_an_issued_month_is_a_correction_request_not_an_error(
        issued, approved, trader, org, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    issued("100.000")
    month = ProductionPeriod.month_of(MONTHS[0])
    next_month = ProductionPeriod.month_of(MONTHS[1])
    csv = f"Generator ID,Month,MWh\nM805,{month},104.250\nM805,{next_month},50\n"
    upload = generation_upload_create(organization=org, user=trader,
                                      upload=SimpleUploadedFile("corrected.csv", csv.encode()))
    generation_upload_process(upload_id=upload.pk)

    upload.refresh_from_db()
    assert upload.status == GenerationUpload.Status.COMPLETED, upload.errors
    correction = Correction.objects.get()
    assert (correction.upload, correction.mwh_before, correction.mwh_after, correction.difference) == (
        upload, Decimal(100), Decimal("104.25"), Decimal("4.25"))
    assert GenerationReport.objects.get(month=MONTHS[1]).upload == upload  # a new month as ever


def test_an_upload_of_corrections_alone_records_no_report(issued, trader, org, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    issued("100")
    csv = f"Generator ID,Month,MWh\nM805,{ProductionPeriod.month_of(MONTHS[0])},95\n"
    upload = generation_upload_create(organization=org, user=trader,
                                      upload=SimpleUploadedFile("corrected.csv", csv.encode()))
    generation_upload_process(upload_id=upload.pk)
    upload.refresh_from_db()
    assert upload.status == GenerationUpload.Status.COMPLETED, upload.errors
    assert Correction.objects.get().mwh_after == Decimal(95)
    assert GenerationReport.objects.count() == 1


def test_an_upload_correcting_a_month_awaiting_a_decision_is_refused_on_its_row(
        issued, trader, manager, org, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    request(issued("100"), "90", manager)
    csv = f"Generator ID,Month,MWh\nM805,{ProductionPeriod.month_of(MONTHS[0])},95\n"
    upload = generation_upload_create(organization=org, user=trader,
                                      upload=SimpleUploadedFile("corrected.csv", csv.encode()))
    generation_upload_process(upload_id=upload.pk)
    upload.refresh_from_db()
    assert upload.status == GenerationUpload.Status.FAILED
    assert "awaiting the registry's decision" in upload.errors[0]["message"]


def test_the_database_holds_the_correction_identity(issued, approved, manager, staff):
    correction = request(issued("100"), "103.5", manager)
    corrections_approve(user=staff, corrections=[correction])
    for change in ("quantity = quantity + 1", "carry_out = 0", "debit_out = debit_out + 1",
                   "difference = difference + 1"):
        with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"UPDATE issuance_correction SET {change} WHERE id = %s", [correction.pk])
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE issuance_issuance SET debit_paid = 1")  # paid what was not owed


def test_a_corrected_issuance_cannot_be_rolled_back(issued, manager, staff):
    from issuance.corrections import issuance_rollback

    issuance = issued("100")
    corrections_approve(user=staff, corrections=[request(issuance, "90", manager)])

    with pytest.raises(ServiceError, match="a correction of M805 .* was approved after it was issued"):
        issuance_rollback(user=staff, issuance=issuance, reason="wrong meter")
    assert ledger_breaches() == []
