"""A generator's eligibilities as registry staff record them (GeneratorEligibility): with a certification
number, a start date and a good-through date. Certificates issued for a period carry those that hold on
every day of it, and only those; the issuance preview and the generator's pages mark the others; staff
are reminded before one ends."""

import datetime
import re

import pytest
from django.core import mail
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.urls import reverse
from django.utils import timezone

from certificates.generator_services import (
    EligibilityDetails,
    GeneratorRefused,
    eligibilities_remind,
    eligibility_change,
    eligibility_end,
    eligibility_record,
)
from certificates.models import Certificate, Generator, GeneratorEligibility
from certificates.periods import ProductionPeriod
from certificates.services import certificate_issue
from events.services import events_consume
from issuance.services import issuance_run
from ledger.models import LedgerEvent
from ledger.verification import ledger_breaches
from registry.services import ServiceError

from .factories import GeneratorFactory, UserFactory
from .generation import report
from .test_migrations_apps import migrate_to_the_end

MARCH = ProductionPeriod.month(2025, 3)
day = datetime.date
LONG_AGO = day(2020, 1, 1)
ONE_DAY = datetime.timedelta(days=1)


def recorded(generator, name="MN RES", start=LONG_AGO, through=None, **fields) -> GeneratorEligibility:
    return GeneratorEligibility.objects.create(generator=generator, name=name, start_date=start, good_through=through,
                                               **fields)


@pytest.fixture
def plain_generator(org, account):
    """A generator with nothing recorded yet, issuing into `account`."""
    return GeneratorFactory(organization=org, code="M870", eligibilities=["MN RES", "Green-e", "WI RPS"],
                            recorded=False, account=account)


# The rule: an eligibility is carried for a period when it holds on every day of it.

@pytest.mark.parametrize(("start", "through", "carried", "shown"), [
    (day(2020, 1, 1), None, True, None),  # no end
    (day(2025, 3, 1), day(2025, 3, 31), True, None),  # exactly the month
    (day(2025, 3, 2), None, False, "valid from 2025-03-02"),  # starts in the month
    (day(2025, 4, 1), None, False, "valid from 2025-04-01"),  # starts after it
    (day(2020, 1, 1), day(2025, 3, 30), False, "expired on 2025-03-30"),  # ends in the month
    (day(2020, 1, 1), day(2025, 2, 28), False, "expired on 2025-02-28"),  # ended before it
])
def test_an_eligibility_is_carried_only_for_a_period_it_holds_on_every_day_of(plain_generator, start, through,
                                                                               carried, shown):
    eligibility = recorded(plain_generator, start=start, through=through)

    assert eligibility.covers(MARCH) is carried
    assert (str(eligibility.gap_in(MARCH)) if eligibility.gap_in(MARCH) else None) == shown


def test_a_month_s_days_are_the_registry_s_days(plain_generator, settings):
    settings.TIME_ZONE = "America/Chicago"  # March ends at 05:00 UTC on April 1: still March 31 here
    eligibility = recorded(plain_generator, start=day(2020, 1, 1), through=day(2025, 3, 31))

    assert (MARCH.first_day, MARCH.last_day) == (day(2025, 3, 1), day(2025, 3, 31))
    assert eligibility.covers(ProductionPeriod.month(2025, 3))
    assert not eligibility.covers(ProductionPeriod.month(2025, 4))


# Issuance carries the recorded eligibilities valid for the period, and only those.

def test_issuance_carries_only_the_eligibilities_valid_for_its_month(staff, trader, plain_generator):
    recorded(plain_generator, "MN RES", start=day(2020, 1, 1))
    recorded(plain_generator, "Green-e", start=day(2020, 1, 1), through=day(2025, 3, 15))  # ends mid-March
    recorded(plain_generator, "WI RPS", start=day(2025, 3, 10))  # starts mid-March
    recorded(plain_generator, "IA AEP", start=day(2024, 1, 1), through=day(2025, 12, 31))  # not claimed: carried

    run = issuance_run(user=staff, reports=[report(plain_generator, day(2025, 2, 1), "10", trader),
                                            report(plain_generator, day(2025, 3, 1), "10", trader),
                                            report(plain_generator, day(2025, 4, 1), "10", trader)])

    assert run.skipped == []
    carried = {str(certificate.period): certificate.eligibilities
               for certificate in Certificate.objects.filter(generator=plain_generator)}
    assert carried == {"02/2025": ["MN RES", "Green-e", "IA AEP"], "03/2025": ["MN RES", "IA AEP"],
                       "04/2025": ["MN RES", "WI RPS", "IA AEP"]}
    assert ledger_breaches() == []


