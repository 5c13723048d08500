"""Retire from the Active tab: the wizard's retirement flow, with and without JavaScript."""

import pytest
from django.core import mail
from django.urls import reverse

from certificates.models import CertificateBatch
from ledger.verification import ledger_breaches
from retirements.models import Retirement
from transfers.models import Transfer

from .conftest import ledger_state
from .factories import RetirementOptionFactory
from .test_wizard import HTMX, step_url


def start(client, *batches):
    response = client.get(reverse("transfers:retire") + "?" + "&".join(f"batch={b.pk}" for b in batches))
    assert response.status_code == 302, response
    draft = Transfer.objects.filter(status=Transfer.Status.DRAFT).latest("pk")
    assert response.url == step_url(draft, "quantity")
    assert draft.kind == Transfer.Kind.RETIREMENT
    return draft


@pytest.fixture
def option(db):
    return RetirementOptionFactory()


def details(retirement_account, retirement_option, **fields):
    return {"account": retirement_account.pk, "option": retirement_option.pk, "compliance_period": "2024",
            "period_start": "2024-01-01",
            "period_end": "2024-12-31", "beneficiary": "", "notes": "MN RES 2024 filing"} | fields


def test_retirement_end_to_end_without_javascript(signed_in, trader, manager, batch, retirement_account, option,
                                                  account, django_capture_on_commit_callbacks):
    client = signed_in(trader)
    draft = start(client, batch)
    page = client.get(step_url(draft, "quantity")).content.decode()
    assert "Retire certificates" in page and "the lowest serial numbers retire" in page
    assert f'aria-label="Quantity to retire from {batch.serial_number}"' in page and "Quantity to transfer" not in page
    assert client.post(step_url(draft, "quantity"), {f"quantity_{batch.pk}": 250}).status_code == 302
    page = client.get(step_url(draft, "destination")).content.decode()
    assert "Step 2: Retirement details" in page and "Minnesota RES" in page
    assert client.post(step_url(draft, "destination"), details(retirement_account, option)).status_code == 302
    review = client.get(step_url(draft, "review")).content.decode()
    assert "M805-MN-01-2010" in review
    assert f"{batch.certificate.serial_base}-1 to 250" in review  # retires
    assert f"{batch.certificate.serial_base}-251 to 1000" in review  # stays
    assert "Minnesota RES (State RPS, compliance, MN)" in review and "2024-01-01 to 2024-12-31" in review
    confirm = client.get(step_url(draft, "confirm")).content.decode()
    assert ">Retire</button>" in confirm
    assert (f"When you select “Retire”, 250 certificates in 1 batch leave {account} and are retired into "
            f"{retirement_account}, counting toward Minnesota RES (State RPS, compliance, MN).") in confirm
    assert f"{batch.certificate.serial_base}-251 to 1000" not in confirm  # what stays: step 3's
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(step_url(draft, "confirm"))
    assert response.url == reverse("transfers:done", args=[draft.pk])
    transfer = Transfer.objects.get(pk=draft.pk)
    retirement = Retirement.objects.get(transfer=transfer)
    assert (transfer.kind, transfer.status, transfer.notes) == ("retirement", "complete", "MN RES 2024 filing")
    assert (retirement.option, retirement.compliance_period, str(retirement.period_end)) == (option, 2024, "2024-12-31")
    retired = transfer.items.get().batch
    assert (retired.serial_start, retired.serial_end, retired.status) == (1, 250, CertificateBatch.Status.RETIRED)
    done = client.get(response.url).content.decode()
    assert "Certificates retired" in done and retirement.reference in done
    assert sorted(address for message in mail.outbox for address in message.to) == [manager.email, trader.email]
    assert ledger_breaches() == []


