"""Mass retirement by CSV (#18 item 6): the mass-transfer upload page also takes a retirement file,
validated all or nothing against what each option needs, applied once by the worker."""

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from accounts.models import Account
from certificates.models import CertificateBatch
from ledger.verification import ledger_breaches
from mass_uploads.models import MassTransferUpload
from mass_uploads.services import mass_upload_create
from retirements.models import Retirement, RetirementOption

from .factories import AccountFactory, RetirementOptionFactory

HEADER = ("Serial Number,Quantity,Retirement Account ID,Option,Compliance Period,Beneficiary,Period Start,"
          "Period End,Notes\r\n")


@pytest.fixture(autouse=True)
def options(db):
    """Minnesota's RES (needs a compliance period) and Green-e (needs a beneficiary)."""
    return {"rps": RetirementOptionFactory(),
            "green_e": RetirementOption.objects.create(name="Green-e Energy", type=RetirementOption.Type.GREEN_E,
                                                       reason=RetirementOption.Reason.VOLUNTARY,
                                                       requires_beneficiary=True)}


@pytest.fixture
def retire_file(mass_run):
    def _retire_file(content, **kwargs):
        return mass_run(content, name="retirements.csv", kind="retirement", **kwargs)
    return _retire_file


@pytest.fixture
def refused(mass_refused):
    def _refused(content, message, row=None, column=None):
        return mass_refused(content, message, row=row, column=column, kind="retirement")
    return _refused


def test_a_valid_file_retires_the_lowest_serials_with_each_row_s_details(
        retire_file, issue, retirement_account, account):
    first, second = issue(1000), issue(500)
    upload = retire_file(HEADER + f"{first.serial_number},100,{retirement_account.public_id},Minnesota RES,2025,,"
                                  f"2025-01-01,2025-12-31,Q4 filing\r\n"
                                  f"{first.serial_number},50,{retirement_account.public_id},minnesota res,2025,,"
                                  f"1/1/2025,12/31/2025,Q4 filing\r\n"
                                  f"{second.serial_number},500,{retirement_account.public_id},Green-e Energy,,"
                                  f"Twin Cities Library,,,\r\n")
    assert upload.status == MassTransferUpload.Status.COMPLETED, upload.errors
    assert upload.kind == MassTransferUpload.Kind.RETIREMENT
    rps, green_e = upload.transfers.order_by("pk")
    assert (rps.kind, rps.status, rps.notes) == ("retirement", "complete", "Q4 filing")
    assert (rps.retirement.option.name, rps.retirement.compliance_period, str(rps.retirement.period_end)) == (
        "Minnesota RES", 2025, "2025-12-31")
    assert (green_e.retirement.option.name, green_e.retirement.beneficiary) == ("Green-e Energy", "Twin Cities Library")
    # The two rows on the first batch made one retirement of its lowest 150 serials.
    retired = CertificateBatch.objects.filter(certificate=first.certificate, status="retired").get()
    assert (retired.serial_start, retired.serial_end, retired.account) == (1, 150, retirement_account)
    live = CertificateBatch.objects.live().filter(certificate=first.certificate, account=account).get()
    assert (live.serial_start, live.serial_end, live.status) == (151, 1000, "active")
    assert CertificateBatch.objects.get(pk=second.pk).status == "retired"  # the whole of it, in place
    assert Retirement.objects.count() == 2 and ledger_breaches() == []


def test_the_task_run_twice_retires_once(retire_file, batch, retirement_account):
    from mass_uploads.services import mass_upload_process

    upload = retire_file(HEADER + f"{batch.serial_number},5,{retirement_account.public_id},Minnesota RES,2025,,,,\n")
    assert mass_upload_process(upload_id=upload.pk) == MassTransferUpload.Status.COMPLETED
    assert Retirement.objects.count() == 1


# --- refusals, each with its row and column, and nothing retired ----------------------------------

def test_unknown_option(refused, batch, retirement_account):
    upload = refused(HEADER + f"{batch.serial_number},5,{retirement_account.public_id},Texas RPS,2025,,,,\n",
                     "This is not one of the registry's retirement options: Green-e Energy, Minnesota RES.",
                     row=2, column="D (Option)")
    assert len(upload.errors) == 1  # not also "Choose what the retirement counts toward"


