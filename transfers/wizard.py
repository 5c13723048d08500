"""The four-step transfer wizard. The draft lives on the server (a draft Transfer), so a reload
resumes it; each step is a plain form post, swapped in with HTMX when JavaScript is on."""

import copy

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import resolve, reverse

from accounts.models import Account
from certificates.models import Certificate, CertificateBatch, Generator
from certificates.selectors import SELECTION_LIMIT, selection_ids, selection_save
from certificates.serials import format_serial, split_range
from registry.models import Organization, TrackingSystem
from registry.rows import Columns, select_models, select_models_together
from registry.selectors import membership_required
from utilities.parsing import positive_integers

from .forms import DestinationForm, QuantityForm, organizations_matching
from .models import Transfer
from .selectors import transfers_visible_to
from .services import (
    Destination,
    TransferLine,
    TransferRefused,
    transfer_create,
    transfer_draft_fail,
    transfer_draft_save,
    transfer_draft_start,
)

STEPS = [("quantity", "Quantity"), ("destination", "Destination type"), ("review", "Review"), ("confirm", "Confirm")]
KIND_LABELS = {Transfer.Kind.INTERNAL: "To active accounts", Transfer.Kind.ORGANIZATION: "To another organization",
               Transfer.Kind.EXPORT: "Out of the platform"}
STEP_NUMBER = {name: number for number, (name, _) in enumerate(STEPS, start=1)}


def _go(request: HttpRequest, url: str) -> HttpResponse:
    """After a successful step (or the start): a redirect; for HTMX, the page at `url` itself,
    with HX-Push-Url.

    HTMX swaps the answer in and puts `url` in the address bar, as the redirect would have, in one
    round trip instead of two (a wizard step is then one request, not a POST and a GET).
    """
    if not request.htmx:
        return redirect(url)
    match = resolve(url)
    if match.view_name not in ("transfers:wizard", "transfers:done"):  # leaving the wizard: a whole page
        return HttpResponse(status=204, headers={"HX-Redirect": url})
    follow = copy.copy(request)
    follow.method, follow.path, follow.path_info = "GET", url, url
    follow.GET, follow._post = QueryDict(), QueryDict()
    response = match.func(follow, *match.args, **match.kwargs)
    if response.status_code == 302:  # the step sent it elsewhere (already submitted, say)
        return HttpResponse(status=204, headers={"HX-Redirect": response["Location"]})
    response["HX-Push-Url"] = url
    return response


# The two reads of every wizard request, written once (registry.rows): the user's draft, and its
# batches with what the steps show of them.
_TRANSFER = Columns(Transfer, "t")
DRAFT_SQL = f"SELECT {_TRANSFER.sql} FROM {_TRANSFER.table} WHERE t.id = %s AND t.organization_id = %s " \
            "AND t.created_by_id = %s"
_BATCH, _CERTIFICATE, _GENERATOR, _ACCOUNT = (Columns(CertificateBatch, "b"), Columns(Certificate, "c"),
                                              Columns(Generator, "g"), Columns(Account, "a"))
_BATCHES_OF = f"""
    SELECT {_BATCH.sql}, {_CERTIFICATE.sql}, {_GENERATOR.sql}, {_ACCOUNT.sql}
    FROM {_BATCH.table}
    JOIN {_CERTIFICATE.table} ON c.id = b.certificate_id
    JOIN {_GENERATOR.table} ON g.id = c.generator_id
    JOIN {_ACCOUNT.table} ON a.id = b.account_id
    WHERE a.organization_id = %s AND b.id = ANY("""
DRAFT_BATCHES_SQL = _BATCHES_OF + "%s)"
# The selected batches that can start a draft: the organization's, active, in the dashboard's order.
SELECTED_BATCHES_SQL = _BATCHES_OF + "%s) AND b.status = %s ORDER BY c.vintage, b.certificate_id, b.serial_start"
# The batches of the draft as DRAFT_SQL finds it: the two are sent together (one round trip).
BATCHES_OF_DRAFT_SQL = _BATCHES_OF + f"""
    ARRAY(SELECT (line ->> 0)::bigint FROM {_TRANSFER.table}, jsonb_array_elements(t.draft -> 'lines') AS line
          WHERE t.id = %s AND t.organization_id = %s AND t.created_by_id = %s))
"""
ACCOUNTS_SQL = f"SELECT {_ACCOUNT.sql} FROM {_ACCOUNT.table} WHERE a.organization_id = %s ORDER BY a.name, a.id"
_TRACKING_SYSTEM = Columns(TrackingSystem, "s")
TRACKING_SYSTEMS_SQL = f"SELECT {_TRACKING_SYSTEM.sql} FROM {_TRACKING_SYSTEM.table} WHERE s.is_active ORDER BY s.code"


