import json
import re

import pytest
from django.core import mail
from django.http import Http404
from django.urls import reverse

from certificates.models import CertificateBatch
from certificates.selectors import SELECTION_KEY
from ledger.verification import ledger_breaches
from transfers.models import Transfer
from transfers.selectors import draft_batches, draft_for
from transfers.services import Destination, TransferLine, transfer_create

from .factories import AccountFactory

HTMX = {"HX-Request": "true", "HX-Target": "wizard"}


def start(client, *batches):
    response = client.get(reverse("transfers:new") + "?" + "&".join(f"batch={b.pk}" for b in batches))
    assert response.status_code == 302, response
    draft = Transfer.objects.filter(status=Transfer.Status.DRAFT).latest("pk")
    assert response.url == reverse("transfers:wizard", args=[draft.pk, "quantity"])
    return draft


def step_url(draft, step):
    return reverse("transfers:wizard", args=[draft.pk, step])


def walk(client, draft, quantities, destination, notes=""):
    """Post every step as a browser without JavaScript would; returns the last response."""
    assert client.post(step_url(draft, "quantity"), {f"quantity_{pk}": q for pk, q in quantities.items()}
                       ).status_code == 302
    assert client.post(step_url(draft, "destination"), destination | {"notes": notes}).status_code == 302
    assert client.get(step_url(draft, "review")).status_code == 200
    assert client.get(step_url(draft, "confirm")).status_code == 200  # step 3's Review button: a link
    return client.post(step_url(draft, "confirm"))


def test_internal_transfer_end_to_end(signed_in, trader, batch, second_account, account):
    client = signed_in(trader)
    draft = start(client, batch)
    page = client.get(step_url(draft, "quantity"))
    assert 'value="1000"' in page.content.decode()  # default: the whole batch
    response = walk(client, draft, {batch.pk: 250}, {"kind": "internal", "account": second_account.pk}, "Rebalance")
    assert response.url == reverse("transfers:done", args=[draft.pk])
    transfer = Transfer.objects.get(pk=draft.pk)
    assert (transfer.status, transfer.kind, transfer.notes) == ("complete", "internal", "Rebalance")
    moved = transfer.items.get().batch
    assert (moved.serial_start, moved.serial_end, moved.account) == (1, 250, second_account)
    done = client.get(response.url).content.decode()
    assert "is complete" in done and "Download a transaction summary" in done
    assert ledger_breaches() == []


def test_transfer_to_another_organization_by_mm_id(signed_in, trader, batch, counterparty):
    client = signed_in(trader)
    draft = start(client, batch)
    response = walk(client, draft, {batch.pk: 1000}, {"kind": "organization", "organization": counterparty.public_id})
    transfer = Transfer.objects.get(pk=draft.pk)
    assert (transfer.status, transfer.recipient_organization) == ("pending", counterparty)
    assert "until Lakeshore Power Cooperative accepts it" in client.get(response.url).content.decode()


def test_export_end_to_end(signed_in, trader, batch, tracking_system):
    client = signed_in(trader)
    draft = start(client, batch)
    walk(client, draft, {batch.pk: 10}, {"kind": "export", "tracking_system": tracking_system.pk,
                                         "recipient_name": "Cascade Utility", "recipient_account_ref": "W-77"})
    transfer = Transfer.objects.get(pk=draft.pk)
    assert (transfer.kind, transfer.status, transfer.recipient_account_ref) == ("export", "pending", "W-77")


