"""Generators registered by participants (issue 21 item 1): a manager registers one (a draft), submits it,
registry staff approve it or send it back with a note; a key attribute changed on an approved generator
sends it back for approval; certificates are issued only for an approved generator."""

import datetime
import decimal
from functools import partial

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from accounts.models import Account
from certificates.generator_services import (
    GeneratorDetails,
    generator_approve,
    generator_register,
    generator_send_back,
    generator_submit,
    generator_update,
)
from certificates.models import Certificate, Generator
from certificates.periods import ProductionPeriod
from certificates.services import certificate_issue
from ledger.models import LedgerEvent
from ledger.verification import ledger_breaches
from registry.models import EmailEvent, Membership
from registry.services import ServiceError

from .factories import GeneratorFactory, UserFactory, member
from .test_concurrency import race

Status = Generator.Status
Kind = LedgerEvent.Kind
COD = datetime.date(2019, 11, 1)


def details(account=None, **changes) -> GeneratorDetails:
    fields = {"name": "Blue Earth Wind", "fuel_type": "wind", "technology": "onshore_wind",
              "capacity_mw": decimal.Decimal("120.5"), "state": "MN", "commissioned_on": COD,
              "eligibilities": ["MN RES", " Green-e ", ""], "account": account}
    return GeneratorDetails(**(fields | changes))


def form_data(account=None, **changes) -> dict:
    return {"name": "Blue Earth Wind", "fuel_type": "wind", "technology": "onshore_wind", "capacity_mw": "120.5",
            "state": "MN", "commissioned_on": "2019-11-01", "eligibilities": "MN RES, Green-e",
            "account": account.pk if account else ""} | changes


@pytest.fixture
def registered(manager, org, account):
    """A draft generator of `org`, with its issuance account."""
    return generator_register(user=manager, organization=org, details=details(account))


@pytest.fixture
def submitted(registered, manager, org):
    return generator_submit(user=manager, organization=org, generator=registered)


@pytest.fixture
def approved(submitted, staff):
    return generator_approve(user=staff, generator=submitted)


def generator_state():
    """What a refused change must leave as it was: every generator's columns and the ledger."""
    return (sorted(Generator.objects.values_list("pk", "code", "name", "fuel_type", "technology", "capacity_mw",
                                                 "state", "commissioned_on", "eligibilities", "account_id",
                                                 "status")),
            LedgerEvent.objects.count())


# The state machine

def test_a_registered_generator_is_a_draft_with_an_id_of_its_own(registered, manager, org, account):
    assert registered.status == Status.DRAFT
    assert registered.code.startswith("G") and len(registered.code) == 6 and registered.code[1:].isdigit()
    assert (registered.created_by, registered.organization, registered.account) == (manager, org, account)
    assert registered.eligibilities == ["MN RES", "Green-e"]
    event = LedgerEvent.objects.get(kind=Kind.GENERATOR_REGISTERED)
    assert (event.actor, event.organization) == (manager, org)
    assert event.after["code"] == registered.code
    assert (event.after["capacity_mw"], event.after["commissioned_on"], event.after["status"]) == (
        "120.5", "2019-11-01", "draft")


def test_each_new_generator_gets_the_next_id_passing_over_one_staff_gave_by_hand(manager, org):
    first = generator_register(user=manager, organization=org, details=details())
    number = int(first.code[1:])
    GeneratorFactory(code=f"G{number + 1:05d}")  # onboarded by staff with the ID the sequence would give next
    second = generator_register(user=manager, organization=org, details=details(name="Second"))
    assert second.code == f"G{number + 2:05d}"


def test_draft_submitted_approved(approved, staff, manager, org):
    approved.refresh_from_db()
    assert (approved.status, approved.reviewed_by, approved.review_note) == (Status.APPROVED, staff, "")
    assert approved.submitted_at and approved.reviewed_at
    kinds = list(LedgerEvent.objects.filter(organization=org).values_list("kind", "before__status", "after__status"))
    assert kinds == [(Kind.GENERATOR_REGISTERED, None, "draft"), (Kind.GENERATOR_SUBMITTED, "draft", "submitted"),
                     (Kind.GENERATOR_APPROVED, "submitted", "approved")]


