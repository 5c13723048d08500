"""Registry staff's import pages in the admin (#32 item 1): the form, the import file, and the overlap
refused with a clear message on the serial."""

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from certificates.models import Certificate
from imports.models import Import
from tests.conftest import ledger_state

RECORD = reverse("admin:imports_import_record")
UPLOAD = reverse("admin:imports_import_upload")


def form(tracking_system, recipient, **changes):
    data = {"tracking_system": tracking_system.pk, "original_serial": "MIRECS-123-MI-01-2024-77-1 to 100",
            "generator_id": "123", "generator_name": "Thumb Wind", "fuel": "wind", "technology": "onshore_wind",
            "state": "MI", "capacity_mw": "99.5", "vintage": "01/2024", "eligibilities": "MI RPS; Green-e",
            "quantity": "100", "recipient": recipient.pk, "notes": ""}
    data.update(changes)
    return data


def test_staff_record_an_import_and_see_it_listed(admin_client, tracking_system, counterparty):
    response = admin_client.post(RECORD, form(tracking_system, counterparty), follow=True)
    record = Import.objects.get()
    assert f"Import {record.pk} recorded" in response.content.decode()
    assert record.original_serial == "MIRECS-123-MI-01-2024-77-1 to 100" and record.recipient == counterparty
    assert record.certificate.eligibilities == ["MI RPS", "Green-e"]
    listing = admin_client.get(reverse("admin:imports_import_changelist")).content.decode()
    assert "Waiting for the recipient" in listing and "MIRECS-123-MI-01-2024-77-1 to 100" in listing


def test_an_overlapping_import_is_refused_on_the_serial_and_records_nothing(admin_client, tracking_system,
                                                                           counterparty):
    admin_client.post(RECORD, form(tracking_system, counterparty))
    before = ledger_state()
    response = admin_client.post(RECORD, form(tracking_system, counterparty,
                                              original_serial="MIRECS-123-MI-01-2024-77-51 to 150"))
    content = response.content.decode()
    assert response.status_code == 200
    assert "overlap import" in content and "the same certificates are never imported twice" in content
    assert ledger_state() == before and Certificate.objects.count() == 1


def test_a_wrong_quantity_is_named_on_its_field(admin_client, tracking_system, counterparty):
    response = admin_client.post(RECORD, form(tracking_system, counterparty, quantity="90"))
    assert "The original serials hold 100 certificates, not 90." in response.content.decode()
    assert not Import.objects.exists()


def test_the_import_pages_are_for_staff_only(client, counterparty_trader, tracking_system, counterparty):
    client.force_login(counterparty_trader)
    assert client.get(RECORD).status_code == 302
    assert client.post(RECORD, form(tracking_system, counterparty)).status_code == 302
    assert not Import.objects.exists()


HEADER = ("Source System,Original Serial Number,Generator ID,Generator Name,Fuel,Technology,State,Capacity (MW),"
          "Vintage,Eligibilities,Quantity,Recipient Organization ID,Notes\n")


def upload(admin_client, text):
    return admin_client.post(UPLOAD, {"file": SimpleUploadedFile("imports.csv", text.encode())}, follow=True)


def test_an_import_file_records_every_row(admin_client, tracking_system, counterparty):
    text = HEADER + (f"{tracking_system.code},ABC-9-MI-01-2024-1-1 to 10,9,Lake Wind,Wind,Onshore wind,MI,20,"
                     f"01/2024,MI RPS,10,{counterparty.public_id},\n"
                     f"{tracking_system.code},ABC-9-MI-02-2024-1-1 to 1000,9,Lake Wind,wind,,MI,20,02/2024,,"
                     f"\"1,000\",{counterparty.public_id},second\n")
    response = upload(admin_client, text)
    assert "Recorded 2 imports from imports.csv" in response.content.decode()
    assert sorted(Import.objects.values_list("original_end", flat=True)) == [10, 1000]
    assert Import.objects.values("generator").distinct().count() == 1


def test_an_import_file_with_a_bad_row_records_nothing_and_names_row_and_column(admin_client, tracking_system,
                                                                                counterparty):
    text = HEADER + (f"{tracking_system.code},ABC-9-MI-01-2024-1-1 to 10,9,Lake Wind,wind,,MI,20,01/2024,,10,"
                     f"{counterparty.public_id},\n"
                     f"{tracking_system.code},ABC-9-MI-01-2024-1-5 to 14,9,Lake Wind,wind,,MI,20,13/2024,,10,"
                     f"{counterparty.public_id},\n")
    content = upload(admin_client, text).content.decode()
    assert "Nothing was recorded" in content and "<td>3</td><td>Vintage</td><td>13/2024</td>" in content
    assert not Import.objects.exists()


def test_a_file_overlapping_itself_is_refused_whole(admin_client, tracking_system, counterparty):
    text = HEADER + (f"{tracking_system.code},ABC-9-MI-01-2024-1-1 to 10,9,Lake Wind,wind,,MI,20,01/2024,,10,"
                     f"{counterparty.public_id},\n"
                     f"{tracking_system.code},ABC-9-MI-01-2024-1-5 to 14,9,Lake Wind,wind,,MI,20,01/2024,,10,"
                     f"{counterparty.public_id},\n")
    content = upload(admin_client, text).content.decode()
    assert "Nothing was recorded" in content and "overlap the import of row 2 here" in content
    assert not Import.objects.exists() and not Certificate.objects.exists()


def test_staff_configure_a_registry_running_this_project_with_a_checked_public_key(admin_client, tracking_system):
    from imports.messages import public_key_text
    from imports.models import PeerRegistry
    url = reverse("admin:imports_peerregistry_add")
    refused = admin_client.post(url, {"tracking_system": tracking_system.pk, "url": "https://north.example",
                                      "public_key": "not a key"})
    assert "the base64 of 32 bytes" in refused.content.decode() and not PeerRegistry.objects.exists()
    admin_client.post(url, {"tracking_system": tracking_system.pk, "url": "https://north.example",
                            "public_key": public_key_text()})
    assert PeerRegistry.objects.get().public_key == public_key_text()
    listing = admin_client.get(reverse("admin:imports_peerregistry_changelist")).content.decode()
    assert public_key_text() in listing
