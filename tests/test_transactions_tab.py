"""The dashboard's Transactions tab: filters, search, the quantity column, sorting, paging and the CSV."""

import csv
import datetime
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from hypothesis import example, given

from certificates.models import CertificateBatch
from registry.models import Membership
from transfers import views
from transfers.models import Transfer
from transfers.services import Destination, TransferLine, transfer_create, transfer_withdraw

from .factories import AccountFactory, OrganizationFactory, member
from .test_bad_input import ANYTHING, answered, params

TAB = reverse("dashboard:certificates") + "?tab=transactions"
CSV = reverse("transfers:transactions_csv") + "?tab=transactions"


def noon(month: int, day: int = 10) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime(2025, month, day, 12))


def live_part(batch: CertificateBatch) -> CertificateBatch:
    """What is left active of `batch`'s certificate in its account after a partial transfer."""
    return CertificateBatch.objects.get(certificate=batch.certificate_id, account=batch.account_id, status="active")


@pytest.fixture
def transactions(org, trader, issue, second_account, counterparty, counterparty_trader, counterparty_account,
                 foreign_batch, tracking_system):
    """Five transactions of Prairie Wind Energy, each of its own type, status, quantity, date and
    counterparty, and one between two other organizations."""
    made = {
        "internal": transfer_create(organization=org, user=trader, lines=[TransferLine(issue(10).pk, 10)],
                                    destination=Destination.internal(second_account), notes="Rebalancing holdings"),
        "sale": transfer_create(organization=org, user=trader,
                                lines=[TransferLine(issue(100).pk, 100), TransferLine(issue(50).pk, 50)],
                                destination=Destination.to_organization(counterparty), notes="Bilateral REC sale"),
        "export": transfer_create(organization=org, user=trader, lines=[TransferLine(issue(30).pk, 30)],
                                  destination=Destination.export(tracking_system, "Cascade Utility", "W-20931"),
                                  notes="=HYPERLINK(\"http://evil.example\",\"click\")"),
        "incoming": transfer_create(organization=counterparty, user=counterparty_trader,
                                    lines=[TransferLine(foreign_batch.pk, 77)],
                                    destination=Destination.to_organization(org), notes="Spot sale"),
        "withdrawn": transfer_create(organization=org, user=trader, lines=[TransferLine(issue(20).pk, 20)],
                                     destination=Destination.to_organization(counterparty)),
    }
    transfer_withdraw(transfer=made["withdrawn"], user=trader, organization=org)
    for month, transfer in enumerate(made.values(), start=1):
        Transfer.objects.filter(pk=transfer.pk).update(submitted_at=noon(month))
    elsewhere = OrganizationFactory(name="Outsider Renewables")
    AccountFactory(organization=elsewhere, name="Outsider active")  # to receive into
    member(elsewhere, Membership.Role.TRADER)
    made["foreign"] = transfer_create(organization=counterparty, user=counterparty_trader,
                                      lines=[TransferLine(live_part(foreign_batch).pk, 7)],
                                      destination=Destination.to_organization(elsewhere),
                                      notes="Rebalancing holdings elsewhere")
    for transfer in made.values():
        transfer.refresh_from_db()
    return made


def listed(response) -> list[int]:
    assert response.status_code == 200
    return [transfer.pk for transfer in response.context["page"].object_list]


def pks(transactions, *names) -> list[int]:
    return sorted(transactions[name].pk for name in names)


OWN = ["internal", "sale", "export", "incoming", "withdrawn"]


def test_every_own_transaction_and_no_other_organizations(signed_in, trader, transactions):
    response = signed_in(trader).get(TAB)
    assert sorted(listed(response)) == pks(transactions, *OWN)
    assert "Rebalancing holdings elsewhere" not in response.content.decode()