def test_a_claim_staff_have_not_recorded_is_not_carried(staff, trader, plain_generator):
    issuance_run(user=staff, reports=[report(plain_generator, day(2025, 3, 1), "10", trader)])

    assert Certificate.objects.get(generator=plain_generator).eligibilities == []


def test_a_renewal_after_an_end_is_carried_once(staff, trader, plain_generator):
    recorded(plain_generator, "MN RES", start=day(2020, 1, 1), through=day(2025, 2, 28), certification_number="A-1")
    recorded(plain_generator, "MN RES", start=day(2025, 3, 1), certification_number="A-2")

    issuance_run(user=staff, reports=[report(plain_generator, day(2025, 2, 1), "10", trader),
                                      report(plain_generator, day(2025, 3, 1), "10", trader)])

    assert [c.eligibilities for c in Certificate.objects.filter(generator=plain_generator)] == [["MN RES"],
                                                                                               ["MN RES"]]


# The services: staff only, each a ledger event; refusals in plain words that change nothing.

DETAILS = EligibilityDetails(name="  MN   RES ", start_date=day(2024, 1, 1), certification_number="E-999/2023",
                             verified_on=day(2024, 2, 1), good_through=day(2026, 12, 31))


def test_staff_record_change_and_end_an_eligibility_each_a_ledger_event(staff, plain_generator):
    eligibility = eligibility_record(user=staff, generator=plain_generator, details=DETAILS)
    assert (eligibility.name, eligibility.certification_number, eligibility.recorded_by) == (
        "MN RES", "E-999/2023", staff)

    eligibility_change(user=staff, eligibility=eligibility,
                       details=EligibilityDetails(name="MN RES", start_date=day(2024, 1, 1),
                                                  certification_number="E-1000/2024", verified_on=day(2024, 2, 1),
                                                  good_through=day(2027, 6, 30)))
    eligibility_end(user=staff, eligibility=eligibility, last_day=day(2025, 6, 30), note="Order revoked")

    eligibility.refresh_from_db()
    assert (eligibility.certification_number, eligibility.good_through) == ("E-1000/2024", day(2025, 6, 30))
    events = list(LedgerEvent.objects.filter(kind__startswith="eligibility_").order_by("pk"))
    assert [(e.kind, e.actor, e.organization_id) for e in events] == [
        (LedgerEvent.Kind.ELIGIBILITY_RECORDED, staff, plain_generator.organization_id),
        (LedgerEvent.Kind.ELIGIBILITY_CHANGED, staff, plain_generator.organization_id),
        (LedgerEvent.Kind.ELIGIBILITY_ENDED, staff, plain_generator.organization_id)]
    assert (events[0].after["certification_number"], events[0].after["generator"]) == ("E-999/2023",
                                                                                       plain_generator.pk)
    assert (events[1].before, events[1].after) == (
        {"generator": plain_generator.pk, "code": "M870", "eligibility": eligibility.pk, "name": "MN RES",
         "certification_number": "E-999/2023", "good_through": "2026-12-31"},
        {"generator": plain_generator.pk, "code": "M870", "eligibility": eligibility.pk, "name": "MN RES",
         "certification_number": "E-1000/2024", "good_through": "2027-06-30"})
    assert (events[2].before["good_through"], events[2].after["good_through"], events[2].note) == (
        "2027-06-30", "2025-06-30", "Order revoked")


def test_only_staff_record_change_or_end_eligibilities(manager, plain_generator, staff):
    with pytest.raises(ServiceError, match="registry staff"):
        eligibility_record(user=manager, generator=plain_generator, details=DETAILS)
    eligibility = recorded(plain_generator)
    with pytest.raises(ServiceError, match="registry staff"):
        eligibility_change(user=manager, eligibility=eligibility, details=DETAILS)
    with pytest.raises(ServiceError, match="registry staff"):
        eligibility_end(user=manager, eligibility=eligibility, last_day=day(2025, 1, 1))
    assert GeneratorEligibility.objects.get() == eligibility and eligibility.good_through is None
    assert not LedgerEvent.objects.filter(kind__startswith="eligibility_").exists()


