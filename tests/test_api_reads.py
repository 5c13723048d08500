"""The API's read endpoints, as the key's organization, a lower-scoped key, an outsider and no key."""

import csv
import io

import pytest
from django.test import RequestFactory
from django.urls import reverse
from rest_framework.request import Request
from rest_framework.test import APIClient

from accounts.selectors import accounts_with_balances
from api import views as api_views
from api.pagination import ApiCursorPagination
from api.problems import PROBLEM_CONTENT_TYPE
from certificates.models import CertificateBatch
from dashboard.views import download_csv
from programs.filters import ProgramBatchFilter
from transfers.services import Destination, TransferLine, transfer_accept, transfer_create

from .conftest import retire, send

BATCHES = "/api/v1/batches/"
BATCHES_CSV = "/api/v1/batches.csv"


def problem(response, status):
    assert response.status_code == status, response.content
    assert response["Content-Type"] == PROBLEM_CONTENT_TYPE
    return response.json()


def csv_text(response) -> str:
    return b"".join(response.streaming_content).decode()


# The organization.

def test_the_organization_is_the_keys(api_as, org, viewer):
    response = api_as(viewer, org).get("/api/v1/organization/")
    assert response.json() == {"id": org.public_id, "name": org.name, "status": "active"}


def test_no_key_is_a_401_on_every_read(db):
    for path in ["/api/v1/organization/", "/api/v1/accounts/", "/api/v1/accounts/ACT-00001/", BATCHES, BATCHES_CSV,
                 f"{BATCHES}1/"]:
        assert problem(APIClient().get(path), 401)["type"].endswith("not-authenticated"), path


@pytest.mark.parametrize("scope", ["read", "trade", "retire"])
def test_every_scope_reads(api_as, org, manager, scope):
    assert api_as(manager, org, scope).get("/api/v1/accounts/").status_code == 200


# Accounts.

def test_accounts_with_their_balances(api_as, org, viewer, trader, account, second_account, holdings, counterparty):
    send(holdings["wind"], trader, org, counterparty, quantity=100)
    response = api_as(viewer, org).get("/api/v1/accounts/")
    expected = {a.public_id: {"active": a.active_quantity, "pending": a.pending_quantity, "retired": a.retired_quantity}
                for a in accounts_with_balances(org)}
    assert {row["id"]: row["balances"] for row in response.json()} == expected
    assert expected[account.public_id] == {"active": 1400, "pending": 100, "retired": 0}


def test_one_account_by_its_public_id(api_as, org, viewer, account, holdings):
    for public_id in (account.public_id, account.public_id.lower()):
        body = api_as(viewer, org).get(f"/api/v1/accounts/{public_id}/").json()
        assert body["id"] == account.public_id and body["name"] == "Main active" and body["type"] == "active"
        assert body["balances"]["active"] == 1500
    problem(api_as(viewer, org).get(f"/api/v1/accounts/{account.pk}/"), 404)  # its internal number is no id


def test_another_organizations_account_is_a_404(api_as, org, outsider, account):
    outsider_org = outsider.memberships.get().organization
    client = api_as(outsider, outsider_org)
    problem(client.get(f"/api/v1/accounts/{account.public_id}/"), 404)
    assert client.get("/api/v1/accounts/").json() == []


# Batches: the dashboard's FilterSet, one definition.

def test_the_api_and_the_dashboard_filter_with_one_filterset(signed_in, trader, holdings):
    dashboard = signed_in(trader).get(reverse("dashboard:certificates"))
    assert type(dashboard.context["filter"]) is ProgramBatchFilter
    assert (api_views.BatchList.filterset_class is ProgramBatchFilter
            and api_views.BatchDownload.filterset_class is ProgramBatchFilter)


@pytest.mark.parametrize("query", [
    "", "fuel=solar", "state=wi", "generator=M805", "generator=falls", "eligibility=IA AEP", "vintage_from=06/2020",
    "vintage_to=2020-06", "quantity_min=300", "quantity_max=500", "serial=250", "fuel=wind&quantity_min=2000",
])
def test_the_api_lists_the_rows_the_dashboard_lists(api_as, signed_in, org, trader, holdings, query):
    dashboard = signed_in(trader).get(reverse("dashboard:certificates") + "?per_page=500&" + query)
    response = api_as(trader, org).get(f"{BATCHES}?{query}")
    assert response.status_code == 200, response.content
    assert ({row["id"] for row in response.json()["results"]}
            == {batch.pk for batch in dashboard.context["page"].object_list})