def _swaps_in(request: HttpRequest) -> bool:
    """An htmx request for the wizard's part of the page; a boosted one (the dashboard's Transfer
    link) loads a whole page."""
    return bool(request.htmx) and not request.htmx.boosted


def _selection_drop(request: HttpRequest, transferred: set[int]) -> None:
    """Take the transferred batches out of the dashboard's selection (the session is written only
    when that changes it)."""
    selected = selection_ids(request)
    if transferred.intersection(selected):
        selection_save(request, [batch_id for batch_id in selected if batch_id not in transferred])


def _step_url(draft: Transfer, step: str) -> str:
    return reverse("transfers:wizard", args=[draft.pk, step])


def _draft(request: HttpRequest, pk: int):
    """The current user's draft in this organization: 403 for a read-only role, 404 for anyone else's."""
    membership = membership_required(request, act=True)
    draft = getattr(request, "wizard_draft", None)  # the step just posted, when _go answers with the next one
    if draft is None or draft.pk != pk:
        scope = [pk, membership.organization_id, request.user.pk]
        found, batch_rows = select_models_together(
            (DRAFT_SQL, scope, (_TRANSFER,)),
            (BATCHES_OF_DRAFT_SQL, [membership.organization_id, *scope], (_BATCH, _CERTIFICATE, _GENERATOR, _ACCOUNT)))
        if not found:
            raise Http404("No such transfer.")
        draft = found[0][0]
        draft.loaded_batches = _batches_loaded(draft, batch_rows)
    request.wizard_draft = draft
    return membership, draft


def _draft_batches(draft: Transfer, organization: Organization) -> list[tuple[CertificateBatch, int]]:
    lines = draft.draft.get("lines", [])
    ids = tuple(batch_id for batch_id, _ in lines)
    loaded = getattr(draft, "loaded_batches", None)  # read once a request, though a step and the next both show them
    if loaded is None or loaded[0] != ids:
        loaded = draft.loaded_batches = _batches_loaded(draft, select_models(
            DRAFT_BATCHES_SQL, [organization.pk, list(ids)], _BATCH, _CERTIFICATE, _GENERATOR, _ACCOUNT))
    batches = loaded[1]
    return [(batches[batch_id], quantity) for batch_id, quantity in lines if batch_id in batches]


def _accounts(request: HttpRequest, organization: Organization) -> dict[int, Account]:
    """The organization's accounts, read once a request: step 2 lists the open active ones, review
    and confirm name the chosen one (a step's post and the next step's page are one request)."""
    accounts = getattr(request, "wizard_accounts", None)
    if accounts is None:
        accounts = request.wizard_accounts = {
            account.pk: account for account, in select_models(ACCOUNTS_SQL, [organization.pk], _ACCOUNT)}
    return accounts


def _tracking_systems() -> list[TrackingSystem]:
    return [system for system, in select_models(TRACKING_SYSTEMS_SQL, [], _TRACKING_SYSTEM)]


def _batches_loaded(draft: Transfer, rows) -> tuple[tuple, dict[int, CertificateBatch]]:
    """The draft's batch ids as its lines list them, and the batches read, by id."""
    batches = {}
    for batch, certificate, generator, account in rows:
        certificate.generator, batch.certificate, batch.account = generator, certificate, account
        batches[batch.pk] = batch
    return tuple(batch_id for batch_id, _ in draft.draft.get("lines", [])), batches


def _destination_of(request: HttpRequest, draft: Transfer, organization: Organization
                    ) -> tuple[Destination | None, str]:
    """The draft's destination as the service takes it, and as a person reads it."""
    data = draft.draft
    kind = data.get("kind")
    if kind == Transfer.Kind.INTERNAL:
        account = _accounts(request, organization).get(data.get("account"))
        return (Destination.internal(account), f"Your account {account.name} ({account.public_id})") if account \
            else (None, "")
    if kind == Transfer.Kind.ORGANIZATION:
        recipient = Organization.objects.filter(pk=data.get("recipient")).first()
        return (Destination.to_organization(recipient), f"{recipient.name} ({recipient.public_id})") if recipient \
            else (None, "")
    if kind == Transfer.Kind.EXPORT:
        system = TrackingSystem.objects.filter(pk=data.get("tracking_system")).first()
        if system is None:
            return None, ""
        reference = data.get("recipient_account_ref", "")
        label = f"{data.get('recipient_name', '')} at {system.name}" + (f", account {reference}" if reference else "")
        return Destination.export(system, data.get("recipient_name", ""), reference), label
    return None, ""


