"""Programs as data (#29 items 1 and 2): staff keep programs and their rules, versioned and never
edited; every retirement path refuses what the option's program does not accept, naming the rule
and the batch; after the close date nothing is accepted and the program's accounts freeze; the
Active tab's "Eligible for" is the same rule as a filter."""

import datetime
from decimal import Decimal

import pytest
from django.db import DatabaseError, transaction
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.models import Account
from certificates.models import CertificateBatch
from certificates.periods import ProductionPeriod, registry_zone
from instructions.forms import DestinationChoice
from instructions.models import InstructionDestination, InstructionRun
from instructions.services import instruction_create, instructions_run
from ledger.models import LedgerEvent
from ledger.verification import ledger_breaches
from programs.models import Program, ProgramAccount, ProgramRules
from programs.selectors import batch_facts, batches_eligible, program_refusal
from programs.services import ProgramRefused, program_accounts_freeze, program_change, program_create, program_retire
from retirements.models import RetirementOption
from retirements.services import RetirementDetails
from transfers.models import Transfer
from transfers.services import TransferLine, TransferRefused

from .conftest import ledger_state, retire
from .factories import AccountFactory, GeneratorFactory
from .test_api_transfers import fields as problem_fields
from .test_api_transfers import post
from .test_retirement_wizard import details as wizard_details
from .test_retirement_wizard import start
from .test_wizard import step_url

MN_RULES = {"vintage_years_before": 4, "fuels": ["wind", "solar", "hydro"], "states": ["MN"]}
PROGRAM = {"code": "mn-res-2025", "name": "Minnesota RES 2025", "kind": "compliance", "jurisdiction": "Minnesota",
           "compliance_year": 2025, "close_date": None}
HEADER = ("Serial Number,Quantity,Retirement Account ID,Option,Compliance Period,Beneficiary,Period Start,"
          "Period End,Notes\r\n")


@pytest.fixture
def program(staff):
    return program_create(user=staff, fields=PROGRAM, rules=MN_RULES, note="Minn. Stat. 216B.1691")


@pytest.fixture
def option(program):
    return RetirementOption.objects.create(name="Minnesota RES 2025", type=RetirementOption.Type.STATE_RPS,
                                           reason=RetirementOption.Reason.COMPLIANCE, state="MN", program=program)


def month(year, number=1):
    return ProductionPeriod.month(year, number)


def refused_with(message, **retirement):
    before = ledger_state()
    with pytest.raises(TransferRefused) as refusal:
        retire(**retirement)
    assert message in str(refusal.value), str(refusal.value)
    assert ledger_state() == before
    return refusal.value


# The rule, through the service every path writes through (retirement_write)

def test_an_accepted_batch_retires_toward_the_program(org, trader, issue, retirement_account, option):
    batch = issue(100, period=month(2021))
    transfer = retire(organization=org, user=trader, lines=[TransferLine(batch.pk, 100)], account=retirement_account,
                      option=option, compliance_period=2025)
    assert transfer.retirement.option.program.name == "Minnesota RES 2025"
    assert ledger_breaches() == []


def test_an_old_vintage_is_refused_naming_the_batch_and_the_rule(org, trader, issue, retirement_account, option):
    batch = issue(50, period=month(2019))
    refusal = refused_with(f"{batch.serial_number} is vintage 01/2019; Minnesota RES 2025 accepts 2021 or later.",
                           organization=org, user=trader, lines=[TransferLine(batch.pk, 50)],
                           account=retirement_account, option=option, compliance_period=2025)
    assert refusal.problems == {"lines.0.batch": str(refusal)}  # the line it concerns