def test_the_account_filter_takes_the_public_id_every_batch_shows(api_as, signed_in, org, trader, holdings,
                                                                  second_account):
    client = api_as(trader, org)
    shown = next(row["account"] for row in client.get(BATCHES).json()["results"] if row["id"] == holdings["hydro"].pk)
    assert shown == second_account.public_id
    for text in (shown, shown.lower(), f" {shown} "):
        rows = client.get(BATCHES, {"account": text}).json()["results"]
        assert [row["id"] for row in rows] == [holdings["hydro"].pk]
    download = csv_text(client.get(BATCHES_CSV, {"account": shown}))
    assert holdings["hydro"].serial_number in download and holdings["wind"].serial_number not in download
    dashboard = signed_in(trader).get(reverse("dashboard:certificates"), {"account": shown})
    assert [batch.pk for batch in dashboard.context["page"].object_list] == [holdings["hydro"].pk]


def test_an_account_filter_naming_none_of_the_organizations_accounts_is_a_400(api_as, org, trader, holdings,
                                                                             second_account, counterparty_account):
    client = api_as(trader, org)
    for text in (str(second_account.pk), counterparty_account.public_id, "ACT-99999", "everything"):
        for path in (BATCHES, BATCHES_CSV):
            body = problem(client.get(path, {"account": text}), 400)
            assert body["errors"] == [{"field": "account", "detail": f"None of your accounts has the id “{text}”: "
                                                                     "give one of your accounts' ids, e.g. ACT-00031."}]


def test_a_batch_as_the_dashboard_shows_it(api_as, org, viewer, holdings, account):
    wind = holdings["wind"]
    row = next(row for row in api_as(viewer, org).get(BATCHES).json()["results"] if row["id"] == wind.pk)
    assert row | {"issued_at": None} == {
        "id": wind.pk, "serial_number": wind.serial_number, "serial_start": 1, "serial_end": 1000, "quantity": 1000,
        "status": "active", "account": account.public_id, "account_name": "Main active", "generator": "M805",
        "generator_name": "Prairie Ridge Wind", "fuel": "wind", "state": "MN", "vintage": "2020-01",
        "eligibilities": ["MN RES", "Green-e"], "issued_at": None, "origin": None}


# One batch, in any status: what a partial move left behind.

def test_a_batch_split_by_a_partial_transfer_names_what_replaced_it(api_as, org, trader, viewer, holdings,
                                                                    second_account):
    wind = holdings["wind"]
    transfer = transfer_create(organization=org, user=trader, lines=[TransferLine(wind.pk, 300)],
                               destination=Destination.internal(second_account))
    moved, stayed = transfer.moved[wind.pk], transfer.remainders[wind.pk]
    client = api_as(viewer, org)
    listed = next(row for row in client.get(BATCHES).json()["results"] if row["id"] == stayed)
    body = client.get(f"{BATCHES}{wind.pk}/").json()
    assert body == {**listed, "id": wind.pk, "serial_number": wind.serial_number, "serial_start": 1,
                    "serial_end": 1000, "quantity": 1000, "status": "superseded", "replaced_by": [moved, stayed]}
    assert client.get(f"{BATCHES}{moved}/").json() | {"issued_at": None} == {
        **listed, "id": moved, "serial_number": f"{wind.certificate.serial_base}-1 to 300", "serial_start": 1,
        "serial_end": 300, "quantity": 300, "account": second_account.public_id, "account_name": second_account.name,
        "issued_at": None, "replaced_by": []}
    assert client.get(f"{BATCHES}{stayed}/").json() == {**listed, "replaced_by": []}


def test_a_batch_in_any_status_the_organization_holds(api_as, org, trader, viewer, holdings, counterparty,
                                                      counterparty_trader, counterparty_account, retirement_account):
    sent = send(holdings["wind"], trader, org, counterparty, quantity=1000)
    retire(organization=org, user=trader, account=retirement_account, lines=[TransferLine(holdings["solar"].pk, 500)])
    client = api_as(viewer, org)
    assert client.get(f"{BATCHES}{holdings['wind'].pk}/").json()["status"] == "pending"
    assert client.get(f"{BATCHES}{holdings['solar'].pk}/").json()["account"] == retirement_account.public_id
    assert client.get(f"{BATCHES}{holdings['solar'].pk}/").json()["status"] == "retired"
    # Accepted, the batch is the recipient's: the sender no longer sees it, the recipient does.
    transfer_accept(transfer=sent, user=counterparty_trader, organization=counterparty, account=counterparty_account)
    problem(client.get(f"{BATCHES}{holdings['wind'].pk}/"), 404)
    recipient = api_as(counterparty_trader, counterparty)
    assert recipient.get(f"{BATCHES}{holdings['wind'].pk}/").json()["account"] == counterparty_account.public_id


