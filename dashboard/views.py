"""The Certificates page: the batch tabs (Active, Exported) from certificates, and the tabs of
transfers (Pending, Transactions) and retirements (Retired) from their apps; the selection of
batches and the CSV download."""

from collections.abc import Callable

from django.contrib.auth.decorators import login_required
from django.core.paginator import Page, Paginator
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from certificates.models import CertificateBatch
from certificates.reviews import review_notice, review_today
from certificates.selectors import SELECTION_LIMIT, batches_filtered, batches_totals, selection_ids
from certificates.services import selection_change
from certificates.views import BATCH_TABS, batches_csv
from programs.filters import ProgramBatchFilter
from registry.models import Organization
from registry.selectors import membership_required
from retirements.views import dashboard_retired_tab
from transfers.selectors import transfers_incoming_pending_count
from transfers.views import dashboard_pending_tab, dashboard_transactions_tab
from utilities.filters import download_refused
from utilities.htmx import htmx_partial
from utilities.parsing import positive_integer, positive_integers
from utilities.replica import reads_may_lag

TABS = [("active", "Active"), ("pending", "Pending"), ("retired", "Retired"), ("exported", "Exported"),
        ("transactions", "Transactions")]
PAGE_SIZES = [25, 50, 100, 500]
# The tabs that list transfers rather than batches: each app's function (request, organization) ->
# the tab's context.
TRANSFER_TABS: dict[str, Callable[[HttpRequest, Organization], dict]] = {
    "pending": dashboard_pending_tab, "retired": dashboard_retired_tab, "transactions": dashboard_transactions_tab,
}
# A number a tab's label shows whatever tab is open, e.g. "Pending (3)": the transfers waiting for
# the organization's decision.
TAB_COUNTS: dict[str, Callable[[Organization], int]] = {"pending": transfers_incoming_pending_count}
COLUMNS = [("serial", "Serial Number"), ("quantity", "Quantity"), ("account", "Account"),
           ("generator", "Generator"), ("fuel", "Fuel"), ("state", "State"), ("vintage", "Vintage"),
           (None, "Eligibilities"), ("issued", "Issued on")]


def _page_size(request: HttpRequest) -> int:
    try:
        size = int(request.GET.get("per_page", PAGE_SIZES[0]))
    except ValueError:
        return PAGE_SIZES[0]
    return size if size in PAGE_SIZES else PAGE_SIZES[0]


def _page_uncounted(queryset, per_page: int, number: int) -> Page | None:
    """Page `number` of the rows without counting them all: a row more than the page says whether another
    follows. None past the last page (an old link): the rows are counted, to show the last."""
    bottom = (number - 1) * per_page
    rows = list(queryset[bottom:bottom + per_page + 1])
    if not rows and number > 1:
        return None
    paginator = Paginator(queryset, per_page)
    paginator.count = bottom + len(rows)  # what is known: the pages up to this one and whether one follows
    return Page(rows[:per_page], number, paginator)


