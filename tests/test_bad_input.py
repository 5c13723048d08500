"""Whatever a request carries, the portal and its API answer with the page and a form error, or a
400/404/413 (a problem, in the API): never a 500. First the inputs that once gave a 500, each with
the answer users should get; then arbitrary text thrown at every parameter and field of the pages
that read them, and at the API's query parameters and the ids in its paths."""

import base64
import contextlib
import urllib.parse
import uuid

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from certificates.filters import BatchFilter, MonthField
from certificates.periods import ProductionPeriod
from certificates.selectors import SELECTION_KEY
from certificates.serials import parse_serial
from mass_uploads import validation as mass
from registry.models import Membership
from registry.selectors import SESSION_KEY
from retirements.filters import RetirementFilter
from transfers.filters import TransactionFilter
from transfers.models import Transfer
from transfers.services import transfer_draft_save, transfer_draft_start
from utilities.parsing import positive_integer

DASHBOARD = reverse("dashboard:certificates")
DOWNLOAD = reverse("dashboard:download")
TEMPLATE = reverse("mass_uploads:template_prefilled")
SELECTION = reverse("dashboard:selection")
TRANSFER_NEW = reverse("transfers:new")
ORGANIZATIONS = reverse("transfers:organization_search")
SWITCH = reverse("organization-switch")

SUPERSCRIPT_TWO = "²"  # str.isdigit() says yes, int() refuses it
ARABIC_THREE = "٣"  # int() reads it as 3
TOO_BIG_FOR_INT = "9" * 4400  # int() refuses more than 4,300 digits
TOO_BIG_FOR_BIGINT = "9" * 20


def csv_text(response) -> str:
    return b"".join(response.streaming_content).decode()


# --- the parser every id and serial number from a request goes through --------------------------


@pytest.mark.parametrize("text,number", [
    ("1", 1), ("42", 42), (" 7 ", 7), ("007", 7), ("9223372036854775807", 2**63 - 1),
    ("0" * 30 + "5", 5),
])
def test_positive_integer_reads_ascii_digits_within_bigint(text, number):
    assert positive_integer(text) == number


@pytest.mark.parametrize("text", [
    "", " ", "0", "-1", "+1", "1.0", "1e3", "1 2", "1\x00", "\x00", SUPERSCRIPT_TWO, ARABIC_THREE, "１２",
    "9223372036854775808", TOO_BIG_FOR_BIGINT, TOO_BIG_FOR_INT, None,
])
def test_positive_integer_refuses_everything_else(text):
    assert positive_integer(text) is None


@pytest.mark.parametrize("text", [f"M805-{SUPERSCRIPT_TWO} to 5", f"M805-1 to {ARABIC_THREE}",
                                  f"M805-1 to {TOO_BIG_FOR_INT}", f"M805-{TOO_BIG_FOR_BIGINT} to 1", "M805-0 to 5"])
def test_a_serial_number_out_of_any_range_is_not_a_serial_number(text):
    assert parse_serial(text) is None


# --- the inputs that gave a 500 -------------------------------------------------------------------


@pytest.mark.parametrize("vintage", ["12/0000", "01/1899", "2101-01"])
def test_a_vintage_year_out_of_range_is_explained_on_the_dashboard(signed_in, trader, holdings, vintage):
    response = signed_in(trader).get(DASHBOARD, {"vintage_from": vintage})
    assert response.status_code == 200
    assert "Enter a month as MM/YYYY with a year from 1900 to 2100" in response.content.decode()


@pytest.mark.parametrize("url", [DOWNLOAD, TEMPLATE])
def test_a_download_with_a_filter_that_is_not_valid_is_refused_with_the_reason(signed_in, trader, holdings, url):
    response = signed_in(trader).get(url, {"vintage_from": "12/0000"})
    assert response.status_code == 400
    assert "Vintage from: Enter a month as MM/YYYY with a year from 1900 to 2100" in response.content.decode()


