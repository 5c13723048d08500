"""Program participants and regulators (issue 29, item 3): staff make an organization a regulator and
a program's administrator; staff or the administrator invite an organization to the program; its
managers join or decline; a joined organization opens the program's retirement accounts. A
regulator's members read every retirement toward their programs, of any organization (the Retired
tab, its CSV, the annual report, the API), and nothing else of any organization."""

import csv
import io
from decimal import Decimal

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import Account
from ledger.models import LedgerEvent
from ledger.verification import ledger_breaches
from programs.models import Program, ProgramAccount, ProgramAdministrator, ProgramParticipation
from programs.participation import (
    participation_decide,
    participation_invite,
    program_account_open,
    program_administrator_add,
    program_administrator_remove,
)
from programs.services import program_create
from registry.models import Membership, Organization
from registry.services import ServiceError, organization_set_kind
from retirements.models import Retirement
from transfers.services import TransferLine, TransferRefused

from .conftest import ledger_state, retire, signed_in_as
from .factories import AccountFactory, OrganizationFactory, RetirementOptionFactory, api_key_for, member

DASHBOARD = reverse("dashboard:certificates")
RETIRED_TAB = f"{DASHBOARD}?tab=retired"
API_RETIREMENTS = "/api/v1/retirements/"


def program_named(staff, code: str, name: str) -> Program:
    """A compliance program whose rules take any certificate (its rules are tests/test_programs.py's)."""
    return program_create(user=staff, fields={"code": code, "name": name, "kind": Program.Kind.COMPLIANCE,
                                              "jurisdiction": "Minnesota", "compliance_year": 2025,
                                              "close_date": None}, rules={})


@pytest.fixture
def program(staff):
    return program_named(staff, "mn-res-2025", "Minnesota RES 2025")


@pytest.fixture
def other_program(staff):
    return program_named(staff, "wi-rps-2025", "Wisconsin RPS 2025")


def regulator_of(staff, programs, name: str, email: str):
    """A regulator organization administering `programs`, and its manager."""
    organization = OrganizationFactory(name=name)
    organization_set_kind(user=staff, organization=organization, kind=Organization.Kind.REGULATOR)
    for program in programs:
        program_administrator_add(user=staff, program=program, organization=organization)
    return organization, member(organization, Membership.Role.MANAGER, email=email)


@pytest.fixture
def regulator(staff, program):
    """The manager of the Minnesota PUC, which administers Minnesota RES 2025."""
    return regulator_of(staff, [program], "Minnesota Public Utilities Commission", "regulator@puc.example")[1]


@pytest.fixture
def regulator_viewer(regulator):
    """A viewer of the same regulator: any role of a regulator reads its programs' retirements."""
    return member(Membership.objects.get(user=regulator).organization, Membership.Role.VIEWER,
                  email="viewer@puc.example")


@pytest.fixture
def other_regulator(staff, other_program):
    """The manager of Wisconsin's PSC, which administers another program only."""
    return regulator_of(staff, [other_program], "Wisconsin Public Service Commission", "regulator@psc.example")[1]


@pytest.fixture
def teammate(trader):
    return trader


@pytest.fixture
def option_of_program(program):
    return RetirementOptionFactory(name="Minnesota RES 2025 compliance", program=program)


@pytest.fixture
def toward_program(org, trader, issue, retirement_account, option_of_program):
    """A retirement of `org` toward the program by its option."""
    return retire(organization=org, user=trader, lines=[TransferLine(issue(100).pk, 100)],
                  account=retirement_account, option=option_of_program).retirement


@pytest.fixture
def not_toward_program(org, trader, issue, retirement_account):
    """A retirement of `org` toward nothing the regulator administers (Minnesota RES, no program)."""
    return retire(organization=org, user=trader, lines=[TransferLine(issue(50).pk, 50)],
                  account=retirement_account).retirement