@pytest.mark.parametrize("query,expected", [
    ("kind=internal", ["internal"]),
    ("kind=export", ["export"]),
    ("kind=organization", ["sale", "incoming", "withdrawn"]),
    ("status=complete", ["internal"]),
    ("status=pending", ["sale", "export", "incoming"]),
    ("status=withdrawn", ["withdrawn"]),
    ("counterparty=lakeshore", ["sale", "incoming", "withdrawn"]),
    ("counterparty=WREGIS", ["export"]),
    ("counterparty=western+renewable", ["export"]),
    ("counterparty=cascade", ["export"]),
    ("counterparty=Trading", []),  # an internal transfer has no counterparty: not its own account
    ("counterparty=Prairie", []),  # nor is the organization its own counterparty
    ("submitted_from=2025-02-01", ["sale", "export", "incoming", "withdrawn"]),
    ("submitted_to=2025-03-10", ["internal", "sale", "export"]),  # the whole of the last day
    ("submitted_from=2025-02-10&submitted_to=2025-04-09", ["sale", "export"]),
    ("kind=organization&status=pending&counterparty=lakeshore", ["sale", "incoming"]),
    ("notes=REBALANCING", ["internal"]),
    ("notes=sale", ["sale", "incoming"]),
])
def test_each_filter_narrows_the_list(signed_in, trader, transactions, query, expected):
    response = signed_in(trader).get(f"{TAB}&{query}")
    assert sorted(listed(response)) == pks(transactions, *expected)


def test_counterparty_by_a_part_of_its_mm_id(signed_in, trader, counterparty, transactions):
    partial = counterparty.public_id[3:]  # MM00042 -> 0042
    assert sorted(listed(signed_in(trader).get(f"{TAB}&counterparty={partial}"))) == \
        pks(transactions, "sale", "incoming", "withdrawn")
    assert sorted(listed(signed_in(trader).get(f"{TAB}&counterparty={counterparty.public_id.lower()}"))) == \
        pks(transactions, "sale", "incoming", "withdrawn")


# "Transfer1042" too: the API schema's pattern (TRANSFER_ID_PATTERN) allows it.
@pytest.mark.parametrize("written", ["{pk}", " {pk} ", "#{pk}", "Transfer {pk}", "transfer #{pk}", "Transfer{pk}"])
def test_search_by_transfer_id(signed_in, trader, transactions, written):
    sale = transactions["sale"]
    query = written.format(pk=sale.pk)
    assert listed(signed_in(trader).get(TAB, {"tab": "transactions", "transfer": query})) == [sale.pk]


def test_another_organizations_transfer_is_not_found_by_its_id(signed_in, trader, transactions):
    response = signed_in(trader).get(f"{TAB}&transfer={transactions['foreign'].pk}")
    assert listed(response) == []
    assert "No transactions match." in response.content.decode()


def test_an_organization_without_transactions_is_told_so(signed_in, trader):
    assert "No transactions yet." in signed_in(trader).get(TAB).content.decode()
    assert "No transactions match." in signed_in(trader).get(f"{TAB}&notes=x").content.decode()


def test_the_quantity_column_totals_each_transfer(signed_in, trader, transactions):
    response = signed_in(trader).get(TAB)
    quantities = {transfer.pk: transfer.total_quantity for transfer in response.context["page"].object_list}
    assert quantities == {transactions[name].pk: quantity for name, quantity in
                          (("internal", 10), ("sale", 150), ("export", 30), ("incoming", 77), ("withdrawn", 20))}
    assert '<td class="num" data-label="Quantity">150</td>' in response.content.decode()


def test_each_row_names_the_other_side(signed_in, trader, counterparty, transactions):
    content = signed_in(trader).get(TAB).content.decode()
    assert f"From Lakeshore Power Cooperative ({counterparty.public_id})" in content
    assert f"To Lakeshore Power Cooperative ({counterparty.public_id})" in content
    assert "To Cascade Utility at Western Renewable Energy Generation Information System, account W-20931" in content
    assert "To Trading (" in content


KIND_LABELS = dict(Transfer.Kind.choices)
SORT_KEYS = {
    "id": lambda transfer: transfer.pk,
    "date": lambda transfer: transfer.submitted_at,
    "kind": lambda transfer: KIND_LABELS[transfer.kind],
    "status": lambda transfer: transfer.status,
    "quantity": lambda transfer: transfer.total,
    "counterparty": lambda transfer: transfer.other_side,
}
OTHER_SIDE = {"internal": "Trading", "sale": "Lakeshore Power Cooperative", "export": "Cascade Utility",
              "incoming": "Lakeshore Power Cooperative", "withdrawn": "Lakeshore Power Cooperative"}
TOTALS = {"internal": 10, "sale": 150, "export": 30, "incoming": 77, "withdrawn": 20}