@pytest.mark.parametrize("serial", [SUPERSCRIPT_TWO, ARABIC_THREE, TOO_BIG_FOR_BIGINT, TOO_BIG_FOR_INT])
def test_a_serial_number_no_batch_can_hold_finds_nothing(signed_in, trader, holdings, serial):
    client = signed_in(trader)
    response = client.get(DASHBOARD, {"serial": serial})
    assert response.status_code == 200
    assert list(response.context["page"].object_list) == []
    for url in (DOWNLOAD, TEMPLATE):
        response = client.get(url, {"serial": serial})
        assert response.status_code == 200
        assert len(csv_text(response).splitlines()) == 1  # the header alone


def test_a_serial_number_still_finds_its_batch(signed_in, trader, holdings):
    response = signed_in(trader).get(DASHBOARD, {"serial": " 0750 "})
    assert [batch.pk for batch in response.context["page"].object_list] == [holdings["wind"].pk]


@pytest.mark.parametrize("posted", [
    {"action": "toggle", "id": SUPERSCRIPT_TWO, "batch": SUPERSCRIPT_TWO},
    {"action": "toggle", "id": TOO_BIG_FOR_INT, "batch": TOO_BIG_FOR_INT},
    {"action": "add", "page_batch": [SUPERSCRIPT_TWO, "5" * 5000, TOO_BIG_FOR_BIGINT]},
    {"action": "page", "page_batch": SUPERSCRIPT_TWO, "batch": "5" * 5000},
    {"action": "remove", "page_batch": "5" * 5000},
])
def test_selection_ignores_ids_that_are_not_ids(signed_in, trader, holdings, posted):
    client = signed_in(trader)
    session = client.session
    session[SELECTION_KEY] = [holdings["wind"].pk]
    session.save()
    response = client.post(SELECTION, posted)
    assert response.status_code == 302
    assert client.session[SELECTION_KEY] == [holdings["wind"].pk]


def test_selection_still_toggles_a_batch(signed_in, trader, holdings):
    client = signed_in(trader)
    solar = holdings["solar"].pk
    client.post(SELECTION, {"action": "toggle", "id": str(solar), "batch": str(solar)})
    assert client.session[SELECTION_KEY] == [solar]


@pytest.mark.parametrize("named", [[SUPERSCRIPT_TWO], [TOO_BIG_FOR_BIGINT], [TOO_BIG_FOR_INT], [ARABIC_THREE]])
def test_a_transfer_of_batches_that_are_not_ids_starts_nothing(signed_in, trader, holdings, named):
    client = signed_in(trader)
    session = client.session
    session[SELECTION_KEY] = [holdings["wind"].pk]  # a link naming its batches never transfers the selection
    session.save()
    response = client.get(TRANSFER_NEW, {"batch": named}, follow=True)
    assert response.redirect_chain[-1][0] == DASHBOARD
    page = response.content.decode()
    assert "1 of the chosen batches are not active certificates of Prairie Wind Energy" in page
    assert not Transfer.objects.filter(status=Transfer.Status.DRAFT).exists()


def test_a_transfer_link_keeps_the_batches_it_can_read(signed_in, trader, holdings):
    response = signed_in(trader).get(TRANSFER_NEW, {"batch": [str(holdings["solar"].pk), SUPERSCRIPT_TWO]})
    draft = Transfer.objects.get(status=Transfer.Status.DRAFT)
    assert response.url == reverse("transfers:wizard", args=[draft.pk, "quantity"])
    assert draft.draft["lines"] == [[holdings["solar"].pk, 500]]


@pytest.mark.parametrize("text", ["ab\x00", "\x00\x00", "Lakeshore\x00"])
def test_organization_search_with_a_nul_finds_nothing(signed_in, trader, counterparty, text):
    response = signed_in(trader).get(ORGANIZATIONS, {"organization": text})
    assert response.status_code == 200
    assert list(response.context["organizations"]) == []


@pytest.mark.parametrize("organization", ["x\x00", SUPERSCRIPT_TWO, "x", "", TOO_BIG_FOR_BIGINT, TOO_BIG_FOR_INT])
def test_switching_to_an_organization_that_is_not_an_id_is_404(signed_in, trader, organization):
    response = signed_in(trader).post(SWITCH, {"organization": organization})
    assert response.status_code == 404