def test_sent_back_with_a_note_then_changed_and_submitted_again(submitted, staff, manager, org, account):
    returned = generator_send_back(user=staff, generator=submitted,
                                   note="  Give the capacity as on the permit: 118 MW. ")
    assert (returned.status, returned.review_note) == (Status.RETURNED, "Give the capacity as on the permit: 118 MW.")
    changed = generator_update(user=manager, organization=org, generator=returned,
                               details=details(account, capacity_mw=decimal.Decimal("118")))
    assert changed.status == Status.RETURNED  # changing a sent-back generator does not submit it
    again = generator_submit(user=manager, organization=org, generator=changed)
    assert again.status == Status.SUBMITTED
    assert generator_approve(user=staff, generator=again).status == Status.APPROVED


def test_send_back_needs_a_note(submitted, staff):
    before = generator_state()
    with pytest.raises(ServiceError, match="a note is required to send a generator back"):
        generator_send_back(user=staff, generator=submitted, note="   ")
    assert generator_state() == before


@pytest.mark.parametrize("status", [Status.DRAFT, Status.APPROVED, Status.RETURNED])
def test_only_a_submitted_generator_is_decided(org, staff, status):
    generator = GeneratorFactory(organization=org, status=status)
    before = generator_state()
    for decide in (lambda: generator_approve(user=staff, generator=generator),
                   lambda: generator_send_back(user=staff, generator=generator, note="No")):
        with pytest.raises(ServiceError, match="is not awaiting approval"):
            decide()
    assert generator_state() == before


def test_only_registry_staff_decide(submitted, manager):
    with pytest.raises(ServiceError, match="Only registry staff"):
        generator_approve(user=manager, generator=submitted)


def test_submitting_needs_an_issuance_account_and_a_commercial_operation_date(manager, org, account):
    draft = generator_register(user=manager, organization=org, details=details(commissioned_on=None))
    with pytest.raises(ServiceError, match="Give the commercial operation date before submitting"):
        generator_submit(user=manager, organization=org, generator=draft)
    draft = generator_update(user=manager, organization=org, generator=draft, details=details())
    with pytest.raises(ServiceError, match="Choose the account its certificates are issued into"):
        generator_submit(user=manager, organization=org, generator=draft)
    draft = generator_update(user=manager, organization=org, generator=draft, details=details(account))
    Account.objects.filter(pk=account.pk).update(status=Account.Status.FROZEN)
    with pytest.raises(ServiceError, match="is no longer an open active account"):
        generator_submit(user=manager, organization=org, generator=draft)


def test_a_generator_under_review_is_not_changed_or_submitted_again(submitted, manager, org, account):
    before = generator_state()
    with pytest.raises(ServiceError, match="is waiting for registry staff's decision; it can be changed once"):
        generator_update(user=manager, organization=org, generator=submitted, details=details(account, name="New"))
    with pytest.raises(ServiceError, match="is already waiting for registry staff's decision"):
        generator_submit(user=manager, organization=org, generator=submitted)
    assert generator_state() == before


@pytest.mark.parametrize("change", [
    {"fuel_type": "solar", "technology": "solar_pv"}, {"technology": "offshore_wind"},
    {"capacity_mw": decimal.Decimal("121")}, {"state": "IA"}, {"eligibilities": ["MN RES"]},
    {"commissioned_on": datetime.date(2019, 12, 1)},
], ids=lambda change: "+".join(change))
def test_a_key_attribute_changed_on_an_approved_generator_sends_it_back_for_approval(approved, manager, org,
                                                                                      account, change):
    changed = generator_update(user=manager, organization=org, generator=approved, details=details(account, **change))
    changed.refresh_from_db()
    assert changed.status == Status.SUBMITTED
    assert [getattr(changed, key) for key in change] == list(change.values())
    event = LedgerEvent.objects.get(kind=Kind.GENERATOR_CHANGED)
    assert (event.before["status"], event.after["status"]) == ("approved", "submitted")
    assert set(event.after) == {"generator", "code", "status", *change}


def test_a_name_or_issuance_account_change_keeps_the_approval(approved, manager, org, second_account):
    changed = generator_update(user=manager, organization=org, generator=approved,
                               details=details(second_account, name="Blue Earth Wind I"))
    changed.refresh_from_db()
    assert (changed.status, changed.name, changed.account) == (Status.APPROVED, "Blue Earth Wind I", second_account)
    event = LedgerEvent.objects.get(kind=Kind.GENERATOR_CHANGED)
    assert event.before == {"generator": approved.pk, "code": approved.code, "name": "Blue Earth Wind",
                            "account_id": approved.account_id}
    assert event.after == {"generator": approved.pk, "code": approved.code, "name": "Blue Earth Wind I",
                           "account_id": second_account.pk}