def test_with_htmx_each_step_answers_with_the_next_step_in_one_round_trip(signed_in, trader, batch, second_account):
    client = signed_in(trader)
    # The dashboard's boosted Transfer link gets step 1's whole page (a boosted request gets whole
    # pages) and step 1's address for the address bar: a reload resumes the draft, not a new one.
    boosted = {"HX-Request": "true", "HX-Boosted": "true"}
    page = client.get(reverse("transfers:new") + f"?batch={batch.pk}", headers=boosted)
    draft = Transfer.objects.get(status=Transfer.Status.DRAFT)
    assert (page.status_code, page["HX-Push-Url"]) == (200, step_url(draft, "quantity"))
    assert b"<html" in page.content and f'name="quantity_{batch.pk}"'.encode() in page.content
    page = client.get(step_url(draft, "quantity"), headers=HTMX)
    assert b"<html" not in page.content and b'id="wizard"' in page.content

    def post(step, data, goes_to):
        """A step's POST answers with the next page's region, and its address for the address bar
        (htmx pushes it into the history, so Back and a reload find that page)."""
        response = client.post(step_url(draft, step), data, headers=HTMX)
        text = response.content.decode()
        assert (response.status_code, response["HX-Push-Url"]) == (200, goes_to)
        assert "<html" not in text and 'id="wizard"' in text
        return text

    text = post("quantity", {f"quantity_{batch.pk}": 5}, step_url(draft, "destination"))
    assert "Destination type" in text and f'action="{step_url(draft, "destination")}"' in text
    text = post("destination", {"kind": "internal", "account": second_account.pk}, step_url(draft, "review"))
    assert "Step 3: Review" in text and f"{second_account.name} ({second_account.public_id})" in text
    # Step 3 has nothing to submit: its Review button is a link to step 4.
    assert f'hx-get="{step_url(draft, "confirm")}"' in text and "<form" not in text.split("Step 3: Review")[1]
    text = client.get(step_url(draft, "confirm"), headers=HTMX).content.decode()
    # Step 4 links back to every earlier step and posts to its own address.
    assert all(f'href="{step_url(draft, step)}"' in text for step in ("quantity", "destination", "review"))
    assert f'action="{step_url(draft, "confirm")}"' in text
    text = post("confirm", {}, reverse("transfers:done", args=[draft.pk]))
    assert Transfer.objects.get(pk=draft.pk).status == Transfer.Status.COMPLETE
    assert f"Transfer {draft.pk} is complete" in text
    # The draft is submitted: a second confirm goes to the transfer, says so, and makes nothing.
    response = client.post(step_url(draft, "confirm"), {}, headers=HTMX)
    done = reverse("transfers:done", args=[draft.pk])
    assert json.loads(response["HX-Location"]) == {"path": done, "target": "#wizard", "swap": "outerHTML"}
    assert f"Transfer {draft.pk} has already been submitted." in client.get(done, headers=HTMX).content.decode()
    assert Transfer.objects.exclude(status=Transfer.Status.DRAFT).count() == 1


def test_a_step_refused_with_htmx_answers_the_same_step_with_its_errors(signed_in, trader, batch):
    client = signed_in(trader)
    draft = start(client, batch)
    response = client.post(step_url(draft, "quantity"), {f"quantity_{batch.pk}": 0}, headers=HTMX)
    assert response.status_code == 200 and "HX-Push-Url" not in response
    assert f'action="{step_url(draft, "quantity")}"' in response.content.decode()
    assert Transfer.objects.get(pk=draft.pk).draft["step"] == 1


def test_the_back_button_gets_whole_pages_when_htmx_restores_history(signed_in, trader, batch):
    """htmx keeps no pages of its own (historyCacheSize 0): Back makes it request the page again,
    with HX-Request, and put the answer in place of the whole body."""
    client = signed_in(trader)
    draft = start(client, batch)
    page = client.get(step_url(draft, "quantity"), headers={"HX-Request": "true", "HX-History-Restore-Request": "true"})
    assert b"<html" in page.content and b'id="wizard"' in page.content


def test_a_confirm_refused_because_a_batch_changed_leaves_the_wizard_for_the_dashboard(
        signed_in, trader, org, batch, second_account):
    client = signed_in(trader)
    draft = start(client, batch)
    walk_to_confirm = [("quantity", {f"quantity_{batch.pk}": 100}),
                       ("destination", {"kind": "internal", "account": second_account.pk}), ("review", {})]
    for step, data in walk_to_confirm:
        client.post(step_url(draft, step), data)
    transfer_create(organization=org, user=trader, lines=[TransferLine(batch.pk, 10)],  # someone moves it
                    destination=Destination.internal(second_account))
    response = client.post(step_url(draft, "confirm"), headers=HTMX)
    assert response["HX-Redirect"] == reverse("dashboard:certificates")  # a whole page: htmx loads it
    assert Transfer.objects.get(pk=draft.pk).status == Transfer.Status.FAILED
    assert "has changed since it was selected" in client.get(response["HX-Redirect"]).content.decode()


