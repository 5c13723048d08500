"""The annual generator review: each year, from REVIEW_OPENS, a manager of every approved generator's
organization confirms that its registration is true, complete and correct (generator_services.
generator_review_confirm), or changes it, which sends it back for approval; by REVIEW_DEADLINE.
After the deadline an organization with a generator not confirmed can sign in and look, but cannot
transfer, retire or upload until it is confirmed: the transfer services (every transfer and retirement,
from the wizard, the API, the mass files and the standing instructions), the wizard's start and the
mass and generation uploads ask organization_refusal.

The rule, in one place (generators_to_review): an approved generator approved before the year's
review opened, or whose approval date is unknown (onboarded before staff's decisions were recorded),
and not confirmed for that year. One approved since (a new one, or one a change sent back that staff
approved again) needs no review until the next year's. One waiting for staff's decision is not
approved: it locks nobody (its change is its owner's answer to the review; staff's decision is theirs).

Time is a dependency: the rules take `today`; their callers pass review_today(), which reads the one
clock (`clock`, in the registry's zone) that tests set.
"""

import datetime
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Exists, OuterRef, Q

from registry.models import Organization
from utilities.display import date_text

from .models import Generator, GeneratorQuerySet, GeneratorReview
from .periods import registry_zone


def clock() -> datetime.date:
    """Today in the registry's zone: the one place the review reads the wall clock, so a test sets it
    (monkeypatch `certificates.reviews.clock`) instead of waiting for a January."""
    return datetime.datetime.now(tz=registry_zone()).date()


def review_today() -> datetime.date:
    """The day the callers ask the rules on: clock(), looked up at each call (so a test's clock holds)."""
    return clock()


def _day(year: int, month_day: tuple[int, int]) -> datetime.date:
    return datetime.date(year, *month_day)


@dataclass(frozen=True)
class AnnualReview:
    """One year's review: it opens on `opens` and is due by `due` (that day included)."""

    year: int
    opens: datetime.date
    due: datetime.date

    @classmethod
    def of_year(cls, year: int) -> "AnnualReview":
        return cls(year=year, opens=_day(year, settings.REVIEW_OPENS), due=_day(year, settings.REVIEW_DEADLINE))

    @property
    def opened_at(self) -> datetime.datetime:
        """The moment it opened: the start of its first day in the registry's zone."""
        return datetime.datetime.combine(self.opens, datetime.time(), tzinfo=registry_zone())

    def is_overdue(self, today: datetime.date) -> bool:
        return today > self.due


def annual_review(today: datetime.date) -> AnnualReview | None:
    """The review that applies on `today`: this year's once it has opened, else last year's; None
    before the first year reviewed (REVIEW_FIRST_YEAR)."""
    year = today.year if today >= _day(today.year, settings.REVIEW_OPENS) else today.year - 1
    return AnnualReview.of_year(year) if year >= settings.REVIEW_FIRST_YEAR else None


def annual_review_next(today: datetime.date) -> AnnualReview:
    """The next review to open after `today`."""
    year = today.year if today < _day(today.year, settings.REVIEW_OPENS) else today.year + 1
    return AnnualReview.of_year(max(year, settings.REVIEW_FIRST_YEAR))


def generators_to_review(review: AnnualReview) -> GeneratorQuerySet:
    """The rule (see the module's docstring): the approved generators to be confirmed for `review`'s
    year, approved before it opened (`reviewed_at` is staff's decision: for an approved generator, its
    approval) and not confirmed for the year."""
    return Generator.objects.approved().filter(
        Q(reviewed_at__isnull=True) | Q(reviewed_at__lt=review.opened_at)
    ).exclude(Exists(GeneratorReview.objects.filter(generator=OuterRef("pk"), year=review.year)))


def generators_overdue(today: datetime.date) -> GeneratorQuerySet:
    """Every organization's generators past the deadline of the review that applies on `today`
    (registry staff's list)."""
    review = annual_review(today)
    if review is None or not review.is_overdue(today):
        return Generator.objects.none()
    return generators_to_review(review)


def review_overdue(organization: Organization, today: datetime.date) -> AnnualReview | None:
    """The review `organization` is past the deadline of on `today`, with a generator not confirmed
    (None: it is not locked)."""
    review = annual_review(today)
    if review is None or not review.is_overdue(today):
        return None
    return review if generators_to_review(review).of(organization).exists() else None


def review_due(organization: Organization, today: datetime.date) -> AnnualReview | None:
    """The review `organization` has generators to confirm for on `today`, overdue or not."""
    review = annual_review(today)
    if review is None:
        return None
    return review if generators_to_review(review).of(organization).exists() else None


def review_lock_text(organization: Organization, review: AnnualReview) -> str:
    """Why an organization overdue for `review` may not transfer, retire or upload: one wording."""
    return (f"{organization.name} has not confirmed its generators' registrations for {review.year} (due "
            f"{date_text(review.due)}). A manager can confirm them on the Generators page.")


def organization_refusal(organization: Organization, today: datetime.date) -> str:
    """Why `organization` may not transfer, retire or upload on `today` ("": it may): billing's
    inactivation (Organization.billing_hold), then the review lock; asked by every path that moves
    certificates or takes an upload."""
    if organization.billing_hold:
        return organization.billing_hold
    review = review_overdue(organization, today)
    return review_lock_text(organization, review) if review else ""


def organization_refusals(organizations: Iterable[Organization], today: datetime.date) -> dict[int, str]:
    """organization_refusal of several organizations at once, by id (those not locked left out): one read
    for the standing instructions of a whole issuance."""
    by_id = {organization.pk: organization for organization in organizations}
    held = {pk: organization.billing_hold for pk, organization in by_id.items() if organization.billing_hold}
    review = annual_review(today)
    if review is None or not review.is_overdue(today):
        return held
    locked = set(generators_to_review(review).filter(organization_id__in=by_id).values_list(
        "organization_id", flat=True))
    return {pk: held.get(pk) or review_lock_text(by_id[pk], review) for pk in sorted(locked | set(held))}


@dataclass(frozen=True)
class ReviewNotice:
    """What the organization's pages say of the review that applies: overdue (the lock), or open and
    still to do (a reminder)."""

    review: AnnualReview
    overdue: bool
    text: str


def review_notice(organization: Organization, today: datetime.date) -> ReviewNotice | None:
    """The dashboard's and the Generators page's notice for `organization` on `today` (None: nothing
    to confirm)."""
    review = review_due(organization, today)
    if review is None:
        return None
    if review.is_overdue(today):
        return ReviewNotice(review, True, review_lock_text(organization, review))
    return ReviewNotice(review, False, (
        f"The annual generator review is open: a manager confirms that each approved generator's registration is "
        f"true, complete and correct for {review.year}, by {date_text(review.due)}. After that day {organization.name} "
        "cannot transfer, retire or upload until they are confirmed."))
