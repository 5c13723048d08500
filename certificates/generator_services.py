"""Generators registered by participants: a manager registers one (a draft), submits it, and registry staff
approve it or send it back with a note; certificates are issued only for an approved generator.

These services live apart from services.py, which is the batch hot path (hand-written SQL for the
transfers); a generator's registration shares nothing with it but the model.

The status moves draft -> submitted -> approved or sent back (returned) -> submitted again. While it is
submitted the generator is under review and cannot be changed: staff decide on what was submitted. An
approved generator whose key attribute changes (KEY_ATTRIBUTES) goes back to submitted, and no
certificate is issued for it until staff approve it again; its name and issuance account change freely.
"""

import datetime
import decimal
from dataclasses import dataclass, field

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import Account
from accounts.services import accounts_lock_for_share
from events.models import Event
from events.services import event_record
from ledger.models import LedgerEvent
from ledger.services import ledger_record
from registry.models import Organization, User
from registry.services import ServiceError, manager_require, staff_require
from utilities.display import date_text

from .models import (
    FUEL_TECHNOLOGIES,
    FuelType,
    Generator,
    GeneratorEligibility,
    GeneratorReview,
    StateOrProvince,
    Technology,
)
from .reviews import annual_review, annual_review_next, generators_to_review, review_today

Status = Generator.Status
# Changing one of these on an approved generator sends it back to registry staff for approval.
KEY_ATTRIBUTES = ("fuel_type", "technology", "capacity_mw", "state", "eligibilities", "commissioned_on", "granular",
                  "emissions_factor", "emissions_factor_source")
KEY_ATTRIBUTES_TEXT = ("fuel type, technology, capacity, state or province, eligibilities claimed, commercial "
                       "operation date, granular reporting or emissions factor")  # the same, as the pages say it
EMISSIONS_FACTOR_MOST = decimal.Decimal("99999.999")  # the column's 8 digits, 3 after the point
CAPACITY_MOST = decimal.Decimal("999999.99")  # the column's 8 digits, 2 after the point
CODE_PREFIX, CODE_WIDTH = "G", 5
CAPACITY_NOT_A_NUMBER = "Give the capacity in MW as a number, e.g. 150 or 2.5."


class GeneratorRefused(ServiceError):
    """A refusal about one field of the generator (`field`, the form's name for it), or about it as a whole."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class GeneratorDetails:
    """What a participant says about a generator: everything but its ID, owner and status."""

    name: str
    fuel_type: str
    technology: str
    capacity_mw: decimal.Decimal
    state: str
    commissioned_on: datetime.date | None
    eligibilities: list[str] = field(default_factory=list)
    account: Account | None = None  # where its certificates are issued
    granular: bool = False  # generation reported per interval, a certificate per interval (EnergyTag)
    emissions_factor: decimal.Decimal | None = None  # gCO2e/kWh, carried by its certificates
    emissions_factor_source: str = ""


def tidy(text: str) -> str:
    """Text as the registry keeps a name: blanks around it dropped, runs of blanks inside made one space."""
    return " ".join((text or "").split())


ELIGIBILITY_NAME_MOST = GeneratorEligibility._meta.get_field("name").max_length


def eligibility_name_problem(name: str) -> str | None:
    """What is wrong with an eligibility's name (tidied), claimed or recorded; None if nothing."""
    if not name:
        return "Give the eligibility: the program or certification, e.g. MN RES."
    if len(name) > ELIGIBILITY_NAME_MOST:
        return f"An eligibility is at most {ELIGIBILITY_NAME_MOST} characters: {name[:40]}"
    return None