@pytest.mark.parametrize("value,message", [("0", "Quantity must be a whole number of at least 1 (got 0)."),
                                           ("1001", "Quantity 1,001 is more than batch M"),
                                           ("2.5", "Enter a whole number."), ("", "Enter a quantity.")])
def test_quantity_validation(signed_in, trader, batch, value, message):
    client = signed_in(trader)
    draft = start(client, batch)
    response = client.post(step_url(draft, "quantity"), {f"quantity_{batch.pk}": value})
    assert response.status_code == 200 and message in response.content.decode()


@pytest.mark.parametrize("data,message", [
    ({}, "Choose the type of transfer."),
    ({"kind": "internal"}, "Choose the active account"),
    ({"kind": "organization", "organization": ""}, "Enter the organization"),
    ({"kind": "organization", "organization": "Nobody Power"}, "No other active organization"),
    ({"kind": "organization", "organization": "Prairie Wind Energy"}, "No other active organization"),
    ({"kind": "export"}, "Choose the tracking system"),
    ({"kind": "internal", "notes": "x" * 501}, "at most 500 characters"),
])
def test_destination_validation(signed_in, trader, batch, counterparty, data, message):
    client = signed_in(trader)
    draft = start(client, batch)
    client.post(step_url(draft, "quantity"), {f"quantity_{batch.pk}": 5})
    response = client.post(step_url(draft, "destination"), data)
    assert response.status_code == 200 and message in response.content.decode()


def test_another_organizations_account_is_not_a_choice(signed_in, trader, batch, counterparty_account):
    client = signed_in(trader)
    draft = start(client, batch)
    client.post(step_url(draft, "quantity"), {f"quantity_{batch.pk}": 5})
    response = client.post(step_url(draft, "destination"), {"kind": "internal", "account": counterparty_account.pk})
    assert "Select a valid choice" in response.content.decode()


def account_options(page: str) -> list[str]:
    """The values of step 2's account choices (the first, empty, says to choose one)."""
    select = page[page.index('<select name="account"'):]
    return re.findall(r'<option value="(\d*)"', select[:select.index("</select>")])


def test_step_two_offers_only_accounts_that_can_receive_every_selected_batch(signed_in, trader, org, issue,
                                                                             account, second_account):
    third = AccountFactory(organization=org, name="Third")
    AccountFactory(organization=org, name="Frozen", status="frozen")
    AccountFactory(organization=org, name="Retirements", type="retirement")
    in_main, in_trading = issue(100), issue(200, account=second_account)
    client = signed_in(trader)
    draft = start(client, in_main)
    page = client.post(step_url(draft, "quantity"), {f"quantity_{in_main.pk}": 5}, follow=True).content.decode()
    # By name, and not Main active, where the batch is.
    assert account_options(page) == ["", str(third.pk), str(second_account.pk)]
    draft = start(client, in_main, in_trading)
    page = client.post(step_url(draft, "quantity"), {f"quantity_{in_main.pk}": 5, f"quantity_{in_trading.pk}": 5},
                       follow=True).content.decode()
    assert account_options(page) == ["", str(third.pk)]


def test_step_two_refuses_the_account_a_batch_is_already_in_and_says_why(signed_in, trader, batch, account):
    client = signed_in(trader)
    draft = start(client, batch)
    client.post(step_url(draft, "quantity"), {f"quantity_{batch.pk}": 5})
    response = client.post(step_url(draft, "destination"), {"kind": "internal", "account": account.pk})
    assert response.status_code == 200
    assert (f"Batch {batch.serial_number} is already in account {account.public_id}; choose another account."
            in response.content.decode())
    saved = Transfer.objects.get(pk=draft.pk).draft
    assert saved["step"] == 2 and "kind" not in saved  # step 3 is not reached


def test_review_shows_ranges_that_leave_and_stay(signed_in, trader, batch, second_account):
    client = signed_in(trader)
    draft = start(client, batch)
    client.post(step_url(draft, "quantity"), {f"quantity_{batch.pk}": 250})
    client.post(step_url(draft, "destination"), {"kind": "internal", "account": second_account.pk})
    content = client.get(step_url(draft, "review")).content.decode()
    base = batch.certificate.serial_base
    assert f"{base}-1 to 250" in content and f"{base}-251 to 1000" in content


