"""The transfer page, its decisions, and every page of the dashboard issue walked by a trader, a
viewer and an outsider."""

import pytest
from django.urls import reverse

from certificates.models import CertificateBatch
from transfers.models import Transfer
from transfers.services import Destination, TransferLine, transfer_create


@pytest.fixture
def pending(trader, org, batch, counterparty):
    return transfer_create(organization=org, user=trader, lines=[TransferLine(batch.pk, 250)],
                           destination=Destination.to_organization(counterparty), notes="Spot sale")


def test_transfer_page_shows_parties_items_and_history(signed_in, trader, pending, counterparty):
    content = signed_in(trader).get(reverse("transfers:detail", args=[pending.pk])).content.decode()
    moved = pending.items.get().batch
    assert moved.serial_number in content and counterparty.public_id in content and "Spot sale" in content
    assert "Transfer initiated" in content and "Split" not in content  # the split is the batch's history


def test_accept_through_the_page(signed_in, counterparty_trader, pending, counterparty_account):
    client = signed_in(counterparty_trader)
    url = reverse("transfers:accept", args=[pending.pk])
    page = client.get(url)
    assert page.status_code == 200 and counterparty_account.public_id in page.content.decode()
    response = client.post(url, {"account": counterparty_account.pk})
    assert response.status_code == 302
    pending.refresh_from_db()
    assert pending.status == Transfer.Status.COMPLETE
    assert pending.items.get().batch.account == counterparty_account


def test_reject_through_the_page(signed_in, counterparty_trader, pending, account):
    signed_in(counterparty_trader).post(reverse("transfers:reject", args=[pending.pk]), {"note": "Wrong vintage"})
    pending.refresh_from_db()
    assert (pending.status, pending.decision_note) == (Transfer.Status.REJECTED, "Wrong vintage")
    assert pending.items.get().batch.status == CertificateBatch.Status.ACTIVE


def test_withdraw_through_the_page(signed_in, trader, pending):
    signed_in(trader).post(reverse("transfers:withdraw", args=[pending.pk]))
    pending.refresh_from_db()
    assert pending.status == Transfer.Status.WITHDRAWN


def test_sender_cannot_accept_its_own_transfer_and_is_told_who_can(signed_in, trader, pending, account,
                                                                    counterparty):
    client = signed_in(trader)
    response = client.post(reverse("transfers:accept", args=[pending.pk]), {"account": account.pk}, follow=True)
    assert (f"You sent this transfer; only the recipient, {counterparty.name}, can accept it."
            ) in response.content.decode()
    pending.refresh_from_db()
    assert pending.status == Transfer.Status.PENDING


def test_a_decided_transfer_cannot_be_withdrawn_and_the_message_says_so_in_plain_english(signed_in, trader,
                                                                                          pending):
    client = signed_in(trader)
    client.post(reverse("transfers:withdraw", args=[pending.pk]))
    response = client.post(reverse("transfers:withdraw", args=[pending.pk]), follow=True)
    page = response.content.decode()
    assert "This transfer was already withdrawn." in page and "cannot be withdrawn: it is" not in page


def test_a_draft_that_failed_is_not_listed_among_the_transactions(signed_in, trader, org, batch, pending):
    from transfers.services import transfer_draft_fail, transfer_draft_start

    draft = transfer_draft_start(membership=trader.memberships.get(organization=org), batches=[(batch.pk, 10)])
    transfer_draft_fail(draft=draft, reason="A batch changed since it was selected.")
    content = signed_in(trader).get(reverse("dashboard:certificates") + "?tab=transactions").content.decode()
    assert f"Transfer {pending.pk}" in content and f"Transfer {draft.pk}" not in content


def test_accept_into_another_organizations_account_is_refused(
        signed_in, counterparty_trader, pending, account):
    response = signed_in(counterparty_trader).post(reverse("transfers:accept", args=[pending.pk]),
                                                   {"account": account.pk})
    assert response.status_code == 200 and "Select a valid choice" in response.content.decode()
    pending.refresh_from_db()
    assert pending.status == Transfer.Status.PENDING