def test_another_organizations_batch_is_a_404(api_as, outsider, holdings, foreign_batch, org, viewer):
    stranger = api_as(outsider, outsider.memberships.get().organization)
    for batch_id in (holdings["wind"].pk, 987654, "M805", "-1", "0"):
        assert problem(stranger.get(f"{BATCHES}{batch_id}/"), 404)["status"] == 404
    problem(api_as(viewer, org).get(f"{BATCHES}{foreign_batch.pk}/"), 404)


def test_a_filter_that_is_not_valid_is_a_400_naming_the_field(api_as, org, viewer, holdings):
    body = problem(api_as(viewer, org).get(f"{BATCHES}?quantity_min=many&vintage_from=13/2020"), 400)
    assert {error["field"] for error in body["errors"]} == {"quantity_min", "vintage_from"}
    body = problem(api_as(viewer, org).get(f"{BATCHES}?status=pending"), 400)
    assert body["errors"] == [{"field": "status", "detail": "Choose one of: active, exported."}]


def test_exported_batches_are_listed_by_status(api_as, org, trader, holdings, tracking_system, staff):
    from transfers.services import export_confirm, transfer_create

    transfer = transfer_create(organization=org, user=trader, lines=[TransferLine(holdings["solar"].pk, 500)],
                               destination=Destination.export(tracking_system, "Buyer", "B-1"))
    export_confirm(user=staff, transfer=transfer)
    rows = api_as(trader, org).get(f"{BATCHES}?status=exported").json()["results"]
    assert [(row["serial_number"], row["status"]) for row in rows] == [(holdings["solar"].serial_number, "exported")]
    assert holdings["solar"].pk not in {row["id"] for row in api_as(trader, org).get(BATCHES).json()["results"]}


def test_batches_come_a_page_at_a_time_by_cursor(api_as, org, viewer, holdings):
    client = api_as(viewer, org)
    first = client.get(f"{BATCHES}?page_size=2").json()
    assert len(first["results"]) == 2 and first["previous"] is None and first["next"]
    second = client.get(first["next"]).json()
    assert len(second["results"]) == 1 and second["next"] is None
    ids = [row["id"] for row in first["results"] + second["results"]]
    assert ids == sorted(ids) == sorted(batch.pk for batch in holdings.values())


def test_a_page_holds_at_most_a_thousand_batches(api_as, org, viewer):
    def page_size(query):
        return ApiCursorPagination().get_page_size(Request(RequestFactory().get(f"{BATCHES}?{query}")))

    assert (page_size(""), page_size("page_size=1"), page_size("page_size=1000")) == (100, 1, 1000)
    for value in ["1001", "0", "-1", "ten", ""]:
        body = problem(api_as(viewer, org).get(f"{BATCHES}?page_size={value}"), 400)
        assert body["errors"] == [{"field": "page_size", "detail": "Enter a whole number from 1 to 1,000."}], value


def test_an_outsider_lists_none_of_our_batches(api_as, outsider, holdings):
    rows = api_as(outsider, outsider.memberships.get().organization).get(BATCHES).json()["results"]
    assert rows == []


def test_listing_a_page_is_a_fixed_number_of_queries(api_as, org, viewer, holdings, issue,
                                                     django_assert_max_num_queries):
    client = api_as(viewer, org)
    client.get(BATCHES)
    for _ in range(5):
        issue(10)
    with django_assert_max_num_queries(3):  # the key; the eligibilities the filter offers; the page
        assert len(client.get(BATCHES).json()["results"]) == 8


# The CSV download: the dashboard's file.

@pytest.mark.parametrize("query", ["", "fuel=wind", "state=WI&sort=-quantity", "status=exported"])
def test_the_csv_is_the_dashboards(api_as, signed_in, org, trader, holdings, query):
    # The API answers every time in UTC, the dashboard in its reader's zone: the same file for a
    # reader in UTC (in the registry's zone, an evening's issuance date would differ by a day).
    trader.time_zone = "UTC"
    trader.save(update_fields=["time_zone"])
    dashboard_query = query.replace("status=", "tab=")
    page = signed_in(trader).get(reverse("dashboard:download") + "?" + dashboard_query)
    response = api_as(trader, org).get(f"{BATCHES_CSV}?{query}")
    assert response.status_code == 200 and response["Content-Type"] == "text/csv; charset=utf-8"
    assert csv_text(response) == csv_text(page)
    assert response["Content-Disposition"] == page["Content-Disposition"]


def test_the_csv_neutralises_formulas(api_as, org, trader, holdings, account):
    account.name = '=HYPERLINK("http://evil","x")'
    account.save(update_fields=["name"])
    rows = list(csv.reader(io.StringIO(csv_text(api_as(trader, org).get(f"{BATCHES_CSV}?fuel=wind")))))
    assert rows[1][3] == "'" + account.name


