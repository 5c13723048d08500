import csv
import html
import io
import re
from urllib.parse import unquote

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from certificates.selectors import SELECTION_KEY
from transfers.services import Destination, TransferLine, transfer_create

DASHBOARD = reverse("dashboard:certificates")
DOWNLOAD = reverse("dashboard:download")
SELECTION = reverse("dashboard:selection")


def serials_on(response):
    return [batch.serial_number for batch in response.context["page"].object_list]


def totals_answer(client, query=""):
    """The totals the page asks for once its rows are shown (its link's hx-get, hx-trigger="load")."""
    return client.get(f"{DASHBOARD}?{query}", headers={"HX-Request": "true", "HX-Target": "totals"})


def totals_of(client, query=""):
    return totals_answer(client, query).context["totals"]


def test_active_tab_lists_the_organizations_active_batches(signed_in, trader, holdings, foreign_batch):
    response = signed_in(trader).get(DASHBOARD)
    assert response.status_code == 200
    shown = serials_on(response)
    assert sorted(shown) == sorted(b.serial_number for b in holdings.values())
    content = response.content.decode()
    assert foreign_batch.certificate.serial_base not in content
    assert totals_of(signed_in(trader)) == {"count": 3, "quantity": 1700}


@pytest.mark.parametrize("query,expected", [
    ("fuel=solar", ["solar"]),
    ("state=wi", ["hydro"]),
    ("eligibility=IA+AEP", ["solar"]),
    ("vintage_from=01/2020&vintage_to=12/2020", ["wind", "solar"]),
    ("vintage_from=2021-01", ["hydro"]),
    ("generator=M805", ["wind"]),
    ("generator=hydro", ["hydro"]),
    ("quantity_min=300&quantity_max=600", ["solar"]),
    ("serial=M833", ["solar"]),
    ("serial=750", ["wind"]),
])
def test_each_filter(signed_in, trader, holdings, query, expected):
    response = signed_in(trader).get(f"{DASHBOARD}?{query}")
    assert sorted(serials_on(response)) == sorted(holdings[name].serial_number for name in expected)


def test_account_filter_offers_only_own_accounts(signed_in, trader, holdings, second_account, counterparty_account):
    client = signed_in(trader)
    response = client.get(f"{DASHBOARD}?account={second_account.public_id}")
    assert serials_on(response) == [holdings["hydro"].serial_number]
    # The <select> posts the public id, as the API's filter takes it.
    assert f'<option value="{second_account.public_id}" selected>' in response.content.decode()
    response = client.get(f"{DASHBOARD}?account={counterparty_account.public_id}")
    assert "account" in response.context["filter"].form.errors
    assert counterparty_account.name not in response.content.decode()


def test_a_bad_vintage_is_explained(signed_in, trader, holdings):
    response = signed_in(trader).get(f"{DASHBOARD}?vintage_from=13/2020")
    assert "Enter a month as MM/YYYY" in response.content.decode()


@pytest.mark.parametrize("sort,first", [("quantity", "hydro"), ("-quantity", "wind"), ("vintage", "wind"),
                                        ("-vintage", "hydro"), ("fuel", "hydro"), ("state", "solar")])
def test_sorting(signed_in, trader, holdings, sort, first):
    response = signed_in(trader).get(f"{DASHBOARD}?sort={sort}")
    assert serials_on(response)[0] == holdings[first].serial_number


def test_pagination_totals_cover_the_whole_filtered_set(signed_in, trader, issue):
    for _ in range(30):
        issue(10)
    client = signed_in(trader)
    response = client.get(f"{DASHBOARD}?per_page=25&page=2")
    assert len(serials_on(response)) == 5
    assert response.context["totals"] is None and not response.context["page"].has_next()
    assert '<span id="page-number">Page 2</span>' in response.content.decode()
    answer = totals_answer(client, "per_page=25&page=2")
    assert answer.context["totals"] == {"count": 30, "quantity": 300}
    assert '<span id="page-number" hx-swap-oob="true">Page 2 of 2</span>' in answer.content.decode()
    first = client.get(f"{DASHBOARD}?per_page=25")
    assert len(serials_on(first)) == 25 and first.context["page"].has_next()
    # Past the last page (an old link): the last page, counted.
    response = client.get(f"{DASHBOARD}?per_page=25&page=9")
    assert len(serials_on(response)) == 5 and response.context["totals"] == {"count": 30, "quantity": 300}
    assert "Page 2 of 2" in response.content.decode()


