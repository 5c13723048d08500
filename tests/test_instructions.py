"""Standing transfers and retirements: what each shape of instruction does with a new issuance,
the rounding, the fallback through destinations by priority, and the refusals."""

import datetime
import itertools
import re
from decimal import Decimal
from io import StringIO

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.models import Account
from accounts.services import account_close
from certificates.models import CertificateBatch
from certificates.periods import ProductionPeriod
from certificates.services import certificate_issue, certificate_write
from events.models import Event
from events.services import events_consume
from instructions.models import InstructionDestination, InstructionRun, StandingInstruction
from instructions.selectors import instructions_for, runs_for_certificate
from instructions.services import (
    DestinationChoice,
    InstructionRefused,
    instruction_create,
    instruction_end,
    instruction_lift_irrevocable,
    instructions_run,
    instructions_run_all,
)
from ledger.models import LedgerEvent
from registry.models import Membership
from registry.services import organization_set_status
from retirements.services import RetirementDetails
from transfers.models import Transfer
from transfers.services import transfer_accept

from .factories import AccountFactory, GeneratorFactory, RetirementOptionFactory, member

Kind = InstructionDestination.Kind
JAN_2026 = ProductionPeriod.month(2026, 1)


def own(account):
    return DestinationChoice(kind=Kind.OWN_ACCOUNT, account=account)


def to(organization):
    return DestinationChoice(kind=Kind.ORGANIZATION, recipient=organization)


def retire_into(account, **details):
    details = {"option": RetirementOptionFactory(), **details}
    return DestinationChoice(kind=Kind.RETIREMENT, account=account, retirement=RetirementDetails(**details))


@pytest.fixture
def instruct(org, trader, generator):
    """instruct(destinations..., percentage=.. or maximum=.., **more) -> a new instruction of `org`."""
    def _instruct(*destinations, generator=generator, fuel_type="", from_vintage=JAN_2026, user=trader, **share):
        if fuel_type:
            generator = None
        return instruction_create(organization=org, user=user, generator=generator, fuel_type=fuel_type,
                                  from_vintage=from_vintage, destinations=list(destinations), **share)
    return _instruct