@pytest.fixture
def into_program_account(staff, counterparty, counterparty_trader, foreign_batch, program):
    """A retirement of another organization (Lakeshore) into its program account for the program,
    with an option that names no program: it counts toward the program by its account."""
    participation = participation_invite(user=staff, program=program, organization=counterparty)
    manager = member(counterparty, Membership.Role.MANAGER, email="manager@lakeshore.example")
    participation_decide(user=manager, participation=participation, join=True)
    account = program_account_open(user=manager, participation=participation, name="MN RES 2025 retirements")
    return retire(organization=counterparty, user=counterparty_trader, lines=[TransferLine(foreign_batch.pk, 77)],
                  account=account).retirement


def references(response) -> set[str]:
    assert response.status_code == 200
    return {retirement.reference for retirement in response.context["page"].object_list}


def signed_api(user) -> APIClient:
    """An API client with a read key the user made for their organization."""
    _, key = api_key_for(user, Membership.objects.get(user=user).organization)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    return client


def csv_rows(response) -> list[dict]:
    assert response.status_code == 200
    return list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))


# --- Regulators and administrators: staff's, each a ledger event -------------------------------------


def test_staff_make_an_organization_a_regulator_and_an_administrator_each_a_ledger_event(staff, program):
    puc = OrganizationFactory(name="Minnesota Public Utilities Commission")
    with pytest.raises(ServiceError, match="is not a regulator"):
        program_administrator_add(user=staff, program=program, organization=puc)
    organization_set_kind(user=staff, organization=puc, kind=Organization.Kind.REGULATOR)
    administrator = program_administrator_add(user=staff, program=program, organization=puc)
    kinds = list(LedgerEvent.objects.filter(organization=puc).values_list("kind", "after"))
    assert kinds == [(LedgerEvent.Kind.ORGANIZATION_SETTINGS, {"kind": "regulator"}),
                     (LedgerEvent.Kind.PROGRAM_ADMINISTRATOR_ADDED,
                      {"program": program.pk, "program_code": "mn-res-2025", "program_name": "Minnesota RES 2025"})]
    with pytest.raises(ServiceError, match="administers a program"):  # still administering: stays a regulator
        organization_set_kind(user=staff, organization=puc, kind=Organization.Kind.PARTICIPANT)
    program_administrator_remove(user=staff, administrator=administrator)
    assert not ProgramAdministrator.objects.exists()
    assert LedgerEvent.objects.filter(organization=puc, kind=LedgerEvent.Kind.PROGRAM_ADMINISTRATOR_REMOVED).exists()


def test_only_staff_set_the_kind_and_the_administrators(manager, org, program):
    before = ledger_state()
    with pytest.raises(ServiceError, match="Only registry staff"):
        organization_set_kind(user=manager, organization=org, kind=Organization.Kind.REGULATOR)
    with pytest.raises(ServiceError, match="Only registry staff"):
        program_administrator_add(user=manager, program=program, organization=org)
    assert ledger_state() == before and Organization.objects.get(pk=org.pk).kind == Organization.Kind.PARTICIPANT


def test_the_admin_makes_a_regulator_and_assigns_it_in_the_program_inline(admin_client, program):
    puc = OrganizationFactory(name="Minnesota Public Utilities Commission")
    response = admin_client.post(reverse("admin:registry_organization_changelist"),
                                 {"action": "make_regulator", "_selected_action": [puc.pk]})
    assert response.status_code == 302 and Organization.objects.get(pk=puc.pk).is_regulator
    change = reverse("admin:programs_program_change", args=[program.pk])
    form = {"code": program.code, "name": program.name, "kind": program.kind, "jurisdiction": program.jurisdiction,
            "compliance_year": 2025, "created_at_0": "2025-01-01", "created_at_1": "00:00:00",
            "administrators-TOTAL_FORMS": 1, "administrators-INITIAL_FORMS": 0,
            "administrators-0-organization": puc.pk, "participations-TOTAL_FORMS": 0,
            "participations-INITIAL_FORMS": 0}
    response = admin_client.post(change, form)
    assert response.status_code == 302, response.context["errors"] if response.context else response
    assert ProgramAdministrator.objects.filter(program=program, organization=puc).exists()
    assert LedgerEvent.objects.filter(kind=LedgerEvent.Kind.PROGRAM_ADMINISTRATOR_ADDED, actor=admin_client.staff,
                                      organization=puc).exists()