@pytest.mark.parametrize(("details", "field", "message"), [
    (EligibilityDetails(name=" ", start_date=day(2024, 1, 1)), "name", "Give the eligibility"),
    (EligibilityDetails(name="x" * 33, start_date=day(2024, 1, 1)), "name", "at most 32 characters"),
    (EligibilityDetails(name="MN RES", start_date=None), "start_date", "Give the start date"),
    (EligibilityDetails(name="MN RES", start_date=day(2024, 1, 1), good_through=day(2023, 12, 31)), "good_through",
     "cannot be before the start date, 2024-01-01"),
    (EligibilityDetails(name="MN RES", start_date=day(2024, 1, 1), verified_on=day(2999, 1, 1)), "verified_on",
     "cannot be in the future"),
    (EligibilityDetails(name="MN RES", start_date=day(2024, 1, 1), certification_number="9" * 65),
     "certification_number", "at most 64 characters"),
    (EligibilityDetails(name="MN RES", start_date=day(2025, 6, 1)), "start_date",
     "M870 already has MN RES from 2020-01-01 through 2025-06-30. Change or end that record"),
])
def test_wrong_details_are_refused_by_field_and_change_nothing(staff, plain_generator, details, field, message):
    recorded(plain_generator, "MN RES", start=day(2020, 1, 1), through=day(2025, 6, 30))

    with pytest.raises(GeneratorRefused, match=message) as refused:
        eligibility_record(user=staff, generator=plain_generator, details=details)

    assert refused.value.field == field
    assert GeneratorEligibility.objects.count() == 1
    assert not LedgerEvent.objects.filter(kind__startswith="eligibility_").exists()


def test_ending_never_extends_nor_ends_before_the_start(staff, plain_generator):
    eligibility = recorded(plain_generator, start=day(2024, 1, 1), through=day(2025, 6, 30))

    with pytest.raises(GeneratorRefused, match="ends already, after 2025-06-30"):
        eligibility_end(user=staff, eligibility=eligibility, last_day=day(2025, 7, 31))
    with pytest.raises(GeneratorRefused, match="starts on 2024-01-01: it cannot end before that"):
        eligibility_end(user=staff, eligibility=eligibility, last_day=day(2023, 12, 31))
    eligibility.refresh_from_db()
    assert eligibility.good_through == day(2025, 6, 30)


# Staff are reminded, once, of the eligibilities that end within ELIGIBILITY_REMINDER_DAYS days.

def test_staff_are_reminded_once_of_the_eligibilities_ending_within_the_days(settings, plain_generator, staff,
                                                                               manager):
    settings.ELIGIBILITY_REMINDER_DAYS, settings.SITE_URL = 30, "https://registry.example"
    today = day(2025, 6, 1)
    ending = recorded(plain_generator, "MN RES", through=day(2025, 7, 1), certification_number="E-12")  # day 30
    recorded(plain_generator, "Green-e", through=day(2025, 7, 2))  # day 31: not yet
    recorded(plain_generator, "WI RPS", through=day(2025, 5, 31))  # over already
    recorded(plain_generator, "IA AEP")  # no end
    UserFactory(email="former@registry.example", is_staff=True, is_active=False)
    mail.outbox.clear()

    assert eligibilities_remind(today=today) == 1
    assert events_consume(consumer="emails") == 1

    [email] = mail.outbox
    assert email.to == [staff.email]  # registry staff only: no participant, no inactive staff
    assert email.subject == "[Midwest Renewable Energy Registry] 1 generator eligibility ending within 30 days"
    assert "MN RES of M870 " in email.body and "good through 2025-07-01, certification number E-12" in email.body
    assert f"https://registry.example/admin/certificates/generatoreligibility/{ending.pk}/change/" in email.body
    assert "Green-e" not in email.body and "WI RPS" not in email.body
    ending.refresh_from_db()
    assert ending.reminded_on == today

    mail.outbox.clear()
    assert eligibilities_remind(today=today) == 0  # once
    assert eligibilities_remind(today=day(2025, 6, 2)) == 1  # the next day: Green-e, at 30 days now
    events_consume(consumer="emails")
    assert len(mail.outbox) == 1 and "Green-e" in mail.outbox[0].body and "MN RES" not in mail.outbox[0].body


