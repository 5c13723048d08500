"""The four-step transfer wizard. The draft lives on the server (a draft Transfer), so a reload
resumes it. Each step is a plain form. A successful POST answers with a redirect to the next step
(post/redirect/get: a reload shows that step, not the form again); an htmx POST, made with
JavaScript on, is answered with the next step itself, in one round trip, its address pushed into
the browser's history (HX-Push-Url). Step 3 (Review) has nothing to submit: its button is a link
to step 4.

One wizard, two flows: a draft of kind retirement (started by Retire) has "Retirement details" as
its step 2 and is confirmed by retirement_create; the other steps are the transfer's."""

import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ObjectDoesNotExist
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.text import get_text_list
from django_htmx.http import push_url

from accounts.models import Account
from certificates.models import CertificateBatch
from certificates.selectors import SELECTION_LIMIT, selection_batches, selection_ids
from certificates.serials import format_serial, split_range
from certificates.services import selection_drop
from registry.models import Organization, TrackingSystem
from registry.selectors import membership_required
from retirements.forms import RetirementForm
from retirements.models import Retirement, RetirementOption
from retirements.services import RetirementDetails, retirement_create
from utilities.display import number_text
from utilities.htmx import HtmxHttpRequest, htmx_partial, htmx_redirect
from utilities.parsing import positive_integers

from .forms import DestinationForm, QuantityForm, organizations_offered
from .models import Transfer, pending_lifetime
from .selectors import draft_batches, draft_for, tracking_systems_to_export_to, transfers_visible_to
from .services import (
    BatchChanged,
    Destination,
    DraftAlreadySubmitted,
    TransferLine,
    TransferRefused,
    transfer_create,
    transfer_draft_fail,
    transfer_draft_save,
    transfer_draft_start,
)

STEPS = [("quantity", "Quantity"), ("destination", "Destination type"), ("review", "Review"), ("confirm", "Confirm")]
RETIREMENT_STEPS = [("quantity", "Quantity"), ("destination", "Retirement details"), ("review", "Review"),
                    ("confirm", "Confirm")]
STEP_NUMBER = {name: number for number, (name, _) in enumerate(STEPS, start=1)}
REGION = "#wizard"  # the part of the page a step swaps in, and the done page after it


def _step_urls(draft: Transfer) -> dict[str, str]:
    """Every step's address (transfers/urls.py: new/<pk>/<step>/), from one reverse(): each costs
    ~130 Python calls, and every page of the wizard links all four."""
    stem = reverse("transfers:wizard", args=[draft.pk, STEPS[0][0]]).removesuffix(f"{STEPS[0][0]}/")
    return {name: f"{stem}{name}/" for name, _ in STEPS}


def _step_url(draft: Transfer, step: str) -> str:
    return _step_urls(draft)[step]


def _go(request: HtmxHttpRequest, url: str) -> HttpResponse:
    """To another page of the wizard (a step, or the done page)."""
    return htmx_redirect(request, url, target=REGION)


def _leave(request: HtmxHttpRequest, url: str) -> HttpResponse:
    """Out of the wizard, to a whole page (the dashboard)."""
    return htmx_redirect(request, url)


def _next(request: HtmxHttpRequest, url: str, page) -> HttpResponse:
    """After a successful POST (or the start), on to `url`: a redirect, or for htmx the page itself,
    `page()`, with `url` pushed into the address bar (a boosted start gets the whole page)."""
    if not request.htmx:
        return redirect(url)
    return push_url(page(), url)


def _submitted(request: HtmxHttpRequest, draft: Transfer) -> HttpResponse:
    messages.info(request, f"Transfer {draft.pk} has already been submitted.")
    return _go(request, reverse("transfers:done", args=[draft.pk]))


def _selection_drop(request: HtmxHttpRequest, transferred: set[int]) -> None:
    """Take the transferred batches out of the dashboard's selection (the session is written only
    when that changes it)."""
    selection_drop(session=request.session, batch_ids=transferred)


def _chosen(queryset, pk):
    """The object `pk` of `queryset`, or None: a choice saved at step 2 that is gone since."""
    try:
        return queryset.get(pk=pk)
    except ObjectDoesNotExist:
        return None


