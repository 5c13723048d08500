"""Transfers to another organization while they wait: who can receive them, when they expire, what
the pages say, and the reason a recipient gives when rejecting (#17 items 4, 6 and 7)."""

import datetime
import re

import pytest
from django.core import mail
from django.urls import reverse

from accounts.models import Account
from accounts.services import account_set_status
from transfers.models import Transfer
from transfers.services import (
    Destination,
    TransferLine,
    TransferRefused,
    transfer_accept,
    transfer_create,
    transfer_reject,
)
from utilities.display import datetime_text

from .conftest import ledger_state, send
from .test_summaries import csv_text, pdf_text
from .test_wizard import start, step_url

DASHBOARD = reverse("dashboard:certificates")


def shown(moment) -> str:
    """A date and time as the pages and emails write it."""
    return datetime_text(moment)


@pytest.fixture
def pending(trader, org, batch, counterparty):
    return send(batch, trader, org, counterparty, quantity=250)


# --- an organization with no account that can receive (item 4) ----------------------------------

def test_step_two_refuses_an_organization_with_no_account_that_can_receive(signed_in, trader, batch, newcomer):
    client = signed_in(trader)
    draft = start(client, batch)
    client.post(step_url(draft, "quantity"), {f"quantity_{batch.pk}": 5})
    for text in (newcomer.public_id, newcomer.name):
        response = client.post(step_url(draft, "destination"), {"kind": "organization", "organization": text})
        assert response.status_code == 200
        assert f"{newcomer.public_id} has no account that can receive certificates yet." in response.content.decode()
    saved = Transfer.objects.get(pk=draft.pk).draft
    assert saved["step"] == 2 and "recipient" not in saved  # the review is not reached


@pytest.mark.parametrize("account_kind", ["none", "closed", "frozen", "retirement only"])
def test_the_service_refuses_a_transfer_to_an_organization_that_cannot_receive(batch, trader, org, newcomer,
                                                                                 account_kind):
    if account_kind in ("closed", "frozen"):
        Account.objects.create(organization=newcomer, name="Active", status=account_kind)
    elif account_kind == "retirement only":
        Account.objects.create(organization=newcomer, name="Retirements", type=Account.Type.RETIREMENT)
    before = ledger_state()
    with pytest.raises(TransferRefused, match=f"^{newcomer.public_id} has no account that can receive certificates"):
        transfer_create(organization=org, user=trader, lines=[TransferLine(batch.pk, 10)],
                        destination=Destination.to_organization(newcomer))
    assert ledger_state() == before


@pytest.fixture
def stranded(pending, staff, counterparty_account):
    """A pending transfer whose recipient closed its only account after it was sent."""
    account_set_status(user=staff, account=counterparty_account, status=Account.Status.CLOSED)
    return pending


def test_the_accept_page_tells_a_recipient_with_no_account_what_to_do(signed_in, counterparty_trader,
                                                                      counterparty, stranded):
    page = signed_in(counterparty_trader).get(reverse("transfers:accept", args=[stranded.pk]))
    content = page.content.decode()
    assert page.status_code == 200
    assert (f"To accept a transfer, {counterparty.name} ({counterparty.public_id}) needs an open active account, "
            "and it has none yet.") in content
    assert "Registry staff open accounts: ask them to open an active account for your organization" in content
    assert "You can still reject it: the certificates then go back to Prairie Wind Energy." in content
    assert reverse("transfers:reject", args=[stranded.pk]) in content
    assert 'name="account"' not in content and "This field is required" not in content


def test_accept_is_refused_with_that_reason_and_changes_nothing(signed_in, counterparty_trader, counterparty,
                                                               counterparty_account, stranded):
    before = ledger_state()
    response = signed_in(counterparty_trader).post(reverse("transfers:accept", args=[stranded.pk]),
                                                   {"account": counterparty_account.pk})
    content = response.content.decode()
    assert response.status_code == 200
    assert f"{counterparty.name} ({counterparty.public_id}) needs an open active account" in content
    assert "This field is required" not in content
    assert ledger_state() == before
    stranded.refresh_from_db()
    assert stranded.status == Transfer.Status.PENDING


def test_the_transfer_page_and_pending_tab_say_so_and_offer_reject_not_accept(signed_in, counterparty_trader,
                                                                             stranded):
    client = signed_in(counterparty_trader)
    for url in (reverse("transfers:detail", args=[stranded.pk]), f"{DASHBOARD}?tab=pending"):
        content = client.get(url).content.decode()
        assert "needs an open active account, and it has none yet." in content
        assert reverse("transfers:reject", args=[stranded.pk]) in content
        assert reverse("transfers:accept", args=[stranded.pk]) not in content