def visible_text(page: str) -> str:
    """The wizard's card as a reader sees it: no tags, one space between words."""
    card = page[page.index('<section class="card">'):page.index("</section>")]
    return " ".join(re.sub(r"<[^>]+>", " ", card).split())


def review_and_confirm(client, draft, quantities: dict, destination: dict) -> tuple[str, str]:
    client.post(step_url(draft, "quantity"), {f"quantity_{pk}": quantity for pk, quantity in quantities.items()})
    client.post(step_url(draft, "destination"), destination)
    return (visible_text(client.get(step_url(draft, "review")).content.decode()),
            visible_text(client.get(step_url(draft, "confirm")).content.decode()))


def test_step_one_names_the_account_each_batch_comes_from(signed_in, trader, holdings, account, second_account):
    client = signed_in(trader)
    draft = start(client, holdings["wind"], holdings["hydro"])
    page = visible_text(client.get(step_url(draft, "quantity")).content.decode())
    assert f"{holdings['wind'].serial_number} Main active ({account.public_id}) M805" in page
    assert f"{holdings['hydro'].serial_number} Trading ({second_account.public_id}) M906" in page


def test_review_lists_the_serials_that_leave_and_stay_and_confirm_says_what_will_happen(
        signed_in, trader, batch, account, second_account):
    client = signed_in(trader)
    review, confirm = review_and_confirm(client, start(client, batch), {batch.pk: 250},
                                         {"kind": "internal", "account": second_account.pk, "notes": "Q4"})
    main, trading, base = str(account), str(second_account), batch.certificate.serial_base
    assert review.startswith("Step 3: Review Review your selections for accuracy")
    assert f"From {main} To {trading} change" in review
    assert f"{base}-1 to 1000 {main} 250 {base}-1 to 250 {base}-251 to 1000" in review
    assert confirm == (
        "Step 4: Confirm Review the transfer; if everything looks correct, select “Transfer”. "
        f"When you select “Transfer”, 250 certificates in 1 batch move from {main} to {trading} at once. The "
        "transfer is then complete: nobody else needs to accept it. The note “Q4” appears on the transaction. "
        "Back Transfer")


def test_confirm_says_what_an_export_of_one_certificate_does(signed_in, trader, batch, account, tracking_system):
    client = signed_in(trader)
    _, confirm = review_and_confirm(client, start(client, batch), {batch.pk: 1}, {
        "kind": "export", "tracking_system": tracking_system.pk, "recipient_name": "Cascade Utility"})
    assert (f"When you select “Transfer”, 1 certificate in 1 batch leaves {account} for Cascade Utility at "
            f"{tracking_system.name} and waits, pending, until {tracking_system.name} accepts it. If "
            f"{tracking_system.name} refuses the export, the certificates return to {account}.") in confirm


def test_step_two_says_which_account_is_not_offered_and_why(signed_in, trader, batch, account, second_account):
    client = signed_in(trader)
    draft = start(client, batch)
    page = client.post(step_url(draft, "quantity"), {f"quantity_{batch.pk}": 5}, follow=True).content.decode()
    assert (f'<p class="muted" id="id_account_not_offered">{account} is not offered: the certificates come from '
            "it.</p>") in page
    assert 'aria-describedby="id_account_not_offered"' in page


def test_a_reload_resumes_the_draft_and_steps_cannot_be_skipped(signed_in, trader, batch):
    client = signed_in(trader)
    draft = start(client, batch)
    assert client.get(step_url(draft, "confirm")).url == step_url(draft, "quantity")
    client.post(step_url(draft, "quantity"), {f"quantity_{batch.pk}": 7})
    assert 'value="7"' in client.get(step_url(draft, "quantity")).content.decode()