def _destination_of(draft: Transfer, organization: Organization) -> Destination | None:
    """The destination chosen at step 2, as the service takes it; None if it is gone."""
    chosen = draft.draft
    kind = chosen.get("kind")
    if kind == Transfer.Kind.INTERNAL:
        account = _chosen(Account.objects.of(organization), chosen.get("account"))
        return Destination.internal(account) if account else None
    if kind == Transfer.Kind.ORGANIZATION:
        recipient = _chosen(Organization.objects.all(), chosen.get("recipient"))
        return Destination.to_organization(recipient) if recipient else None
    if kind == Transfer.Kind.EXPORT:
        system = _chosen(TrackingSystem.objects.all(), chosen.get("tracking_system"))
        return Destination.export(system, chosen.get("recipient_name", ""),
                                  chosen.get("recipient_account_ref", "")) if system else None
    return None


def _retiring(draft: Transfer) -> bool:
    """Whether the draft is the wizard's retirement flow."""
    return draft.kind == Transfer.Kind.RETIREMENT


def _retirement_of(draft: Transfer, organization: Organization) -> tuple[Account | None, RetirementDetails]:
    """The retirement account and details chosen at step 2 of a retirement, as the service takes them."""
    chosen = draft.draft
    account = _chosen(Account.objects.of(organization), chosen.get("account")) if chosen.get("account") else None
    option = _chosen(RetirementOption.objects.all(), chosen.get("option")) if chosen.get("option") else None
    day = datetime.date.fromisoformat
    return account, RetirementDetails(
        option=option, compliance_period=chosen.get("compliance_period"),
        period_start=day(chosen["period_start"]) if chosen.get("period_start") else None,
        period_end=day(chosen["period_end"]) if chosen.get("period_end") else None,
        beneficiary=chosen.get("beneficiary", ""))


def _render(request: HtmxHttpRequest, draft: Transfer, step: str, context: dict,
            batches: list[CertificateBatch]) -> HttpResponse:
    partial = htmx_partial(request)
    steps = RETIREMENT_STEPS if _retiring(draft) else STEPS  # the same addresses, step 2 named for its flow
    step_urls = _step_urls(draft)
    kind = draft.kind or draft.draft.get("kind")
    return render(request, "transfers/wizard.html#wizard" if partial else "transfers/wizard.html", {
        "draft": draft, "step": step, "step_number": STEP_NUMBER[step], "step_urls": step_urls,
        "step_url": step_urls[step],
        "steps": [(name, label, step_urls[name]) for name, label in steps], "partial": partial,
        "retiring": _retiring(draft),
        "reached": draft.draft.get("step", 1), "kinds": Transfer.Kind,
        "stale": [batch for batch in batches if batch.status != CertificateBatch.Status.ACTIVE],
        "kind_label": Transfer.Kind(kind).label if kind else "", **context,
    })


@login_required
def transfer_new(request: HtmxHttpRequest) -> HttpResponse:
    """Start the wizard for the selected batches (the dashboard's selection, or ?batch=… ids)."""
    return _start(request, kind="")


@login_required
def retirement_new(request: HtmxHttpRequest) -> HttpResponse:
    """Start the wizard's retirement flow for the selected batches, as transfer_new does."""
    return _start(request, kind=Transfer.Kind.RETIREMENT)


def _start(request: HtmxHttpRequest, *, kind: str) -> HttpResponse:
    membership = membership_required(request, act=True)
    organization = membership.organization
    # A link may name its batches (?batch=…); the dashboard's selection is then left as it is.
    named = request.GET.getlist("batch")
    wanted = positive_integers(named)
    unreadable = len(named) - len(wanted)  # not ids: counted among the batches left out
    wanted = wanted[:SELECTION_LIMIT]
    batches = list(selection_batches(organization, wanted if named else selection_ids(request))
                   .values_list("pk", "quantity"))
    refused = (len(set(wanted)) + unreadable - len(batches)) if named else 0
    if refused > 0:
        messages.warning(request, f"{refused} of the chosen batches are not active certificates of "
                                  f"{organization.name} and were left out.")
    if not batches:
        button = "Retire" if kind == Transfer.Kind.RETIREMENT else "Transfer"
        messages.error(request, f"Select one or more active batches on the Active tab, then press {button}.")
        return _leave(request, reverse("dashboard:certificates"))
    try:
        draft = transfer_draft_start(membership=membership, batches=batches, kind=kind)
    except TransferRefused as refusal:  # the organization may not send now (the annual generator review)
        messages.error(request, str(refusal))
        return _leave(request, reverse("dashboard:certificates"))
    return _next(request, _step_url(draft, "quantity"), lambda: _quantity_page(request, organization, draft))


