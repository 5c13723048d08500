import datetime

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from accounts.models import Account
from certificates.models import CertificateBatch
from ledger.verification import ledger_breaches
from mass_uploads import services as mass_uploads
from mass_uploads.models import MassTransferUpload
from mass_uploads.services import mass_upload_create, mass_upload_process, mass_upload_release
from registry.models import Organization
from registry.services import ServiceError
from transfers.models import Transfer
from transfers.services import Destination, TransferLine, TransferRefused, transfer_create, transfer_write

from .conftest import ledger_state
from .factories import AccountFactory, OrganizationFactory

HEADER = "Serial Number,Quantity,Organization ID,Account ID,Notes\r\n"


@pytest.fixture(autouse=True)
def media(mass_media):
    pass


@pytest.fixture
def run(mass_run):
    return mass_run


@pytest.fixture
def refused(mass_refused):
    return mass_refused


# --- the formats spreadsheets write --------------------------------------------------------------

def test_internal_and_organization_rows_apply(run, batch, second_account, counterparty, account):
    upload = run(HEADER + f"{batch.serial_number},100,,{second_account.public_id},Rebalance\r\n"
                          f"{batch.serial_number},50,{counterparty.public_id},,Sale to Lakeshore\r\n")
    assert upload.status == MassTransferUpload.Status.COMPLETED, upload.errors
    internal, sale = upload.transfers.order_by("pk")
    assert (internal.kind, internal.status, internal.notes) == ("internal", "complete", "Rebalance")
    assert (sale.kind, sale.status, sale.recipient_organization) == ("organization", "pending", counterparty)
    base = batch.certificate.serial_base
    assert internal.items.get().batch.serial_number == f"{base}-1 to 100"
    assert sale.items.get().batch.serial_number == f"{base}-101 to 150"
    assert ledger_breaches() == []


@pytest.mark.parametrize("encoding", ["utf-8-sig", "cp1252", "utf-8"])
def test_encodings_crlf_quotes_and_blank_trailing_rows_and_columns(run, batch, second_account, encoding):
    content = ('"Serial number ", QUANTITY ,organization_id,Account  ID,Notes,,\r\n'
               f'"{batch.serial_number}","1,000",,{second_account.public_id},"Café, Q1 ""hedge""",,\r\n'
               ",,,,,,\r\n\r\n")
    upload = run(content.encode(encoding))
    assert upload.status == MassTransferUpload.Status.COMPLETED, upload.errors
    assert upload.transfers.get().notes == 'Café, Q1 "hedge"'


@pytest.mark.parametrize("quantity", ["1000.0", "1000", " 1000 ", "1,000.00"])
def test_quantities_as_spreadsheets_write_them(run, batch, second_account, quantity):
    upload = run(HEADER + f'{batch.serial_number},"{quantity}",,{second_account.public_id},\r\n')
    assert upload.status == MassTransferUpload.Status.COMPLETED, upload.errors


def test_columns_may_come_in_another_order_and_notes_may_be_absent(run, batch, second_account):
    upload = run(f"Account ID,Quantity,Serial Number,Organization ID\n{second_account.public_id},5,"
                 f"{batch.serial_number},\n")
    assert upload.status == MassTransferUpload.Status.COMPLETED, upload.errors


# --- one refusal each ----------------------------------------------------------------------------

def test_missing_column(refused, batch):
    refused("Serial Number,Quantity,Account ID\n" f"{batch.serial_number},5,ACT-00001\n",
            "The column “Organization ID” is missing", row=1)


def test_unknown_column(refused, batch, second_account):
    refused("Serial Number,Quantity,Organization ID,Account ID,Notes,Price\n"
            f"{batch.serial_number},5,,{second_account.public_id},,12.50\n", "Unknown column “Price”", row=1,
            column="F")


def test_values_under_a_blank_header(refused, batch, second_account):
    refused(HEADER.strip() + ",\n" f"{batch.serial_number},5,,{second_account.public_id},,oops\n",
            "has values but no header", column="F")


def test_not_a_serial_number(refused, second_account):
    refused(HEADER + f"hello,5,,{second_account.public_id},\n", "This is not a serial number", row=2, column="A")


