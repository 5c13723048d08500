"""Dates and times written one way everywhere, in the reader's time zone and naming it; each user
chooses their zone on the settings page; quantities grouped in thousands everywhere (pages, PDF,
CSV, emails, the admin)."""

import datetime
import io
import re
import zoneinfo

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from events.models import Event
from ledger.models import LedgerEvent
from mass_uploads.models import MassTransferUpload
from notifications.transfers import mass_upload_notify, transfer_notify
from registry.models import Membership, User
from transfers.models import Transfer
from transfers.services import Destination, TransferLine, transfer_create
from utilities.display import datetime_text

from .conftest import send
from .factories import UserFactory, member

WINTER = datetime.datetime(2026, 1, 15, 17, 5, tzinfo=datetime.UTC)  # 11:05 CST, 12:05 EST, 18:05 CET
SUMMER = datetime.datetime(2026, 7, 15, 17, 5, tzinfo=datetime.UTC)  # 12:05 CDT, 13:05 EDT


def in_zone(user: User, name: str) -> User:
    User.objects.filter(pk=user.pk).update(time_zone=name)
    user.time_zone = name
    return user


def submitted(transfer: Transfer, moment: datetime.datetime) -> Transfer:
    Transfer.objects.filter(pk=transfer.pk).update(submitted_at=moment)
    transfer.refresh_from_db()
    return transfer


@pytest.fixture
def pending(batch, trader, org, counterparty):
    return submitted(send(batch, trader, org, counterparty), WINTER)


def test_a_new_user_gets_the_registrys_time_zone(settings, db):
    settings.TIME_ZONE = "America/Denver"
    assert UserFactory().time_zone == "America/Denver"


# Pages


def test_the_pending_tab_shows_times_in_each_users_own_zone(signed_in, trader, counterparty_trader, pending):
    in_zone(trader, "America/New_York")
    page = signed_in(trader).get(reverse("dashboard:certificates") + "?tab=pending").content.decode()
    assert "2026-01-15 12:05 EST" in page
    page = signed_in(counterparty_trader).get(reverse("dashboard:certificates") + "?tab=pending").content.decode()
    assert "2026-01-15 11:05 CST" in page  # the registry's zone, America/Chicago, for one who chose none


def test_the_transfer_page_shows_times_in_the_users_zone_with_daylight_saving(signed_in, trader, pending):
    in_zone(trader, "America/New_York")
    client = signed_in(trader)
    assert "2026-01-15 12:05 EST" in client.get(reverse("transfers:detail", args=[pending.pk])).content.decode()
    submitted(pending, SUMMER)
    page = client.get(reverse("transfers:detail", args=[pending.pk])).content.decode()
    assert "2026-07-15 13:05 EDT" in page
    with timezone.override("America/New_York"):  # the history too (its times are the database's)
        event = pending.events.get(kind=LedgerEvent.Kind.TRANSFER_INITIATED)
        assert f"{datetime_text(event.occurred_at)} — Transfer initiated" in page


def test_the_active_tabs_issue_date_is_the_date_in_the_users_zone(signed_in, trader, batch):
    # Kiritimati (UTC+14) and Pago Pago (UTC-11) are 25 hours apart: never on the same date.
    issued = batch.certificate.issued_at
    client = signed_in(trader)
    for zone in ("Pacific/Kiritimati", "Pacific/Pago_Pago"):
        in_zone(trader, zone)
        local_date = timezone.localdate(issued, zoneinfo.ZoneInfo(zone)).isoformat()
        page = client.get(reverse("dashboard:certificates")).content.decode()
        assert re.search(rf"<td[^>]*>{local_date}</td>", page)
        csv = b"".join(client.get(reverse("dashboard:download")).streaming_content).decode()
        assert f",{local_date},active" in csv


def test_a_stored_zone_the_time_zone_data_no_longer_knows_falls_back_to_the_registrys(signed_in, trader, pending):
    in_zone(trader, "Nowhere/Gone")  # stored before a time zone data update dropped it
    page = signed_in(trader).get(reverse("transfers:detail", args=[pending.pk]))
    assert page.status_code == 200 and "2026-01-15 11:05 CST" in page.content.decode()


# The settings page