def test_switching_to_ones_own_other_organization_still_works(signed_in, trader, counterparty):
    Membership.objects.create(user=trader, organization=counterparty, role=Membership.Role.VIEWER)
    client = signed_in(trader)
    response = client.post(SWITCH, {"organization": f" {counterparty.pk} "})
    assert response.url == DASHBOARD
    assert client.session[SESSION_KEY] == counterparty.pk


@pytest.mark.parametrize("quantity", ["-1e999999999", "1e3", "1.5", TOO_BIG_FOR_INT, SUPERSCRIPT_TWO])
def test_a_quantity_filter_must_be_a_whole_number(signed_in, org, trader, holdings, quantity):
    # The form refuses it before any query is built: a decimal such as -1e999999999 once became a
    # billion-digit integer in the lookup (a request that ran for minutes).
    assert BatchFilter({"quantity_min": quantity}, organization=org).errors == {
        "quantity_min": ["Enter a whole number."]}
    response = signed_in(trader).get(DASHBOARD, {"quantity_min": quantity})
    assert "Enter a whole number." in response.content.decode()


def test_a_quantity_filter_still_reads_whole_numbers(signed_in, trader, holdings):
    response = signed_in(trader).get(DASHBOARD, {"quantity_min": "300", "quantity_max": " 600 "})
    assert [batch.pk for batch in response.context["page"].object_list] == [holdings["solar"].pk]


@pytest.mark.parametrize("quantity", [TOO_BIG_FOR_INT, ARABIC_THREE, f"1{ARABIC_THREE}0"])
def test_a_mass_transfer_quantity_is_read_in_ascii_digits_only(org, batch, second_account, quantity):
    raw = ("Serial Number,Quantity,Organization ID,Account ID,Notes\r\n"
           f"{batch.serial_number},{quantity},,{second_account.public_id},\r\n").encode()
    rows, errors, _ = mass.validate(raw, org)
    assert rows == []
    assert [(error.row, error.column, error.message) for error in errors] == [
        (2, "B (Quantity)", "The quantity must be a positive whole number, e.g. 1000 or 1,000.")]


# The API's and the newer pages' inputs that gave a 500.

API = "/api/v1/"
API_LISTS = [f"{API}batches/", f"{API}transfers/", f"{API}retirements/"]


@pytest.fixture
def api_client(api_as, org, manager, holdings):
    """A manager's key with every scope, of an organization holding batches."""
    return api_as(manager, org, "retire")


def assert_problem_naming(response, status: int, field: str) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert [error["field"] for error in body["errors"]] == [field], body
    return body


@pytest.mark.parametrize("url", API_LISTS)
@pytest.mark.parametrize("page_size", [SUPERSCRIPT_TWO, ARABIC_THREE, "１２", TOO_BIG_FOR_INT, "0", "1001", "1.5"])
def test_an_api_page_size_that_is_no_number_from_1_to_1000_is_a_400_naming_it(api_client, url, page_size):
    body = assert_problem_naming(api_client.get(url, {"page_size": page_size}), 400, "page_size")
    assert body["detail"] == "page_size: Enter a whole number from 1 to 1,000."


def cursor_of(query: str) -> str:
    """A cursor as the API writes one (base64 of a query string: o offset, r reverse, p position)."""
    return base64.b64encode(query.encode()).decode()


@pytest.mark.parametrize("url", API_LISTS)
@pytest.mark.parametrize("cursor", [
    "not-a-cursor", "%%%", SUPERSCRIPT_TWO, cursor_of("p=abc"), cursor_of("p=1%00"), cursor_of("p=" + "9" * 30),
    cursor_of("p=" + SUPERSCRIPT_TWO), cursor_of("p=-5"), cursor_of("o=-1"), cursor_of("o=" + SUPERSCRIPT_TWO),
    cursor_of("r=x"), base64.b64encode("p=é".encode("latin-1")).decode(),
])
def test_a_tampered_cursor_is_a_400_naming_the_cursor(api_client, url, cursor):
    body = assert_problem_naming(api_client.get(url, {"cursor": cursor}), 400, "cursor")
    assert "cursor" in body["detail"] and "next" in body["detail"]