@login_required
def transfer_wizard(request: HtmxHttpRequest, pk: int, step: str) -> HttpResponse:
    if step not in STEP_NUMBER:
        raise Http404("No such step.")
    membership = membership_required(request, act=True)
    draft = draft_for(pk=pk, organization=membership.organization, user=request.user)
    if draft.status == Transfer.Status.FAILED:
        messages.error(request, f"This transfer could not be made: {draft.decision_note}")
        return _leave(request, reverse("dashboard:certificates"))
    if draft.status != Transfer.Status.DRAFT:
        return _submitted(request, draft)
    reached = draft.draft.get("step", 1)
    if STEP_NUMBER[step] > reached:
        return _go(request, _step_url(draft, STEPS[reached - 1][0]))
    step_view = {"quantity": _step_quantity, "destination": _step_destination, "review": _step_review,
                 "confirm": _step_confirm}[step]
    try:
        return step_view(request, membership.organization, draft)
    except DraftAlreadySubmitted:  # confirmed meanwhile (another tab)
        return _submitted(request, draft)


def _quantity_form(request: HtmxHttpRequest, organization: Organization, draft: Transfer, data=None) -> QuantityForm:
    lines = draft_batches(draft, organization)
    return QuantityForm(data, batches=[batch for batch, _ in lines],
                        quantities={batch.pk: quantity for batch, quantity in lines})


def _quantity_page(request: HtmxHttpRequest, organization: Organization, draft: Transfer,
                   form: QuantityForm | None = None) -> HttpResponse:
    form = form or _quantity_form(request, organization, draft)
    return _render(request, draft, "quantity", {"form": form}, form.batches)


def _step_quantity(request: HtmxHttpRequest, organization: Organization, draft: Transfer) -> HttpResponse:
    if request.method != "POST":
        return _quantity_page(request, organization, draft)
    form = _quantity_form(request, organization, draft, request.POST)
    if not form.is_valid():
        return _quantity_page(request, organization, draft, form)
    transfer_draft_save(draft=draft, lines=form.lines(), step=max(draft.draft.get("step", 1), 2))
    return _next(request, _step_url(draft, "destination"), lambda: _destination_page(
        request, organization, draft, _destination_form(organization, draft, batches=form.batches)))


def _destination_form(organization: Organization, draft: Transfer, data=None,
                      batches: list[CertificateBatch] | None = None) -> DestinationForm | RetirementForm:
    """Step 2's form, with the choices saved on the draft; `batches`, the draft's, if this request
    has read them already."""
    chosen = draft.draft
    if _retiring(draft):
        form = RetirementForm(data, organization=organization, initial={
            name: chosen.get(name) for name in RetirementForm.base_fields})
        form.batches = batches if batches is not None else [batch for batch, _ in draft_batches(draft, organization)]
        return form
    initial = {"kind": chosen.get("kind"), "account": chosen.get("account"),
               "organization": chosen.get("organization_text"), "tracking_system": chosen.get("tracking_system"),
               "recipient_name": chosen.get("recipient_name"),
               "recipient_account_ref": chosen.get("recipient_account_ref"), "notes": chosen.get("notes")}
    if batches is None:
        batches = [batch for batch, _ in draft_batches(draft, organization)]
    return DestinationForm(data, organization=organization, initial=initial, batches=batches,
                           tracking_systems=tracking_systems_to_export_to)


def _destination_page(request: HtmxHttpRequest, organization: Organization, draft: Transfer,
                      form: DestinationForm | None = None) -> HttpResponse:
    form = form or _destination_form(organization, draft)
    values = {} if _retiring(draft) else form.values()
    return _render(request, draft, "destination", {"form": form, "values": values}, form.batches)


