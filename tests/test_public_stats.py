"""Public statistics: the summary tables hold exactly what a direct sum over the ledger gives (kept by
the public_stats consumer, each event once, or rebuilt from the rows), the pages, CSV and API show
those numbers to anyone without signing in, and nothing of any organization."""

import csv
import datetime
import io
from collections import Counter
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connections
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.models import Account
from certificates.models import Certificate, CertificateBatch, FuelType, Generator
from certificates.periods import ProductionPeriod
from certificates.services import certificate_issue
from certificates.units import mwh, unit_of
from events.models import Claim, ConsumerProgress, Event
from events.services import event_record, events_consume
from programs.services import program_create
from public_stats.models import EligibilityTotal, MonthlyTotal
from public_stats.services import CONSUMER, public_stats_rebuild
from retirements.models import RetirementOption
from retirements.services import retirement_privacy_set
from transfers.models import Transfer
from transfers.services import (
    Destination,
    TransferLine,
    export_confirm,
    export_reject,
    transfer_accept,
    transfer_create,
    transfer_reject,
)

from .conftest import retire
from .factories import GeneratorFactory, RetirementOptionFactory
from .threads import at_once

pytestmark = pytest.mark.django_db(transaction=True)

ACTIVITY = {"retirement": "retired", "export": "exported", "internal": "transferred", "organization": "transferred"}


def month_of(moment: datetime.datetime) -> datetime.date:
    local = moment.astimezone(ZoneInfo(settings.TIME_ZONE))
    return datetime.date(local.year, local.month, 1)


def ledger_sums() -> tuple[Counter, Counter]:
    """What the statistics must say, summed straight from the ledger's rows: the certificates issued,
    and the batches of every complete transfer, by (month, activity, fuel, technology, state, program
    code); and the same once under each eligibility."""
    totals, by_eligibility = Counter(), Counter()

    def count(key, quantity, eligibilities):
        totals[key] += quantity
        for eligibility in eligibilities:
            by_eligibility[(*key, eligibility)] += quantity
    for certificate in Certificate.objects.select_related("generator"):
        count((month_of(certificate.issued_at), "issued", certificate.fuel_type, certificate.generator.technology,
               certificate.state, None), mwh(certificate.quantity, unit_of(certificate.period)),
              certificate.eligibilities)
    for transfer in Transfer.objects.filter(status=Transfer.Status.COMPLETE).prefetch_related(
            "items__batch__certificate__generator"):
        program = None
        if transfer.kind == Transfer.Kind.RETIREMENT and transfer.retirement.option.program:
            program = transfer.retirement.option.program.code
        for item in transfer.items.all():
            certificate = item.batch.certificate
            count((month_of(transfer.decided_at), ACTIVITY[transfer.kind], certificate.fuel_type,
                   certificate.generator.technology, certificate.state, program),
                  mwh(item.batch.quantity, unit_of(certificate.period)),
                  certificate.eligibilities)
    return +totals, +by_eligibility


def table_sums() -> tuple[Counter, Counter]:
    def key(row):
        return (row.month, row.activity, row.fuel, row.technology, row.state, row.program.code if row.program else None)
    totals = Counter({key(row): row.quantity for row in MonthlyTotal.objects.select_related("program")})
    by_eligibility = Counter({(*key(row), row.eligibility): row.quantity
                              for row in EligibilityTotal.objects.select_related("program")})
    return +totals, +by_eligibility


@pytest.fixture
def program(staff):
    return program_create(user=staff, fields={"code": "mn-res-2025", "name": "Minnesota RES 2025",
                                              "kind": "compliance", "jurisdiction": "Minnesota",
                                              "compliance_year": 2025, "close_date": None},
                          rules={"fuels": ["wind", "solar"]})