def test_a_recipient_that_can_receive_sees_no_such_notice(signed_in, counterparty_trader, pending):
    content = signed_in(counterparty_trader).get(reverse("transfers:accept", args=[pending.pk])).content.decode()
    assert "needs an open active account" not in content and 'name="account"' in content


# --- the reason given for rejecting (item 6) ----------------------------------------------------

REASON = "We contracted for 2025 vintages — “not these”."


@pytest.fixture
def rejected(pending, counterparty_trader, counterparty):
    return transfer_reject(transfer=pending, user=counterparty_trader, organization=counterparty, note=REASON)


@pytest.mark.django_db(transaction=True)  # the emails are sent after the commit
def test_the_sender_s_rejection_email_gives_the_reason(trader, org, batch, counterparty, counterparty_trader):
    pending = send(batch, trader, org, counterparty)
    mail.outbox.clear()
    transfer_reject(transfer=pending, user=counterparty_trader, organization=counterparty, note=REASON)
    to_sender = next(message for message in mail.outbox if message.to == [trader.email])
    assert "rejected" in to_sender.subject
    assert f"Reason for rejection: {REASON}" in to_sender.body
    html = to_sender.alternatives[0].content
    assert "Reason for rejection: <strong>We contracted for 2025 vintages — “not these”.</strong>" in html


def test_the_transfer_page_gives_the_reason(signed_in, trader, rejected):
    content = signed_in(trader).get(reverse("transfers:detail", args=[rejected.pk])).content.decode()
    assert f"<dt>Reason for rejection</dt><dd>{REASON}</dd>" in content


def test_the_summary_csv_and_pdf_give_the_reason(signed_in, trader, rejected):
    client = signed_in(trader)
    assert f"Reason for rejection,{REASON}\r\n" in csv_text(client, rejected)
    assert f"Reason for rejection {REASON}" in pdf_text(client, rejected)


def test_a_reason_that_looks_like_a_formula_is_neutralised_in_the_csv(signed_in, trader, counterparty_trader,
                                                                      counterparty, pending):
    transfer_reject(transfer=pending, user=counterparty_trader, organization=counterparty, note="=cmd|' /C calc'!A0")
    assert "Reason for rejection,'=cmd" in csv_text(signed_in(trader), pending)


# --- when a pending transfer expires; the accounts on the transfer's pages (item 7) -------------

def test_a_pending_transfer_expires_transfer_pending_days_after_submission(settings, pending, staff,
                                                                            tracking_system, trader, org, issue):
    settings.TRANSFER_PENDING_DAYS = 12
    assert pending.expires_at == pending.submitted_at + datetime.timedelta(days=12)
    export = transfer_create(organization=org, user=trader, lines=[TransferLine(issue(10).pk, 5)],
                             destination=Destination.export(tracking_system, "Cascade"))
    assert export.expires_at is None  # an export waits for registry staff, and does not expire
    Transfer.objects.filter(pk=pending.pk).update(status=Transfer.Status.WITHDRAWN)
    pending.refresh_from_db()
    assert pending.expires_at is None


def test_the_done_page_gives_the_expiry_date(signed_in, trader, batch, counterparty):
    client = signed_in(trader)
    draft = start(client, batch)
    client.post(step_url(draft, "quantity"), {f"quantity_{batch.pk}": 10})
    client.post(step_url(draft, "destination"), {"kind": "organization", "organization": counterparty.public_id})
    client.post(step_url(draft, "review"))
    done = client.post(step_url(draft, "confirm"), follow=True).content.decode()
    transfer = Transfer.objects.get(pk=draft.pk)
    assert (f"If it is still pending on <strong>{shown(transfer.expires_at)}</strong>, it expires and the "
            "certificates become active in your account again.") in done


def test_the_transfer_page_gives_the_expiry_date_and_the_source_account(signed_in, trader, counterparty_trader,
                                                                        pending, account):
    for user in (trader, counterparty_trader):
        content = signed_in(user).get(reverse("transfers:detail", args=[pending.pk])).content.decode()
        assert f"<dt>Expires</dt><dd>{shown(pending.expires_at)}, if still pending then" in content
        assert f"<dt>From account</dt><dd>{account.name} ({account.public_id})</dd>" in content
        assert "Into account" not in content


