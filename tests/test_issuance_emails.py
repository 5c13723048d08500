"""When certificates are issued, the organization's managers and traders who chose it get one email per
run: which generators, which months, how many certificates into which account, with links; sent by the
emails consumer from the certificates.issued event the issuance records, never inside a transaction."""

import datetime
import re
from decimal import Decimal
from unittest import mock

import pytest
from django.core import mail
from django.db import connection
from django.urls import reverse

from certificates.periods import ProductionPeriod
from events import tasks as events_tasks
from events.consumers import consumer_get
from events.models import Claim, Event
from events.services import events_claim, events_consume
from instructions.models import InstructionDestination
from instructions.services import DestinationChoice, instruction_create
from issuance import services
from issuance.adjustments import chunks_by_organization
from issuance.models import Issuance
from issuance.services import issuance_run
from notifications import issuance as issuance_emails
from registry import emails as registry_emails
from registry.models import EmailEvent, Membership, User

from .factories import AccountFactory, GeneratorFactory, OrganizationFactory, member
from .generation import last_month, report

pytestmark = pytest.mark.django_db(transaction=True)  # the emails go after the commit, as in the portal
MONTHS = [last_month(2), last_month(1)]
SUBJECT = "[Midwest Renewable Energy Registry] "


@pytest.fixture(autouse=True)
def site(settings):
    settings.SITE_URL = "https://registry.example"


@pytest.fixture
def solar(org, account):
    return GeneratorFactory(organization=org, code="M833", name="Mower County Solar", fuel_type="solar",
                            account=account)


@pytest.fixture
def wind(generator, account):
    generator.account = account
    generator.save(update_fields=["account"])
    return generator


@pytest.fixture
def lakeshore_wind(counterparty, counterparty_account):
    return GeneratorFactory(organization=counterparty, code="M999", name="Lakeshore Wind", account=counterparty_account)


def emails_to(address):
    return [message for message in mail.outbox if address in message.to]


def emails_send(**kwargs) -> int:
    """What a worker of the emails consumer does (its wake-up after the commit, or beat)."""
    return events_consume(consumer="emails", **kwargs)


def test_each_organization_issued_to_gets_one_email_of_what_was_issued(
        org, trader, manager, viewer, staff, account, wind, solar, counterparty, counterparty_trader, lakeshore_wind):
    reports = [report(wind, month, "1200.4", trader) for month in MONTHS] + [
        report(solar, MONTHS[1], "1.2", trader), report(lakeshore_wind, MONTHS[1], "300", counterparty_trader)]
    mail.outbox.clear()
    issuance_run(user=staff, reports=reports)
    for message in mail.outbox:
        print(f"--- To: {', '.join(message.to)}\nSubject: {message.subject}\n\n{message.body}")

    assert len(mail.outbox) == 2  # one per organization, to its managers and traders (not its viewers)
    [to_prairie] = emails_to(trader.email)
    assert sorted(to_prairie.to) == [manager.email, trader.email]
    assert to_prairie.subject == SUBJECT + "2,401 certificates issued to Prairie Wind Energy"
    body = to_prairie.body
    assert (f"The registry issued 2,401 certificates to Prairie Wind Energy ({org.public_id}) on ") in body
    first, second = Issuance.objects.filter(generator=wind).order_by("month")
    assert (f"  Prairie Ridge Wind (M805), {MONTHS[0]:%m/%Y}: 1,200 certificates into your account Main active "
            f"({account.public_id}), serials {first.serial_range}.\n"
            f"  https://registry.example/generation/issuances/{first.pk}/?organization={org.public_id}\n") in body
    assert f"  Prairie Ridge Wind (M805), {MONTHS[1]:%m/%Y}: 1,200 certificates into your account" in body
    solar_issuance = Issuance.objects.get(generator=solar)
    assert (f"  Mower County Solar (M833), {MONTHS[1]:%m/%Y}: 1 certificate into your account Main active "
            f"({account.public_id}), serial {solar_issuance.serial_range}.\n") in body
    assert body.index("Prairie Ridge Wind") < body.index("Mower County Solar")  # by generator code
    assert f"See them on the Certificates page: https://registry.example/certificates/?organization={org.public_id}" \
        in body
    assert f'href="https://registry.example/generation/issuances/{second.pk}/?organization={org.public_id}"' in \
        to_prairie.alternatives[0][0]

    [to_lakeshore] = emails_to(counterparty_trader.email)
    assert to_lakeshore.subject == SUBJECT + "300 certificates issued to Lakeshore Power Cooperative"
    assert "Lakeshore Wind (M999)" in to_lakeshore.body and "Prairie" not in to_lakeshore.body

    issued = Event.objects.filter(kind=Event.Kind.CERTIFICATES_ISSUED)  # recorded by the issuance, per organization
    assert sorted(event.organization_id for event in issued) == sorted([org.pk, counterparty.pk])
    assert emails_send() == 0 and len(mail.outbox) == 2  # told once
    assert not Claim.objects.filter(consumer="emails").exists()