def test_double_submit_creates_one_transfer(signed_in, trader, batch, second_account):
    client = signed_in(trader)
    draft = start(client, batch)
    walk(client, draft, {batch.pk: 100}, {"kind": "internal", "account": second_account.pk})
    again = client.post(step_url(draft, "confirm"))
    assert again.status_code == 302 and again.url == reverse("transfers:done", args=[draft.pk])
    assert Transfer.objects.exclude(status="draft").count() == 1
    assert CertificateBatch.objects.filter(account=second_account).count() == 1


def test_stale_draft_confirm_fails_and_moves_nothing(signed_in, trader, org, batch, second_account):
    client = signed_in(trader)
    draft = start(client, batch)
    client.post(step_url(draft, "quantity"), {f"quantity_{batch.pk}": 100})
    client.post(step_url(draft, "destination"), {"kind": "internal", "account": second_account.pk})
    client.post(step_url(draft, "review"))
    transfer_create(organization=org, user=trader, lines=[TransferLine(batch.pk, 10)],  # someone moves it
                    destination=Destination.internal(second_account))
    before = sorted(CertificateBatch.objects.values_list("pk", "status", "account_id"))
    response = client.post(step_url(draft, "confirm"), follow=True)
    assert "has changed since it was selected" in response.content.decode()
    assert Transfer.objects.get(pk=draft.pk).status == Transfer.Status.FAILED
    assert sorted(CertificateBatch.objects.values_list("pk", "status", "account_id")) == before


def test_only_active_batches_of_the_organization_enter_the_wizard(signed_in, trader, batch, foreign_batch):
    client = signed_in(trader)
    response = client.get(reverse("transfers:new") + f"?batch={foreign_batch.pk}", follow=True)
    assert "Select one or more active batches" in response.content.decode()
    assert not Transfer.objects.filter(status="draft").exists()


def test_viewer_gets_403_and_outsider_404_at_every_step(signed_in, trader, viewer, outsider, batch):
    draft = start(signed_in(trader), batch)
    viewer_client = signed_in(viewer)
    assert viewer_client.get(reverse("transfers:new") + f"?batch={batch.pk}").status_code == 403
    for step in ("quantity", "destination", "review", "confirm"):
        assert viewer_client.get(step_url(draft, step)).status_code == 403
        assert viewer_client.post(step_url(draft, step)).status_code == 403
    outsider_client = signed_in(outsider)
    for step in ("quantity", "destination", "review", "confirm"):
        assert outsider_client.get(step_url(draft, step)).status_code == 404
        assert outsider_client.post(step_url(draft, step)).status_code == 404
    assert outsider_client.get(reverse("transfers:done", args=[draft.pk])).status_code == 404


def test_organization_type_ahead_excludes_own_and_suspended(signed_in, trader, org, counterparty):
    from registry.models import Organization

    from .factories import OrganizationFactory
    OrganizationFactory(name="Lakeshore Suspended Holdings", status=Organization.Status.SUSPENDED)
    content = signed_in(trader).get(reverse("transfers:organization_search") + "?organization=Lake").content.decode()
    assert counterparty.public_id in content and "Suspended" not in content
    own = signed_in(trader).get(reverse("transfers:organization_search") + "?organization=Prairie").content.decode()
    assert org.public_id not in own


def test_organization_type_ahead_finds_a_partial_mm_id(signed_in, trader, org, counterparty):
    from .factories import OrganizationFactory

    for n in range(12):
        OrganizationFactory(name=f"Other Wind {n}")
    client = signed_in(trader)

    def found(text):
        content = client.get(reverse("transfers:organization_search"), {"organization": text}).content.decode()
        return re.findall(r"\((MM\d+)\)", content)

    wanted = counterparty.public_id  # e.g. MM00004
    by_digits, by_start = found(wanted[-4:]), found(wanted[:6].lower())  # "0004", "mm0000"
    assert wanted in by_digits and all(wanted[-4:] in public_id for public_id in by_digits)
    assert wanted in by_start and all(public_id.startswith(wanted[:6]) for public_id in by_start)
    assert org.public_id not in found(org.public_id[-4:])  # never one's own