def test_a_change_that_changes_nothing_is_refused(approved, manager, org, account):
    with pytest.raises(ServiceError, match="Nothing was changed"):
        generator_update(user=manager, organization=org, generator=approved, details=details(account))


# Issuance only for an approved generator

@pytest.mark.parametrize("status", [Status.DRAFT, Status.SUBMITTED, Status.RETURNED])
def test_certificates_are_not_issued_for_a_generator_that_is_not_approved(org, staff, account, status):
    generator = GeneratorFactory(organization=org, code="M777", status=status)
    label = Status(status).label.lower()
    with pytest.raises(ServiceError, match=rf"Generator M777 is not approved \({label}\); certificates are issued "
                                           "only for an approved generator"):
        certificate_issue(user=staff, generator=generator, period=ProductionPeriod.month(2024, 1), quantity=10,
                          account=account)
    assert not Certificate.objects.exists()


def test_an_approved_generator_is_issued_for_and_a_key_change_stops_it(approved, staff, manager, org, account):
    certificate_issue(user=staff, generator=approved, period=ProductionPeriod.month(2024, 1), quantity=10,
                      account=account)
    generator_update(user=manager, organization=org, generator=approved,
                     details=details(account, capacity_mw=decimal.Decimal("200")))
    with pytest.raises(ServiceError, match="is not approved"):
        certificate_issue(user=staff, generator=approved, period=ProductionPeriod.month(2024, 2), quantity=10,
                          account=account)
    assert Certificate.objects.count() == 1
    assert ledger_breaches() == []


# Bad input: a clear message naming the field, nothing changed

@pytest.mark.parametrize(("change", "field", "message"), [
    ({"name": "  "}, "name", "Give the generator a name."),
    ({"capacity_mw": decimal.Decimal("0")}, "capacity_mw", "The capacity must be more than 0 MW."),
    ({"capacity_mw": decimal.Decimal("-5")}, "capacity_mw", "The capacity must be more than 0 MW."),
    ({"capacity_mw": decimal.Decimal("1.255")}, "capacity_mw", "with at most two decimals"),
    ({"capacity_mw": decimal.Decimal("NaN")}, "capacity_mw", "as a number"),
    ({"state": "XX"}, "state", "XX is not a US state or Canadian province"),
    ({"fuel_type": "coal"}, "fuel_type", "Choose a fuel type."),
    ({"technology": "solar_pv"}, "technology", "A wind generator's technology is onshore wind or offshore wind."),
    ({"commissioned_on": datetime.date.today() + datetime.timedelta(days=2)}, "commissioned_on",
     "The commercial operation date cannot be in the future"),
    ({"eligibilities": ["x" * 33]}, "eligibilities", "An eligibility is at most 32 characters"),
])
def test_bad_details_are_refused_naming_the_field(manager, org, account, change, field, message):
    before = generator_state()
    with pytest.raises(ServiceError, match=message.replace("(", r"\(").replace(".", r"\.")) as refused:
        generator_register(user=manager, organization=org, details=details(account, **change))
    assert refused.value.field == field
    assert generator_state() == before


def test_an_account_of_another_organization_or_not_open_active_is_refused(manager, org, counterparty_account,
                                                                          retirement_account):
    before = generator_state()
    with pytest.raises(ServiceError, match=f"Account {counterparty_account.public_id} is not one of Prairie Wind"):
        generator_register(user=manager, organization=org, details=details(counterparty_account))
    with pytest.raises(ServiceError, match="is not an open active account; certificates are issued only into one"):
        generator_register(user=manager, organization=org, details=details(retirement_account))
    assert generator_state() == before


@pytest.mark.parametrize("role", [Membership.Role.TRADER, Membership.Role.VIEWER])
def test_only_a_manager_registers_changes_and_submits(org, account, registered, role):
    user = member(org, role)
    before = generator_state()
    for act in (lambda: generator_register(user=user, organization=org, details=details()),
                lambda: generator_update(user=user, organization=org, generator=registered, details=details(name="X")),
                lambda: generator_submit(user=user, organization=org, generator=registered)):
        with pytest.raises(ServiceError, match="Only a manager of Prairie Wind Energy may do this."):
            act()
    assert generator_state() == before