def generator_details_check(details: GeneratorDetails, organization: Organization) -> dict:
    """The generator's columns from `details`, tidied; GeneratorRefused naming the field for the first wrong one.
    The issuance account is share-locked, so it cannot be closed or frozen before this transaction ends."""
    name = tidy(details.name)
    if not name:
        raise GeneratorRefused("Give the generator a name.", "name")
    if len(name) > Generator._meta.get_field("name").max_length:
        raise GeneratorRefused("A generator's name is at most 200 characters.", "name")
    if details.fuel_type not in FuelType.values:
        raise GeneratorRefused("Choose a fuel type.", "fuel_type")
    technologies = FUEL_TECHNOLOGIES[FuelType(details.fuel_type)]
    if details.technology not in technologies:
        allowed = " or ".join(Technology(technology).label.lower() for technology in technologies)
        raise GeneratorRefused(f"A {FuelType(details.fuel_type).label.lower()} generator's technology is {allowed}.",
                               "technology")
    capacity = details.capacity_mw
    if not isinstance(capacity, decimal.Decimal) or not capacity.is_finite():
        raise GeneratorRefused(CAPACITY_NOT_A_NUMBER, "capacity_mw")
    if capacity <= 0:
        raise GeneratorRefused("The capacity must be more than 0 MW.", "capacity_mw")
    if capacity > CAPACITY_MOST or capacity != capacity.quantize(decimal.Decimal("0.01")):
        raise GeneratorRefused(f"Give the capacity in MW with at most two decimals, up to {CAPACITY_MOST:,}.",
                               "capacity_mw")
    if details.state not in StateOrProvince.values:
        raise GeneratorRefused(f"{details.state or 'An empty code'} is not a US state or Canadian province; "
                               "choose one from the list.", "state")
    if details.commissioned_on and details.commissioned_on > timezone.localdate():
        raise GeneratorRefused("The commercial operation date cannot be in the future: register the generator "
                               "once it operates.", "commissioned_on")
    eligibilities = list(dict.fromkeys(tidy(e) for e in details.eligibilities if e and e.strip()))
    too_long = next((problem for problem in map(eligibility_name_problem, eligibilities) if problem), None)
    if too_long:
        raise GeneratorRefused(too_long, "eligibilities")
    account = details.account
    if account is not None:
        held = accounts_lock_for_share([account.pk]).get(account.pk)
        if not held or held["organization_id"] != organization.pk:
            raise GeneratorRefused(f"Account {account.public_id} is not one of {organization.name}'s accounts.",
                                   "account")
        if not Account.is_open_active_state(type=held["type"], status=held["status"]):
            raise GeneratorRefused(f"Account {account.public_id} is not an open active account; certificates are "
                                   "issued only into one.", "account")
    factor, source = details.emissions_factor, tidy(details.emissions_factor_source)
    if factor is not None and (not isinstance(factor, decimal.Decimal) or not factor.is_finite() or factor < 0
                               or factor > EMISSIONS_FACTOR_MOST
                               or factor != factor.quantize(decimal.Decimal("0.001"))):
        raise GeneratorRefused("Give the emissions factor in gCO2e/kWh as a number from 0 to "
                               f"{EMISSIONS_FACTOR_MOST:,} with at most three decimals, e.g. 0 or 11.5.",
                               "emissions_factor")
    if factor is not None and not source:
        raise GeneratorRefused("Say where the emissions factor comes from, e.g. IPCC 2014 lifecycle median.",
                               "emissions_factor_source")
    if len(source) > Generator._meta.get_field("emissions_factor_source").max_length:
        raise GeneratorRefused("The emissions factor's source is at most 200 characters.", "emissions_factor_source")
    return {"name": name, "fuel_type": details.fuel_type, "technology": details.technology,
            "capacity_mw": capacity, "state": details.state, "commissioned_on": details.commissioned_on,
            "eligibilities": eligibilities, "account_id": account.pk if account else None,
            "granular": bool(details.granular), "emissions_factor": factor,
            "emissions_factor_source": source if factor is not None else ""}


def generator_record(values: dict) -> dict:
    """Columns as the ledger keeps them (JSON: dates and capacities as text)."""
    def plain(value):
        if isinstance(value, datetime.date):
            return value.isoformat()
        if isinstance(value, decimal.Decimal):
            return str(value)
        return value
    return {key: plain(value) for key, value in values.items()}