def test_unknown_serial(refused, batch, second_account):
    refused(HEADER + f"{batch.certificate.serial_base}-1 to 999,5,,{second_account.public_id},\n",
            "No batch has this serial number", row=2, column="A")


def test_serial_of_another_organization(refused, foreign_batch, second_account):
    refused(HEADER + f"{foreign_batch.serial_number},5,,{second_account.public_id},\n",
            "is not held by Prairie Wind Energy", column="A")


def test_serial_not_active(refused, batch, trader, org, counterparty, second_account):
    pending = transfer_create(organization=org, user=trader, lines=[TransferLine(batch.pk, 1000)],
                              destination=Destination.to_organization(counterparty)).items.get().batch
    refused(HEADER + f"{pending.serial_number},5,,{second_account.public_id},\n",
            "is pending; only active certificates can be transferred")


@pytest.mark.parametrize("quantity", ["abc", "0", "-5", "2.5", "", "1,00"])
def test_quantity_not_a_positive_whole_number(refused, batch, second_account, quantity):
    refused(HEADER + f'{batch.serial_number},"{quantity}",,{second_account.public_id},\n',
            "must be a positive whole number", row=2, column="B")


def test_quantity_more_than_the_batch_counting_earlier_rows(refused, batch, second_account, counterparty):
    upload = refused(HEADER + f"{batch.serial_number},600,,{second_account.public_id},\n"
                              f"{batch.serial_number},500,{counterparty.public_id},,\n",
                     f"Quantity 1,100 is more than batch {batch.serial_number} holds (1,000). This counts the rows "
                     "above on the same batch, from row 2.", row=3, column="B")
    assert len(upload.errors) == 1


def test_both_organization_and_account(refused, batch, second_account, counterparty):
    refused(HEADER + f"{batch.serial_number},5,{counterparty.public_id},{second_account.public_id},\n",
            "either Organization ID", column="C")


def test_account_already_holding_the_batch(refused, batch, account):
    refused(HEADER + f"{batch.serial_number},5,,{account.public_id},\n", "is already in account", column="D")


def test_neither_organization_nor_account(refused, batch):
    refused(HEADER + f"{batch.serial_number},5,,,\n", "Fill in Organization ID", column="D")


def test_unknown_organization(refused, batch):
    refused(HEADER + f"{batch.serial_number},5,MM99999,,\n", "No organization has this ID", column="C")


def test_suspended_organization(refused, batch):
    suspended = OrganizationFactory(name="Gone Energy", status=Organization.Status.SUSPENDED)
    refused(HEADER + f"{batch.serial_number},5,{suspended.public_id},,\n", "Gone Energy is suspended", column="C")


def test_organization_with_no_account_that_can_receive(refused, batch):
    newcomer = OrganizationFactory(name="Newly Onboarded Solar")
    AccountFactory(organization=newcomer, name="Closed", status=Account.Status.CLOSED)
    refused(HEADER + f"{batch.serial_number},5,{newcomer.public_id},,\n",
            f"{newcomer.public_id} has no account that can receive certificates yet.", row=2, column="C")


def test_own_organization(refused, batch, org):
    refused(HEADER + f"{batch.serial_number},5,{org.public_id.lower()},,\n", "This is your own organization")


@pytest.mark.parametrize("which", ["foreign", "frozen", "retirement", "unknown"])
def test_account_not_an_open_active_account_of_ours(refused, batch, org, counterparty_account, which):
    account_id = {
        "foreign": lambda: counterparty_account.public_id,
        "frozen": lambda: AccountFactory(organization=org, status=Account.Status.FROZEN).public_id,
        "retirement": lambda: AccountFactory(organization=org, type=Account.Type.RETIREMENT).public_id,
        "unknown": lambda: "ACT-99999",
    }[which]()
    message = {"foreign": "not one of Prairie Wind Energy's open active", "unknown": "not one of Prairie Wind Energy's "
               "open active"}.get(which, "is not an open active account (it is a")
    refused(HEADER + f"{batch.serial_number},5,,{account_id},\n", message, column="D")


def test_notes_over_500_characters(refused, batch, second_account):
    refused(HEADER + f"{batch.serial_number},5,,{second_account.public_id},{'n' * 501}\n",
            "Notes are limited to 500 characters (this has 501)", column="E")