def test_the_admin_refuses_a_participant_as_an_administrator(admin_client, org, program):
    change = reverse("admin:programs_program_change", args=[program.pk])
    before = ledger_state()
    response = admin_client.post(change, {
        "code": program.code, "name": program.name, "kind": program.kind, "jurisdiction": program.jurisdiction,
        "created_at_0": "2025-01-01", "created_at_1": "00:00:00",
        "administrators-TOTAL_FORMS": 1, "administrators-INITIAL_FORMS": 0, "administrators-0-organization": org.pk,
        "participations-TOTAL_FORMS": 0, "participations-INITIAL_FORMS": 0})
    assert response.status_code == 200 and not ProgramAdministrator.objects.exists() and ledger_state() == before


# --- Invitations: joined or declined, emailed to the managers ---------------------------------------


@pytest.mark.django_db(transaction=True)  # the email goes from the outbox after the commit
def test_an_invitation_emails_the_managers_who_join_on_the_programs_page(staff, program, org, manager, trader):
    mail.outbox.clear()
    participation = participation_invite(user=staff, program=program, organization=org)
    [email] = mail.outbox
    assert email.to == [manager.email] and "Prairie Wind Energy is invited to join Minnesota RES 2025" in email.subject
    assert "/organization/programs/" in email.body
    client = signed_in_as(manager)
    page = client.get(reverse("programs:participation")).content.decode()
    assert "Join Minnesota RES 2025" in page
    response = client.post(reverse("programs:answer", args=[participation.pk]), {"answer": "join"}, follow=True)
    assert "Prairie Wind Energy joined Minnesota RES 2025" in response.content.decode()
    participation.refresh_from_db()
    assert participation.status == ProgramParticipation.Status.JOINED and participation.decided_by == manager
    assert LedgerEvent.objects.filter(kind=LedgerEvent.Kind.PROGRAM_JOINED, organization=org, actor=manager).exists()


def test_a_declined_invitation_can_be_made_again_and_an_answer_is_given_once(staff, program, org, manager):
    participation = participation_invite(user=staff, program=program, organization=org)
    participation_decide(user=manager, participation=participation, join=False)
    before = ledger_state()
    with pytest.raises(ServiceError, match="already declined Minnesota RES 2025"):
        participation_decide(user=manager, participation=participation, join=True)
    assert ledger_state() == before
    again = participation_invite(user=staff, program=program, organization=org)
    assert again.pk == participation.pk and again.status == ProgramParticipation.Status.INVITED
    participation_decide(user=manager, participation=again, join=True)
    with pytest.raises(ServiceError, match="already been invited to Minnesota RES 2025 \\(joined\\)"):
        participation_invite(user=staff, program=program, organization=org)


def test_a_double_accept_on_the_page_changes_nothing(staff, program, org, manager):
    participation = participation_invite(user=staff, program=program, organization=org)
    client = signed_in_as(manager)
    answer = reverse("programs:answer", args=[participation.pk])
    client.post(answer, {"answer": "join"})
    before = ledger_state()
    response = client.post(answer, {"answer": "join"}, follow=True)
    assert "Prairie Wind Energy has already joined Minnesota RES 2025." in response.content.decode()
    assert ledger_state() == before


def test_only_a_manager_answers_and_only_its_own_invitation(staff, program, org, trader, outsider):
    participation = participation_invite(user=staff, program=program, organization=org)
    answer = reverse("programs:answer", args=[participation.pk])
    before = ledger_state()
    assert signed_in_as(trader).post(answer, {"answer": "join"}).status_code == 403
    assert signed_in_as(outsider).post(answer, {"answer": "join"}).status_code == 404  # another's invitation
    assert signed_in_as(outsider).get(reverse("programs:participation")).status_code == 200  # its own: none
    assert ledger_state() == before
    assert ProgramParticipation.objects.get().status == ProgramParticipation.Status.INVITED