def _event(kind: str, *, user: User, generator: Generator, before: dict | None = None, after: dict | None = None,
           note: str = "") -> None:
    """A generator's ledger event: filed under its owner, naming it by id and code in its before and after."""
    name = {"generator": generator.pk, "code": generator.code}
    ledger_record(kind=kind, actor=user, organization=generator.organization,
                  account=generator.account if generator.account_id else None,
                  before={**name, **generator_record(before)} if before is not None else None,
                  after={**name, **generator_record(after or {})}, note=note)


def generator_code_next() -> str:
    """The ID of a participant's new generator: G and five digits (G00042), from a sequence. A code registry
    staff gave one of theirs by hand is passed over. SQL because the ORM draws nothing from a
    sequence; not for speed."""
    with connection.cursor() as cursor:
        while True:
            cursor.execute("SELECT nextval('certificates_generator_code_seq')")
            number = cursor.fetchone()[0]
            code = f"{CODE_PREFIX}{number:0{CODE_WIDTH}d}"
            if not Generator.objects.filter(code=code).exists():
                return code


@transaction.atomic(durable=True)
def generator_register(*, user: User, organization: Organization, details: GeneratorDetails) -> Generator:
    """Register a generator for the organization (a manager): a draft, with an ID of its own, to submit
    for registry staff's approval when it is complete."""
    manager_require(user=user, organization=organization)
    values = generator_details_check(details, organization)
    try:
        with transaction.atomic():  # a staff member typing the same code at this instant: the constraint settles it
            generator = Generator.objects.create(organization=organization, code=generator_code_next(),
                                                 status=Status.DRAFT, created_by=user, **values)
    except IntegrityError as error:
        raise ServiceError("The generator could not be given an ID; try again.") from error
    _event(LedgerEvent.Kind.GENERATOR_REGISTERED, user=user, generator=generator,
           after={**values, "status": generator.status})
    return generator


def _generator_lock(*, organization: Organization | None, generator: Generator) -> Generator:
    """The generator's row, locked FOR UPDATE (its row alone: no join to lock); of `organization` when given."""
    found = Generator.objects.select_for_update(of=("self",)).filter(pk=generator.pk).order_by()
    if organization is not None:
        found = found.filter(organization=organization)
    current = found.select_related("organization").first()
    if current is None:
        raise ServiceError("No such generator.")
    return current


def _status_swap(current: Generator, **changes) -> None:
    """Compare-and-swap on the status the lock read: a change made meanwhile refuses this one."""
    if Generator.objects.filter(pk=current.pk, status=current.status).update(**changes) != 1:
        raise ServiceError(f"Generator {current.code} changed meanwhile; nothing was changed. Try again.")


def under_review_text(generator: Generator) -> str:
    return (f"Generator {generator.code} is waiting for registry staff's decision; it can be changed once they "
            "approve it or send it back.")


@transaction.atomic(durable=True)
def generator_update(*, user: User, organization: Organization, generator: Generator,
                     details: GeneratorDetails) -> Generator:
    """Change a generator (a manager). A draft or sent-back one changes freely. An approved one keeps its
    approval when only its name or issuance account change; a change to a key attribute (KEY_ATTRIBUTES)
    sends it back to registry staff for approval. One under review (submitted) is not changed."""
    manager_require(user=user, organization=organization)
    current = _generator_lock(organization=organization, generator=generator)
    if current.status == Status.SUBMITTED:
        raise ServiceError(under_review_text(current))
    values = generator_details_check(details, organization)
    changed = {key: value for key, value in values.items() if getattr(current, key) != value}
    if not changed:
        raise ServiceError(f"Nothing was changed: generator {current.code} already reads like this.")
    before = {key: getattr(current, key) for key in changed}
    if current.status == Status.APPROVED and set(changed) & set(KEY_ATTRIBUTES):
        changed |= {"status": Status.SUBMITTED.value, "submitted_at": timezone.now(), "review_note": ""}
        before["status"] = current.status
    _status_swap(current, **changed)
    for key, value in changed.items():
        setattr(current, key, value)
    _event(LedgerEvent.Kind.GENERATOR_CHANGED, user=user, generator=current, before=before,
           after={key: value for key, value in changed.items() if key in before})
    return current