def test_another_organization_s_generator_is_not_found(registered, outsider, account):
    other_org = outsider.memberships.get().organization
    with pytest.raises(ServiceError, match="No such generator"):
        generator_update(user=outsider, organization=other_org, generator=registered, details=details())
    with pytest.raises(ServiceError, match="No such generator"):
        generator_submit(user=outsider, organization=other_org, generator=registered)


# Concurrency: real parallel connections

@pytest.mark.django_db(transaction=True)
def test_two_staff_deciding_at_once_make_one_decision(org, manager, account):
    first, second = (UserFactory(is_staff=True) for _ in range(2))
    for _ in range(3):
        generator = generator_register(user=manager, organization=org, details=details(account))
        generator_submit(user=manager, organization=org, generator=generator)
        outcomes = race(partial(generator_approve, user=first, generator=generator),
                        partial(generator_send_back, user=second, generator=generator, note="Check the capacity."))
        assert sorted(kind for kind, _ in outcomes) == ["ok", "refused"], outcomes
        assert "is not awaiting approval" in next(message for kind, message in outcomes if kind == "refused")
        decisions = LedgerEvent.objects.filter(kind__in=[Kind.GENERATOR_APPROVED, Kind.GENERATOR_SENT_BACK],
                                               after__generator=generator.pk)
        assert decisions.count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_key_change_racing_an_issuance_never_issues_for_a_generator_under_review(org, manager, account):
    staff = UserFactory(is_staff=True)
    generator = GeneratorFactory(organization=org, account=account)
    outcomes = race(
        lambda: certificate_issue(user=staff, generator=generator, period=ProductionPeriod.month(2024, 1), quantity=5,
                                  account=account),
        lambda: generator_update(user=manager, organization=org, generator=generator,
                                 details=details(account, name=generator.name, capacity_mw=decimal.Decimal("7"))))
    issued, changed = outcomes
    assert changed[0] == "ok", outcomes
    # Either the issuance went first (while the generator was approved), or it was refused: never both changed.
    assert issued[0] == "ok" or "is not approved (submitted for approval)" in issued[1], outcomes
    assert Certificate.objects.exists() == (issued[0] == "ok")
    generator.refresh_from_db()
    assert generator.status == Status.SUBMITTED


# Emails: staff's decision to the organization's managers, after the commit

def test_the_decision_is_emailed_to_the_organization_s_managers(submitted, staff, org, manager, trader,
                                                                 django_capture_on_commit_callbacks):
    other_manager = member(org, Membership.Role.MANAGER, email="second@prairiewind.example")
    opted_out = member(org, Membership.Role.MANAGER, email="quiet@prairiewind.example",
                       email_opt_outs=[EmailEvent.GENERATOR_DECIDED])
    with django_capture_on_commit_callbacks(execute=True):
        generator_send_back(user=staff, generator=submitted, note="Attach the interconnection agreement.")
        assert mail.outbox == []  # nothing before the commit
    [message] = mail.outbox
    assert sorted(message.to) == sorted([manager.email, other_manager.email])
    assert opted_out.email not in message.to and trader.email not in message.to
    assert message.subject.endswith(f"Generator {submitted.code} was sent back: see what to change")
    assert "Attach the interconnection agreement." in message.body
    assert f"/generators/{submitted.pk}/?organization={org.public_id}" in message.body


# Pages: owner, teammate, outsider

def test_the_list_shows_each_generator_plainly_with_the_note_when_sent_back(signed_in, viewer, submitted, staff, org):
    generator_send_back(user=staff, generator=submitted, note="Capacity does not match the permit.")
    GeneratorFactory(organization=org, code="M805", name="Prairie Ridge Wind")
    page = signed_in(viewer).get("/generators/").content.decode()
    assert "Prairie Ridge Wind" in page and "Approved" in page
    assert submitted.code in page and "Sent back" in page and "Capacity does not match the permit." in page
    assert "Register a generator" not in page  # a viewer reads