def _render(request: HttpRequest, draft: Transfer, step: str, context: dict, batches) -> HttpResponse:
    template = "transfers/wizard.html#wizard" if _swaps_in(request) else "transfers/wizard.html"
    stale = [batch for batch in batches if batch.status != CertificateBatch.Status.ACTIVE]
    first = _step_url(draft, STEPS[0][0])  # the others differ only in the last segment
    step_urls = {name: first.replace(f"/{STEPS[0][0]}/", f"/{name}/") for name, _ in STEPS}
    return render(request, template, {
        "draft": draft, "step": step, "step_number": STEP_NUMBER[step], "step_urls": step_urls,
        "steps": [(name, label, step_urls[name]) for name, label in STEPS],
        "reached": draft.draft.get("step", 1), "stale": stale,
        "kind_label": KIND_LABELS.get(draft.draft.get("kind"), ""), **context,
    })


def selected_batch_rows(organization: Organization, ids: list[int]) -> list[tuple]:
    """Of the batches `ids`, those that can start a draft: (batch, certificate, generator, account)
    rows, as the dashboard's selection (certificates.selectors.selection_batches) keeps and orders them."""
    return select_models(SELECTED_BATCHES_SQL, [organization.pk, ids, CertificateBatch.Status.ACTIVE],
                         _BATCH, _CERTIFICATE, _GENERATOR, _ACCOUNT)


@login_required
def transfer_new(request: HttpRequest) -> HttpResponse:
    """Start the wizard for the selected batches (the dashboard's selection, or ?batch=… ids)."""
    membership = membership_required(request, act=True)
    organization = membership.organization
    # A link may name its batches (?batch=…); the dashboard's selection is then left as it is.
    named = request.GET.getlist("batch")
    wanted = positive_integers(named)
    unreadable = len(named) - len(wanted)  # not ids: counted among the batches left out
    wanted = wanted[:SELECTION_LIMIT]
    rows = selected_batch_rows(organization, wanted if named else selection_ids(request))
    batches = [(batch.pk, batch.quantity) for batch, *_ in rows]
    refused = (len(set(wanted)) + unreadable - len(batches)) if named else 0
    if refused > 0:
        messages.warning(request, f"{refused} of the chosen batches are not active certificates of "
                                  f"{organization.name} and were left out.")
    if not batches:
        messages.error(request, "Select one or more active batches on the Active tab, then press Transfer.")
        return redirect("certificates:dashboard")
    draft = transfer_draft_start(organization=organization, user=request.user, batches=batches)
    draft.loaded_batches = _batches_loaded(draft, rows)
    request.wizard_draft = draft  # step 1, shown by _go, needs no read of its own
    return _go(request, _step_url(draft, "quantity"))  # the dashboard's boosted link: step 1 at once


@login_required
def transfer_wizard(request: HttpRequest, pk: int, step: str) -> HttpResponse:
    if step not in STEP_NUMBER:
        raise Http404("No such step.")
    membership, draft = _draft(request, pk)
    if draft.status != Transfer.Status.DRAFT:
        if draft.status == Transfer.Status.FAILED:
            messages.error(request, f"This transfer could not be made: {draft.decision_note}")
            return redirect("certificates:dashboard")
        messages.info(request, f"Transfer {draft.pk} has already been submitted.")
        return redirect("transfers:done", pk=draft.pk)
    reached = draft.draft.get("step", 1)
    if STEP_NUMBER[step] > reached:
        return redirect(_step_url(draft, STEPS[reached - 1][0]))
    return {"quantity": _step_quantity, "destination": _step_destination, "review": _step_review,
            "confirm": _step_confirm}[step](request, membership.organization, draft)


def _step_quantity(request, organization, draft):
    lines = _draft_batches(draft, organization)
    form = QuantityForm(request.POST if request.method == "POST" else None, batches=[batch for batch, _ in lines],
                        quantities={batch.pk: quantity for batch, quantity in lines})
    if request.method == "POST" and form.is_valid():
        transfer_draft_save(draft=draft, lines=form.lines(), step=max(draft.draft.get("step", 1), 2))
        return _go(request, _step_url(draft, "destination"))
    return _render(request, draft, "quantity", {"form": form}, form.batches)


