from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from registry.activity import event_person, event_sentence
from registry.models import Organization
from registry.selectors import membership_required
from registry.services import ServiceError
from utilities.csv_export import csv_response
from utilities.display import date_text
from utilities.filters import download_refused
from utilities.htmx import htmx_partial
from utilities.parsing import positive_integer, positive_integers

from .forms import GeneratorForm
from .generator_services import (
    KEY_ATTRIBUTES_TEXT,
    generator_register,
    generator_submit,
    generator_update,
    under_review_text,
)
from .models import CertificateBatch, FuelType, Generator
from .selectors import (
    SELECTION_LIMIT,
    batches_filtered,
    batches_totals,
    generator_history,
    generator_of,
    generators_of,
    selection_ids,
)
from .serials import format_serial
from .services import selection_change

BATCH_TABS = {
    "active": CertificateBatch.Status.ACTIVE,
    "exported": CertificateBatch.Status.EXPORTED,
}
TABS = [("active", "Active"), ("pending", "Pending"), ("retired", "Retired"), ("exported", "Exported"),
        ("transactions", "Transactions")]
PAGE_SIZES = [25, 50, 100, 500]
# The tabs that list transfers rather than batches come from the transfers app, a layer above this
# one, which puts a function (request, organization) -> the tab's context here when it is ready
# (transfers/apps.py).
TRANSFER_TABS: dict[str, Callable[[HttpRequest, Organization], dict]] = {}
# A number a tab's label shows whatever tab is open, e.g. "Pending (3)": organization -> count, put
# here by the app that knows it (the transfers app: the transfers waiting for a decision).
TAB_COUNTS: dict[str, Callable[[Organization], int]] = {}
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


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    membership = membership_required(request)
    organization = membership.organization
    tab = request.GET.get("tab", "active")
    if tab not in dict(TABS):
        tab = "active"

    def tabs():  # called by the template only when it draws the tabs: not for the results' partial
        return [(key, label, TAB_COUNTS[key](organization) if key in TAB_COUNTS else 0) for key, label in TABS]

    context = {"tabs": tabs, "tab": tab, "can_act": membership.can_transfer}

    if tab in BATCH_TABS:
        batch_filter, queryset, sort = batches_filtered(request.GET, organization, BATCH_TABS[tab])
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
    else:
        context |= TRANSFER_TABS[tab](request, organization)

    template = "certificates/dashboard.html"
    if htmx_partial(request) and request.htmx.target == "results":
        template += "#results"
    return render(request, template, context)


@login_required
def download_csv(request: HttpRequest) -> HttpResponse:
    """The dashboard's current tab and filter as CSV, streamed at any size."""
    membership = membership_required(request)
    status = BATCH_TABS.get(request.GET.get("tab", "active"), CertificateBatch.Status.ACTIVE)
    batch_filter, queryset, _ = batches_filtered(request.GET, membership.organization, status)
    if refused := download_refused(batch_filter):
        return refused
    return batches_csv(queryset, status)


def batches_csv(queryset: QuerySet[CertificateBatch], status: str) -> HttpResponse:
    """The batches' CSV download (the dashboard's, and the API's): one row a batch, streamed."""
    rows = queryset.values_list(
        "certificate__serial_base", "serial_start", "serial_end", "quantity", "account__public_id",
        "account__name", "certificate__generator__code", "certificate__generator__name",
        "certificate__fuel_type", "certificate__state", "certificate__period", "certificate__eligibilities",
        "certificate__issued_at", "status",
    ).iterator(chunk_size=5000)

    def lines():
        for (base, start, end, quantity, account_id, account, generator_id, generator, fuel, state, period,
             eligibilities, issued_at, batch_status) in rows:
            yield [format_serial(base, start, end), quantity, account_id, account, generator_id, generator,
                   FUEL_LABELS.get(fuel, fuel), state, str(period), "; ".join(eligibilities),
                   date_text(issued_at), batch_status]

    return csv_response(f"{status}-certificates.csv", CSV_HEADER, lines())


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
        response = render(request, "certificates/dashboard.html#selection-bar",
                          {"selection_count": len(ids), "can_act": membership.can_transfer})
        if action in ("add", "remove", "all", "clear"):
            response["HX-Trigger"] = "selection-changed"  # the boxes shown follow (dashboard.html)
        return response
    return redirect(reverse("certificates:dashboard") + "?" + request.POST.get("query", ""))