def test_a_manager_registers_changes_and_submits_through_the_pages(signed_in, manager, org, account):
    client = signed_in(manager)
    assert 'href="/generators/"' in client.get("/certificates/").content.decode()  # in the main navigation
    response = client.post("/generators/new/", form_data(account), follow=True)
    generator = Generator.objects.get(organization=org)
    assert response.redirect_chain[-1][0] == f"/generators/{generator.pk}/"
    assert f"Generator {generator.code}, Blue Earth Wind, is registered as a draft" in response.content.decode()
    response = client.post(f"/generators/{generator.pk}/edit/", form_data(account, name="Blue Earth Wind I"),
                           follow=True)
    assert f"Generator {generator.code} is changed." in response.content.decode()
    response = client.post(f"/generators/{generator.pk}/submit/", follow=True)
    page = response.content.decode()
    assert "is submitted for approval" in page and "Waiting for registry staff’s decision" in page
    assert "Registered generator" in page and "Submitted generator" in page  # its history
    generator.refresh_from_db()
    assert (generator.name, generator.status) == ("Blue Earth Wind I", Status.SUBMITTED)
    response = client.get(f"/generators/{generator.pk}/edit/", follow=True)  # under review: not changed
    assert "is waiting for registry staff&#x27;s decision" in response.content.decode()


def test_a_key_change_on_the_page_says_it_waits_for_approval_again(signed_in, manager, approved, org, account):
    response = signed_in(manager).post(f"/generators/{approved.pk}/edit/", form_data(account, state="IA"),
                                       follow=True)
    assert "A key attribute changed, so it is waiting for registry staff&#x27;s approval again" in \
        response.content.decode()


@pytest.mark.parametrize(("posted", "message"), [
    ({"capacity_mw": "0"}, "The capacity must be more than 0 MW."),
    ({"capacity_mw": "lots"}, "Give the capacity in MW as a number, e.g. 150 or 2.5."),
    ({"state": "XX"}, "Choose a US state or Canadian province from the list."),
    ({"technology": "solar_pv"}, "A wind generator&#x27;s technology is onshore wind or offshore wind."),
    ({"commissioned_on": "2999-01-01"}, "The commercial operation date cannot be in the future"),
    ({"commissioned_on": "2019-13-45"}, "Give the commercial operation date as YYYY-MM-DD."),
    ({"name": ""}, "Give the generator a name."),
])
def test_bad_input_on_the_page_is_explained_by_its_field_and_changes_nothing(signed_in, manager, account, posted,
                                                                            message):
    before = generator_state()
    response = signed_in(manager).post("/generators/new/", form_data(account, **posted))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert 'aria-invalid="true"' in response.content.decode()
    assert generator_state() == before


def test_another_organization_s_account_is_not_offered_nor_taken(signed_in, manager, counterparty_account):
    client = signed_in(manager)
    assert counterparty_account.public_id not in client.get("/generators/new/").content.decode()
    before = generator_state()
    response = client.post("/generators/new/", form_data(counterparty_account))
    assert "Choose one of your open active accounts." in response.content.decode()
    assert generator_state() == before


@pytest.mark.parametrize("role", [Membership.Role.TRADER, Membership.Role.VIEWER])
def test_a_teammate_who_is_not_a_manager_reads_but_acting_is_403(signed_in, org, registered, account, role):
    client = signed_in(member(org, role))
    detail = client.get(f"/generators/{registered.pk}/")
    assert detail.status_code == 200 and registered.code in detail.content.decode()
    assert "Submit for approval" not in detail.content.decode()
    before = generator_state()
    for method, url, data in [("get", "/generators/new/", None), ("post", "/generators/new/", form_data(account)),
                              ("get", f"/generators/{registered.pk}/edit/", None),
                              ("post", f"/generators/{registered.pk}/edit/", form_data(account, name="X")),
                              ("post", f"/generators/{registered.pk}/submit/", None)]:
        assert getattr(client, method)(url, data).status_code == 403, url
    assert generator_state() == before


def test_an_outsider_gets_404_on_every_page_of_another_organization_s_generator(signed_in, outsider, registered,
                                                                               account):
    client = signed_in(outsider)
    before = generator_state()
    page = f"/generators/{registered.pk}/"
    for method, url in [("get", page), ("get", f"{page}edit/"), ("post", f"{page}edit/"), ("post", f"{page}submit/")]:
        assert getattr(client, method)(url, form_data(account) if method == "post" else None).status_code == 404, url
    assert registered.code not in client.get("/generators/").content.decode()
    assert generator_state() == before


def test_signed_out_is_sent_to_sign_in(client):
    response = client.get("/generators/")
    assert response.status_code == 302 and response.url.startswith("/login/")


# The admin: staff's queue, with Approve and Send back (a note asked on a page of its own)