def test_an_inactive_option_is_not_offered(refused, batch, retirement_account, options):
    RetirementOption.objects.filter(pk=options["green_e"].pk).update(is_active=False)
    refused(HEADER + f"{batch.serial_number},5,{retirement_account.public_id},Green-e Energy,,Library,,,\n",
            "This is not one of the registry's retirement options: Minnesota RES.", row=2, column="D (Option)")


def test_missing_option(refused, batch, retirement_account):
    refused(HEADER + f"{batch.serial_number},5,{retirement_account.public_id},,2025,,,,\n",
            "Enter what the retirement counts toward", row=2, column="D (Option)")


def test_missing_compliance_period_where_the_option_needs_one(refused, batch, retirement_account):
    refused(HEADER + f"{batch.serial_number},5,{retirement_account.public_id},Minnesota RES,,,,,\n",
            "Minnesota RES needs a compliance period (a year).", row=2, column="E (Compliance Period)")


@pytest.mark.parametrize("period", ["next year", "1999", "20255"])
def test_a_compliance_period_that_is_not_a_year(refused, batch, retirement_account, period):
    refused(HEADER + f"{batch.serial_number},5,{retirement_account.public_id},Minnesota RES,{period},,,,\n",
            "Enter the compliance period as a year from 2000 to 2100.", row=2, column="E (Compliance Period)")


def test_missing_beneficiary_where_the_option_needs_one(refused, batch, retirement_account):
    refused(HEADER + f"{batch.serial_number},5,{retirement_account.public_id},Green-e Energy,,,,,\n",
            "Green-e Energy needs the name of the beneficiary.", row=2, column="F (Beneficiary)")


@pytest.mark.parametrize("which", ["active account of ours", "closed retirement account", "another organization's"])
def test_account_not_an_open_retirement_account_of_the_uploader(
        refused, batch, org, account, counterparty, which):
    target = {"active account of ours": account,
              "closed retirement account": AccountFactory(organization=org, type=Account.Type.RETIREMENT,
                                                          status=Account.Status.CLOSED),
              "another organization's": AccountFactory(organization=counterparty, type=Account.Type.RETIREMENT)}[which]
    refused(HEADER + f"{batch.serial_number},5,{target.public_id},Minnesota RES,2025,,,,\n",
            {"active account of ours": "is not an open retirement account (it is an open active account).",
             "closed retirement account": "is not an open retirement account (it is a closed retirement account).",
             "another organization's": "is not one of Prairie Wind Energy's open retirement accounts"}[which], row=2,
            column="C (Retirement Account ID)")


def test_serial_not_held(refused, foreign_batch, retirement_account):
    refused(HEADER + f"{foreign_batch.serial_number},5,{retirement_account.public_id},Minnesota RES,2025,,,,\n",
            f"Batch {foreign_batch.serial_number} is not held by Prairie Wind Energy.", row=2,
            column="A (Serial Number)")


def test_quantity_more_than_the_batch_counting_earlier_rows(refused, batch, retirement_account):
    row = f"{batch.serial_number},600,{retirement_account.public_id},Minnesota RES,2025,,,,\n"
    refused(HEADER + row + row, f"Quantity 1,200 is more than batch {batch.serial_number} holds (1,000). This counts "
                                "the rows above on the same batch, from row 2.", row=3, column="B (Quantity)")


@pytest.mark.parametrize("start, end, column", [("2025-02-30", "", "G (Period Start)"),
                                                ("", "31.12.2025", "H (Period End)"),
                                                ("13/1/2025", "", "G (Period Start)")])
def test_dates_that_are_not_dates(refused, batch, retirement_account, start, end, column):
    refused(HEADER + f"{batch.serial_number},5,{retirement_account.public_id},Minnesota RES,2025,,{start},{end},\n",
            "Enter the date as 2025-01-31 (year, month, day) or 1/31/2025.", row=2, column=column)