@pytest.fixture
def registry(staff, org, trader, account, second_account, retirement_account, counterparty, counterparty_trader,
             counterparty_account, tracking_system, program):
    """A mixed registry, made through the services: three fuels in three states, some eligibilities;
    an internal transfer, transfers accepted, rejected and pending, retirements toward a program and
    not (one private), exports confirmed, rejected and pending."""
    wind = GeneratorFactory(organization=org, code="M805", name="Prairie Ridge Wind",
                            eligibilities=["MN RES", "Green-e"])
    solar = GeneratorFactory(organization=org, code="M833", name="Mower County Solar", fuel_type="solar", state="IA",
                             eligibilities=["IA AEP"])
    hydro = GeneratorFactory(organization=org, code="M906", name="St. Croix Falls Hydro", fuel_type="hydro",
                             state="WI", eligibilities=[], technology="")
    batches = {}
    for name, generator, quantity in (("wind", wind, 1000), ("solar", solar, 600), ("hydro", hydro, 300)):
        certificate = certificate_issue(user=staff, generator=generator, period=ProductionPeriod.month(2024, 1),
                                        quantity=quantity, account=account)
        batches[name] = CertificateBatch.objects.get(certificate=certificate)

    def active(name):
        return CertificateBatch.objects.filter(certificate=batches[name].certificate, account=account,
                                               status="active").order_by("-quantity").first()

    transfer_create(organization=org, user=trader, lines=[TransferLine(active("wind").pk, 100)],
                    destination=Destination.internal(second_account))
    accepted = transfer_create(organization=org, user=trader, lines=[TransferLine(active("wind").pk, 150),
                                                                     TransferLine(active("solar").pk, 50)],
                               destination=Destination.to_organization(counterparty))
    transfer_accept(transfer=accepted, user=counterparty_trader, organization=counterparty,
                    account=counterparty_account)
    rejected = transfer_create(organization=org, user=trader, lines=[TransferLine(active("hydro").pk, 30)],
                               destination=Destination.to_organization(counterparty))
    transfer_reject(transfer=rejected, user=counterparty_trader, organization=counterparty)
    transfer_create(organization=org, user=trader, lines=[TransferLine(active("hydro").pk, 20)],
                    destination=Destination.to_organization(counterparty))  # pending: not counted yet
    toward_program = RetirementOptionFactory(name="Minnesota RES 2025", program=program)
    retire(organization=org, user=trader, lines=[TransferLine(active("wind").pk, 200)], account=retirement_account,
           option=toward_program, compliance_period=2025)
    private = retire(organization=org, user=trader, lines=[TransferLine(active("solar").pk, 70)],
                     account=retirement_account, option=RetirementOptionFactory(
                         name="Voluntary claim", type=RetirementOption.Type.VOLUNTARY_CLAIM,
                         reason=RetirementOption.Reason.VOLUNTARY, state="", requires_compliance_period=False),
                     compliance_period=None, beneficiary="Acme Secret Buyer Inc")
    retirement_privacy_set(organization=org, user=trader, retirement=private.retirement, private=True)
    export = Destination.export(tracking_system, "Western Buyer LLC", "W-123")
    confirmed = transfer_create(organization=org, user=trader, lines=[TransferLine(active("hydro").pk, 40)],
                                destination=export)
    export_confirm(transfer=confirmed, user=staff)
    refused = transfer_create(organization=org, user=trader, lines=[TransferLine(active("hydro").pk, 10)],
                              destination=export)
    export_reject(transfer=refused, user=staff, note="Unknown account")
    transfer_create(organization=org, user=trader, lines=[TransferLine(active("wind").pk, 5)], destination=export)
    events_consume(consumer=CONSUMER)
    return {"private": private, "program": program, "generators": [wind, solar, hydro]}


def test_the_consumer_counts_exactly_what_the_ledger_sums(registry):
    totals, by_eligibility = ledger_sums()
    assert table_sums() == (totals, by_eligibility)
    january = datetime.date(2024, 1, 1)
    this_month = month_of(datetime.datetime.now(datetime.UTC))
    issued = {key[2]: quantity for key, quantity in totals.items() if key[1] == "issued"}
    assert issued == {"wind": 1000, "solar": 600, "hydro": 300} and january != this_month
    assert sum(q for key, q in totals.items() if key[1] == "transferred") == 100 + 150 + 50  # not the rejected 30
    assert sum(q for key, q in totals.items() if key[1] == "retired") == 200 + 70  # the private one counts
    assert sum(q for key, q in totals.items() if key[1] == "exported") == 40  # confirmed only
    assert {key[5] for key, q in totals.items() if key[1] == "retired"} == {"mn-res-2025", None}
    assert not Claim.objects.filter(consumer=CONSUMER).exists()


def test_the_rebuild_gives_the_same_tables(registry):
    before = table_sums()
    MonthlyTotal.objects.all().delete()
    call_command("rebuild_public_stats", stdout=io.StringIO())
    assert table_sums() == before == ledger_sums()


def test_replaying_the_events_counts_nothing_twice(registry, staff, account):
    before = table_sums()
    assert events_consume(consumer=CONSUMER) == 0  # every claim was deleted with its upsert
    ConsumerProgress.objects.filter(consumer=CONSUMER).update(txid=0, event_id=0)
    public_stats_rebuild()  # a replay from the start is the rebuild's: the consumer goes on from its snapshot
    assert events_consume(consumer=CONSUMER) == 0
    assert table_sums() == before
    generator = registry["generators"][0]
    certificate_issue(user=staff, generator=generator, period=ProductionPeriod.month(2024, 2), quantity=5,
                      account=account)
    events_consume(consumer=CONSUMER)
    assert table_sums() == ledger_sums() and sum(table_sums()[0].values()) == sum(before[0].values()) + 5


