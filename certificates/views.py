from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from registry.csv_export import csv_response
from registry.selectors import membership_required
from transfers.mass import COLUMNS as MASS_COLUMNS
from transfers.selectors import transfers_pending_for, transfers_visible_to

from .filters import BatchFilter, batches_sorted
from .models import CertificateBatch, FuelType
from .selectors import (
    SELECTION_LIMIT,
    batches_for_dashboard,
    batches_totals,
    selection_batches,
    selection_ids,
    selection_save,
)

BATCH_TABS = {
    "active": CertificateBatch.Status.ACTIVE,
    "retired": CertificateBatch.Status.RETIRED,
    "exported": CertificateBatch.Status.EXPORTED,
}
TABS = [("active", "Active"), ("pending", "Pending"), ("retired", "Retired"), ("exported", "Exported"),
        ("transactions", "Transactions")]
PAGE_SIZES = [25, 50, 100, 500]
TRANSACTIONS_PER_PAGE = 50
FUEL_LABELS = dict(FuelType.choices)
COLUMNS = [("serial", "Serial Number"), ("quantity", "Quantity"), ("account", "Account"),
           ("generator", "Generator"), ("fuel", "Fuel"), ("state", "State"), ("vintage", "Vintage"),
           (None, "Eligibilities"), ("issued", "Issued on")]
CSV_HEADER = ["Serial Number", "Quantity", "Account ID", "Account", "Generator ID", "Generator", "Fuel",
              "State", "Vintage", "Eligibilities", "Issued on", "Status"]


def _page_size(request: HttpRequest) -> int:
    try:
        size = int(request.GET.get("per_page", PAGE_SIZES[0]))
    except ValueError:
        return PAGE_SIZES[0]
    return size if size in PAGE_SIZES else PAGE_SIZES[0]


def _filtered_batches(params: QueryDict, organization, status):
    """The organization's batches in `status`, filtered and sorted as the query string says."""
    batch_filter = BatchFilter(params or None, organization=organization,
                               queryset=batches_for_dashboard(organization, status))
    queryset = batch_filter.qs if batch_filter.is_bound and batch_filter.is_valid() else batch_filter.queryset
    queryset, sort = batches_sorted(queryset, params.get("sort", ""))
    return batch_filter, queryset, sort


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    membership = membership_required(request)
    organization = membership.organization
    tab = request.GET.get("tab", "active")
    if tab not in dict(TABS):
        tab = "active"
    context = {"tabs": TABS, "tab": tab, "can_act": membership.can_transfer}

    if tab in BATCH_TABS:
        batch_filter, queryset, sort = _filtered_batches(request.GET, organization, BATCH_TABS[tab])
        totals = batches_totals(queryset)
        paginator = Paginator(queryset, _page_size(request))
        paginator.count = totals["count"]  # a cached property: the totals' count, not a second COUNT
        page = paginator.get_page(request.GET.get("page"))
        selected = set(selection_ids(request))
        context |= {
            "filter": batch_filter, "page": page, "columns": COLUMNS, "totals": totals, "sort": sort,
            "page_sizes": PAGE_SIZES, "per_page": _page_size(request), "selected": selected,
            "selection_count": len(selected), "selection_limit": SELECTION_LIMIT,
            "page_ids": [batch.pk for batch in page.object_list],
        }
    elif tab == "pending":
        incoming, outgoing = transfers_pending_for(organization)
        context |= {"incoming": incoming, "outgoing": outgoing}
    else:
        transfers = transfers_visible_to(organization).exclude(status="draft").select_related(
            "organization", "recipient_organization", "tracking_system", "destination_account")
        context |= {"page": Paginator(transfers.order_by("-submitted_at", "-pk"), TRANSACTIONS_PER_PAGE).get_page(
            request.GET.get("page"))}

    template = "certificates/dashboard.html"
    if request.htmx and request.htmx.target == "results":
        template += "#results"
    return render(request, template, context)


