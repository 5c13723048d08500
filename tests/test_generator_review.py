"""The annual generator review (issue 29 item 5): each January a manager confirms every approved
generator's registration; after the deadline an organization with one not confirmed can look but
cannot transfer, retire or upload, by every path, until it is confirmed. Dates come from the review's
clock (certificates.reviews.clock), set by each test, never from the wall clock."""

import datetime
import uuid
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from api.models import ApiKey
from certificates import reviews
from certificates.generator_services import (
    GeneratorDetails,
    generator_approve,
    generator_review_confirm,
    generator_update,
)
from certificates.models import Generator, GeneratorReview
from certificates.periods import ProductionPeriod, registry_zone
from certificates.reviews import (
    annual_review,
    generators_overdue,
    organization_refusal,
    review_notice,
    review_today,
)
from certificates.services import certificate_issue
from instructions.models import InstructionDestination
from instructions.services import DestinationChoice, instruction_create, instructions_run
from issuance.models import GenerationUpload
from issuance.services import generation_upload_create
from ledger.models import LedgerEvent
from mass_uploads.models import MassTransferUpload
from mass_uploads.services import mass_upload_create, mass_upload_process
from registry.services import ServiceError
from transfers.models import Transfer
from transfers.services import (
    Destination,
    TransferLine,
    TransferRefused,
    transfer_accept,
    transfer_create,
    transfer_reject,
)

from .conftest import ledger_state, retire, send
from .factories import AccountFactory, GeneratorFactory, RetirementOptionFactory

LOCKED = ("Prairie Wind Energy has not confirmed its generators' registrations for 2027 (due 2027-01-31). "
          "A manager can confirm them on the Generators page.")
LOCKED_HTML = escape(LOCKED)  # as a page writes it
BEFORE_FIRST, OPEN, DUE_DAY, AFTER = (datetime.date(2026, 12, 31), datetime.date(2027, 1, 10),
                                      datetime.date(2027, 1, 31), datetime.date(2027, 2, 1))


def moment(year, month, day) -> datetime.datetime:
    return datetime.datetime(year, month, day, 12, tzinfo=registry_zone())


def approved_on(generator: Generator, when: datetime.datetime | None) -> Generator:
    """Staff approved `generator` at `when` (a factory's is approved at the wall clock's now, which the
    tests' dates must not depend on)."""
    Generator.objects.filter(pk=generator.pk).update(reviewed_at=when)
    generator.refresh_from_db()
    return generator


@pytest.fixture
def lakeshore_approved_this_year(foreign_batch):
    """The counterparty's generator (foreign_batch's), approved in January 2027: nothing to confirm in 2027."""
    approved_on(foreign_batch.certificate.generator, moment(2027, 1, 5))
    return foreign_batch


@pytest.fixture
def on(monkeypatch):
    """on(date): the review's clock stands on that day (the rules' `today` for every caller)."""
    def _on(day: datetime.date) -> datetime.date:
        monkeypatch.setattr(reviews, "clock", lambda: day)
        return day
    return _on


@pytest.fixture
def approved_last_year(generator):
    """The organization's generator, approved by staff in June 2026: to be confirmed in the 2027 review."""
    return approved_on(generator, moment(2026, 6, 1))


@pytest.fixture
def locked(on, approved_last_year, batch):
    """Prairie Wind Energy holds certificates and is past the 2027 deadline with its generator not confirmed."""
    on(AFTER)
    return batch


# --- the dates ---------------------------------------------------------------------------------------

def test_the_wall_clock_locks_no_organization_whose_generator_was_approved_as_factories_make_them(org, batch):
    assert organization_refusal(org, review_today()) == ""
    assert not generators_overdue(review_today()).exists()


def test_before_the_first_review_opens_nothing_is_due(org, approved_last_year):
    assert annual_review(BEFORE_FIRST) is None
    assert organization_refusal(org, BEFORE_FIRST) == ""
    assert review_notice(org, BEFORE_FIRST) is None


def test_during_january_a_reminder_but_no_lock_up_to_the_deadline_itself(org, approved_last_year):
    for day in (datetime.date(2027, 1, 1), OPEN, DUE_DAY):
        assert organization_refusal(org, day) == ""
        notice = review_notice(org, day)
        assert not notice.overdue and "by 2027-01-31" in notice.text