@login_required
@reads_may_lag
def dashboard(request: HttpRequest) -> HttpResponse:
    membership = membership_required(request)
    organization = membership.organization
    tab = request.GET.get("tab", "active")
    if tab not in dict(TABS):
        tab = "active"

    def tabs():  # called by the template only when it draws the tabs: not for the results' partial
        return [(key, label, TAB_COUNTS[key](organization) if key in TAB_COUNTS else 0) for key, label in TABS]

    context = {"tabs": tabs, "tab": tab, "can_act": membership.can_transfer}
    results_only = htmx_partial(request) and request.htmx.target == "results"
    totals_only = htmx_partial(request) and request.htmx.target == "totals"  # the batch tabs' (below)
    if not (results_only or totals_only):  # the page's notice of the annual generator review (certificates.reviews)
        context["review_notice"] = review_notice(organization, review_today())

    if tab in BATCH_TABS:
        batch_filter, queryset, sort = batches_filtered(request.GET, organization, BATCH_TABS[tab],
                                                        ProgramBatchFilter)
        per_page, number = _page_size(request), positive_integer(request.GET.get("page")) or 1
        if totals_only:
            # The totals, asked for by the page once its rows are shown (hx-trigger="load"), with the
            # number of pages and the selection of every matching batch, which need them.
            totals = batches_totals(queryset)
            on_page = max(0, min(per_page, totals["count"] - (number - 1) * per_page))
            return render(request, "dashboard/dashboard.html#totals-answer", {
                "tab": tab, "can_act": membership.can_transfer, "totals": totals, "on_page": on_page,
                "page_number": number,
                "page_count": Paginator(range(totals["count"]), per_page).num_pages})
        # The rows without their totals: an organization's totals over a period range take a second and
        # more with 10,000,000 batches (bench/scale_reads.py), the rows tens of milliseconds. The page
        # asks for them after (the totals partial); without JavaScript, a link shows the page with them.
        page = None if request.GET.get("totals") else _page_uncounted(queryset, per_page, number)
        totals = None
        if page is None:
            totals = batches_totals(queryset)
            paginator = Paginator(queryset, per_page)
            paginator.count = totals["count"]  # a cached property: the totals' count, not a second COUNT
            page = paginator.get_page(number)
        selected = set(selection_ids(request))
        context |= {
            "filter": batch_filter, "page": page, "columns": COLUMNS, "totals": totals, "sort": sort,
            "page_sizes": PAGE_SIZES, "per_page": per_page, "selected": selected,
            "selection_count": len(selected), "selection_limit": SELECTION_LIMIT,
            "page_ids": [batch.pk for batch in page.object_list], "on_page": len(page.object_list),
            "page_count_later": totals is None,
        }
    else:
        context |= TRANSFER_TABS[tab](request, organization)

    template = "dashboard/dashboard.html"
    if results_only:
        template += "#results"
    return render(request, template, context)


@login_required
@reads_may_lag
def download_csv(request: HttpRequest) -> HttpResponse:
    """The dashboard's current tab and filter as CSV, streamed at any size."""
    membership = membership_required(request)
    status = BATCH_TABS.get(request.GET.get("tab", "active"), CertificateBatch.Status.ACTIVE)
    batch_filter, queryset, _ = batches_filtered(request.GET, membership.organization, status, ProgramBatchFilter)
    if refused := download_refused(batch_filter):
        return refused
    return batches_csv(queryset, status)


# The Active tab's Transfer and Retire: buttons of the selection form, so the press takes the ticked
# boxes with it (as "Update selection" does), then starts that flow of the wizard.
SELECTION_STARTS = {"transfer": "transfers:new", "retire": "transfers:retire"}


@login_required
@require_POST
def selection(request: HttpRequest) -> HttpResponse:
    """Add to, take from or clear the selection of batches to transfer; it survives paging and filtering."""
    membership = membership_required(request)
    action = request.POST.get("action", "")
    ids = selection_change(
        session=request.session, organization=membership.organization,
        action="page" if action in SELECTION_STARTS else action,
        ticked=set(positive_integers(request.POST.getlist("batch"))),
        on_page=set(positive_integers(request.POST.getlist("page_batch"))),
        batch_id=positive_integer(request.POST.get("id")), query=QueryDict(request.POST.get("query", "")))
    if action in SELECTION_STARTS:
        # Answered with a redirect even to htmx: the boosted form's request follows it, and the
        # wizard's first step comes back as a whole page (no reload), its address pushed.
        return redirect(SELECTION_STARTS[action])

    if request.htmx:
        response = render(request, "dashboard/dashboard.html#selection-bar",
                          {"selection_count": len(ids), "can_act": membership.can_transfer})
        if action in ("add", "remove", "all", "clear"):
            response["HX-Trigger"] = "selection-changed"  # the boxes shown follow (dashboard.html)
        return response
    return redirect(reverse("dashboard:certificates") + "?" + request.POST.get("query", ""))
