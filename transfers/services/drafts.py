"""The wizard's draft: a Transfer in status draft, on the server, so a reload resumes it."""

from django.utils import timezone

from certificates.reviews import organization_refusal, review_today
from registry.models import Membership
from registry.services import role_refused

from ..models import Transfer
from .lifecycle import DraftAlreadySubmitted, TransferRefused


def transfer_draft_start(*, membership: Membership, batches: list[tuple[int, int]], kind: str = "") -> Transfer:
    """Start a draft for the selected batches, given as (id, quantity), each at its whole
    quantity (step 1's default); `kind` Transfer.Kind.RETIREMENT for the wizard's retirement flow.
    Only a member whose role may transfer, of an organization not overdue for the annual generator
    review, starts one: `membership`, as read this request (a draft moves nothing; transfer_create
    checks both again as it writes)."""
    if not batches:
        raise TransferRefused("Select at least one active batch to transfer.", field="lines")
    if not membership.can_transfer:
        raise role_refused(membership.organization)
    if overdue := organization_refusal(membership.organization, review_today()):  # said at once, not at the last step
        raise TransferRefused(overdue)
    return Transfer.objects.create(
        organization=membership.organization, created_by_id=membership.user_id, status=Transfer.Status.DRAFT, kind=kind,
        draft={"lines": [[batch_id, quantity] for batch_id, quantity in batches], "step": 1})


def transfer_draft_save(*, draft: Transfer, **changes) -> Transfer:
    """Save the wizard's choices on a draft that is still a draft (compare-and-swap on status)."""
    saved = draft.draft | changes
    if Transfer.objects.filter(pk=draft.pk, status=Transfer.Status.DRAFT).update(draft=saved) != 1:
        raise DraftAlreadySubmitted()
    draft.draft = saved
    return draft


def transfer_draft_fail(*, draft: Transfer, reason: str) -> None:
    """A draft that can no longer be confirmed (a batch changed under it) is marked failed."""
    Transfer.objects.filter(pk=draft.pk, status=Transfer.Status.DRAFT).update(
        status=Transfer.Status.FAILED, decision_note=reason, decided_at=timezone.now())