def test_after_the_deadline_the_organization_is_locked_with_a_plain_message(org, approved_last_year):
    assert organization_refusal(org, AFTER) == LOCKED
    assert organization_refusal(org, datetime.date(2027, 12, 31)) == LOCKED  # until it confirms, all year
    assert review_notice(org, AFTER).overdue
    assert list(generators_overdue(AFTER)) == [approved_last_year]


def test_confirming_lifts_the_lock_until_the_next_year_s_deadline(org, manager, approved_last_year):
    generator_review_confirm(user=manager, organization=org, generator=approved_last_year, today=AFTER)
    assert organization_refusal(org, AFTER) == ""
    assert review_notice(org, AFTER) is None
    assert organization_refusal(org, datetime.date(2028, 1, 31)) == ""
    assert "for 2028 (due 2028-01-31)" in organization_refusal(org, datetime.date(2028, 2, 1))


def test_a_generator_approved_this_year_needs_no_review_until_next_year(org, generator):
    approved_on(generator, moment(2027, 1, 5))
    assert organization_refusal(org, AFTER) == ""
    assert organization_refusal(org, datetime.date(2028, 2, 1)).startswith(
        "Prairie Wind Energy has not confirmed its generators' registrations for 2028")


def test_a_generator_onboarded_before_decisions_were_recorded_is_reviewed(org, generator):
    approved_on(generator, None)
    assert organization_refusal(org, AFTER) == LOCKED


def test_drafts_and_generators_waiting_for_approval_lock_nobody(org, approved_last_year):
    for status in (Generator.Status.DRAFT, Generator.Status.SUBMITTED, Generator.Status.RETURNED):
        Generator.objects.filter(pk=approved_last_year.pk).update(status=status)
        assert organization_refusal(org, AFTER) == ""


def test_the_dates_are_settings(settings, org, approved_last_year):
    settings.REVIEW_OPENS, settings.REVIEW_DEADLINE = (3, 1), (3, 15)
    assert annual_review(datetime.date(2027, 2, 20)) is None  # 2026's: before the first year reviewed
    assert organization_refusal(org, datetime.date(2027, 3, 15)) == ""
    assert "for 2027 (due 2027-03-15)" in organization_refusal(org, datetime.date(2027, 3, 16))
    assert "for 2027 (due 2027-03-15)" in organization_refusal(org, datetime.date(2028, 2, 28))  # 2028's not open yet
    settings.REVIEW_FIRST_YEAR = 2028
    assert organization_refusal(org, datetime.date(2027, 3, 16)) == ""


# --- confirming --------------------------------------------------------------------------------------

def test_a_manager_confirms_and_the_ledger_records_what_was_confirmed(org, manager, approved_last_year):
    confirmation = generator_review_confirm(user=manager, organization=org, generator=approved_last_year, today=OPEN)
    assert (confirmation.year, confirmation.confirmed_by) == (2027, manager)
    event = LedgerEvent.objects.get(kind=LedgerEvent.Kind.GENERATOR_REVIEWED)
    assert (event.actor, event.organization) == (manager, org)
    assert event.after["year"] == 2027
    assert (event.after["code"], event.after["capacity_mw"], event.after["state"]) == ("M805", "100.00", "MN")


def test_a_second_confirmation_for_the_year_is_refused(org, manager, approved_last_year):
    generator_review_confirm(user=manager, organization=org, generator=approved_last_year, today=OPEN)
    with pytest.raises(ServiceError, match="M805's registration is already confirmed for 2027"):
        generator_review_confirm(user=manager, organization=org, generator=approved_last_year, today=AFTER)
    assert GeneratorReview.objects.count() == 1


def test_nothing_to_confirm_is_refused_with_the_reason(org, manager, generator):
    with pytest.raises(ServiceError, match="the first annual review opens on 2027-01-01"):
        generator_review_confirm(user=manager, organization=org, generator=generator, today=BEFORE_FIRST)
    approved_on(generator, moment(2027, 1, 5))
    with pytest.raises(ServiceError, match="after the 2027 review opened: there is nothing to confirm until the "
                                           "2028 review opens on 2028-01-01"):
        generator_review_confirm(user=manager, organization=org, generator=generator, today=AFTER)
    Generator.objects.filter(pk=generator.pk).update(status=Generator.Status.DRAFT)
    with pytest.raises(ServiceError, match="M805 is draft, not approved"):
        generator_review_confirm(user=manager, organization=org, generator=generator, today=AFTER)
    assert not GeneratorReview.objects.exists()


