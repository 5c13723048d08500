"""The EnergyTag face of the API (issue 33, item 5), under /api/energytag/v1/: the GC Registry API's core
operations (query, transfer, cancel, claim) with the names of the EnergyTag API Specification (v2), for clients
written for it. Thin: each translates its body into /api/v1/'s (the same body serializers, which look up what it
names) and calls the same services (transfer_write, retirement_write); the same keys, scopes, idempotency and
problems. Only granular certificates' batches (GC Bundles) are this face's: a month's RECs are not GCs."""

from django.conf import settings
from django.http import QueryDict
from django.urls import reverse
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, status
from rest_framework.parsers import JSONParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from certificates.filters import BatchFilter
from certificates.models import CertificateBatch, FuelType
from certificates.periods import interval_periods
from certificates.selectors import batches_for_dashboard, batches_totals
from retirements.services import retirement_write
from transfers.models import TransferItem
from transfers.services import transfer_write
from utilities.parsing import positive_integer

from . import serializers_energytag as tag
from . import serializers_transfers as bodies
from .idempotency import idempotent
from .models import ApiKey
from .serializers_intervals import FILTER_MOMENT_PATTERN
from .views import KnownQueryParameters

Scope = ApiKey.Scope
BUNDLES = "granular_certificate_bundle_ids"
MOST_LISTED = 1000
# /api/v1/'s names (its bodies' and the services' refusals') as this face's body names them (api.problems).
TRANSFER_NAMES = {"lines": BUNDLES, "destination.account": "target_id", "destination.organization": "target_id",
                  "destination": "target_id"}
CANCEL_NAMES = {"lines": BUNDLES, "destination.account": "target_id", "account": "target_id",
                "option": "retirement_option", "retirement.option": "retirement_option", "retirement": ""}


def granular_batches(organization):
    """The organization's batches of granular certificates (GC Bundles), in any status."""
    return CertificateBatch.objects.visible_to(organization).filter(interval_periods("certificate__period"))


def bundles_in(organization, body: dict, status: str) -> dict[int, CertificateBatch]:
    """The bundles the body names, each a granular certificate's batch in `status` in its `source_id`
    account; any other is a 400 naming it."""
    ids = body[BUNDLES]
    found = {batch.pk: batch for batch in granular_batches(organization).filter(
        pk__in=ids, status=status, account__public_id=body["source_id"].strip().upper())}
    wrong = {index: [f"GC Bundle {bundle} is not a {tag.STATUS_WORDS[status].lower()} GC Bundle of account "
                     f"{body['source_id'].strip()}."] for index, bundle in enumerate(ids) if bundle not in found}
    if wrong:
        raise exceptions.ValidationError({BUNDLES: wrong})
    return found


def renamed(detail, names: dict[str, str]):
    """A /api/v1/ body's validation errors under this face's field names."""
    if not isinstance(detail, dict):
        return detail
    result: dict = {}
    for key, value in detail.items():
        if isinstance(value, dict) and not all(isinstance(inner, int) for inner in value):
            for inner, messages in value.items():  # destination.account -> target_id
                name = names.get(f"{key}.{inner}", f"{names.get(key, key)}.{inner}")
                result.setdefault(name, []).extend(messages)
        else:
            result.setdefault(names.get(key, key) or "non_field_errors", value)
    return result


def validated(serializer_class, data: dict, organization, names: dict[str, str]) -> dict:
    body = serializer_class(data=data, context={"organization": organization})
    if not body.is_valid():
        raise exceptions.ValidationError(renamed(body.errors, names))
    return body.validated_data


def lines_of(body: dict, bundles: dict[int, CertificateBatch]) -> list[dict]:
    quantity = body["certificate_quantity"]
    return [{"batch": bundle, "quantity": quantity or bundles[bundle].quantity} for bundle in body[BUNDLES]]


def action_result(transfer, lines, body: dict, action_type: str, retirement=None) -> dict:
    moved = bodies.created_lines(transfer, lines)
    return {"id": transfer.pk, "action_type": action_type, "status": transfer.status, "source_id": body["source_id"],
            "target_id": body["target_id"], BUNDLES: [line["moved"] for line in moved],
            "certificate_quantity": sum(line.quantity for line in lines),
            "action_request_datetime": transfer.submitted_at,
            "beneficiary": retirement.beneficiary if retirement else None,
            "retirement_reference": retirement.reference if retirement else None}


