import datetime

from django.db import transaction
from django.utils import timezone

from registry.models import Membership, Organization, User
from registry.services import ServiceError, manager_require

from .models import IDEMPOTENCY_WINDOW, ApiKey, IdempotentRequest


@transaction.atomic(durable=True)
def api_key_create(*, organization: Organization, user: User, name: str, scope: str,
                   expiry_date: datetime.datetime | None = None) -> tuple[ApiKey, str]:
    """A new key for the organization, made by one of its managers: (the key's row, the key itself,
    which is shown once and stored only hashed). Its scope never exceeds the creator's role
    (ApiKey.scope_allowed), so the creator is a member: registry staff who are not make none."""
    # Locked first: the role cannot change between the rule and the scope it allows.
    membership = Membership.objects.select_for_update().filter(user=user, organization=organization).first()
    manager_require(user=user, organization=organization)
    if membership is None:
        raise ServiceError(f"A key acts with its creator's role: only a member of {organization.name} "
                           "may create one.")
    if scope not in ApiKey.Scope.values:
        raise ServiceError(f"Choose a scope: {', '.join(ApiKey.Scope.values)}.")
    if not ApiKey.scope_allowed(role=membership.role, scope=scope):
        raise ServiceError(f"Your role ({membership.get_role_display().lower()}) cannot give a key the "
                           f"{scope} scope.")
    if expiry_date is not None and expiry_date <= timezone.now():
        raise ServiceError("Choose an expiry date in the future, or none.")
    return ApiKey.objects.create_key(organization=organization, created_by=user, name=name.strip(), scope=scope,
                                     expiry_date=expiry_date)


@transaction.atomic(durable=True)
def api_key_revoke(*, organization: Organization, user: User, api_key: ApiKey) -> ApiKey:
    """Revoke the key for good, recording who did and when (compare-and-swap: revoking twice is
    refused)."""
    manager_require(user=user, organization=organization)
    now = timezone.now()
    revoked = (ApiKey.objects.filter(pk=api_key.pk, organization=organization, revoked=False)
               .update(revoked=True, revoked_by=user, revoked_at=now))
    if revoked != 1:
        raise ServiceError(f"The key {api_key.name} is already revoked.")
    api_key.revoked, api_key.revoked_by, api_key.revoked_at = True, user, now
    return api_key


def idempotent_requests_purge() -> int:
    """Delete the stored answers older than the idempotency window (none is replayed after it):
    how many. One statement, on its own: a request claiming a key meanwhile is not held up."""
    deleted, _ = IdempotentRequest.objects.filter(created_at__lt=timezone.now() - IDEMPOTENCY_WINDOW).delete()
    return deleted