def test_a_member_who_turned_it_off_gets_nothing(org, trader, manager, staff, wind):
    User.objects.filter(pk=manager.pk).update(email_opt_outs=[EmailEvent.CERTIFICATES_ISSUED])
    mail.outbox.clear()
    issuance_run(user=staff, reports=[report(wind, MONTHS[0], "10", trader)])
    assert [message.to for message in mail.outbox] == [[trader.email]]
    User.objects.filter(pk=trader.pk).update(email_opt_outs=[EmailEvent.CERTIFICATES_ISSUED])
    issuance_run(user=staff, reports=[report(wind, MONTHS[1], "10", trader)])
    assert len(mail.outbox) == 1 and not Claim.objects.filter(consumer="emails").exists()


def test_the_settings_page_offers_the_choice(signed_in, trader):
    page = signed_in(trader).get(reverse("settings")).content.decode()
    assert re.search(r'<input[^>]*value="certificates_issued"[^>]*checked[^>]*> Certificates were issued to us', page)


def test_the_email_is_sent_after_the_commit_outside_any_transaction(no_wakeups, org, trader, staff, wind):
    mail.outbox.clear()
    issuance_run(user=staff, reports=[report(wind, MONTHS[0], "10", trader)])
    assert mail.outbox == [] and Event.objects.filter(kind=Event.Kind.CERTIFICATES_ISSUED).count() == 1  # owed

    sent_in_transaction = []
    send = registry_emails.email_send

    def watched(**kwargs):
        sent_in_transaction.append(connection.in_atomic_block)
        send(**kwargs)

    with mock.patch("registry.emails.email_send", side_effect=watched):
        assert events_tasks.send_events_to_every_consumer.apply().result >= 1  # what beat runs
    assert sent_in_transaction == [False] and len(mail.outbox) == 1


def test_an_email_that_fails_stays_owed_and_an_abandoned_claim_is_taken_again(
        settings, no_wakeups, org, trader, staff, wind):
    issuance_run(user=staff, reports=[report(wind, MONTHS[0], "10", trader)])
    mail.outbox.clear()
    with mock.patch("registry.emails.email_send", side_effect=ConnectionError("SMTP is down")):
        assert emails_send() == 0
    [claim] = Claim.objects.filter(consumer="emails")
    assert claim.attempts == 1 and "SMTP is down" in claim.last_error and claim.set_aside_at is None  # retried later
    assert emails_send() == 0 and mail.outbox == []  # not before its backoff ends
    retried_at = claim.due_at + datetime.timedelta(seconds=1)

    # a worker that died after leasing it: nobody else sends it until the lease runs out
    lease = datetime.timedelta(seconds=settings.EVENTS_LEASE_SECONDS)
    Claim.objects.filter(pk=claim.pk).update(leased_until=retried_at + lease)
    assert emails_send(now=retried_at + lease / 2) == 0 and mail.outbox == []
    assert emails_send(now=retried_at + lease * 2) == 1 and len(mail.outbox) == 1
    assert emails_send(now=retried_at + lease * 3) == 0 and len(mail.outbox) == 1  # sent once
    assert not Claim.objects.filter(consumer="emails").exists()


def test_an_organization_gets_one_email_per_run_however_the_run_is_split(
        monkeypatch, org, trader, staff, account, counterparty, counterparty_trader, counterparty_account):
    monkeypatch.setattr(services, "GENERATORS_PER_TRANSACTION", 3)
    ours = [GeneratorFactory(organization=org, account=account) for _ in range(2)]
    theirs = [GeneratorFactory(organization=counterparty, account=counterparty_account) for _ in range(3)]
    third = OrganizationFactory(name="Northstar REC Brokers")
    northstar = member(third, Membership.Role.TRADER, email="trader@northstar.example")
    their_account = AccountFactory(organization=third)
    others = [GeneratorFactory(organization=third, account=their_account)]
    mail.outbox.clear()
    run = issuance_run(user=staff, reports=[report(generator, MONTHS[0], "5", trader)
                                            for generator in ours + theirs + others])
    assert len(run.issued) == 6
    assert sorted(message.to[0] for message in mail.outbox) == sorted(
        [trader.email, counterparty_trader.email, northstar.email])