def test_the_decide_pages_give_the_source_account_and_the_expiry_date(signed_in, trader, counterparty_trader,
                                                                      pending, account):
    for user, decision in ((counterparty_trader, "accept"), (counterparty_trader, "reject"), (trader, "withdraw")):
        content = signed_in(user).get(reverse(f"transfers:{decision}", args=[pending.pk])).content.decode()
        assert f"<dt>From account</dt><dd>{account.name} ({account.public_id})</dd>" in content
        assert f"<dt>Expires</dt><dd>{shown(pending.expires_at)}, if still pending then</dd>" in content


def test_an_accepted_transfer_shows_the_account_it_went_into_and_no_expiry(
        signed_in, trader, counterparty_trader, counterparty, counterparty_account, pending):
    transfer_accept(transfer=pending, user=counterparty_trader, organization=counterparty,
                    account=counterparty_account)
    content = signed_in(trader).get(reverse("transfers:detail", args=[pending.pk])).content.decode()
    assert f"<dt>Into account</dt><dd>{counterparty_account.name} ({counterparty_account.public_id})</dd>" in content
    assert "<dt>Expires</dt>" not in content


def test_a_transfer_from_several_accounts_lists_them_all(signed_in, trader, org, issue, account, second_account,
                                                         counterparty):
    lines = [TransferLine(issue(10).pk, 5), TransferLine(issue(10, account=second_account).pk, 5)]
    transfer = transfer_create(organization=org, user=trader, lines=lines,
                               destination=Destination.to_organization(counterparty))
    content = signed_in(trader).get(reverse("transfers:detail", args=[transfer.pk])).content.decode()
    assert (f"<dt>From accounts</dt><dd>{account.name} ({account.public_id}), "
            f"{second_account.name} ({second_account.public_id})</dd>") in content


@pytest.mark.django_db(transaction=True)
def test_the_pending_transfer_email_gives_the_expiry_date(trader, org, batch, counterparty, counterparty_trader):
    mail.outbox.clear()
    transfer = send(batch, trader, org, counterparty)
    to_recipient = next(message for message in mail.outbox if message.to == [counterparty_trader.email])
    expected = f"Expires: {shown(transfer.expires_at)}, if still pending then"
    assert expected in to_recipient.body
    assert f"Expires: <strong>{shown(transfer.expires_at)}</strong>, if still pending then" in \
        to_recipient.alternatives[0].content


def test_the_pending_tab_gives_the_expiry_date_in_both_tables(signed_in, trader, counterparty_trader, org, issue,
                                                              counterparty, tracking_system):
    outgoing = send(issue(100), trader, org, counterparty)
    export = transfer_create(organization=org, user=trader, lines=[TransferLine(issue(100).pk, 5)],
                             destination=Destination.export(tracking_system, "Cascade"))
    sender_view = signed_in(trader).get(f"{DASHBOARD}?tab=pending").content.decode()
    outgoing_table = sender_view[sender_view.index('class="pending-outgoing"'):]
    assert f"<td>{shown(outgoing.expires_at)}</td>" in outgoing_table
    export_row = outgoing_table[outgoing_table.index(f"Transfer {export.pk}</a>"):]
    assert "<td>—</td>" in export_row[:export_row.index("</tr>")]  # an export does not expire
    recipient_view = signed_in(counterparty_trader).get(f"{DASHBOARD}?tab=pending").content.decode()
    incoming_table = recipient_view[recipient_view.index('class="pending-incoming"'):]
    assert f"<td>{shown(outgoing.expires_at)}</td>" in incoming_table


@pytest.mark.parametrize("tab", ["active", "pending", "retired", "exported", "transactions"])
def test_every_tab_counts_the_incoming_pending_transfers_on_the_pending_tab_s_label(
        signed_in, trader, counterparty_trader, org, issue, counterparty, tab):
    def pending_tab_label(user) -> str:
        content = signed_in(user).get(f"{DASHBOARD}?tab={tab}").content.decode()
        return re.search(r'<a href="\?tab=pending"[^>]*>([^<]*)</a>', content)[1]

    assert pending_tab_label(counterparty_trader) == "Pending"
    for _ in range(3):
        send(issue(100), trader, org, counterparty)
    assert pending_tab_label(counterparty_trader) == "Pending (3)"
    # The sender's outgoing transfers wait for others, not for the sender: no count on its tab.
    assert pending_tab_label(trader) == "Pending"