def test_traders_viewers_and_outsiders_cannot_confirm(org, trader, viewer, outsider, approved_last_year, signed_in,
                                                      on):
    on(OPEN)
    for user in (trader, viewer, outsider):
        with pytest.raises(ServiceError):
            generator_review_confirm(user=user, organization=org, generator=approved_last_year, today=OPEN)
    url = reverse("generators:confirm", args=[approved_last_year.pk])
    assert signed_in(trader).post(url).status_code == 403
    assert signed_in(viewer).post(url).status_code == 403
    assert signed_in(outsider).post(url).status_code == 404
    assert not GeneratorReview.objects.exists()


def test_the_generator_page_lists_what_is_confirmed_and_a_manager_confirms_there(
        org, manager, viewer, approved_last_year, signed_in, on):
    on(OPEN)
    detail = reverse("generators:detail", args=[approved_last_year.pk])
    page = signed_in(viewer).get(detail).content.decode()
    assert "Confirm this one for 2027 by 2027-01-31." in page
    assert "Confirm this registration for 2027" not in page and "its managers confirm it" in page
    client = signed_in(manager)
    page = client.get(detail).content.decode()
    assert "its name, fuel type, technology, capacity, state or province" in page
    assert "Confirm this registration for 2027" in page
    listing = client.get(reverse("generators:list")).content.decode()
    assert "To confirm for 2027" in listing and "The annual generator review is open" in listing
    response = client.post(reverse("generators:confirm", args=[approved_last_year.pk]), follow=True)
    page = response.content.decode()
    assert "Generator M805&#x27;s registration is confirmed for 2027." in page
    assert "Confirmed for 2027 by" in page and "Its next annual review opens on 2028-01-01." in page
    assert "Confirmed generator M805&#x27;s registration for 2027 in the annual review." in page  # its history
    assert "To confirm for 2027" not in client.get(reverse("generators:list")).content.decode()


def test_a_change_that_sends_it_back_for_approval_stands_for_the_review(
        org, manager, staff, approved_last_year, monkeypatch, on):
    """Changing a key attribute is the owner's other answer to the review: while staff decide, it locks
    nobody; staff's approval, after the review opened, is this year's."""
    on(AFTER)
    details = GeneratorDetails(name=approved_last_year.name, fuel_type="wind", technology="onshore_wind",
                               capacity_mw=Decimal("120"), state="MN", commissioned_on=datetime.date(2015, 6, 1),
                               eligibilities=["MN RES", "Green-e"])
    changed = generator_update(user=manager, organization=org, generator=approved_last_year, details=details)
    assert changed.status == Generator.Status.SUBMITTED
    assert organization_refusal(org, AFTER) == ""
    monkeypatch.setattr(timezone, "now", lambda: moment(2027, 2, 10))  # staff decide on 10 February
    generator_approve(user=staff, generator=changed)
    assert organization_refusal(org, datetime.date(2027, 2, 11)) == ""
    assert not GeneratorReview.objects.exists()


# --- the lock, on every path -------------------------------------------------------------------------

def test_the_transfer_service_refuses_and_changes_nothing(locked, org, trader, second_account, counterparty):
    before = ledger_state()
    for destination in (Destination.internal(second_account), Destination.to_organization(counterparty)):
        with pytest.raises(TransferRefused) as refusal:
            transfer_create(organization=org, user=trader, lines=[TransferLine(locked.pk, 10)],
                            destination=destination)
        assert str(refusal.value) == LOCKED
    assert ledger_state() == before


def test_retiring_is_refused_and_changes_nothing(locked, org, trader, retirement_account):
    before = ledger_state()
    with pytest.raises(TransferRefused, match="has not confirmed its generators' registrations for 2027"):
        retire(organization=org, user=trader, lines=[TransferLine(locked.pk, 10)], account=retirement_account)
    assert ledger_state() == before


@pytest.mark.parametrize("flow", ["transfers:new", "transfers:retire"])
def test_the_wizard_refuses_at_its_start_and_says_why_on_the_dashboard(locked, trader, signed_in, flow):
    client = signed_in(trader)
    response = client.get(reverse(flow) + f"?batch={locked.pk}", follow=True)
    assert response.redirect_chain[-1][0] == reverse("dashboard:certificates")
    assert LOCKED_HTML in response.content.decode()
    assert not Transfer.objects.exists()  # not even a draft


