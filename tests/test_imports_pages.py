"""What the recipient of an import sees and does (#32 items 1 and 3): its Pending tab and the import's
page worded by origin, acceptance and rejection through the pages, the API's batches, and the statement
and verification page of a retirement of imported certificates; an outsider sees nothing of it."""

import pytest
from django.urls import reverse

from certificates.models import CertificateBatch
from transfers.models import Transfer

from .conftest import retire
from .test_imports import details

DASHBOARD = reverse("dashboard:certificates")


@pytest.fixture
def imported(staff, tracking_system, counterparty):
    from imports.services import import_record
    return import_record(user=staff, details=details(tracking_system, counterparty))


def test_the_pending_tab_lists_the_import_by_origin_with_accept_and_reject(signed_in, counterparty_trader, imported,
                                                                           tracking_system):
    content = signed_in(counterparty_trader).get(DASHBOARD + "?tab=pending").content.decode()
    assert f"Import {imported.transfer.pk}" in content and f"Imported from {tracking_system.name}" in content
    assert reverse("transfers:accept", args=[imported.transfer.pk]) in content
    assert reverse("transfers:reject", args=[imported.transfer.pk]) in content
    assert reverse("transfers:withdraw", args=[imported.transfer.pk]) not in content


def test_the_import_page_shows_its_origin_and_original_serial(signed_in, counterparty_trader, imported):
    content = signed_in(counterparty_trader).get(reverse("transfers:detail", args=[imported.transfer.pk])).content
    content = content.decode()
    assert f"<h1>Import {imported.transfer.pk}" in content
    assert imported.certificate.origin_text in content


def test_a_viewer_sees_it_but_cannot_decide(signed_in, counterparty, imported):
    from .factories import member
    viewer = member(counterparty, "viewer", email="viewer@lakeshore.example")
    client = signed_in(viewer)
    assert client.get(reverse("transfers:detail", args=[imported.transfer.pk])).status_code == 200
    client.post(reverse("transfers:reject", args=[imported.transfer.pk]), {"note": "no"})
    assert Transfer.objects.get(pk=imported.transfer.pk).status == Transfer.Status.PENDING


def test_an_outsider_gets_a_404(signed_in, outsider, imported):
    assert signed_in(outsider).get(reverse("transfers:detail", args=[imported.transfer.pk])).status_code == 404


def test_the_recipient_accepts_on_the_page_into_its_account(signed_in, counterparty_trader, imported,
                                                            counterparty_account):
    client = signed_in(counterparty_trader)
    page = client.get(reverse("transfers:accept", args=[imported.transfer.pk])).content.decode()
    assert imported.certificate.origin_text in page
    client.post(reverse("transfers:accept", args=[imported.transfer.pk]), {"account": counterparty_account.pk})
    batch = CertificateBatch.objects.get(certificate=imported.certificate)
    assert (batch.status, batch.account_id) == ("active", counterparty_account.pk)


def test_the_reject_page_says_the_certificates_are_voided_and_returned(signed_in, counterparty_trader, imported,
                                                                       tracking_system):
    client = signed_in(counterparty_trader)
    page = client.get(reverse("transfers:reject", args=[imported.transfer.pk])).content.decode()
    assert f"voided here, and registry staff will return them to {tracking_system.name}" in page
    client.post(reverse("transfers:reject", args=[imported.transfer.pk]), {"note": "Not ours"})
    assert CertificateBatch.objects.get(certificate=imported.certificate).status == "voided"


def test_the_api_shows_the_origin_on_the_batch(api_as, counterparty, counterparty_trader, imported,
                                               counterparty_account, tracking_system):
    from transfers.services import transfer_accept
    transfer_accept(transfer=imported.transfer, user=counterparty_trader, organization=counterparty,
                    account=counterparty_account)
    rows = api_as(counterparty_trader, counterparty).get("/api/v1/batches/").json()["results"]
    assert rows[0]["origin"] == {"tracking_system": tracking_system.code, "tracking_system_name": tracking_system.name,
                                 "original_serial": "MIRECS-123-MI-01-2024-77-1 to 100"}


def test_a_retirement_of_imported_certificates_shows_their_origin(client, counterparty, counterparty_trader,
                                                                  imported, counterparty_account, tracking_system):
    from accounts.models import Account
    from retirements.statements import retirement_record
    from transfers.services import TransferLine, transfer_accept
    transfer_accept(transfer=imported.transfer, user=counterparty_trader, organization=counterparty,
                    account=counterparty_account)
    retirements = Account.objects.create(organization=counterparty, name="Retired", type=Account.Type.RETIREMENT)
    batch = CertificateBatch.objects.get(certificate=imported.certificate)
    transfer = retire(organization=counterparty, user=counterparty_trader, lines=[TransferLine(batch.pk, 40)],
                      account=retirements)
    record = retirement_record(transfer.retirement)
    assert record["batches"][0]["origin"] == {"tracking_system": tracking_system.name,
                                              "original_serial": "MIRECS-123-MI-01-2024-77-1 to 100"}
    page = client.get(reverse("retirements:verify", args=[transfer.retirement.reference])).content.decode()
    assert f"Imported from {tracking_system.name}, serial MIRECS-123-MI-01-2024-77-1 to 100" in page


def test_an_export_of_several_batches_from_another_registry_is_one_import_on_its_page(
        signed_in, counterparty_trader, counterparty, tracking_system, counterparty_account):
    import uuid

    from imports.models import PeerRegistry
    from imports.services import import_from_message
    peer = PeerRegistry.objects.create(tracking_system=tracking_system, url="https://north.example",
                                       public_key="A" * 43 + "=")
    serials = ["NORTH-G7-MN-03-2024-A1-1 to 40", "NORTH-G7-MN-03-2024-B2-1 to 15"]
    records = import_from_message(peer=peer, message_id=uuid.uuid4(), reference=88, details=[
        details(tracking_system, counterparty, serial=serial, quantity=quantity)
        for serial, quantity in zip(serials, (40, 15), strict=True)])
    transfer = records[0].transfer
    assert {record.transfer for record in records} == {transfer}
    client = signed_in(counterparty_trader)
    pending = client.get(DASHBOARD + "?tab=pending").content.decode()
    assert pending.count(reverse("transfers:accept", args=[transfer.pk])) >= 1
    assert Transfer.objects.filter(kind="import").count() == 1
    page = client.get(reverse("transfers:detail", args=[transfer.pk])).content.decode()
    assert all(f"serial {serial}" in page for serial in serials), page
    client.post(reverse("transfers:accept", args=[transfer.pk]), {"account": counterparty_account.pk})
    assert set(CertificateBatch.objects.filter(certificate__import_record__in=records).values_list(
        "status", "account_id")) == {("active", counterparty_account.pk)}