def test_transactions_keep_each_organization_whole_while_they_can():
    assert chunks_by_organization({1: [3, 1], 2: [2, 5, 4], 3: [6]}, 3) == [[1, 3], [2, 4, 5], [6]]
    assert chunks_by_organization({1: [1, 2, 3, 4, 5], 2: [6]}, 2) == [[1, 2], [3, 4], [5, 6]]  # more than fit: split


def test_the_email_says_when_standing_instructions_moved_some_on(org, trader, staff, wind, second_account):
    instruction_create(organization=org, user=trader, generator=wind, from_vintage=ProductionPeriod.month_of(MONTHS[0]),
                       percentage=Decimal(50),
                       destinations=[DestinationChoice(kind=InstructionDestination.Kind.OWN_ACCOUNT,
                                                       account=second_account)])
    mail.outbox.clear()
    issuance_run(user=staff, reports=[report(wind, MONTHS[0], "100", trader)])
    [email] = [message for message in mail.outbox if "issued" in message.subject]
    assert "100 certificates into your account Main active" in email.body
    assert "Your standing instructions then moved some of them on." in email.body


def test_a_large_run_lists_the_first_issuances_and_counts_the_rest_in_the_same_queries(
        no_wakeups, monkeypatch, org, trader, staff, account):
    from django.test.utils import CaptureQueriesContext

    monkeypatch.setattr(issuance_emails, "ISSUANCES_IN_EMAIL", 2)

    def queries_to_tell(generators: int) -> int:
        run = issuance_run(user=staff, reports=[
            report(GeneratorFactory(organization=org, account=account), MONTHS[0], "7", trader)
            for _ in range(generators)])
        mail.outbox.clear()
        events_claim(consumer=consumer_get("emails"))  # the same few queries however many were issued
        with CaptureQueriesContext(connection) as queries:
            assert emails_send() == 1
        assert len(mail.outbox) == 1 and len(run.issued) == generators
        return len(queries)

    assert queries_to_tell(1) == queries_to_tell(6)
    [email] = mail.outbox
    assert email.subject == SUBJECT + "42 certificates issued to Prairie Wind Energy"
    assert len(re.findall(r"^  .*: 7 certificates into your account", email.body, re.M)) == 2
    assert ("  ... and 4 more: see the Generation page: "
            f"https://registry.example/generation/?organization={org.public_id}\n") in email.body


def test_the_emails_owed_before_the_events_become_events_in_the_migrations(
        no_wakeups, org, trader, manager, staff, wind, second_account):
    from django.db.migrations.executor import MigrationExecutor

    instruction_create(organization=org, user=trader, generator=wind, from_vintage=ProductionPeriod.month_of(MONTHS[0]),
                       percentage=Decimal(50),
                       destinations=[DestinationChoice(kind=InstructionDestination.Kind.OWN_ACCOUNT,
                                                       account=second_account)])
    run = issuance_run(user=staff, reports=[report(wind, MONTHS[0], "10", trader)])
    [issuance], [instruction_run] = run.issued, run.runs
    before = set(Event.objects.values_list("pk", flat=True))
    old_state = [("issuance", "0002_certificates_issued_email"),
                 ("instructions", "0002_retirement_option_in_retirements")]
    executor = MigrationExecutor(connection)
    executor.migrate(old_state)
    try:
        old = executor.loader.project_state(old_state).apps
        old.get_model("issuance", "Issuance").objects.update(told_at=None)  # owed by the old outbox
        old.get_model("instructions", "InstructionRun").objects.update(tell_owner=True, told_at=None)
    finally:
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate([node for node in executor.loader.graph.leaf_nodes()
                          if node[0] in ("issuance", "instructions")])
    owed = {event.kind: event for event in Event.objects.exclude(pk__in=before)}
    assert owed.keys() == {Event.Kind.CERTIFICATES_ISSUED, Event.Kind.INSTRUCTIONS_SKIPPED}
    issued, skipped = owed[Event.Kind.CERTIFICATES_ISSUED], owed[Event.Kind.INSTRUCTIONS_SKIPPED]
    assert (issued.organization_id, issued.data) == (org.pk, {"issuance_ids": [issuance.pk]})
    assert (skipped.organization_id, skipped.data) == (org.pk, {"run_ids": [instruction_run.pk]})
    mail.outbox.clear()
    emails_send()
    assert any("issued to Prairie Wind Energy" in message.subject for message in mail.outbox)
    assert [message.to for message in mail.outbox if "skipped" in message.subject] == [[manager.email]]
