"""The transaction summary: what its PDF and CSV say, in any script, and how fast the PDF is built."""

import io
import re

import pytest
from django.urls import reverse
from pypdf import PdfReader

from certificates.models import CertificateBatch
from portal.management.commands.seed_demo import Command as Seed
from transfers.services import Destination, TransferLine, transfer_create

from .factories import AccountFactory

NOTES = "Q4 deal — “wind” ✓ Café 北京 Ελληνικά русский"


def pdf_text(client, transfer, pages: int | None = None) -> str:
    response = client.get(reverse("transfers:summary_pdf", args=[transfer.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages[:pages])
    return re.sub(r"[ \t]+", " ", text)


def csv_text(client, transfer) -> str:
    response = client.get(reverse("transfers:summary_csv", args=[transfer.pk]))
    assert response.status_code == 200
    return b"".join(response.streaming_content).decode()


def test_pdf_prints_names_and_notes_in_any_script(signed_in, trader, org, issue, counterparty):
    trader.full_name = "Zoë Øster-Łukasz"
    trader.save(update_fields=["full_name"])
    counterparty.name = "Coopérative Énergie du Nord"
    counterparty.save(update_fields=["name"])
    batch = issue(1000)
    transfer = transfer_create(organization=org, user=trader, lines=[TransferLine(batch.pk, 1000)],
                               destination=Destination.to_organization(counterparty), notes=NOTES)
    text = pdf_text(signed_in(trader), transfer)
    for written in (NOTES, "Zoë Øster-Łukasz", "Coopérative Énergie du Nord", "Prairie Ridge Wind"):
        assert written in text
    assert "?" not in text


def test_pdf_prints_only_latin_notes_without_the_fallback_font(signed_in, trader, org, batch, counterparty):
    transfer = transfer_create(organization=org, user=trader, lines=[TransferLine(batch.pk, 10)],
                               destination=Destination.to_organization(counterparty), notes="Q4 “wind” — ✓ Ελλάδα")
    response = signed_in(trader).get(reverse("transfers:summary_pdf", args=[transfer.pk]))
    assert b"DroidSansFallback" not in response.content
    assert "Q4 “wind” — ✓ Ελλάδα" in pdf_text(signed_in(trader), transfer)


def test_pdf_writes_quantities_as_the_pages_do(signed_in, trader, org, issue, counterparty):
    batch = issue(45855)
    transfer = transfer_create(organization=org, user=trader, lines=[TransferLine(batch.pk, 45855)],
                               destination=Destination.to_organization(counterparty))
    text = pdf_text(signed_in(trader), transfer)
    assert "45,855 certificates in 1 batch\n" in text + "\n"
    assert f"{batch.certificate.serial_base}-1 to 45855 45,855" in text
    assert "45855" not in text.replace("1 to 45855", "")


def test_pdf_lists_every_batch_under_its_certificate(signed_in, trader, org, holdings, counterparty):
    wind, solar, hydro = holdings["wind"], holdings["solar"], holdings["hydro"]
    transfer = transfer_create(organization=org, user=trader, lines=[
        TransferLine(wind.pk, 300), TransferLine(solar.pk, 500), TransferLine(hydro.pk, 1)],
        destination=Destination.to_organization(counterparty))
    text = pdf_text(signed_in(trader), transfer)
    assert "M805 Prairie Ridge Wind · Wind · MN · vintage 01/2020 · eligibilities MN RES; Green-e" in text
    assert "M833 Mower County Solar · Solar · IA · vintage 06/2020 · eligibilities IA AEP" in text
    assert "M906 St. Croix Falls Hydro · Hydro · WI · vintage 03/2021 · eligibilities WI RPS" in text
    serials = [f"{wind.certificate.serial_base}-1 to 300 300", f"{solar.certificate.serial_base}-1 to 500 500",
               f"{hydro.certificate.serial_base}-1 to 1 1"]
    positions = [text.index(serial) for serial in serials]
    assert positions == sorted(positions)
    assert "Total: 801 certificates in 3 batches" in text


def test_csv_lists_every_batch_with_its_certificate_and_the_total(signed_in, trader, org, holdings, counterparty):
    wind, solar = holdings["wind"], holdings["solar"]
    transfer = transfer_create(organization=org, user=trader, notes=NOTES, destination=Destination.to_organization(
        counterparty), lines=[TransferLine(solar.pk, 500), TransferLine(wind.pk, 300)])
    lines = csv_text(signed_in(trader), transfer).splitlines()
    assert f"Notes,{NOTES}" in lines
    header = lines.index("Serial Number,Quantity,Generator ID,Generator,Fuel,State,Vintage,Eligibilities")
    assert lines[header + 1:] == [
        f"{wind.certificate.serial_base}-1 to 300,300,M805,Prairie Ridge Wind,Wind,MN,01/2020,MN RES; Green-e",
        f"{solar.certificate.serial_base}-1 to 500,500,M833,Mower County Solar,Solar,IA,06/2020,IA AEP",
        "Total,800",
    ]


def test_summaries_of_a_transfer_between_own_accounts_name_the_accounts_the_certificates_left(
        signed_in, trader, org, holdings, account, second_account):
    """Wind is in Main active, hydro in Trading: both go to a third account of the organization."""
    third = AccountFactory(organization=org, name="Third")
    transfer = transfer_create(organization=org, user=trader, destination=Destination.internal(third), lines=[
        TransferLine(holdings["wind"].pk, 300), TransferLine(holdings["hydro"].pk, 200)])
    client = signed_in(trader)
    sources = f"Main active ({account.public_id}), Trading ({second_account.public_id})"
    text = pdf_text(client, transfer)
    assert f"From accounts {sources}\n" in text
    assert f"To Third ({third.public_id})\n" in text
    lines = csv_text(client, transfer).splitlines()
    assert f'From accounts,"{sources}"' in lines and f"To,Third ({third.public_id})" in lines


def test_summaries_of_a_transfer_from_one_account_name_it(signed_in, trader, org, batch, account, counterparty,
                                                         counterparty_trader):
    transfer = transfer_create(organization=org, user=trader, lines=[TransferLine(batch.pk, 10)],
                               destination=Destination.to_organization(counterparty))
    for client in (signed_in(trader), signed_in(counterparty_trader)):  # sender and recipient
        assert f"From account Main active ({account.public_id})\n" in pdf_text(client, transfer)
        assert f"From account,Main active ({account.public_id})" in csv_text(client, transfer).splitlines()


@pytest.fixture
def large_transfer(org, account, staff, trader, counterparty):
    """4,000 batches of 8 certificates, sent in one transfer."""
    Seed().scale(org, 4000)
    batches = CertificateBatch.objects.filter(account__organization=org, status="active").values_list("pk", "quantity")
    return transfer_create(organization=org, user=trader, destination=Destination.to_organization(counterparty),
                           lines=[TransferLine(pk, quantity) for pk, quantity in batches], notes=NOTES)


def test_pdf_of_thousands_of_batches_lists_them_on_numbered_pages(signed_in, trader, large_transfer):
    # How fast it is built is bench/summary_pdf.py's to measure (20,000 batches in about 1.5 s), not
    # a test's: a timed test fails on a loaded machine and proves nothing on a quiet one.
    client = signed_in(trader)
    response = client.get(reverse("transfers:summary_pdf", args=[large_transfer.pk]))
    assert response.status_code == 200
    pages = PdfReader(io.BytesIO(response.content)).pages
    first, second = (re.sub(r"[ \t]+", " ", page.extract_text()) for page in pages[:2])
    assert "4,000 batches" in first and f"page 1 of {len(pages)}" in first
    # A page that starts inside a certificate's batches repeats the column names and the certificate.
    assert second.startswith("Serial Number Quantity\n") and "(continued)" in second.splitlines()[1]


def test_pdf_refuses_more_batches_than_it_lists(signed_in, trader, org, issue, counterparty, monkeypatch):
    monkeypatch.setattr("transfers.summaries.PDF_MAX_BATCHES", 1)
    transfer = transfer_create(organization=org, user=trader, destination=Destination.to_organization(counterparty),
                               lines=[TransferLine(issue(10).pk, 10), TransferLine(issue(20).pk, 20)])
    client = signed_in(trader)
    response = client.get(reverse("transfers:summary_pdf", args=[transfer.pk]), follow=True)
    assert response.redirect_chain == [(reverse("transfers:detail", args=[transfer.pk]), 302)]
    assert (f"Transfer {transfer.pk} has 2 batches, too many for a PDF summary (at most 1). "
            "Download the CSV summary: it lists every batch.") in response.content.decode()
    assert "Total,30" in csv_text(client, transfer)
