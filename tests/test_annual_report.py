"""The annual retirement report: an organization's retirements of a year by option, compliance period
and state or province, with totals, as a page and the same rows as CSV."""

import csv
import datetime
import io
import re
from html.parser import HTMLParser

import pytest
from django.urls import reverse

from accounts.models import Account
from retirements.selectors import retirement_report, retirement_years
from transfers.models import Transfer
from transfers.services import TransferLine

from .conftest import retire
from .factories import AccountFactory, RetirementOptionFactory

REPORT = reverse("retirements:annual_report")
REPORT_CSV = reverse("retirements:annual_report_csv")


def at(year: int, month: int = 6, day: int = 15, hour: int = 17) -> datetime.datetime:
    return datetime.datetime(year, month, day, hour, tzinfo=datetime.UTC)


def retired_at(retirement, moment: datetime.datetime):
    Transfer.objects.filter(pk=retirement.transfer_id).update(submitted_at=moment)
    return retirement


@pytest.fixture
def options(db):
    return {"mn": RetirementOptionFactory(),
            "tx": RetirementOptionFactory(name="Texas RPS", state="TX"),
            "green": RetirementOptionFactory(name="Green-e Energy certified sale", type="green_e",
                                             reason="voluntary", state="", requires_compliance_period=False)}


@pytest.fixture
def retirements(org, trader, issue, retirement_account, options):
    """In 2024: Minnesota 2023 (100), Minnesota 2024 (200 and 250), Texas 2024 (300), Green-e (400).
    In 2025: Minnesota 2024 (500), the first second of 2025 in UTC (still 2024 in Chicago: 600)."""

    def retire_one(quantity, moment, option, period):
        retirement = retire(organization=org, user=trader, lines=[TransferLine(issue(quantity).pk, quantity)],
                            account=retirement_account, option=option, compliance_period=period).retirement
        return retired_at(retirement, moment)

    return [retire_one(100, at(2024, 2), options["mn"], 2023), retire_one(200, at(2024, 3), options["mn"], 2024),
            retire_one(250, at(2024, 4), options["mn"], 2024), retire_one(300, at(2024, 5), options["tx"], 2024),
            retire_one(400, at(2024, 6), options["green"], None), retire_one(500, at(2025, 3), options["mn"], 2024),
            retire_one(600, at(2025, 1, 1, 3), options["mn"], 2023)]


@pytest.fixture
def outsider_retirement(counterparty, counterparty_trader, foreign_batch, options):
    """Lakeshore's own retirement toward Minnesota's RES in 2024: never in another's report."""
    account = AccountFactory(organization=counterparty, name="Lakeshore retirements", type=Account.Type.RETIREMENT)
    retirement = retire(organization=counterparty, user=counterparty_trader, account=account,
                        lines=[TransferLine(foreign_batch.pk, 777)], option=options["mn"],
                        compliance_period=2024).retirement
    return retired_at(retirement, at(2024, 7))


def grouped(report):
    return [(row["option_name"], row["compliance_period"], row["state"], row["retirement_count"], row["quantity"])
            for row in report.rows]


def test_the_report_groups_a_year_s_retirements_by_option_period_and_state_with_totals(org, retirements):
    report = retirement_report(org, 2024)  # in Chicago, the registry's zone (settings.TIME_ZONE)
    assert grouped(report) == [
        ("Green-e Energy certified sale", None, "", 1, 400),
        ("Minnesota RES", 2023, "MN", 2, 700),  # 100, and 600 retired on the evening of 2024-12-31
        ("Minnesota RES", 2024, "MN", 2, 450),
        ("Texas RPS", 2024, "TX", 1, 300),
    ]
    assert (report.retirement_count, report.quantity) == (6, 1850)
    assert report.rows[0]["option_type"] == "Green-e" and report.rows[0]["option_reason"] == "Voluntary"
    later = retirement_report(org, 2025)
    assert grouped(later) == [("Minnesota RES", 2024, "MN", 1, 500)]
    assert (later.retirement_count, later.quantity) == (1, 500)
    assert retirement_report(org, 2023).rows == [] and retirement_report(org, 2023).quantity == 0


def test_a_retirement_s_year_is_that_of_its_date_in_the_reader_s_time_zone(org, retirements):
    from django.utils import timezone
    with timezone.override("Europe/Berlin"):  # 2025-01-01 04:00 there: the 600 belongs to 2025
        assert retirement_report(org, 2025).quantity == 1100
        assert retirement_report(org, 2024).quantity == 1250


def test_the_report_is_computed_in_the_database(org, retirements, django_assert_num_queries):
    with django_assert_num_queries(2):  # the grouped rows, and the totals
        retirement_report(org, 2024)


class TableCells(HTMLParser):
    """The text of each row of the report's table."""

    def __init__(self):
        super().__init__()
        self.rows, self.inside, self.cell = [], False, None

    def handle_starttag(self, tag, attrs):
        if tag == "table" and ("id", "annual-report") in attrs:
            self.inside = True
        elif self.inside and tag == "tr":
            self.rows.append([])
        elif self.inside and tag in ("td", "th"):
            self.cell = ""

    def handle_endtag(self, tag):
        if tag == "table":
            self.inside = False
        elif self.inside and tag in ("td", "th") and self.cell is not None:
            self.rows[-1].append(self.cell.strip())
            self.cell = None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell += data