QUERY_PARAMETERS = [
    OpenApiParameter("source_id", str, required=True, description="The account: its public id, e.g. ACT-00031."),
    OpenApiParameter("device_id", str, description="A production device: its generator ID, e.g. H100."),
    OpenApiParameter("energy_source", str, enum=[label for _, label in FuelType.choices],
                     description="The fuel the device generates with."),
    OpenApiParameter("certificate_period_start", {"type": "string", "pattern": FILTER_MOMENT_PATTERN},
                     description="Bundles produced from this moment (ISO 8601; UTC without an offset)."),
    OpenApiParameter("certificate_period_end", {"type": "string", "pattern": FILTER_MOMENT_PATTERN},
                     description="Bundles produced up to this moment."),
    OpenApiParameter("certificate_bundle_status", str, enum=list(tag.BUNDLE_STATUSES), default="Active"),
    OpenApiParameter("limit", {"type": "integer", "minimum": 1, "maximum": MOST_LISTED, "default": MOST_LISTED},
                     description="At most this many bundles, the earliest produced first."),
]
# Each query parameter, as the dashboard's FilterSet (certificates.filters.BatchFilter) names it.
QUERY_FILTERS = {"source_id": "account", "device_id": "generator", "energy_source": "fuel",
                 "certificate_period_start": "interval_from", "certificate_period_end": "interval_to"}


class CertificateQuery(KnownQueryParameters, APIView):
    """GC Bundles of one of the organization's accounts, filtered as the Active tab filters batches."""

    required_scope = Scope.READ
    query_parameters = (*QUERY_FILTERS, "certificate_bundle_status", "limit")

    @extend_schema(summary="Query GC Bundles (EnergyTag)", parameters=QUERY_PARAMETERS,
                   responses=tag.QueryResultSerializer, operation_id="energytag_certificates_query",
                   description="The GC Bundles (batches of granular certificates) of one of your accounts, in one "
                               "status, by device, energy source and production period: the dashboard's filters "
                               "(the same FilterSet). Scope: read.")
    def get(self, request: Request) -> Response:
        organization, query = request.auth.organization, request.query_params
        status_word = query.get("certificate_bundle_status") or "Active"
        if status_word not in tag.BUNDLE_STATUSES:
            raise exceptions.ValidationError({"certificate_bundle_status": [
                f"Choose one of: {', '.join(tag.BUNDLE_STATUSES)}."]})
        limit = positive_integer(query.get("limit", str(MOST_LISTED)))
        if limit is None or limit > MOST_LISTED:
            raise exceptions.ValidationError({"limit": [f"Enter a whole number from 1 to {MOST_LISTED:,}."]})
        if not (query.get("source_id") or "").strip():
            raise exceptions.ValidationError({"source_id": ["Give the account: its public id, e.g. ACT-00031."]})
        data = QueryDict(mutable=True)
        for name, filter_name in QUERY_FILTERS.items():
            if value := query.get(name, ""):
                data[filter_name] = tag.ENERGY_SOURCES.get(value, value) if name == "energy_source" else value
        batch_filter = BatchFilter(data, organization=organization, queryset=batches_for_dashboard(
            organization, tag.BUNDLE_STATUSES[status_word]).filter(interval_periods("certificate__period")))
        if not batch_filter.is_valid():
            names = {filter_name: name for name, filter_name in QUERY_FILTERS.items()}
            raise exceptions.ValidationError({names[field]: errors for field, errors in batch_filter.errors.items()})
        matching = batch_filter.qs
        listed = list(matching.order_by("certificate__period", "certificate_id", "serial_start")[:limit + 1])
        total = sum(batch.quantity for batch in listed[:limit]) if len(listed) <= limit else \
            batches_totals(matching)["quantity"]
        return Response(tag.QueryResultSerializer({"granular_certificate_bundles": listed[:limit],
                                                   "total_certificate_volume": total,
                                                   "truncated": len(listed) > limit}).data)


class CertificateTransfer(KnownQueryParameters, APIView):
    """Transfer GC Bundles, as /api/v1/transfers/ does."""

    required_scope = Scope.TRADE
    parser_classes = [JSONParser]
    refusal_fields = TRANSFER_NAMES

    @extend_schema(summary="Transfer GC Bundles (EnergyTag)", request=tag.TransferActionSerializer,
                   responses={201: tag.ActionResultSerializer}, operation_id="energytag_certificates_transfer",
                   description="Moves `certificate_quantity` of each GC Bundle (the lowest serials; the whole "
                               "bundle if left out) from `source_id` to `target_id`: one of your accounts at once, "
                               "or another organization, pending until it accepts (the transfer services, as "
                               "/api/v1/transfers/). `Location`: the transfer. Scope: trade.")
    @idempotent
    def post(self, request: Request) -> Response:
        organization = request.auth.organization
        body = validated(tag.TransferActionSerializer, request.data, organization, {})
        bundles = bundles_in(organization, body, CertificateBatch.Status.ACTIVE)
        target = body["target_id"].strip()
        destination = {"type": "internal", "account": target} if target.upper().startswith("ACT-") else \
            {"type": "organization", "organization": target}
        v1 = validated(bodies.TransferCreateSerializer, {"lines": lines_of(body, bundles), "destination": destination,
                                                         "notes": body["notes"]}, organization, TRANSFER_NAMES)
        transfer = transfer_write(organization=organization, user=request.user, lines=v1["lines"],
                                  destination=v1["destination"], notes=v1["notes"])
        return Response(tag.ActionResultSerializer(action_result(transfer, v1["lines"], body, "transfer")).data,
                        status=status.HTTP_201_CREATED,
                        headers={"Location": reverse("api:transfer-detail", args=[transfer.pk])})