@pytest.mark.parametrize(("generator_fields", "rules", "message"), [
    ({"fuel_type": "biomass", "technology": "biomass_steam"}, {},
     "is biomass; Minnesota RES 2025 accepts wind, solar or hydro."),
    ({}, {"technologies": ["solar_pv", "run_of_river"]},
     "'s technology is onshore wind; Minnesota RES 2025 accepts solar photovoltaic or run-of-river hydro."),
    ({"state": "IA"}, {}, "is from Iowa; Minnesota RES 2025 accepts certificates from Minnesota."),
    ({"eligibilities": ["Green-e"]}, {"eligibilities": ["MN RES", "WI RPS"]},
     "carries none of the eligibilities Minnesota RES 2025 requires (MN RES or WI RPS)."),
    ({"code": "G00077"}, {"generators": ["M805"]},
     "is from generator G00077; Minnesota RES 2025 accepts only generator M805."),
    ({}, {"vintage_years_before": None, "vintage_from": datetime.date(2022, 3, 1),
          "vintage_to": datetime.date(2024, 12, 1)}, "is vintage 01/2021; Minnesota RES 2025 accepts 03/2022 to 2024."),
])
def test_each_rule_refuses_with_its_message_and_changes_nothing(org, trader, staff, issue, generator, account,
                                                                retirement_account, program, option,
                                                                generator_fields, rules, message):
    if rules:
        program_change(user=staff, program=program, fields={}, rules=MN_RULES | rules)
    GeneratorFactory(organization=org, code="M805X")  # another generator, so M805 is a real choice
    source = GeneratorFactory(organization=org, **({"code": "M900"} | generator_fields)) if generator_fields \
        else generator
    batch = issue(10, period=month(2021), generator=source)
    refused_with(f"{batch.serial_number}{'' if message.startswith(chr(39)) else ' '}{message}",
                 organization=org, user=trader, lines=[TransferLine(batch.pk, 10)], account=retirement_account,
                 option=option, compliance_period=2025)


def test_every_refused_batch_is_named_under_its_line(org, trader, issue, retirement_account, option):
    good, old, older = issue(10, period=month(2022)), issue(10, period=month(2020, 6)), issue(10, period=month(2018))
    refusal = refused_with("accepts 2021 or later", organization=org, user=trader, account=retirement_account,
                           lines=[TransferLine(good.pk, 10), TransferLine(old.pk, 5), TransferLine(older.pk, 10)],
                           option=option, compliance_period=2025)
    assert set(refusal.problems) == {"lines.1.batch", "lines.2.batch"}
    assert "vintage 06/2020" in refusal.problems["lines.1.batch"]


def test_another_organization_s_batch_is_not_named_by_the_program_check(
        org, trader, counterparty, counterparty_trader, issue, retirement_account, option):
    theirs = issue(10, period=month(2018))
    their_retirements = AccountFactory(organization=counterparty, type=Account.Type.RETIREMENT)
    before = ledger_state()
    with pytest.raises(TransferRefused) as refusal:
        retire(organization=counterparty, user=counterparty_trader, lines=[TransferLine(theirs.pk, 10)],
               account=their_retirements, option=option, compliance_period=2025)
    assert "is not held by" in str(refusal.value) and "vintage" not in str(refusal.value)
    assert ledger_state() == before


def test_an_option_without_a_program_checks_nothing_more(org, trader, issue, retirement_account):
    batch = issue(10, period=month(2012))
    retire(organization=org, user=trader, lines=[TransferLine(batch.pk, 10)], account=retirement_account)


# The close date

def test_the_close_date_is_the_last_day_retirements_count(program, issue, org):
    program.close_date = closes = timezone.localdate() + datetime.timedelta(days=3)
    last_moment = datetime.datetime.combine(closes, datetime.time(23, 59), tzinfo=registry_zone())
    batch = issue(10, period=month(2023))
    assert not program_refusal(program=program, organization=org, batch_ids=[batch.pk], now=last_moment)
    refusal = program_refusal(program=program, organization=org, batch_ids=[batch.pk],
                              now=last_moment + datetime.timedelta(minutes=1))
    assert refusal.program == f"Minnesota RES 2025 closed on {closes.isoformat()}; it accepts no more retirements."


def test_after_the_close_date_every_retirement_toward_it_is_refused(org, trader, staff, issue, retirement_account,
                                                                    program, option):
    program_retire(user=staff, program=program, close_date=timezone.localdate() - datetime.timedelta(days=1))
    batch = issue(10, period=month(2023))
    refusal = refused_with("Minnesota RES 2025 closed on", organization=org, user=trader, account=retirement_account,
                           lines=[TransferLine(batch.pk, 10)], option=option, compliance_period=2025)
    assert list(refusal.problems) == ["retirement.option"]


def test_the_program_s_retirement_accounts_freeze_after_its_close_date(org, staff, program):
    accounts = [AccountFactory(organization=org, type=Account.Type.RETIREMENT, name=f"MN RES {n}") for n in (1, 2)]
    for account in accounts:
        ProgramAccount.objects.create(account=account, program=program)
    other = AccountFactory(organization=org, type=Account.Type.RETIREMENT, name="Voluntary")
    program_retire(user=staff, program=program, close_date=datetime.date(2026, 1, 31))
    zone = datetime.timezone(datetime.timedelta(hours=-6))
    assert program_accounts_freeze(now=datetime.datetime(2026, 1, 31, 23, 0, tzinfo=zone)) == 0  # still open
    assert program_accounts_freeze(now=datetime.datetime(2026, 2, 1, 0, 30, tzinfo=zone)) == 2
    assert {account.status for account in Account.objects.filter(pk__in=[a.pk for a in accounts])} == {"frozen"}
    assert Account.objects.get(pk=other.pk).status == "open"
    [event, _] = LedgerEvent.objects.filter(kind=LedgerEvent.Kind.ACCOUNT_STATUS).order_by("pk")
    assert (event.actor, event.before, event.after, event.note) == (
        None, {"status": "open"}, {"status": "frozen"}, "Minnesota RES 2025 closed on 2026-01-31.")
    assert program_accounts_freeze(now=datetime.datetime(2026, 2, 2, tzinfo=zone)) == 0  # once


