"""The API's invoices and charges (read): the key's organization's only, for a key a manager or the
billing contact made (as the Billing tab), with each invoice's lines, and charges filtered by billing
period, invoiced or not, and invoice; documented in the schema."""

import datetime

import pytest
from rest_framework.test import APIClient

from billing.models import Invoice
from billing.services import invoices_issue
from billing.values import Period
from registry.models import Organization

from .billing import at, consume, issued, standard_schedules
from .factories import GeneratorFactory, member
from .test_api_reads import problem

pytestmark = pytest.mark.django_db(transaction=True)

JANUARY = Period(datetime.date(2090, 1, 1), datetime.date(2090, 2, 1))


@pytest.fixture
def billed(issue, no_wakeups, org, counterparty, counterparty_account):
    """`org`'s January 2090 invoice ($80.00: 5,000 RECs on the 5th, 1,000 free) and February's issuance of
    them charged since ($150.00, not yet invoiced); the counterparty's own invoice of January."""
    standard_schedules()
    certificate = issue(5000).certificate
    issued(certificate, at(2090, 1, 5))
    issued(certificate, at(2090, 2, 5))
    theirs = issue(2000, generator=GeneratorFactory(organization=counterparty, code="C100"),
                   account=counterparty_account).certificate
    issued(theirs, at(2090, 1, 6))
    consume()
    invoices_issue(period=JANUARY, now=at(2090, 2, 1, hour=1))
    return Invoice.objects.get(organization=org)


def test_a_manager_lists_the_organizations_invoices_with_their_balance_and_status(api_as, org, manager, billed,
                                                                                 monkeypatch):
    monkeypatch.setattr("billing.selectors.billing_today", lambda: datetime.date(2090, 2, 10))
    response = api_as(manager, org).get("/api/v1/invoices/")
    assert response.status_code == 200, response.content
    (invoice,) = response.json()["results"]
    assert invoice == {"number": billed.number, "reference": billed.reference, "period_start": "2090-01-01",
                       "period_end": "2090-02-01", "issued_at": "2090-02-01T07:00:00Z", "due_on": "2090-03-03",
                       "currency": "USD", "total": "80.00", "balance": "80.00", "status": "due",
                       "bill_to": billed.bill_to}


def test_an_invoices_detail_has_its_lines_and_another_organizations_is_a_404(api_as, org, manager, billed,
                                                                              counterparty):
    client = api_as(manager, org)
    detail = client.get(f"/api/v1/invoices/{billed.number}/").json()
    assert detail["line_count"] == 1 and detail["total"] == "80.00"
    (line,) = detail["lines"]
    assert line["kind"] == "issuance" and line["quantity"] == "5000" and line["free_quantity"] == "1000"
    assert line["amount"] == "80.00" and line["unit_price"] == "0.020000" and line["invoice"] == billed.reference
    assert line["description"] == "5,000 RECs × $0.02, first 1,000 of 2090 free" and line["event"] is not None
    theirs = Invoice.objects.get(organization=counterparty)
    assert problem(client.get(f"/api/v1/invoices/{theirs.number}/"), 404)
    assert problem(client.get("/api/v1/invoices/nonsense/"), 404)


def test_charges_are_the_organizations_filtered_by_period_invoiced_and_invoice(api_as, org, manager, billed):
    client = api_as(manager, org)
    every = client.get("/api/v1/charges/").json()["results"]
    assert [(c["amount"], c["invoice"]) for c in every] == [("80.00", billed.reference), ("150.00", None)]
    assert [c["amount"] for c in client.get("/api/v1/charges/?invoiced=false").json()["results"]] == ["150.00"]
    assert [c["amount"] for c in client.get("/api/v1/charges/?invoiced=true").json()["results"]] == ["80.00"]
    assert [c["amount"] for c in client.get("/api/v1/charges/?period=2090-02").json()["results"]] == ["150.00"]
    assert [c["amount"] for c in client.get("/api/v1/charges/?period=01/2090").json()["results"]] == ["80.00"]
    assert [c["amount"] for c in client.get("/api/v1/charges/?invoice=INV-000001").json()["results"]] == ["80.00"]
    assert client.get("/api/v1/charges/?period=").json()["results"] == every  # an empty filter filters nothing


def test_bad_filters_are_a_400_naming_them(api_as, org, manager, billed):
    client = api_as(manager, org)
    body = problem(client.get("/api/v1/charges/?period=2090-13"), 400)
    assert "Enter a month as MM/YYYY" in str(body)
    body = problem(client.get("/api/v1/charges/?invoice=INV-x"), 400)
    assert "Enter an invoice number as printed, e.g. INV-000041, or 41." in str(body)
    assert "Enter true or false." in str(problem(client.get("/api/v1/charges/?invoiced=-5"), 400))
    assert "This operation takes no such query parameter." in str(problem(client.get("/api/v1/charges/?perod=1"), 400))


def test_a_key_made_by_a_trader_reads_no_billing_but_one_by_the_billing_contact_does(api_as, org, trader, billed):
    for path in ["/api/v1/invoices/", f"/api/v1/invoices/{billed.number}/", "/api/v1/charges/"]:
        body = problem(api_as(trader, org).get(path), 403)
        assert f"Only a manager or the billing contact of {org.name} may see its invoices." in body["detail"]
    Organization.objects.filter(pk=org.pk).update(billing_contact=trader)
    assert api_as(trader, org).get("/api/v1/invoices/").status_code == 200


def test_no_key_is_a_401_and_another_organizations_manager_reads_only_their_own(api_as, counterparty, billed):
    assert problem(APIClient().get("/api/v1/invoices/"), 401)
    assert problem(APIClient().get("/api/v1/charges/"), 401)
    their_manager = member(counterparty, "manager", email="boss@lakeshore.example")
    (invoice,) = api_as(their_manager, counterparty).get("/api/v1/invoices/").json()["results"]
    assert invoice["total"] == "20.00"
    assert [c["amount"] for c in api_as(their_manager, counterparty).get("/api/v1/charges/").json()["results"]] == [
        "20.00"]


def test_the_schema_documents_invoices_and_charges():
    schema = APIClient().get("/api/schema/", headers={"Accept": "application/vnd.oai.openapi+json"}).json()
    assert {"/api/v1/invoices/", "/api/v1/invoices/{id}/", "/api/v1/charges/"} <= set(schema["paths"])
    parameters = {p["name"] for p in schema["paths"]["/api/v1/charges/"]["get"]["parameters"]}
    assert {"period", "invoiced", "invoice", "cursor", "page_size"} <= parameters
    assert {"Invoice", "InvoiceDetail", "Charge"} <= set(schema["components"]["schemas"])
