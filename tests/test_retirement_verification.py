"""A retirement's public proof: the statement PDF and the verification page anyone can open."""

import copy
import hashlib
import io
import json
import re

import pytest
from django.db import transaction
from django.urls import reverse
from pypdf import PdfReader

from certificates.models import Generator
from ledger.models import LedgerEvent
from retirements.models import REFERENCE_ALPHABET, REFERENCE_LENGTH
from retirements.services import retirement_privacy_set, retirement_records_freeze
from retirements.statements import record_digest, retirement_record
from transfers.services import TransferLine, TransferRefused

from .conftest import retire
from .factories import RetirementOptionFactory


@pytest.fixture
def retirement(org, trader, issue, retirement_account):
    first, second = issue(1000), issue(500)
    return retire(organization=org, user=trader, account=retirement_account, beneficiary="Twin Cities Library",
                  lines=[TransferLine(first.pk, 250), TransferLine(second.pk, 500)]).retirement


def verify_url(reference, suffix="/"):
    return f"/verify/{reference}{suffix}"


def statement_text(client, retirement):
    response = client.get(reverse("retirements:statement_pdf", args=[retirement.transfer_id]))
    assert response["Content-Type"] == "application/pdf"
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)


def canonical_digest(record):
    """The digest as a third party recomputes it from the record, with nothing of the portal's."""
    return hashlib.sha256(json.dumps(record, sort_keys=True, separators=(",", ":"),
                                     ensure_ascii=False).encode("utf-8")).hexdigest()


def test_the_statement_prints_the_record_and_its_digest(signed_in, trader, retirement, retirement_account):
    text = statement_text(signed_in(trader), retirement)
    record = retirement_record(retirement)
    for fact in ["retirement statement", retirement.reference, "Prairie Wind Energy", "Minnesota RES",
                 "Twin Cities Library", "750 certificates in 2 batches", verify_url(retirement.reference)]:
        assert fact in text.replace("\n", " "), fact
    for batch in record["batches"]:
        assert batch["serial_number"] in text
    assert re.search(r"\b[0-9a-f]{64}\b", text)[0] == canonical_digest(record)
    assert retirement_account.public_id not in text  # no account ids on the public proof


def test_once_frozen_the_statement_lists_the_batches_as_the_record_keeps_them(signed_in, trader, retirement):
    with transaction.atomic():  # as the public log takes it
        (record,) = retirement_records_freeze([retirement]).values()
    generator = retirement.transfer.items.first().batch.certificate.generator
    Generator.objects.filter(pk=generator.pk).update(name="Renamed Later Wind")
    text = statement_text(signed_in(trader), retirement)
    assert "Renamed Later Wind" not in text
    assert f"{generator.code} {record['batches'][0]['generator']['name']}" in text.replace("\n", " ")
    assert re.search(r"\b[0-9a-f]{64}\b", text)[0] == canonical_digest(record)


def test_the_verification_page_shows_exactly_the_public_record_without_sign_in(client, signed_in, trader,
                                                                                  retirement, retirement_account):
    statement = statement_text(signed_in(trader), retirement)
    client.logout()
    response = client.get(verify_url(retirement.reference, ".json"))
    assert response.status_code == 200
    body = response.json()
    record = body["record"]
    assert set(record) == {"registry", "reference", "retired_at", "organization", "option", "compliance_period",
                           "reporting_period", "beneficiary", "batches", "total_quantity"}
    assert [batch["serial_number"] for batch in record["batches"]] == [
        f"{b.certificate.serial_base}-{b.serial_start} to {b.serial_end}"
        for b in sorted((item.batch for item in retirement.transfer.items.all()),
                        key=lambda b: (b.certificate.period, b.certificate.generator.code, b.certificate_id))]
    assert body["digest"]["value"] == canonical_digest(record) == record_digest(record)
    assert body["digest"]["value"] in statement  # the statement's digest matches the public record
    page = client.get(verify_url(retirement.reference)).content.decode()
    assert body["digest"]["value"] in page and "Twin Cities Library" in page
    assert all(batch["serial_number"] in page for batch in record["batches"])
    assert retirement_account.public_id not in page and retirement_account.public_id not in response.content.decode()


def test_a_changed_record_gives_another_digest(retirement):
    record = retirement_record(retirement)
    altered = copy.deepcopy(record)
    altered["batches"][0]["quantity"] += 1
    assert canonical_digest(altered) != canonical_digest(record)
    altered = copy.deepcopy(record)
    altered["beneficiary"] = "Someone Else"
    assert canonical_digest(altered) != canonical_digest(record)


