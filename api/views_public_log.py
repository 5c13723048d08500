"""The public log of retirements in the API: no key, limited per address as the log's pages are
(api.throttling.PublicLogThrottle), over publiclog.selectors. A proof at a given size never
changes, so it may be cached for long; the latest checkpoint for a beat's interval."""

from django.conf import settings
from django.http import Http404
from django.utils.cache import patch_cache_control
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from publiclog import selectors
from retirements.selectors import retirement_by_reference

from .serializers_log import (
    CheckpointSerializer,
    ConsistencyProofSerializer,
    InclusionProofSerializer,
    LeavesSerializer,
    LogSerializer,
)
from .throttling import PublicLogThrottle
from .views import REFERENCE_PARAMETER, KnownQueryParameters

IMMUTABLE_SECONDS = 3600
LARGEST = 2**62  # a size or index past any log (and within PostgreSQL's bigint)


def _size(name: str, *, required: bool = True, minimum: int = 0) -> OpenApiParameter:
    return OpenApiParameter(name, {"type": "integer", "minimum": minimum, "maximum": LARGEST}, required=required)


def _integer(request: Request, name: str, *, required: bool = True) -> int | None:
    text = request.query_params.get(name, "")
    if not text:
        if required:
            raise exceptions.ValidationError({name: ["This parameter is required."]})
        return None
    if not text.isascii() or not text.isdecimal() or len(text) > 19 or int(text) > LARGEST:
        raise exceptions.ValidationError({name: [f"A whole number from 0 to {LARGEST} is required."]})
    return int(text)


def _answered(call, **kwargs):
    """The selector's answer; a 404 saying why for a leaf, size or range the log does not have (yet)."""
    try:
        return call(**kwargs)
    except selectors.LogRefused as refusal:
        raise exceptions.NotFound(str(refusal)) from refusal


class PublicLogView(KnownQueryParameters, APIView):
    authentication_classes = []
    permission_classes = []
    throttle_classes = [PublicLogThrottle]

    def cached(self, data: dict, *, seconds: int) -> Response:
        response = Response(data)
        patch_cache_control(response, public=True, max_age=seconds)
        return response


class PublicLog(PublicLogView):
    """Public, no key: the log's origin, the key that signs its checkpoints, and its size."""

    @extend_schema(summary="The public log of retirements", responses=LogSerializer, auth=[])
    def get(self, request: Request) -> Response:
        return Response(LogSerializer(selectors.log_description()).data)


class PublicLogCheckpoint(PublicLogView):
    """Public, no key: the latest signed checkpoint (a 404 before the first), or the one of `size`."""

    query_parameters = ("size",)

    @extend_schema(summary="A signed checkpoint of the log", responses=CheckpointSerializer, auth=[],
                   parameters=[_size("size", required=False)])
    def get(self, request: Request) -> Response:
        size = _integer(request, "size", required=False)
        checkpoint = (selectors.checkpoint_latest() if size is None
                      else selectors.Checkpoint.objects.filter(size=size).first())
        if checkpoint is None:
            raise Http404("No checkpoint has this size." if size is not None else "The log has no checkpoint yet.")
        seconds = settings.PUBLICLOG_CHECKPOINT_SECONDS if size is None else IMMUTABLE_SECONDS
        return self.cached(CheckpointSerializer(selectors.checkpoint_json(checkpoint)).data, seconds=seconds)


class PublicLogInclusion(PublicLogView):
    """Public, no key: the inclusion proof of the leaf at `index` in the log's first `tree_size`
    leaves (the latest checkpoint's size by default)."""

    query_parameters = ("index", "tree_size")

    @extend_schema(summary="An inclusion proof of a leaf", responses=InclusionProofSerializer, auth=[],
                   parameters=[_size("index"), _size("tree_size", required=False, minimum=1)])
    def get(self, request: Request) -> Response:
        tree_size = _integer(request, "tree_size", required=False)
        proof = _answered(selectors.inclusion_proof, index=_integer(request, "index"), tree_size=tree_size)
        return self.cached(InclusionProofSerializer(proof).data,
                           seconds=IMMUTABLE_SECONDS if tree_size else settings.PUBLICLOG_CHECKPOINT_SECONDS)


class PublicLogRetirementInclusion(PublicLogView):
    """Public, no key: the inclusion proof of a retirement's leaf (by its public reference) in the log's
    first `tree_size` leaves (the latest checkpoint's size by default); a 404 for an unknown reference
    or one the log has not taken yet."""

    query_parameters = ("tree_size",)

    @extend_schema(summary="An inclusion proof of a retirement", responses=InclusionProofSerializer, auth=[],
                   parameters=[REFERENCE_PARAMETER, _size("tree_size", required=False, minimum=1)])
    def get(self, request: Request, reference: str) -> Response:
        retirement = retirement_by_reference(reference)
        if retirement is None:
            raise Http404("No retirement has this reference.")
        tree_size = _integer(request, "tree_size", required=False)
        proof = _answered(selectors.inclusion_proof, retirement=retirement, tree_size=tree_size)
        return self.cached(InclusionProofSerializer(proof).data,
                           seconds=IMMUTABLE_SECONDS if tree_size else settings.PUBLICLOG_CHECKPOINT_SECONDS)


class PublicLogConsistency(PublicLogView):
    """Public, no key: the consistency proof from the log's first `first` leaves to its first `second`."""

    query_parameters = ("first", "second")

    @extend_schema(summary="A consistency proof", responses=ConsistencyProofSerializer, auth=[],
                   parameters=[_size("first"), _size("second")])
    def get(self, request: Request) -> Response:
        proof = _answered(selectors.consistency_proof, old_size=_integer(request, "first"),
                          new_size=_integer(request, "second"))
        return self.cached(ConsistencyProofSerializer(proof).data, seconds=IMMUTABLE_SECONDS)


class PublicLogLeaves(PublicLogView):
    """Public, no key: the leaves [start, end), at most 1,000 a request."""

    query_parameters = ("start", "end")

    @extend_schema(summary="The log's leaves", responses=LeavesSerializer, auth=[],
                   parameters=[_size("start"), _size("end", minimum=1)])
    def get(self, request: Request) -> Response:
        leaves = _answered(selectors.leaves_range, start=_integer(request, "start"), end=_integer(request, "end"))
        return self.cached(LeavesSerializer(leaves).data, seconds=IMMUTABLE_SECONDS)
