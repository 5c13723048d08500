"""Reads of retirements: those an organization may read (the Retired tab, the annual report: its own,
and a regulator's, those toward its programs), one by its public reference, and the options a
retirement can count toward."""

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, F, OuterRef, Q, Subquery, Sum
from django.db.models.functions import Coalesce, ExtractYear
from django.http import QueryDict

from certificates.units import MWhOf
from programs.participation import programs_administered_by
from registry.models import Organization
from transfers.models import Transfer, TransferItem
from transfers.selectors import choice_label, filtered

from .filters import RetirementFilter, retirements_sorted
from .models import REFERENCE_ALPHABET, REFERENCE_LENGTH, Retirement, RetirementOption


def retirements_visible_to(organization: Organization):
    """The retirements (complete retirement transfers) the organization's members may read: its own;
    and a regulator's, every retirement toward a program it administers, whichever organization made
    it (Retirement.counting_toward). The one scope of the Retired tab, its CSV, the annual report and
    the API's retirements: nothing else of another organization is read through it."""
    visible = Q(transfer__organization=organization)
    if organization.is_regulator:
        visible |= Retirement.counting_toward(programs_administered_by(organization))
    return Retirement.objects.filter(visible, transfer__status=Transfer.Status.COMPLETE)


def retirements_for(organization: Organization):
    """The dashboard's Retired tab: the retirements the organization may read, with their details,
    account, organization and total quantity."""
    quantity = (TransferItem.objects.filter(transfer=OuterRef("transfer")).order_by().values("transfer")
                .annotate(total=Sum("batch__quantity")).values("total"))
    return (retirements_visible_to(organization)
            .select_related("transfer__destination_account", "transfer__organization", "option")
            .annotate(total_quantity=Coalesce(Subquery(quantity), 0)))


def _reference_read(text: str) -> str | None:
    """A retirement's reference as it is stored (upper case), or None for text that cannot be one."""
    if len(text) != REFERENCE_LENGTH or not set(text.upper()) <= set(REFERENCE_ALPHABET):
        return None
    return text.upper()


def retirement_by_reference(reference: str) -> Retirement | None:
    """The retirement a public reference names, or None (the reference is the only way in); text
    that cannot be a reference is None without reading the database."""
    if (reference := _reference_read(reference)) is None:
        return None
    return (Retirement.objects.select_related("transfer__organization", "option")
            .filter(reference=reference, transfer__status=Transfer.Status.COMPLETE).first())


def retirement_of(organization: Organization, reference: str) -> Retirement | None:
    """One of the retirements the organization may read, by its public reference (in any case), or None."""
    if (reference := _reference_read(reference)) is None:
        return None
    return retirements_for(organization).filter(reference=reference).first()


def retirements_filtered(params: QueryDict, organization: Organization):
    """The retirements the organization may read, filtered and sorted as the query string says (as
    transactions_filtered)."""
    return filtered(params, RetirementFilter(params or None, queryset=retirements_for(organization)),
                     retirements_sorted)


def retirement_years(organization: Organization) -> list[int]:
    """The years the organization retired certificates in, newest first: the year of each retirement's
    date in the current time zone (the reader's, as the pages show dates)."""
    return list(retirements_visible_to(organization).annotate(year=ExtractYear("transfer__submitted_at"))
                .order_by("-year").values_list("year", flat=True).distinct())


@dataclass(frozen=True)
class AnnualRetirementReport:
    """The retirements an organization may read of one year, a row per option, compliance period and state or
    province (the option's), each with its count of retirements and quantity; and the totals. A
    regulator's (`by_organization`) has a row per retiring organization too (`organization_name`,
    `organization_public_id`): the retirements toward its programs are of many organizations."""

    year: int
    rows: list[dict]
    retirement_count: int
    quantity: Decimal  # MWh (certificates.units): what a compliance obligation counts, monthly and hourly alike
    by_organization: bool = False


def retirement_report(organization: Organization, year: int) -> AnnualRetirementReport:
    """The annual retirement report, grouped and summed by the database, in MWh: a regulator compares it
    with an obligation in MWh, and an hourly certificate's Wh would otherwise count a REC each. A
    retirement's year is that of its date in the current time zone (the reader's), as the pages show it."""
    retirements = retirements_visible_to(organization).filter(transfer__submitted_at__year=year)
    summed = {"retirement_count": Count("pk", distinct=True),
              "quantity": Coalesce(Sum(MWhOf("transfer__items__batch__quantity",
                                             "transfer__items__batch__certificate__unit")), Decimal(0))}
    by_organization = organization.is_regulator
    who = {"organization_name": F("transfer__organization__name"),
           "organization_public_id": F("transfer__organization__public_id")} if by_organization else {}
    rows = list(retirements.values(
        "compliance_period", **who, option_name=F("option__name"), state=F("option__state"),
        option_type=choice_label("option__type", RetirementOption.Type),
        option_reason=choice_label("option__reason", RetirementOption.Reason),
    ).annotate(**summed).order_by(*who, "option_name", "compliance_period", "state"))
    totals = retirements.aggregate(**summed)
    return AnnualRetirementReport(year=year, rows=rows, by_organization=by_organization, **totals)


def retirement_options_offered():
    """The retirement options a user may choose for a retirement: the active ones, by name, but not the
    registry's own (RetirementOption.registry_only: hourly matching's). Registry staff stop offering an
    option by deactivating it; the retirements made toward it keep it."""
    return RetirementOption.objects.filter(is_active=True, registry_only=False).order_by("name")


def retirement_option_not_offered(*, otherwise: str, name: str | None = None, pk=None) -> str:
    """Why an option a user named (by `name`, in any case, or by `pk`) is not one they may choose: the
    registry's own option's refusal (RetirementOption.withheld_text), else `otherwise`, the caller's
    words for an option that is not offered at all."""
    if name is not None:
        withheld = RetirementOption.objects.filter(registry_only=True, name__iexact=name.strip())
    elif str(pk or "").isdigit():
        withheld = RetirementOption.objects.filter(registry_only=True, pk=int(pk))
    else:
        return otherwise
    option = withheld.first()
    return option.withheld_text if option is not None else otherwise