def test_summaries_hold_the_right_serial_ranges(signed_in, trader, org, batch, counterparty):
    transfer = transfer_create(organization=org, user=trader, lines=[TransferLine(batch.pk, 300)],
                               destination=Destination.to_organization(counterparty), notes="=cmd|' /C calc'!A0")
    client = signed_in(trader)
    text = b"".join(client.get(reverse("transfers:summary_csv", args=[transfer.pk])).streaming_content).decode()
    base = batch.certificate.serial_base
    assert f"{base}-1 to 300,300" in text and "Total,300" in text
    assert counterparty.public_id in text and "'=cmd" in text
    pdf = client.get(reverse("transfers:summary_pdf", args=[transfer.pk]))
    assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")


@pytest.mark.django_db(transaction=True)
def test_emails_go_to_the_right_people(trader, org, batch, counterparty, counterparty_trader,
                                       counterparty_account, viewer):
    from registry.models import Membership
    from transfers.services import transfer_accept

    from .factories import member
    counterparty_viewer = member(counterparty, Membership.Role.VIEWER)
    mail.outbox.clear()
    transfer = transfer_create(organization=org, user=trader, lines=[TransferLine(batch.pk, 300)],
                               destination=Destination.to_organization(counterparty))
    to_sender, to_recipient = sorted(mail.outbox, key=lambda m: m.to != [trader.email])
    assert to_sender.to == [trader.email] and "pending" in to_sender.subject
    assert to_recipient.to == [counterparty_trader.email]
    assert counterparty_viewer.email not in to_recipient.to and viewer.email not in to_recipient.to
    assert "Accept it into one of your active accounts" in to_recipient.body
    assert to_recipient.alternatives[0].mimetype == "text/html"
    mail.outbox.clear()
    transfer_accept(transfer=transfer, user=counterparty_trader, organization=counterparty,
                    account=counterparty_account)
    assert {tuple(m.to) for m in mail.outbox} == {(trader.email,), (counterparty_trader.email,)}
    assert all("accepted" in m.subject for m in mail.outbox)


def test_step_two_shows_what_was_posted_escaped_after_an_error(signed_in, trader, batch, second_account,
                                                              tracking_system):
    client = signed_in(trader)
    draft = start(client, batch)
    client.post(step_url(draft, "quantity"), {f"quantity_{batch.pk}": 5})
    response = client.post(step_url(draft, "destination"), {
        "kind": "export", "tracking_system": tracking_system.pk, "recipient_name": "",
        "recipient_account_ref": '"><script>alert(1)</script>', "notes": "<b>late</b> & early"})
    text = response.content.decode()
    assert response.status_code == 200 and "Enter the recipient&#x27;s name" in text
    assert 'type="radio" name="kind" value="export" required id="id_kind_2" checked' in text
    assert f'<option value="{tracking_system.pk}" selected>' in text
    assert '<option value="" selected>Choose an account</option>' in text
    assert "<script>alert(1)</script>" not in text and "&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "&lt;b&gt;late&lt;/b&gt; &amp; early</textarea>" in text
    assert 'aria-invalid="true"' in text and Transfer.objects.get(pk=draft.pk).draft.get("kind") is None


def test_going_back_to_step_two_shows_the_saved_choice(signed_in, trader, batch, second_account):
    client = signed_in(trader)
    draft = start(client, batch)
    client.post(step_url(draft, "quantity"), {f"quantity_{batch.pk}": 5})
    client.post(step_url(draft, "destination"), {"kind": "internal", "account": second_account.pk, "notes": "Q3"})
    text = client.get(step_url(draft, "destination")).content.decode()
    assert 'value="internal" required id="id_kind_0" checked' in text
    assert f'<option value="{second_account.pk}" selected>{second_account.name} ({second_account.public_id})' in text
    assert ">\nQ3</textarea>" in text


def test_inactive_tracking_systems_and_closed_accounts_are_not_choices(signed_in, trader, org, batch,
                                                                      second_account, tracking_system):
    tracking_system.is_active = False
    tracking_system.save()
    second_account.status = "closed"
    second_account.save()
    open_account = AccountFactory(organization=org, name="Open")
    client = signed_in(trader)
    draft = start(client, batch)
    page = client.post(step_url(draft, "quantity"), {f"quantity_{batch.pk}": 5}, follow=True).content.decode()
    assert f'value="{tracking_system.pk}"' not in page and f'value="{second_account.pk}"' not in page
    assert f'<option value="{open_account.pk}">' in page
    for data in ({"kind": "export", "tracking_system": tracking_system.pk, "recipient_name": "Cascade"},
                 {"kind": "internal", "account": second_account.pk}):
        response = client.post(step_url(draft, "destination"), data)
        assert response.status_code == 200 and "Select a valid choice" in response.content.decode()
    assert Transfer.objects.get(pk=draft.pk).draft["step"] == 2