def test_a_cursor_the_api_gave_still_reads_the_next_page(api_client, holdings):
    first = api_client.get(f"{API}batches/", {"page_size": 2}).json()
    second = api_client.get(first["next"]).json()
    ids = [row["id"] for row in first["results"] + second["results"]]
    assert sorted(ids) == sorted(batch.pk for batch in holdings.values())


def test_a_json_body_over_the_upload_limit_is_a_413_problem(api_client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    body = {"lines": [{"batch": 1, "quantity": 1}] * 100, "destination": {"type": "internal", "account": "ACT-00001"}}
    before = Transfer.objects.count()
    response = api_client.post(f"{API}transfers/", body, format="json", HTTP_IDEMPOTENCY_KEY="big-1")
    assert response.status_code == 413, response.content
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["detail"] == ("The request's body is larger than the API takes (at most 1,000 bytes, "
                                         "an uploaded file aside): send fewer lines in each request, or a mass "
                                         "upload file.")
    assert Transfer.objects.count() == before


@pytest.mark.parametrize("url", [reverse("webhooks:list"), reverse("api-keys:list"), reverse("generators:new")])
def test_a_form_over_the_upload_limit_is_a_413_page_that_says_so(signed_in, manager, settings, url):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = signed_in(manager).post(url, {"name": "x" * 2000, "url": "https://example.com/" + "x" * 2000})
    assert response.status_code == 413
    page = response.content.decode()
    assert "The form sent more than the registry takes in one form (1,000 bytes, files aside)" in page
    assert "nothing was" in page


@pytest.mark.parametrize("prefix", ["%00", "ab%00cd", "%C2%B2", "x" * 300])
def test_an_api_key_prefix_that_is_no_prefix_is_a_404(signed_in, manager, prefix):
    client = signed_in(manager)
    assert client.get(f"/organization/api-keys/{prefix}/revoke/").status_code == 404
    assert client.post(f"/organization/api-keys/{prefix}/revoke/").status_code == 404


# --- arbitrary text at every parameter ------------------------------------------------------------

NASTY = [
    "", " ", "\t\r\n", "\x00", "ab\x00", "1\x00", "0", "-1", "+1", "1.5", "1e999999999", "-1e999999999", "NaN",
    "-Infinity", SUPERSCRIPT_TWO, ARABIC_THREE, "１２", "⑤", "½", "Ⅻ", "𝟗", "12/0000", "00/2020", "13/2020", "12/99999",
    "0000-12", "2020-00", "M805", "M805-MN-01-2020-4F2A9C-1 to 1000", "<script>alert(1)</script>", "%", "'; --",
    "a=b&c",
]
DIGITS = "0123456789" + SUPERSCRIPT_TWO + ARABIC_THREE + "３१߃𝟗"  # each one str.isdigit()
text = st.one_of(
    st.sampled_from(NASTY),
    st.text(alphabet=DIGITS, min_size=1, max_size=6),  # numbers in digits of every script
    st.text(alphabet=DIGITS + "/-\x00 ", max_size=8),
    st.integers(min_value=19, max_value=40).map(lambda length: "9" * length),  # past bigint
    st.integers(min_value=4200, max_value=5000).map(lambda length: "9" * length),  # past what int() reads
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.integers(min_value=500, max_value=20_000).map(lambda length: "x" * length),
    st.text(max_size=30),
)
month = st.one_of(text, st.tuples(st.integers(0, 99), st.integers(0, 99_999)).map(
    lambda month_year: "{:02d}/{:04d}".format(*month_year)))
texts = st.lists(text, max_size=3)

FILTER_FIELDS = ["account", "generator", "fuel", "state", "eligibility", "vintage_from", "vintage_to", "serial",
                 "quantity_min", "quantity_max"]
LIST_FIELDS = ["tab", "sort", "page", "per_page", *FILTER_FIELDS]


def params(names, *, lists=(), always=None, **chosen):
    """One or two of `names`, each with arbitrary text (lists for `lists`), and every field of `always`;
    `chosen` overrides a field's strategy. Few at a time: one field a form refuses would hide what
    another does."""
    strategies = {name: texts if name in lists else month if name.startswith("vintage") else text
                  for name in names} | chosen
    field = st.sampled_from(names)
    return st.tuples(field, field).flatmap(lambda picked: st.fixed_dictionaries(
        {name: strategies[name] for name in picked} | (always or {})))


tabs = st.one_of(st.sampled_from(["active", "pending", "retired", "exported", "transactions"]), text)
ANYTHING = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
SLOWER = settings(ANYTHING, max_examples=40)  # several requests an example


@settings(max_examples=2000)
@given(st.one_of(text, st.text()))
def test_positive_integer_reads_any_text(value):
    number = positive_integer(value)
    assert number is None or (1 <= number <= 2**63 - 1 and str(number) == value.strip().lstrip("0"))


@settings(max_examples=2000)
@given(st.one_of(month, st.text()))
def test_any_month_text_is_a_vintage_or_the_form_error(value):
    try:
        vintage = MonthField(required=False).clean(value)
    except ValidationError as error:
        assert error.messages == ["Enter a month as MM/YYYY with a year from 1900 to 2100, e.g. 01/2020."]
    else:
        assert vintage is None or 1900 <= vintage.year <= 2100


@settings(max_examples=2000)
@given(base=st.text(min_size=1, max_size=10), start=text, end=text)
def test_any_serial_text_is_a_serial_number_or_none(base, start, end):
    parsed = parse_serial(f"{base}-{start} to {end}")
    assert parsed is None or (1 <= parsed[1] <= 2**63 - 1 and 1 <= parsed[2] <= 2**63 - 1)


def answered(call, *, savepoint: bool = True):
    """The response to one request, which must not be a server error. Each request runs in a
    savepoint, so a database error in one example cannot spoil the examples after it (but an API
    POST, which makes its own durable transaction: api.idempotency)."""
    with transaction.atomic() if savepoint else contextlib.nullcontext():
        response = call()
    assert response.status_code < 500, response
    if hasattr(response, "streaming_content"):
        csv_text(response)  # a streamed CSV fails while it is read, not before
    return response


@pytest.fixture
def trading(signed_in, trader, holdings, counterparty, tracking_system, retirement_account):
    """A trader of an organization holding batches, signed in; another organization to send to."""
    return signed_in(trader)


@pytest.mark.parametrize("url", [DASHBOARD, DOWNLOAD, TEMPLATE])
@ANYTHING
@given(query=params([*LIST_FIELDS, "selection"], tab=tabs))
@example(query={"vintage_from": "12/0000"})
@example(query={"vintage_to": "12/0000"})
@example(query={"serial": SUPERSCRIPT_TWO})
@example(query={"serial": TOO_BIG_FOR_INT})
@example(query={"quantity_min": "-1e999999999"})
@example(query={"account": "\x00"})
def test_dashboard_and_its_downloads_never_fail(trading, url, query):
    answered(lambda: trading.get(url, query))


selection_actions = st.one_of(st.sampled_from(["toggle", "page", "add", "remove", "all", "clear"]), text)
filter_query = params(LIST_FIELDS).map(lambda query: "&".join(
    f"{name}={value}" for name, value in query.items()))  # as typed, not even URL-encoded


@ANYTHING
@given(posted=params(["id", "batch", "page_batch", "query"], lists=("batch", "page_batch"),
                     query=st.one_of(filter_query, text), always={"action": selection_actions}))
@example(posted={"action": "toggle", "id": SUPERSCRIPT_TWO})
@example(posted={"action": "add", "page_batch": [SUPERSCRIPT_TWO]})
@example(posted={"action": "add", "page_batch": ["5" * 5000]})
@example(posted={"action": "all", "query": "vintage_from=12/0000"})
def test_selection_never_fails(trading, posted):
    answered(lambda: trading.post(SELECTION, posted))
    answered(lambda: trading.post(SELECTION, posted, headers={"HX-Request": "true"}))


@ANYTHING
@given(query=params(["batch"], lists=("batch",)))
@example(query={"batch": [SUPERSCRIPT_TWO]})
@example(query={"batch": [TOO_BIG_FOR_BIGINT]})
@example(query={"batch": [TOO_BIG_FOR_INT]})
def test_transfer_start_never_fails(trading, query):
    answered(lambda: trading.get(TRANSFER_NEW, query))


@ANYTHING
@given(query=params(["organization"]))
@example(query={"organization": "ab\x00"})
def test_organization_search_never_fails(trading, query):
    answered(lambda: trading.get(ORGANIZATIONS, query))


@ANYTHING
@given(posted=params(["organization"]))
@example(posted={"organization": "x\x00"})
@example(posted={"organization": SUPERSCRIPT_TWO})
def test_organization_switch_never_fails(trading, posted):
    answered(lambda: trading.post(SWITCH, posted))


STEP_FIELDS = ["account", "organization", "tracking_system", "recipient_name", "recipient_account_ref",
               "notes"]
kinds = st.one_of(st.sampled_from(["internal", "organization", "export"]), text)


@pytest.mark.parametrize("step", ["quantity", "destination", "review", "confirm"])
def test_wizard_steps_never_fail(trading, org, trader, holdings, step):
    batches = [holdings["wind"], holdings["solar"]]
    quantity_fields = [f"quantity_{batch.pk}" for batch in batches]

    @SLOWER
    @given(posted=params([*quantity_fields, *STEP_FIELDS], always={"kind": kinds}))
    @example(posted={quantity_fields[0]: SUPERSCRIPT_TWO, quantity_fields[1]: TOO_BIG_FOR_INT})
    @example(posted={"kind": "organization", "organization": "ab\x00"})
    def post_step(posted):
        # A fresh draft, every step reached, so each example posts to the step as it first is.
        draft = transfer_draft_start(membership=trader.memberships.get(organization=org),
                                     batches=[(batch.pk, batch.quantity) for batch in batches])
        transfer_draft_save(draft=draft, step=4, kind="organization", recipient=None, organization_text="")
        url = reverse("transfers:wizard", args=[draft.pk, step])
        answered(lambda: trading.post(url, posted))
        answered(lambda: trading.post(url, posted, headers={"HX-Request": "true", "HX-Target": "wizard"}))

    post_step()


@SLOWER
@given(query=params(["page", "upload", "action", "id"]), pk=st.integers(min_value=1, max_value=10**30))
@example(query={}, pk=2**63)
def test_mass_transfer_pages_and_ids_in_paths_never_fail(trading, query, pk):
    for url in (reverse("mass_uploads:uploads"), reverse("mass_uploads:template"),
                reverse("mass_uploads:detail", args=[pk]), reverse("transfers:detail", args=[pk]),
                reverse("transfers:done", args=[pk]), reverse("transfers:wizard", args=[pk, "quantity"])):
        answered(lambda url=url: trading.get(url, query))


def test_vintages_within_the_years_are_still_read(signed_in, trader, holdings):
    response = signed_in(trader).get(DASHBOARD, {"vintage_from": "01/2021", "vintage_to": "2100-12"})
    assert [batch.pk for batch in response.context["page"].object_list] == [holdings["hydro"].pk]
    assert response.context["filter"].form.cleaned_data["vintage_from"] == ProductionPeriod.month(2021, 1)


# --- the API: every query parameter and every id in a path ---------------------------------------

API_PARAMETERS = {  # each list's filters (its FilterSet's), its own names, and the paginator's
    f"{API}batches/": [*BatchFilter.base_filters, "status", "cursor", "page_size"],
    f"{API}batches.csv": [*BatchFilter.base_filters, "status", "sort"],
    f"{API}transfers/": [*TransactionFilter.base_filters, "cursor", "page_size"],
    f"{API}retirements/": [*RetirementFilter.base_filters, "cursor", "page_size"],
    f"{API}accounts/": ["format"],
    f"{API}organization/": ["format"],
}
cursors = st.one_of(text, st.builds(lambda o, r, p: cursor_of(f"o={o}&r={r}&p={p}"), text, text, text),
                    st.text(max_size=40).map(lambda query: base64.b64encode(query.encode()).decode()))
API_PATHS = ["accounts/{}/", "transfers/{}/", "retirements/{}/statement.pdf", "mass-uploads/{}/",
             "mass-uploads/{}/errors/", "verify/{}/"]
API_DECISIONS = ["transfers/{}/accept/", "transfers/{}/reject/", "transfers/{}/withdraw/", "mass-uploads/{}/release/"]
path_ids = st.one_of(text, st.integers(min_value=-(2**70), max_value=2**70).map(str),
                     st.sampled_from(["ACT-00001", "act-00001", "ACT-", "ACT-²", "ACT-" + TOO_BIG_FOR_INT, "#1",
                                      "Transfer 1", "%", "..", "."]))


@pytest.fixture
def unthrottled(monkeypatch, settings):
    """A fuzz makes more requests a minute than a key, or an address, may."""
    from api.throttling import ApiKeyThrottle

    monkeypatch.setattr(ApiKeyThrottle, "THROTTLE_RATES", {"api_key": "1000000/minute"})
    settings.VERIFY_REQUESTS_PER_MINUTE = 1_000_000


@pytest.mark.parametrize("url", list(API_PARAMETERS))
@ANYTHING
@given(data=st.data())
def test_api_lists_never_fail(api_client, unthrottled, url, data):
    query = data.draw(params(API_PARAMETERS[url], cursor=cursors))
    response = answered(lambda: api_client.get(url, query))
    assert response.status_code in (200, 400), response.content
    if "cursor" in query and response.status_code == 400 and "cursor" in [
            error["field"] for error in response.json()["errors"]]:
        assert "not a cursor the API gave" in response.json()["detail"] or len(response.json()["errors"]) > 1


@ANYTHING
@given(pk=path_ids, body=st.fixed_dictionaries({}, optional={"account": text, "note": text, "process": text}))
@example(pk="\x00", body={})
@example(pk=SUPERSCRIPT_TWO, body={"account": "ACT-\x00"})
@example(pk=TOO_BIG_FOR_INT, body={"process": TOO_BIG_FOR_INT})
def test_api_ids_in_paths_never_fail(api_client, unthrottled, pk, body):
    quoted = urllib.parse.quote(pk, safe="")
    for path in API_PATHS:
        response = answered(lambda path=path: api_client.get(API + path.format(quoted)))
        assert response.status_code in (200, 400, 404), (path, response.content)
    for path in API_DECISIONS:  # in the request's own transaction (api.idempotency), not a savepoint
        response = answered(lambda path=path: api_client.post(API + path.format(quoted), body, format="json",
                                                              HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4())),
                            savepoint=False)
        assert response.status_code in (400, 404, 409, 422), (path, response.content)