QUEUE = "admin:certificates_generatorawaitingapproval_changelist"


def test_the_queue_lists_only_submitted_generators_and_approves_them(admin_client, submitted, org):
    draft = GeneratorFactory(organization=org, status=Status.DRAFT, code="M111")
    page = admin_client.get(reverse(QUEUE)).content.decode()
    assert submitted.code in page and "M111" not in page
    assert "1 generator awaiting approval" in admin_client.get("/admin/").content.decode()
    response = admin_client.post(reverse(QUEUE), {"action": "approve", "_selected_action": [submitted.pk, draft.pk]},
                                 follow=True)
    submitted.refresh_from_db()
    assert submitted.status == Status.APPROVED and submitted.reviewed_by == admin_client.staff
    assert "1 generator approved." in response.content.decode()


def test_send_back_asks_for_a_note_then_sends_back(admin_client, submitted):
    asked = admin_client.post(reverse(QUEUE), {"action": "send_back", "_selected_action": [submitted.pk]})
    assert asked.status_code == 200 and "What should the organization change?" in asked.content.decode()
    submitted.refresh_from_db()
    assert submitted.status == Status.SUBMITTED  # nothing yet
    empty = admin_client.post(reverse(QUEUE), {"action": "send_back", "_selected_action": [submitted.pk],
                                               "apply": "1", "note": ""})
    assert "This field is required." in empty.content.decode()
    response = admin_client.post(reverse(QUEUE), {"action": "send_back", "_selected_action": [submitted.pk],
                                                  "apply": "1", "note": "The COD is a year off."}, follow=True)
    submitted.refresh_from_db()
    assert (submitted.status, submitted.review_note) == (Status.RETURNED, "The COD is a year off.")
    assert "1 generator sent back." in response.content.decode()


def test_staff_onboard_a_generator_approved_at_once(admin_client, org, account):
    response = admin_client.post(reverse("admin:certificates_generator_add"), {
        "organization": org.pk, "code": "M990", "name": "Staff Wind", "fuel_type": "wind",
        "technology": "onshore_wind", "state": "MN", "eligibilities": "MN RES", "capacity_mw": "50",
        "commissioned_on": "2018-01-01", "account": account.pk}, follow=True)
    assert response.status_code == 200
    generator = Generator.objects.get(code="M990")
    assert (generator.status, generator.created_by, generator.reviewed_by) == (
        Status.APPROVED, admin_client.staff, admin_client.staff)
    assert LedgerEvent.objects.get(kind=Kind.GENERATOR_APPROVED).note == "Onboarded by registry staff"


def test_staff_s_form_holds_a_generator_to_the_same_rules(admin_client, org, counterparty_account):
    response = admin_client.post(reverse("admin:certificates_generator_add"), {
        "organization": org.pk, "code": "M991", "name": "Staff Wind", "fuel_type": "wind",
        "technology": "solar_pv", "state": "MN", "eligibilities": "", "capacity_mw": "50",
        "commissioned_on": "2018-01-01", "account": counterparty_account.pk})
    assert "A wind generator&#x27;s technology is onshore wind or offshore wind." in response.content.decode()
    response = admin_client.post(reverse("admin:certificates_generator_add"), {
        "organization": org.pk, "code": "M991", "name": "Staff Wind", "fuel_type": "wind",
        "technology": "onshore_wind", "state": "MN", "eligibilities": "", "capacity_mw": "50",
        "commissioned_on": "2018-01-01", "account": counterparty_account.pk})
    assert f"Account {counterparty_account.public_id} is not one of Prairie Wind Energy" in response.content.decode()
    assert not Generator.objects.filter(code="M991").exists()


def test_the_activity_log_tells_the_generator_s_story(signed_in, manager, approved, org, account):
    generator_update(user=manager, organization=org, generator=approved, details=details(account, state="IA"))
    page = signed_in(manager).get("/organization/activity/").content.decode()
    for sentence in (f"Registered generator {approved.code}", f"Submitted generator {approved.code} for approval.",
                     f"Approved generator {approved.code}.",
                     f"Changed generator {approved.code}: state or province from MN to IA. "
                     "It waits for approval again."):
        assert sentence in page, sentence


def test_the_timestamps_are_set_when_they_happen(approved):
    approved.refresh_from_db()
    assert approved.created_at <= approved.submitted_at <= approved.reviewed_at <= timezone.now()
