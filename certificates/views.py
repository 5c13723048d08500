from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from registry.activity import event_person, event_sentence
from registry.selectors import membership_required
from registry.services import ServiceError
from utilities.csv_export import csv_response
from utilities.display import date_text

from .forms import GeneratorForm
from .generator_services import (
    KEY_ATTRIBUTES_TEXT,
    generator_register,
    generator_review_confirm,
    generator_submit,
    generator_update,
    under_review_text,
)
from .models import CertificateBatch, FuelType, Generator
from .period_texts import period_texts
from .reviews import annual_review, annual_review_next, generators_to_review, review_notice, review_today
from .selectors import generator_eligibilities, generator_history, generator_of, generators_of
from .serials import format_serial

# The batch statuses the dashboard's batch tabs and the API's batches list, by name.
BATCH_TABS = {
    "active": CertificateBatch.Status.ACTIVE,
    "exported": CertificateBatch.Status.EXPORTED,
}
FUEL_LABELS = dict(FuelType.choices)
CSV_HEADER = ["Serial Number", "Quantity", "Account ID", "Account", "Generator ID", "Generator", "Fuel",
              "State", "Vintage", "Eligibilities", "Issued on", "Status"]


def batches_csv(queryset: QuerySet[CertificateBatch], status: str) -> HttpResponse:
    """The batches' CSV download (the dashboard's, and the API's): one row a batch, streamed."""
    # A period comes as its two bounds and is worded once per distinct period (certificates.period_texts).
    rows = queryset.values_list(
        "certificate__serial_base", "serial_start", "serial_end", "quantity", "account__public_id",
        "account__name", "certificate__generator__code", "certificate__generator__name",
        "certificate__fuel_type", "certificate__state", "certificate__period__startswith",
        "certificate__period__endswith", "certificate__eligibilities", "certificate__issued_at", "status",
    ).iterator(chunk_size=5000)

    def lines():
        for (base, start, end, quantity, account_id, account, generator_id, generator, fuel, state, period_start,
             period_end, eligibilities, issued_at, batch_status) in rows:
            yield [format_serial(base, start, end), quantity, account_id, account, generator_id, generator,
                   FUEL_LABELS.get(fuel, fuel), state, period_texts(period_start, period_end).data,
                   "; ".join(eligibilities), date_text(issued_at), batch_status]

    return csv_response(f"{status}-certificates.csv", CSV_HEADER, lines())


# Generators registered by participants (certificates.generator_services): everyone in the organization
# reads them; its managers register, change and submit them.

def _refusal_shown(form: GeneratorForm, error: ServiceError) -> None:
    """A service's refusal on the form: by the field it names, else above the form."""
    form.add_error(getattr(error, "field", None), str(error))


def _to_confirm(organization, today) -> tuple[set[int], object]:
    """The ids of the organization's generators to confirm in the review that applies on `today`, and it."""
    review = annual_review(today)
    if review is None:
        return set(), None
    return set(generators_to_review(review).of(organization).values_list("pk", flat=True)), review


@login_required
def generator_list(request: HttpRequest) -> HttpResponse:
    membership = membership_required(request)
    today = review_today()
    to_confirm, review = _to_confirm(membership.organization, today)
    return render(request, "certificates/generator_list.html", {
        "generators": generators_of(membership.organization), "can_manage": membership.is_manager,
        "to_confirm": to_confirm, "review": review, "review_notice": review_notice(membership.organization, today)})


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
    today = timezone.localdate()
    eligibilities = [(eligibility, eligibility.gap(today))
                     for eligibility in generator_eligibilities([generator.pk])[generator.pk]]
    review_day = review_today()
    to_confirm, review = _to_confirm(membership.organization, review_day)
    return render(request, "certificates/generator_detail.html", {
        "generator": generator, "history": history, "can_manage": membership.is_manager,
        "key_attributes": KEY_ATTRIBUTES_TEXT, "eligibilities": eligibilities,
        "review": review, "to_confirm": generator.pk in to_confirm,
        "review_overdue": review is not None and review.is_overdue(review_day),
        "confirmed": generator.annual_reviews.select_related("confirmed_by").first(),
        "next_review": annual_review_next(review_day)})


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


@login_required
@require_POST
def generator_confirm_page(request: HttpRequest, generator_id: int) -> HttpResponse:
    """A manager confirms the generator's registration in the annual review (generator_review_confirm)."""
    membership = membership_required(request, manage=True)
    generator = generator_of(membership.organization, generator_id)
    try:
        confirmation = generator_review_confirm(user=request.user, organization=membership.organization,
                                                generator=generator, today=review_today())
    except ServiceError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f"Generator {generator.code}'s registration is confirmed for {confirmation.year}.")
    return redirect("generators:detail", generator.pk)