def test_a_draft_started_before_the_deadline_is_refused_at_confirm(on, approved_last_year, batch, org, trader,
                                                                   second_account):
    on(DUE_DAY)
    draft = Transfer.objects.create(organization=org, created_by=trader, status=Transfer.Status.DRAFT, draft={})
    on(AFTER)
    before = ledger_state()
    with pytest.raises(TransferRefused, match="for 2027 \\(due 2027-01-31\\)"):
        transfer_create(organization=org, user=trader, lines=[TransferLine(batch.pk, 10)],
                        destination=Destination.internal(second_account), draft=draft)
    assert ledger_state() == before
    draft.refresh_from_db()
    assert draft.status == Transfer.Status.DRAFT


def post(client, path, body):
    return client.post(path, body, format="json", HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()))


def test_the_api_refuses_transfers_retirements_and_mass_uploads(locked, api_as, org, manager, second_account,
                                                                retirement_account, mass_media):
    RetirementOptionFactory()
    client = api_as(manager, org, ApiKey.Scope.RETIRE)
    before = ledger_state()
    transfer = post(client, "/api/v1/transfers/", {"lines": [{"batch": locked.pk, "quantity": 10}],
                                                   "destination": {"type": "internal",
                                                                   "account": second_account.public_id}})
    retirement = post(client, "/api/v1/retirements/", {
        "lines": [{"batch": locked.pk, "quantity": 10}], "account": retirement_account.public_id,
        "option": "Minnesota RES", "compliance_period": 2024})
    upload = client.post("/api/v1/mass-uploads/", {"file": SimpleUploadedFile("t.csv", b"Serial Number\r\n"),
                                                   "kind": "transfer"}, format="multipart",
                         HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()))
    for response in (transfer, retirement, upload):
        assert response.status_code == 422, response.content
        assert response["Content-Type"] == "application/problem+json"
        assert response.json()["detail"] == LOCKED  # the request as a whole
    assert ledger_state() == before
    assert not MassTransferUpload.objects.exists()


def test_the_mass_upload_page_refuses_the_file_and_stores_nothing(locked, trader, signed_in, mass_media):
    client = signed_in(trader)
    response = client.post(reverse("mass_uploads:uploads"), {
        "file": SimpleUploadedFile("t.csv", b"Serial Number,Quantity,Organization ID,Account ID,Notes\r\n"),
        "kind": "transfer"})
    assert response.status_code == 200
    assert LOCKED_HTML in response.content.decode()
    assert not MassTransferUpload.objects.exists()


def test_a_mass_file_queued_before_the_deadline_and_run_after_it_fails_and_changes_nothing(
        on, approved_last_year, batch, org, trader, second_account, mass_media):
    on(DUE_DAY)
    content = ("Serial Number,Quantity,Organization ID,Account ID,Notes\r\n"
               f"{batch.serial_number},10,,{second_account.public_id},\r\n")
    upload = mass_upload_create(organization=org, user=trader, upload=SimpleUploadedFile("t.csv", content.encode()))
    on(AFTER)
    before = ledger_state()
    mass_upload_process(upload_id=upload.pk)
    upload.refresh_from_db()
    assert upload.status == MassTransferUpload.Status.FAILED
    assert any(LOCKED in error["message"] for error in upload.errors), upload.errors
    assert ledger_state() == before


def test_generation_data_uploads_are_refused(locked, org, trader, mass_media):
    with pytest.raises(ServiceError, match="has not confirmed its generators' registrations for 2027"):
        generation_upload_create(organization=org, user=trader,
                                 upload=SimpleUploadedFile("g.csv", b"Generator ID,Month,MWh\r\n"))
    assert not GenerationUpload.objects.exists()


def test_a_standing_instruction_of_a_locked_organization_is_skipped_and_its_managers_told(
        on, approved_last_year, org, trader, staff, account, second_account, manager):
    instruction_create(organization=org, user=trader, generator=approved_last_year,
                       from_vintage=ProductionPeriod.month(2026, 1), percentage=Decimal(50),
                       destinations=[DestinationChoice(kind=InstructionDestination.Kind.OWN_ACCOUNT,
                                                       account=second_account)])
    on(AFTER)
    certificate = certificate_issue(user=staff, generator=approved_last_year, period=ProductionPeriod.month(2026, 12),
                                    quantity=100, account=account)
    [run] = instructions_run(certificate=certificate, user=staff)
    assert (run.status, run.tell_owner, run.quantity_moved) == ("skipped", True, 0)
    assert run.message == f"{LOCKED} The certificates stay where they were issued."
    assert not Transfer.objects.exists()