INTERVAL_RANGE = "interval_from=2020-01-01T00:00:00-06:00&interval_to=2021-01-01T00:00:00-06:00"


def test_the_rows_come_first_and_the_page_asks_for_its_totals(signed_in, trader, holdings):
    client = signed_in(trader)
    response = client.get(f"{DASHBOARD}?{INTERVAL_RANGE}")
    assert sorted(serials_on(response)) == sorted(holdings[name].serial_number for name in ("wind", "solar"))
    assert response.context["totals"] is None
    link = re.search(r'<span class="summary" id="totals"><a href="([^"]*)" hx-get="([^"]*)" hx-trigger="load" '
                     r'hx-target="#totals" hx-swap="outerHTML">Show the totals</a></span>', response.content.decode())
    assert link, response.content.decode()
    assert html.unescape(link[2]) == f"{DASHBOARD}?{INTERVAL_RANGE}"
    assert unquote(html.unescape(link[1])) == f"?{INTERVAL_RANGE}&totals=1"
    answer = totals_answer(client, INTERVAL_RANGE).content.decode()
    assert '<span class="summary" id="totals"><strong>2</strong> batches · <strong>1,500</strong> certificates</span>' \
        in answer
    assert '<span id="page-number" hx-swap-oob="true">Page 1 of 1</span>' in answer
    assert '<span id="select-all" hx-swap-oob="true"></span>' in answer  # every match is on the page
    assert totals_of(client, f"{INTERVAL_RANGE}&per_page=25&fuel=wind") == {"count": 1, "quantity": 1000}


def test_without_javascript_the_link_shows_the_page_with_its_totals(signed_in, trader, holdings):
    response = signed_in(trader).get(f"{DASHBOARD}?{INTERVAL_RANGE}&totals=1")
    content = response.content.decode()
    assert response.context["totals"] == {"count": 2, "quantity": 1500}
    assert '<span class="summary" id="totals"><strong>2</strong> batches · <strong>1,500</strong> certificates</span>' \
        in content
    assert "Page 1 of 1" in content and "Show the totals" not in content
    assert '<input type="hidden" name="totals" value="1">' in content  # the filter form keeps asking for them


def test_select_all_matching_comes_with_the_totals(signed_in, trader, issue):
    for _ in range(30):
        issue(10)
    client = signed_in(trader)
    assert "Select all 30 matching" not in client.get(DASHBOARD).content.decode()
    assert '<span id="select-all"></span>' in client.get(DASHBOARD).content.decode()
    answer = totals_answer(client).content.decode()
    assert re.search(r'<span id="select-all" hx-swap-oob="true"><button [^>]*value="all"[^>]*>Select all 30 matching '
                     r'this filter</button></span>', answer), answer
    assert "Select all 30 matching this filter" in client.get(f"{DASHBOARD}?totals=1").content.decode()


def test_htmx_filter_answers_with_the_table_only(signed_in, trader, holdings):
    response = signed_in(trader).get(f"{DASHBOARD}?fuel=wind", headers={"HX-Request": "true", "HX-Target": "results"})
    content = response.content.decode()
    assert "<html" not in content and 'id="batches"' in content
    assert holdings["wind"].serial_number in content and holdings["solar"].serial_number not in content


def test_query_count_does_not_grow_with_page_size(signed_in, trader, issue):
    for _ in range(60):
        issue(10)
    client = signed_in(trader)
    counts = []
    for size in (25, 50):
        with CaptureQueriesContext(connection) as queries:
            assert client.get(f"{DASHBOARD}?per_page={size}").status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]
    # the session, user and memberships, eligibilities (once), the page's batches (not their totals: the page
    # asks for them after), the account filter, the programs of "Eligible for", the incoming pending transfers
    # the Pending tab's label counts
    assert counts[0] == 7, [query["sql"][:80] for query in queries.captured_queries]