# --- the pages added since: API keys, webhooks, generators, generation data, standing instructions ---

@pytest.fixture
def managing(signed_in, manager, holdings, counterparty):
    """A manager (who may do everything the newer pages offer) of an organization holding batches."""
    return signed_in(manager)


def posted_to(client, url, data=None, **extra):
    """answered() for a POST of these pages, without a savepoint: their services are durable
    transactions, which Django refuses to nest in one."""
    return answered(lambda: client.post(url, data or {}, **extra), savepoint=False)


page_ids = st.one_of(st.integers(min_value=1, max_value=10**30), st.sampled_from([2**63 - 1, 2**63]))


@SLOWER
@given(posted=params(["name", "scope", "expires_on"]), prefix=text)
@example(posted={"name": "ab\x00", "scope": "read"}, prefix="\x00")
@example(posted={"name": "Desk", "expires_on": "99999-01-01"}, prefix=SUPERSCRIPT_TWO)
def test_api_keys_page_never_fails(managing, posted, prefix):
    posted_to(managing, reverse("api-keys:list"), posted)
    posted_to(managing, reverse("api-keys:list"), posted, headers={"HX-Request": "true"})
    revoke = f"/organization/api-keys/{urllib.parse.quote(prefix, safe='')}/revoke/"
    answered(lambda: managing.get(revoke))
    posted_to(managing, revoke)