@pytest.mark.parametrize("descending", [False, True], ids=["ascending", "descending"])
@pytest.mark.parametrize("column", list(SORT_KEYS))
def test_each_sort_order(signed_in, trader, transactions, column, descending):
    own = []
    for name in OWN:
        transfer = transactions[name]
        transfer.total, transfer.other_side = TOTALS[name], OTHER_SIDE[name]
        own.append(transfer)
    # Ties (the same type, status or counterparty) in the order the transfers were made.
    expected = [transfer.pk for transfer in sorted(sorted(own, key=lambda transfer: transfer.pk),
                                                   key=SORT_KEYS[column], reverse=descending)]
    sort = f"-{column}" if descending else column
    response = signed_in(trader).get(f"{TAB}&sort={sort}")
    assert listed(response) == expected
    assert response.context["sort"] == sort
    content = response.content.decode()
    arrow = "▼" if descending else "▲"
    heading = dict(views.TRANSACTION_COLUMNS)[column]
    assert f"{heading} {arrow}</a>" in content


def test_the_default_order_is_newest_first(signed_in, trader, transactions):
    assert listed(signed_in(trader).get(TAB)) == [transactions[name].pk for name in reversed(OWN)]


def test_a_heading_links_to_its_sort_keeping_the_filter(signed_in, trader, transactions):
    content = signed_in(trader).get(f"{TAB}&kind=organization&sort=quantity&page=1").content.decode()
    assert 'href="?tab=transactions&amp;kind=organization&amp;sort=-quantity"' in content  # page 1 again
    assert 'href="?tab=transactions&amp;kind=organization&amp;sort=counterparty"' in content


@pytest.fixture
def two_per_page(monkeypatch):
    monkeypatch.setattr(views, "TRANSACTIONS_PER_PAGE", 2)


def test_page_two_as_a_plain_page(signed_in, trader, transactions, two_per_page):
    response = signed_in(trader).get(f"{TAB}&sort=quantity&page=2")
    assert listed(response) == [transactions["export"].pk, transactions["incoming"].pk]  # 30, 77
    content = response.content.decode()
    assert "<html" in content and 'id="filters"' in content
    assert "Page 2 of 3" in content
    assert 'href="?tab=transactions&amp;sort=quantity&amp;page=3"' in content
    assert 'href="?tab=transactions&amp;sort=quantity&amp;page=1"' in content


def test_page_two_as_an_htmx_partial(signed_in, trader, transactions, two_per_page):
    response = signed_in(trader).get(f"{TAB}&sort=quantity&page=2&kind=organization",
                                     headers={"HX-Request": "true", "HX-Target": "results"})
    assert listed(response) == [transactions["sale"].pk]  # 20, 77 on page 1; then 150
    content = response.content.decode()
    assert "<html" not in content and 'id="filters"' not in content and 'id="transactions"' in content
    assert "Page 2 of 2" in content
    assert 'hx-get="?tab=transactions&amp;sort=quantity&amp;page=1&amp;kind=organization"' in content


def test_a_page_past_the_last_shows_the_last(signed_in, trader, transactions, two_per_page):
    assert listed(signed_in(trader).get(f"{TAB}&sort=id&page=99")) == [transactions["withdrawn"].pk]


def test_query_count_does_not_grow_with_the_rows(signed_in, trader, transactions, issue, second_account, org):
    client = signed_in(trader)
    with CaptureQueriesContext(connection) as before:
        assert client.get(TAB).status_code == 200
    for _ in range(4):
        transfer_create(organization=org, user=trader, lines=[TransferLine(issue(5).pk, 5)],
                        destination=Destination.internal(second_account))
    with CaptureQueriesContext(connection) as after:
        assert client.get(TAB).status_code == 200
    assert len(after) == len(before)
    # the session, the user and memberships, the Pending tab's count, the count, the page's transfers
    assert len(after) == 5, [query["sql"][:80] for query in after.captured_queries]


def csv_rows(response) -> list[list[str]]:
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert response.streaming
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


def test_csv_has_the_filtered_rows_and_the_same_columns(signed_in, trader, counterparty, transactions):
    rows = csv_rows(signed_in(trader).get(f"{CSV}&counterparty=lakeshore&sort=-quantity"))
    assert rows[0] == ["Transaction ID", "Submitted", "Type", "Status", "Quantity", "Counterparty", "Notes"]
    sale, incoming, withdrawn = transactions["sale"], transactions["incoming"], transactions["withdrawn"]
    assert [row[0] for row in rows[1:]] == [str(sale.pk), str(incoming.pk), str(withdrawn.pk)]
    assert rows[1] == [str(sale.pk), "2025-02-10 12:00 CST", "To another organization", "Pending", "150",
                       f"To Lakeshore Power Cooperative ({counterparty.public_id})", "Bilateral REC sale"]
    assert rows[2][5] == f"From Lakeshore Power Cooperative ({counterparty.public_id})"
    assert rows[3][3] == "Withdrawn"