def test_a_confirm_takes_the_transferred_batches_out_of_the_selection(signed_in, trader, issue, second_account):
    first, second, third = issue(10), issue(20), issue(30)
    client = signed_in(trader)
    session = client.session
    session[SELECTION_KEY] = [first.pk, second.pk]
    session.save()
    # A link naming its batch leaves the dashboard's selection alone...
    draft = start(client, third)
    assert client.session[SELECTION_KEY] == [first.pk, second.pk]
    walk(client, draft, {third.pk: 30}, {"kind": "internal", "account": second_account.pk})
    assert client.session[SELECTION_KEY] == [first.pk, second.pk]
    # ...and the Transfer button takes the selection, which is empty once it moved.
    assert client.get(reverse("transfers:new")).status_code == 302
    draft = Transfer.objects.filter(status=Transfer.Status.DRAFT).latest("pk")
    assert [batch_id for batch_id, _ in draft.draft["lines"]] == [first.pk, second.pk]
    walk(client, draft, {first.pk: 10, second.pk: 5}, {"kind": "internal", "account": second_account.pk})
    assert Transfer.objects.get(pk=draft.pk).status == Transfer.Status.COMPLETE
    assert client.session[SELECTION_KEY] == []


def test_the_transfer_button_takes_the_selected_batches_still_active_in_the_dashboards_order(
        signed_in, org, trader, holdings, foreign_batch, counterparty):
    pending = transfer_create(organization=org, user=trader, lines=[TransferLine(holdings["wind"].pk, 100)],
                              destination=Destination.to_organization(counterparty))
    wind_rest = CertificateBatch.objects.get(certificate=holdings["wind"].certificate, status="active")
    client = signed_in(trader)
    session = client.session
    session[SELECTION_KEY] = [*CertificateBatch.objects.values_list("pk", flat=True), 10**9]
    session.save()
    assert client.get(reverse("transfers:new")).status_code == 302
    draft = Transfer.objects.get(status=Transfer.Status.DRAFT)
    # Active and the organization's: not the superseded wind batch, not the 100 pending in `pending`,
    # not another organization's; in the dashboard's order (vintage, certificate, serials).
    assert [batch_id for batch_id, _ in draft.draft["lines"]] == [wind_rest.pk, holdings["solar"].pk,
                                                                   holdings["hydro"].pk]
    assert pending.items.get().batch.status == "pending"


def test_the_draft_and_its_batches_are_read_as_the_orm_reads_them_and_only_for_their_user(
        trader, manager, org, batch, foreign_batch, counterparty, counterparty_trader):
    """draft_for and draft_batches are written in SQL (transfers/selectors.py): the same instances
    as the ORM's, scoped as every other read of a page."""
    def field_values(instance):
        return {field.attname: getattr(instance, field.attname) for field in type(instance)._meta.concrete_fields}

    draft = Transfer.objects.create(organization=org, created_by=trader,
                                    draft={"lines": [[foreign_batch.pk, 1], [batch.pk, 5]], "step": 2})
    found = draft_for(pk=draft.pk, organization=org, user=trader)
    assert field_values(found) == field_values(Transfer.objects.get(pk=draft.pk))
    (read, quantity), = draft_batches(found, org)  # another organization's batch is left out
    assert quantity == 5 and field_values(read) == field_values(CertificateBatch.objects.get(pk=batch.pk))
    assert field_values(read.certificate) == field_values(batch.certificate)
    assert field_values(read.certificate.generator) == field_values(batch.certificate.generator)
    for organization, user in [(org, manager), (counterparty, counterparty_trader)]:  # a teammate, an outsider
        with pytest.raises(Http404):
            draft_for(pk=draft.pk, organization=organization, user=user)
