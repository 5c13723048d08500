"""The organization's activity log: every transfer, retirement, member and account change of the
organization, read from the ledger (each event once, none of another organization), filterable by
kind, person and date, paginated, downloadable as CSV; any member may read it."""

import csv
import datetime
import io

import pytest
from django.utils import timezone

from accounts.models import Account
from accounts.services import account_open, account_rename
from ledger.models import LedgerEvent
from registry.models import Membership
from registry.services import invitation_create, member_role_change
from registry.views import ACTIVITY_PAGE_SIZE
from transfers.services import TransferLine, transfer_accept, transfer_reject
from utilities.display import datetime_text

from .conftest import retire, send
from .factories import member

ACTIVITY = "/organization/activity/"
CSV = "/organization/activity.csv"


@pytest.fixture
def history(org, manager, trader, issue, counterparty, counterparty_trader, counterparty_account, foreign_batch,
            retirement_account, outsider):
    """A bit of everything in `org`'s name, a transfer each way decided by the counterparty, and
    activity of other organizations that `org` must not see."""
    batch, second, third = issue(1000), issue(500), issue(200)
    rejected = send(batch, trader, org, counterparty, quantity=100)
    transfer_reject(transfer=rejected, user=counterparty_trader, organization=counterparty, note="=not ours")
    accepted = send(second, trader, org, counterparty, quantity=50)
    transfer_accept(transfer=accepted, user=counterparty_trader, organization=counterparty,
                    account=counterparty_account)
    retire(organization=org, user=trader, lines=[TransferLine(third.pk, 10)], account=retirement_account)
    invitation_create(organization=org, invited_by=manager, email="new@prairiewind.example", role="viewer")
    member_role_change(user=manager, organization=org, member=Membership.objects.get(user=trader),
                       role=Membership.Role.VIEWER)
    opened = account_open(user=manager, organization=org, name="Reserve", type=Account.Type.RESERVE)
    account_rename(user=manager, organization=org, account=opened, name="=HYPERLINK(\"x\")")
    # Not org's: the counterparty's own activity, and another organization's.
    account_open(user=member(counterparty, Membership.Role.MANAGER), organization=counterparty, name="Theirs",
                 type=Account.Type.RESERVE)
    invitation_create(organization=outsider.memberships.get().organization, invited_by=outsider,
                      email="someone@elsewhere.example", role="trader")
    return {"rejected": rejected, "accepted": accepted}


def belongs_to(event: LedgerEvent, organization) -> bool:
    """The specification of the log's scope: an event filed under the organization, or of a
    transfer it sent or received; not a split (each is a step of an event listed)."""
    if event.kind == LedgerEvent.Kind.SPLIT:
        return False
    parties = {event.transfer.organization_id, event.transfer.recipient_organization_id} if event.transfer else set()
    return event.organization_id == organization.pk or organization.pk in parties