def test_the_header_links_to_the_settings_page(signed_in, trader):
    page = signed_in(trader).get(reverse("dashboard:certificates")).content.decode()
    assert f'href="{reverse("settings")}"' in page


def test_the_settings_page_offers_every_zone_grouped_by_region(signed_in, trader):
    page = signed_in(trader).get(reverse("settings")).content.decode()
    assert '<optgroup label="America">' in page and '<optgroup label="Europe">' in page
    assert '<option value="America/Chicago" selected>Chicago</option>' in page  # the registry's, to start
    assert '<option value="America/Argentina/Buenos_Aires">Argentina / Buenos Aires</option>' in page
    assert '<option value="UTC">UTC</option>' in page
    assert 'value="US/Eastern"' not in page  # old aliases are not offered


def test_choosing_a_time_zone_on_the_settings_page(signed_in, trader, pending):
    client = signed_in(trader)
    response = client.post(reverse("settings"), {"time_zone": "America/New_York"}, follow=True)
    assert response.redirect_chain == [(reverse("settings"), 302)]
    page = response.content.decode()
    assert "Your time zone is now America/New_York" in page
    assert '<option value="America/New_York" selected>New York</option>' in page
    assert re.search(r"It is now <strong[^>]*>\d{4}-\d\d-\d\d \d\d:\d\d E[SD]T</strong> there", page)
    trader.refresh_from_db()
    assert trader.time_zone == "America/New_York"
    assert "2026-01-15 12:05 EST" in client.get(reverse("transfers:detail", args=[pending.pk])).content.decode()


@pytest.mark.parametrize("posted, message", [
    ("Mars/Olympus_Mons", "“Mars/Olympus_Mons” is not a time zone; choose one from the list, e.g. America/Chicago."),
    ("", "Choose a time zone."),
])
def test_the_settings_page_refuses_an_unknown_zone_and_changes_nothing(signed_in, trader, posted, message):
    response = signed_in(trader).post(reverse("settings"), {"time_zone": posted})
    assert response.status_code == 200
    assert message in response.content.decode() and 'aria-invalid="true"' in response.content.decode()
    assert '<option value="America/Chicago" selected>' in response.content.decode()  # the user's, still
    trader.refresh_from_db()
    assert trader.time_zone == "America/Chicago"


def test_the_settings_page_is_for_signed_in_users_only(client, db):
    response = client.get(reverse("settings"))
    assert response.status_code == 302 and response.url.startswith(reverse("login"))


def test_staff_set_a_users_zone_in_the_admin_and_an_unknown_one_is_refused(signed_in, superuser, trader):
    client = signed_in(superuser)
    url = reverse("admin:registry_user_change", args=[trader.pk])
    form = {"email": trader.email, "full_name": trader.full_name, "is_active": "on", "date_joined_0": "2026-01-15",
            "date_joined_1": "12:00:00", "memberships-TOTAL_FORMS": "0", "memberships-INITIAL_FORMS": "0"}
    response = client.post(url, {**form, "time_zone": "Mars/Olympus_Mons"})
    assert "is not a time zone; choose one from the list" in response.content.decode()
    trader.refresh_from_db()
    assert trader.time_zone == "America/Chicago"
    assert client.post(url, {**form, "time_zone": "Asia/Tokyo"}).status_code == 302
    trader.refresh_from_db()
    assert trader.time_zone == "Asia/Tokyo"


# Downloads


def test_the_summary_csv_and_pdf_are_in_the_downloaders_zone_and_name_it(signed_in, trader, counterparty_trader,
                                                                         pending):
    in_zone(trader, "America/New_York")
    client = signed_in(trader)
    csv = b"".join(client.get(reverse("transfers:summary_csv", args=[pending.pk])).streaming_content).decode()
    assert "Submitted,2026-01-15 12:05 EST\r\n" in csv and "Time zone,America/New_York\r\n" in csv
    pdf = client.get(reverse("transfers:summary_pdf", args=[pending.pk]))
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages)
    assert "Submitted 2026-01-15 12:05 EST" in text and "Time zone America/New_York" in text
    # The recipient, in the registry's zone, downloads the same summary in theirs.
    csv = b"".join(signed_in(counterparty_trader).get(reverse("transfers:summary_csv", args=[pending.pk]))
                   .streaming_content).decode()
    assert "Submitted,2026-01-15 11:05 CST\r\n" in csv and "Time zone,America/Chicago\r\n" in csv