# Programs as data: versions, never edited

def test_a_change_appends_a_version_and_the_rules_on_a_date_are_those_then_in_force(staff, program):
    first = program.rules_on(timezone.now())
    later = timezone.now() + datetime.timedelta(days=10)
    program_change(user=staff, program=program, fields={}, rules=MN_RULES | {"fuels": ["wind"]}, effective_from=later,
                   note="Order 25-114")
    assert program.rules_on(timezone.now()) == first  # not yet
    assert program.rules_on(later).fuels == ["wind"]
    assert program.rules_on(timezone.localdate(later)).note == "Order 25-114"  # a date: as that day ended
    assert program.rules_on(timezone.localdate() - datetime.timedelta(days=1)) is None  # before the first
    created, changed = LedgerEvent.objects.filter(kind__startswith="program_").order_by("pk")
    assert (created.kind, created.actor, created.after["program"]["name"]) == (
        "program_created", staff, "Minnesota RES 2025")
    assert (changed.kind, changed.before["rules"]["fuels"], changed.after["rules"]["fuels"]) == (
        "program_changed", ["wind", "solar", "hydro"], ["wind"])


def test_the_database_refuses_to_edit_or_delete_a_version(program):
    version = program.rule_versions.get()
    for change in (lambda: ProgramRules.objects.filter(pk=version.pk).update(fuels=["biomass"]),
                   lambda: ProgramRules.objects.filter(pk=version.pk).delete()):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            change()


@pytest.mark.parametrize(("change", "message"), [
    ({"rules": MN_RULES}, "Nothing changed"),
    ({"rules": MN_RULES | {"fuels": ["coal"]}}, "coal: not one of the registry's fuels"),
    ({"rules": MN_RULES | {"generators": ["G99999"]}}, "No generator has the ID G99999"),
    ({"fields": {"compliance_year": None}}, "needs the program's compliance year"),
    ({"rules": MN_RULES | {"fuels": ["wind"]}, "effective_from": timezone.now() - datetime.timedelta(days=1)},
     "never in the past"),
])
def test_a_wrong_change_is_refused_and_changes_nothing(staff, program, change, message):
    before = (LedgerEvent.objects.count(), ProgramRules.objects.count())
    with pytest.raises(ProgramRefused, match=message):
        program_change(user=staff, program=program, **({"fields": {}} | change))
    assert (LedgerEvent.objects.count(), ProgramRules.objects.count()) == before


def test_only_staff_keep_programs(manager, program):
    with pytest.raises(Exception, match="Only registry staff"):
        program_create(user=manager, fields=PROGRAM | {"code": "x", "name": "X"}, rules={})
    with pytest.raises(Exception, match="Only registry staff"):
        program_retire(user=manager, program=program, close_date=datetime.date(2026, 1, 1))


# The admin

# The program's page's inlines (administrators, participants: tests/test_regulators.py), left empty.
NO_INLINES = {"administrators-TOTAL_FORMS": "0", "administrators-INITIAL_FORMS": "0",
              "participations-TOTAL_FORMS": "0", "participations-INITIAL_FORMS": "0"}


