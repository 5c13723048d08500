"""Programs, kept by registry staff: create, change (a new version of the rules, never an edit) and
retire (close) them, each a ledger event in the same transaction; and the close date's freeze of a
program's retirement accounts."""

import datetime
from collections.abc import Mapping

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import Account
from accounts.services import account_status_write
from certificates.models import FuelType, Generator, StateOrProvince, Technology
from ledger.models import LedgerEvent
from ledger.services import ledger_record
from registry.models import User
from registry.services import ServiceError, staff_require
from utilities.display import date_text

from .models import Program, ProgramAccount, ProgramRules

PROGRAM_FIELDS = ("code", "name", "kind", "jurisdiction", "compliance_year", "close_date")
RULE_FIELDS = ("vintage_years_before", "vintage_from", "vintage_to", "fuels", "technologies", "states",
               "eligibilities", "generators")
LISTS = {"fuels": FuelType, "technologies": Technology, "states": StateOrProvince}


class ProgramRefused(ServiceError):
    """A change to a program that its rules refuse: the message names what to change."""


def _plain(value):
    """A value as the ledger's JSON keeps it."""
    return value.isoformat() if isinstance(value, datetime.date) else value


def _program_record(program: Program) -> dict:
    return {field: _plain(getattr(program, field)) for field in PROGRAM_FIELDS}


def _rules_record(rules: Mapping) -> dict:
    return {field: _plain(rules.get(field)) if field.startswith("vintage") else list(rules.get(field) or [])
            for field in RULE_FIELDS}


def _rules_of(version: ProgramRules | None) -> dict:
    return _rules_record({field: getattr(version, field) for field in RULE_FIELDS}) if version else {}


def rules_check(rules: Mapping, *, compliance_year: int | None) -> dict:
    """The rules as a version stores them (lists sorted, no repeats, vintages as first days of their
    months), or ProgramRefused naming what is wrong."""
    checked = {}
    for field in RULE_FIELDS:
        value = rules.get(field)
        if field.startswith("vintage_") and field != "vintage_years_before":
            checked[field] = value.replace(day=1) if value else None
        elif field == "vintage_years_before":
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 100):
                raise ProgramRefused("The vintage window is a whole number of years, from 0 to 100.")
            checked[field] = value
        else:  # in the registry's order of its choices (wind, solar, hydro), or alphabetical
            order = list(LISTS[field].values) if field in LISTS else []
            checked[field] = sorted({item.strip() for item in value or [] if item.strip()},
                                    key=lambda item: (order.index(item) if item in order else len(order), item))
    for field, choices in LISTS.items():
        if unknown := [value for value in checked[field] if value not in choices.values]:
            raise ProgramRefused(f"{', '.join(unknown)}: not one of the registry's {field}.")
    if checked["vintage_years_before"] is not None and compliance_year is None:
        raise ProgramRefused("A vintage window in years before the compliance year needs the program's "
                             "compliance year.")
    if checked["vintage_from"] and checked["vintage_to"] and checked["vintage_from"] > checked["vintage_to"]:
        raise ProgramRefused("The earliest vintage must not be after the latest.")
    known = set(Generator.objects.filter(code__in=checked["generators"]).values_list("code", flat=True))
    if unknown := [code for code in checked["generators"] if code not in known]:
        raise ProgramRefused(f"No generator has the ID {', '.join(unknown)}.")
    return checked


def _program_fields_check(fields: Mapping) -> None:
    if not (fields.get("code") or "").strip() or not (fields.get("name") or "").strip():
        raise ProgramRefused("Give the program a code and a name.")
    if fields.get("kind") not in Program.Kind.values:
        raise ProgramRefused("Choose the program's kind: compliance or voluntary.")


def _saved(write, fields: Mapping):
    """`write()`, with a taken code or name refused in words (the unique constraints settle a race)."""
    try:
        with transaction.atomic():
            return write()
    except IntegrityError as error:
        raise ProgramRefused(f"Another program is already named {fields['name']} or has the code "
                             f"{fields['code']}.") from error


@transaction.atomic  # the admin's save runs in its own transaction
def program_create(*, user: User, fields: Mapping, rules: Mapping, note: str = "") -> Program:
    """A new program (registry staff), with its first rules in force from now."""
    staff_require(user=user)
    _program_fields_check(fields)
    checked = rules_check(rules, compliance_year=fields.get("compliance_year"))
    now = timezone.now()
    program = _saved(lambda: Program.objects.create(created_at=now, **{f: fields.get(f) for f in PROGRAM_FIELDS}),
                     fields)
    ProgramRules.objects.create(program=program, effective_from=now, created_at=now, created_by=user, note=note,
                                **checked)
    ledger_record(kind=LedgerEvent.Kind.PROGRAM_CREATED, actor=user, note=note,
                  after={"program_id": program.pk, "program": _program_record(program),
                         "rules": _rules_record(checked), "effective_from": now.isoformat()})
    return program