def _step_destination(request, organization, draft):
    data = draft.draft
    initial = {"kind": data.get("kind"), "account": data.get("account"), "organization": data.get("organization_text"),
               "tracking_system": data.get("tracking_system"), "recipient_name": data.get("recipient_name"),
               "recipient_account_ref": data.get("recipient_account_ref"), "notes": data.get("notes")}
    posted = request.POST if request.method == "POST" else None
    open_active = [account for account in _accounts(request, organization).values()
                   if account.type == Account.Type.ACTIVE and account.status == Account.Status.OPEN]
    form = DestinationForm(posted, organization=organization, initial=initial, accounts=open_active,
                           tracking_systems=_tracking_systems)
    if request.method == "POST" and form.is_valid():
        transfer_draft_save(draft=draft, **form.draft_fields(), step=max(draft.draft.get("step", 1), 3))
        return _go(request, _step_url(draft, "review"))
    return _render(request, draft, "destination", {"form": form, "values": form.values()},
                   [batch for batch, _ in _draft_batches(draft, organization)])


def _review_lines(draft, organization):
    """Per batch: the exact serial range that leaves and the one that stays."""
    rows = []
    for batch, quantity in _draft_batches(draft, organization):
        if batch.status != CertificateBatch.Status.ACTIVE:  # changed meanwhile: shown as stale
            rows.append({"batch": batch, "quantity": quantity, "leaves": batch.serial_number, "stays": None})
            continue
        base = batch.certificate.serial_base
        quantity = min(quantity, batch.quantity)
        moved, staying = split_range(batch.serial_start, batch.serial_end, quantity)
        rows.append({"batch": batch, "quantity": quantity, "leaves": format_serial(base, *moved),
                     "stays": format_serial(base, *staying) if staying else None})
    return rows


def _step_review(request, organization, draft):
    if request.method == "POST":
        transfer_draft_save(draft=draft, step=4)
        return _go(request, _step_url(draft, "confirm"))
    return _render_review(request, draft, organization, "review")


def _render_review(request, draft, organization, step, error=""):
    _, destination_label = _destination_of(request, draft, organization)
    rows = _review_lines(draft, organization)
    return _render(request, draft, step, {"rows": rows, "destination_label": destination_label, "error": error,
                                          "total": sum(row["quantity"] for row in rows)},
                   [row["batch"] for row in rows])


def _step_confirm(request, organization, draft):
    if request.method == "POST":
        destination, _ = _destination_of(request, draft, organization)
        if destination is None:
            messages.error(request, "Choose where the certificates go.")
            return _go(request, _step_url(draft, "destination"))
        lines = [TransferLine(batch_id, quantity) for batch_id, quantity in draft.draft.get("lines", [])]
        try:
            transfer = transfer_create(organization=organization, user=request.user, lines=lines,
                                       destination=destination, notes=draft.draft.get("notes", ""), draft=draft)
        except TransferRefused as error:
            if "already been submitted" in str(error):
                messages.info(request, f"Transfer {draft.pk} has already been submitted.")
                return _go(request, reverse("transfers:done", args=[draft.pk]))
            if "changed since it was selected" in str(error) or "only active certificates" in str(error):
                transfer_draft_fail(draft=draft, reason=str(error))
                messages.error(request, f"{error}")
                return _go(request, reverse("certificates:dashboard"))
            return _render_review(request, draft, organization, "confirm", error=str(error))
        _selection_drop(request, {batch_id for batch_id, _ in draft.draft.get("lines", [])})
        request.wizard_transfer = transfer  # the done page that _go answers with shows it as it is
        return _go(request, reverse("transfers:done", args=[transfer.pk]))
    return _render_review(request, draft, organization, "confirm")


@login_required
def transfer_done(request: HttpRequest, pk: int) -> HttpResponse:
    membership = membership_required(request)
    transfer = getattr(request, "wizard_transfer", None)  # just confirmed, in this request
    if transfer is None or transfer.pk != pk:
        transfer = transfers_visible_to(membership.organization).filter(pk=pk).exclude(
            status=Transfer.Status.DRAFT).select_related("recipient_organization").first()
    if transfer is None:
        raise Http404("No such transfer.")
    template = "transfers/done.html#done" if _swaps_in(request) else "transfers/done.html"
    return render(request, template, {"transfer": transfer})


@login_required
def organization_search(request: HttpRequest) -> HttpResponse:
    """The type-ahead of step 2: organizations to transfer to, by registered name or MM id."""
    membership = membership_required(request, act=True)
    text = request.GET.get("organization", "")
    # No stored name holds a NUL (PostgreSQL refuses one in text), so such text matches nothing.
    found = organizations_matching(membership.organization, text)[:10] \
        if len(text.strip()) >= 2 and "\x00" not in text else []
    return render(request, "transfers/_organization_options.html", {"organizations": found})