def test_events_seen_by_the_rebuild_but_not_yet_claimed_are_counted_once(registry, staff, account):
    """An event the rebuild's snapshot sees from a transaction it counts is taken off its count, and
    counted by the consumer after it."""
    generator = registry["generators"][1]
    blocker = connections.create_connection("default")
    try:
        with blocker.cursor() as cursor:
            cursor.execute("BEGIN")
            cursor.execute("SELECT pg_current_xact_id()")  # a transaction still open holds the horizon back
            certificate_issue(user=staff, generator=generator, period=ProductionPeriod.month(2024, 3), quantity=9,
                              account=account)  # committed after the blocker began: above the horizon
            assert events_consume(consumer=CONSUMER) == 0  # not claimable while the blocker runs
            public_stats_rebuild()
            assert table_sums() != ledger_sums()  # the rebuild leaves the new event to the consumer
            cursor.execute("ROLLBACK")
    finally:
        blocker.close()
    # At least the new one (the snapshot's oldest running transaction may be another database's, from
    # before some of the fixture's: those events are claimed again too, and were taken off as well).
    assert events_consume(consumer=CONSUMER) >= 1
    assert table_sums() == ledger_sums()


def test_two_workers_count_each_event_once(settings, staff, org, account, no_wakeups):
    settings.EVENTS_CLAIM_BATCH = 7
    generator = GeneratorFactory(organization=org)
    for month in range(1, 13):
        for year in (2022, 2023, 2024):
            certificate_issue(user=staff, generator=generator, period=ProductionPeriod.month(year, month),
                              quantity=month, account=account)
    assert sum(at_once(lambda: events_consume(consumer=CONSUMER))) == 36
    assert table_sums() == ledger_sums()
    assert sum(table_sums()[0].values()) == 3 * sum(range(1, 13))


def test_a_failing_event_is_set_apart_and_the_others_are_counted(settings, staff, org, account, no_wakeups):
    generator = GeneratorFactory(organization=org)
    certificate_issue(user=staff, generator=generator, period=ProductionPeriod.month(2024, 1), quantity=10,
                      account=account)
    event_record(kind=Event.Kind.CERTIFICATES_ISSUED, data={"certificate_ids": ["M805"]})  # not an id: it fails
    certificate_issue(user=staff, generator=generator, period=ProductionPeriod.month(2024, 2), quantity=20,
                      account=account)
    assert events_consume(consumer=CONSUMER) == 2
    assert sum(table_sums()[0].values()) == 30
    [failed] = Claim.objects.filter(consumer=CONSUMER)
    assert failed.attempts == 1 and failed.event.data == {"certificate_ids": ["M805"]}


# The pages, their CSV and the API --------------------------------------------------------------------

GROUPED_BY = {"month": 0, "fuel": 2, "technology": 3, "state": 4, "program": 5}


def expected(activity: str, by: str, **filters) -> dict[str, int]:
    """The ledger's sums of `activity` by `by`, under `filters` (fuel, state, eligibility, program), keyed
    as the API keys its rows."""
    totals, by_eligibility = ledger_sums()
    rows = by_eligibility if by == "eligibility" or "eligibility" in filters else totals
    found = Counter()
    for key, quantity in rows.items():
        month, kind, fuel, technology, state, program = key[:6]
        values = {"fuel": fuel, "technology": technology, "state": state, "program": program,
                  "eligibility": key[6] if len(key) > 6 else None}
        if kind != activity or any(values[name] != value for name, value in filters.items()):
            continue
        name = key[6] if by == "eligibility" else key[GROUPED_BY[by]]
        found[f"{name:%Y-%m}" if by == "month" else (name or "")] += quantity
    return dict(found)


def public_api(**params):
    """The statistics API's answer, its MWh (exact decimal strings) read as Decimal."""
    answer = APIClient().get(reverse("api:public-statistics"), params)
    assert answer.status_code == 200, answer.content
    body = answer.json()
    for row in body["rows"]:
        row["quantity"] = Decimal(row["quantity"])
    return body | {"total": Decimal(body["total"])}