def test_selection_survives_paging_and_filtering(signed_in, trader, holdings):
    client = signed_in(trader)
    wind, solar = holdings["wind"], holdings["solar"]
    client.post(SELECTION, {"action": "toggle", "id": wind.pk, "batch": wind.pk}, headers={"HX-Request": "true"})
    response = client.post(SELECTION, {"action": "toggle", "id": solar.pk, "batch": solar.pk},
                           headers={"HX-Request": "true"})
    assert 'data-selection-count="2"' in response.content.decode()
    response = client.get(f"{DASHBOARD}?fuel=hydro")
    assert response.context["selection_count"] == 2
    client.post(SELECTION, {"action": "toggle", "id": wind.pk})  # unchecked: no "batch" value
    assert client.session[SELECTION_KEY] == [solar.pk]


def test_plain_form_selection_and_select_all_matching(signed_in, trader, holdings):
    client = signed_in(trader)
    wind, solar = holdings["wind"], holdings["solar"]
    response = client.post(SELECTION, {"action": "page", "page_batch": [wind.pk, solar.pk], "batch": [solar.pk],
                                       "query": "fuel=solar"})
    assert response.status_code == 302 and response.url.endswith("?fuel=solar")
    assert client.session[SELECTION_KEY] == [solar.pk]
    client.post(SELECTION, {"action": "all", "query": "vintage_from=01/2020&vintage_to=12/2020"})
    assert sorted(client.session[SELECTION_KEY]) == sorted([wind.pk, solar.pk])
    client.post(SELECTION, {"action": "clear"})
    assert client.session[SELECTION_KEY] == []


def test_a_malformed_selection_post_changes_nothing(signed_in, trader, holdings):
    client = signed_in(trader)
    response = client.post(SELECTION, {"action": "toggle", "id": "abc", "batch": "abc"})
    assert response.status_code == 302 and client.session[SELECTION_KEY] == []


def test_foreign_batches_cannot_be_selected(signed_in, trader, holdings, foreign_batch):
    client = signed_in(trader)
    client.post(SELECTION, {"action": "toggle", "id": foreign_batch.pk, "batch": foreign_batch.pk})
    assert client.session[SELECTION_KEY] == []


def test_the_selection_service_adds_and_takes_a_page_keeping_only_active_batches_of_the_organization(
        org, holdings, foreign_batch):
    """certificates.services.selection_change on a session of its own, without a request."""
    from django.contrib.sessions.backends.db import SessionStore

    from certificates.services import selection_change, selection_drop

    session, wind, solar, hydro = SessionStore(), holdings["wind"], holdings["solar"], holdings["hydro"]

    def change(action, **form):
        return selection_change(session=session, organization=org, action=action,
                                **{"ticked": set(), "on_page": set()} | form)

    assert change("add", on_page={wind.pk, solar.pk, foreign_batch.pk}) == sorted([wind.pk, solar.pk])
    assert change("page", on_page={solar.pk, hydro.pk}, ticked={hydro.pk}) == sorted([wind.pk, hydro.pk])
    assert change("remove", on_page={wind.pk}) == [hydro.pk]
    assert change("toggle", ticked={solar.pk}, batch_id=solar.pk) == sorted([solar.pk, hydro.pk])
    assert change("unknown", on_page={wind.pk}) == sorted([solar.pk, hydro.pk])
    selection_drop(session=session, batch_ids={solar.pk})
    assert session[SELECTION_KEY] == [hydro.pk]
    assert change("clear") == []


@pytest.mark.parametrize("action, flow", [("transfer", "transfers:new"), ("retire", "transfers:retire")])
def test_transfer_and_retire_take_the_ticked_boxes_with_the_press(signed_in, trader, holdings, foreign_batch,
                                                                   action, flow):
    """As a plain form: this page's boxes as they are (wind ticked, solar not, a foreign id refused),
    added to what was chosen on other pages (hydro), then on to the wizard."""
    client = signed_in(trader)
    wind, solar, hydro = holdings["wind"], holdings["solar"], holdings["hydro"]
    client.post(SELECTION, {"action": "page", "page_batch": [hydro.pk], "batch": [hydro.pk]})
    client.post(SELECTION, {"action": "page", "page_batch": [solar.pk], "batch": [solar.pk]})
    response = client.post(SELECTION, {"action": action, "page_batch": [wind.pk, solar.pk],
                                       "batch": [wind.pk, foreign_batch.pk], "query": "fuel=solar"})
    assert response.status_code == 302 and response.url == reverse(flow)
    assert client.session[SELECTION_KEY] == sorted([wind.pk, hydro.pk])