def test_a_new_good_through_date_is_reminded_of_again(settings, plain_generator, staff):
    settings.ELIGIBILITY_REMINDER_DAYS = 30
    eligibility = recorded(plain_generator, through=day(2025, 6, 20))
    assert eligibilities_remind(today=day(2025, 6, 1)) == 1

    eligibility_change(user=staff, eligibility=eligibility, details=EligibilityDetails(
        name="MN RES", start_date=eligibility.start_date, good_through=day(2025, 12, 31)))

    assert eligibilities_remind(today=day(2025, 6, 2)) == 0
    assert eligibilities_remind(today=day(2025, 12, 1)) == 1


@pytest.mark.django_db  # importing the tasks as a worker does runs Django's checks, which ask the server's version
def test_the_daily_reminder_is_beat_s_task_by_name(settings):
    from portal.celery import app as celery_app

    celery_app.loader.import_default_modules()
    [entry] = [entry for entry in settings.CELERY_BEAT_SCHEDULE.values()
               if entry["task"] == "certificates.tasks.remind_expiring_eligibilities"]
    assert entry["task"] in celery_app.tasks and entry["schedule"].hour == {6}


# The admin site: staff record, change and end eligibilities there, through the services.

ADD = "admin:certificates_generatoreligibility_add"
LIST = "admin:certificates_generatoreligibility_changelist"


def test_staff_record_an_eligibility_in_the_admin_with_a_ledger_event(admin_client, plain_generator):
    response = admin_client.post(reverse(ADD), {
        "generator": plain_generator.pk, "name": " MN  RES ", "certification_number": "E-999/2023",
        "start_date": "2024-01-01", "verified_on": "2024-02-01", "good_through": ""})

    assert response.status_code == 302
    eligibility = GeneratorEligibility.objects.get()
    assert (eligibility.name, eligibility.good_through, eligibility.recorded_by) == ("MN RES", None,
                                                                                     admin_client.staff)
    event = LedgerEvent.objects.get(kind=LedgerEvent.Kind.ELIGIBILITY_RECORDED)
    assert event.actor == admin_client.staff and event.after["eligibility"] == eligibility.pk


def test_the_admin_form_says_what_is_wrong_and_records_nothing(admin_client, plain_generator):
    recorded(plain_generator, through=day(2025, 6, 30))
    response = admin_client.post(reverse(ADD), {
        "generator": plain_generator.pk, "name": "MN RES", "start_date": "2025-06-01",
        "good_through": "2025-05-01"})

    assert response.status_code == 200
    assert "it cannot be before the start date, 2025-06-01" in response.content.decode()
    response = admin_client.post(reverse(ADD), {"generator": plain_generator.pk, "name": "MN RES",
                                                "start_date": "2025-06-01"})
    assert "M870 already has MN RES from 2020-01-01 through 2025-06-30" in response.content.decode()
    assert GeneratorEligibility.objects.count() == 1
    assert not LedgerEvent.objects.filter(kind__startswith="eligibility_").exists()


def test_staff_change_an_eligibility_in_the_admin_and_an_unchanged_form_records_nothing(admin_client,
                                                                                         plain_generator):
    eligibility = recorded(plain_generator, certification_number="E-1")
    change = reverse("admin:certificates_generatoreligibility_change", args=[eligibility.pk])
    form = {"name": "MN RES", "certification_number": "E-1", "start_date": "2020-01-01", "verified_on": "",
            "good_through": ""}

    assert admin_client.post(change, form).status_code == 302
    assert not LedgerEvent.objects.exists()
    assert admin_client.post(change, {**form, "good_through": "2026-06-30"}).status_code == 302

    eligibility.refresh_from_db()
    assert eligibility.good_through == day(2026, 6, 30)
    event = LedgerEvent.objects.get(kind=LedgerEvent.Kind.ELIGIBILITY_CHANGED)
    assert (event.before["good_through"], event.after["good_through"]) == (None, "2026-06-30")