def test_a_private_retirement_reveals_nothing_but_its_validity(client, signed_in, trader, org, retirement):
    retirement_privacy_set(organization=org, user=trader, retirement=retirement, private=True)
    client.logout()
    assert client.get(verify_url(retirement.reference, ".json")).json() == {
        "reference": retirement.reference, "valid": True, "private": True, "log": None}  # not yet in the log
    page = client.get(verify_url(retirement.reference)).content.decode()
    assert "made its details private" in page
    for secret in ["Twin Cities Library", "Prairie Wind Energy", "Minnesota RES", "M805"]:
        assert secret not in page


def test_the_organization_makes_a_retirement_private_from_its_page(signed_in, trader, viewer, retirement):
    client = signed_in(trader)
    url = reverse("retirements:privacy", args=[retirement.transfer_id])
    assert "Make it private" in client.get(reverse("transfers:detail", args=[retirement.transfer_id])).content.decode()
    assert client.post(url, {"private": "1"}).status_code == 302
    retirement.refresh_from_db()
    assert retirement.is_private
    assert LedgerEvent.objects.filter(kind=LedgerEvent.Kind.RETIREMENT_PRIVACY, transfer=retirement.transfer,
                                      after={"private": True}).count() == 1
    assert signed_in(viewer).post(url, {"private": "0"}).status_code == 403
    retirement.refresh_from_db()
    assert retirement.is_private


def test_another_organization_cannot_change_a_retirement_s_privacy(counterparty, counterparty_trader, retirement,
                                                                    signed_in):
    with pytest.raises(TransferRefused, match="There is no such retirement"):
        retirement_privacy_set(organization=counterparty, user=counterparty_trader, retirement=retirement,
                               private=True)
    url = reverse("retirements:privacy", args=[retirement.transfer_id])
    assert signed_in(counterparty_trader).post(url, {"private": "1"}).status_code == 404


@pytest.mark.parametrize("guess", ["0" * REFERENCE_LENGTH, "not-a-reference", "I" * REFERENCE_LENGTH, "1"])
def test_a_guessed_reference_is_a_404(client, retirement, guess):
    assert client.get(verify_url(guess)).status_code == 404
    assert client.get(verify_url(guess, ".json")).status_code == 404


def test_the_reference_is_read_in_any_case(client, retirement):
    assert client.get(verify_url(retirement.reference.lower())).status_code == 200
    assert set(retirement.reference) <= set(REFERENCE_ALPHABET)


def test_an_address_asking_too_often_is_throttled(client, settings, retirement, still_clock):
    settings.VERIFY_REQUESTS_PER_MINUTE = 3
    # The count starts again each minute: the throttle's clock stands still, so all five are in one.
    answers = [client.get(verify_url(retirement.reference), REMOTE_ADDR="203.0.113.9").status_code
               for _ in range(4)]
    assert answers == [200, 200, 200, 429]
    assert client.get(verify_url("0" * REFERENCE_LENGTH), REMOTE_ADDR="203.0.113.9").status_code == 429
    assert client.get(verify_url(retirement.reference), REMOTE_ADDR="198.51.100.7").status_code == 200


def test_the_statement_is_the_organization_s_own(signed_in, counterparty_trader, retirement):
    url = reverse("retirements:statement_pdf", args=[retirement.transfer_id])
    assert signed_in(counterparty_trader).get(url).status_code == 404


@pytest.mark.parametrize(("option", "counts_toward"), [
    (("Voluntary claim", "voluntary_claim", "voluntary", ""), "Voluntary claim"),
    (("Green-e Energy certified sale", "green_e", "voluntary", ""), "Green-e Energy certified sale (voluntary)"),
    (("Illinois RPS", "state_rps", "compliance", "IL"), "Illinois RPS (State RPS, compliance, IL)"),
])
def test_public_documents_say_what_a_retirement_counts_toward_once(
        client, signed_in, trader, org, issue, retirement_account, option, counts_toward):
    """The option's type, main reason and state are added only where its name does not say them."""
    name, type_, reason, state = option
    retired = retire(organization=org, user=trader, account=retirement_account, lines=[TransferLine(issue(10).pk, 10)],
                     option=RetirementOptionFactory(name=name, type=type_, reason=reason, state=state,
                                                    requires_compliance_period=False)).retirement
    statement = re.sub(r"\s+", " ", statement_text(signed_in(trader), retired))
    assert f"Counts toward {counts_toward} Compliance period" in statement
    client.logout()
    page = client.get(verify_url(retired.reference)).content.decode()
    assert f"<dt>Counts toward</dt><dd>{counts_toward}</dd>" in page
    assert page.count(name) == 1