def test_staff_create_change_and_retire_a_program_in_the_admin(admin_client):
    client = admin_client
    form = {"code": "wi-rps-2026", "name": "Wisconsin RPS 2026", "kind": "compliance", "jurisdiction": "Wisconsin",
            "compliance_year": "2026", "close_date": "", "vintage_years_before": "3", "vintage_from": "",
            "vintage_to": "", "fuels": ["wind", "solar"], "states": ["WI"], "eligibilities": "", "generators": "",
            "effective_from": "", "note": "PSC order"} | NO_INLINES
    response = client.post(reverse("admin:programs_program_add"), form)
    assert response.status_code == 302, response.content.decode()[:3000]
    program = Program.objects.get(code="wi-rps-2026")
    assert program.rules_on(timezone.now()).summary()[:3] == [
        ("Vintage", "2023 or later"), ("Fuels", "Wind, Solar"), ("Technologies", "any")]
    page = client.get(reverse("admin:programs_program_change", args=[program.pk])).content.decode()
    assert 'value="3"' in page  # the rules in force, to change
    response = client.post(reverse("admin:programs_program_change", args=[program.pk]),
                           form | {"fuels": ["wind"], "note": "Solar moved to its own carve-out"})
    assert response.status_code == 302
    assert program.rule_versions.count() == 2
    history = client.get(reverse("admin:programs_program_history", args=[program.pk])).content.decode()
    assert "Solar moved to its own carve-out" in history and "Program changed" in history
    response = client.post(reverse("admin:programs_program_changelist"),
                           {"action": "retire_today", "_selected_action": [program.pk]})
    program.refresh_from_db()
    assert program.close_date == timezone.localdate()
    assert LedgerEvent.objects.filter(kind=LedgerEvent.Kind.PROGRAM_RETIRED).count() == 1


def test_a_wrong_rule_in_the_admin_is_shown_and_changes_nothing(admin_client):
    before = LedgerEvent.objects.count()
    response = admin_client.post(reverse("admin:programs_program_add"), {
        "code": "x-2026", "name": "X 2026", "kind": "voluntary", "jurisdiction": "X", "compliance_year": "",
        "vintage_years_before": "3", "generators": "", "eligibilities": ""} | NO_INLINES)
    assert response.status_code == 200
    assert "needs the program&#x27;s compliance year" in response.content.decode()
    assert (Program.objects.count(), LedgerEvent.objects.count()) == (0, before)


def test_participants_cannot_reach_the_programs_admin(signed_in, manager, program):
    client = signed_in(manager)
    for url in (reverse("admin:programs_program_add"), reverse("admin:programs_program_history", args=[program.pk])):
        response = client.get(url)
        assert response.status_code == 302 and "/admin/login/" in response.url


# Every path: the wizard, the mass file, the API, standing retirements

def test_the_wizard_refuses_an_old_vintage_at_its_details_step(signed_in, trader, issue, retirement_account, option):
    batch = issue(50, period=month(2019))
    client = signed_in(trader)
    draft = start(client, batch)
    client.post(step_url(draft, "quantity"), {f"quantity_{batch.pk}": 50})
    before = ledger_state()
    page = client.post(step_url(draft, "destination"),
                       wizard_details(retirement_account, option, compliance_period="2025")).content.decode()
    assert f"{batch.serial_number} is vintage 01/2019; Minnesota RES 2025 accepts 2021 or later." in page
    assert ledger_state() == before


def test_the_wizard_s_confirm_is_refused_when_the_program_closed_after_its_details(
        signed_in, trader, staff, issue, retirement_account, program, option):
    batch = issue(50, period=month(2023))
    client = signed_in(trader)
    draft = start(client, batch)
    client.post(step_url(draft, "quantity"), {f"quantity_{batch.pk}": 50})
    assert client.post(step_url(draft, "destination"),
                       wizard_details(retirement_account, option, compliance_period="2025")).status_code == 302
    program_retire(user=staff, program=program, close_date=timezone.localdate() - datetime.timedelta(days=1))
    before = ledger_state()
    page = client.post(step_url(draft, "confirm")).content.decode()
    assert "Minnesota RES 2025 closed on" in page
    assert ledger_state() == before


def test_the_mass_retirement_file_names_the_row_and_the_rule(mass_refused, issue, retirement_account, option):
    good, old = issue(10, period=month(2022)), issue(10, period=month(2019))
    mass_refused(HEADER + f"{good.serial_number},10,{retirement_account.public_id},Minnesota RES 2025,2025,,,,\r\n"
                          f"{old.serial_number},10,{retirement_account.public_id},Minnesota RES 2025,2025,,,,\r\n",
                 f"{old.serial_number} is vintage 01/2019; Minnesota RES 2025 accepts 2021 or later.",
                 row=3, column="A", kind="retirement")


def test_the_api_refuses_under_the_line(api_as, org, manager, issue, retirement_account, option):
    from api.models import ApiKey
    batch = issue(10, period=month(2019))
    before = ledger_state()
    response = post(api_as(manager, org, ApiKey.Scope.RETIRE), "/api/v1/retirements/", {
        "lines": [{"batch": batch.pk, "quantity": 10}], "account": retirement_account.public_id,
        "option": "Minnesota RES 2025", "compliance_period": 2025})
    assert response.status_code in (400, 422), response.content
    assert "is vintage 01/2019; Minnesota RES 2025 accepts 2021 or later." in str(problem_fields(response))
    assert ledger_state() == before