def test_staff_end_eligibilities_from_the_list_with_a_ledger_event_each(admin_client, plain_generator):
    first, second = recorded(plain_generator, "MN RES"), recorded(plain_generator, "Green-e")
    chosen = {"action": "end_eligibilities", "_selected_action": [first.pk, second.pk]}

    asked = admin_client.post(reverse(LIST), chosen)
    assert "Last day they hold" in asked.content.decode()
    response = admin_client.post(reverse(LIST), {**chosen, "apply": "1", "last_day": "2025-06-30",
                                                 "note": "Orders revoked"}, follow=True)

    assert "2 eligibilities ended." in response.content.decode()
    assert set(GeneratorEligibility.objects.values_list("good_through", flat=True)) == {day(2025, 6, 30)}
    assert LedgerEvent.objects.filter(kind=LedgerEvent.Kind.ELIGIBILITY_ENDED, note="Orders revoked").count() == 2


def test_eligibility_records_are_never_deleted_in_the_admin(admin_client, plain_generator):
    eligibility = recorded(plain_generator)
    response = admin_client.post(reverse("admin:certificates_generatoreligibility_delete", args=[eligibility.pk]),
                                 {"post": "yes"})
    assert response.status_code == 403 and GeneratorEligibility.objects.filter(pk=eligibility.pk).exists()


def test_the_generator_s_admin_page_shows_its_eligibilities_and_the_claims_not_recorded(admin_client,
                                                                                        plain_generator):
    recorded(plain_generator, "MN RES", through=day(2024, 12, 31), certification_number="E-7")
    recorded(plain_generator, "Green-e")
    page = admin_client.get(reverse("admin:certificates_generator_change", args=[plain_generator.pk])
                            ).content.decode()

    assert "E-7" in page and "expired on 2024-12-31" in page and "in force" in page
    assert re.search(r"Claimed, not recorded.*?WI RPS · <a href=\"/admin/certificates/generatoreligibility/add/"
                     rf"\?generator={plain_generator.pk}\">Record an eligibility</a>", page, re.S)


@pytest.mark.parametrize("url", [reverse(LIST), reverse(ADD)])
def test_participants_cannot_reach_the_eligibilities_in_the_admin(signed_in, manager, plain_generator, url):
    response = signed_in(manager).get(url)
    assert response.status_code == 302 and response.url.startswith("/admin/login/")
    posted = signed_in(manager).post(reverse(ADD), {"generator": plain_generator.pk, "name": "MN RES",
                                                    "start_date": "2020-01-01"})
    assert posted.status_code == 302 and not GeneratorEligibility.objects.exists()


# The issuance preview and the generator's page mark the eligibilities not carried.

def test_the_issuance_preview_marks_the_eligibilities_a_month_does_not_carry(admin_client, trader, plain_generator):
    recorded(plain_generator, "MN RES")
    recorded(plain_generator, "Green-e", through=day(2025, 3, 15))
    recorded(plain_generator, "WI RPS", start=day(2025, 3, 10))
    other = GeneratorFactory(organization=plain_generator.organization, code="M871", name="Quiet Hydro",
                             eligibilities=[], recorded=False, account=plain_generator.account)
    reports = [report(plain_generator, day(2025, 3, 1), "10", trader), report(other, day(2025, 3, 1), "5", trader)]

    page = admin_client.post("/admin/issuance/generationreport/", {
        "action": "issue_months", "_selected_action": [r.pk for r in reports]})

    assert page.status_code == 200 and not Certificate.objects.exists()
    rows = re.findall(r"<tr><td>(.*?)</td><td>(.*?)</td>\s*<td>(.*?)</td></tr>",
                      re.search(r'<table id="issue-eligibilities">.*?</table>', page.content.decode(), re.S)[0], re.S)
    assert rows == [
        (f"M870 {plain_generator.name}", "03/2025",
         "MN RES, <del>Green-e</del> (expired on 2025-03-15: not carried), "
         "<del>WI RPS</del> (valid from 2025-03-10: not carried)"),
        ("M871 Quiet Hydro", "03/2025", "none recorded")]


