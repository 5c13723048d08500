"""Hourly matching's pages: the organization's consumption sites (register one, upload consumption),
a site's page (its consumption and the Match form), a matching statement, and its public page."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from registry.selectors import membership_required
from registry.services import ServiceError
from retirements.statements import CANONICAL_FORM
from utilities.csv_export import csv_response
from utilities.csv_upload import read_rows
from utilities.throttle import public_page_refused

from .consumption import COLUMNS, CONSUMPTION
from .forms import ConsumptionUploadForm, MatchForm, SiteForm
from .selectors import site_of, sites_for, statement_by_reference, statement_of, statements_for
from .services import consumption_record, match_run, site_register
from .statements import statement_context, statement_digest, statement_pdf
from .values import ConsumptionRefused, MatchingRefused

STATEMENTS_SHOWN = 50


def _home(request: HttpRequest, *, site_form=None, upload_form=None, upload_errors=None, status=200) -> HttpResponse:
    membership = membership_required(request)
    organization = membership.organization
    return render(request, "matching/sites.html", {
        "sites": sites_for(organization), "statements": statements_for(organization)[:STATEMENTS_SHOWN],
        "site_form": site_form or SiteForm(), "upload_form": upload_form or ConsumptionUploadForm(),
        "upload_errors": upload_errors, "can_act": membership.can_transfer,
        "role_note": membership.read_only_note(may="register sites, upload consumption and match")}, status=status)


@login_required
def matching_sites(request: HttpRequest) -> HttpResponse:
    """The organization's consumption sites and matching statements, and the forms to add to them."""
    return _home(request)


@login_required
@require_POST
def site_new(request: HttpRequest) -> HttpResponse:
    membership = membership_required(request, act=True)
    form = SiteForm(request.POST)
    if form.is_valid():
        try:
            site = site_register(organization=membership.organization, user=request.user, **form.cleaned_data)
        except MatchingRefused as refused:
            field = next(iter(refused.problems))
            form.add_error(field if field in form.fields else None, str(refused))
        else:
            messages.success(request, f"Site {site.code} is registered: upload its consumption below.")
            return redirect("matching:sites")
    return _home(request, site_form=form, status=400)


@login_required
@require_POST
def consumption_upload(request: HttpRequest) -> HttpResponse:
    """A consumption file, recorded at once, all or nothing; every problem listed with its row."""
    membership = membership_required(request, act=True)
    form = ConsumptionUploadForm(request.POST, request.FILES)
    if not form.is_valid():
        return _home(request, upload_form=form, status=400)
    records, errors = read_rows(form.cleaned_data["file"].read(), CONSUMPTION)
    try:
        if errors:
            raise ConsumptionRefused(errors)
        count = consumption_record(organization=membership.organization, user=request.user, records=records)
    except ConsumptionRefused as refused:
        return _home(request, upload_form=form, status=400,
                     upload_errors={"message": str(refused), "errors": [error.as_dict() for error in refused.errors]})
    messages.success(request, f"{count:,} consumption reading{'s' if count != 1 else ''} recorded.")
    return redirect("matching:sites")


@login_required
def consumption_template(request: HttpRequest) -> HttpResponse:
    membership_required(request)
    return csv_response("consumption-template.csv", COLUMNS, [])


@login_required
def site_detail(request: HttpRequest, code: str, match_form=None, status=200) -> HttpResponse:
    """A site: its consumption (matched and not), its statements, and the Match form."""
    membership = membership_required(request)
    site = site_of(membership.organization, code)
    if site is None:
        raise Http404("No such consumption site.")
    return render(request, "matching/site.html", {
        "site": site, "statements": site.statements.select_related("retirement")[:STATEMENTS_SHOWN],
        "match_form": match_form or MatchForm(organization=membership.organization),
        "can_act": membership.can_transfer,
        "role_note": membership.read_only_note(may="match consumption")}, status=status)


@login_required
@require_POST
def site_match(request: HttpRequest, code: str) -> HttpResponse:
    """Match the site's unmatched consumption: one retirement, one statement."""
    membership = membership_required(request, act=True)
    site = site_of(membership.organization, code)
    if site is None:
        raise Http404("No such consumption site.")
    form = MatchForm(request.POST, organization=membership.organization)
    if form.is_valid():
        try:
            statement = match_run(organization=membership.organization, user=request.user, site=site,
                                  account=form.cleaned_data["account"], span=form.span())
        except ServiceError as refused:
            form.add_error(None, str(refused))
        else:
            messages.success(request, f"Matched: {statement.record['matched_wh']:,} Wh retired for site {site.code}.")
            return redirect("matching:statement", reference=statement.reference)
    return site_detail(request, code, match_form=form, status=400)


def _own_statement(request: HttpRequest, reference: str):
    """The current organization's matching statement `reference`; another's, or none, is a 404."""
    statement = statement_of(membership_required(request).organization, reference)
    if statement is None:
        raise Http404("No such matching statement.")
    return statement


@login_required
def statement_detail(request: HttpRequest, reference: str) -> HttpResponse:
    return render(request, "matching/statement.html", statement_context(_own_statement(request, reference))
                  | {"public": False})


def _pdf(statement) -> HttpResponse:
    response = HttpResponse(statement_pdf(statement), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="matching-statement-{statement.reference}.pdf"'
    return response


@login_required
def statement_detail_pdf(request: HttpRequest, reference: str) -> HttpResponse:
    """The statement as a PDF, for the organization's members."""
    return _pdf(_own_statement(request, reference))


def _public(request: HttpRequest, reference: str):
    """The statement a public reference names, for anyone (throttled per address as the retirement's
    verification page is); a private retirement's statement shows no more than the retirement's page."""
    if refused := public_page_refused(request, scope="verify", limit=settings.VERIFY_REQUESTS_PER_MINUTE):
        return None, refused
    statement = statement_by_reference(reference)
    if statement is None or statement.retirement.is_private:
        raise Http404("No matching statement has this reference.")
    return statement, None


def statement_verify(request: HttpRequest, reference: str) -> HttpResponse:
    """Public, no sign-in: a matching statement's record, its figures and its digest."""
    statement, refused = _public(request, reference)
    if refused:
        return refused
    return render(request, "matching/statement.html", statement_context(statement) | {"public": True})


def statement_verify_pdf(request: HttpRequest, reference: str) -> HttpResponse:
    """Public, no sign-in: the statement's PDF, as its public page shows it."""
    statement, refused = _public(request, reference)
    if refused:
        return refused
    return _pdf(statement)


def statement_verify_json(request: HttpRequest, reference: str) -> HttpResponse:
    statement, refused = _public(request, reference)
    if refused:
        return refused
    return JsonResponse({"reference": statement.reference, "record": statement.record,
                         "digest": {"algorithm": "SHA-256", "canonical_form": CANONICAL_FORM,
                                    "value": statement_digest(statement)}},
                        json_dumps_params={"ensure_ascii": False})