class CertificateCancel(KnownQueryParameters, APIView):
    """Cancel (retire) GC Bundles, as /api/v1/retirements/ does."""

    required_scope = Scope.RETIRE
    parser_classes = [JSONParser]
    refusal_fields = CANCEL_NAMES

    @extend_schema(summary="Cancel GC Bundles (EnergyTag)", request=tag.CancelActionSerializer,
                   responses={201: tag.ActionResultSerializer}, operation_id="energytag_certificates_cancel",
                   description="Retires `certificate_quantity` of each GC Bundle (the lowest serials; the whole "
                               "bundle if left out) into `target_id`, one of your retirement accounts, for good, "
                               "toward `retirement_option`, for `beneficiary` (the retirement services, as "
                               "/api/v1/retirements/: its statement, verification page and public log). "
                               "`Location`: its statement. Scope: retire.")
    @idempotent
    def post(self, request: Request) -> Response:
        organization = request.auth.organization
        body = validated(tag.CancelActionSerializer, request.data, organization, {})
        bundles = bundles_in(organization, body, CertificateBatch.Status.ACTIVE)
        v1 = validated(bodies.RetirementCreateSerializer, {
            "lines": lines_of(body, bundles), "account": body["target_id"], "option": body["retirement_option"],
            "beneficiary": body["beneficiary"], "compliance_period": body["compliance_period"],
            "notes": body["notes"]}, organization, CANCEL_NAMES)
        transfer = retirement_write(organization=organization, user=request.user, lines=v1["lines"],
                                    account=v1["account"], details=v1["details"], notes=v1["notes"])
        result = action_result(transfer, v1["lines"], body, "cancel", retirement=transfer.retirement)
        return Response(tag.ActionResultSerializer(result).data, status=status.HTTP_201_CREATED,
                        headers={"Location": reverse("api:retirement-statement",
                                                     kwargs={"reference": transfer.retirement.reference})})


class CertificateClaim(KnownQueryParameters, APIView):
    """The claim on cancelled GC Bundles: the retirement that cancelled them, for its beneficiary."""

    required_scope = Scope.READ
    parser_classes = [JSONParser]

    @extend_schema(summary="Claim cancelled GC Bundles (EnergyTag)", request=tag.ClaimActionSerializer,
                   responses={200: tag.ClaimResultSerializer}, operation_id="energytag_certificates_claim",
                   description="A cancellation here is already its beneficiary's claim (the retirement names it, "
                               "and its public verification page proves it): for each cancelled GC Bundle of "
                               "`source_id`, the retirement that cancelled it, with its beneficiary and the page "
                               "anyone checks it on. A bundle not cancelled, or cancelled for another beneficiary "
                               "than the one named, is refused. Changes nothing. Scope: read.")
    def post(self, request: Request) -> Response:
        organization = request.auth.organization
        body = validated(tag.ClaimActionSerializer, request.data, organization, {})
        bundles_in(organization, body, CertificateBatch.Status.RETIRED)
        items = {item.batch_id: item for item in TransferItem.objects.filter(
            batch_id__in=body[BUNDLES], transfer__retirement__isnull=False).select_related("transfer__retirement")}
        beneficiary = body["beneficiary"].strip()
        others = {index: [f"GC Bundle {bundle} was cancelled for "
                          f"{items[bundle].transfer.retirement.beneficiary or 'no beneficiary named'}, not "
                          f"{beneficiary}."]
                  for index, bundle in enumerate(body[BUNDLES])
                  if beneficiary and items[bundle].transfer.retirement.beneficiary.casefold() != beneficiary.casefold()}
        if others:
            raise exceptions.ValidationError({BUNDLES: others})
        claims = [{"granular_certificate_bundle_id": bundle, "retirement_reference": retirement.reference,
                   "beneficiary": retirement.beneficiary, "cancelled_at": items[bundle].transfer.decided_at
                   or items[bundle].transfer.submitted_at,
                   "verification_url": settings.SITE_URL + reverse("retirements:verify", args=[retirement.reference])}
                  for bundle in body[BUNDLES] for retirement in [items[bundle].transfer.retirement]]
        return Response(tag.ClaimResultSerializer({"claims": claims}).data)