def test_a_standing_retirement_the_program_refuses_goes_to_the_next_destination(
        org, trader, staff, generator, account, second_account, retirement_account, program, option):
    program_change(user=staff, program=program, fields={}, rules=MN_RULES | {"fuels": ["solar"]})
    instruction_create(organization=org, user=trader, generator=generator, fuel_type="",
                       from_vintage=month(2026), percentage=Decimal(50), destinations=[
                           DestinationChoice(kind=InstructionDestination.Kind.RETIREMENT, account=retirement_account,
                                             retirement=RetirementDetails(option=option, compliance_period=2025)),
                           DestinationChoice(kind=InstructionDestination.Kind.OWN_ACCOUNT, account=second_account)])
    from certificates.services import certificate_issue
    certificate = certificate_issue(user=staff, generator=generator, period=month(2026), quantity=100, account=account)
    with transaction.atomic(durable=True):
        [run] = instructions_run(certificate=certificate, user=staff)
    assert (run.status, run.transfer.kind) == (InstructionRun.Status.APPLIED, Transfer.Kind.INTERNAL)
    assert "Destination 1:" in run.message and "Minnesota RES 2025 accepts solar." in run.message
    assert not CertificateBatch.objects.filter(status="retired").exists()


# The Active tab's "Eligible for": the same rule as a filter

def test_the_active_tab_lists_only_the_batches_the_program_accepts(signed_in, trader, issue, option):
    accepted, old = issue(10, period=month(2022)), issue(10, period=month(2019))
    page = signed_in(trader).get(reverse("dashboard:certificates"), {"program": "mn-res-2025"}).content.decode()
    assert accepted.serial_number in page and old.serial_number not in page
    assert "Eligible for" in page and "Minnesota RES 2025" in page


FUELS, STATES, TECHNOLOGIES = ["wind", "solar", "biomass"], ["MN", "IA"], ["onshore_wind", "solar_pv", ""]


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(rules=st.fixed_dictionaries({
    "vintage_years_before": st.one_of(st.none(), st.integers(0, 6)),
    "vintage_from": st.one_of(st.none(), st.integers(2018, 2024).map(lambda year: datetime.date(year, 7, 1))),
    "fuels": st.lists(st.sampled_from(FUELS), unique=True, max_size=2),
    "technologies": st.lists(st.sampled_from(TECHNOLOGIES[:2]), unique=True, max_size=2),
    "states": st.lists(st.sampled_from(STATES), unique=True, max_size=1),
    "eligibilities": st.lists(st.sampled_from(["MN RES", "WI RPS", "Green-e"]), unique=True, max_size=2),
    "generators": st.lists(st.sampled_from(["P1", "P2", "P3"]), unique=True, max_size=2),
}))
def test_the_filter_and_the_problems_agree_on_every_batch(mixed_batches, rules):
    org, program = mixed_batches
    version = ProgramRules(program=program, **rules)
    batches = CertificateBatch.objects.filter(account__organization=org)
    filtered = set(batches.filter(version.batches_q()).values_list("pk", flat=True))
    refused = version.problems(batch_facts(batches.values_list("pk", flat=True), organization=org))
    assert filtered == set(batches.values_list("pk", flat=True)) - set(refused)


@pytest.fixture
def mixed_batches(org, staff, account, program, django_db_blocker):
    """Batches of every kind the rules tell apart: fuels, states, technologies, eligibilities, vintages."""
    from certificates.services import certificate_issue
    shapes = [("P1", "wind", "onshore_wind", "MN", ["MN RES"]), ("P2", "solar", "solar_pv", "IA", ["Green-e"]),
              ("P3", "biomass", "biomass_steam", "MN", [])]
    for code, fuel, technology, state, eligibilities in shapes:
        generator = GeneratorFactory(organization=org, code=code, fuel_type=fuel, technology=technology, state=state,
                                     eligibilities=eligibilities, account=account)
        for year, number in ((2017, 12), (2019, 6), (2021, 1), (2021, 7), (2024, 12)):
            certificate_issue(user=staff, generator=generator, period=month(year, number), quantity=5, account=account)
    return org, program


def test_a_closed_program_makes_nothing_eligible(org, staff, issue, program):
    issue(10, period=month(2022))
    program_retire(user=staff, program=program, close_date=timezone.localdate() - datetime.timedelta(days=1))
    assert not batches_eligible(CertificateBatch.objects.all(), program=program, now=timezone.now()).exists()