@pytest.mark.parametrize("activity", ["issued", "transferred", "retired", "exported"])
def test_every_count_is_the_ledgers_sum(registry, activity):
    for by in ("month", "fuel", "technology", "state", "eligibility", "program"):
        answer = public_api(activity=activity, by=by)
        assert {row["key"]: row["quantity"] for row in answer["rows"]} == expected(activity, by), (activity, by)
        assert answer["total"] == sum(expected(activity, "month").values())
    for filters in ({"fuel": "wind"}, {"state": "IA"}, {"eligibility": "MN RES"}, {"program": "mn-res-2025"}):
        answer = public_api(activity=activity, by="month", **filters)
        assert {row["key"]: row["quantity"] for row in answer["rows"]} == expected(activity, "month", **filters)


def test_the_page_the_chart_and_the_csv_show_the_same_numbers(registry, client):
    page = client.get(reverse("public_stats:statistics"), {"activity": "retired", "by": "fuel"})
    assert page.status_code == 200
    html = page.content.decode()
    retired = expected("retired", "fuel")
    assert retired == {"wind": 200, "solar": 70}
    assert "<tr><td>Solar</td><td class=\"num\">70</td></tr>" in html
    assert "<tr><td>Wind</td><td class=\"num\">200</td></tr>" in html
    assert "<strong>270</strong> MWh retired in all" in html
    assert "<title>Wind: 200</title>" in html and 'role="img"' in html  # the chart's bar, labelled
    download = client.get(reverse("public_stats:statistics_csv"), {"activity": "retired", "by": "fuel"})
    lines = list(csv.reader(io.StringIO(b"".join(download.streaming_content).decode())))
    assert lines == [["Activity", "Count by", "Key", "Label", "Certificates (MWh)"],
                     ["retired", "fuel", "solar", "Solar", "70"], ["retired", "fuel", "wind", "Wind", "200"]]


def test_an_eligibility_counts_each_certificate_under_each_of_its_eligibilities(registry, client):
    answer = public_api(activity="issued", by="eligibility")
    assert {row["key"]: row["quantity"] for row in answer["rows"]} == {"Green-e": 1000, "MN RES": 1000, "IA AEP": 600}
    assert answer["total"] == 1900  # each certificate once: the hydro has none
    page = client.get(reverse("public_stats:statistics"), {"by": "eligibility"}).content.decode()
    assert "counts under each of them" in page


def test_a_filter_that_names_nothing_is_said_plainly_and_left_out(registry, client):
    page = client.get(reverse("public_stats:statistics"), {"month_from": "13/2024", "fuel": "coal"})
    html = page.content.decode()
    assert page.status_code == 200
    assert "Write the month as MM/YYYY, for example 01/2024, not “13/2024”." in html
    assert "Select a valid choice. coal is not one of the available choices." in html
    assert "<strong>1,900</strong> MWh issued in all" in html  # the rest of the query stands
    refused = APIClient().get(reverse("api:public-statistics"), {"month_from": "01/2025", "month_to": "12/2024"})
    assert refused.status_code == 400 and "The last month comes before the first" in refused.content.decode()
    assert APIClient().get(reverse("api:public-statistics"), {"fule": "wind"}).status_code == 400


def test_an_htmx_filter_answers_with_the_results_only(registry, client):
    part = client.get(reverse("public_stats:statistics"), {"by": "state"}, HTTP_HX_REQUEST="true",
                      HTTP_HX_TARGET="results")
    html = part.content.decode()
    assert "<table id=\"statistics\">" in html and "<h1>" not in html and "Minnesota" in html


def test_no_page_csv_or_answer_names_an_organization_an_account_or_a_retirement(registry, client, org, counterparty,
                                                                               retirement_account):
    private = registry["private"].retirement
    Account.objects.filter(pk=retirement_account.pk).update(name="Prairie Retirement Vault")  # not a common word
    secrets = [org.name, counterparty.name, org.public_id, counterparty.public_id, private.reference,
               "Acme Secret Buyer Inc", "Western Buyer LLC", "W-123", "contact", "@",
               *Account.objects.values_list("public_id", flat=True), *Account.objects.values_list("name", flat=True)]
    answers = []
    for activity in ("issued", "transferred", "retired", "exported"):
        for by in ("month", "fuel", "technology", "state", "eligibility", "program"):
            params = {"activity": activity, "by": by}
            answers += [client.get(reverse("public_stats:statistics"), params),
                        client.get(reverse("public_stats:statistics_csv"), params),
                        APIClient().get(reverse("api:public-statistics"), params)]
    answers += [client.get(reverse("public_stats:generators")), client.get(reverse("public_stats:generators_csv")),
                APIClient().get(reverse("api:public-generators"))]
    for answer in answers:
        assert answer.status_code == 200
        body = b"".join(answer.streaming_content) if answer.streaming else answer.content
        text = body.decode()
        main = text.split("<main>")[-1].split("</main>")[0]  # the page's own, not the header's
        assert not [secret for secret in secrets if secret in main], answer.request
    generator = APIClient().get(reverse("api:public-generators")).json()["results"][0]
    assert set(generator) == {"id", "name", "fuel", "technology", "state", "capacity_mw", "commissioned_on"}