@SLOWER
@given(posted=params(["url", "event_types"], lists=("event_types",)), pk=page_ids)
@example(posted={"url": "https://example.com/\x00", "event_types": ["transfer.accepted"]}, pk=2**63)
@example(posted={"url": "https://[::1", "event_types": ["\x00"]}, pk=1)
def test_webhooks_pages_never_fail(managing, posted, pk):
    posted_to(managing, reverse("webhooks:list"), posted)
    for name in ("detail", "secret", "delete"):
        answered(lambda name=name: managing.get(reverse(f"webhooks:{name}", args=[pk])))
    for name in ("enable", "disable", "rotate", "delete"):
        posted_to(managing, reverse(f"webhooks:{name}", args=[pk]))
    posted_to(managing, reverse("webhooks:resend", args=[pk]))


GENERATOR_FIELDS = ["name", "fuel_type", "technology", "capacity_mw", "state", "commissioned_on", "eligibilities",
                    "account"]
VALID_GENERATOR = {"name": "Fuzz Wind", "fuel_type": "wind", "technology": "onshore_wind", "capacity_mw": "10",
                   "state": "MN", "commissioned_on": "2020-01-01", "eligibilities": "MN RES"}


@SLOWER
@given(posted=params(GENERATOR_FIELDS), pk=page_ids)
@example(posted={"capacity_mw": "1e999999999"}, pk=1)
@example(posted={"capacity_mw": "-1e999999999", "commissioned_on": "0001-01-01"}, pk=2**63)
@example(posted={"eligibilities": "a\x00b", "account": TOO_BIG_FOR_BIGINT}, pk=1)
def test_generators_pages_never_fail(managing, generator, posted, pk):
    posted_to(managing, reverse("generators:new"), VALID_GENERATOR | posted)
    posted_to(managing, reverse("generators:edit", args=[generator.pk]), VALID_GENERATOR | posted)
    for name in ("detail", "edit"):
        answered(lambda name=name: managing.get(reverse(f"generators:{name}", args=[pk])))
    posted_to(managing, reverse("generators:submit", args=[pk]))