def _step_destination(request: HtmxHttpRequest, organization: Organization, draft: Transfer) -> HttpResponse:
    if request.method != "POST":
        return _destination_page(request, organization, draft)
    form = _destination_form(organization, draft, request.POST)
    if not form.is_valid():
        return _destination_page(request, organization, draft, form)
    # Step 3 has nothing to enter: steps 3 and 4 open together.
    transfer_draft_save(draft=draft, **form.draft_fields(), step=4)
    destination = Destination.retirement(form.cleaned_data["account"]) if _retiring(draft) else form.destination()
    return _next(request, _step_url(draft, "review"), lambda: _render_review(
        request, draft, organization, "review", destination=destination, batches=form.batches))


def _review_lines(lines: list[tuple[CertificateBatch, int]]) -> list[dict]:
    """Per batch: the exact serial range that leaves and the one that stays."""
    rows = []
    for batch, quantity in lines:
        if batch.status != CertificateBatch.Status.ACTIVE:  # changed meanwhile: shown as stale
            rows.append({"batch": batch, "quantity": quantity, "leaves": batch.serial_number, "stays": None})
            continue
        base = batch.certificate.serial_base
        quantity = min(quantity, batch.quantity)
        moved, staying = split_range(batch.serial_start, batch.serial_end, quantity)
        rows.append({"batch": batch, "quantity": quantity, "leaves": format_serial(base, *moved),
                     "stays": format_serial(base, *staying) if staying else None})
    return rows


def _step_review(request: HtmxHttpRequest, organization: Organization, draft: Transfer) -> HttpResponse:
    if request.method == "POST":  # a page from before step 3's button became a link
        return _go(request, _step_url(draft, "confirm"))
    return _render_review(request, draft, organization, "review")


def _render_review(request: HtmxHttpRequest, draft: Transfer, organization: Organization, step: str,
                   error: str = "", *, destination: Destination | None = None,
                   batches: list[CertificateBatch] | None = None) -> HttpResponse:
    """Step 3 (the serial numbers that leave each account and those that stay) or step 4 (what
    will happen, and the button that does it); `destination` and `batches`, the draft's, if this
    request has read them already."""
    retirement_facts, option = [], None
    if _retiring(draft):
        account, details = _retirement_of(draft, organization)
        destination = destination or (Destination.retirement(account) if account else None)
        if details.option is not None:
            option = details.option
            retirement_facts = Retirement(option=details.option, compliance_period=details.compliance_period,
                                          period_start=details.period_start, period_end=details.period_end,
                                          beneficiary=details.beneficiary).facts()[1:]  # no reference yet
    destination = destination or _destination_of(draft, organization)
    rows = _review_lines(draft_batches(draft, organization, batches))
    total = sum(row["quantity"] for row in rows)
    sources = _source_accounts([row["batch"] for row in rows])
    context = {"rows": rows, "destination_label": destination.label if destination else "", "error": error,
               "total": total, "retirement_facts": retirement_facts, "source_accounts": sources}
    if step == "confirm" and destination is not None:
        context["what_happens"] = _what_happens(destination, total=total, batch_count=len(rows),
                                                sources=sources, option=option)
    return _render(request, draft, step, context, [row["batch"] for row in rows])


def _source_accounts(batches: list[CertificateBatch]) -> list[Account]:
    """The accounts the certificates come from, by name (as transfer_source_accounts orders them)."""
    accounts = {batch.account_id: batch.account for batch in batches}
    return sorted(accounts.values(), key=lambda account: (account.name, account.pk))