@pytest.fixture
def issue_and_run(staff, generator, account):
    """Issue `quantity` (durably, as staff do today), then run the instructions in a transaction of
    their own, as the issuance run will right after its issuance."""
    months = itertools.count()

    def _issue(quantity=1000, *, period=None, generator=generator):
        if period is None:
            n = next(months)
            period = ProductionPeriod.month(2026 + n // 12, n % 12 + 1)
        certificate = certificate_issue(user=staff, generator=generator, period=period, quantity=quantity,
                                        account=generator.account or account)
        with transaction.atomic(durable=True):
            runs = instructions_run(certificate=certificate, user=staff)
        return certificate, runs
    return _issue


def held(certificate):
    """Where the certificate's live batches are: {(account id, status): quantity}."""
    found = {}
    for batch in CertificateBatch.objects.filter(certificate=certificate).live():
        found[(batch.account_id, batch.status)] = found.get((batch.account_id, batch.status), 0) + batch.quantity
    return found


def assert_ledger_clean():
    out = StringIO()
    call_command("verify_ledger", stdout=out)  # exits non-zero (SystemExit) on a breach


# Shapes

def test_a_percentage_of_each_issuance_moves_to_an_own_account(instruct, issue_and_run, account, second_account):
    instruct(own(second_account), percentage=Decimal("60"))
    certificate, [run] = issue_and_run(1000)
    assert held(certificate) == {(second_account.pk, "active"): 600, (account.pk, "active"): 400}
    assert (run.status, run.quantity_asked, run.quantity_moved, run.transfer.kind, run.transfer.status) == (
        "applied", 600, 600, "internal", "complete")
    first = CertificateBatch.objects.get(certificate=certificate, account=second_account)
    assert (first.serial_start, first.serial_end) == (1, 600)  # the lowest serials move
    assert_ledger_clean()


def test_a_60_percent_transfer_to_another_organization_lands_pending_at_the_recipient(
        instruct, issue_and_run, account, counterparty, counterparty_trader, counterparty_account):
    instruct(to(counterparty), percentage=Decimal("60"))
    certificate, [run] = issue_and_run(1001)
    assert run.quantity_moved == 600  # floor(1001 × 60 / 100) = 600; the 1 rounded off stays
    assert run.transfer.status == Transfer.Status.PENDING
    assert run.transfer.recipient_organization == counterparty
    assert held(certificate) == {(account.pk, "pending"): 600, (account.pk, "active"): 401}
    transfer_accept(transfer=run.transfer, user=counterparty_trader, organization=counterparty,
                    account=counterparty_account)
    assert held(certificate) == {(counterparty_account.pk, "active"): 600, (account.pk, "active"): 401}
    assert_ledger_clean()


def test_a_maximum_moves_at_most_that_many(instruct, issue_and_run, account, second_account):
    instruct(own(second_account), maximum=250)
    certificate, [run] = issue_and_run(1000)
    assert run.quantity_moved == 250
    small, [run] = issue_and_run(100)
    assert (run.quantity_asked, run.quantity_moved) == (250, 100)
    assert held(small) == {(second_account.pk, "active"): 100}


def test_a_retirement_with_its_option_and_beneficiary(instruct, issue_and_run, retirement_account, account):
    option = RetirementOptionFactory(name="Green-e Energy", type="green_e", reason="voluntary",
                                     requires_compliance_period=False, requires_beneficiary=True)
    instruct(retire_into(retirement_account, option=option, beneficiary="City of Duluth"), percentage=Decimal("25"))
    certificate, [run] = issue_and_run(1000, period=ProductionPeriod.month(2026, 3))
    retirement = run.transfer.retirement
    assert (run.transfer.kind, retirement.option, retirement.beneficiary, retirement.compliance_period) == (
        "retirement", option, "City of Duluth", 2026)  # no period given: the vintage's year
    assert held(certificate) == {(retirement_account.pk, "retired"): 250, (account.pk, "active"): 750}
    assert LedgerEvent.objects.filter(kind=LedgerEvent.Kind.RETIREMENT, transfer=run.transfer).exists()


def test_a_fuel_instruction_takes_from_each_generator_of_that_fuel(org, instruct, issue_and_run, second_account,
                                                                     account):
    solar = GeneratorFactory(organization=org, code="M833", fuel_type="solar", account=account)
    other_wind = GeneratorFactory(organization=org, code="M834", fuel_type="wind", account=account)
    instruct(own(second_account), fuel_type="wind", percentage=Decimal("10"))
    _, [run] = issue_and_run(1000, generator=other_wind)
    assert run.quantity_moved == 100
    _, runs = issue_and_run(1000, generator=solar)
    assert runs == []


def test_another_organization_s_fuel_instruction_does_not_touch_our_issuance(
        instruct, issue_and_run, counterparty, counterparty_account, staff):
    manager = member(counterparty, Membership.Role.MANAGER)
    instruction_create(organization=counterparty, user=manager, fuel_type="wind", from_vintage=JAN_2026,
                       destinations=[own(AccountFactory(organization=counterparty))], maximum=5)
    _, runs = issue_and_run(100)
    assert runs == []


def test_vintages_before_from_and_after_until_are_left_alone(org, trader, generator, issue_and_run, second_account):
    instruction_create(organization=org, user=trader, generator=generator, from_vintage=ProductionPeriod.month(2026, 2),
                       until_vintage=ProductionPeriod.month(2026, 3), percentage=Decimal(50),
                       destinations=[own(second_account)])
    moved = {period.first_day.month: [run.quantity_moved for run in issue_and_run(100, period=period)[1]]
             for period in [ProductionPeriod.month(2026, month) for month in (1, 2, 3, 4)]}
    assert moved == {1: [], 2: [50], 3: [50], 4: []}


def test_ended_instructions_are_ignored(instruct, issue_and_run, trader, org, second_account):
    instruction = instruct(own(second_account), percentage=Decimal(50))
    instruction_end(instruction=instruction, user=trader, organization=org)
    _, runs = issue_and_run(100)
    assert runs == []
    assert StandingInstruction.objects.get().status == "ended"


def test_several_instructions_run_oldest_first_each_taking_from_what_is_left(
        instruct, issue_and_run, account, second_account, counterparty):
    first = instruct(own(second_account), maximum=700)
    second = instruct(to(counterparty), percentage=Decimal(50))
    certificate, runs = issue_and_run(1000)
    assert [(run.instruction, run.quantity_asked, run.quantity_moved, run.status) for run in runs] == [
        (first, 700, 700, "applied"), (second, 500, 300, "applied")]
    assert held(certificate) == {(second_account.pk, "active"): 700, (account.pk, "pending"): 300}
    assert [run.instruction_id for run in runs_for_certificate(certificate)] == [first.pk, second.pk]


def test_a_percentage_that_rounds_down_to_nothing_is_skipped_without_a_notice(instruct, issue_and_run,
                                                                               second_account):
    instruct(own(second_account), percentage=Decimal("0.5"))
    _, [run] = issue_and_run(100)
    assert (run.status, run.quantity_asked, run.tell_owner) == ("skipped", 0, False)
    assert "rounds down to 0" in run.message


# Destinations by priority

def test_the_next_destination_receives_when_the_first_account_closed(instruct, issue_and_run, org, manager,
                                                                       second_account, retirement_account):
    instruct(own(second_account), retire_into(retirement_account), percentage=Decimal(40))
    account_close(user=manager, organization=org, account=second_account)
    certificate, [run] = issue_and_run(100)
    assert (run.status, run.destination.priority, run.transfer.kind) == ("applied", 2, "retirement")
    assert "not an open active account" in run.message
    assert held(certificate)[(retirement_account.pk, "retired")] == 40


def test_the_next_destination_receives_when_the_first_organization_is_suspended(
        instruct, issue_and_run, staff, counterparty, second_account):
    instruct(to(counterparty), own(second_account), percentage=Decimal(60))
    organization_set_status(user=staff, organization=counterparty, status="suspended")
    _, [run] = issue_and_run(100)
    assert (run.destination.priority, run.transfer.kind, run.quantity_moved) == (2, "internal", 60)
    assert "is suspended" in run.message


def test_skipped_when_no_destination_can_receive_and_the_managers_are_told(
        instruct, issue_and_run, staff, org, manager, account, counterparty, second_account,
        django_capture_on_commit_callbacks):
    instruct(to(counterparty), own(second_account), percentage=Decimal(60))
    organization_set_status(user=staff, organization=counterparty, status="suspended")
    account_close(user=manager, organization=org, account=second_account)
    before = LedgerEvent.objects.count()
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        certificate, [run] = issue_and_run(100)
    assert (run.status, run.quantity_moved, run.transfer, run.tell_owner) == ("skipped", 0, None, True)
    assert held(certificate) == {(account.pk, "active"): 100}  # stays where it was issued
    assert LedgerEvent.objects.count() == before + 1  # the issuance alone
    assert "No destination could receive" in run.message and "suspended" in run.message
    [notice] = [m for m in mail.outbox if "skipped" in m.subject]
    assert notice.to == [manager.email]
    assert certificate.serial_base in notice.body
    [skipped] = Event.objects.filter(kind=Event.Kind.INSTRUCTIONS_SKIPPED)  # recorded with the run
    assert (skipped.organization_id, skipped.data) == (org.pk, {"run_ids": [InstructionRun.objects.get().pk]})
    assert events_consume(consumer="emails") == 0  # told once: a second run (beat's) sends nothing
    assert len([m for m in mail.outbox if "skipped" in m.subject]) == 1
    assert_ledger_clean()


def test_a_creator_who_may_no_longer_transfer_is_skipped_and_the_owner_told(
        instruct, issue_and_run, trader, org, second_account, manager, django_capture_on_commit_callbacks):
    instruct(own(second_account), percentage=Decimal(50))
    Membership.objects.filter(user=trader).update(role=Membership.Role.VIEWER)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        _, [run] = issue_and_run(100)
    assert (run.status, run.tell_owner) == ("skipped", True)
    assert "may no longer transfer" in run.message
    assert any(manager.email in m.to for m in mail.outbox)


# Inside the issuance's transaction

def test_runs_inside_the_issuance_s_transaction_and_a_refusal_does_not_abort_it(
        instruct, staff, generator, account, counterparty, second_account, manager, org):
    instruct(to(counterparty), own(second_account), percentage=Decimal(30))
    counterparty.accounts.update(status=Account.Status.CLOSED)  # it can no longer receive: refused
    with transaction.atomic(durable=True):
        certificate = certificate_write(user=staff, generator=generator, period=JAN_2026,
                                                    quantity=500, account=account)
        [run] = instructions_run(certificate=certificate)
        assert run.destination.priority == 2
    assert held(certificate) == {(second_account.pk, "active"): 150, (account.pk, "active"): 350}
    assert_ledger_clean()


# Several issuances at once (as an issuance run applies them)

def issue_together(staff, generators, quantities, period=JAN_2026):
    """Issue one certificate for each generator, then run their instructions together, in one
    transaction (as the issuance run does for a chunk of generators)."""
    with transaction.atomic(durable=True):
        certificates = [certificate_write(user=staff, generator=generator, period=period, quantity=quantity,
                                          account=generator.account) for generator, quantity in
                        zip(generators, quantities, strict=True)]
        runs = instructions_run_all(certificates=certificates, user=staff)
    return certificates, runs


def test_the_moves_of_several_issuances_to_one_destination_travel_in_one_transfer(
        org, instruct, staff, account, counterparty, retirement_account):
    generators = [GeneratorFactory(organization=org, code=f"M90{n}", fuel_type="wind", account=account)
                  for n in range(3)]
    sale = instruct(to(counterparty), fuel_type="wind", percentage=Decimal(50))
    retirement = instruct(retire_into(retirement_account), fuel_type="wind", maximum=100)
    certificates, runs = issue_together(staff, generators, [1001, 150, 30])

    # by issuance, then by instruction (oldest first), each taking from what the one before left
    assert [(run.certificate, run.instruction, run.quantity_moved) for run in runs] == [
        (certificates[0], sale, 500), (certificates[0], retirement, 100),
        (certificates[1], sale, 75), (certificates[1], retirement, 75),
        (certificates[2], sale, 15), (certificates[2], retirement, 15)]
    pending, retired = Transfer.objects.order_by("pk")
    assert {run.transfer for run in runs if run.instruction == sale} == {pending}
    assert {run.transfer for run in runs if run.instruction == retirement} == {retired}
    assert (pending.status, pending.items.count(), retired.kind, retired.items.count()) == (
        "pending", 3, "retirement", 3)
    assert held(certificates[0]) == {(account.pk, "pending"): 500, (retirement_account.pk, "retired"): 100,
                                     (account.pk, "active"): 401}
    assert held(certificates[2]) == {(account.pk, "pending"): 15, (retirement_account.pk, "retired"): 15}
    # each says what it is and what it carries; only the sender's own retirement names its instruction
    sources = "; ".join(f"{generator.name} ({generator.code}), 01/2026" for generator in generators)
    assert pending.notes == f"Standing delivery from {sources}"
    assert retired.notes == f"Standing retirement from {sources} (standing instruction {retirement.pk})"
    assert InstructionRun.objects.count() == 6
    assert_ledger_clean()


@pytest.mark.django_db(transaction=True)
def test_the_recipient_reads_a_standing_delivery_of_which_generator_and_month_not_the_senders_number(
        instruct, issue_and_run, counterparty, counterparty_trader, signed_in):
    instruction = instruct(to(counterparty), percentage=Decimal("60"))
    mail.outbox.clear()
    certificate, [run] = issue_and_run(1000)
    note = "Standing delivery from Prairie Ridge Wind (M805), 01/2026"
    assert run.transfer.notes == note
    [email] = [message for message in mail.outbox if message.to == [counterparty_trader.email]]
    assert f"Notes: {note}\n" in email.body
    page = signed_in(counterparty_trader).get(f"/transfers/{run.transfer.pk}/").content.decode()
    assert note in page
    assert not re.search(rf"\binstruction {instruction.pk}\b", email.body + page, re.IGNORECASE)


def test_an_own_account_transfer_names_the_instructions_and_each_generator_its_months(
        org, instruct, staff, account, second_account):
    solar = GeneratorFactory(organization=org, code="M950", name="Mower County Solar", fuel_type="solar",
                             account=account)
    hydro = GeneratorFactory(organization=org, code="M951", name="St. Croix Falls Hydro", fuel_type="hydro",
                             account=account)
    first = instruct(own(second_account), generator=solar, maximum=10)
    second = instruct(own(second_account), generator=hydro, maximum=5)
    with transaction.atomic(durable=True):
        certificates = [certificate_write(user=staff, generator=generator, period=ProductionPeriod.month(2026, month),
                                          quantity=100, account=account)
                        for generator, month in [(solar, 3), (solar, 2), (hydro, 2)]]
        instructions_run_all(certificates=certificates, user=staff)
    assert Transfer.objects.get().notes == (
        "Standing transfer from Mower County Solar (M950), 02/2026, 03/2026; St. Croix Falls Hydro (M951), "
        f"02/2026 (standing instructions {first.pk}, {second.pk})")


def test_a_delivery_from_too_many_generators_to_name_in_the_notes_counts_them(
        org, instruct, staff, account, counterparty):
    generators = [GeneratorFactory(organization=org, code=f"M7{n:02}", fuel_type="wind", account=account,
                                   name=f"A generator with a long name to fill the notes, number {n}")
                  for n in range(12)]
    instruct(to(counterparty), fuel_type="wind", maximum=10)
    issue_together(staff, generators, [100] * 12)
    assert Transfer.objects.get().notes == (
        "Standing delivery from 12 generators, 01/2026 (each batch names its generator and vintage)")


def test_a_shared_transfer_refused_as_a_whole_falls_back_instruction_by_instruction(
        org, instruct, staff, account, second_account, retirement_account):
    generators = [GeneratorFactory(organization=org, code="M910", fuel_type="wind", account=account),
                  GeneratorFactory(organization=org, code="M911", fuel_type="wind", account=second_account),
                  GeneratorFactory(organization=org, code="M912", fuel_type="wind", account=account)]
    instruct(own(second_account), retire_into(retirement_account), fuel_type="wind", percentage=Decimal(40))
    certificates, runs = issue_together(staff, generators, [100, 100, 100])

    # M911 is issued into second_account already: that refuses the shared transfer; on their own,
    # the others reach destination 1 and M911's goes to destination 2, saying why.
    assert [(run.status, run.destination.priority, run.quantity_moved) for run in runs] == [
        ("applied", 1, 40), ("applied", 2, 40), ("applied", 1, 40)]
    assert "Destination 1: Batch" in runs[1].message and "is already in account" in runs[1].message
    assert runs[0].message == runs[2].message == ""
    assert held(certificates[1]) == {(retirement_account.pk, "retired"): 40, (second_account.pk, "active"): 60}
    assert held(certificates[0]) == {(second_account.pk, "active"): 40, (account.pk, "active"): 60}
    assert len({run.transfer for run in runs}) == 3
    assert_ledger_clean()


# Conservation, whatever the shapes

HYPOTHESIS_MONTHS = itertools.count()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(quantity=st.integers(1, 10**6),
       shares=st.lists(st.one_of(st.decimals(min_value=Decimal("0.01"), max_value=100, places=2),
                                 st.integers(1, 10**6)), min_size=1, max_size=3))
def test_moved_plus_left_is_always_what_was_issued(org, trader, generator, account, second_account, staff,
                                                    quantity, shares):
    n = next(HYPOTHESIS_MONTHS)  # examples share the test's database: each its own vintage
    vintage = datetime.date(1900 + n // 12, n % 12 + 1, 1)
    instructions = []
    budget = Decimal(100)
    for share in shares:
        if isinstance(share, Decimal):
            share = min(share, budget)
            if share <= 0:
                continue
            budget -= share
            kwargs = {"percentage": share}
        else:
            kwargs = {"maximum": share}
        instructions.append(instruction_create(organization=org, user=trader, generator=generator,
                                               from_vintage=JAN_2026, destinations=[own(second_account)], **kwargs))
    StandingInstruction.objects.filter(pk__in=[i.pk for i in instructions]).update(from_vintage=vintage)
    certificate = certificate_issue(user=staff, generator=generator, period=ProductionPeriod.month_of(vintage),
                                    quantity=quantity,
                                    account=account)
    with transaction.atomic():
        runs = instructions_run(certificate=certificate)
    moved = sum(run.quantity_moved for run in runs)
    where = held(certificate)
    assert all(run.quantity_moved >= 0 and run.quantity_moved <= run.quantity_asked for run in runs)
    assert where.get((second_account.pk, "active"), 0) == moved
    assert where.get((account.pk, "active"), 0) == quantity - moved
    for run, instruction in zip(runs, instructions, strict=True):
        if instruction.percentage is not None:
            assert run.quantity_asked == quantity * instruction.percentage // 100
    StandingInstruction.objects.filter(pk__in=[i.pk for i in instructions]).update(
        status="ended", ended_at=certificate.issued_at)


# Refusals

def test_percentages_over_100_in_total_are_refused_with_a_clear_message(instruct, org, trader, second_account):
    instruct(own(second_account), percentage=Decimal(60))
    instruct(own(second_account), fuel_type="wind", percentage=Decimal(30))
    with pytest.raises(InstructionRefused, match=r"already take 90%.*they would take 110%"):
        instruct(own(second_account), percentage=Decimal(20))
    assert StandingInstruction.objects.count() == 2


def test_percentages_of_instructions_whose_vintages_do_not_overlap_may_add_up_to_more(
        org, trader, generator, second_account):
    instruction_create(organization=org, user=trader, generator=generator, from_vintage=JAN_2026,
                       until_vintage=ProductionPeriod.month(2026, 6), percentage=Decimal(80),
                       destinations=[own(second_account)])
    instruction_create(organization=org, user=trader, generator=generator, from_vintage=ProductionPeriod.month(2026, 7),
                       percentage=Decimal(80), destinations=[own(second_account)])
    with pytest.raises(InstructionRefused, match="110%"):
        instruction_create(organization=org, user=trader, generator=generator,
                           from_vintage=ProductionPeriod.month(2026, 9), percentage=Decimal(30),
                           destinations=[own(second_account)])


def test_an_ended_instruction_s_percentage_no_longer_counts(instruct, org, trader, second_account):
    instruction = instruct(own(second_account), percentage=Decimal(100))
    instruction_end(instruction=instruction, user=trader, organization=org)
    assert instruct(own(second_account), percentage=Decimal(100)).percentage == 100


@pytest.mark.parametrize("share, message", [
    ({"percentage": Decimal(0)}, "more than 0 and at most 100"),
    ({"percentage": Decimal("100.01")}, "more than 0 and at most 100"),
    ({"percentage": Decimal("12.345")}, "at most two decimals"),
    ({"maximum": 0}, "at least 1"),
    ({"percentage": Decimal(5), "maximum": 5}, "not both"),
    ({}, "not both"),
])
def test_bad_shares_are_refused(instruct, second_account, share, message):
    with pytest.raises(InstructionRefused, match=message):
        instruct(own(second_account), **share)
    assert not StandingInstruction.objects.exists()


def test_bad_destinations_are_refused_naming_the_destination(instruct, org, account, second_account, counterparty,
                                                             outsider, newcomer, retirement_account, generator):
    generator.account = account
    cases = [
        ([own(second_account), own(AccountFactory())], "Destination 2: Account .* is not one of Prairie"),
        ([own(retirement_account)], "Destination 1: Account .* is not an open active account"),
        ([to(org)], "Destination 1: This is your own organization"),
        ([to(newcomer)], "Destination 1: .* has no account that can receive"),
        ([retire_into(second_account)], "Destination 1: Account .* is not an open retirement account"),
        ([retire_into(retirement_account, beneficiary="", option=RetirementOptionFactory(
            name="Green-e", type="green_e", reason="voluntary", requires_beneficiary=True))],
         "Destination 1: Green-e needs the name of the beneficiary"),
        ([own(account)], "issued into account .* already"),
        ([], "at least one destination"),
    ]
    for destinations, message in cases:
        with pytest.raises(InstructionRefused, match=message):
            instruct(*destinations, percentage=Decimal(10))
    assert not StandingInstruction.objects.exists()


def test_a_viewer_cannot_set_an_instruction(instruct, viewer, second_account):
    with pytest.raises(Exception, match="not allowed to transfer"):
        instruct(own(second_account), percentage=Decimal(10), user=viewer)


def test_another_organization_s_generator_is_refused(instruct, second_account, foreign_batch):
    with pytest.raises(InstructionRefused, match="is not one of"):
        instruct(own(second_account), generator=foreign_batch.certificate.generator, percentage=Decimal(10))


# Irrevocable

def test_an_irrevocable_instruction_is_refused_to_its_owner_and_lifted_by_staff(instruct, trader, org, staff,
                                                                                 second_account):
    instruction = instruct(own(second_account), percentage=Decimal(50), irrevocable=True)
    with pytest.raises(InstructionRefused, match="irrevocable"):
        instruction_end(instruction=instruction, user=trader, organization=org)
    with pytest.raises(Exception, match="Only registry staff"):
        instruction_lift_irrevocable(instruction=instruction, user=trader)
    instruction_lift_irrevocable(instruction=instruction, user=staff, note="Both parties agreed in writing.")
    event = LedgerEvent.objects.get(kind=LedgerEvent.Kind.INSTRUCTION_LIFTED)
    assert (event.actor, event.organization_id, event.note) == (staff, org.pk, "Both parties agreed in writing.")
    instruction_end(instruction=instruction, user=trader, organization=org)
    assert StandingInstruction.objects.get().status == "ended"


def test_ending_twice_and_another_organization_s_instruction_are_refused(instruct, trader, org, second_account,
                                                                          outsider):
    instruction = instruct(own(second_account), percentage=Decimal(50))
    outsider_org = outsider.memberships.get().organization
    with pytest.raises(InstructionRefused, match="no such instruction"):
        instruction_end(instruction=instruction, user=outsider, organization=outsider_org)
    instruction_end(instruction=instruction, user=trader, organization=org)
    with pytest.raises(InstructionRefused, match="already ended"):
        instruction_end(instruction=instruction, user=trader, organization=org)


def test_setting_and_ending_are_in_the_ledger(instruct, trader, org, second_account):
    instruction = instruct(own(second_account), percentage=Decimal("12.5"))
    instruction_end(instruction=instruction, user=trader, organization=org)
    created, ended = LedgerEvent.objects.filter(kind__startswith="instruction_").order_by("pk")
    assert created.after["share"] == "12.5%" and created.actor == trader
    assert ended.after == {"instruction": instruction.pk, "status": "ended"}


def test_instructions_for_reads_a_whole_run_in_a_fixed_number_of_queries(org, instruct, staff, account,
                                                                         second_account, django_assert_num_queries):
    generators = [GeneratorFactory(organization=org, account=account, code=f"T{n}") for n in range(5)]
    for generator in generators:
        instruct(own(second_account), generator=generator, percentage=Decimal(10))
    instruct(own(second_account), fuel_type="wind", maximum=5)
    certificates = [certificate_issue(user=staff, generator=g, period=JAN_2026, quantity=10, account=account)
                    for g in generators]
    with django_assert_num_queries(5):  # instructions, destinations, organizations, users, accounts (no options)
        found = instructions_for(certificates)
    assert {len(found[c.pk]) for c in certificates} == {2}
    with django_assert_num_queries(0):
        assert {d.account.name for i in found[certificates[0].pk] for d in i.destinations.all()} == {"Trading"}
        assert {(i.organization.name, i.created_by.email) for i in found[certificates[0].pk]} == {
            (org.name, "trader@prairiewind.example")}
