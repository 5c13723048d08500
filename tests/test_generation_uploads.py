"""Generation data uploaded as CSV: every bad row refused with its row and column, all or nothing."""

from decimal import Decimal

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile

from certificates.models import Generator
from issuance.corrections import issuance_rollback
from issuance.models import GenerationReport, GenerationReporter, GenerationUpload
from issuance.services import generation_upload_create, generation_upload_process, issuance_run
from registry.services import ServiceError

from .factories import GeneratorFactory, OrganizationFactory
from .generation import last_month

HEADER = "Generator ID,Month,MWh\r\n"
MONTH = last_month(1)
EARLIER = last_month(2)


@pytest.fixture
def refused(upload_run):
    """The upload fails with `message` on `row` and `column`, and nothing is recorded."""
    def _refused(content, message, row, column):
        before = list(GenerationReport.objects.values_list("pk", "status", "mwh"))
        upload = upload_run(content)
        assert upload.status == GenerationUpload.Status.FAILED, upload.errors
        matching = [e for e in upload.errors if message in e["message"]]
        assert matching, upload.errors
        assert (matching[0]["row"], matching[0]["column"][:1]) == (row, column)
        assert list(GenerationReport.objects.values_list("pk", "status", "mwh")) == before
        return upload
    return _refused


def test_a_good_file_records_every_month_as_submitted_and_emails_the_uploader(upload_run, generator, trader):
    second = GeneratorFactory(organization=generator.organization, code="M806")
    upload = upload_run(HEADER + f"M805,{MONTH:%m/%Y},1250.125\r\nm806,{EARLIER:%m/%Y},\"1,000.5\"\r\n")

    assert upload.status == GenerationUpload.Status.COMPLETED, upload.errors
    assert upload.row_count == 2
    reports = {(r.generator, r.month): r for r in GenerationReport.objects.all()}
    assert reports[(generator, MONTH)].mwh == Decimal("1250.125")
    assert reports[(second, EARLIER)].mwh == Decimal("1000.5")
    assert all(r.status == "submitted" and r.submitted_by == trader and r.upload == upload for r in reports.values())
    assert len(mail.outbox) == 1 and "2 months recorded" in mail.outbox[0].subject
    assert "Both rows were recorded" in mail.outbox[0].body  # not "All 2 rows"


def test_the_task_run_twice_records_once(upload_run, generator):
    upload = upload_run(HEADER + f"M805,{MONTH:%m/%Y},10\r\n")

    assert generation_upload_process(upload_id=upload.pk) == "completed"  # finished: nothing more
    assert GenerationReport.objects.count() == 1
    assert len(mail.outbox) == 1


def test_a_corrected_file_replaces_a_submitted_month(upload_run, generator):
    upload_run(HEADER + f"M805,{MONTH:%m/%Y},10\r\n")
    upload_run(HEADER + f"M805,{MONTH:%m/%Y},12.5\r\n")

    live = GenerationReport.objects.live().get()
    assert live.mwh == Decimal("12.5")
    assert GenerationReport.objects.get(status=GenerationReport.Status.REPLACED).mwh == Decimal(10)


def test_an_authorised_reporter_uploads_for_a_generator_it_does_not_own(upload_run, generator, outsider):
    reporter = outsider.memberships.get().organization
    GenerationReporter.objects.create(generator=generator, organization=reporter)

    upload = upload_run(HEADER + f"M805,{MONTH:%m/%Y},10\r\n", user=outsider, organization=reporter)

    assert upload.status == GenerationUpload.Status.COMPLETED, upload.errors


def test_a_generator_of_another_organization_is_refused(refused, db):
    GeneratorFactory(organization=OrganizationFactory(), code="M999")
    refused(HEADER + f"M999,{MONTH:%m/%Y},10\r\n", "is not authorised to report", 2, "A")


def test_an_unknown_generator_is_refused(refused, db):
    refused(HEADER + f"X1,{MONTH:%m/%Y},10\r\n", "has no generator with this ID", 2, "A")


@pytest.mark.parametrize("status", [Generator.Status.DRAFT, Generator.Status.SUBMITTED, Generator.Status.RETURNED])
def test_a_generator_not_approved_is_refused(refused, generator, status):
    Generator.objects.filter(pk=generator.pk).update(status=status)
    refused(HEADER + f"M805,{MONTH:%m/%Y},10\r\n", "is not approved by the registry", 2, "A")


@pytest.mark.parametrize("mwh, message", [
    ("-5", "cannot be negative"),
    ("ten", "as a number"),
    ("12.5.1", "as a number"),
    ("", "as a number"),
    ("10.1234", "more than 3 decimals"),
])
def test_bad_mwh_is_refused(refused, generator, mwh, message):
    refused(HEADER + f"M805,{MONTH:%m/%Y},{mwh}\r\n", message, 2, "C")


def test_trailing_zeros_past_three_decimals_are_accepted(upload_run, generator):
    assert upload_run(HEADER + f"M805,{MONTH:%m/%Y},10.12500\r\n").status == "completed"