def test_retirement_with_htmx_answers_each_step_in_one_round_trip(signed_in, trader, batch, retirement_account,
                                                                  option):
    client = signed_in(trader)
    page = client.get(reverse("transfers:retire") + f"?batch={batch.pk}",
                      headers={"HX-Request": "true", "HX-Boosted": "true"})
    draft = Transfer.objects.get(status=Transfer.Status.DRAFT)
    assert (page.status_code, page["HX-Push-Url"]) == (200, step_url(draft, "quantity"))

    def post(step, data, goes_to):
        response = client.post(step_url(draft, step), data, headers=HTMX)
        assert (response.status_code, response["HX-Push-Url"]) == (200, goes_to)
        return response.content.decode()

    text = post("quantity", {f"quantity_{batch.pk}": 1000}, step_url(draft, "destination"))
    assert "Step 2: Retirement details" in text and "<html" not in text
    text = post("destination", details(retirement_account, option), step_url(draft, "review"))
    assert "Step 3: Review" in text and "nothing: the whole batch retires" in text
    text = post("confirm", {}, reverse("transfers:done", args=[draft.pk]))
    assert "Certificates retired" in text
    assert Transfer.objects.get(pk=draft.pk).status == Transfer.Status.COMPLETE


@pytest.mark.parametrize("option_fields,posted,field,message", [
    ({}, {"compliance_period": ""}, "compliance_period", "Minnesota RES needs a compliance period (a year)."),
    ({"name": "Beneficial ownership claim", "requires_compliance_period": False, "requires_beneficiary": True},
     {"compliance_period": ""}, "beneficiary", "Beneficial ownership claim needs the name of the beneficiary."),
    ({}, {"period_start": "2024-12-31", "period_end": "2024-01-01"}, "period_end",
     "The reporting period must end on or after its start."),
    ({}, {"compliance_period": "24"}, "compliance_period", "Enter the compliance period as a year from 2000 to 2100."),
    ({}, {"option": ""}, "option", "Choose what the retirement counts toward."),
    ({}, {"account": ""}, "account", "Choose the retirement account."),
])
def test_step_two_refuses_what_the_option_needs_and_says_why(signed_in, trader, batch, retirement_account,
                                                             second_account, option_fields, posted, field, message):
    option = RetirementOptionFactory(**option_fields)
    client = signed_in(trader)
    draft = start(client, batch)
    client.post(step_url(draft, "quantity"), {f"quantity_{batch.pk}": 10})
    response = client.post(step_url(draft, "destination"), details(retirement_account, option, **posted))
    assert response.status_code == 200
    assert response.context["form"].errors[field] == [message]
    assert Transfer.objects.get(pk=draft.pk).draft["step"] == 2


def test_an_active_account_is_not_a_retirement_account(signed_in, trader, batch, second_account, option):
    client = signed_in(trader)
    draft = start(client, batch)
    client.post(step_url(draft, "quantity"), {f"quantity_{batch.pk}": 10})
    response = client.post(step_url(draft, "destination"), details(second_account, option))
    assert response.context["form"].errors["account"] == ["Choose one of your open retirement accounts."]


def test_viewer_gets_403_and_outsider_404_at_every_step(signed_in, trader, viewer, outsider, batch,
                                                         retirement_account, option):
    draft = start(signed_in(trader), batch)
    before = ledger_state()
    viewer_client = signed_in(viewer)
    assert viewer_client.get(reverse("transfers:retire") + f"?batch={batch.pk}").status_code == 403
    for step in ("quantity", "destination", "review", "confirm"):
        assert viewer_client.get(step_url(draft, step)).status_code == 403
        assert viewer_client.post(step_url(draft, step), details(retirement_account, option)).status_code == 403
    outsider_client = signed_in(outsider)  # the same client, signed in as another user
    for step in ("quantity", "destination", "review", "confirm"):
        assert outsider_client.get(step_url(draft, step)).status_code == 404
        assert outsider_client.post(step_url(draft, step), details(retirement_account, option)).status_code == 404
    assert outsider_client.get(reverse("transfers:done", args=[draft.pk])).status_code == 404
    assert ledger_state() == before


def test_the_active_tab_offers_retire_beside_transfer(signed_in, trader, viewer, batch):
    page = signed_in(trader).get(reverse("dashboard:certificates")).content.decode()
    assert 'id="transfer-button"' in page and 'id="retire-button"' in page
    assert 'id="retire-button"' not in signed_in(viewer).get(
        reverse("dashboard:certificates")).content.decode()