def test_transfer_and_retire_are_buttons_of_the_selection_form(signed_in, trader, holdings):
    """Never a disabled link: without JavaScript the counter is not yet told of the ticked boxes."""
    content = signed_in(trader).get(DASHBOARD).content.decode()
    assert ('<button type="submit" form="selection-form" name="action" value="transfer" id="transfer-button" '
            'class="primary">Transfer</button>') in content
    assert 'aria-disabled' not in content


def test_viewer_sees_batches_but_no_action(signed_in, viewer, holdings):
    content = signed_in(viewer).get(DASHBOARD).content.decode()
    assert holdings["wind"].serial_number in content
    assert 'id="transfer-button"' not in content and 'type="checkbox"' not in content


def test_csv_download_holds_the_filtered_set_with_template_serials(signed_in, trader, holdings):
    response = signed_in(trader).get(f"{DOWNLOAD}?fuel=wind")
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][:3] == ["Serial Number", "Quantity", "Account ID"]
    assert rows[1][0] == holdings["wind"].serial_number == f"{holdings['wind'].certificate.serial_base}-1 to 1000"
    assert rows[1][1] == "1000" and rows[1][6] == "Wind" and rows[1][8] == "01/2020"
    assert len(rows) == 2


def test_csv_neutralises_formulas_and_quotes_commas(signed_in, trader, holdings, account):
    account.name = '=HYPERLINK("http://evil","x"), then more'
    account.save(update_fields=["name"])
    response = signed_in(trader).get(f"{DOWNLOAD}?fuel=wind")
    text = b"".join(response.streaming_content).decode()
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[1][3] == "'" + account.name
    assert '"\'=HYPERLINK(""http://evil"",""x""), then more"' in text


def test_pending_tab_shows_incoming_and_outgoing(
        signed_in, trader, org, holdings, counterparty, counterparty_trader):
    transfer = transfer_create(organization=org, user=trader, lines=[TransferLine(holdings["wind"].pk, 100)],
                               destination=Destination.to_organization(counterparty))
    sender_view = signed_in(trader).get(f"{DASHBOARD}?tab=pending")
    assert list(sender_view.context["outgoing"]) == [transfer]
    assert reverse("transfers:withdraw", args=[transfer.pk]) in sender_view.content.decode()
    recipient_view = signed_in(counterparty_trader).get(f"{DASHBOARD}?tab=pending")
    assert list(recipient_view.context["incoming"]) == [transfer]
    assert recipient_view.context["incoming"][0].total_quantity == 100
    assert reverse("transfers:accept", args=[transfer.pk]) in recipient_view.content.decode()


@pytest.mark.parametrize("tab,status", [("retired", "retired"), ("exported", "exported")])
def test_retired_and_exported_tabs_list_what_left_the_active_tab(signed_in, trader, org, holdings, tab, status,
                                                                 retirement_account, tracking_system, staff):
    from transfers.services import export_confirm

    from .conftest import retire
    if status == "retired":
        retire(organization=org, user=trader, lines=[TransferLine(holdings["wind"].pk, 10)],
               account=retirement_account)
    else:
        export = transfer_create(organization=org, user=trader, lines=[TransferLine(holdings["wind"].pk, 10)],
                                 destination=Destination.export(tracking_system, "Cascade"))
        export_confirm(transfer=export, user=staff)
    response = signed_in(trader).get(f"{DASHBOARD}?tab={tab}")
    rows = response.context["page"].object_list  # retirements on the Retired tab, batches on Exported
    assert [row.total_quantity if tab == "retired" else row.quantity for row in rows] == [10]


def test_transactions_tab_lists_every_transfer_with_links(signed_in, trader, org, holdings, second_account):
    transfer = transfer_create(organization=org, user=trader, lines=[TransferLine(holdings["wind"].pk, 10)],
                               destination=Destination.internal(second_account))
    response = signed_in(trader).get(f"{DASHBOARD}?tab=transactions")
    assert reverse("transfers:detail", args=[transfer.pk]) in response.content.decode()
