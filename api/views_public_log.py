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
from .views import KnownQueryParameters

IMMUTABLE_SECONDS = 3600


def _size(name: str, *, required: bool = True, minimum: int = 0) -> OpenApiParameter:
    return OpenApiParameter(name, {"type": "integer", "minimum": minimum}, required=required)


def _integer(request: Request, name: str, *, required: bool = True) -> int | None:
    text = request.query_params.get(name, "")
    if not text:
        if required:
            raise exceptions.ValidationError({name: ["This parameter is required."]})
        return None
    if not text.isdecimal() or len(text) > 18:
        raise exceptions.ValidationError({name: ["A whole number from 0 is required."]})
    return int(text)


def _answered(call, **kwargs):
    try:
        return call(**kwargs)
    except selectors.LogRefused as refusal:
        raise exceptions.ValidationError({"detail": [str(refusal)]}) from refusal


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
    """Public, no key: the inclusion proof of a retirement (by its reference) or of a leaf (by its
    index) in the log's first `tree_size` leaves (the latest checkpoint's size by default)."""

    query_parameters = ("reference", "index", "tree_size")

    @extend_schema(summary="An inclusion proof", responses=InclusionProofSerializer, auth=[], parameters=[
        OpenApiParameter("reference", {"type": "string", "maxLength": 40, "pattern": "^[0-9A-Za-z]*$"},
                         description="The retirement's public reference (or give index)."),
        _size("index", required=False), _size("tree_size", required=False, minimum=1)])
    def get(self, request: Request) -> Response:
        reference = request.query_params.get("reference", "")
        index = _integer(request, "index", required=False)
        tree_size = _integer(request, "tree_size", required=False)
        if bool(reference) == (index is not None):
            raise exceptions.ValidationError({"reference": ["Give either reference or index."]})
        retirement = None
        if reference:
            retirement = retirement_by_reference(reference) if reference.isalnum() else None
            if retirement is None:
                raise Http404("No retirement has this reference.")
        proof = _answered(selectors.inclusion_proof, retirement=retirement, index=index, tree_size=tree_size)
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