def test_a_csv_with_a_filter_that_is_not_valid_is_a_400(api_as, org, trader, holdings):
    body = problem(api_as(trader, org).get(f"{BATCHES_CSV}?quantity_max=lots"), 400)
    assert body["errors"][0]["field"] == "quantity_max"


def test_the_dashboard_download_still_refuses_a_filter_that_is_not_valid(signed_in, trader, holdings):
    assert download_csv  # the page's view, which shares batches_csv with the API
    assert signed_in(trader).get(reverse("dashboard:download") + "?quantity_max=lots").status_code == 400


# The public verification record.

@pytest.fixture
def retirement(org, trader, batch, retirement_account):
    return retire(organization=org, user=trader, account=retirement_account,
                  lines=[TransferLine(batch.pk, 250)]).retirement


def test_the_verification_record_needs_no_key_and_is_the_pages(client, retirement):
    response = APIClient().get(f"/api/v1/verify/{retirement.reference}/")
    assert response.status_code == 200
    assert response.json() == client.get(reverse("retirements:verify_json", args=[retirement.reference])).json()
    assert response.json()["record"]["total_quantity"] == 250


def test_a_private_retirement_says_only_that_it_is_valid(retirement):
    retirement.is_private = True
    retirement.save(update_fields=["is_private"])
    body = APIClient().get(f"/api/v1/verify/{retirement.reference.lower()}/").json()
    # and where it stands in the public log (null: the log has not taken it yet), which names no one
    assert body == {"reference": retirement.reference, "valid": True, "private": True, "log": None}


@pytest.mark.parametrize("reference", ["NOTAREFERENCE", "0" * 20, "ü" * 20])
def test_an_unknown_reference_is_a_404_problem(db, reference):
    problem(APIClient().get(f"/api/v1/verify/{reference}/"), 404)


def test_the_verification_record_is_limited_like_its_page(settings, retirement):
    settings.VERIFY_REQUESTS_PER_MINUTE = 2
    client = APIClient()
    assert client.get(f"/api/v1/verify/{retirement.reference}/").status_code == 200
    assert client.get(reverse("retirements:verify_json", args=[retirement.reference])).status_code == 200
    response = client.get(f"/api/v1/verify/{retirement.reference}/")
    problem(response, 429)
    assert 1 <= int(response["Retry-After"]) <= 60


def test_a_bad_key_does_not_matter_to_the_public_record(retirement):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Api-Key nonsense")
    assert client.get(f"/api/v1/verify/{retirement.reference}/").status_code == 200


def test_a_pending_batch_is_in_no_batch_status_the_api_lists(api_as, org, trader, holdings, counterparty):
    send(holdings["wind"], trader, org, counterparty, quantity=1000)
    pending = CertificateBatch.objects.get(status="pending")
    for status in ["active", "exported"]:
        rows = api_as(trader, org).get(f"{BATCHES}?status={status}").json()["results"]
        assert pending.pk not in {row["id"] for row in rows}


@pytest.mark.parametrize("path", ["/api/v1/organization/", "/api/v1/accounts/", BATCHES, BATCHES_CSV])
def test_a_query_parameter_the_operation_does_not_take_is_a_400_naming_it(api_as, org, viewer, holdings, path):
    body = problem(api_as(viewer, org).get(f"{path}?fule=wind"), 400)
    assert body["errors"] == [{"field": "fule", "detail": "This operation takes no such query parameter."}]


def test_a_csv_sort_the_dashboard_does_not_offer_is_a_400(api_as, org, viewer, holdings):
    body = problem(api_as(viewer, org).get(f"{BATCHES_CSV}?sort=price"), 400)
    assert body["errors"][0]["field"] == "sort"


@pytest.mark.parametrize("path", ["/api/v1/nothing/", "/api/v2/organization/", "/api/v1/accounts"])
def test_an_address_with_no_operation_is_a_404_problem(db, path):
    body = problem(APIClient().post(path), 404)
    assert "/api/docs/" in body["detail"]


def test_a_client_accepting_only_csv_gets_the_file_or_a_problem(api_as, org, viewer, holdings):
    client = api_as(viewer, org)
    response = client.get(BATCHES_CSV, headers={"Accept": "text/csv"})
    assert response.status_code == 200 and csv_text(response).startswith("Serial Number,")
    body = problem(client.get(f"{BATCHES_CSV}?quantity_max=lots", headers={"Accept": "text/csv"}), 400)
    assert body["errors"][0]["field"] == "quantity_max"


def test_a_method_an_operation_does_not_take_is_a_405_whatever_the_query(api_as, org, viewer):
    response = api_as(viewer, org).delete(f"{BATCHES_CSV}?fule=wind")
    assert problem(response, 405)["type"].endswith("method-not-allowed")