def csv_rows(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


def expected_ids(organization) -> list[int]:
    return sorted(e.pk for e in LedgerEvent.objects.select_related("transfer") if belongs_to(e, organization))


def test_log_lists_every_event_of_the_organization_once_and_none_of_another(
        history, org, counterparty, viewer, signed_in):
    client = signed_in(viewer)
    response = client.get(ACTIVITY, {"per_page": 500})
    assert response.status_code == 200
    expected = expected_ids(org)
    assert len(expected) >= 10
    assert sorted(event.pk for event, _, _ in response.context["rows"]) == expected
    foreign = [e.pk for e in LedgerEvent.objects.select_related("transfer") if not belongs_to(e, org)]
    assert foreign  # the counterparty's and the outsider's own events exist, and are not listed
    rows = csv_rows(client.get(CSV))
    assert rows[0] == ["When", "Who", "Kind", "What"]
    assert len(rows) - 1 == len(expected)


def test_counterparty_sees_the_transfers_it_received_but_not_the_senders_own_activity(
        history, org, counterparty, counterparty_trader, signed_in):
    response = signed_in(counterparty_trader).get(ACTIVITY)
    listed = sorted(event.pk for event, _, _ in response.context["rows"])
    assert listed == expected_ids(counterparty)
    kinds = {event.kind for event, _, _ in response.context["rows"]}
    assert LedgerEvent.Kind.MEMBER_ROLE_CHANGED not in kinds and LedgerEvent.Kind.RETIREMENT not in kinds
    text = response.content.decode()
    assert "manager@prairiewind.example" not in text and "new@prairiewind.example" not in text


def test_each_event_reads_as_a_sentence_with_who_and_when(history, org, manager, signed_in):
    rows = csv_rows(signed_in(manager).get(CSV))
    by_kind = {row[2]: row for row in rows[1:]}
    assert by_kind["Member invited"][1] == f"{manager.full_name} (manager@prairiewind.example)"
    assert by_kind["Member invited"][3] == "Invited new@prairiewind.example as a viewer."
    assert by_kind["Member's role changed"][3] == \
        "Changed the role of trader@prairiewind.example from trader to viewer."
    assert by_kind["Issuance"][1] == "Registry staff"
    assert by_kind["Issuance"][3].startswith("Issued ")
    rejected = history["rejected"]
    # The recipient rejected: it is named, not its person; the sender's person is named by address.
    assert by_kind["Transfer rejected"][1] == "Lakeshore Power Cooperative"
    assert by_kind["Transfer rejected"][3] == (f"Lakeshore Power Cooperative rejected transfer {rejected.pk}; "
                                               "the certificates returned.")
    assert by_kind["Transfer accepted"][1] == "Lakeshore Power Cooperative"
    assert by_kind["Retirement"][3].startswith("Retired 10 certificates: retirement ")
    assert by_kind["Account opened"][3].startswith("Opened reserve account ")
    # Dates as the pages write them; a formula in a name is neutralised.
    event = LedgerEvent.objects.filter(kind=LedgerEvent.Kind.MEMBER_INVITED, organization=org).get()
    assert by_kind["Member invited"][0] == datetime_text(event.occurred_at)
    assert "'=HYPERLINK" not in by_kind["Account renamed"][3]  # inside the sentence, not at its start
    assert all(not cell.startswith("=") for row in rows for cell in row)


def test_the_counterparty_reads_a_received_transfer_from_its_side(history, counterparty_trader, signed_in):
    rows = csv_rows(signed_in(counterparty_trader).get(CSV))
    initiated = [row for row in rows[1:] if row[2] == "Transfer initiated"]
    assert {row[1] for row in initiated} == {"Prairie Wind Energy"}
    assert initiated[0][3].startswith("Prairie Wind Energy sent transfer ")
    rejected = [row for row in rows[1:] if row[2] == "Transfer rejected"]
    assert rejected[0][1] == f"{counterparty_trader.full_name} (trader@lakeshore.example)"


def test_filter_by_kind_person_and_date(history, org, manager, trader, signed_in):
    client = signed_in(manager)
    by_kind = client.get(ACTIVITY, {"kind": "member_invited"}).context["rows"]
    assert [event.kind for event, _, _ in by_kind] == ["member_invited"]
    by_person = client.get(ACTIVITY, {"person": trader.pk}).context["rows"]
    assert {event.kind for event, _, _ in by_person} == {"transfer_initiated", "retirement"}
    assert all(event.actor_id == trader.pk for event, _, _ in by_person)
    today = timezone.localdate().isoformat()
    assert len(client.get(ACTIVITY, {"occurred_from": today, "occurred_to": today}).context["rows"]) == \
        len(expected_ids(org))
    tomorrow = (timezone.localdate() + datetime.timedelta(days=1)).isoformat()
    response = client.get(ACTIVITY, {"occurred_from": tomorrow})
    assert response.context["rows"] == [] and "No activity matches." in response.content.decode()
    rows = csv_rows(client.get(CSV, {"kind": "account_opened"}))
    assert [row[2] for row in rows[1:]] == ["Account opened"]


def test_the_counterpartys_person_is_not_a_choice_nor_a_filter(history, counterparty_trader, manager, signed_in):
    response = signed_in(manager).get(ACTIVITY, {"person": counterparty_trader.pk})
    assert response.status_code == 200
    assert "That person has no activity in this organization: choose one from the list." in \
        response.content.decode()


@pytest.mark.parametrize("query, message", [
    ({"kind": "everything"}, "There is no kind of activity “everything”: choose one from the list."),
    ({"person": "abc"}, "That person has no activity in this organization: choose one from the list."),
    ({"occurred_from": "31/12/2025"}, "Enter a date as YYYY-MM-DD, e.g. 2025-03-31."),
    ({"occurred_from": "2026-02-01", "occurred_to": "2026-01-01"}, "Enter a date on or after the “From” date."),
])
def test_bad_filter_input_is_explained_on_the_page_and_refused_for_the_download(
        history, org, manager, signed_in, query, message):
    client = signed_in(manager)
    response = client.get(ACTIVITY, query)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert "Correct the filter; until then all the activity is listed." in response.content.decode()
    assert len(response.context["rows"]) == len(expected_ids(org))
    download = client.get(CSV, query)
    assert download.status_code == 400
    assert message in download.content.decode()


def test_pages_of_the_log_and_the_htmx_partial(org, manager, signed_in):
    for number in range(ACTIVITY_PAGE_SIZE + 5):
        invitation_create(organization=org, invited_by=manager, email=f"p{number}@prairiewind.example", role="viewer")
    client = signed_in(manager)
    first = client.get(ACTIVITY)
    assert len(first.context["rows"]) == ACTIVITY_PAGE_SIZE
    assert "Page 1 of 2" in first.content.decode() and 'href="?page=2"' in first.content.decode()
    second = client.get(ACTIVITY, {"page": 2}, headers={"HX-Request": "true", "HX-Target": "results"})
    text = second.content.decode()
    assert len(second.context["rows"]) == 5 and "<h1>" not in text and 'id="activity"' in text
    assert "p0@prairiewind.example" in text  # newest first: the first invitation is on the last page
    assert client.get(ACTIVITY, {"page": "x"}).status_code == 200


@pytest.mark.parametrize("role", ["manager", "trader", "viewer"])
def test_every_member_may_read_the_log_and_it_is_linked_from_the_header(org, signed_in, role):
    """Behind the header's Organization link: itself for a trader or viewer, a tab of the members page
    it leads to for a manager."""
    user = member(org, role, email=f"{role}@log.example")
    organization_page = "/organization/members/" if role == "manager" else ACTIVITY
    assert f'href="{organization_page}"' in signed_in(user).get("/certificates/").content.decode()
    assert f'href="{ACTIVITY}"' in signed_in(user).get(organization_page).content.decode()
    assert signed_in(user).get(ACTIVITY).status_code == 200
    assert signed_in(user).get(CSV).status_code == 200


def test_signed_out_is_sent_to_sign_in(client):
    assert client.get(ACTIVITY).status_code == 302
    assert client.get(CSV).status_code == 302


def test_members_page_links_the_log(manager, signed_in):
    assert f'href="{ACTIVITY}"' in signed_in(manager).get("/organization/members/").content.decode()


def test_sentences_keep_ids_as_they_are_and_word_statuses_as_the_pages_do(
        signed_in, org, manager, staff, account, batch, trader, counterparty, settings):
    from accounts.services import account_set_status
    from registry.services import organization_require_two_factor, organization_set_status
    from transfers.services import transfers_expire

    account_set_status(user=staff, account=account, status=Account.Status.FROZEN)
    organization_set_status(user=staff, organization=org, status="suspended")
    organization_set_status(user=staff, organization=org, status="active")
    organization_require_two_factor(user=manager, organization=org, required=True)
    organization_require_two_factor(user=manager, organization=org, required=False)
    account_set_status(user=staff, account=account, status=Account.Status.OPEN)
    expired = send(batch, trader, org, counterparty, quantity=10)
    transfers_expire(now=timezone.now() + datetime.timedelta(days=settings.TRANSFER_PENDING_DAYS + 1))
    sentences = [sentence for _, _, sentence in signed_in(manager).get(ACTIVITY).context["rows"]]
    for expected in [f"The status of account {account.public_id} changed from open to frozen.",
                     "The status of the organization changed from active to suspended.",
                     "The status of the organization changed from suspended to active.",
                     "Two-factor sign-in is now required for every member.",
                     "Two-factor sign-in is now each member's choice.",
                     f"The status of account {account.public_id} changed from frozen to open.",
                     f"Transfer {expired.pk} expired; the certificates returned."]:
        assert expected in sentences
    assert account.public_id.lower() not in " ".join(sentences)