def test_a_regulator_manager_invites_to_its_program_only(regulator, program, other_program, org):
    client = signed_in_as(regulator)
    response = client.post(reverse("programs:invite", args=[program.pk]), {"organization": org.public_id.lower()})
    assert response.status_code == 302
    assert ProgramParticipation.objects.get().invited_by == regulator
    before = ledger_state()
    # A program it does not administer (a foreign program id) is not found; nothing changes.
    assert client.post(reverse("programs:invite", args=[other_program.pk]),
                       {"organization": org.public_id}).status_code == 404
    response = client.post(reverse("programs:invite", args=[program.pk]), {"organization": "MM99999"})
    assert response.status_code == 400
    assert "No participant has the Organization ID “MM99999”" in response.content.decode()
    assert ledger_state() == before and ProgramParticipation.objects.count() == 1


def test_a_regulator_viewer_cannot_invite_and_a_participant_has_no_programs_to_administer(
        regulator_viewer, program, org, manager):
    before = ledger_state()
    assert signed_in_as(regulator_viewer).post(reverse("programs:invite", args=[program.pk]),
                                               {"organization": org.public_id}).status_code == 403
    assert signed_in_as(manager).get(reverse("programs:administered")).status_code == 403
    with pytest.raises(ServiceError, match="Only registry staff or a manager of an administrator"):
        participation_invite(user=manager, program=program, organization=org)
    assert ledger_state() == before


# --- Program retirement accounts --------------------------------------------------------------------


def test_a_joined_organization_opens_a_program_retirement_account(staff, program, org, manager):
    participation = participation_invite(user=staff, program=program, organization=org)
    client = signed_in_as(manager)
    opening = reverse("programs:account_open", args=[participation.pk])
    before = ledger_state()
    response = client.post(opening, {"name": "MN RES 2025"})
    assert response.status_code == 400 and "has not joined Minnesota RES 2025" in response.content.decode()
    assert ledger_state() == before
    participation_decide(user=manager, participation=participation, join=True)
    response = client.post(opening, {"name": "MN RES 2025"}, follow=True)
    account = Account.objects.get(organization=org, name="MN RES 2025")
    assert f"Retirement account MN RES 2025 ({account.public_id}) is open" in response.content.decode()
    assert account.type == Account.Type.RETIREMENT and ProgramAccount.objects.get(account=account).program == program
    event = LedgerEvent.objects.get(kind=LedgerEvent.Kind.ACCOUNT_OPENED, account=account)
    assert event.after["type"] == "retirement" and event.after["program_code"] == "mn-res-2025"
    assert ledger_breaches() == []


def test_another_organization_cannot_open_an_account_on_an_invitation_not_its_own(staff, program, org, manager,
                                                                                 outsider):
    participation = participation_invite(user=staff, program=program, organization=org)
    participation_decide(user=manager, participation=participation, join=True)
    before = ledger_state()
    response = signed_in_as(outsider).post(reverse("programs:account_open", args=[participation.pk]),
                                           {"name": "Sneaky"})
    assert response.status_code == 404 and ledger_state() == before
    with pytest.raises(ServiceError):
        program_account_open(user=outsider, participation=participation, name="Sneaky")
    assert not ProgramAccount.objects.exists()


# --- Reading: owner, teammate, regulator of this program, of another, outsider ----------------------


READERS = ["manager", "teammate", "regulator", "regulator_viewer", "other_regulator", "outsider"]
# What each reader sees of the three retirements: toward the program by option (Prairie Wind's), by
# program account (Lakeshore's), and Prairie Wind's toward nothing the regulator administers.
SEES = {"manager": {"toward_program", "not_toward_program"}, "teammate": {"toward_program", "not_toward_program"},
        "regulator": {"toward_program", "into_program_account"},
        "regulator_viewer": {"toward_program", "into_program_account"},
        "other_regulator": set(), "outsider": set()}


@pytest.fixture
def three_retirements(toward_program, not_toward_program, into_program_account):
    return {"toward_program": toward_program, "not_toward_program": not_toward_program,
            "into_program_account": into_program_account}