def test_more_than_50000_rows(refused, batch, second_account):
    line = f"{batch.serial_number},1,,{second_account.public_id},\n"
    refused(HEADER + line * 50_001, "The file has 50,001 rows; the limit is 50,000")


def test_a_stray_quote_is_refused_at_the_row_it_opens_instead_of_swallowing_the_rows_after_it(
        refused, batch, second_account, counterparty):
    row = f"{batch.serial_number},1,,{second_account.public_id},"
    upload = refused(HEADER + f"{row}first\n" + f'{row}"Q4 deal\n' + f"{row}third\n{row}fourth\n{row}fifth\n",
                     "a quote mark (\") opens it and is not closed", row=3, column="E (Notes)")
    assert "lines 3 to 6" in upload.errors[0]["message"] and len(upload.errors) == 1


def test_notes_with_a_line_break_are_refused(refused, batch, second_account):
    refused(HEADER + f'{batch.serial_number},5,,{second_account.public_id},"two\nlines"\n',
            "a cell cannot contain a line break", row=2, column="E (Notes)")


def test_a_cell_right_of_the_last_column_is_refused(refused, batch, second_account):
    refused(HEADER + f"{batch.serial_number},1,,{second_account.public_id},note,stray\n",
            "This cell is to the right of the last column (E (Notes))", row=2, column="F")


def test_extra_separators_at_the_end_of_a_row_are_refused(refused, batch, second_account):
    upload = refused(HEADER + f"{batch.serial_number},1,,{second_account.public_id},note" + "," * 9_995 + "\n",
                     "This row has 10,000 cells and the header row 5", row=2, column="F")
    assert len(upload.errors) == 1


def test_an_unquoted_thousands_separator_is_named(refused, batch, second_account):
    refused(HEADER + f"{batch.serial_number},1,000,,{second_account.public_id},\n",
            "The quantity 1,000 was split into two cells at its thousands separator; write it as 1000", row=2,
            column="B (Quantity)")


def test_a_column_named_twice_is_named(refused, batch, second_account):
    refused("Serial Number,Quantity,Organization ID,Account ID,Notes,Notes\n"
            f"{batch.serial_number},5,,{second_account.public_id},a,b\n",
            "The column “Notes” appears twice in the header row (columns E and F); keep one.", row=1, column="F")


@pytest.mark.parametrize("separator,encoding", [(";", "utf-8"), ("\t", "utf-8"), ("\t", "utf-16"),
                                                (";", "cp1252")])
def test_files_separated_by_semicolons_or_tabs_and_excel_unicode_text_are_read(
        run, batch, second_account, separator, encoding):
    content = separator.join(["Serial Number", "Quantity", "Organization ID", "Account ID", "Notes"]) + "\r\n"
    content += separator.join([batch.serial_number, "5", "", second_account.public_id, "Café, Q1"]) + "\r\n"
    upload = run(content.encode(encoding))
    assert upload.status == MassTransferUpload.Status.COMPLETED, upload.errors
    assert upload.transfers.get().notes == "Café, Q1"


def test_a_one_megabyte_cell_gets_its_row_and_column(refused, batch, second_account):
    upload = refused(HEADER + f"{batch.serial_number},5,,{second_account.public_id},{'x' * 2**20}\n",
                     "Notes are limited to 500 characters", row=2, column="E (Notes)")
    assert len(upload.errors[0]["value"]) <= 80  # the page and the email repeat a short part of it


