from collections import defaultdict
from collections.abc import Iterable

from django.db.models import Count, QuerySet, Sum
from django.http import HttpRequest, QueryDict
from django.shortcuts import get_object_or_404

from ledger.models import LedgerEvent
from registry.models import Organization
from registry.selectors import ORGANIZATION_SESSION_KEYS

from .filters import BatchFilter, batches_sorted
from .models import CertificateBatch, Generator, GeneratorEligibility

SELECTION_KEY = "selected_batches"
ORGANIZATION_SESSION_KEYS.add(SELECTION_KEY)  # the selection is of one organization's batches
SELECTION_LIMIT = 10_000


def batches_for_dashboard(organization: Organization, status: str) -> QuerySet[CertificateBatch]:
    """The organization's batches in one status, with what a dashboard row shows, in one query."""
    return (
        CertificateBatch.objects.visible_to(organization)
        .filter(status=status)
        .select_related("certificate__generator", "account")
    )


def batches_filtered(params: QueryDict, organization: Organization, status: str,
                     filter_class: type[BatchFilter] = BatchFilter):
    """The organization's batches in `status`, filtered and sorted as the query string says:
    (the filter, with its errors if any; the batches, unfiltered if the filter is not valid; the sort).
    `filter_class`: BatchFilter, or one with more filters (the dashboard's, programs.filters)."""
    batch_filter = filter_class(params or None, organization=organization,
                                queryset=batches_for_dashboard(organization, status))
    queryset = batch_filter.qs if batch_filter.is_bound and batch_filter.is_valid() else batch_filter.queryset
    queryset, sort = batches_sorted(queryset, params.get("sort", ""))
    return batch_filter, queryset, sort


def batch_replacements(batch_id: int) -> list[int]:
    """The ids of the batches that replaced a superseded batch (a split's two children: the part
    that moved and the part that stayed), lowest serials first."""
    return list(CertificateBatch.objects.filter(parent_id=batch_id).order_by("serial_start")
                .values_list("pk", flat=True))


def batches_totals(queryset: QuerySet[CertificateBatch]) -> dict:
    # COUNT(*), not of a column: with the quantity in the (account, status) index, PostgreSQL counts an
    # organization's batches from that index alone (bench/scale_reads.py).
    totals = queryset.order_by().aggregate(count=Count("*"), quantity=Sum("quantity"))
    return {"count": totals["count"], "quantity": totals["quantity"] or 0}


def selection_ids(request: HttpRequest) -> list[int]:
    """The dashboard's selection of batch ids, kept in the session (changed by certificates.services:
    selection_change, selection_drop)."""
    return list(request.session.get(SELECTION_KEY, []))


def selection_batches(organization: Organization, batch_ids: Iterable[int]) -> QuerySet[CertificateBatch]:
    """Of the selected batches `batch_ids` (the dashboard's selection, or a link's), those still the
    organization's and still active, in the dashboard's order: what a transfer of them starts with."""
    return (
        batches_for_dashboard(organization, CertificateBatch.Status.ACTIVE)
        .filter(pk__in=batch_ids)
        .order_by("certificate__period", "certificate_id", "serial_start")
    )


GENERATOR_KINDS = [LedgerEvent.Kind.GENERATOR_REGISTERED, LedgerEvent.Kind.GENERATOR_CHANGED,
                   LedgerEvent.Kind.GENERATOR_SUBMITTED, LedgerEvent.Kind.GENERATOR_APPROVED,
                   LedgerEvent.Kind.GENERATOR_SENT_BACK, LedgerEvent.Kind.ELIGIBILITY_RECORDED,
                   LedgerEvent.Kind.ELIGIBILITY_CHANGED, LedgerEvent.Kind.ELIGIBILITY_ENDED,
                   LedgerEvent.Kind.GENERATOR_REVIEWED]


def generators_of(organization: Organization) -> QuerySet[Generator]:
    """The organization's generators, with their issuance accounts, by generator ID."""
    return Generator.objects.of(organization).select_related("account").order_by("code")


def generator_of(organization: Organization, generator_id: int) -> Generator:
    """One of the organization's generators; another organization's is a 404."""
    return get_object_or_404(generators_of(organization).select_related("organization", "reviewed_by"),
                             pk=generator_id)


def generator_history(generator: Generator) -> QuerySet[LedgerEvent]:
    """What happened to the generator, newest first: its ledger events (filed under its owner)."""
    return (LedgerEvent.objects.filter(organization_id=generator.organization_id, kind__in=GENERATOR_KINDS,
                                       after__generator=generator.pk)
            .select_related("actor", "organization").order_by("-occurred_at", "-id"))


def generator_eligibilities(generator_ids: Iterable[int]) -> dict[int, list[GeneratorEligibility]]:
    """The generators' recorded eligibilities, by generator id, each generator's in their recorded order,
    in one query (an issuance run reads its thousands of generators' at once)."""
    recorded: dict[int, list[GeneratorEligibility]] = defaultdict(list)
    for eligibility in GeneratorEligibility.objects.filter(generator_id__in=set(generator_ids)).order_by(
            "generator_id", "pk"):
        recorded[eligibility.generator_id].append(eligibility)
    return recorded
