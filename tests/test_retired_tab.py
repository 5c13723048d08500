"""The Retired tab: the organization's retirements with their details, filtered, sorted, as CSV."""

import csv
import datetime
import io

import pytest
from django.urls import reverse

from transfers.services import TransferLine

from .conftest import retire
from .factories import RetirementOptionFactory

DASHBOARD = reverse("dashboard:certificates")


@pytest.fixture
def retirements(org, trader, issue, retirement_account):
    """Three retirements: Minnesota RES 2023 and 2024, and a Green-e sale for a beneficiary."""
    green_e = RetirementOptionFactory(name="Green-e Energy certified sale", type="green_e", reason="voluntary",
                                      state="", requires_beneficiary=True)

    def retire_one(quantity, **details):
        return retire(organization=org, user=trader, lines=[TransferLine(issue(quantity).pk, quantity)],
                      account=retirement_account, **details).retirement

    return {"mn2023": retire_one(100, compliance_period=2023),
            "mn2024": retire_one(200, compliance_period=2024, period_start=datetime.date(2024, 1, 1),
                                 period_end=datetime.date(2024, 12, 31)),
            "green": retire_one(300, option=green_e, compliance_period=2024, beneficiary="Twin Cities Library")}


def listed(client, query=""):
    response = client.get(f"{DASHBOARD}?tab=retired&{query}")
    assert response.status_code == 200
    return [retirement.reference for retirement in response.context["page"].object_list]


@pytest.mark.parametrize("query,expected", [
    ("", ["green", "mn2024", "mn2023"]),  # newest first
    ("compliance_period=2024", ["green", "mn2024"]),
    ("beneficiary=twin+cities", ["green"]),
    ("sort=quantity", ["mn2023", "mn2024", "green"]),
    ("sort=-period", ["mn2024", "green", "mn2023"]),  # a tie in order of retirement
])
def test_the_retired_tab_filters_and_sorts(signed_in, trader, retirements, query, expected):
    assert listed(signed_in(trader), query) == [retirements[name].reference for name in expected]


def test_the_retired_tab_filters_by_option_and_date(signed_in, trader, retirements):
    client = signed_in(trader)
    assert listed(client, "option=Green-e+Energy+certified+sale") == [retirements["green"].reference]
    # The <select> posts the option's name, as the API's filter and its retirements name an option.
    page = client.get(f"{DASHBOARD}?tab=retired").content.decode()
    assert '<option value="Green-e Energy certified sale">' in page
    today = datetime.date.today().isoformat()
    assert len(listed(client, f"submitted_from={today}&submitted_to={today}")) == 3
    assert listed(client, "submitted_to=2000-01-01") == []


def test_the_retired_tab_shows_each_retirement_s_details(signed_in, trader, retirements):
    page = signed_in(trader).get(f"{DASHBOARD}?tab=retired").content.decode()
    assert retirements["mn2024"].reference in page and "2024-01-01 to 2024-12-31" in page
    assert "Twin Cities Library" in page and "Green-e Energy certified sale" in page


def test_a_wrong_filter_says_so_and_its_download_is_refused(signed_in, trader, retirements):
    client = signed_in(trader)
    response = client.get(f"{DASHBOARD}?tab=retired&compliance_period=twenty")
    assert "Compliance period: Enter the year as four digits, e.g. 2024." in response.content.decode()
    download = client.get(reverse("retirements:csv") + "?compliance_period=twenty")
    assert download.status_code == 400


def test_the_csv_holds_the_filtered_retirements_with_their_details(signed_in, trader, retirements,
                                                                    retirement_account):
    response = signed_in(trader).get(reverse("retirements:csv") + "?compliance_period=2024&sort=quantity")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert rows[0][:4] == ["Reference", "Transaction ID", "Retired", "Counts toward"]
    assert [row[0] for row in rows[1:]] == [retirements["mn2024"].reference, retirements["green"].reference]
    mn = dict(zip(rows[0], rows[1], strict=True))
    assert (mn["Counts toward"], mn["Compliance period"], mn["Period start"], mn["Period end"], mn["Quantity"],
            mn["Retirement Account ID"]) == ("Minnesota RES", "2024", "2024-01-01", "2024-12-31", "200",
                                             retirement_account.public_id)


def test_another_organization_s_retirements_are_not_listed(signed_in, counterparty_trader, retirements):
    assert listed(signed_in(counterparty_trader)) == []