def test_period_ending_before_it_starts(refused, batch, retirement_account):
    refused(HEADER + f"{batch.serial_number},5,{retirement_account.public_id},Minnesota RES,2025,,"
                     "2025-12-31,2025-01-01,\n",
            "The reporting period must end on or after its start.", row=2, column="H (Period End)")


def test_a_missing_required_column(refused, batch):
    refused("Serial Number,Quantity,Retirement Account ID\n" f"{batch.serial_number},5,ACT-00001\n",
            "The column “Option” is missing from the header row.", row=1)


def test_one_bad_row_among_good_ones_retires_nothing(refused, issue, retirement_account):
    good, other = issue(100), issue(100)
    refused(HEADER + f"{good.serial_number},5,{retirement_account.public_id},Minnesota RES,2025,,,,\n"
                     f"{other.serial_number},5,{retirement_account.public_id},Minnesota RES,,,,,\n",
            "Minnesota RES needs a compliance period (a year).", row=3, column="E (Compliance Period)")
    assert not Retirement.objects.exists()


# --- the page, the template and the email ---------------------------------------------------------

def test_the_retirement_template_download(signed_in, trader):
    response = signed_in(trader).get(reverse("mass_uploads:retirement_template"))
    assert response["Content-Disposition"].endswith('"mass-certificate-retirements-template.csv"')
    assert b"".join(response.streaming_content).decode() == HEADER


def test_the_upload_page_takes_a_retirement_file(signed_in, trader, batch, retirement_account, mass_media):
    client = signed_in(trader)
    page = client.get(reverse("mass_uploads:uploads")).content.decode()
    assert reverse("mass_uploads:retirement_template") in page and 'value="retirement"' in page
    content = HEADER + f"{batch.serial_number},5,{retirement_account.public_id},Minnesota RES,2025,,,,\n"
    response = client.post(reverse("mass_uploads:uploads"), {
        "kind": "retirement", "file": SimpleUploadedFile("retire.csv", content.encode())})
    upload = MassTransferUpload.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("mass_uploads:detail", args=[upload.pk])
    assert upload.kind == MassTransferUpload.Kind.RETIREMENT


def test_the_upload_page_refuses_an_unknown_kind(signed_in, trader, batch, mass_media):
    response = signed_in(trader).post(reverse("mass_uploads:uploads"), {
        "kind": "gift", "file": SimpleUploadedFile("x.csv", HEADER.encode())})
    assert "Choose whether the file lists transfers or retirements." in response.content.decode()
    assert not MassTransferUpload.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_emails_list_every_error_or_the_retirements_made(org, trader, batch, retirement_account, mass_media,
                                                         signed_in):
    mail.outbox.clear()
    failed = mass_upload_create(organization=org, user=trader, kind="retirement", upload=SimpleUploadedFile(
        "bad.csv", (HEADER + f"{batch.serial_number},5,{retirement_account.public_id},Minnesota RES,,,,,\n").encode()))
    failed.refresh_from_db()
    assert failed.status == MassTransferUpload.Status.FAILED
    message = mail.outbox[-1]
    assert "Mass retirement bad.csv: 1 error, nothing was retired" in message.subject
    assert "Row 2, column E (Compliance Period): Minnesota RES needs a compliance period" in message.body
    page = signed_in(trader).get(reverse("mass_uploads:detail", args=[failed.pk])).content.decode()
    assert "nothing was retired: correct the errors" in page
    good = mass_upload_create(organization=org, user=trader, kind="retirement", upload=SimpleUploadedFile(
        "good.csv", (HEADER + f"{batch.serial_number},5,{retirement_account.public_id},Minnesota RES,2025,,,,"
                              "\n").encode()))
    good.refresh_from_db()
    assert good.status == MassTransferUpload.Status.COMPLETED, good.errors
    message = [m for m in mail.outbox if "good.csv" in m.subject][0]
    reference = good.transfers.get().retirement.reference
    assert "1 retirement made" in message.subject
    assert f"Retirement {reference}: 5 certificates retired into your account {retirement_account.public_id}, " \
           "toward Minnesota RES" in message.body
