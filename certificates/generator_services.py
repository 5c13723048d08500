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

from django.db import IntegrityError, connection, transaction
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

from .models import FUEL_TECHNOLOGIES, FuelType, Generator, GeneratorReview, StateOrProvince, Technology
from .reviews import annual_review, annual_review_next, generators_to_review, review_today

Status = Generator.Status
# Changing one of these on an approved generator sends it back to registry staff for approval.
KEY_ATTRIBUTES = ("fuel_type", "technology", "capacity_mw", "state", "eligibilities", "commissioned_on")
KEY_ATTRIBUTES_TEXT = ("fuel type, technology, capacity, state or province, eligibilities claimed or commercial "
                       "operation date")  # the same, as the pages say it
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


def generator_details_check(details: GeneratorDetails, organization: Organization) -> dict:
    """The generator's columns from `details`, tidied; GeneratorRefused naming the field for the first wrong one.
    The issuance account is share-locked, so it cannot be closed or frozen before this transaction ends."""
    name = " ".join((details.name or "").split())
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
    eligibilities = list(dict.fromkeys(" ".join(e.split()) for e in details.eligibilities if e and e.strip()))
    too_long = next((e for e in eligibilities if len(e) > 32), None)
    if too_long:
        raise GeneratorRefused(f"An eligibility is at most 32 characters: {too_long[:40]}", "eligibilities")
    account = details.account
    if account is not None:
        held = accounts_lock_for_share([account.pk]).get(account.pk)
        if not held or held["organization_id"] != organization.pk:
            raise GeneratorRefused(f"Account {account.public_id} is not one of {organization.name}'s accounts.",
                                   "account")
        if not Account.is_open_active_state(type=held["type"], status=held["status"]):
            raise GeneratorRefused(f"Account {account.public_id} is not an open active account; certificates are "
                                   "issued only into one.", "account")
    return {"name": name, "fuel_type": details.fuel_type, "technology": details.technology,
            "capacity_mw": capacity, "state": details.state, "commissioned_on": details.commissioned_on,
            "eligibilities": eligibilities, "account_id": account.pk if account else None}


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