def test_csv_neutralises_a_note_that_starts_with_a_formula(signed_in, trader, transactions):
    rows = csv_rows(signed_in(trader).get(f"{CSV}&kind=export"))
    assert len(rows) == 2
    assert rows[1][6] == "'" + transactions["export"].notes
    assert rows[1][5].startswith("To Cascade Utility at ")


def test_csv_never_holds_another_organizations_transfers(signed_in, trader, transactions):
    rows = csv_rows(signed_in(trader).get(CSV))
    assert sorted(int(row[0]) for row in rows[1:]) == pks(transactions, *OWN)


def test_the_page_links_its_csv_with_the_current_filter(signed_in, trader, transactions):
    content = signed_in(trader).get(f"{TAB}&kind=export").content.decode()
    assert f'href="{reverse("transfers:transactions_csv")}?tab=transactions&amp;kind=export"' in content


@pytest.mark.parametrize("query,message", [
    ("submitted_from=2025-13-40", "Submitted from: Enter a date as YYYY-MM-DD, e.g. 2025-03-31."),
    ("submitted_to=yesterday", "Submitted to: Enter a date as YYYY-MM-DD, e.g. 2025-03-31."),
    ("submitted_from=2025-03-01&submitted_to=2025-02-01",
     "Submitted to: Enter a date on or after the “Submitted from” date."),
    ("kind=gift", "Type: There is no transfer type “gift”: choose one from the list."),
    ("status=draft", "Status: There is no transaction status “draft”: choose one from the list."),
    ("transfer=abc", "Transfer ID: Enter a transfer ID as a whole number, e.g. 1042."),
    ("transfer=99999999999999999999999", "Transfer ID: Enter a transfer ID as a whole number, e.g. 1042."),
    ("transfer=-3", "Transfer ID: Enter a transfer ID as a whole number, e.g. 1042."),
])
def test_bad_filter_input_is_explained(signed_in, trader, transactions, query, message):
    client = signed_in(trader)
    response = client.get(f"{TAB}&{query}")
    assert sorted(listed(response)) == pks(transactions, *OWN)  # unfiltered, with the reason
    content = response.content.decode()
    assert "Correct the filter; until then every transaction is listed." in content
    assert message in content
    # htmx swaps in only the results: the message is in them.
    partial = client.get(f"{TAB}&{query}", headers={"HX-Request": "true", "HX-Target": "results"})
    assert partial.status_code == 200 and 'role="alert"' in partial.content.decode()
    refused = client.get(f"{CSV}&{query}")
    assert refused.status_code == 400
    assert "Nothing was downloaded: correct the filter first." in refused.content.decode()


@pytest.mark.parametrize("query", ["submitted_from=0001-01-01", "submitted_to=9999-12-31", "page=abc", "page=-1",
                                   "sort=--quantity", "sort=organization__name", "transfer="])
def test_odd_but_harmless_input_lists_as_usual(signed_in, trader, transactions, query):
    response = signed_in(trader).get(f"{TAB}&{query}")
    assert sorted(listed(response)) == pks(transactions, *OWN)
    assert "Correct the filter" not in response.content.decode()


@pytest.mark.parametrize("query", ["counterparty=%25", "counterparty=_", "notes=%25", "notes=_"])
def test_wildcards_are_searched_for_as_written(signed_in, trader, transactions, query):
    assert listed(signed_in(trader).get(f"{TAB}&{query}")) == []


def test_another_organization_sees_only_its_own(signed_in, counterparty_trader, transactions):
    response = signed_in(counterparty_trader).get(f"{TAB}&counterparty=prairie")
    assert sorted(listed(response)) == pks(transactions, "sale", "incoming", "withdrawn")


TRANSACTION_FIELDS = ["tab", "sort", "page", "kind", "status", "counterparty", "submitted_from", "submitted_to",
                      "transfer", "notes"]


@pytest.mark.parametrize("url", [reverse("dashboard:certificates"), reverse("transfers:transactions_csv")])
@ANYTHING
@given(query=params(TRANSACTION_FIELDS))
@example(query={"submitted_from": "0001-01-01", "submitted_to": "9999-12-31"})
@example(query={"transfer": "9" * 4400})
def test_the_tab_and_its_csv_never_fail(signed_in, trader, transactions, url, query):
    client = signed_in(trader)
    answered(lambda: client.get(url, {"tab": "transactions", **query}))