@pytest.mark.parametrize("reader", READERS)
def test_each_reader_sees_exactly_the_retirements_it_may_on_the_retired_tab_csv_report_and_api(
        request, three_retirements, reader):
    user = request.getfixturevalue(reader)
    expected = {three_retirements[name].reference for name in SEES[reader]}
    client = signed_in_as(user)
    assert references(client.get(RETIRED_TAB)) == expected
    assert {row["Reference"] for row in csv_rows(client.get(reverse("retirements:csv")))} == expected
    year = timezone.localdate().year
    report = client.get(reverse("retirements:annual_report"), {"year": year}).context["report"]
    assert report.retirement_count == len(expected)
    assert report.quantity == sum(three_retirements[name].transfer.items.get().batch.quantity
                                  for name in SEES[reader])
    answer = signed_api(user).get(API_RETIREMENTS)
    assert answer.status_code == 200 and {r["reference"] for r in answer.json()["results"]} == expected


def test_the_regulator_sees_who_retired_and_each_reference_leads_to_the_public_record(
        regulator, three_retirements, counterparty):
    client = signed_in_as(regulator)
    page = client.get(RETIRED_TAB).content.decode()
    lakeshore = three_retirements["into_program_account"]
    assert "Retired by" in page and f"{counterparty.name} <span class=\"muted\">{counterparty.public_id}" in page
    assert reverse("retirements:verify", args=[lakeshore.reference]) in page
    assert reverse("transfers:detail", args=[lakeshore.transfer_id]) not in page
    rows = {row["Reference"]: row for row in csv_rows(client.get(reverse("retirements:csv")))}
    assert rows[lakeshore.reference]["Organization ID"] == counterparty.public_id
    answer = {r["reference"]: r for r in signed_api(regulator).get(API_RETIREMENTS).json()["results"]}
    assert answer[lakeshore.reference]["organization"] == counterparty.public_id


def test_the_regulators_annual_report_groups_by_the_organization_that_retired(
        regulator, org, counterparty, three_retirements):
    client = signed_in_as(regulator)
    year = timezone.localdate().year
    report = client.get(reverse("retirements:annual_report"), {"year": year}).context["report"]
    assert report.by_organization
    assert [(row["organization_public_id"], row["retirement_count"], row["quantity"]) for row in report.rows] == sorted(
        [(org.public_id, 1, 100), (counterparty.public_id, 1, 77)],
        key=lambda row: {org.public_id: org.name, counterparty.public_id: counterparty.name}[row[0]])
    page = client.get(reverse("retirements:annual_report"), {"year": year}).content.decode()
    assert "<th>Retired by</th>" in page
    assert f"{counterparty.name} <span class=\"muted\">{counterparty.public_id}" in page
    rows = csv_rows(client.get(reverse("retirements:annual_report_csv"), {"year": year}))
    assert [(row["Organization ID"], row["Retirements"], Decimal(row["MWh"])) for row in rows] == [
        *((row["organization_public_id"], "1", row["quantity"]) for row in report.rows), ("", "2", Decimal(177))]
    assert rows[-1]["Counts toward"] == "Total"

    own = signed_in_as(three_retirements["toward_program"].transfer.created_by)  # a participant: its own only
    mine = own.get(reverse("retirements:annual_report"), {"year": year})
    assert not mine.context["report"].by_organization and "Retired by" not in mine.content.decode()
    assert "Organization ID" not in csv_rows(own.get(reverse("retirements:annual_report_csv"), {"year": year}))[0]


def test_the_regulator_filters_the_program_retirements_as_the_retired_tab_does(regulator, three_retirements):
    client = signed_in_as(regulator)
    toward = three_retirements["toward_program"]
    assert references(client.get(DASHBOARD, {"tab": "retired", "option": toward.option.name})) == {toward.reference}
    answer = signed_api(regulator).get(API_RETIREMENTS, {"option": toward.option.name}).json()["results"]
    assert [r["reference"] for r in answer] == [toward.reference]