def _what_happens(destination: Destination, *, total: int, batch_count: int, sources: list[Account],
                  option: RetirementOption | None) -> list[str]:
    """Step 4: what pressing its button does, in sentences, for each kind of destination."""
    one = total == 1
    certificates = (f"{number_text(total)} certificate{'' if one else 's'} in {number_text(batch_count)} "
                    f"batch{'' if batch_count == 1 else 'es'}")
    origin = get_text_list([str(account) for account in sources], "and")
    leave, wait = ("leaves", "waits") if one else ("leave", "wait")
    kind = destination.kind
    if kind == Transfer.Kind.RETIREMENT:
        counts = f", counting toward {option.counts_toward}" if option else ""
        return [f"When you select “Retire”, {certificates} {leave} {origin} and {'is' if one else 'are'} retired "
                f"into {destination.label}{counts}.",
                "Retirement is final: retired certificates never move again. You then get the retirement’s "
                "reference, its statement (PDF) and a public page where anyone can check it."]
    if kind == Transfer.Kind.INTERNAL:
        return [f"When you select “Transfer”, {certificates} {'moves' if one else 'move'} from {origin} to "
                f"{destination.label} at once. The transfer is then complete: nobody else needs to accept it."]
    if kind == Transfer.Kind.ORGANIZATION:
        recipient, days = destination.organization.name, pending_lifetime().days
        return [f"When you select “Transfer”, {certificates} {leave} {origin} and {wait}, pending, for "
                f"{destination.label} to accept {'it' if one else 'them'}.",
                f"Until {recipient} accepts or rejects the transfer, you may withdraw it. If {recipient} has not "
                f"decided within {days} day{'' if days == 1 else 's'}, the transfer expires. A rejected, "
                f"withdrawn or expired transfer returns the certificates to {origin}."]
    return [f"When you select “Transfer”, {certificates} {leave} {origin} for {destination.label} and {wait}, "
            f"pending, until {destination.tracking_system.name} accepts {'it' if one else 'them'}.",
            f"If {destination.tracking_system.name} refuses the export, the certificates return to {origin}."]


def _step_confirm(request: HtmxHttpRequest, organization: Organization, draft: Transfer) -> HttpResponse:
    if request.method != "POST":
        return _render_review(request, draft, organization, "confirm")
    lines = [TransferLine(batch_id, quantity) for batch_id, quantity in draft.draft.get("lines", [])]
    notes = draft.draft.get("notes", "")
    if _retiring(draft):
        account, details = _retirement_of(draft, organization)
        if account is None or details.problems():
            messages.error(request, "Choose the retirement account and what the retirement counts toward.")
            return _go(request, _step_url(draft, "destination"))

        def create():
            return retirement_create(organization=organization, user=request.user, lines=lines, account=account,
                                     details=details, notes=notes, draft=draft)
    else:
        destination = _destination_of(draft, organization)
        if destination is None:
            messages.error(request, "Choose where the certificates go.")
            return _go(request, _step_url(draft, "destination"))

        def create():
            return transfer_create(organization=organization, user=request.user, lines=lines,
                                   destination=destination, notes=notes, draft=draft)
    try:
        transfer = create()
    except DraftAlreadySubmitted:
        raise  # answered by transfer_wizard, as for an earlier step's save
    except BatchChanged as refusal:  # the selection must be made again: this draft cannot be confirmed
        transfer_draft_fail(draft=draft, reason=str(refusal))
        messages.error(request, str(refusal))
        return _leave(request, reverse("dashboard:certificates"))
    except TransferRefused as refusal:  # the destination, say: shown on this step, to change it
        return _render_review(request, draft, organization, "confirm", error=str(refusal))
    _selection_drop(request, {batch_id for batch_id, _ in draft.draft.get("lines", [])})
    return _next(request, reverse("transfers:done", args=[transfer.pk]), lambda: _done_page(request, transfer))


def _done_page(request: HtmxHttpRequest, transfer: Transfer) -> HttpResponse:
    partial = htmx_partial(request)
    return render(request, "transfers/done.html#done" if partial else "transfers/done.html",
                  {"transfer": transfer, "partial": partial})


@login_required
def transfer_done(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    membership = membership_required(request)
    transfer = transfers_visible_to(membership.organization).filter(pk=pk).exclude(
        status=Transfer.Status.DRAFT).select_related("recipient_organization").first()
    if transfer is None:
        raise Http404("No such transfer.")
    return _done_page(request, transfer)


@login_required
def organization_search(request: HtmxHttpRequest) -> HttpResponse:
    """The type-ahead of step 2: organizations to transfer to, by registered name or MM id."""
    membership = membership_required(request, act=True)
    found = organizations_offered(membership.organization, request.GET.get("organization", ""))
    return render(request, "transfers/_organization_options.html", {"organizations": found})