@transaction.atomic(durable=True)
def generator_submit(*, user: User, organization: Organization, generator: Generator) -> Generator:
    """Submit a draft or sent-back generator for registry staff's approval (a manager). It needs its
    commercial operation date and the open active account its certificates are to be issued into."""
    manager_require(user=user, organization=organization)
    current = _generator_lock(organization=organization, generator=generator)
    if current.status == Status.SUBMITTED:
        raise ServiceError(f"Generator {current.code} is already waiting for registry staff's decision.")
    if current.status == Status.APPROVED:
        raise ServiceError(f"Generator {current.code} is already approved.")
    if current.commissioned_on is None:
        raise GeneratorRefused("Give the commercial operation date before submitting.", "commissioned_on")
    if current.account_id is None:
        raise GeneratorRefused("Choose the account its certificates are issued into before submitting.", "account")
    held = accounts_lock_for_share([current.account_id])[current.account_id]
    if not Account.is_open_active_state(type=held["type"], status=held["status"]):
        raise GeneratorRefused(f"Its issuance account, {current.account.public_id}, is no longer an open active "
                               "account; choose another before submitting.", "account")
    submitted_at = timezone.now()
    _status_swap(current, status=Status.SUBMITTED, submitted_at=submitted_at)
    before = current.status
    current.status, current.submitted_at = Status.SUBMITTED, submitted_at
    _event(LedgerEvent.Kind.GENERATOR_SUBMITTED, user=user, generator=current, before={"status": before},
           after={"status": current.status})
    return current


def _decide(*, user: User, generator: Generator, status: str, kind: str, note: str) -> Generator:
    staff_require(user=user)
    current = _generator_lock(organization=None, generator=generator)
    if current.status != Status.SUBMITTED:
        raise ServiceError(f"Generator {current.code} is not awaiting approval: it is "
                           f"{current.get_status_display().lower()}.")
    reviewed_at = timezone.now()
    _status_swap(current, status=status, reviewed_at=reviewed_at, reviewed_by=user, review_note=note)
    before = current.status
    current.status, current.reviewed_at, current.reviewed_by, current.review_note = status, reviewed_at, user, note
    _event(kind, user=user, generator=current, before={"status": before}, after={"status": status}, note=note)
    event_record(kind=Event.Kind.GENERATOR_DECIDED, organization_id=current.organization_id, subject_id=current.pk,
                 data={"status": status})  # its organization's managers are emailed
    return current


@transaction.atomic(durable=True)
def generator_approve(*, user: User, generator: Generator, note: str = "") -> Generator:
    """Approve a submitted generator (registry staff): certificates can then be issued for it. Its
    organization's managers are emailed after the commit."""
    return _decide(user=user, generator=generator, status=Status.APPROVED, kind=LedgerEvent.Kind.GENERATOR_APPROVED,
                   note=note.strip())


@transaction.atomic(durable=True)
def generator_send_back(*, user: User, generator: Generator, note: str) -> Generator:
    """Send a submitted generator back to its organization (registry staff) with a note saying what to
    change; its managers are emailed the note after the commit, change it, and submit it again."""
    note = (note or "").strip()
    if not note:
        raise ServiceError("Say what the organization should change: a note is required to send a generator back.")
    return _decide(user=user, generator=generator, status=Status.RETURNED, kind=LedgerEvent.Kind.GENERATOR_SENT_BACK,
                   note=note)