def test_the_generators_list_shows_the_approved_generators_only(client, org):
    GeneratorFactory(organization=org, code="M805", name="Prairie Ridge Wind", capacity_mw="150.5")
    GeneratorFactory(organization=org, code="M806", name="Draft Solar", fuel_type="solar",
                     status=Generator.Status.DRAFT)
    GeneratorFactory(organization=org, code="M807", name="Returned Hydro", fuel_type="hydro",
                     status=Generator.Status.RETURNED)
    html = client.get(reverse("public_stats:generators")).content.decode()
    assert "Prairie Ridge Wind" in html and "Draft Solar" not in html and "Returned Hydro" not in html
    assert "<title>Wind: 150.5 MW</title>" in html  # the chart's bar of capacity by fuel
    listed = APIClient().get(reverse("api:public-generators")).json()["results"]
    assert listed == [{"id": "M805", "name": "Prairie Ridge Wind", "fuel": "wind", "technology": "onshore_wind",
                       "state": "MN", "capacity_mw": "150.50", "commissioned_on": "2015-06-01"}]
    assert APIClient().get(reverse("api:public-generators"), {"fuel": "solar"}).json()["results"] == []


def test_the_generators_csv_neutralises_formulas(client, org):
    GeneratorFactory(organization=org, code="M900", name="=cmd()|' /C calc'!A0")
    GeneratorFactory(organization=org, code="M901", name="+SUM(1,2)", fuel_type=FuelType.SOLAR)
    download = client.get(reverse("public_stats:generators_csv"))
    assert download["Content-Type"] == "text/csv; charset=utf-8"
    rows = list(csv.reader(io.StringIO(b"".join(download.streaming_content).decode())))
    assert [row[1] for row in rows[1:]] == ["'=cmd()|' /C calc'!A0", "'+SUM(1,2)"]
    assert rows[1] == ["M900", "'=cmd()|' /C calc'!A0", "Wind", "Onshore wind", "Minnesota", "100", "2015-06-01"]


def test_the_pages_the_csv_and_the_api_share_one_rate_limit_per_address(settings, still_clock, client):
    settings.STATISTICS_REQUESTS_PER_MINUTE = 3
    assert client.get(reverse("public_stats:statistics")).status_code == 200
    assert client.get(reverse("public_stats:statistics_csv")).status_code == 200
    assert APIClient().get(reverse("api:public-generators")).status_code == 200
    for refused in (client.get(reverse("public_stats:generators")), client.get(reverse("public_stats:statistics"))):
        assert refused.status_code == 429 and refused["Retry-After"] == "60"
        assert refused.content.decode() == "Too many requests from your address; try again in a minute."
    api = APIClient().get(reverse("api:public-statistics"))
    assert api.status_code == 429 and api["RateLimit-Remaining"] == "0"
    other = Client(REMOTE_ADDR="203.0.113.9")  # another address has its own count
    assert other.get(reverse("public_stats:statistics")).status_code == 200


def test_every_page_links_the_statistics(client, trader):
    assert 'href="/statistics/"' in client.get(reverse("login")).content.decode()
    client.force_login(trader)
    assert 'href="/statistics/generators/"' in client.get(reverse("dashboard:certificates")).content.decode()


def test_an_issuance_run_counts_its_certificates(staff, org, account, no_wakeups):
    """The issuance run's certificates.issued event names its issuances, not the certificates."""
    from issuance.services import issuance_run

    from .generation import last_month, report

    generator = GeneratorFactory(organization=org, account=account, fuel_type="solar", state="IA",
                                 eligibilities=["IA AEP"])
    issuance_run(user=staff, reports=[report(generator, last_month(2), "120.4", staff),
                                      report(generator, last_month(1), "80.7", staff)])
    [event] = Event.objects.filter(kind=Event.Kind.CERTIFICATES_ISSUED)
    assert event.data.get("issuance_ids") and "certificate_ids" not in event.data
    events_consume(consumer=CONSUMER)
    assert table_sums() == ledger_sums()
    assert public_api(activity="issued", by="eligibility")["rows"] == [
        {"key": "IA AEP", "label": "IA AEP", "quantity": 201}]  # 120 + 81: the 0.4 carried
