"""Reads of programs: what their rules look at in batches, whether they accept them, and their history."""

import datetime
from collections.abc import Iterable
from typing import NamedTuple

from django.db.models import DateTimeField, QuerySet
from django.db.models.functions import Lower, Upper

from certificates.models import CertificateBatch
from certificates.periods import ProductionPeriod
from certificates.serials import format_serial
from ledger.models import LedgerEvent
from registry.models import Organization

from .models import Program, ProgramRules
from .values import BatchFacts

PROGRAM_KINDS = [LedgerEvent.Kind.PROGRAM_CREATED, LedgerEvent.Kind.PROGRAM_CHANGED, LedgerEvent.Kind.PROGRAM_RETIRED]


def batch_facts(batch_ids: Iterable[int], *, organization: Organization) -> list[BatchFacts]:
    """What a program's rules look at in each of the batches `organization` holds, in one query
    (bench/program_check.py); another's batch is left out, for the transfer service to refuse
    without naming it. The period is read as its two ends: psycopg's parsing of a range's text took
    a third of the check's time on a 1,000-batch retirement (45 ms to 32 ms, bench/README.md)."""
    moment = DateTimeField()
    rows = (CertificateBatch.objects.filter(pk__in=list(batch_ids), account__organization=organization).order_by()
            .annotate(start=Lower("certificate__period", output_field=moment),
                      end=Upper("certificate__period", output_field=moment))
            .values_list("pk", "certificate__serial_base", "serial_start", "serial_end", "start", "end",
                         "certificate__fuel_type", "certificate__generator__technology", "certificate__state",
                         "certificate__eligibilities", "certificate__generator__code"))
    return [BatchFacts(pk, format_serial(base, first, last), ProductionPeriod(start, end), fuel, technology, state,
                       tuple(eligibilities), code)
            for pk, base, first, last, start, end, fuel, technology, state, eligibilities, code in rows]


class ProgramRefusal(NamedTuple):
    """What a program refuses of a retirement: the whole of it (`program`: closed, or no rules in
    force yet) or some of its batches (`batches`: batch id -> why)."""

    program: str
    batches: dict[int, str]

    def __bool__(self) -> bool:
        return bool(self.program or self.batches)


def program_refusal(*, program: Program, organization: Organization, batch_ids: Iterable[int],
                    now: datetime.datetime) -> ProgramRefusal:
    """The one check of a retirement toward `program` at `now`: its close date, then the rules in
    force (ProgramRules.problems), asked by every retirement path through retirement_write (and by
    the wizard's step 2 and the mass validator before it, with the same words)."""
    if problem := program.closed_problem(now):
        return ProgramRefusal(problem, {})
    rules = program.rules_on(now)
    if rules is None:
        return ProgramRefusal(f"{program.name} has no rules in force yet; it accepts no retirements until they "
                              "take effect.", {})
    rules.program = program
    # The database finds the batches the rules refuse (batches_q, the same checks as problems(): a
    # test holds them equal); only those are read and worded. An accepted retirement, the usual
    # case, reads no batch's facts (bench/program_check.py: the check of 1,000 batches, 50 ms to
    # see bench/README.md).
    held = CertificateBatch.objects.filter(pk__in=list(batch_ids), account__organization=organization)
    refused = list(held.exclude(rules.batches_q()).order_by().values_list("pk", flat=True))
    if not refused:
        return ProgramRefusal("", {})
    return ProgramRefusal("", rules.problems(batch_facts(refused, organization=organization)))


def batches_eligible(queryset: QuerySet[CertificateBatch], *, program: Program,
                     now: datetime.datetime) -> QuerySet[CertificateBatch]:
    """The batches of `queryset` that a retirement toward `program` at `now` would be accepted with:
    program_refusal's rule as a filter (ProgramRules.batches_q), for the Active tab's "Eligible for"."""
    rules = None if program.is_closed(now) else program.rules_on(now)
    if rules is None:
        return queryset.none()
    rules.program = program
    return queryset.filter(rules.batches_q())


def program_history(program: Program) -> tuple[list[ProgramRules], list[LedgerEvent]]:
    """A program's rule versions, newest first, and its ledger events (created, changed, retired)."""
    versions = list(program.rule_versions.select_related("created_by", "program").order_by("-effective_from"))
    events = list(LedgerEvent.objects.filter(kind__in=PROGRAM_KINDS, after__program_id=program.pk)
                  .select_related("actor").order_by("-pk"))
    return versions, events