# What a manager confirms in the annual review: the registration as the generator's page shows it.
CONFIRMED_ATTRIBUTES = ("name", *KEY_ATTRIBUTES, "account_id")


def review_not_needed_text(generator: Generator, today: datetime.date) -> str:
    """Why `generator` has nothing to confirm on `today` (not one of generators_to_review): in words."""
    review = annual_review(today)
    if review is None:
        return (f"There is nothing to confirm yet: the first annual review opens on "
                f"{date_text(annual_review_next(today).opens)}.")
    if generator.status != Status.APPROVED:
        return (f"Generator {generator.code} is {generator.get_status_display().lower()}, not approved: only "
                "approved generators are confirmed in the annual review.")
    if generator.annual_reviews.filter(year=review.year).exists():
        return f"Generator {generator.code}'s registration is already confirmed for {review.year}."
    return (f"Generator {generator.code} was approved on {date_text(generator.reviewed_at)}, after the {review.year} "
            f"review opened: there is nothing to confirm until the {annual_review_next(today).year} review opens on "
            f"{date_text(annual_review_next(today).opens)}.")


@transaction.atomic(durable=True)
def generator_review_confirm(*, user: User, organization: Organization, generator: Generator,
                             today: datetime.date | None = None) -> GeneratorReview:
    """A manager confirms, in the annual review that applies on `today` (certificates.reviews), that
    an approved generator's registration is true, complete and correct: once a year, for a generator
    generators_to_review names. The ledger event records the registration as confirmed."""
    manager_require(user=user, organization=organization)
    today = today or review_today()
    current = _generator_lock(organization=organization, generator=generator)
    review = annual_review(today)
    if review is None or not generators_to_review(review).filter(pk=current.pk).exists():
        raise ServiceError(review_not_needed_text(current, today))
    try:
        with transaction.atomic():  # the constraint settles two confirmations at once
            confirmation = GeneratorReview.objects.create(generator=current, year=review.year, confirmed_by=user)
    except IntegrityError as error:
        raise ServiceError(f"Generator {current.code}'s registration is already confirmed for {review.year}.") \
            from error
    _event(LedgerEvent.Kind.GENERATOR_REVIEWED, user=user, generator=current,
           after={"year": review.year, **{key: getattr(current, key) for key in CONFIRMED_ATTRIBUTES}})
    return confirmation


@transaction.atomic  # not durable: the admin site saves its form inside its own transaction
def generator_onboard(*, user: User, generator: Generator) -> Generator:
    """Registry staff add a generator directly (the admin site's form, which checked it, with the ID they
    give it): it is approved at once."""
    staff_require(user=user)
    now = timezone.now()
    generator.status, generator.created_by, generator.reviewed_by, generator.reviewed_at = (
        Status.APPROVED, user, user, now)
    generator.save()
    _event(LedgerEvent.Kind.GENERATOR_APPROVED, user=user, generator=generator,
           after={"status": generator.status}, note="Onboarded by registry staff")
    return generator


# A generator's eligibilities, recorded by registry staff (GeneratorEligibility): what its certificates
# carry. Staff record one (a claim of its organization reviewed, with its certification number), change
# it, or end it (its last day); each a ledger event filed under the generator's owner, under the
# generator's lock, so an issuance of the generator reads them before or after the change, never during.