def test_viewer_cannot_decide(signed_in, counterparty, pending):
    from registry.models import Membership

    from .factories import member
    viewer = member(counterparty, Membership.Role.VIEWER)
    client = signed_in(viewer)
    assert client.get(reverse("transfers:detail", args=[pending.pk])).status_code == 200
    for name in ("accept", "reject"):
        assert client.post(reverse(f"transfers:{name}", args=[pending.pk])).status_code == 403
    pending.refresh_from_db()
    assert pending.status == Transfer.Status.PENDING


def test_accounts_page_shows_ids_and_balances(signed_in, trader, holdings, account, org):
    content = signed_in(trader).get(reverse("accounts:list")).content.decode()
    assert account.public_id in content and org.public_id in content
    assert "1,500" in content  # wind 1000 + solar 500 in the main account


def walk(client, urls):
    return {name: client.get(url).status_code for name, url in urls.items()}


def test_every_page_as_trader_viewer_and_outsider(signed_in, trader, viewer, outsider, pending, holdings):
    transfer_id = pending.pk
    urls = {
        "dashboard": reverse("dashboard:certificates"),
        "pending": reverse("dashboard:certificates") + "?tab=pending",
        "transactions": reverse("dashboard:certificates") + "?tab=transactions",
        "download": reverse("dashboard:download"),
        "accounts": reverse("accounts:list"),
        "detail": reverse("transfers:detail", args=[transfer_id]),
        "withdraw": reverse("transfers:withdraw", args=[transfer_id]),
        "summary_csv": reverse("transfers:summary_csv", args=[transfer_id]),
        "summary_pdf": reverse("transfers:summary_pdf", args=[transfer_id]),
    }
    assert walk(signed_in(trader), urls) == dict.fromkeys(urls, 200)
    as_viewer = walk(signed_in(viewer), urls)
    assert as_viewer == dict.fromkeys(urls, 200) | {"withdraw": 403}
    outsider_client = signed_in(outsider)
    as_outsider = walk(outsider_client, urls)
    assert as_outsider == {"dashboard": 200, "pending": 200, "transactions": 200, "download": 200, "accounts": 200,
                           "detail": 404, "withdraw": 404, "summary_csv": 404, "summary_pdf": 404}
    serial_base = pending.items.get().batch.certificate.serial_base
    for url in ("dashboard", "pending", "transactions", "accounts"):
        assert serial_base not in outsider_client.get(urls[url]).content.decode()
    assert serial_base not in b"".join(outsider_client.get(urls["download"]).streaming_content).decode()


def test_signed_out_users_are_sent_to_sign_in(client, pending):
    response = client.get(reverse("dashboard:certificates"))
    assert response.status_code == 302 and response.url.startswith(reverse("login"))


def test_a_large_transfer_s_page_shows_its_batches_a_page_at_a_time_with_the_totals(
        signed_in, trader, org, issue, second_account, settings):
    from transfers.views import TRANSFER_ITEMS_PER_PAGE

    batches = [issue(10) for _ in range(TRANSFER_ITEMS_PER_PAGE + 1)]
    transfer = transfer_create(organization=org, user=trader, lines=[TransferLine(b.pk, 10) for b in batches],
                               destination=Destination.internal(second_account))
    client = signed_in(trader)
    first = client.get(reverse("transfers:detail", args=[transfer.pk])).content.decode()
    count = f"{TRANSFER_ITEMS_PER_PAGE + 1:,}"
    assert f"{10 * (TRANSFER_ITEMS_PER_PAGE + 1):,} certificates in {count} batches" in first
    assert first.count("<code>") == TRANSFER_ITEMS_PER_PAGE and f"of {count} (the summary CSV lists them all)" in first
    second = client.get(reverse("transfers:detail", args=[transfer.pk]) + "?page=2").content.decode()
    assert second.count("<code>") == 1 and "‹ Previous" in second