def test_the_generator_page_shows_its_eligibilities_with_those_expired_marked(signed_in, trader, org, staff,
                                                                               plain_generator):
    today = timezone.localdate()
    eligibility_record(user=staff, generator=plain_generator, details=EligibilityDetails(
        name="MN RES", start_date=day(2020, 1, 1), certification_number="E-12", good_through=today - ONE_DAY))
    recorded(plain_generator, "Green-e", through=today)
    recorded(plain_generator, "WI RPS", start=today + ONE_DAY)

    page = signed_in(trader).get(reverse("generators:detail", args=[plain_generator.pk])).content.decode()

    section = re.search(r'<section class="card" aria-labelledby="eligibilities-heading">.*?</section>', page, re.S)[0]
    assert "E-12" in section
    assert f'<span class="status status-expired">Expired on {today - ONE_DAY:%Y-%m-%d}</span>' in section
    assert '<span class="status status-active">In force</span>' in section  # through today
    assert f'<span class="status status-pending">Valid from {today + ONE_DAY:%Y-%m-%d}</span>' in section
    assert "Recorded eligibility MN RES of generator M870 (certification number E-12), from 2020-01-01 through" in page


def test_another_organization_s_generator_eligibilities_are_not_shown(signed_in, outsider, plain_generator):
    recorded(plain_generator, certification_number="E-12")
    response = signed_in(outsider).get(reverse("generators:detail", args=[plain_generator.pk]))
    assert response.status_code == 404


# The claims become records, so that nothing a user sees changes.

@pytest.mark.django_db(transaction=True)  # migrations run outside a test's transaction
def test_the_migration_records_each_generator_s_claims_from_its_first_day(org, account, staff):
    before = [("certificates", "0007_generator_eligibility")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    try:
        # Written by the models as that schema had them (today's generator and certificate have columns of
        # later migrations).
        old_models = executor.loader.project_state(before).apps

        def generator(code, eligibilities, commissioned_on, **fields):
            return old_models.get_model("certificates", "Generator").objects.create(
                organization_id=org.pk, code=code, name=f"Wind {code}", fuel_type="wind", technology="onshore_wind",
                state="MN", capacity_mw=100, status="approved", account_id=account.pk, eligibilities=eligibilities,
                commissioned_on=commissioned_on, **fields)

        old_wind = generator("M880", ["MN RES", "Green-e"], day(2015, 6, 1))
        # Issued before it was commissioned: its first day is 2010-01-01.
        old_models.get_model("certificates", "Certificate").objects.create(
            generator_id=old_wind.pk, period=ProductionPeriod.month(2010, 1), quantity=5,
            serial_base="M880-MN-01-2010-AAAAAA", fuel_type="wind", state="MN", eligibilities=["MN RES", "Green-e"],
            issued_by_id=staff.pk)
        generator("M881", ["WI RPS"], None, created_at=datetime.datetime(2023, 5, 6, 12, tzinfo=datetime.UTC))
        generator("M882", [], day(2015, 6, 1))
    finally:
        migrate_to_the_end()
    old_wind = Generator.objects.get(pk=old_wind.pk)

    assert list(GeneratorEligibility.objects.order_by("pk").values_list(
        "generator__code", "name", "start_date", "good_through", "certification_number")) == [
        ("M880", "MN RES", day(2010, 1, 1), None, ""), ("M880", "Green-e", day(2010, 1, 1), None, ""),
        ("M881", "WI RPS", day(2023, 5, 6), None, "")]
    events = LedgerEvent.objects.filter(kind=LedgerEvent.Kind.ELIGIBILITY_RECORDED).order_by("pk")
    assert [(e.actor_id, e.organization_id, e.after["code"], e.after["name"]) for e in events] == [
        (None, org.pk, "M880", "MN RES"), (None, org.pk, "M880", "Green-e"), (None, org.pk, "M881", "WI RPS")]
    later = certificate_issue(user=staff, generator=old_wind, period=ProductionPeriod.month(2010, 2), quantity=5,
                              account=account)
    assert later.eligibilities == ["MN RES", "Green-e"]  # as the claims were carried before