def page_rows(response) -> list[list[str]]:
    parser = TableCells()
    parser.feed(response.content.decode())
    return parser.rows


def csv_rows(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))


def test_the_page_shows_the_chosen_year_and_offers_the_years_with_retirements(signed_in, trader, retirements):
    response = signed_in(trader).get(f"{REPORT}?year=2024")
    assert response.status_code == 200
    page = response.content.decode()
    assert "<h1>Annual retirement report 2024</h1>" in page
    assert re.search(r'<option value="2024"\s+selected>', page)
    assert re.findall(r'<option value="(\d+)"', page) == ["2025", "2024"]  # the years with retirements
    rows = page_rows(response)
    assert rows[1] == ["Green-e Energy certified sale", "Green-e", "Voluntary", "—", "—", "1", "400"]
    assert rows[-1] == ["Total", "", "", "", "", "6", "1,850"]


def test_the_default_year_is_last_year(signed_in, trader, org, issue, retirement_account, options):
    from django.utils import timezone
    last_year = timezone.localdate().year - 1
    retired_at(retire(organization=org, user=trader, lines=[TransferLine(issue(5).pk, 5)],
                      account=retirement_account, option=options["tx"]).retirement, at(last_year))
    response = signed_in(trader).get(REPORT)
    assert response.context["report"].year == last_year
    assert page_rows(response)[-1] == ["Total", "", "", "", "", "1", "5"]
    assert csv_rows(signed_in(trader).get(REPORT_CSV))[-1] == [str(last_year), "Total", "", "", "", "", "1", "5"]


def test_the_csv_holds_the_same_rows_as_the_page(signed_in, trader, retirements):
    client = signed_in(trader)
    shown = page_rows(client.get(f"{REPORT}?year=2024"))
    downloaded = csv_rows(client.get(f"{REPORT_CSV}?year=2024"))
    assert downloaded[0] == ["Year", "Counts toward", "Option type", "Main reason", "State or province",
                             "Compliance period", "Retirements", "MWh"]
    assert all(row[0] == "2024" for row in downloaded[1:])

    def as_shown(cell):  # the page writes a blank as a dash and a number grouped in thousands
        return "" if cell == "—" else cell.replace(",", "")

    assert [[as_shown(cell) for cell in row] for row in shown[1:]] == [row[1:] for row in downloaded[1:]]


def test_a_formula_in_an_option_s_name_is_neutralised_in_the_csv(signed_in, trader, org, issue, retirement_account):
    option = RetirementOptionFactory(name="=HYPERLINK(\"http://evil.example\")", state="")
    retired_at(retire(organization=org, user=trader, lines=[TransferLine(issue(5).pk, 5)],
                      account=retirement_account, option=option).retirement, at(2024))
    rows = csv_rows(signed_in(trader).get(f"{REPORT_CSV}?year=2024"))
    assert rows[1][1] == "'=HYPERLINK(\"http://evil.example\")"


def test_another_organization_s_retirements_never_appear(signed_in, trader, org, retirements, outsider_retirement,
                                                         counterparty, counterparty_trader):
    assert retirement_report(org, 2024).quantity == 1850
    client = signed_in(trader)
    assert "777" not in client.get(f"{REPORT}?year=2024").content.decode()
    assert page_rows(client.get(f"{REPORT}?year=2024"))[-1][-1] == "1,850"
    theirs = signed_in(counterparty_trader).get(f"{REPORT}?year=2024")
    assert page_rows(theirs)[1:] == [["Minnesota RES", "State RPS", "Compliance", "MN", "2024", "1", "777"],
                                     ["Total", "", "", "", "", "1", "777"]]
    assert retirement_years(counterparty) == [2024] and retirement_years(org) == [2025, 2024]


def test_a_viewer_may_read_the_report_and_its_csv(signed_in, viewer, retirements):
    client = signed_in(viewer)
    assert page_rows(client.get(f"{REPORT}?year=2025"))[-1] == ["Total", "", "", "", "", "1", "500"]
    assert client.get(f"{REPORT_CSV}?year=2025").status_code == 200


@pytest.mark.parametrize("url", [REPORT, REPORT_CSV])
def test_signed_out_is_sent_to_sign_in(client, url):
    response = client.get(url)
    assert response.status_code == 302 and response.url.startswith(reverse("login"))


@pytest.mark.parametrize("year", ["twenty", "20245", "0", "-1", "2024.5"])
def test_a_bad_year_says_so(signed_in, trader, retirements, year):
    client = signed_in(trader)
    response = client.get(f"{REPORT}?year={year}")
    assert response.status_code == 200
    assert "Year: Enter the year as four digits, e.g. 2024." in response.content.decode()
    assert response.context["report"] is None
    download = client.get(f"{REPORT_CSV}?year={year}")
    assert download.status_code == 400
    assert download.content.decode() == ("Nothing was downloaded: correct the year first.\n"
                                         "Year: Enter the year as four digits, e.g. 2024.")


def test_the_retired_tab_links_to_the_report(signed_in, trader):
    page = signed_in(trader).get(reverse("dashboard:certificates") + "?tab=retired").content.decode()
    assert f'href="{REPORT}">Annual report</a>' in page
