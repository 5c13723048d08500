from django.db.models import OuterRef, QuerySet, Subquery
from django.shortcuts import get_object_or_404

from registry.models import Membership, Organization

from .models import ApiKey


def api_keys_of(organization: Organization) -> QuerySet[ApiKey]:
    """The organization's keys, newest first, with who made and who revoked them."""
    return (ApiKey.objects.filter(organization=organization).select_related("created_by", "revoked_by")
            .order_by("-created"))


def api_key_of(organization: Organization, prefix: str) -> ApiKey:
    """One of the organization's keys, by its prefix (the part of the key shown on the page);
    another organization's is a 404."""
    return get_object_or_404(api_keys_of(organization), prefix=prefix)


def api_key_by_prefix(prefix: str) -> ApiKey | None:
    """The key whose prefix this is, with its organization, its creator and the creator's role in
    the organization now (`creator_role`, None once they left it): one query a request."""
    role = (Membership.objects.filter(user=OuterRef("created_by"), organization=OuterRef("organization"))
            .order_by().values("role"))  # no ordering: the model's would join the organization
    return (ApiKey.objects.select_related("organization", "created_by").annotate(creator_role=Subquery(role[:1]))
            .filter(prefix=prefix).first())