# Emails


def test_each_email_is_written_in_its_recipients_zone(trader, org, issue, counterparty, counterparty_trader):
    in_zone(trader, "America/New_York")
    in_zone(counterparty_trader, "Europe/Berlin")
    colleague = in_zone(member(counterparty, Membership.Role.MANAGER, email="manager@lakeshore.example"),
                        "America/Chicago")
    batch = issue(45855)
    transfer = submitted(send(batch, trader, org, counterparty, quantity=45855), WINTER)
    mail.outbox.clear()
    transfer_notify(transfer_id=transfer.pk, event_kind=Event.Kind.TRANSFER_SUBMITTED)
    by_address = {tuple(message.to): message for message in mail.outbox}
    assert set(by_address) == {(trader.email,), (counterparty_trader.email,), (colleague.email,)}
    for address, written in ((trader.email, "2026-01-15 12:05 EST"), (counterparty_trader.email,
                             "2026-01-15 18:05 CET"), (colleague.email, "2026-01-15 11:05 CST")):
        message = by_address[address,]
        html = message.alternatives[0].content
        assert f"Submitted: {written}" in message.body and f"Submitted {written}" in html
    message = by_address[trader.email,]
    assert "(45,855 certificates," in message.body and "<td>45,855</td>" in message.alternatives[0].content


def test_the_decision_email_gives_the_decision_time_in_the_recipients_zone(trader, org, pending):
    in_zone(trader, "America/New_York")
    Transfer.objects.filter(pk=pending.pk).update(status=Transfer.Status.REJECTED,
                                                  decided_at=WINTER + datetime.timedelta(hours=2))
    mail.outbox.clear()
    transfer_notify(transfer_id=pending.pk, event_kind=Event.Kind.TRANSFER_REJECTED)
    [to_sender] = [message for message in mail.outbox if message.to == [trader.email]]
    assert "Submitted: 2026-01-15 12:05 EST\nDecided: 2026-01-15 14:05 EST\n" in to_sender.body


def test_the_mass_upload_email_is_in_the_uploaders_zone_with_grouped_quantities(trader, org, issue, second_account):
    in_zone(trader, "America/Los_Angeles")
    batch = issue(45855)
    transfer = transfer_create(organization=org, user=trader, lines=[TransferLine(batch.pk, 12345)],
                               destination=Destination.internal(second_account))
    upload = MassTransferUpload.objects.create(organization=org, uploaded_by=trader, filename="q1.csv",
                                               sha256="0" * 64, size=100, row_count=1,
                                               status=MassTransferUpload.Status.COMPLETED, created_at=WINTER)
    upload.transfers.add(transfer)
    mail.outbox.clear()
    mass_upload_notify(upload_id=upload.pk)
    [message] = mail.outbox
    assert "Uploaded 2026-01-15 09:05 PST" in message.body and "12,345 certificates" in message.body
    assert "Uploaded 2026-01-15 09:05 PST" in message.alternatives[0].content


# The admin site


@pytest.fixture
def superuser(db):
    return in_zone(UserFactory(email="admin@registry.example", is_staff=True, is_superuser=True), "America/New_York")


def test_admin_lists_write_quantities_as_the_pages_do(signed_in, superuser, trader, org, issue, tracking_system):
    batch = issue(45855)
    transfer_create(organization=org, user=trader, lines=[TransferLine(batch.pk, 12345)],
                    destination=Destination.export(tracking_system, "Buyer Co"))
    client = signed_in(superuser)
    assert ">45,855<" in client.get(reverse("admin:certificates_certificate_changelist")).content.decode()
    batches = client.get(reverse("admin:certificates_certificatebatch_changelist")).content.decode()
    assert ">12,345<" in batches and ">33,510<" in batches
    assert ">12,345<" in client.get(reverse("admin:transfers_pendingexport_changelist")).content.decode()
    overview = client.get(reverse("admin:index")).content.decode()
    assert "<strong>45,855</strong>" in overview  # the certificates issued


def test_admin_shows_times_in_the_staff_users_zone(signed_in, superuser, pending):
    page = signed_in(superuser).get(reverse("admin:transfers_transfer_changelist")).content.decode()
    assert "2026-01-15 12:05 EST" in page