def test_a_nul_byte_anywhere_is_refused_with_its_row_and_column(refused, batch, second_account):
    line = f"{batch.serial_number},1,,{second_account.public_id},\n"
    padding = line * (70_000 // len(line))  # the NUL comes after the first 64 KB
    count = padding.count("\n")
    refused(HEADER + padding + f"{batch.serial_number},1,,{second_account.public_id},ab\x00c\n",
            "contains a NUL character", row=count + 2, column="E (Notes)")


def test_every_error_is_listed_with_its_row(refused, batch, second_account):
    upload = refused(HEADER + f"{batch.serial_number},0,,{second_account.public_id},\n"
                              f"nonsense,5,,,\n", "must be a positive whole number")
    assert [(e["row"], e["column"][0]) for e in upload.errors] == [(2, "B"), (3, "A"), (3, "D")]


@pytest.mark.parametrize("content,message", [
    (b"", "The file is empty."),
    (b"\r\n\r\n", "The file is empty."),
    (b"PK\x03\x04" + b"\x00" * 100, "Excel workbook"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "not CSV text"),
])
def test_files_that_are_not_a_transfer_list(org, trader, content, message):
    before = ledger_state()
    with pytest.raises(TransferRefused, match=message.replace(".", r"\.")):
        mass_upload_create(organization=org, user=trader, upload=SimpleUploadedFile("x.csv", content))
    assert ledger_state() == before and not MassTransferUpload.objects.exists()


def test_header_alone(refused):
    refused(HEADER + ",,,,\r\n\r\n", "The file has a header row but no transfers in it.")


def test_file_over_10_mb_is_refused_on_the_page(signed_in, trader):
    response = signed_in(trader).post(reverse("mass_uploads:uploads"),
                                      {"file": SimpleUploadedFile("big.csv", b"a" * (10 * 2**20 + 1))})
    assert "The file is 10.0 MB; the limit is 10 MB." in response.content.decode()
    assert not MassTransferUpload.objects.exists()


# --- a good large file, grouping, duplicates, exactly once ---------------------------------------

def test_good_1000_row_file_with_internal_and_organization_rows(
        run, issue, second_account, counterparty, account, trader):
    batches = [issue(1000) for _ in range(100)]
    lines = []
    for index, batch in enumerate(batches):
        for part in range(10):
            if part % 2:
                lines.append(f"{batch.serial_number},10,{counterparty.public_id},,Sale {index % 3}")
            else:
                lines.append(f"{batch.serial_number},10,,{second_account.public_id},")
    mail.outbox.clear()
    upload = run(HEADER + "\n".join(lines) + "\n")
    assert upload.status == MassTransferUpload.Status.COMPLETED, upload.errors[:3]
    assert upload.row_count == 1000
    transfers = list(upload.transfers.all())
    assert len(transfers) == 4  # one internal + three organization notes
    assert sorted((t.kind, t.notes) for t in transfers) == [
        ("internal", ""), ("organization", "Sale 0"), ("organization", "Sale 1"), ("organization", "Sale 2")]
    moved = CertificateBatch.objects.filter(transfer_items__transfer__mass_upload=upload)
    assert sum(b.quantity for b in moved) == 10_000
    for batch in batches:  # each batch gave its lowest 100 serials, in steps
        live = CertificateBatch.objects.live().filter(certificate=batch.certificate, account=account)
        assert sorted((b.serial_start, b.serial_end, b.status) for b in live) == [
            (51, 100, "pending"), (101, 1000, "active")]  # 1-50 went internal first, 51-100 await the buyer
    assert ledger_breaches() == []


def test_the_same_file_within_a_day_waits_for_confirmation(run, batch, second_account, trader, org):
    content = HEADER + f"{batch.serial_number},5,,{second_account.public_id},\n"
    first = run(content)
    assert first.status == MassTransferUpload.Status.COMPLETED
    again = run(content)
    assert again.status == MassTransferUpload.Status.HELD and again.transfers.count() == 0
    mass_upload_release(upload=again, user=trader, process=True)
    mass_upload_process(upload_id=again.pk)
    again.refresh_from_db()
    # Processed on confirmation, and it cannot move anything twice: its serial number is gone.
    assert again.status == MassTransferUpload.Status.FAILED
    assert "No batch has this serial number" in again.errors[0]["message"]
    assert Transfer.objects.count() == 1


def test_a_held_duplicate_can_be_discarded(run, batch, second_account, trader):
    content = HEADER + f"{batch.serial_number},5,,{second_account.public_id},\n"
    run(content)
    again = run(content)
    mass_upload_release(upload=again, user=trader, process=False)
    assert mass_upload_process(upload_id=again.pk) == MassTransferUpload.Status.DISCARDED
    assert Transfer.objects.count() == 1


def test_the_task_run_twice_applies_once(run, batch, second_account):
    upload = run(HEADER + f"{batch.serial_number},5,,{second_account.public_id},\n")
    assert mass_upload_process(upload_id=upload.pk) == MassTransferUpload.Status.COMPLETED
    assert Transfer.objects.count() == 1


def test_a_worker_dying_halfway_leaves_nothing_applied_and_the_retry_applies_all(
        org, trader, issue, second_account, monkeypatch):
    first, second = issue(100), issue(100)
    upload = mass_upload_create(organization=org, user=trader, upload=SimpleUploadedFile("x.csv", (
        HEADER + f"{first.serial_number},5,,{second_account.public_id},a\n"
                 f"{second.serial_number},5,,{second_account.public_id},b\n").encode()))
    real_create, calls = mass_uploads.transfer_write, []

    def dies_on_the_second_transfer(**kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise SystemExit("worker killed")
        return real_create(**kwargs)

    monkeypatch.setattr(mass_uploads, "transfer_write", dies_on_the_second_transfer)
    before = ledger_state()
    with pytest.raises(SystemExit):
        mass_upload_process(upload_id=upload.pk)
    assert ledger_state() == before  # the first transfer was rolled back with the rest
    upload.refresh_from_db()
    assert upload.status == MassTransferUpload.Status.PROCESSING
    monkeypatch.setattr(mass_uploads, "transfer_write", real_create)
    assert mass_upload_process(upload_id=upload.pk) == MassTransferUpload.Status.COMPLETED
    assert Transfer.objects.count() == 2 and ledger_breaches() == []


def test_a_batch_moved_between_validation_and_apply_fails_the_whole_file(
        run, org, trader, issue, second_account, monkeypatch):
    first, second = issue(100), issue(100)
    real_validate = mass_uploads.mass.validate

    def validate_then_someone_moves(raw, organization):
        result = real_validate(raw, organization)
        # someone else's transfer, committed before the apply locks the batch (here in the same connection)
        transfer_write(organization=org, user=trader, lines=[TransferLine(second.pk, 1)],
                        destination=Destination.internal(second_account))
        return result

    monkeypatch.setattr(mass_uploads.mass, "validate", validate_then_someone_moves)
    upload = run(HEADER + f"{first.serial_number},5,,{second_account.public_id},a\n"
                          f"{second.serial_number},5,,{second_account.public_id},b\n")
    assert upload.status == MassTransferUpload.Status.FAILED
    assert "Nothing was transferred" in upload.errors[0]["message"]
    assert upload.transfers.count() == 0 and Transfer.objects.count() == 1  # only the interloper's


@pytest.mark.django_db(transaction=True)
def test_emails_list_every_error_or_the_transfers_made(org, trader, batch, second_account, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    mail.outbox.clear()
    failed = mass_upload_create(organization=org, user=trader, upload=SimpleUploadedFile("bad.csv", (
        HEADER + f"{batch.serial_number},0,,{second_account.public_id},\nnonsense,5,,,\n").encode()))
    failed.refresh_from_db()
    assert failed.status == MassTransferUpload.Status.FAILED  # run by the eager task after commit
    message = mail.outbox[-1]
    assert message.to == [trader.email] and "3 errors, nothing was transferred" in message.subject
    assert "Row 2, column B (Quantity), value \"0\"" in message.body and "Row 3, column A" in message.body
    assert message.attachments[0][0] == f"errors-upload-{failed.pk}.csv"
    good = mass_upload_create(organization=org, user=trader, upload=SimpleUploadedFile("good.csv", (
        HEADER + f"{batch.serial_number},5,,{second_account.public_id},Q1\n").encode()))
    good.refresh_from_db()
    assert good.status == MassTransferUpload.Status.COMPLETED
    message = [m for m in mail.outbox if "good.csv" in m.subject][0]
    assert "1 transfer made" in message.subject and f"Transfer {good.transfers.get().pk}" in message.body


# --- pages -----------------------------------------------------------------------------------------

def test_template_download(signed_in, trader):
    response = signed_in(trader).get(reverse("mass_uploads:template"))
    assert b"".join(response.streaming_content).decode() == HEADER


def test_selection_as_transfer_template(signed_in, trader, holdings):
    client = signed_in(trader)
    text = b"".join(client.get(reverse("mass_uploads:template_prefilled") + "?fuel=solar").streaming_content).decode()
    assert text.splitlines()[1] == f"{holdings['solar'].serial_number},500,,,"
    client.post(reverse("dashboard:selection"), {"action": "toggle", "id": holdings["wind"].pk,
                                                    "batch": holdings["wind"].pk})
    prefilled = reverse("mass_uploads:template_prefilled")
    text = b"".join(client.get(prefilled + "?selection=1").streaming_content).decode()
    assert text.splitlines()[1:] == [f"{holdings['wind'].serial_number},1000,,,"]


def test_upload_through_the_page_and_see_the_result(signed_in, trader, batch, second_account):
    client = signed_in(trader)
    response = client.post(reverse("mass_uploads:uploads"), {"file": SimpleUploadedFile("t.csv", (
        HEADER + f"{batch.serial_number},0,,{second_account.public_id},\n").encode())})
    upload = MassTransferUpload.objects.get()
    assert response.url == reverse("mass_uploads:detail", args=[upload.pk])
    mass_upload_process(upload_id=upload.pk)  # the worker's part (tests run tasks eagerly after commit)
    page = client.get(response.url).content.decode()
    assert "must be a positive whole number" in page and 'id="upload-errors"' in page
    listing = client.get(reverse("mass_uploads:uploads")).content.decode()
    assert f"Upload {upload.pk}" in listing


def test_a_completed_upload_says_how_many_rows_in_plain_english(signed_in, trader, run, batch, second_account):
    one = run(HEADER + f"{batch.serial_number},5,,{second_account.public_id},\n")
    page = signed_in(trader).get(reverse("mass_uploads:detail", args=[one.pk])).content.decode()
    assert "its one row was applied" in page and "1 rows" not in page


def test_running_upload_page_polls_and_finished_one_does_not(signed_in, trader, org, batch, second_account):
    upload = mass_upload_create(organization=org, user=trader, upload=SimpleUploadedFile("t.csv", (
        HEADER + f"{batch.serial_number},5,,{second_account.public_id},\n").encode()))
    client = signed_in(trader)
    url = reverse("mass_uploads:detail", args=[upload.pk])
    assert 'hx-trigger="every 1s"' in client.get(url).content.decode()
    mass_upload_process(upload_id=upload.pk)
    partial = client.get(url, headers={"HX-Request": "true"}).content.decode()
    assert "<html" not in partial and 'data-status="completed"' in partial and "every 1s" not in partial


def test_viewers_see_uploads_but_cannot_upload_and_outsiders_get_404(signed_in, viewer, outsider, org, trader,
                                                                     batch, second_account):
    upload = mass_upload_create(organization=org, user=trader, upload=SimpleUploadedFile("t.csv", (
        HEADER + f"{batch.serial_number},5,,{second_account.public_id},\n").encode()))
    viewer_client = signed_in(viewer)
    assert viewer_client.get(reverse("mass_uploads:detail", args=[upload.pk])).status_code == 200
    assert 'type="file"' not in viewer_client.get(reverse("mass_uploads:uploads")).content.decode()
    assert viewer_client.post(reverse("mass_uploads:uploads"),
                              {"file": SimpleUploadedFile("t.csv", b"x")}).status_code == 403
    with pytest.raises(ServiceError, match="not allowed"):
        mass_upload_create(organization=org, user=viewer, upload=SimpleUploadedFile("t.csv", b"a,b\n"))
    outsider_client = signed_in(outsider)
    assert outsider_client.get(reverse("mass_uploads:detail", args=[upload.pk])).status_code == 404
    assert f"Upload {upload.pk}" not in outsider_client.get(reverse("mass_uploads:uploads")).content.decode()


def test_uploads_are_recorded_with_their_hash_and_size(org, trader, batch, second_account):
    import hashlib
    raw = (HEADER + f"{batch.serial_number},5,,{second_account.public_id},\n").encode()
    upload = mass_upload_create(organization=org, user=trader, upload=SimpleUploadedFile("t.csv", raw))
    assert (upload.sha256, upload.size, upload.status) == (hashlib.sha256(raw).hexdigest(), len(raw), "queued")
    assert upload.file.read() == raw
    assert upload.created_at > datetime.datetime.now(datetime.UTC) - datetime.timedelta(minutes=1)