@login_required
def download_csv(request: HttpRequest) -> HttpResponse:
    """The dashboard's current tab and filter as CSV, streamed at any size."""
    membership = membership_required(request)
    status = BATCH_TABS.get(request.GET.get("tab", "active"), CertificateBatch.Status.ACTIVE)
    _, queryset, _ = _filtered_batches(request.GET, membership.organization, status)
    rows = queryset.values_list(
        "certificate__serial_base", "serial_start", "serial_end", "quantity", "account__public_id",
        "account__name", "certificate__generator__code", "certificate__generator__name",
        "certificate__fuel_type", "certificate__state", "certificate__vintage", "certificate__eligibilities",
        "certificate__issued_at", "status",
    ).iterator(chunk_size=5000)

    def lines():
        for (base, start, end, quantity, account_id, account, generator_id, generator, fuel, state, vintage,
             eligibilities, issued_at, batch_status) in rows:
            yield [f"{base}-{start} to {end}", quantity, account_id, account, generator_id, generator,
                   FUEL_LABELS.get(fuel, fuel), state, vintage.strftime("%m/%Y"), "; ".join(eligibilities),
                   issued_at.date().isoformat(), batch_status]

    return csv_response(f"{status}-certificates.csv", CSV_HEADER, lines())


@login_required
@require_POST
def selection(request: HttpRequest) -> HttpResponse:
    """Add to, take from or clear the selection of batches to transfer; it survives paging and filtering."""
    membership = membership_required(request)
    action = request.POST.get("action", "")
    current = set(selection_ids(request))

    def posted(name):
        return {int(value) for value in request.POST.getlist(name) if value.isdigit()}

    if action == "toggle":
        batch_id = request.POST.get("id", "")
        if batch_id.isdigit():
            checked = batch_id in request.POST.getlist("batch")
            current = current | {int(batch_id)} if checked else current - {int(batch_id)}
    elif action == "page":  # a plain form post: this page's boxes as they are now
        current = (current - posted("page_batch")) | posted("batch")
    elif action == "add":
        current |= posted("page_batch")
    elif action == "remove":
        current -= posted("page_batch")
    elif action == "all":
        params = QueryDict(request.POST.get("query", ""))
        _, queryset, _ = _filtered_batches(params, membership.organization, CertificateBatch.Status.ACTIVE)
        current |= set(queryset.values_list("pk", flat=True)[:SELECTION_LIMIT])
    elif action == "clear":
        current = set()
    # Only the organization's active batches can be selected.
    allowed = set(batches_for_dashboard(membership.organization, CertificateBatch.Status.ACTIVE)
                  .filter(pk__in=current).values_list("pk", flat=True))
    ids = selection_save(request, allowed)

    if request.htmx:
        response = render(request, "certificates/dashboard.html#selection-bar",
                          {"selection_count": len(ids), "can_act": membership.can_transfer})
        if action in ("add", "remove", "all", "clear"):
            response["HX-Trigger"] = "selection-changed"
        return response
    return redirect(reverse("certificates:dashboard") + "?" + request.POST.get("query", ""))


@login_required
def transfer_template(request: HttpRequest) -> HttpResponse:
    """The mass-transfer template pre-filled with the selection (or the current filter): serial numbers
    and full quantities, destinations left blank."""
    membership = membership_required(request)
    if request.GET.get("selection"):
        queryset = selection_batches(membership.organization, selection_ids(request))
    else:
        _, queryset, _ = _filtered_batches(request.GET, membership.organization, CertificateBatch.Status.ACTIVE)
    rows = ([f"{base}-{start} to {end}", quantity, "", "", ""] for base, start, end, quantity in
            queryset.values_list("certificate__serial_base", "serial_start", "serial_end", "quantity")
            .iterator(chunk_size=5000))
    return csv_response("mass-certificate-transfers.csv", MASS_COLUMNS, rows)