def test_the_regulator_sees_nothing_else_of_any_organization(regulator, three_retirements, org, account,
                                                             retirement_account, batch):
    """No holdings, no transfers, no accounts, no activity of the participants: each page and
    endpoint is the regulator's own organization's, and another's object is a 404."""
    client = signed_in_as(regulator)
    toward = three_retirements["toward_program"]
    assert client.get(reverse("transfers:detail", args=[toward.transfer_id])).status_code == 404
    assert client.get(reverse("retirements:statement_pdf", args=[toward.transfer_id])).status_code == 404
    assert client.get(DASHBOARD).context["page"].paginator.count == 0  # the Active tab: its own, none
    assert client.get(f"{DASHBOARD}?tab=transactions").context["page"].paginator.count == 0
    assert csv_rows(client.get(reverse("dashboard:download"))) == []
    assert client.get(reverse("accounts:list")).context["accounts"].count() == 0
    api = signed_api(regulator)
    assert api.get("/api/v1/batches/").json()["results"] == []
    assert api.get("/api/v1/accounts/").json() in ([], {"count": 0, "next": None, "previous": None, "results": []})
    assert api.get(f"/api/v1/accounts/{account.public_id}/").status_code == 404
    assert api.get(f"/api/v1/batches/{batch.pk}/").status_code == 404
    assert api.get(f"/api/v1/transfers/{toward.transfer_id}/").status_code == 404


def test_a_regulator_removed_from_the_program_reads_its_retirements_no_more(staff, regulator, three_retirements):
    assert references(signed_in_as(regulator).get(RETIRED_TAB))
    program_administrator_remove(user=staff, administrator=ProgramAdministrator.objects.get())
    assert references(signed_in_as(regulator).get(RETIRED_TAB)) == set()


def test_the_programs_page_lists_the_regulators_programs_and_their_participants(
        regulator, other_regulator, three_retirements, counterparty):
    page = signed_in_as(regulator).get(reverse("programs:administered")).content.decode()
    assert "Minnesota RES 2025" in page and "Wisconsin RPS 2025" not in page
    assert counterparty.public_id in page and "Joined" in page
    other = signed_in_as(other_regulator).get(reverse("programs:administered")).content.decode()
    assert "Minnesota RES 2025" not in other and counterparty.public_id not in other


def test_a_regulator_may_not_be_invited(staff, program, regulator):
    regulator_organization = Membership.objects.get(user=regulator).organization
    before = ledger_state()
    with pytest.raises(ServiceError, match="is a regulator, not a participant"):
        participation_invite(user=staff, program=program, organization=regulator_organization)
    assert ledger_state() == before


def test_a_retirement_counts_toward_a_program_by_its_option_or_its_account(three_retirements, program):
    counted = set(Retirement.objects.filter(Retirement.counting_toward(Program.objects.filter(pk=program.pk)))
                  .values_list("reference", flat=True))
    assert counted == {three_retirements["toward_program"].reference,
                       three_retirements["into_program_account"].reference}


def test_the_admin_invites_an_organization_to_a_program(admin_client, program, org, manager):
    response = admin_client.post(reverse("admin:programs_program_invite", args=[program.pk]),
                                 {"organization": org.pk})
    assert response.status_code == 302
    participation = ProgramParticipation.objects.get()
    assert participation.organization == org and participation.invited_by == admin_client.staff
    assert LedgerEvent.objects.filter(kind=LedgerEvent.Kind.PROGRAM_INVITED, organization=org).exists()


def test_a_program_account_of_another_organization_is_not_one_to_retire_into(org, trader, batch, program, staff,
                                                                              counterparty):
    """A program account is an ordinary retirement account of its organization: no one else's."""
    foreign = AccountFactory(organization=counterparty, name="Lakeshore MN", type=Account.Type.RETIREMENT)
    ProgramAccount.objects.create(account=foreign, program=program)
    before = ledger_state()
    with pytest.raises(TransferRefused):
        retire(organization=org, user=trader, lines=[TransferLine(batch.pk, 10)], account=foreign)
    assert ledger_state() == before