def _program_lock(program: Program) -> Program:
    current = Program.objects.select_for_update().filter(pk=program.pk).first()
    if current is None:
        raise ProgramRefused("There is no such program.")
    return current


@transaction.atomic  # the admin's save runs in its own transaction
def program_change(*, user: User, program: Program, fields: Mapping, rules: Mapping | None = None,
                   effective_from: datetime.datetime | None = None, note: str = "") -> Program:
    """Change a program (registry staff): its own fields in place, its rules by a new version in
    force from `effective_from` (now, or later: never in the past, which would change what
    retirements already made were checked against). One ledger event, before and after."""
    staff_require(user=user)
    current = _program_lock(program)
    now = timezone.now()
    effective_from = effective_from or now
    if effective_from < now - datetime.timedelta(minutes=1):  # a form filled in a minute ago is "now"
        raise ProgramRefused("New rules take effect now or later, never in the past.")
    effective_from = max(effective_from, now)
    wanted = {field: fields.get(field, getattr(current, field)) for field in PROGRAM_FIELDS}
    _program_fields_check(wanted)
    changed = {field: value for field, value in wanted.items() if getattr(current, field) != value}
    in_force = current.rule_versions.order_by("-effective_from").first()  # the newest, even if still to come
    if rules is None:  # the rules as they are, checked again against the program's new fields
        rules = {field: getattr(in_force, field) for field in RULE_FIELDS} if in_force else {}
    checked = rules_check(rules, compliance_year=wanted["compliance_year"])
    new_rules = _rules_record(checked) != _rules_of(in_force)
    if not changed and not new_rules:
        raise ProgramRefused(f"Nothing changed: {current.name} already has these details and rules.")
    before, after = {"program_id": current.pk}, {"program_id": current.pk}
    if changed:
        before["program"] = {field: _plain(getattr(current, field)) for field in changed}
        after["program"] = {field: _plain(value) for field, value in changed.items()}
        _saved(lambda: Program.objects.filter(pk=current.pk).update(**changed), wanted)
    if new_rules:
        if in_force is not None and effective_from <= in_force.effective_from:
            raise ProgramRefused(f"Rules taking effect on {date_text(in_force.effective_from)} are already set; "
                                 "new rules take effect after them.")
        ProgramRules.objects.create(program=current, effective_from=effective_from, created_at=now, created_by=user,
                                    note=note, **checked)
        before["rules"], after["rules"] = _rules_of(in_force), _rules_record(checked)
        after["effective_from"] = effective_from.isoformat()
    ledger_record(kind=LedgerEvent.Kind.PROGRAM_CHANGED, actor=user, note=note, before=before, after=after)
    for field, value in changed.items():
        setattr(program, field, value)
    return program


@transaction.atomic(durable=True)
def program_retire(*, user: User, program: Program, close_date: datetime.date, note: str = "") -> Program:
    """Retire a program (registry staff): it closes on `close_date` (the last day retirements count
    toward it); the next day its retirement accounts freeze (program_accounts_freeze)."""
    staff_require(user=user)
    current = _program_lock(program)
    if current.close_date is not None and current.close_date <= close_date:
        raise ProgramRefused(f"{current.name} already closes on {date_text(current.close_date)}.")
    Program.objects.filter(pk=current.pk).update(close_date=close_date)
    ledger_record(kind=LedgerEvent.Kind.PROGRAM_RETIRED, actor=user, note=note,
                  before={"program_id": current.pk, "program": {"close_date": _plain(current.close_date)}},
                  after={"program_id": current.pk, "program": {"close_date": close_date.isoformat()}})
    program.close_date = close_date
    return program


def program_accounts_freeze(*, now: datetime.datetime) -> int:
    """Freeze the open retirement accounts of every program closed at `now` (each with its ledger
    event, by the registry itself, in a transaction of its own). Run by beat; idempotent. Returns
    how many were frozen."""
    frozen = 0
    links = (ProgramAccount.objects.filter(account__status=Account.Status.OPEN, program__close_date__isnull=False)
             .select_related("program", "account"))
    for link in links:
        if not link.program.is_closed(now):
            continue
        try:
            with transaction.atomic(durable=True):
                account_status_write(actor=None, account=link.account, status=Account.Status.FROZEN,
                                     note=f"{link.program.name} closed on {date_text(link.program.close_date)}.")
        except ServiceError:  # frozen or closed meanwhile
            continue
        frozen += 1
    return frozen