@dataclass(frozen=True)
class EligibilityDetails:
    """What registry staff say of a generator's eligibility."""

    name: str
    start_date: datetime.date | None
    certification_number: str = ""
    verified_on: datetime.date | None = None
    good_through: datetime.date | None = None

    def tidied(self) -> "EligibilityDetails":
        return EligibilityDetails(name=tidy(self.name), start_date=self.start_date,
                                  certification_number=tidy(self.certification_number),
                                  verified_on=self.verified_on, good_through=self.good_through)

    def problems(self, *, today: datetime.date) -> dict[str, str]:
        """Field -> what is wrong with it (of tidied details); empty when nothing is. Refuses nothing."""
        problems = {}
        if problem := eligibility_name_problem(self.name):
            problems["name"] = problem
        most = GeneratorEligibility._meta.get_field("certification_number").max_length
        if len(self.certification_number) > most:
            problems["certification_number"] = f"A certification number is at most {most} characters."
        if self.start_date is None:
            problems["start_date"] = "Give the start date: the first day the eligibility holds."
        elif self.good_through is not None and self.good_through < self.start_date:
            problems["good_through"] = (f"The good-through date is the last day it holds: it cannot be before the "
                                        f"start date, {date_text(self.start_date)}.")
        if self.verified_on is not None and self.verified_on > today:
            problems["verified_on"] = "The verified date cannot be in the future."
        return problems

    def values(self) -> dict:
        return {"name": self.name, "certification_number": self.certification_number,
                "start_date": self.start_date, "verified_on": self.verified_on, "good_through": self.good_through}


def eligibility_problems(*, generator: Generator, details: EligibilityDetails,
                         eligibility: GeneratorEligibility | None = None) -> dict[str, str]:
    """EligibilityDetails.problems of tidied `details`, and whether the generator already has a record of the
    name over some of the same days (besides `eligibility`, the one being changed): a renewal starts after
    the record it follows ends."""
    problems = details.problems(today=timezone.localdate())
    if problems:
        return problems
    # The database's exclusion constraint (eligibility_once_at_a_time) is the last word; this says it plainly.
    overlapping = GeneratorEligibility.objects.filter(
        Q(good_through__isnull=True) | Q(good_through__gte=details.start_date), generator=generator, name=details.name)
    if details.good_through is not None:
        overlapping = overlapping.filter(start_date__lte=details.good_through)
    if eligibility is not None:
        overlapping = overlapping.exclude(pk=eligibility.pk)
    other = overlapping.order_by("start_date").first()
    if other is not None:
        through = f"through {date_text(other.good_through)}" if other.good_through else "with no end"
        return {"start_date": f"{generator.code} already has {details.name} from {date_text(other.start_date)} "
                              f"{through}. Change or end that record; a renewal starts after it ends."}
    return {}


def _eligibility_checked(*, generator: Generator, details: EligibilityDetails,
                         eligibility: GeneratorEligibility | None = None) -> EligibilityDetails:
    details = details.tidied()
    problems = eligibility_problems(generator=generator, details=details, eligibility=eligibility)
    if problems:
        field, message = next(iter(problems.items()))
        raise GeneratorRefused(message, field)
    return details


def _eligibility_event(kind: str, *, user: User, generator: Generator, eligibility: GeneratorEligibility,
                       before: dict | None, after: dict, note: str = "") -> None:
    record = {"eligibility": eligibility.pk, "name": eligibility.name}
    _event(kind, user=user, generator=generator, before={**record, **before} if before is not None else None,
           after={**record, **after}, note=note)


def _eligibility_lock(eligibility: GeneratorEligibility) -> tuple[Generator, GeneratorEligibility]:
    """The eligibility's generator, then the eligibility, locked FOR UPDATE (in that order, as every
    eligibility service takes them)."""
    generator = _generator_lock(organization=None, generator=Generator(pk=eligibility.generator_id))
    current = GeneratorEligibility.objects.select_for_update().filter(pk=eligibility.pk).first()
    if current is None or current.generator_id != generator.pk:
        raise ServiceError("No such eligibility.")
    return generator, current


@transaction.atomic  # not durable: the admin site saves its form inside its own transaction
def eligibility_record(*, user: User, generator: Generator, details: EligibilityDetails) -> GeneratorEligibility:
    """Record an eligibility of a generator (registry staff): from its start date through its good-through
    date (none: no end), the certificates issued for a period it holds on every day of carry its name."""
    staff_require(user=user)
    current = _generator_lock(organization=None, generator=generator)
    details = _eligibility_checked(generator=current, details=details)
    eligibility = GeneratorEligibility.objects.create(generator=current, recorded_by=user, **details.values())
    _eligibility_event(LedgerEvent.Kind.ELIGIBILITY_RECORDED, user=user, generator=current, eligibility=eligibility,
                       before=None, after=details.values())
    return eligibility