@SLOWER
@given(query=params(["month", "page"]), pk=page_ids)
@example(query={"month": "12/0000", "page": SUPERSCRIPT_TWO}, pk=2**63)
@example(query={"page": TOO_BIG_FOR_INT}, pk=1)
def test_generation_pages_never_fail(managing, query, pk):
    answered(lambda: managing.get(reverse("issuance:reports"), query))
    answered(lambda: managing.get(reverse("issuance:reports"), query, headers={"HX-Request": "true"}))
    answered(lambda: managing.get(reverse("issuance:uploads"), query))
    posted_to(managing, reverse("issuance:uploads"), query)  # no file
    for name in ("upload", "issuance"):
        answered(lambda name=name: managing.get(reverse(f"issuance:{name}", args=[pk])))


INSTRUCTION_FIELDS = ["applies_to", "from_vintage", "until_vintage", "share", "percentage", "maximum", "irrevocable",
                      *(f"d{priority}-{name}" for priority in (1, 2, 3)
                        for name in ("kind", "account", "organization", "retirement_account", "option",
                                     "compliance_period", "beneficiary"))]


@SLOWER
@given(posted=params(INSTRUCTION_FIELDS), pk=page_ids)
@example(posted={"percentage": "1e999999999", "maximum": TOO_BIG_FOR_INT}, pk=2**63)
@example(posted={"d1-kind": "organization", "d1-organization": "ab\x00"}, pk=1)
@example(posted={"d1-account": TOO_BIG_FOR_BIGINT, "d1-compliance_period": SUPERSCRIPT_TWO}, pk=1)
def test_instructions_pages_never_fail(managing, generator, account, posted, pk):
    valid = {"applies_to": f"generator:{generator.pk}", "from_vintage": "01/2024", "share": "percentage",
             "percentage": "50", "d1-kind": "own_account", "d1-account": str(account.pk)}
    posted_to(managing, reverse("instructions:new"), valid | posted)
    posted_to(managing, reverse("instructions:new"), posted)
    for name in ("detail", "end"):
        answered(lambda name=name: managing.get(reverse(f"instructions:{name}", args=[pk])))
    posted_to(managing, reverse("instructions:end", args=[pk]))