@pytest.mark.parametrize("months_back, message", [(0, "is not over yet"), (-2, "is not over yet")])
def test_the_current_month_and_a_future_one_are_refused(refused, generator, months_back, message):
    month = last_month(months_back) if months_back >= 0 else last_month(0).replace(year=last_month(0).year + 1)
    refused(HEADER + f"M805,{month:%m/%Y},10\r\n", message, 2, "B")


def test_a_month_that_is_not_a_month_is_refused(refused, generator):
    refused(HEADER + "M805,13/2024,10\r\n", "as MM/YYYY", 2, "B")


def test_a_month_already_issued_is_a_correction_request_and_one_awaiting_a_decision_is_refused(
        refused, upload_run, generator, account, staff):
    """An issued month is final as a report: its corrected total is a correction request for staff
    (tests/test_corrections.py), and a second while the first awaits a decision is refused on its row."""
    Generator.objects.filter(pk=generator.pk).update(account=account)
    upload_run(HEADER + f"M805,{MONTH:%m/%Y},10\r\n")
    issuance_run(user=staff, reports=GenerationReport.objects.all())
    corrected = upload_run(HEADER + f"M805,{MONTH:%m/%Y},11\r\n")
    assert corrected.corrections.get().difference == 1 and GenerationReport.objects.count() == 1
    refused(HEADER + f"M805,{MONTH:%m/%Y},12\r\n", "is awaiting the registry's decision", 2, "B")


def test_a_rolled_back_month_takes_a_corrected_file_which_issues_the_corrected_figure(upload_run, generator, account,
                                                                                     staff):
    Generator.objects.filter(pk=generator.pk).update(account=account)
    upload_run(HEADER + f"M805,{MONTH:%m/%Y},1000.5\r\n")
    (issued,) = issuance_run(user=staff, reports=GenerationReport.objects.all()).issued
    issuance_rollback(user=staff, issuance=issued, reason="The meter read 10x high.")

    upload = upload_run(HEADER + f"M805,{MONTH:%m/%Y},100.5\r\n")

    assert upload.status == GenerationUpload.Status.COMPLETED, upload.errors
    assert GenerationReport.objects.get(pk=issued.report_id).status == GenerationReport.Status.REPLACED
    (again,) = issuance_run(user=staff, reports=GenerationReport.objects.live()).issued
    assert (again.mwh, again.quantity, again.carry_out) == (Decimal("100.5"), 100, Decimal("0.5"))


def test_a_duplicate_row_is_refused(refused, generator):
    refused(HEADER + f"M805,{MONTH:%m/%Y},10\r\nM805,{MONTH:%m/%Y},11\r\n", "already in row 2", 3, "B")


def test_a_file_with_good_and_bad_rows_records_nothing_and_lists_every_error(refused, generator):
    upload = refused(HEADER + f"M805,{EARLIER:%m/%Y},10\r\nM805,{MONTH:%m/%Y},-1\r\nX1,{MONTH:%m/%Y},1\r\n",
                     "cannot be negative", 3, "C")
    assert [e["row"] for e in upload.errors] == [3, 4]
    assert GenerationReport.objects.count() == 0
    assert "2 errors" in mail.outbox[-1].subject and mail.outbox[-1].attachments


def test_a_file_missing_a_column_is_refused(refused, generator):
    refused("Generator ID,MWh\r\nM805,10\r\n", "The column “Month” is missing", 1, "M")


def test_a_viewer_may_not_upload(org, viewer, mass_media):
    with pytest.raises(ServiceError):
        generation_upload_create(organization=org, user=viewer, upload=SimpleUploadedFile("g.csv", HEADER.encode()))
    assert GenerationUpload.objects.count() == 0


def test_an_upload_interrupted_too_often_fails_with_the_reason(upload_run, generator, settings):
    upload = upload_run(HEADER + f"M805,{MONTH:%m/%Y},10\r\n")
    GenerationUpload.objects.filter(pk=upload.pk).update(status=GenerationUpload.Status.PROCESSING, attempts=3,
                                                         errors=[], row_count=None)
    GenerationReport.objects.all().delete()  # as if the attempts had died before they recorded anything

    assert generation_upload_process(upload_id=upload.pk) == "failed"

    upload.refresh_from_db()
    assert "interrupted 3 times" in upload.errors[0]["message"]
    assert GenerationReport.objects.count() == 0


def test_a_stalled_upload_is_queued_again_and_recorded_once(org, trader, generator, mass_media,
                                                           django_capture_on_commit_callbacks):
    from datetime import timedelta

    from django.utils import timezone

    from issuance.services import generation_uploads_requeue_stalled

    with django_capture_on_commit_callbacks(execute=False):  # the broker lost the message
        upload = generation_upload_create(organization=org, user=trader, upload=SimpleUploadedFile(
            "generation.csv", (HEADER + f"M805,{MONTH:%m/%Y},10\r\n").encode()))
    GenerationUpload.objects.filter(pk=upload.pk).update(created_at=timezone.now() - timedelta(hours=1))

    with django_capture_on_commit_callbacks(execute=True):
        assert generation_uploads_requeue_stalled() == [upload.pk]

    upload.refresh_from_db()
    assert upload.status == GenerationUpload.Status.COMPLETED and upload.attempts == 1
    assert GenerationReport.objects.count() == 1