def test_accepting_and_rejecting_incoming_transfers_stay_allowed(
        locked, org, trader, counterparty, counterparty_trader, lakeshore_approved_this_year, account):
    """Taking certificates in (or sending them back) moves nothing out of the organization's holdings
    to anyone: the lock is on sending, retiring and uploading."""
    first = send(lakeshore_approved_this_year, counterparty_trader, counterparty, org, quantity=10)
    second = send(Transfer.objects.get().items.get().batch.parent.children.get(status="active"),
                  counterparty_trader, counterparty, org, quantity=20)
    transfer_accept(transfer=first, user=trader, organization=org, account=account)
    transfer_reject(transfer=second, user=trader, organization=org)
    assert set(Transfer.objects.values_list("status", flat=True)) == {"complete", "rejected"}


def test_looking_still_works_and_the_dashboard_says_why_with_a_link(locked, viewer, trader, signed_in):
    client = signed_in(trader)
    page = client.get(reverse("dashboard:certificates")).content.decode()
    assert LOCKED_HTML in page and "Transfers, retirements and uploads are stopped." in page
    assert f'href="{reverse("generators:list")}"' in page
    assert client.get(reverse("dashboard:download")).status_code == 200
    assert client.get(reverse("dashboard:certificates") + "?tab=transactions").status_code == 200
    assert LOCKED_HTML in signed_in(viewer).get(reverse("generators:list")).content.decode()


def test_the_dashboard_reminds_during_january_and_says_nothing_once_confirmed(
        on, approved_last_year, org, manager, trader, signed_in):
    on(OPEN)
    client = signed_in(trader)
    page = client.get(reverse("dashboard:certificates")).content.decode()
    assert "The annual generator review is open" in page and "by 2027-01-31" in page
    generator_review_confirm(user=manager, organization=org, generator=approved_last_year, today=OPEN)
    assert 'id="review-notice"' not in client.get(reverse("dashboard:certificates")).content.decode()


def test_confirming_lifts_the_lock_for_every_path(locked, org, manager, trader, second_account, approved_last_year):
    generator_review_confirm(user=manager, organization=org, generator=approved_last_year, today=review_today())
    transfer = transfer_create(organization=org, user=trader, lines=[TransferLine(locked.pk, 10)],
                               destination=Destination.internal(second_account))
    assert transfer.status == Transfer.Status.COMPLETE


def test_another_organization_is_not_locked_by_ours(locked, counterparty, counterparty_trader,
                                                    lakeshore_approved_this_year):
    other = AccountFactory(organization=counterparty, name="Second")
    transfer = transfer_create(organization=counterparty, user=counterparty_trader,
                               lines=[TransferLine(lakeshore_approved_this_year.pk, 5)],
                               destination=Destination.internal(other))
    assert transfer.status == Transfer.Status.COMPLETE


# --- registry staff ----------------------------------------------------------------------------------

def test_staff_see_who_is_overdue(on, approved_last_year, org, manager, admin_client, counterparty):
    confirmed = GeneratorFactory(organization=counterparty, code="M990", name="Lakeshore Wind",
                                 reviewed_at=moment(2026, 3, 1))
    GeneratorReview.objects.create(generator=confirmed, year=2027, confirmed_by=manager)
    GeneratorFactory(organization=counterparty, code="M991", name="New Lakeshore Solar",
                     reviewed_at=moment(2027, 1, 20))
    on(OPEN)
    url = reverse("admin:certificates_generatoroverdueforreview_changelist")
    assert "M805" not in admin_client.get(url).content.decode()  # not overdue before the deadline
    on(AFTER)
    page = admin_client.get(url).content.decode()
    assert "M805" in page and "Prairie Wind Energy" in page and "2027, due 2027-01-31" in page
    assert "M990" not in page and "M991" not in page
    assert "1 generator overdue for the annual review" in admin_client.get("/admin/").content.decode()


def test_the_overdue_list_is_for_staff_only(client, manager, signed_in):
    response = signed_in(manager).get(reverse("admin:certificates_generatoroverdueforreview_changelist"))
    assert response.status_code == 302  # to the admin's sign-in