@transaction.atomic
def eligibility_change(*, user: User, eligibility: GeneratorEligibility,
                       details: EligibilityDetails) -> GeneratorEligibility:
    """Change a recorded eligibility (registry staff): certificates issued from now on carry it as changed;
    those issued already keep what they carry. A new good-through date is reminded of again."""
    staff_require(user=user)
    generator, current = _eligibility_lock(eligibility)
    details = _eligibility_checked(generator=generator, details=details, eligibility=current)
    changed = {key: value for key, value in details.values().items() if getattr(current, key) != value}
    if not changed:
        raise ServiceError(f"Nothing was changed: {current.name} of {generator.code} already reads like this.")
    before = {key: getattr(current, key) for key in changed}
    if "good_through" in changed:
        changed["reminded_on"] = None
    GeneratorEligibility.objects.filter(pk=current.pk).update(**changed)
    for key, value in changed.items():
        setattr(current, key, value)
    _eligibility_event(LedgerEvent.Kind.ELIGIBILITY_CHANGED, user=user, generator=generator, eligibility=current,
                       before=before, after={key: value for key, value in changed.items() if key in before})
    return current


@transaction.atomic
def eligibility_end(*, user: User, eligibility: GeneratorEligibility, last_day: datetime.date,
                    note: str = "") -> GeneratorEligibility:
    """End a recorded eligibility (registry staff) after `last_day`, its new good-through date: no earlier
    than its start date, and no later than the good-through date it has (ending never extends it)."""
    staff_require(user=user)
    generator, current = _eligibility_lock(eligibility)
    if not isinstance(last_day, datetime.date):
        raise GeneratorRefused("Give the last day the eligibility holds.", "good_through")
    if last_day < current.start_date:
        raise GeneratorRefused(f"{current.name} of {generator.code} starts on {date_text(current.start_date)}: it "
                               "cannot end before that.", "good_through")
    if current.good_through is not None and last_day >= current.good_through:
        raise GeneratorRefused(f"{current.name} of {generator.code} ends already, after "
                               f"{date_text(current.good_through)}.", "good_through")
    before = {"good_through": current.good_through}
    GeneratorEligibility.objects.filter(pk=current.pk).update(good_through=last_day, reminded_on=None)
    current.good_through, current.reminded_on = last_day, None
    _eligibility_event(LedgerEvent.Kind.ELIGIBILITY_ENDED, user=user, generator=generator, eligibility=current,
                       before=before, after={"good_through": last_day}, note=(note or "").strip())
    return current


@transaction.atomic(durable=True)
def eligibilities_remind(*, today: datetime.date | None = None) -> int:
    """Remind registry staff of the eligibilities whose good-through date is within
    ELIGIBILITY_REMINDER_DAYS days from `today` (the registry's today): one eligibilities.expiring event
    for all of them, emailed to staff after the commit (notifications.eligibilities). Each is reminded
    once (its reminded_on, compare-and-swap under its lock), until its good-through date changes. Returns
    how many were reminded."""
    today = today or timezone.localdate()
    due = list(GeneratorEligibility.objects.reminder_due(today=today, days=settings.ELIGIBILITY_REMINDER_DAYS)
               .select_for_update().order_by("pk").values_list("pk", flat=True))
    if not due:
        return 0
    if GeneratorEligibility.objects.filter(pk__in=due, reminded_on__isnull=True).update(reminded_on=today) != len(due):
        raise ServiceError("An eligibility changed meanwhile; nobody was reminded. The next run will.")
    event_record(kind=Event.Kind.ELIGIBILITIES_EXPIRING, data={"eligibility_ids": due})
    return len(due)