# Generators registered by participants (certificates.generator_services): everyone in the organization
# reads them; its managers register, change and submit them.

def _refusal_shown(form: GeneratorForm, error: ServiceError) -> None:
    """A service's refusal on the form: by the field it names, else above the form."""
    form.add_error(getattr(error, "field", None), str(error))


@login_required
def generator_list(request: HttpRequest) -> HttpResponse:
    membership = membership_required(request)
    return render(request, "certificates/generator_list.html", {
        "generators": generators_of(membership.organization), "can_manage": membership.is_manager})


@login_required
def generator_new(request: HttpRequest) -> HttpResponse:
    membership = membership_required(request, manage=True)
    form = GeneratorForm(request.POST if request.method == "POST" else None, organization=membership.organization)
    if request.method == "POST" and form.is_valid():
        try:
            generator = generator_register(user=request.user, organization=membership.organization,
                                           details=form.details())
        except ServiceError as error:
            _refusal_shown(form, error)
        else:
            messages.success(request, f"Generator {generator.code}, {generator.name}, is registered as a draft. "
                                      "Submit it for approval when it is complete.")
            return redirect("generators:detail", generator.pk)
    return render(request, "certificates/generator_form.html", {"form": form, "generator": None})


@login_required
def generator_detail(request: HttpRequest, generator_id: int) -> HttpResponse:
    membership = membership_required(request)
    generator = generator_of(membership.organization, generator_id)
    history = [(event, event_person(event, membership.organization), event_sentence(event, membership.organization))
               for event in generator_history(generator)]
    return render(request, "certificates/generator_detail.html", {
        "generator": generator, "history": history, "can_manage": membership.is_manager,
        "key_attributes": KEY_ATTRIBUTES_TEXT})


@login_required
def generator_edit(request: HttpRequest, generator_id: int) -> HttpResponse:
    membership = membership_required(request, manage=True)
    generator = generator_of(membership.organization, generator_id)
    if generator.is_under_review:
        messages.warning(request, under_review_text(generator))
        return redirect("generators:detail", generator.pk)
    form = GeneratorForm(request.POST if request.method == "POST" else None, organization=membership.organization,
                         initial=GeneratorForm.initial_of(generator))
    if request.method == "POST" and form.is_valid():
        was_approved = generator.status == Generator.Status.APPROVED
        try:
            changed = generator_update(user=request.user, organization=membership.organization, generator=generator,
                                       details=form.details())
        except ServiceError as error:
            _refusal_shown(form, error)
        else:
            if was_approved and changed.is_under_review:
                messages.warning(request, f"Generator {changed.code} is changed. A key attribute changed, so it is "
                                          "waiting for registry staff's approval again; no certificates are issued "
                                          "for it until they approve it.")
            else:
                messages.success(request, f"Generator {changed.code} is changed.")
            return redirect("generators:detail", changed.pk)
    return render(request, "certificates/generator_form.html", {"form": form, "generator": generator,
                                                                "key_attributes": KEY_ATTRIBUTES_TEXT})


@login_required
@require_POST
def generator_submit_page(request: HttpRequest, generator_id: int) -> HttpResponse:
    membership = membership_required(request, manage=True)
    generator = generator_of(membership.organization, generator_id)
    try:
        generator_submit(user=request.user, organization=membership.organization, generator=generator)
    except ServiceError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f"Generator {generator.code} is submitted for approval. Registry staff will "
                                  "approve it or send it back with a note; your organization's managers are "
                                  "emailed either way.")
    return redirect("generators:detail", generator.pk)
